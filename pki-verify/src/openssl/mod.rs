//! The OpenSSL 3.0 verdict: `X509_verify_cert` re-done step by step.
//!
//! This reproduces what `openssl verify -CAfile ANCHORS -untrusted SENT [-purpose P]
//! [-verify_hostname H | -verify_ip IP] [-auth_level N] -attime T LEAF` and
//! `openssl s_client -verify_return_error` report, following crypto/x509/x509_vfy.c and
//! v3_purp.c of OpenSSL 3.0:
//!
//! 1. the leaf's key strength (`-auth_level`), 66;
//! 2. `build_chain`, trusted-first: the issuer is looked up by OpenSSL's canonical name
//!    comparison, accepted when the AKID matches the SKID and the signature algorithm fits the key,
//!    preferring a currently valid certificate, else the latest to expire; a self-signed
//!    certificate ends the chain. Failures: 18, 19, 20 and 2;
//! 3. `check_extensions` per depth: unhandled critical extensions (34), CA flags (79), EC keys
//!    with explicit curve parameters (94, in a chain of two or more), purpose (26), path length
//!    (25);
//! 4. `check_auth_level`: CA key strength (67), signature digest strength (68);
//! 5. `check_id`: host name (62, with the CN fallback when there is no DNS SAN), IP address (64);
//! 6. `internal_verify`, from the top down: keyCertSign of the issuer (32), signature (7), validity
//!    including the trust anchor's (9, 10); a chain that does not end in a self-issued
//!    certificate reports 21 at depth 0 when it holds only the leaf;
//! 7. `check_name_constraints` (47, 48, 49, 51, 53, and 1 past OpenSSL's work limit).
//!
//! Every error is recorded as if the verify callback let verification go on (s_client without
//! `-verify_return_error`); the verdict's `code` and `depth` are the first, which is what
//! `-verify_return_error` and `openssl verify` report.
//!
//! This file holds the verdict's types and the steps of `X509_verify_cert` (`Ctx`); `purpose.rs`
//! the facts OpenSSL caches per certificate (purposes, CA flags, issued-by checks), `security.rs`
//! the security bits of keys and signatures (`-auth_level`), `crl.rs` the revocation check,
//! `ncons.rs`, `names.rs` and `extensions.rs` name constraints, names and invalid extensions,
//! `code.rs` the verify codes.

mod code;
mod crl;
pub(crate) mod extensions;
pub(crate) mod names;
mod ncons;
mod purpose;
mod security;
#[cfg(test)]
mod tests;

pub(crate) use pki_x509::canonical_name as name_canonical;

use serde::Serialize;

pub use code::VerifyCode;

use purpose::{Facts, KU_KEY_CERT_SIGN, akid_check, akid_matches, names_equal, sig_alg_matches};
use security::{key_security_bits, min_bits, signature_security_bits};

use crate::Error;
use crate::chain::{Cert, CertRef, Parsed};
use crate::options::{NameToCheck, VerifyOptions};

/// One error as OpenSSL reports it to its verify callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OpensslError {
    /// The `X509_V_ERR_*` number.
    pub code: VerifyCode,
    /// The depth of the certificate at fault (0 is the leaf).
    pub depth: u32,
    /// `X509_verify_cert_error_string(code)`.
    pub text: &'static str,
}

/// What OpenSSL 3.0 says of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpensslVerdict {
    /// The first error's `X509_V_ERR_*` number, 0 when verified: what `openssl verify` and
    /// `openssl s_client -verify_return_error` report.
    pub code: VerifyCode,
    /// The depth of the first error, `None` when verified.
    pub depth: Option<u32>,
    /// OpenSSL's wording of `code` (`ok`, `unable to get local issuer certificate`, ...).
    pub text: &'static str,
    /// Every error in the order OpenSSL meets them when told to go on after each (s_client
    /// without `-verify_return_error`, whose final "Verify return code" is the last of them).
    pub errors: Vec<OpensslError>,
}

impl OpensslVerdict {
    /// Whether OpenSSL accepts the chain.
    pub fn is_ok(&self) -> bool {
        self.code == VerifyCode::Ok
    }

    /// The errors `openssl verify` prints: it goes on after the errors its callback tolerates
    /// (expiry, a self-signed leaf, CA flags, path length, purpose, critical extensions) and stops
    /// at the first other one.
    pub fn verify_command_errors(&self) -> &[OpensslError] {
        let stop = self
            .errors
            .iter()
            .position(|e| !e.code.verify_command_continues())
            .map_or(self.errors.len(), |i| i + 1);
        &self.errors[..stop]
    }

    /// The code `s_client` reports as "Verify return code" without `-verify_return_error`: the
    /// last error, or 0.
    pub fn final_code(&self) -> VerifyCode {
        self.errors.last().map_or(VerifyCode::Ok, |e| e.code)
    }

    fn from_errors(errors: Vec<OpensslError>) -> Self {
        match errors.first() {
            Some(first) => Self {
                code: first.code,
                depth: Some(first.depth),
                text: first.text,
                errors,
            },
            None => Self {
                code: VerifyCode::Ok,
                depth: None,
                text: error_string(VerifyCode::Ok),
                errors,
            },
        }
    }
}

/// OpenSSL 3.0's `X509_verify_cert_error_string`, of a number or a [`VerifyCode`].
pub fn error_string(code: impl Into<VerifyCode>) -> &'static str {
    code.into().text()
}

/// The OpenSSL verdict and the chain OpenSSL built (leaf first).
pub(crate) struct Outcome {
    pub(crate) verdict: OpensslVerdict,
    pub(crate) chain: Vec<CertRef>,
    /// The certificates a CRL lists as revoked: (position in `chain`, index of the CRL).
    pub(crate) revoked: Vec<(usize, usize)>,
}

/// Runs OpenSSL's verification on the parsed input.
pub(crate) fn verify(parsed: &Parsed<'_>, opts: &VerifyOptions) -> Result<Outcome, Error> {
    let mut refs = vec![CertRef::Leaf];
    refs.extend((0..parsed.intermediates.len()).map(CertRef::Intermediate));
    refs.extend((0..parsed.anchors.len()).map(CertRef::Anchor));
    let facts = refs.iter().map(|&r| Facts::of(parsed.get(r))).collect();
    let mut ctx = Ctx {
        parsed,
        refs,
        facts,
        opts,
        chain: vec![0],
        num_untrusted: 1,
        errors: Vec::new(),
        revocations: Vec::new(),
    };
    ctx.run()?;
    Ok(Outcome {
        verdict: OpensslVerdict::from_errors(std::mem::take(&mut ctx.errors)),
        chain: ctx.chain.iter().map(|&i| ctx.refs[i]).collect(),
        revoked: ctx.revocations.iter().map(|r| (r.depth, r.crl)).collect(),
    })
}

struct Ctx<'p, 'a> {
    parsed: &'p Parsed<'a>,
    /// Pool: 0 the leaf, then the sent certificates, then the anchors.
    refs: Vec<CertRef>,
    facts: Vec<Facts>,
    opts: &'p VerifyOptions,
    /// The chain being built, as pool indices, leaf first.
    chain: Vec<usize>,
    num_untrusted: usize,
    errors: Vec<OpensslError>,
    /// The certificates found revoked, in the order met.
    revocations: Vec<crl::Revocation>,
}

/// `max_depth` of `build_chain`: OpenSSL's default verify depth (100), plus one. The chain is
/// extended while it holds at most this many certificates, so it may grow to one more, and only
/// a chain longer than this is too long (22): a chain that gives up at exactly this length
/// reports why it ended (19, 2 or 20) at its top.
const MAX_DEPTH: usize = 101;

#[derive(PartialEq, Eq)]
enum Trust {
    Trusted,
    Untrusted,
}

impl<'a> Ctx<'_, 'a> {
    fn cert(&self, i: usize) -> &Cert<'a> {
        self.parsed.get(self.refs[i])
    }

    fn fail(&mut self, code: VerifyCode, depth: usize) {
        self.errors.push(OpensslError {
            code,
            depth: u32::try_from(depth).unwrap_or(u32::MAX),
            text: error_string(code),
        });
    }

    fn run(&mut self) -> Result<(), Error> {
        // x509_verify_x509: the leaf's own key strength.
        if let Some(min) = min_bits(self.opts.auth_level)
            && key_security_bits(self.cert(0)).is_some_and(|b| b < min)
        {
            self.fail(VerifyCode::EeKeyTooSmall, 0);
        }
        self.build_chain();
        self.check_extensions();
        self.check_auth_level();
        self.check_id();
        self.check_revocation();
        self.internal_verify()?;
        self.check_name_constraints();
        Ok(())
    }

    /// `check_issued`: `ossl_x509_likely_issued(issuer, x)`, which fails when either is invalid.
    fn check_issued(&self, x: usize, issuer: usize) -> bool {
        let (fx, fi) = (&self.facts[x], &self.facts[issuer]);
        names_equal(&fi.subject, &fx.issuer)
            && fi.invalid.is_none()
            && fx.invalid.is_none()
            && akid_matches(self.cert(issuer), self.cert(x), &fi.issuer)
            && sig_alg_matches(self.cert(issuer), self.cert(x))
    }

    /// `ossl_x509_check_cert_time(ctx, x, -1)`.
    fn time_valid(&self, i: usize) -> bool {
        let c = self.cert(i);
        c.not_before <= self.opts.at && c.not_after > self.opts.at
    }

    /// The first candidate that is currently valid, else the one expiring last.
    fn best_issuer(&self, candidates: impl Iterator<Item = usize>) -> Option<usize> {
        let mut best: Option<usize> = None;
        for c in candidates {
            if self.time_valid(c) {
                return Some(c);
            }
            if best.is_none_or(|b| self.cert(c).not_after > self.cert(b).not_after) {
                best = Some(c);
            }
        }
        best
    }

    /// `X509_STORE_CTX_get1_issuer` over the trust anchors.
    fn trusted_issuer(&self, x: usize) -> Option<usize> {
        let anchors = (0..self.refs.len()).filter(|&i| self.facts[i].trusted);
        let candidates: Vec<usize> = anchors.filter(|&a| self.check_issued(x, a)).collect();
        self.best_issuer(candidates.into_iter())
    }

    /// `find_issuer` over the remaining untrusted certificates.
    fn untrusted_issuer(&self, pool: &[usize], x: usize) -> Option<usize> {
        let candidates: Vec<usize> = pool
            .iter()
            .copied()
            .filter(|&c| {
                self.check_issued(x, c)
                    && ((self.facts[x].self_issued && self.chain.len() == 1)
                        || !self
                            .chain
                            .iter()
                            .any(|&k| self.cert(k).der == self.cert(c).der))
            })
            .collect();
        self.best_issuer(candidates.into_iter())
    }

    /// `check_trust` for the trusted certificates from `start` on (no auxiliary trust, no
    /// partial chains): a self-signed trusted certificate makes the chain trusted.
    fn check_trust(&self, start: usize) -> Trust {
        if self.chain[start..]
            .iter()
            .any(|&i| self.facts[i].self_signed)
        {
            Trust::Trusted
        } else {
            Trust::Untrusted
        }
    }

    /// `build_chain` with X509_V_FLAG_TRUSTED_FIRST (OpenSSL's default).
    fn build_chain(&mut self) {
        const DO_UNTRUSTED: u8 = 1;
        const DO_TRUSTED: u8 = 2;
        let mut pool: Vec<usize> = (0..self.refs.len())
            .filter(|&i| matches!(self.refs[i], CertRef::Intermediate(_)))
            .collect();
        let mut search = DO_UNTRUSTED | DO_TRUSTED;
        let mut trust = Trust::Untrusted;
        while search != 0 {
            let num = self.chain.len();
            if search & DO_TRUSTED != 0 {
                let curr = self.chain[num - 1];
                let issuer = if num > MAX_DEPTH {
                    None
                } else {
                    self.trusted_issuer(curr)
                };
                if let Some(issuer) = issuer {
                    let mut self_signed = self.facts[curr].self_signed;
                    let mut ok = true;
                    let mut start = num;
                    if !self_signed {
                        self.chain.push(issuer);
                        self_signed = self.facts[issuer].self_signed;
                    } else if self.cert(curr).der != self.cert(issuer).der {
                        // A self-signed look-alike of a trust anchor.
                        ok = false;
                    } else {
                        self.num_untrusted = num - 1;
                        start = num - 1;
                        self.chain[num - 1] = issuer;
                    }
                    if ok {
                        search &= !DO_UNTRUSTED;
                        trust = self.check_trust(start);
                        if trust == Trust::Trusted {
                            break;
                        }
                        if !self_signed {
                            continue;
                        }
                    }
                }
                if search & DO_UNTRUSTED == 0 {
                    break;
                }
            }
            if search & DO_UNTRUSTED != 0 {
                let num = self.chain.len();
                let curr = self.chain[num - 1];
                let issuer = if self.facts[curr].self_signed || num > MAX_DEPTH {
                    None
                } else {
                    self.untrusted_issuer(&pool, curr)
                };
                match issuer {
                    None => {
                        search &= !DO_UNTRUSTED;
                        search |= DO_TRUSTED;
                    }
                    Some(issuer) => {
                        pool.retain(|&p| p != issuer);
                        self.chain.push(issuer);
                        self.num_untrusted += 1;
                    }
                }
            }
        }
        if trust == Trust::Trusted {
            return;
        }
        let num = self.chain.len();
        if num > MAX_DEPTH {
            self.fail(VerifyCode::CertChainTooLong, num - 1);
        }
        let top = self.chain[num - 1];
        if self.facts[top].self_signed {
            let code = if num == 1 {
                VerifyCode::DepthZeroSelfSignedCert
            } else {
                VerifyCode::SelfSignedCertInChain
            };
            self.fail(code, num - 1);
        } else if self.num_untrusted < num {
            self.fail(VerifyCode::UnableToGetIssuerCert, num - 1);
        } else {
            self.fail(VerifyCode::UnableToGetIssuerCertLocally, num - 1);
        }
    }

    /// `check_extensions`.
    fn check_extensions(&mut self) {
        let num = self.chain.len();
        let mut must_be_ca = -1;
        let mut plen: i64 = 0;
        for i in 0..num {
            let x = self.chain[i];
            if self.facts[x].unhandled_critical {
                self.fail(VerifyCode::UnhandledCriticalExtension, i);
            }
            let ret = self.facts[x].check_ca();
            if must_be_ca == 1 && (ret == 0 || (i + 1 < num && ret != 1)) {
                self.fail(VerifyCode::InvalidCa, i);
            }
            if num > 1 && self.facts[x].key_undecodable {
                self.fail(VerifyCode::Unspecified, i);
            } else if num > 1 && self.facts[x].explicit_curve {
                self.fail(VerifyCode::EcKeyExplicitParams, i);
            }
            if let Some(purpose) = self.opts.purpose
                && !self.facts[x].check_purpose(purpose, must_be_ca > 0)
            {
                self.fail(VerifyCode::InvalidPurpose, i);
            }
            let pathlen = self.facts[x].pathlen;
            if i > 1 && pathlen != -1 && plen > pathlen {
                self.fail(VerifyCode::PathLengthExceeded, i);
            }
            if i > 0 && !self.facts[x].self_issued {
                plen += 1;
            }
            must_be_ca = 1;
        }
    }

    /// `check_auth_level`.
    fn check_auth_level(&mut self) {
        let Some(min) = min_bits(self.opts.auth_level) else {
            return;
        };
        let num = self.chain.len();
        for i in 0..num {
            let cert = self.cert(self.chain[i]);
            if i > 0 && key_security_bits(cert).is_some_and(|b| b < min) {
                self.fail(VerifyCode::CaKeyTooSmall, i);
            }
            let cert = self.cert(self.chain[i]);
            if i < num - 1 && signature_security_bits(cert).is_none_or(|b| b < min) {
                self.fail(VerifyCode::CaMdTooWeak, i);
            }
        }
    }

    /// `check_id`.
    fn check_id(&mut self) {
        let leaf = self.cert(self.chain[0]);
        match &self.opts.name {
            Some(NameToCheck::Dns(host)) if !names::check_host(leaf, host) => {
                self.fail(VerifyCode::HostnameMismatch, 0);
            }
            Some(NameToCheck::Ip(ip)) if !names::check_ip(leaf, *ip) => {
                self.fail(VerifyCode::IpAddressMismatch, 0);
            }
            _ => {}
        }
    }

    /// `X509_verify(xs, issuer key)`: algorithm fields agree and the signature checks.
    fn signature_ok(&self, xs: usize, xi: usize) -> bool {
        let (cert, issuer) = (self.cert(xs), self.cert(xi));
        let outer = &cert.x509.signature_algorithm;
        let inner = &cert.x509.tbs_certificate.signature;
        if outer.algorithm != inner.algorithm
            || outer.parameters.as_ref().map(|p| p.data)
                != inner.parameters.as_ref().map(|p| p.data)
        {
            return false;
        }
        crate::signature::check(&cert.x509, issuer.x509.public_key())
    }

    /// `ossl_x509_check_cert_time(ctx, x, depth)`.
    fn check_cert_time(&mut self, x: usize, depth: usize) {
        let c = self.cert(x);
        let (not_yet, expired) = (c.not_before > self.opts.at, c.not_after <= self.opts.at);
        if not_yet {
            self.fail(VerifyCode::CertNotYetValid, depth);
        }
        if expired {
            self.fail(VerifyCode::CertHasExpired, depth);
        }
    }

    /// `internal_verify`: signatures and validity from the top down.
    fn internal_verify(&mut self) -> Result<(), Error> {
        let mut n = self.chain.len() - 1;
        let mut xi = self.chain[n];
        let mut xs;
        // Position in the chain of xs, to tell "xs is xi" apart from equal pool indices.
        let mut same: bool;
        if self.check_issued(xi, xi) {
            xs = xi;
            same = true;
        } else if n == 0 {
            self.fail(VerifyCode::UnableToVerifyLeafSignature, 0);
            self.check_cert_time(xi, 0);
            return Ok(());
        } else {
            n -= 1;
            xs = self.chain[n];
            same = false;
        }
        loop {
            if !same {
                let issuer_depth = n + 1;
                if self.facts[xi].ku_reject(KU_KEY_CERT_SIGN) {
                    self.fail(VerifyCode::KeyusageNoCertsign, issuer_depth);
                }
                if !self.signature_ok(xs, xi) {
                    self.fail(VerifyCode::CertSignatureFailure, n);
                }
            }
            self.check_cert_time(xs, n);
            if n == 0 {
                return Ok(());
            }
            n -= 1;
            xi = xs;
            xs = self.chain[n];
            same = false;
        }
    }

    /// `check_name_constraints`.
    fn check_name_constraints(&mut self) {
        let num = self.chain.len();
        for i in (0..num).rev() {
            let x = self.chain[i];
            if i != 0 && self.facts[x].self_issued {
                continue;
            }
            for j in (i + 1..num).rev() {
                let Some(nc) = ncons::of(self.cert(self.chain[j])) else {
                    continue;
                };
                let rv = ncons::check(self.cert(x), &nc, i == 0);
                if rv != VerifyCode::Ok {
                    self.fail(rv, i);
                }
            }
        }
    }
}
