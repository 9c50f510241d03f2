//! The little DER pki-pkcs11 writes and reads: an ECDSA signature from a token's raw `r || s`,
//! an RSA public key from its modulus and exponent, and a curve's OID.

use der::Encode as _;
use der::asn1::{Null, ObjectIdentifier, OctetStringRef, UintRef};
use pki_x509::oid;

/// P-256's OID (prime256v1).
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::PRIME256V1);
/// P-384's OID (secp384r1).
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::SECP384R1);
/// SHA-256's OID.
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::SHA256);

/// The curves pki makes keys on, as CKA_EC_PARAMS holds them (a named curve's OID, DER).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Curve {
    /// P-256.
    P256,
    /// P-384.
    P384,
}

impl Curve {
    /// The DER of the curve's OID: CKA_EC_PARAMS.
    pub(crate) fn params(self) -> Vec<u8> {
        let oid = match self {
            Curve::P256 => P256,
            Curve::P384 => P384,
        };
        // Invariant: an OID of at most 39 bytes always encodes.
        oid.to_der().unwrap_or_default()
    }

    /// The curve whose CKA_EC_PARAMS these are, `None` for another curve or other DER.
    pub(crate) fn of_params(params: &[u8]) -> Option<Curve> {
        [Curve::P256, Curve::P384]
            .into_iter()
            .find(|c| c.params() == params)
    }
}

/// PKCS#1's DigestInfo of a SHA-256 hash (RFC 8017 section 9.2): what an RSA PKCS#1 v1.5
/// signature signs.
pub(crate) fn sha256_digest_info(hash: &[u8]) -> Option<Vec<u8>> {
    let algorithm = [SHA256.to_der().ok()?, Null.to_der().ok()?].concat();
    let digest = OctetStringRef::new(hash).ok()?.to_der().ok()?;
    sequence(&[sequence(&algorithm)?, digest].concat())
}

/// A SEQUENCE of the encoded `body`.
fn sequence(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() + 6);
    der::Header::new(der::Tag::Sequence, der::Length::try_from(body.len()).ok()?)
        .encode_to_vec(&mut out)
        .ok()?;
    out.extend_from_slice(body);
    Some(out)
}

/// A SEQUENCE of two unsigned INTEGERs, each given big-endian.
fn pair(a: &[u8], b: &[u8]) -> Option<Vec<u8>> {
    [UintRef::new(a).ok()?, UintRef::new(b).ok()?].to_der().ok()
}

/// The DER `ECDSA-Sig-Value` of a token's raw signature (`r || s`, each the curve's size).
pub(crate) fn ecdsa_signature(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    pair(r, s)
}

/// A PKCS#1 `RSAPublicKey` (what an X.509 SubjectPublicKeyInfo holds for RSA), `None` when a
/// part is too long to encode.
pub(crate) fn rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Option<Vec<u8>> {
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
        let der = rsa_public_key(&[0xff; 256], &[1, 0, 1]).unwrap();
        assert_eq!(&der[..4], &[0x30, 0x82, 0x01, 0x0a]);
    }

    #[test]
    fn curve_params_and_digest_info_are_the_known_bytes() {
        // The bytes these were written as before the `der` crate made them.
        assert_eq!(
            Curve::P256.params(),
            [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
        );
        assert_eq!(
            Curve::P384.params(),
            [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]
        );
        assert_eq!(Curve::of_params(&Curve::P384.params()), Some(Curve::P384));
        assert_eq!(Curve::of_params(&[0x06, 0x01, 0x00]), None);
        let info = sha256_digest_info(&[0xab; 32]).unwrap();
        assert_eq!(
            info[..19],
            [
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ]
        );
        assert_eq!(info[19..], [0xab; 32]);
    }

    #[test]
    fn a_zero_integer_is_one_zero_byte() {
        assert_eq!(
            ecdsa_signature(&[0, 0]).unwrap(),
            [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]
        );
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
