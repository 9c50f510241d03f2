//! The diagnosis: what is wrong with a chain, in plain words, and what to change.
//!
//! The OpenSSL verdict says *what* failed; the diagnosis says *why*, from the chain itself. An
//! "unknown issuer" is told apart into a server that sends no intermediate, a server that sends
//! the wrong one, a root nobody trusts, a self-signed server certificate, and a CA file that does
//! not hold the right root. When OpenSSL accepts the chain and rustls does not, the diagnosis
//! explains the rustls rejection; where the two differ on name constraints or on the length of a
//! chain, it says which clients accept the chain (`limits`).

mod limits;
mod revocation;

use pki_x509::oid;
use serde::Serialize;
use time::OffsetDateTime;

use crate::chain::{CertRef, Parsed};
use crate::openssl::{OpensslError, Outcome, VerifyCode, extensions};
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

impl Diagnosis {
    /// Whether the finding is the name checked (not in the certificate, or only in its CN): a
    /// name check's own line says it.
    pub fn is_about_the_name(&self) -> bool {
        matches!(
            self,
            Diagnosis::NameMismatch { .. } | Diagnosis::NameOnlyInCommonName { .. }
        )
    }

    /// The caller's input that would change the verdict, where the fix is one: the CRL of
    /// the CA OpenSSL found none for.
    pub fn fix(&self) -> Option<crate::gateway::Fix> {
        match self {
            Diagnosis::CrlUnusable { issuer, code, .. }
                if *code == crate::VerifyCode::UnableToGetCrl =>
            {
                Some(crate::gateway::Fix::Crl {
                    issuer: issuer.clone(),
                })
            }
            _ => None,
        }
    }

    /// The finding in plain words, with what to change, of a chain a server (a gateway) sends
    /// to a device.
    pub fn explain(&self) -> String {
        self.explain_for(Purpose::Server)
    }

    /// [`Diagnosis::explain`], in the words of the chain's purpose: a server's chain is what a
    /// gateway sends and a device checks; a client's (`Purpose::Client`) is what a device
    /// presents and a gateway checks.
    pub fn explain_for(&self, purpose: Purpose) -> String {
        // Who presents the chain, and who checks it.
        let (peer, sends, checker) = match purpose {
            Purpose::Client => ("device", "presents", "gateway"),
            Purpose::Server | Purpose::Any => ("server", "sends", "device"),
        };
        match self {
            Diagnosis::Ok => "the chain is valid for OpenSSL and rustls clients".to_owned(),
            Diagnosis::ServerSendsNoIntermediate { leaf_issuer } => format!(
                "the {peer} {sends} only its own certificate; its issuer \"{leaf_issuer}\" is \
                 neither {} nor trusted. Configure the {peer} with the full chain (its certificate \
                 followed by the intermediate CA certificates, e.g. the -full-chain file), or add \
                 \"{leaf_issuer}\" to the {checker}'s CA file",
                if purpose == Purpose::Client {
                    "presented"
                } else {
                    "sent"
                }
            ),
            Diagnosis::WrongIntermediate { leaf_issuer, sent } => format!(
                "the {peer} {sends} {} but not its issuer \"{leaf_issuer}\". Configure the {peer} \
                 with the chain that belongs to its certificate",
                quote_list(sent)
            ),
            Diagnosis::UntrustedRoot { subject } => format!(
                "the chain ends in the root \"{subject}\", which the {checker} does not trust. Put \
                 that root in the {checker}'s CA file, or give the {peer} a certificate from a CA \
                 the {checker} trusts"
            ),
            Diagnosis::SelfSignedLeaf { subject } => format!(
                "the {peer} certificate \"{subject}\" is self-signed and not trusted. Issue the \
                 {peer} certificate from your CA, or put this exact certificate in the {checker}'s \
                 CA file"
            ),
            Diagnosis::WrongCaFile {
                expected_issuer,
                anchors,
            } => {
                let have = if anchors.is_empty() {
                    "no trust anchor at all".to_owned()
                } else {
                    quote_list(anchors)
                };
                format!(
                    "the chain needs the CA \"{expected_issuer}\", but the CA file holds {have}. Use \
                     the CA file with \"{expected_issuer}\""
                )
            }
            Diagnosis::Expired {
                subject,
                not_after,
                trust_anchor,
                ..
            } => {
                let what = if *trust_anchor {
                    "the trust anchor"
                } else {
                    "the certificate"
                };
                let tail = if *trust_anchor {
                    " OpenSSL clients reject chains through an expired root (rustls ignores a trust \
                     anchor's dates). Replace the root in the device's CA file and re-issue below it"
                } else {
                    " Renew it"
                };
                format!(
                    "{what} \"{subject}\" expired on {}.{tail}",
                    date(*not_after)
                )
            }
            Diagnosis::NotYetValid {
                subject,
                not_before,
                ..
            } => format!(
                "the certificate \"{subject}\" is valid only from {}: check the device's clock, or \
                 re-issue it with an earlier start",
                date(*not_before)
            ),
            Diagnosis::NameMismatch { expected, names } => format!(
                "the server certificate is not valid for \"{expected}\"; it carries {}. Connect with \
                 one of those names, or re-issue the certificate with \"{expected}\" in its \
                 subjectAltName",
                if names.is_empty() {
                    "no name".to_owned()
                } else {
                    quote_list(names)
                }
            ),
            Diagnosis::NameOnlyInCommonName { expected } => format!(
                "\"{expected}\" is only in the subject CN, with no subjectAltName: OpenSSL clients \
                 accept it, rustls clients do not. Re-issue the certificate with \"{expected}\" \
                 in its subjectAltName"
            ),
            Diagnosis::WrongPurpose {
                subject,
                purpose,
                extended_key_usage,
                ..
            } => {
                let want = match purpose {
                    Purpose::Server | Purpose::Any => "serverAuth",
                    Purpose::Client => "clientAuth",
                };
                format!(
                    "\"{subject}\" is restricted by extendedKeyUsage to {} and lacks {want}. \
                     Re-issue it with {want} (or without an extendedKeyUsage on a CA)",
                    eku_names(extended_key_usage)
                )
            }
            Diagnosis::IssuerNotCa {
                subject,
                reason,
                rustls_accepts,
                ..
            } => {
                let why = match reason {
                    NotCaReason::CaFalse => "its basicConstraints say CA:FALSE",
                    NotCaReason::NoBasicConstraints => "it has no basicConstraints extension",
                    NotCaReason::NoKeyCertSign => "its keyUsage lacks keyCertSign",
                    NotCaReason::Version1 => "it is an X.509 v1 certificate",
                };
                format!(
                    "\"{subject}\" issued a certificate of the chain but is not a CA: {why}.{} \
                     Re-issue it as a CA (basicConstraints critical CA:TRUE, keyUsage keyCertSign)",
                    only_openssl_rejects(*rustls_accepts)
                )
            }
            Diagnosis::PathLenExceeded {
                subject,
                rustls_accepts,
                ..
            } => format!(
                "\"{subject}\" limits how many CAs may follow it (pathLenConstraint), and the chain \
                 has more.{} Re-issue it with a larger pathlen, or shorten the chain",
                only_openssl_rejects(*rustls_accepts)
            ),
            Diagnosis::BadSignature { subject, .. } => format!(
                "the signature on \"{subject}\" does not verify with its issuer's key: the \
                 certificate is damaged, or its issuer was re-created with a new key. Re-issue it \
                 from the current CA"
            ),
            Diagnosis::UnhandledCriticalExtension { subject, oids, .. } => format!(
                "\"{subject}\" has critical extensions the client does not understand ({}). \
                 Re-issue it without marking them critical",
                oids.join(", ")
            ),
            Diagnosis::NameConstraintViolation { subject, .. } => format!(
                "a name of \"{subject}\" lies outside the name constraints of a CA above it. Issue \
                 it from a CA allowed to certify that name, or use a permitted name"
            ),
            Diagnosis::LeafIsCa { subject } => format!(
                "the {peer} certificate \"{subject}\" is a CA certificate (CA:TRUE): OpenSSL \
                 clients accept it, rustls clients reject it. Issue a {peer} certificate with \
                 CA:FALSE"
            ),
            Diagnosis::WeakSignature {
                subject, algorithm, ..
            } => format!(
                "\"{subject}\" is signed with {algorithm}, which rustls rejects and OpenSSL TLS \
                 clients reject from security level 1. Re-issue it with SHA-256"
            ),
            Diagnosis::SignatureRustlsCannotCheck {
                subject, algorithm, ..
            } => format!(
                "\"{subject}\" is signed with {algorithm}, by a key or with an algorithm rustls \
                 cannot check: OpenSSL clients accept the chain, rustls clients reject it. Re-issue \
                 it from a CA whose key is EC P-256 or P-384 (signing with SHA-256 or SHA-384), \
                 RSA of 2048 bits or more (SHA-256) or Ed25519"
            ),
            Diagnosis::ExplicitCurveParameters {
                subject,
                rustls_accepts,
                ..
            } => {
                let rustls = if *rustls_accepts {
                    "rustls clients accept it"
                } else {
                    "rustls clients reject the chain too"
                };
                format!(
                    "the key of \"{subject}\" spells out its EC curve parameters instead of naming \
                     the curve: OpenSSL clients reject it (error 94), {rustls}. Re-issue it with a \
                     named curve (P-256)"
                )
            }
            Diagnosis::WeakKey {
                subject,
                rustls_accepts: false,
                ..
            } => format!(
                "the key of \"{subject}\" is too small for the client's security level. Re-issue it \
                 with an EC P-256 or RSA 2048-bit (or larger) key"
            ),
            Diagnosis::WeakKey {
                subject,
                rustls_accepts: true,
                ..
            } => format!(
                "the key of \"{subject}\" is too small for the client's security level: OpenSSL \
                 clients at that level reject it, rustls clients accept it. Re-issue it with an EC \
                 P-256 or RSA 2048-bit (or larger) key"
            ),
            Diagnosis::UnsupportedVersion { subject } => format!(
                "\"{subject}\" is an X.509 v1 certificate: OpenSSL clients accept it, rustls \
                 clients do not. Re-issue it as v3"
            ),
            Diagnosis::InvalidExtensions {
                subject,
                reason,
                trust_anchor,
                rustls_accepts,
            } => {
                let what = if *trust_anchor {
                    "the trust anchor"
                } else {
                    "the certificate"
                };
                let rustls = if *rustls_accepts {
                    "rustls clients accept it"
                } else {
                    "rustls clients reject it too"
                };
                format!(
                    "OpenSSL will not use {what} \"{subject}\": its {reason}. OpenSSL clients \
                     reject the chain (no usable issuer), {rustls}. Re-issue the certificate with \
                     each extension once and well-formed"
                )
            }
            Diagnosis::OpensslOther { code, text, depth } => {
                format!("OpenSSL rejects the chain: error {code} at depth {depth}: {text}")
            }
            Diagnosis::UndecodableKey {
                subject,
                rustls_accepts,
                ..
            } => {
                let rustls = if *rustls_accepts {
                    "rustls clients accept it (they check the chain's signatures, not this key)"
                } else {
                    "rustls clients reject it too"
                };
                format!(
                    "the public key of \"{subject}\" does not decode (an EC point that is not on \
                     its curve, or a malformed key): OpenSSL clients reject the chain, {rustls}. \
                     Re-issue it with a valid key"
                )
            }
            Diagnosis::NameConstraintsDiffer {
                subject,
                code,
                rustls_accepts,
                ..
            } => limits::explain_differ(subject, *code, *rustls_accepts),
            Diagnosis::NameConstraintsRustlsOnly {
                subject,
                too_many_comparisons,
            } => limits::explain_rustls_only(subject, *too_many_comparisons),
            Diagnosis::ChainTooLong {
                certificates,
                openssl_accepts,
                rustls_accepts,
            } => limits::explain_chain_too_long(*certificates, *openssl_accepts, *rustls_accepts),
            Diagnosis::Revoked {
                subject,
                serial,
                revoked_at,
                reason,
                crl_issuer,
                rustls,
                ..
            } => revocation::explain_revoked(
                subject,
                serial,
                *revoked_at,
                reason.as_deref(),
                crl_issuer,
                rustls,
            ),
            Diagnosis::CrlUnusable {
                subject,
                issuer,
                code,
                rustls,
                ..
            } => revocation::explain_unusable(subject, issuer, *code, rustls),
            Diagnosis::RevocationRustlsOnly { rustls, .. } => {
                format!("OpenSSL clients with CRL checking accept the chain; {rustls}")
            }
            Diagnosis::RustlsOnly { verdict } => {
                format!("OpenSSL clients accept the chain, rustls clients reject it: {verdict:?}")
            }
        }
    }
}

/// The sentence that says OpenSSL and rustls clients disagree, when rustls accepts what OpenSSL
/// rejects; nothing otherwise.
fn only_openssl_rejects(rustls_accepts: bool) -> &'static str {
    if rustls_accepts {
        " OpenSSL clients reject the chain, rustls clients accept it."
    } else {
        ""
    }
}

fn date(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn eku_names(oids: &[String]) -> String {
    let names: Vec<String> = oids
        .iter()
        .map(|o| match o.as_str() {
            oid::SERVER_AUTH => "serverAuth".to_owned(),
            oid::CLIENT_AUTH => "clientAuth".to_owned(),
            oid::ANY_EXTENDED_KEY_USAGE => "anyExtendedKeyUsage".to_owned(),
            oid::CODE_SIGNING => "codeSigning".to_owned(),
            oid::EMAIL_PROTECTION => "emailProtection".to_owned(),
            other => other.to_owned(),
        })
        .collect();
    names.join(", ")
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

/// When OpenSSL found no issuer (20 or 2) because a certificate is invalid to it: the
/// certificate at the top of its chain itself, else a certificate carrying the issuer's name.
fn invalid_below_issuer(
    parsed: &Parsed<'_>,
    openssl: &Outcome,
    code: VerifyCode,
    depth: u32,
    webpki: &WebpkiVerdict,
) -> Option<Diagnosis> {
    if !matches!(
        code,
        VerifyCode::UnableToGetIssuerCertLocally | VerifyCode::UnableToGetIssuerCert
    ) {
        return None;
    }
    let top = parsed.get(*openssl.chain.get(usize::try_from(depth).ok()?)?);
    let candidates = parsed
        .intermediates
        .iter()
        .chain(&parsed.anchors)
        .filter(|c| c.subject == top.issuer);
    std::iter::once(top)
        .chain(candidates)
        .find_map(|c| Some((c, extensions::invalid(c)?)))
        .map(|(c, why)| Diagnosis::InvalidExtensions {
            subject: c.subject.clone(),
            reason: why.describe(),
            trust_anchor: matches!(c.role, CertRef::Anchor(_)),
            rustls_accepts: matches!(webpki, WebpkiVerdict::Ok),
        })
}

fn is_weak_digest(sig_oid: &str) -> bool {
    matches!(
        sig_oid,
        oid::MD5_WITH_RSA_ENCRYPTION
            | oid::SHA1_WITH_RSA_ENCRYPTION
            | oid::SHA1_WITH_RSA
            | oid::ECDSA_WITH_SHA1
            | oid::DSA_WITH_SHA1
    )
}

fn weak_signature(parsed: &Parsed<'_>, r: CertRef, depth: usize) -> Diagnosis {
    let c = parsed.get(r);
    Diagnosis::WeakSignature {
        depth: u32::try_from(depth).unwrap_or(u32::MAX),
        subject: c.subject.clone(),
        algorithm: c.summary.signature_algorithm.clone(),
    }
}

/// The first signature in OpenSSL's chain (which OpenSSL verified) that rustls cannot check.
fn signature_rustls_cannot_check(parsed: &Parsed<'_>, openssl: &Outcome) -> Option<Diagnosis> {
    openssl
        .chain
        .windows(2)
        .enumerate()
        .find(|(_, pair)| {
            let (cert, issuer) = (parsed.get(pair[0]), parsed.get(pair[1]));
            !crate::signature::rustls_checks(&cert.x509, issuer.x509.public_key())
        })
        .map(|(depth, pair)| {
            let cert = parsed.get(pair[0]);
            Diagnosis::SignatureRustlsCannotCheck {
                depth: u32::try_from(depth).unwrap_or(u32::MAX),
                subject: cert.subject.clone(),
                algorithm: cert.summary.signature_algorithm.clone(),
            }
        })
}

fn explicit_curve(
    parsed: &Parsed<'_>,
    openssl: &Outcome,
    depth: u32,
    webpki: &WebpkiVerdict,
) -> Diagnosis {
    let d = usize::try_from(depth).unwrap_or(usize::MAX);
    let Some(&at) = openssl.chain.get(d) else {
        return other(VerifyCode::EcKeyExplicitParams, depth);
    };
    Diagnosis::ExplicitCurveParameters {
        depth,
        subject: parsed.get(at).subject.clone(),
        rustls_accepts: matches!(webpki, WebpkiVerdict::Ok),
    }
}

/// The names a user can compare with: SAN DNS/IP entries, else the CNs.
fn leaf_names(parsed: &Parsed<'_>) -> Vec<String> {
    let sans = parsed.leaf.san_names();
    if sans.is_empty() {
        parsed.leaf.common_names()
    } else {
        sans
    }
}

fn from_openssl(
    parsed: &Parsed<'_>,
    openssl: &Outcome,
    first: &OpensslError,
    rustls_accepts: bool,
    opts: &VerifyOptions,
) -> Diagnosis {
    let (code, depth) = (first.code, first.depth);
    let d = usize::try_from(depth).unwrap_or(usize::MAX);
    let Some(&at) = openssl.chain.get(d) else {
        return other(code, depth);
    };
    let cert = parsed.get(at);
    let subject = cert.subject.clone();
    match code {
        VerifyCode::DepthZeroSelfSignedCert => Diagnosis::SelfSignedLeaf { subject },
        VerifyCode::SelfSignedCertInChain => Diagnosis::UntrustedRoot { subject },
        VerifyCode::UnableToGetIssuerCertLocally | VerifyCode::UnableToGetIssuerCert => {
            let expected_issuer = cert.issuer.clone();
            if d == 0 && parsed.intermediates.is_empty() {
                Diagnosis::ServerSendsNoIntermediate {
                    leaf_issuer: expected_issuer,
                }
            } else if d == 0 {
                Diagnosis::WrongIntermediate {
                    leaf_issuer: expected_issuer,
                    sent: parsed
                        .intermediates
                        .iter()
                        .map(|c| c.subject.clone())
                        .collect(),
                }
            } else {
                Diagnosis::WrongCaFile {
                    expected_issuer,
                    anchors: parsed.anchors.iter().map(|c| c.subject.clone()).collect(),
                }
            }
        }
        VerifyCode::CertHasExpired => Diagnosis::Expired {
            depth,
            subject,
            not_after: cert.not_after,
            now: opts.at,
            trust_anchor: matches!(at, CertRef::Anchor(_)),
        },
        VerifyCode::CertNotYetValid => Diagnosis::NotYetValid {
            depth,
            subject,
            not_before: cert.not_before,
            now: opts.at,
        },
        VerifyCode::HostnameMismatch | VerifyCode::IpAddressMismatch => Diagnosis::NameMismatch {
            expected: opts
                .name
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            names: leaf_names(parsed),
        },
        VerifyCode::InvalidPurpose => Diagnosis::WrongPurpose {
            depth,
            subject,
            purpose: opts.purpose.unwrap_or(Purpose::Server),
            extended_key_usage: cert.extended_key_usage().unwrap_or_default(),
        },
        VerifyCode::InvalidCa | VerifyCode::KeyusageNoCertsign => {
            let reason = match cert.basic_constraints() {
                _ if cert.key_usage_forbids_cert_sign() => NotCaReason::NoKeyCertSign,
                Some(bc) if !bc.ca => NotCaReason::CaFalse,
                None if cert.version() == 0 => NotCaReason::Version1,
                _ => NotCaReason::NoBasicConstraints,
            };
            Diagnosis::IssuerNotCa {
                depth,
                subject,
                reason,
                rustls_accepts,
            }
        }
        VerifyCode::PathLengthExceeded => Diagnosis::PathLenExceeded {
            depth,
            subject,
            rustls_accepts,
        },
        VerifyCode::CertSignatureFailure => Diagnosis::BadSignature { depth, subject },
        VerifyCode::UnhandledCriticalExtension => Diagnosis::UnhandledCriticalExtension {
            depth,
            subject,
            oids: cert
                .critical_extension_oids()
                .filter(|o| !KNOWN_TO_EVERYONE.contains(&o.as_str()))
                .collect(),
        },
        VerifyCode::PermittedViolation | VerifyCode::ExcludedViolation => {
            Diagnosis::NameConstraintViolation { depth, subject }
        }
        VerifyCode::CaMdTooWeak => weak_signature(parsed, at, d),
        VerifyCode::EeKeyTooSmall | VerifyCode::CaKeyTooSmall => Diagnosis::WeakKey {
            depth,
            subject,
            rustls_accepts,
        },
        // Every other code: OpenSSL's own words (listed, so that a code added to
        // `VerifyCode` is placed here or given a finding of its own).
        VerifyCode::Ok
        | VerifyCode::Unspecified
        | VerifyCode::UnableToGetCrl
        | VerifyCode::UnableToDecryptCertSignature
        | VerifyCode::UnableToDecryptCrlSignature
        | VerifyCode::UnableToDecodeIssuerPublicKey
        | VerifyCode::CrlSignatureFailure
        | VerifyCode::CrlNotYetValid
        | VerifyCode::CrlHasExpired
        | VerifyCode::ErrorInCertNotBeforeField
        | VerifyCode::ErrorInCertNotAfterField
        | VerifyCode::ErrorInCrlLastUpdateField
        | VerifyCode::ErrorInCrlNextUpdateField
        | VerifyCode::OutOfMem
        | VerifyCode::UnableToVerifyLeafSignature
        | VerifyCode::CertChainTooLong
        | VerifyCode::CertRevoked
        | VerifyCode::NoIssuerPublicKey
        | VerifyCode::CertUntrusted
        | VerifyCode::CertRejected
        | VerifyCode::SubjectIssuerMismatch
        | VerifyCode::AkidSkidMismatch
        | VerifyCode::AkidIssuerSerialMismatch
        | VerifyCode::UnableToGetCrlIssuer
        | VerifyCode::KeyusageNoCrlSign
        | VerifyCode::UnhandledCriticalCrlExtension
        | VerifyCode::InvalidNonCa
        | VerifyCode::ProxyPathLengthExceeded
        | VerifyCode::KeyusageNoDigitalSignature
        | VerifyCode::ProxyCertificatesNotAllowed
        | VerifyCode::InvalidExtension
        | VerifyCode::InvalidPolicyExtension
        | VerifyCode::NoExplicitPolicy
        | VerifyCode::DifferentCrlScope
        | VerifyCode::UnsupportedExtensionFeature
        | VerifyCode::UnnestedResource
        | VerifyCode::SubtreeMinmax
        | VerifyCode::ApplicationVerification
        | VerifyCode::UnsupportedConstraintType
        | VerifyCode::UnsupportedConstraintSyntax
        | VerifyCode::UnsupportedNameSyntax
        | VerifyCode::CrlPathValidationError
        | VerifyCode::PathLoop
        | VerifyCode::SuiteBInvalidVersion
        | VerifyCode::SuiteBInvalidAlgorithm
        | VerifyCode::SuiteBInvalidCurve
        | VerifyCode::SuiteBInvalidSignatureAlgorithm
        | VerifyCode::SuiteBLosNotAllowed
        | VerifyCode::SuiteBCannotSignP384WithP256
        | VerifyCode::EmailMismatch
        | VerifyCode::DaneNoMatch
        | VerifyCode::InvalidCall
        | VerifyCode::StoreLookup
        | VerifyCode::NoValidScts
        | VerifyCode::ProxySubjectNameViolation
        | VerifyCode::OcspVerifyNeeded
        | VerifyCode::OcspVerifyFailed
        | VerifyCode::OcspCertUnknown
        | VerifyCode::UnsupportedSignatureAlgorithm
        | VerifyCode::SignatureAlgorithmMismatch
        | VerifyCode::SignatureAlgorithmInconsistency
        | VerifyCode::PathlenInvalidForNonCa
        | VerifyCode::PathlenWithoutKuKeyCertSign
        | VerifyCode::KuKeyCertSignInvalidForNonCa
        | VerifyCode::IssuerNameEmpty
        | VerifyCode::SubjectNameEmpty
        | VerifyCode::MissingAuthorityKeyIdentifier
        | VerifyCode::MissingSubjectKeyIdentifier
        | VerifyCode::EmptySubjectAltName
        | VerifyCode::EmptySubjectSanNotCritical
        | VerifyCode::CaBconsNotCritical
        | VerifyCode::AuthorityKeyIdentifierCritical
        | VerifyCode::SubjectKeyIdentifierCritical
        | VerifyCode::CaCertMissingKeyUsage
        | VerifyCode::ExtensionsRequireVersion3
        | VerifyCode::EcKeyExplicitParams
        | VerifyCode::Unknown(_) => other(code, depth),
    }
}

/// Critical extensions every client handles; the rest are named in the diagnosis.
const KNOWN_TO_EVERYONE: &[&str] = &[
    oid::KEY_USAGE,
    oid::SUBJECT_ALT_NAME,
    oid::BASIC_CONSTRAINTS,
    oid::EXTENDED_KEY_USAGE,
    oid::NAME_CONSTRAINTS,
];

/// OpenSSL's first error is about a certificate whose public key does not decode: 1 (its curve
/// check cannot run), or 66/67 at a security level (a key it cannot size is too small).
fn undecodable_key(
    parsed: &Parsed<'_>,
    openssl: &Outcome,
    webpki: &WebpkiVerdict,
) -> Option<Diagnosis> {
    let first = openssl.verdict.errors.first()?;
    if ![
        VerifyCode::Unspecified,
        VerifyCode::EeKeyTooSmall,
        VerifyCode::CaKeyTooSmall,
    ]
    .contains(&first.code)
    {
        return None;
    }
    let cert = parsed.get(*openssl.chain.get(usize::try_from(first.depth).ok()?)?);
    if crate::signature::public_key_decodes(cert.x509.public_key()) {
        return None;
    }
    Some(Diagnosis::UndecodableKey {
        depth: first.depth,
        subject: cert.subject.clone(),
        rustls_accepts: webpki.is_ok(),
    })
}

fn other(code: VerifyCode, depth: u32) -> Diagnosis {
    Diagnosis::OpensslOther {
        code,
        text: code.text().to_owned(),
        depth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChainInput, verify};
    use time::macros::datetime;

    fn case(name: &str) -> ChainInput {
        crate::chain::test_case(name)
    }

    fn diag(name: &str, opts: &VerifyOptions) -> Diagnosis {
        verify(&case(name), opts).unwrap().diagnosis
    }

    fn at() -> VerifyOptions {
        VerifyOptions::new(datetime!(2030-01-01 00:00 UTC))
    }

    #[test]
    fn unknown_issuer_is_told_apart() {
        assert!(matches!(
            diag("missing-intermediate", &at()),
            Diagnosis::ServerSendsNoIntermediate { ref leaf_issuer } if leaf_issuer == "CN=Test Intermediate CA"
        ));
        assert!(matches!(
            diag("wrong-ca", &at()),
            Diagnosis::WrongCaFile { ref expected_issuer, ref anchors }
                if expected_issuer == "CN=Test Root CA" && anchors == &["CN=Other Root CA".to_owned()]
        ));
        assert!(matches!(
            diag("untrusted-root", &at()),
            Diagnosis::UntrustedRoot { ref subject } if subject == "CN=Test Root CA"
        ));
        assert!(matches!(
            diag("self-signed-leaf", &at()),
            Diagnosis::SelfSignedLeaf { ref subject } if subject == "CN=gateway.example.com"
        ));
    }

    #[test]
    fn expired_anchor_is_named_as_the_trust_anchor() {
        let d = diag("expired-anchor", &at());
        assert!(matches!(
            d,
            Diagnosis::Expired { depth: 2, trust_anchor: true, not_after, .. }
                if not_after == datetime!(2026-01-01 00:00 UTC)
        ));
        assert!(d.explain().contains("2026-01-01"));
    }

    #[test]
    fn rustls_only_findings() {
        let host = crate::NameToCheck::Dns("gateway.example.com".into());
        assert!(matches!(
            diag("cn-only", &at().with_name(host.clone())),
            Diagnosis::NameOnlyInCommonName { .. }
        ));
        assert!(matches!(
            diag("leaf-is-ca", &at()),
            Diagnosis::LeafIsCa { .. }
        ));
        assert!(matches!(
            diag("v1-leaf", &at()),
            Diagnosis::UnsupportedVersion { .. }
        ));
        assert!(matches!(
            diag("sha1-signature", &at()),
            Diagnosis::WeakSignature { depth: 0, ref algorithm, .. } if algorithm == "sha1WithRSAEncryption"
        ));
    }

    #[test]
    fn issuer_not_ca_reasons() {
        assert!(matches!(
            diag("issuer-ca-false", &at()),
            Diagnosis::IssuerNotCa {
                depth: 1,
                reason: NotCaReason::CaFalse,
                ..
            }
        ));
        assert!(matches!(
            diag("issuer-no-basic-constraints", &at()),
            Diagnosis::IssuerNotCa {
                reason: NotCaReason::NoBasicConstraints,
                ..
            }
        ));
        assert!(matches!(
            diag("issuer-no-keycertsign", &at()),
            Diagnosis::IssuerNotCa {
                reason: NotCaReason::NoKeyCertSign,
                ..
            }
        ));
    }

    #[test]
    fn name_mismatch_lists_names() {
        let d = diag(
            "hostname-mismatch",
            &at().with_name(crate::NameToCheck::Dns("other.example.com".into())),
        );
        assert!(matches!(
            d,
            Diagnosis::NameMismatch { ref expected, ref names }
                if expected == "other.example.com" && names == &["gateway.example.com".to_owned()]
        ));
        assert!(d.explain().contains("\"gateway.example.com\""));
    }

    #[test]
    fn ok_explains_itself() {
        assert_eq!(diag("ok", &at()), Diagnosis::Ok);
        assert!(Diagnosis::Ok.explain().contains("valid"));
    }
}
