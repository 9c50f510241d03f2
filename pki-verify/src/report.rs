//! One verification: both verdicts, the chain OpenSSL built, and the diagnosis.

use serde::Serialize;

use crate::chain::{CertSummary, ChainInput};
use crate::diagnose::{Diagnosis, diagnose};
use crate::openssl::OpensslVerdict;
use crate::options::VerifyOptions;
use crate::webpki::WebpkiVerdict;
use crate::{Error, openssl, webpki};

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
}

impl Report {
    /// Whether a device accepts the chain: both OpenSSL and rustls clients do.
    pub fn is_ok(&self) -> bool {
        self.openssl.is_ok() && self.webpki.is_ok()
    }
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
    Ok(Report {
        agree: outcome.verdict.is_ok() == webpki.is_ok(),
        openssl: outcome.verdict,
        webpki,
        diagnosis,
        chain,
    })
}
