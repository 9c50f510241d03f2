//! The diagnosis: what is wrong with a chain, in plain words, and what to change.
//!
//! The OpenSSL verdict says *what* failed; the diagnosis says *why*, from the chain itself. An
//! "unknown issuer" is told apart into a server that sends no intermediate, a server that sends
//! the wrong one, a root nobody trusts, a self-signed server certificate, and a CA file that does
//! not hold the right root. When OpenSSL accepts the chain and rustls does not, the diagnosis
//! explains the rustls rejection; where the two differ on name constraints or on the length of a
//! chain, it says which clients accept the chain (`limits`).

//!
//! This file holds the findings (`Diagnosis`) and the order in which they are looked for
//! (`diagnose`); `explain.rs` says each in plain words, `findings.rs` tells OpenSSL's first error
//! apart, `limits.rs` and `revocation.rs` the findings of their subjects.

mod explain;
mod findings;
mod limits;
mod revocation;
#[cfg(test)]
mod tests;

use serde::Serialize;
use time::OffsetDateTime;

use findings::{
    explicit_curve, from_openssl, invalid_below_issuer, is_weak_digest, leaf_names,
    signature_rustls_cannot_check, undecodable_key, weak_signature,
};

use crate::chain::Parsed;
use crate::openssl::{Outcome, VerifyCode};
use crate::options::{Purpose, VerifyOptions};
use crate::webpki::WebpkiVerdict;

/// Why a certificate cannot act as a CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotCaReason {
    /// basicConstraints says CA:FALSE.
    CaFalse,
    /// basicConstraints is missing.
    NoBasicConstraints,
    /// keyUsage is present without keyCertSign.
    NoKeyCertSign,
    /// An X.509 v1 certificate that is not a self-signed root.
    Version1,
}

/// The finding, with the data to explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "finding")]
#[non_exhaustive]
pub enum Diagnosis {
    /// Both OpenSSL and rustls accept the chain.
    Ok,
    /// The server sends only its own certificate, and its issuer is not a trust anchor.
    ServerSendsNoIntermediate {
        /// The issuer the leaf names, which nobody supplied.
        leaf_issuer: String,
    },
    /// The server sends intermediates, but none issued its certificate.
    WrongIntermediate {
        /// The issuer the leaf names.
        leaf_issuer: String,
        /// Subjects of the certificates the server sent after the leaf.
        sent: Vec<String>,
    },
    /// The chain ends in a self-signed root the server sent, which is not a trust anchor.
    UntrustedRoot {
        /// The root's subject.
        subject: String,
    },
    /// The server certificate is self-signed and not a trust anchor.
    SelfSignedLeaf {
        /// Its subject.
        subject: String,
    },
    /// The chain is complete up to an issuer that is not among the trust anchors.
    WrongCaFile {
        /// The issuer the top of the chain names.
        expected_issuer: String,
        /// Subjects of the trust anchors given.
        anchors: Vec<String>,
    },
    /// A certificate has expired.
    Expired {
        /// Depth in the chain (0 is the leaf).
        depth: u32,
        /// Its subject.
        subject: String,
        /// When it expired.
        #[serde(with = "time::serde::rfc3339")]
        not_after: OffsetDateTime,
        /// The verification instant.
        #[serde(with = "time::serde::rfc3339")]
        now: OffsetDateTime,
        /// Whether it is the trust anchor (OpenSSL checks anchors' validity, rustls does not).
        trust_anchor: bool,
    },
    /// A certificate is not valid yet (or the device's clock is behind).
    NotYetValid {
        /// Depth in the chain.
        depth: u32,
        /// Its subject.
        subject: String,
        /// When it becomes valid.
        #[serde(with = "time::serde::rfc3339")]
        not_before: OffsetDateTime,
        /// The verification instant.
        #[serde(with = "time::serde::rfc3339")]
        now: OffsetDateTime,
    },
    /// The leaf does not carry the name the client checks.
    NameMismatch {
        /// The name checked.
        expected: String,
        /// The names the leaf carries (subjectAltName DNS and IP entries; the CN when there are
        /// none).
        names: Vec<String>,
    },
    /// The name is only in the subject CN: OpenSSL falls back to it, rustls does not.
    NameOnlyInCommonName {
        /// The name checked.
        expected: String,
    },
    /// A certificate's extendedKeyUsage does not allow the purpose.
    WrongPurpose {
        /// Depth in the chain.
        depth: u32,
        /// Its subject.
        subject: String,
        /// The purpose checked.
        purpose: Purpose,
        /// Its extended key usages, dotted OIDs.
        extended_key_usage: Vec<String>,
    },
    /// An issuer cannot act as a CA.
    IssuerNotCa {
        /// Depth in the chain.
        depth: u32,
        /// Its subject.
        subject: String,
        /// Why.
        reason: NotCaReason,
        /// Whether rustls clients accept the chain all the same.
        rustls_accepts: bool,
    },
    /// A CA's pathLenConstraint is exceeded.
    PathLenExceeded {
        /// Depth of the constraining CA.
        depth: u32,
        /// Its subject.
        subject: String,
        /// Whether rustls clients accept the chain all the same.
        rustls_accepts: bool,
    },
    /// A signature does not verify: the certificate was not issued by the key of its issuer.
    BadSignature {
        /// Depth of the certificate whose signature fails.
        depth: u32,
        /// Its subject.
        subject: String,
    },
    /// A certificate has a critical extension the client does not know.
    UnhandledCriticalExtension {
        /// Depth in the chain.
        depth: u32,
        /// Its subject.
        subject: String,
        /// The unknown critical extensions, dotted OIDs.
        oids: Vec<String>,
    },
    /// A name of the leaf is outside a CA's name constraints.
    NameConstraintViolation {
        /// Depth of the certificate whose name is outside.
        depth: u32,
        /// Its subject.
        subject: String,
    },
    /// The leaf is a CA certificate: rustls refuses it as a server certificate.
    LeafIsCa {
        /// Its subject.
        subject: String,
    },
    /// A signature uses a weak digest (SHA-1, MD5).
    WeakSignature {
        /// Depth in the chain.
        depth: u32,
        /// Its subject.
        subject: String,
        /// The signature algorithm.
        algorithm: String,
    },
    /// A signature OpenSSL verifies and rustls cannot check (its algorithm, curve or key size:
    /// DSA, Ed448, ECDSA on P-192, P-224, P-521, secp256k1 or brainpool or with SHA-224 or
    /// SHA-512, RSA with SHA-224 or below 2048 bits, RSA-PSS keys).
    SignatureRustlsCannotCheck {
        /// Depth of the signed certificate.
        depth: u32,
        /// Its subject.
        subject: String,
        /// The signature algorithm.
        algorithm: String,
    },
    /// A key with explicit EC curve parameters, which OpenSSL refuses (error 94).
    ExplicitCurveParameters {
        /// Depth in the chain.
        depth: u32,
        /// Its subject.
        subject: String,
        /// Whether rustls accepts the chain all the same (it never looks at the leaf's key).
        rustls_accepts: bool,
    },
    /// A key is too small for the client's security level.
    WeakKey {
        /// Depth in the chain.
        depth: u32,
        /// Its subject.
        subject: String,
        /// Whether rustls accepts the chain all the same (it does not judge key sizes by a
        /// security level).
        rustls_accepts: bool,
    },
    /// An X.509 v1 certificate: rustls accepts only v3.
    UnsupportedVersion {
        /// Its subject.
        subject: String,
    },
    /// OpenSSL will not use a certificate whose extensions are duplicated or malformed
    /// (EXFLAG_INVALID), so it finds no issuer for the certificate below it.
    InvalidExtensions {
        /// Its subject.
        subject: String,
        /// What is wrong, in plain words (`subjectAltName appears twice`).
        reason: String,
        /// Whether it is a trust anchor.
        trust_anchor: bool,
        /// Whether rustls clients accept the chain all the same.
        rustls_accepts: bool,
    },
    /// A certificate's public key does not decode (an EC point off its curve, a malformed
    /// key): OpenSSL fails the chain on it (error 1, or 66/67 from a security level up).
    UndecodableKey {
        /// Depth in the chain.
        depth: u32,
        /// Its subject.
        subject: String,
        /// Whether rustls clients accept the chain all the same (they never decode the leaf's
        /// key when checking a chain).
        rustls_accepts: bool,
    },
    /// Another OpenSSL failure, by code.
    OpensslOther {
        /// `X509_V_ERR_*` number.
        code: VerifyCode,
        /// OpenSSL's wording.
        text: String,
        /// Depth.
        depth: u32,
    },
    /// OpenSSL rejects the chain for a name of this certificate under a CA's name constraints,
    /// where rustls accepts it or OpenSSL cannot apply the constraints at all: the two clients
    /// read name constraints differently.
    NameConstraintsDiffer {
        /// Depth of the certificate whose name OpenSSL holds against the constraints.
        depth: u32,
        /// Its subject.
        subject: String,
        /// OpenSSL's `X509_V_ERR_*` number: 47, 48, 49, 51, 53, or 1 for too many comparisons.
        code: VerifyCode,
        /// Whether rustls clients accept the chain.
        rustls_accepts: bool,
    },
    /// OpenSSL accepts the chain; rustls rejects a name of the leaf under a CA's name
    /// constraints.
    NameConstraintsRustlsOnly {
        /// The leaf's subject.
        subject: String,
        /// Whether rustls gives up because of the number of names times constraints.
        too_many_comparisons: bool,
    },
    /// The chain is longer than a client accepts: OpenSSL takes up to 100 intermediate CAs,
    /// rustls at most 6.
    ChainTooLong {
        /// The certificates in the chain OpenSSL built.
        certificates: u32,
        /// Whether OpenSSL clients accept the chain.
        openssl_accepts: bool,
        /// Whether rustls clients accept the chain.
        rustls_accepts: bool,
    },
    /// A CRL given lists a certificate of the chain as revoked.
    Revoked {
        /// Depth in the chain.
        depth: u32,
        /// Its subject.
        subject: String,
        /// Its serial, upper-case hex.
        serial: String,
        /// When it was revoked, as the CRL says.
        #[serde(with = "time::serde::rfc3339")]
        revoked_at: OffsetDateTime,
        /// The reasonCode by its RFC 5280 name, if the CRL gives one.
        reason: Option<String>,
        /// The issuer of the CRL that lists it.
        crl_issuer: String,
        /// What rustls clients with the same CRLs do, in words.
        rustls: String,
    },
    /// OpenSSL cannot use the CRLs given for a certificate (none fits, expired, not yet valid,
    /// bad signature, issuer without cRLSign, unknown critical extension, another scope).
    CrlUnusable {
        /// Depth of the certificate whose revocation was checked.
        depth: u32,
        /// Its subject.
        subject: String,
        /// Its issuer, whose CRL is needed.
        issuer: String,
        /// OpenSSL's `X509_V_ERR_*` number (3, 6, 8, 11, 12, 35, 36, 44).
        code: VerifyCode,
        /// OpenSSL's wording.
        text: String,
        /// What rustls clients with the same CRLs do, in words.
        rustls: String,
    },
    /// OpenSSL clients with CRL checking accept the chain; rustls clients with the same CRLs
    /// do not.
    RevocationRustlsOnly {
        /// The webpki verdict.
        verdict: WebpkiVerdict,
        /// What rustls clients do, in words.
        rustls: String,
    },
    /// OpenSSL accepts the chain, rustls does not, for a reason not covered above.
    RustlsOnly {
        /// The webpki verdict.
        verdict: WebpkiVerdict,
    },
}

fn date(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// Builds the diagnosis from both verdicts and the chain.
pub(crate) fn diagnose(
    parsed: &Parsed<'_>,
    openssl: &Outcome,
    webpki: &WebpkiVerdict,
    opts: &VerifyOptions,
) -> Diagnosis {
    if let Some(found) = undecodable_key(parsed, openssl, webpki) {
        return found;
    }
    if let Some(finding) = limits::finding(parsed, openssl, webpki) {
        return finding;
    }
    if let Some(finding) = revocation::finding(parsed, openssl, webpki) {
        return finding;
    }
    if let Some(first) = openssl.verdict.errors.first() {
        if let Some(found) = invalid_below_issuer(parsed, openssl, first.code, first.depth, webpki)
        {
            return found;
        }
        if first.code == VerifyCode::EcKeyExplicitParams {
            return explicit_curve(parsed, openssl, first.depth, webpki);
        }
        let rustls_accepts = webpki.is_ok();
        return from_openssl(parsed, openssl, first, rustls_accepts, opts);
    }
    match webpki {
        WebpkiVerdict::Ok => Diagnosis::Ok,
        WebpkiVerdict::CaUsedAsEndEntity => Diagnosis::LeafIsCa {
            subject: parsed.leaf.subject.clone(),
        },
        WebpkiVerdict::UnsupportedCertVersion => {
            let subject = std::iter::once(&parsed.leaf)
                .chain(openssl.chain.iter().map(|&r| parsed.get(r)))
                .find(|c| c.version() != 2)
                .map_or_else(|| parsed.leaf.subject.clone(), |c| c.subject.clone());
            Diagnosis::UnsupportedVersion { subject }
        }
        WebpkiVerdict::CertNotValidForName {
            expected,
            presented,
        } if presented.is_empty()
            && parsed
                .leaf
                .common_names()
                .iter()
                .any(|cn| cn.eq_ignore_ascii_case(expected)) =>
        {
            Diagnosis::NameOnlyInCommonName {
                expected: expected.clone(),
            }
        }
        WebpkiVerdict::CertNotValidForName { expected, .. } => Diagnosis::NameMismatch {
            expected: expected.clone(),
            names: leaf_names(parsed),
        },
        WebpkiVerdict::UnsupportedSignatureAlgorithm
        | WebpkiVerdict::UnsupportedSignatureAlgorithmForPublicKey
        | WebpkiVerdict::InvalidSignatureForPublicKey => {
            // The weakest signature below the top of OpenSSL's chain.
            let n = openssl.chain.len();
            let found = openssl.chain[..n.saturating_sub(1)]
                .iter()
                .enumerate()
                .find(|(_, r)| is_weak_digest(&parsed.get(**r).signature_algorithm()));
            let weak = matches!(webpki, WebpkiVerdict::UnsupportedSignatureAlgorithm)
                .then_some(found)
                .flatten();
            match weak {
                Some((depth, r)) => weak_signature(parsed, *r, depth),
                None => signature_rustls_cannot_check(parsed, openssl).unwrap_or_else(|| {
                    Diagnosis::RustlsOnly {
                        verdict: webpki.clone(),
                    }
                }),
            }
        }
        other => Diagnosis::RustlsOnly {
            verdict: other.clone(),
        },
    }
}
