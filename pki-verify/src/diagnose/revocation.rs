//! Findings about revocation, when CRLs are given: a certificate revoked, a CRL that OpenSSL
//! cannot use (none for the certificate, expired, not yet valid, badly signed, of another
//! scope, from an issuer without cRLSign, with a critical extension it does not know), and
//! where OpenSSL and rustls clients part ways on them (rustls refuses a certificate no CRL
//! covers, ignores a CRL's nextUpdate, does not check the trust anchor, and cannot load delta
//! or indirect CRLs at all).

use time::OffsetDateTime;

use super::{Diagnosis, date};
use crate::chain::Parsed;
use crate::openssl::{Outcome, VerifyCode};
use crate::webpki::WebpkiVerdict;

/// OpenSSL's CRL codes.
const CRL_CODES: &[VerifyCode] = &[
    VerifyCode::UnableToGetCrl,
    VerifyCode::UnableToDecodeIssuerPublicKey,
    VerifyCode::CrlSignatureFailure,
    VerifyCode::CrlNotYetValid,
    VerifyCode::CrlHasExpired,
    VerifyCode::CertRevoked,
    VerifyCode::KeyusageNoCrlSign,
    VerifyCode::UnhandledCriticalCrlExtension,
    VerifyCode::DifferentCrlScope,
];

/// The finding when revocation decides the verdict, `None` when another finding applies.
pub(super) fn finding(
    parsed: &Parsed<'_>,
    openssl: &Outcome,
    webpki: &WebpkiVerdict,
) -> Option<Diagnosis> {
    if parsed.crls.is_empty() {
        return None;
    }
    let rustls = rustls_words(webpki);
    match openssl.verdict.errors.first() {
        Some(first) if CRL_CODES.contains(&first.code) => {
            if let Some(r) = crate::report::revoked_certificates(parsed, openssl)
                .into_iter()
                .next()
            {
                return Some(Diagnosis::Revoked {
                    depth: r.depth,
                    subject: r.subject,
                    serial: r.serial,
                    revoked_at: r.revoked_at,
                    reason: r.reason,
                    crl_issuer: r.crl_issuer,
                    rustls,
                });
            }
            let cert = parsed.get(*openssl.chain.get(usize::try_from(first.depth).ok()?)?);
            Some(Diagnosis::CrlUnusable {
                depth: first.depth,
                subject: cert.subject.clone(),
                issuer: cert.issuer.clone(),
                code: first.code,
                text: first.text.to_owned(),
                rustls,
            })
        }
        None if is_revocation_verdict(webpki) => Some(Diagnosis::RevocationRustlsOnly {
            verdict: webpki.clone(),
            rustls,
        }),
        _ => None,
    }
}

fn is_revocation_verdict(v: &WebpkiVerdict) -> bool {
    matches!(
        v,
        WebpkiVerdict::CertRevoked
            | WebpkiVerdict::UnknownRevocationStatus
            | WebpkiVerdict::CrlExpired { .. }
            | WebpkiVerdict::InvalidCrlSignatureForPublicKey
            | WebpkiVerdict::IssuerNotCrlSigner
            | WebpkiVerdict::UnusableCrl { .. }
    )
}

/// What rustls clients given the same CRLs do, in words.
fn rustls_words(v: &WebpkiVerdict) -> String {
    match v {
        WebpkiVerdict::Ok => "rustls clients with the same CRLs accept it".to_owned(),
        WebpkiVerdict::CertRevoked => "rustls clients reject it too (revoked)".to_owned(),
        WebpkiVerdict::UnknownRevocationStatus => "rustls clients reject it: no CRL given covers \
             a certificate they check (rustls refuses an unknown status by default)"
            .to_owned(),
        WebpkiVerdict::CrlExpired { next_update, .. } => {
            format!(
                "rustls clients reject it: a CRL expired at {}",
                date(*next_update)
            )
        }
        WebpkiVerdict::InvalidCrlSignatureForPublicKey => {
            "rustls clients reject it: a CRL's signature does not verify".to_owned()
        }
        WebpkiVerdict::IssuerNotCrlSigner => {
            "rustls clients reject it: the CRL's issuer may not sign CRLs (no cRLSign)".to_owned()
        }
        WebpkiVerdict::UnusableCrl { crl, error } => format!(
            "rustls clients cannot be configured with CRL #{crl} at all ({error}): rustls reads \
             no delta or indirect CRL and no unknown critical extension"
        ),
        other => format!("rustls clients reject it: {}", other.name()),
    }
}

/// The sentence of a [`Diagnosis::Revoked`].
pub(super) fn explain_revoked(
    subject: &str,
    serial: &str,
    revoked_at: OffsetDateTime,
    reason: Option<&str>,
    crl_issuer: &str,
    rustls: &str,
) -> String {
    let reason = reason.map_or_else(String::new, |r| format!(", reason {r}"));
    format!(
        "\"{subject}\" (serial {serial}) is revoked: the CRL of \"{crl_issuer}\" lists it \
         (revoked at {}{reason}). OpenSSL clients with CRL checking reject it; {rustls}. Issue a \
         new certificate for it",
        date(revoked_at)
    )
}

/// The sentence of a [`Diagnosis::CrlUnusable`].
pub(super) fn explain_unusable(
    subject: &str,
    issuer: &str,
    code: VerifyCode,
    rustls: &str,
) -> String {
    let what = match code {
        VerifyCode::UnableToGetCrl => format!(
            "no CRL given is one OpenSSL can use for \"{subject}\": it needs a CRL issued and \
             signed by \"{issuer}\" (same name, and its authority key identifier that CA's key). \
             Give that CA's CRL"
        ),
        VerifyCode::CrlHasExpired => format!(
            "the CRL of \"{issuer}\" has expired (its nextUpdate has passed). Publish a fresh CRL"
        ),
        VerifyCode::CrlNotYetValid => format!(
            "the CRL of \"{issuer}\" is not valid yet (its thisUpdate is in the future, or the \
             device's clock is behind)"
        ),
        VerifyCode::CrlSignatureFailure => format!(
            "the CRL naming \"{issuer}\" is not signed by that CA's key (damaged, or from another \
             CA of the same name). Use the CRL that CA wrote"
        ),
        VerifyCode::KeyusageNoCrlSign => format!(
            "\"{issuer}\" signed the CRL, but its keyUsage lacks cRLSign. Re-issue the CA with \
             cRLSign, or have a CA with it sign the CRL"
        ),
        VerifyCode::UnhandledCriticalCrlExtension => format!(
            "the CRL of \"{issuer}\" has a critical extension OpenSSL does not know, so it \
             cannot be used"
        ),
        VerifyCode::DifferentCrlScope => format!(
            "the CRL of \"{issuer}\" does not cover \"{subject}\" (its issuing distribution \
             point names another scope than the certificate's CRL distribution points, or only \
             CA or only end-entity certificates)"
        ),
        VerifyCode::UnableToDecodeIssuerPublicKey => format!(
            "the key of \"{issuer}\", the CRL's issuer, does not decode, so its CRL cannot be \
             checked"
        ),
        _ => format!("OpenSSL error {code} ({})", code.text()),
    };
    format!("{what}. OpenSSL clients with CRL checking reject the chain; {rustls}")
}
