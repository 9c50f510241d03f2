//! OpenSSL 3.0's revocation check with CRLs (`-crl_check`, `-crl_check_all`): `check_revocation`,
//! `check_cert`, `get_crl_sk`/`get_crl_score`, `crl_akid_check`, `crl_crldp_check`,
//! `check_crl`, `check_crl_time` and `cert_crl` of crypto/x509/x509_vfy.c, without extended CRL
//! support (`-extended_crl`) and without delta CRLs (`-use_deltas`), as `openssl verify`,
//! `s_client` and a TLS client with `X509_V_FLAG_CRL_CHECK` run it. Every error is recorded
//! at the depth of the certificate being checked, as if the verify callback let verification
//! go on.

use num_bigint::BigUint;
use x509_parser::extensions::{DistributionPointName, GeneralName};

use super::{Ctx, VerifyCode, akid_check, names_equal};
use crate::crl::{Crl, full_names};
use crate::options::CrlScope;

/// `CRLDP_ALL_REASONS`: every reason bit, in OpenSSL's layout.
const ALL_REASONS: u32 = 0x807f;
/// reasonCode removeFromCRL.
const REMOVE_FROM_CRL: u8 = 8;

/// `get_crl_score`'s bits.
const SCORE_NOCRITICAL: u32 = 0x100;
const SCORE_SCOPE: u32 = 0x080;
const SCORE_TIME: u32 = 0x040;
const SCORE_ISSUER_NAME: u32 = 0x020;
const SCORE_ISSUER_CERT: u32 = 0x018;
const SCORE_SAME_PATH: u32 = 0x008;
const SCORE_AKID: u32 = 0x004;

/// The CRL `get_crl_sk` chose for a certificate.
struct Chosen {
    /// Index into `Parsed::crls`.
    crl: usize,
    /// Pool index of the CRL's issuer (`current_issuer`).
    issuer: usize,
    score: u32,
    reasons: u32,
}

/// Why a certificate is revoked: what OpenSSL found in the CRL (for the diagnosis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Revocation {
    /// The depth of the revoked certificate.
    pub(crate) depth: usize,
    /// Index into `Parsed::crls` of the CRL that lists it.
    pub(crate) crl: usize,
}

impl Ctx<'_, '_> {
    /// `check_revocation`: with CRLs given, the leaf (or every certificate of the chain as far
    /// as it was built, under [`CrlScope::Chain`]).
    pub(super) fn check_revocation(&mut self) {
        if self.parsed.crls.is_empty() {
            return;
        }
        let last = match self.opts.crl_scope {
            CrlScope::Leaf => 0,
            CrlScope::Chain => self.chain.len() - 1,
        };
        for depth in 0..=last {
            self.check_cert(depth);
        }
    }

    /// `check_cert`: CRLs until every reason is covered.
    fn check_cert(&mut self, depth: usize) {
        let mut reasons = 0;
        while reasons != ALL_REASONS {
            let last_reasons = reasons;
            let Some(chosen) = self.get_crl_sk(depth, reasons) else {
                self.fail(VerifyCode::UnableToGetCrl, depth);
                return;
            };
            reasons = chosen.reasons;
            self.check_crl(depth, &chosen);
            self.cert_crl(depth, chosen.crl);
            if last_reasons == reasons {
                self.fail(VerifyCode::UnableToGetCrl, depth);
                return;
            }
        }
    }

    /// `get_crl_sk`: the best-scoring CRL; among equal scores the first, unless a later one
    /// has a strictly newer lastUpdate. A CRL scoring 0 is never used.
    fn get_crl_sk(&self, depth: usize, reasons: u32) -> Option<Chosen> {
        let mut best: Option<Chosen> = None;
        for i in 0..self.parsed.crls.len() {
            let Some((score, issuer, new_reasons)) = self.get_crl_score(depth, reasons, i) else {
                continue;
            };
            let best_score = best.as_ref().map_or(0, |b| b.score);
            if score < best_score {
                continue;
            }
            if let Some(b) = &best
                && score == best_score
                && self.parsed.crls[i].this_update <= self.parsed.crls[b.crl].this_update
            {
                continue;
            }
            best = Some(Chosen {
                crl: i,
                issuer,
                score,
                reasons: new_reasons,
            });
        }
        best
    }

    /// `get_crl_score` of CRL `i` for the certificate at `depth`: the score, the CRL's
    /// issuer and the reasons then covered; `None` for a score of 0.
    fn get_crl_score(&self, depth: usize, reasons: u32, i: usize) -> Option<(u32, usize, u32)> {
        let crl = &self.parsed.crls[i];
        let x = self.chain[depth];
        // A delta CRL is never taken for a complete one (OpenSSL 3.0.20 and later, as Debian's
        // security updates ship it: openssl/openssl#31044; 3.0.19 and earlier scored a delta
        // CRL like a full one without -extended_crl).
        if crl.delta {
            return None;
        }
        // No extended CRL support: an invalid IDP, an indirect or reasons-only CRL is unusable.
        if crl.idp.invalid || crl.idp.indirect || crl.idp.reasons {
            return None;
        }
        if !names_equal(&self.facts[x].issuer, &crl.issuer) {
            return None;
        }
        let mut score = SCORE_ISSUER_NAME;
        if !crl.unhandled_critical {
            score |= SCORE_NOCRITICAL;
        }
        if self.crl_time_ok(crl) {
            score |= SCORE_TIME;
        }
        let issuer = self.crl_akid_check(depth, crl, &mut score)?;
        let mut new_reasons = reasons;
        if let Some(crl_reasons) = self.crl_crldp_check(x, crl, score) {
            if crl_reasons & !reasons == 0 {
                return None;
            }
            new_reasons |= crl_reasons;
            score |= SCORE_SCOPE;
        }
        Some((score, issuer, new_reasons))
    }

    /// `crl_akid_check`: the CRL's issuer is the next certificate of the chain (or the last
    /// certificate itself), else a certificate further up with the CRL's issuer name; each
    /// must match the CRL's AKID.
    fn crl_akid_check(&self, depth: usize, crl: &Crl<'_>, score: &mut u32) -> Option<usize> {
        let n = self.chain.len();
        let cidx = if depth + 1 < n { depth + 1 } else { depth };
        let candidate = self.chain[cidx];
        if akid_check(
            self.cert(candidate),
            crl.akid(),
            &self.facts[candidate].issuer,
        ) && *score & SCORE_ISSUER_NAME != 0
        {
            *score |= SCORE_AKID | SCORE_ISSUER_CERT;
            return Some(candidate);
        }
        for &c in &self.chain[cidx + 1..] {
            if !names_equal(&self.facts[c].subject, &crl.issuer) {
                continue;
            }
            if akid_check(self.cert(c), crl.akid(), &self.facts[c].issuer) {
                *score |= SCORE_AKID | SCORE_SAME_PATH;
                return Some(c);
            }
        }
        None
    }

    /// `crl_crldp_check`: whether the CRL covers the certificate, and the reasons it then
    /// covers.
    fn crl_crldp_check(&self, x: usize, crl: &Crl<'_>, score: u32) -> Option<u32> {
        if crl.idp.only_attr {
            return None;
        }
        let is_ca = self.facts[x].bcons == Some(true);
        if (is_ca && crl.idp.only_user) || (!is_ca && crl.idp.only_ca) {
            return None;
        }
        let idp_point = crl.idp_point();
        for dp in self.cert(x).crl_distribution_points() {
            let issuer_ok = match &dp.crl_issuer {
                None => score & SCORE_ISSUER_NAME != 0,
                Some(names) => names.iter().any(|g| match g {
                    GeneralName::DirectoryName(n) => {
                        names_equal(&pki_x509::canonical_name(n), &crl.issuer)
                    }
                    _ => false,
                }),
            };
            if issuer_ok
                && (!crl.idp.present || idp_check_dp(dp.distribution_point.as_ref(), idp_point))
            {
                let dp_reasons = dp
                    .reasons
                    .as_ref()
                    .map_or(ALL_REASONS, |r| reason_bits(r.flags));
                return Some(ALL_REASONS & dp_reasons);
            }
        }
        (idp_point.is_none() && score & SCORE_ISSUER_NAME != 0).then_some(ALL_REASONS)
    }

    /// `check_crl_time(ctx, crl, 0)`.
    fn crl_time_ok(&self, crl: &Crl<'_>) -> bool {
        crl.this_update <= self.opts.at && crl.next_update.is_none_or(|n| n > self.opts.at)
    }

    /// `check_crl`: the issuer may sign CRLs, the CRL is in scope and in time, its signature
    /// checks. A delta CRL skips the first two (it is never chosen: see `get_crl_score`).
    fn check_crl(&mut self, depth: usize, chosen: &Chosen) {
        let crl = &self.parsed.crls[chosen.crl];
        let issuer = chosen.issuer;
        let mut errors = Vec::new();
        if !crl.delta {
            if self.facts[issuer].ku_reject(KU_CRL_SIGN) {
                errors.push(VerifyCode::KeyusageNoCrlSign);
            }
            if chosen.score & SCORE_SCOPE == 0 {
                errors.push(VerifyCode::DifferentCrlScope);
            }
        }
        if chosen.score & SCORE_TIME == 0 {
            if crl.this_update > self.opts.at {
                errors.push(VerifyCode::CrlNotYetValid);
            }
            if crl.next_update.is_some_and(|n| n <= self.opts.at) {
                errors.push(VerifyCode::CrlHasExpired);
            }
        }
        if self.facts[issuer].key_undecodable {
            errors.push(VerifyCode::UnableToDecodeIssuerPublicKey);
        } else if !crl_signature_ok(crl, self.cert(issuer).x509.public_key()) {
            errors.push(VerifyCode::CrlSignatureFailure);
        }
        for e in errors {
            self.fail(e, depth);
        }
    }

    /// `cert_crl`: an unhandled critical extension (36), then the certificate's serial (23,
    /// unless the entry's reason is removeFromCRL).
    fn cert_crl(&mut self, depth: usize, i: usize) {
        let crl = &self.parsed.crls[i];
        let critical = crl.unhandled_critical;
        let serial: &BigUint = &self.cert(self.chain[depth]).x509.tbs_certificate.serial;
        let revoked = crl
            .entry(serial)
            .is_some_and(|e| e.reason != Some(REMOVE_FROM_CRL));
        if critical {
            self.fail(VerifyCode::UnhandledCriticalCrlExtension, depth);
        }
        if revoked {
            self.revocations.push(Revocation { depth, crl: i });
            self.fail(VerifyCode::CertRevoked, depth);
        }
    }
}

/// keyUsage cRLSign, in OpenSSL's layout.
const KU_CRL_SIGN: u32 = 0x02;

/// `X509_CRL_verify`: the outer and inner algorithms agree and the issuer's key verifies the
/// signature.
fn crl_signature_ok(crl: &Crl<'_>, key: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> bool {
    let outer = &crl.x509.signature_algorithm;
    let inner = &crl.x509.tbs_cert_list.signature;
    outer.algorithm == inner.algorithm
        && outer.parameters.as_ref().map(|p| p.data) == inner.parameters.as_ref().map(|p| p.data)
        && crate::signature::check_crl(&crl.x509, key)
}

/// ReasonFlags as x509-parser gives them (bit n for reason n) in OpenSSL's layout (the BIT
/// STRING's first two bytes: reason n < 8 at 0x80 >> n, aACompromise at 0x8000).
fn reason_bits(flags: u16) -> u32 {
    let mut bits = 0;
    for n in 0..8 {
        if flags >> n & 1 == 1 {
            bits |= 0x80 >> n;
        }
    }
    if flags >> 8 & 1 == 1 {
        bits |= 0x8000;
    }
    bits & ALL_REASONS
}

/// `idp_check_dp`: a certificate's distribution point name against the CRL's IDP one. Names
/// relative to the CRL issuer are not compared (pki treats them as no match).
fn idp_check_dp(
    a: Option<&DistributionPointName<'_>>,
    b: Option<&DistributionPointName<'_>>,
) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return true;
    };
    let (Some(a), Some(b)) = (full_names(a), full_names(b)) else {
        return false;
    };
    a.iter().any(|ga| b.iter().any(|gb| ga == gb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_bits_follow_the_bit_string_layout() {
        // keyCompromise is reason 1: bit 1 of the BIT STRING, 0x40 of its first byte.
        assert_eq!(reason_bits(1 << 1), 0x40);
        assert_eq!(reason_bits(1 << 8), 0x8000);
        assert_eq!(reason_bits(0x1fe), ALL_REASONS);
    }
}
