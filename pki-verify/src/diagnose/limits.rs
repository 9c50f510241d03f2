//! Where OpenSSL and rustls part ways on name constraints and on the length of a chain, the
//! finding that says so: which clients accept the chain and why the other does not.
//!
//! OpenSSL (crypto/x509/v3_ncons.c) also holds the subject's e-mail addresses and, without a DNS
//! subjectAltName, a host-name-like CN against the constraints; it refuses subtrees with a
//! minimum or maximum (49), constraint types it does not support (51), malformed names (53) and
//! more than 2^20 name-by-constraint comparisons (1). rustls-webpki rejects names under
//! constraint types it does not check and more than 250,000 comparisons. OpenSSL takes up to 100
//! intermediate CAs (`build_chain`), rustls at most 6.

use super::Diagnosis;
use crate::chain::Parsed;
use crate::openssl::{Outcome, VerifyCode};
use crate::webpki::WebpkiVerdict;

/// The finding when the two clients part ways on name constraints or chain length, `None`
/// when another finding applies.
pub(super) fn finding(
    parsed: &Parsed<'_>,
    openssl: &Outcome,
    webpki: &WebpkiVerdict,
) -> Option<Diagnosis> {
    let rustls_accepts = webpki.is_ok();
    let certificates = u32::try_from(openssl.chain.len()).unwrap_or(u32::MAX);
    let Some(first) = openssl.verdict.errors.first() else {
        // OpenSSL accepts.
        return match webpki {
            WebpkiVerdict::NameConstraintViolation => Some(Diagnosis::NameConstraintsRustlsOnly {
                subject: parsed.leaf.subject.clone(),
                too_many_comparisons: false,
            }),
            WebpkiVerdict::TooManyNameConstraintComparisons => {
                Some(Diagnosis::NameConstraintsRustlsOnly {
                    subject: parsed.leaf.subject.clone(),
                    too_many_comparisons: true,
                })
            }
            WebpkiVerdict::PathTooDeep => Some(Diagnosis::ChainTooLong {
                certificates,
                openssl_accepts: true,
                rustls_accepts: false,
            }),
            _ => None,
        };
    };
    let subject = || {
        let depth = usize::try_from(first.depth).ok()?;
        openssl
            .chain
            .get(depth)
            .map(|&r| parsed.get(r).subject.clone())
    };
    match first.code {
        VerifyCode::CertChainTooLong => Some(Diagnosis::ChainTooLong {
            certificates,
            openssl_accepts: false,
            rustls_accepts,
        }),
        // Both reject a name outside the constraints: the ordinary finding.
        VerifyCode::PermittedViolation | VerifyCode::ExcludedViolation if !rustls_accepts => None,
        VerifyCode::PermittedViolation
        | VerifyCode::ExcludedViolation
        | VerifyCode::SubtreeMinmax
        | VerifyCode::UnsupportedConstraintType
        | VerifyCode::UnsupportedNameSyntax
        | VerifyCode::Unspecified => Some(Diagnosis::NameConstraintsDiffer {
            depth: first.depth,
            subject: subject()?,
            code: first.code,
            rustls_accepts,
        }),
        _ => None,
    }
}

/// What rustls clients do, after OpenSSL's rejection.
fn and_rustls(rustls_accepts: bool) -> &'static str {
    if rustls_accepts {
        "rustls clients accept it"
    } else {
        "rustls clients reject it too"
    }
}

/// The explanation of [`Diagnosis::NameConstraintsDiffer`].
pub(super) fn explain_differ(subject: &str, code: VerifyCode, rustls_accepts: bool) -> String {
    let rustls = and_rustls(rustls_accepts);
    match code {
        VerifyCode::SubtreeMinmax => format!(
            "a CA above \"{subject}\" has a name constraint with a minimum or maximum, which \
             OpenSSL does not support: OpenSSL clients reject the chain, {rustls}. Re-issue the \
             CA with name constraints that have neither"
        ),
        VerifyCode::UnsupportedConstraintType => format!(
            "a CA above \"{subject}\" constrains a kind of name OpenSSL cannot check (otherName, \
             x400Address, ediPartyName or registeredID), and \"{subject}\" has such a name: \
             OpenSSL clients reject the chain, {rustls}. Re-issue the CA without that constraint, \
             or the certificate without that name"
        ),
        VerifyCode::UnsupportedNameSyntax => format!(
            "a name of \"{subject}\", or the CA constraint it is held against, is malformed for \
             OpenSSL (an IP address or mask of the wrong length, an e-mail address without @, a \
             URI without scheme://host): OpenSSL clients reject the chain, {rustls}. Re-issue it \
             (or the CA) with well-formed names"
        ),
        VerifyCode::Unspecified => format!(
            "\"{subject}\" has too many names for the name constraints above it: OpenSSL compares \
             at most 1048576 names times constraints and rejects the chain, {rustls}. Use fewer \
             names or fewer constraints"
        ),
        _ => format!(
            "a name of \"{subject}\" lies outside the name constraints of a CA above it as OpenSSL \
             reads them (OpenSSL also checks the subject's e-mail address and, without a DNS \
             subjectAltName, a host-name-like CN): OpenSSL clients reject the chain, {rustls}. \
             Issue it from a CA allowed to certify that name, or use a permitted name"
        ),
    }
}

/// The explanation of [`Diagnosis::NameConstraintsRustlsOnly`].
pub(super) fn explain_rustls_only(subject: &str, too_many_comparisons: bool) -> String {
    if too_many_comparisons {
        format!(
            "\"{subject}\" has more names times name constraints above it than rustls compares \
             (250000): OpenSSL clients accept the chain, rustls clients reject it. Use fewer names \
             or fewer constraints"
        )
    } else {
        format!(
            "rustls finds a name of \"{subject}\" outside the name constraints of a CA above it, \
             or of a kind it does not check against them (such as e-mail, URI or directory \
             names): OpenSSL clients accept the chain, rustls clients reject it. Issue it from a \
             CA allowed to certify that name, or re-issue the CA without those constraints"
        )
    }
}

/// The explanation of [`Diagnosis::ChainTooLong`].
pub(super) fn explain_chain_too_long(
    certificates: u32,
    openssl_accepts: bool,
    rustls_accepts: bool,
) -> String {
    if openssl_accepts {
        return format!(
            "the chain has {certificates} certificates: OpenSSL clients accept it (up to 100 \
             intermediate CAs), rustls clients reject it (at most 6 intermediate CAs). Shorten \
             the chain"
        );
    }
    let rustls = if rustls_accepts {
        "rustls clients accept it"
    } else {
        "rustls clients reject it too (at most 6 intermediate CAs)"
    };
    format!(
        "the chain reaches no trust anchor within 100 intermediate CAs, OpenSSL's limit: OpenSSL \
         clients reject it, {rustls}. Shorten the chain"
    )
}
