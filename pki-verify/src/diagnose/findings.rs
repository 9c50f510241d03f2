//! The finding OpenSSL's first error stands for, told apart from the chain itself (no issuer,
//! an invalid extension, a weak or uncheckable signature, an explicit curve, a key that does
//! not decode), and what rustls alone rejects.

use pki_x509::oid;

use super::{Diagnosis, NotCaReason};
use crate::chain::{CertRef, Parsed};
use crate::openssl::{OpensslError, Outcome, VerifyCode, extensions};
use crate::options::{Purpose, VerifyOptions};
use crate::webpki::WebpkiVerdict;

/// When OpenSSL found no issuer (20 or 2) because a certificate is invalid to it: the
/// certificate at the top of its chain itself, else a certificate carrying the issuer's name.
pub(super) fn invalid_below_issuer(
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

pub(super) fn is_weak_digest(sig_oid: &str) -> bool {
    matches!(
        sig_oid,
        oid::MD5_WITH_RSA_ENCRYPTION
            | oid::SHA1_WITH_RSA_ENCRYPTION
            | oid::SHA1_WITH_RSA
            | oid::ECDSA_WITH_SHA1
            | oid::DSA_WITH_SHA1
    )
}

pub(super) fn weak_signature(parsed: &Parsed<'_>, r: CertRef, depth: usize) -> Diagnosis {
    let c = parsed.get(r);
    Diagnosis::WeakSignature {
        depth: u32::try_from(depth).unwrap_or(u32::MAX),
        subject: c.subject.clone(),
        algorithm: c.summary.signature_algorithm.clone(),
    }
}

/// The first signature in OpenSSL's chain (which OpenSSL verified) that rustls cannot check.
pub(super) fn signature_rustls_cannot_check(
    parsed: &Parsed<'_>,
    openssl: &Outcome,
) -> Option<Diagnosis> {
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

pub(super) fn explicit_curve(
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
pub(super) fn leaf_names(parsed: &Parsed<'_>) -> Vec<String> {
    let sans = parsed.leaf.san_names();
    if sans.is_empty() {
        parsed.leaf.common_names()
    } else {
        sans
    }
}

pub(super) fn from_openssl(
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
pub(super) fn undecodable_key(
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
