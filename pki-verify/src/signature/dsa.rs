//! DSA as OpenSSL's `ossl_dsa_do_verify` checks it, on `num-bigint`, and a DSA key's sizes.

use num_bigint::BigUint;
use num_traits::Zero as _;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::der::{bit_length, der_integers, der_signature, unsigned};

/// The bit lengths of a DSA key's prime p and subgroup order q.
pub(crate) fn dsa_bits(spki: &SubjectPublicKeyInfo<'_>) -> Option<(u32, u32)> {
    let pqg = der_integers(spki.algorithm.parameters.as_ref()?.data)?;
    Some((bit_length(pqg.first()?), bit_length(pqg.get(1)?)))
}

/// DSA as OpenSSL's `ossl_dsa_do_verify` checks it: q of 160, 224 or 256 bits, p of at most
/// 10,000 bits and odd, `r` and `s` in `[1, q-1]`, the digest cut to q's bytes, and
/// `(g^u1 y^u2 mod p) mod q == r`.
pub(super) fn dsa(issuer: &SubjectPublicKeyInfo<'_>, digest: &[u8], sig: &[u8]) -> bool {
    let Ok(PublicKey::DSA(y)) = issuer.parsed() else {
        return false;
    };
    let Some(pqg) = issuer
        .algorithm
        .parameters
        .as_ref()
        .and_then(|params| der_integers(params.data))
    else {
        return false;
    };
    let [p, q, g] = pqg.as_slice() else {
        return false;
    };
    let [p, q, g, y] = [p, q, g, &y].map(|b| BigUint::from_bytes_be(unsigned(b)));
    let q_bits = q.bits();
    if !matches!(q_bits, 160 | 224 | 256) || p.bits() > 10_000 || !p.bit(0) || g.is_zero() {
        return false;
    }
    let Some((r, s)) = der_signature(sig) else {
        return false;
    };
    if r.is_zero() || r >= q || s.is_zero() || s >= q {
        return false;
    }
    let Some(w) = s.modinv(&q) else {
        return false;
    };
    let len = digest.len().min(usize::try_from(q_bits / 8).unwrap_or(0));
    let m = BigUint::from_bytes_be(&digest[..len]);
    let u1 = m * &w % &q;
    let u2 = &r * &w % &q;
    let v = g.modpow(&u1, &p) * y.modpow(&u2, &p) % &p % &q;
    v == r
}
