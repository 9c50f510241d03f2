//! RSA: PKCS#1 v1.5 (RustCrypto's `rsa`, any key size) and RSASSA-PSS as OpenSSL's
//! `RSA_verify_PKCS1_PSS_mgf1` checks it, on `num-bigint` (any hash, MGF1 hash, salt length and
//! key size).

use num_bigint::BigUint;
use pki_x509::oid;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

use super::der::unsigned;
use super::hash::Hash;

pub(super) fn rsa_pkcs1(
    issuer: &SubjectPublicKeyInfo<'_>,
    hash: Hash,
    tbs: &[u8],
    sig: &[u8],
) -> bool {
    let Ok(PublicKey::RSA(key)) = issuer.parsed() else {
        return false;
    };
    // An even or zero modulus has no Montgomery form: OpenSSL's modular exponentiation fails on
    // it, and rsa's unchecked constructor would panic.
    if key.modulus.last().is_none_or(|b| b & 1 == 0) || key.exponent.is_empty() {
        return false;
    }
    let n = rsa::BoxedUint::from_be_slice_vartime(key.modulus);
    let e = rsa::BoxedUint::from_be_slice_vartime(key.exponent);
    // Unchecked: OpenSSL verifies with keys of any size and exponent.
    let key = rsa::PublicKey::new_unchecked(n, e);
    let digest = hash.digest(tbs);
    let Ok(digest_len) = u8::try_from(digest.len()) else {
        return false;
    };
    let scheme = rsa::Pkcs1v15Sign {
        hash_len: Some(digest.len()),
        prefix: hash.digest_info_prefix(digest_len).into(),
    };
    key.verify(scheme, &digest, sig).is_ok()
}

/// The parameters of an RSASSA-PSS signature as OpenSSL reads them (`ossl_rsa_pss_get_param`):
/// absent parameters, a mask other than MGF1, a negative salt length or a trailer field other
/// than 1 are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PssParams {
    pub(super) hash: Hash,
    pub(super) mgf1_hash: Hash,
    pub(super) salt_len: usize,
}

pub(super) fn pss_params(alg: &AlgorithmIdentifier<'_>) -> Option<PssParams> {
    let params = alg.parameters.as_ref()?;
    if params.tag() != Tag::Sequence {
        return None;
    }
    let pss = x509_parser::signature_algorithm::RsaSsaPssParams::try_from(params).ok()?;
    let hash = Hash::of_oid(&pss.hash_algorithm_oid().to_id_string())?;
    let mgf = pss.mask_gen_algorithm().ok()?;
    if mgf.mgf.to_id_string() != oid::MGF1 || pss.trailer_field() != 1 {
        return None;
    }
    let mgf1_hash = Hash::of_oid(&mgf.hash.to_id_string())?;
    let salt_len = usize::try_from(pss.salt_length()).ok()?;
    Some(PssParams {
        hash,
        mgf1_hash,
        salt_len,
    })
}

/// The RSA public operation `s^e mod n` as OpenSSL's `rsa_ossl_public_decrypt` allows it
/// (modulus of at most 16,384 bits, odd, above `e`; `e` of at most 64 bits above 3,072-bit
/// moduli; `s` below `n`), left-padded to the modulus's length.
pub(super) fn rsa_public(modulus: &[u8], exponent: &[u8], sig: &[u8]) -> Option<Vec<u8>> {
    let n = BigUint::from_bytes_be(modulus);
    let e = BigUint::from_bytes_be(exponent);
    let k = usize::try_from(n.bits().div_ceil(8)).ok()?;
    if n.bits() > 16_384 || !n.bit(0) || n <= e || (n.bits() > 3072 && e.bits() > 64) {
        return None;
    }
    let s = BigUint::from_bytes_be(sig);
    if sig.len() > k || s >= n {
        return None;
    }
    let m = s.modpow(&e, &n).to_bytes_be();
    let mut em = vec![0; k.checked_sub(m.len())?];
    em.extend_from_slice(&m);
    Some(em)
}

/// MGF1 (RFC 8017, B.2.1) of `seed`, `len` bytes.
pub(super) fn mgf1(hash: Hash, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut counter = 0u32;
    while out.len() < len {
        let mut input = seed.to_vec();
        input.extend_from_slice(&counter.to_be_bytes());
        out.extend_from_slice(&hash.digest(&input));
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

/// RSASSA-PSS with the signature's parameters (any hash, MGF1 hash and salt length OpenSSL
/// takes, at any key size), as `RSA_verify_PKCS1_PSS_mgf1` checks it, the salt length exact. An
/// rsassaPss key with parameters allows only its own hash and MGF1 hash, and salts at least as
/// long as its own.
pub(super) fn rsa_pss(
    alg: &AlgorithmIdentifier<'_>,
    issuer: &SubjectPublicKeyInfo<'_>,
    tbs: &[u8],
    sig: &[u8],
) -> bool {
    let Some(params) = pss_params(alg) else {
        return false;
    };
    rsa_pss_with(params, issuer, tbs, sig)
}

/// RSASSA-PSS with these parameters, under the restrictions of an rsassaPss key.
pub(super) fn rsa_pss_with(
    params: PssParams,
    issuer: &SubjectPublicKeyInfo<'_>,
    tbs: &[u8],
    sig: &[u8],
) -> bool {
    use x509_parser::prelude::FromDer as _;
    if let Some(key_params) = issuer.algorithm.parameters.as_ref()
        && issuer.algorithm.algorithm.to_id_string() == oid::RSASSA_PSS
        && key_params.tag() == Tag::Sequence
    {
        let restricted = AlgorithmIdentifier {
            algorithm: issuer.algorithm.algorithm.clone(),
            parameters: Some(key_params.clone()),
        };
        let Some(restriction) = pss_params(&restricted) else {
            return false;
        };
        if restriction.hash != params.hash
            || restriction.mgf1_hash != params.mgf1_hash
            || params.salt_len < restriction.salt_len
        {
            return false;
        }
    }
    let Ok((_, key)) =
        x509_parser::public_key::RSAPublicKey::from_der(issuer.subject_public_key.data.as_ref())
    else {
        return false;
    };
    let Some(em) = rsa_public(key.modulus, key.exponent, sig) else {
        return false;
    };
    let m_hash = params.hash.digest(tbs);
    emsa_pss_verify(&em, unsigned(key.modulus), &m_hash, params)
}

/// EMSA-PSS-VERIFY (RFC 8017, 9.1.2) as OpenSSL's `ossl_rsa_verify_PKCS1_PSS_mgf1` runs it on
/// `em`, the public operation's result at the modulus's length.
pub(super) fn emsa_pss_verify(em: &[u8], modulus: &[u8], m_hash: &[u8], params: PssParams) -> bool {
    let h_len = m_hash.len();
    let Some(&top) = modulus.first() else {
        return false;
    };
    // (modulus bits - 1) mod 8.
    let ms_bits = (7 - top.leading_zeros()) % 8;
    let Some(&first) = em.first() else {
        return false;
    };
    if first & (0xffu8 << ms_bits) != 0 {
        return false;
    }
    let em = if ms_bits == 0 { &em[1..] } else { em };
    if em.len() < h_len + 2 || em.last() != Some(&0xbc) {
        return false;
    }
    let masked_db_len = em.len() - h_len - 1;
    let h = &em[masked_db_len..em.len() - 1];
    let mut db = mgf1(params.mgf1_hash, h, masked_db_len);
    for (d, m) in db.iter_mut().zip(em) {
        *d ^= m;
    }
    if ms_bits != 0 {
        db[0] &= 0xff >> (8 - ms_bits);
    }
    // The first non-zero byte (or the last, when all before it are zero) must be the 0x01.
    let one = db[..masked_db_len - 1]
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(masked_db_len - 1);
    if db[one] != 0x01 || masked_db_len - one - 1 != params.salt_len {
        return false;
    }
    let salt = &db[one + 1..];
    let mut m_prime = vec![0u8; 8];
    m_prime.extend_from_slice(m_hash);
    m_prime.extend_from_slice(salt);
    params.hash.digest(&m_prime) == h
}
