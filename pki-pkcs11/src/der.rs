//! The little DER pki-pkcs11 writes and reads: an ECDSA signature from a token's raw `r || s`,
//! an RSA public key from its modulus and exponent, and a curve's OID.

/// The DER of an EC curve's named OID (CKA_EC_PARAMS): P-256.
pub(crate) const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// P-384.
pub(crate) const P384_PARAMS: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

/// SHA-256's DigestInfo prefix (RFC 8017 section 9.2, note 1): what an RSA PKCS#1 v1.5
/// signature signs before the hash.
pub(crate) const SHA256_DIGEST_INFO: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

fn length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// A DER INTEGER of the unsigned big-endian `value`.
fn integer(value: &[u8], out: &mut Vec<u8>) {
    let v = &value[value.iter().take_while(|b| **b == 0).count()..];
    let pad = v.first().is_none_or(|b| b & 0x80 != 0);
    out.push(0x02);
    length(v.len() + usize::from(pad), out);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(v);
}

/// A SEQUENCE of two unsigned INTEGERs.
fn pair(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(a.len() + b.len() + 8);
    integer(a, &mut body);
    integer(b, &mut body);
    let mut out = vec![0x30];
    length(body.len(), &mut out);
    out.extend(body);
    out
}

/// The DER `ECDSA-Sig-Value` of a token's raw signature (`r || s`, each the curve's size).
pub(crate) fn ecdsa_signature(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    Some(pair(r, s))
}

/// A PKCS#1 `RSAPublicKey` (what an X.509 SubjectPublicKeyInfo holds for RSA).
pub(crate) fn rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    pair(modulus, exponent)
}

/// The uncompressed point of CKA_EC_POINT, which tokens give DER-wrapped in an OCTET STRING
/// (PKCS#11 2.40) or, some of them, bare.
pub(crate) fn ec_point(value: &[u8], point_len: usize) -> Option<Vec<u8>> {
    match value {
        v if v.len() == point_len && v[0] == 0x04 => Some(v.to_vec()),
        [0x04, len, rest @ ..] if usize::from(*len) == rest.len() && rest.len() == point_len => {
            Some(rest.to_vec())
        }
        [0x04, 0x81, len, rest @ ..]
            if usize::from(*len) == rest.len() && rest.len() == point_len =>
        {
            Some(rest.to_vec())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_signature_becomes_der_with_positive_integers() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // r's top bit set: a leading zero is needed
        raw[63] = 1; // s = 1: leading zeros dropped
        let der = ecdsa_signature(&raw).unwrap();
        assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x21, 0x00]);
        assert_eq!(&der[der.len() - 3..], &[0x02, 0x01, 0x01]);
        assert!(ecdsa_signature(&[1, 2, 3]).is_none());
    }

    #[test]
    fn long_lengths_use_the_long_form() {
        let der = rsa_public_key(&[0xff; 256], &[1, 0, 1]);
        assert_eq!(&der[..4], &[0x30, 0x82, 0x01, 0x0a]);
    }

    #[test]
    fn an_ec_point_is_unwrapped_when_wrapped() {
        let mut point = vec![0x04];
        point.extend([7u8; 64]);
        let mut wrapped = vec![0x04, 65];
        wrapped.extend(&point);
        assert_eq!(ec_point(&wrapped, 65), Some(point.clone()));
        assert_eq!(ec_point(&point, 65), Some(point));
        assert_eq!(ec_point(&[4, 1, 2], 65), None);
    }
}
