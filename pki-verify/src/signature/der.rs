//! DER of signatures and keys: an `ECDSA-Sig-Value`/`Dss-Sig-Value` that must be exactly DER,
//! the INTEGERs of DSA's parameters, and the lengths of big-endian integers.

use der::{Encode as _, Header, Length, Tag};
use num_bigint::BigUint;

/// `r` and `s` of a DER `ECDSA-Sig-Value`/`Dss-Sig-Value`, which must be exactly DER (OpenSSL
/// re-encodes what it decoded and compares) with both integers non-negative.
pub(super) fn der_signature(sig: &[u8]) -> Option<(BigUint, BigUint)> {
    let (rest, seq) = x509_parser::der_parser::parse_der(sig).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let items = seq.as_sequence().ok()?;
    let [r, s] = items.as_slice() else {
        return None;
    };
    let (r, s) = (r.as_slice().ok()?, s.as_slice().ok()?);
    let integer = |b: &[u8]| {
        let negative = b.first().is_some_and(|&x| x & 0x80 != 0);
        let unminimal = b.len() > 1 && b[0] == 0 && b[1] & 0x80 == 0;
        (!negative && !unminimal && !b.is_empty()).then(|| BigUint::from_bytes_be(b))
    };
    let (r_int, s_int) = (integer(r)?, integer(s)?);
    // Exactly DER: re-encode and compare.
    let mut body = Vec::new();
    for b in [r, s] {
        tlv(&mut body, Tag::Integer, b)?;
    }
    let mut der = Vec::new();
    tlv(&mut der, Tag::Sequence, &body)?;
    (der == sig).then_some((r_int, s_int))
}

/// Appends the DER of `content` under `tag`; `None` when it is too long for DER.
pub(super) fn tlv(out: &mut Vec<u8>, tag: Tag, content: &[u8]) -> Option<()> {
    Header::new(tag, Length::try_from(content.len()).ok()?)
        .encode_to_vec(out)
        .ok()?;
    out.extend_from_slice(content);
    Some(())
}

/// The INTEGERs in the content of a DER SEQUENCE (DSA's `Dss-Parms`), as big-endian bytes.
pub(super) fn der_integers(mut content: &[u8]) -> Option<Vec<&[u8]>> {
    let mut integers = Vec::new();
    while !content.is_empty() {
        let (rest, integer) = x509_parser::der_parser::der::parse_der_integer(content).ok()?;
        integers.push(integer.as_slice().ok()?);
        content = rest;
    }
    Some(integers)
}

/// A DER INTEGER's bytes without the leading zeros that keep it positive.
pub(super) fn unsigned(integer: &[u8]) -> &[u8] {
    let zeros = integer.iter().take_while(|&&b| b == 0).count();
    &integer[zeros..]
}

/// The bit length of a big-endian unsigned integer.
pub(super) fn bit_length(integer: &[u8]) -> u32 {
    let integer = unsigned(integer);
    let Some(&top) = integer.first() else {
        return 0;
    };
    let bytes = u32::try_from(integer.len()).unwrap_or(u32::MAX / 8);
    bytes.saturating_sub(1) * 8 + (8 - top.leading_zeros())
}
