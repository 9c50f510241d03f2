//! The finding in plain words: what is wrong with the chain and what to change, in the words
//! of the chain's purpose (a gateway's chain a device checks, or a device's a gateway checks).

use pki_x509::oid;

use super::{Diagnosis, NotCaReason, date, limits, revocation};
use crate::options::Purpose;

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
