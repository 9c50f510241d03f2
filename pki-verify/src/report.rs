//! One verification: both verdicts, the chain OpenSSL built, and the diagnosis.

use serde::Serialize;

use crate::chain::{CertSummary, ChainInput, Parsed};
use crate::diagnose::{Diagnosis, diagnose};
use crate::openssl::OpensslVerdict;
use crate::openssl::Outcome;
use crate::options::{CrlScope, VerifyOptions};
use crate::webpki::WebpkiVerdict;
use crate::{Error, openssl, webpki};
use time::OffsetDateTime;

/// The result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// What OpenSSL 3.0 says.
    pub openssl: OpensslVerdict,
    /// What rustls-webpki says.
    pub webpki: WebpkiVerdict,
    /// Whether both accept or both reject.
    pub agree: bool,
    /// What is wrong, in plain words.
    pub diagnosis: Diagnosis,
    /// The chain OpenSSL built, leaf first (as far as it got).
    pub chain: Vec<CertSummary>,
    /// The revocation check, when CRLs were given.
    pub revocation: Option<RevocationReport>,
}

/// What the revocation check with CRLs found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevocationReport {
    /// Which certificates were checked: the leaf, or the whole chain.
    pub scope: CrlScope,
    /// The CRLs given.
    pub crls: Vec<CrlSummary>,
    /// The certificates OpenSSL found listed as revoked.
    pub revoked: Vec<RevokedCertificate>,
}

/// One CRL given to the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrlSummary {
    /// Its issuer (`CN=...`).
    pub issuer: String,
    /// thisUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub this_update: OffsetDateTime,
    /// nextUpdate, if present.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_update: Option<OffsetDateTime>,
    /// How many certificates it lists.
    pub revoked_count: usize,
}

/// A certificate of the chain that a CRL lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevokedCertificate {
    /// Depth in the chain (0 is the leaf).
    pub depth: u32,
    /// Its subject.
    pub subject: String,
    /// Its serial, upper-case hex.
    pub serial: String,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339")]
    pub revoked_at: OffsetDateTime,
    /// The reasonCode by its RFC 5280 name, if given.
    pub reason: Option<String>,
    /// The issuer of the CRL that lists it.
    pub crl_issuer: String,
}

impl Report {
    /// Whether a device accepts the chain: both OpenSSL and rustls clients do.
    pub fn is_ok(&self) -> bool {
        self.openssl.is_ok() && self.webpki.is_ok()
    }

    /// Whether the name checked is all that fails: the path is valid for both clients, and the
    /// leaf is not for that name (a name check says so; the chain is not to blame).
    pub fn only_the_name_fails(&self) -> bool {
        self.diagnosis.is_about_the_name()
            && self.openssl.errors.iter().all(|e| {
                matches!(
                    e.code,
                    crate::VerifyCode::HostnameMismatch | crate::VerifyCode::IpAddressMismatch
                )
            })
            && matches!(
                self.webpki,
                WebpkiVerdict::Ok | WebpkiVerdict::CertNotValidForName { .. }
            )
    }
}

/// The certificates of the chain OpenSSL found revoked, with what their CRL says of them.
pub(crate) fn revoked_certificates(
    parsed: &Parsed<'_>,
    outcome: &Outcome,
) -> Vec<RevokedCertificate> {
    outcome
        .revoked
        .iter()
        .filter_map(|&(depth, crl)| {
            let cert = parsed.get(*outcome.chain.get(depth)?);
            let list = &parsed.crls[crl];
            let entry = list.entry(&cert.x509.tbs_certificate.serial)?;
            Some(RevokedCertificate {
                depth: u32::try_from(depth).unwrap_or(u32::MAX),
                subject: cert.subject.clone(),
                serial: cert.summary.serial.hex.clone(),
                revoked_at: entry.date,
                reason: entry
                    .reason
                    .map(|r| pki_x509::crl_reason_name(r).to_owned()),
                crl_issuer: list.issuer_text.clone(),
            })
        })
        .collect()
}

/// Verifies `input` with OpenSSL 3.0 and rustls/webpki semantics and diagnoses the result.
///
/// Returns `Err` only when the check cannot run: a certificate that does not parse, or a
/// signature algorithm this crate cannot check.
pub fn verify(input: &ChainInput, opts: &VerifyOptions) -> Result<Report, Error> {
    let parsed = input.parse()?;
    let outcome = openssl::verify(&parsed, opts)?;
    let webpki = webpki::verify(input, opts);
    let diagnosis = diagnose(&parsed, &outcome, &webpki, opts);
    let chain = outcome
        .chain
        .iter()
        .map(|&r| parsed.get(r).report_summary())
        .collect();
    let revocation = (!parsed.crls.is_empty()).then(|| RevocationReport {
        scope: opts.crl_scope,
        crls: parsed
            .crls
            .iter()
            .map(|c| CrlSummary {
                issuer: c.issuer_text.clone(),
                this_update: c.this_update,
                next_update: c.next_update,
                revoked_count: c.entries.len(),
            })
            .collect(),
        revoked: revoked_certificates(&parsed, &outcome),
    });
    Ok(Report {
        agree: outcome.verdict.is_ok() == webpki.is_ok(),
        openssl: outcome.verdict,
        webpki,
        diagnosis,
        chain,
        revocation,
    })
}
