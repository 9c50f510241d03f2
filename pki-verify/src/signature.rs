//! One certificate's signature checked with its issuer's key, as OpenSSL 3.0's `X509_verify`
//! checks it: every algorithm its default provider verifies, at any key size.
//!
//! The backends, one per algorithm family: RustCrypto's `rsa` for RSA PKCS#1 v1.5 (any hash, any
//! key size, where ring stops below 2048 bits), `ecdsa` with `p192`, `p224`, `p256`, `p384`,
//! `p521`, `k256`, `bp256` and `bp384` for ECDSA with any hash on any of those curves, `dsa` for
//! DSA, `ed448-goldilocks` for Ed448; ring (through x509-parser) for what remains: Ed25519 and
//! RSASSA-PSS. The security level of a key or a digest is judged elsewhere
//! (`openssl::check_auth_level`): here a signature is only right or wrong.

use ecdsa::signature::hazmat::PrehashVerifier as _;
use sha2::Digest as _;
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

/// What checking one signature found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checked {
    /// The issuer's key verifies the signature.
    Valid,
    /// It does not, or the key or signature cannot be decoded.
    Invalid,
    /// An algorithm this module does not know (OpenSSL's default provider may).
    UnknownAlgorithm,
}

impl From<bool> for Checked {
    fn from(ok: bool) -> Self {
        if ok { Checked::Valid } else { Checked::Invalid }
    }
}

/// The digests the signature algorithms below use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Hash::Sha224 => sha2::Sha224::digest(data).to_vec(),
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// The DER of the hash's OBJECT IDENTIFIER, contents only.
    fn oid(self) -> &'static [u8] {
        match self {
            Hash::Sha1 => &[0x2b, 0x0e, 0x03, 0x02, 0x1a],
            Hash::Sha224 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04],
            Hash::Sha256 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
            Hash::Sha384 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02],
            Hash::Sha512 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03],
        }
    }

    /// The DER of PKCS#1's DigestInfo up to the digest itself (RFC 8017, 9.2, note 1):
    /// SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING header }. Every length is below 128.
    fn digest_info_prefix(self, digest_len: u8) -> Vec<u8> {
        let oid = self.oid();
        let oid_len = u8::try_from(oid.len()).unwrap_or(u8::MAX);
        let mut algorithm = vec![0x30, oid_len + 4, 0x06, oid_len];
        algorithm.extend_from_slice(oid);
        algorithm.extend_from_slice(&[0x05, 0x00]);
        let algorithm_len = u8::try_from(algorithm.len()).unwrap_or(u8::MAX);
        let mut prefix = vec![0x30, algorithm_len + 2 + digest_len];
        prefix.extend_from_slice(&algorithm);
        prefix.extend_from_slice(&[0x04, digest_len]);
        prefix
    }
}

/// A signature algorithm this module checks itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    RsaPkcs1(Hash),
    Ecdsa(Hash),
    Dsa(Hash),
    Ed448,
}

impl Algorithm {
    fn of(oid: &str) -> Option<Self> {
        use Hash::*;
        Some(match oid {
            "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => Algorithm::RsaPkcs1(Sha1),
            "1.2.840.113549.1.1.14" => Algorithm::RsaPkcs1(Sha224),
            "1.2.840.113549.1.1.11" => Algorithm::RsaPkcs1(Sha256),
            "1.2.840.113549.1.1.12" => Algorithm::RsaPkcs1(Sha384),
            "1.2.840.113549.1.1.13" => Algorithm::RsaPkcs1(Sha512),
            "1.2.840.10045.4.1" => Algorithm::Ecdsa(Sha1),
            "1.2.840.10045.4.3.1" => Algorithm::Ecdsa(Sha224),
            "1.2.840.10045.4.3.2" => Algorithm::Ecdsa(Sha256),
            "1.2.840.10045.4.3.3" => Algorithm::Ecdsa(Sha384),
            "1.2.840.10045.4.3.4" => Algorithm::Ecdsa(Sha512),
            "1.2.840.10040.4.3" => Algorithm::Dsa(Sha1),
            "2.16.840.1.101.3.4.3.1" => Algorithm::Dsa(Sha224),
            "2.16.840.1.101.3.4.3.2" => Algorithm::Dsa(Sha256),
            "1.3.101.113" => Algorithm::Ed448,
            _ => return None,
        })
    }
}

/// The named curves ECDSA is checked on, by OID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    P192,
    P224,
    P256,
    P384,
    P521,
    Secp256k1,
    BrainpoolP256r1,
    BrainpoolP384r1,
}

impl Curve {
    fn of(oid: &str) -> Option<Self> {
        Some(match oid {
            "1.2.840.10045.3.1.1" => Curve::P192,
            "1.3.132.0.33" => Curve::P224,
            "1.2.840.10045.3.1.7" => Curve::P256,
            "1.3.132.0.34" => Curve::P384,
            "1.3.132.0.35" => Curve::P521,
            "1.3.132.0.10" => Curve::Secp256k1,
            "1.3.36.3.3.2.8.1.1.7" => Curve::BrainpoolP256r1,
            "1.3.36.3.3.2.8.1.1.11" => Curve::BrainpoolP384r1,
            _ => return None,
        })
    }
}

/// `X509_verify(cert, issuer's key)` for the signature of `cert`. The caller has compared the
/// outer and inner signature algorithms.
pub(crate) fn check(cert: &X509Certificate<'_>, issuer: &SubjectPublicKeyInfo<'_>) -> Checked {
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    let tbs = cert.tbs_certificate.as_ref();
    let sig = cert.signature_value.data.as_ref();
    let Some(algorithm) = Algorithm::of(&oid) else {
        return by_ring(cert, issuer);
    };
    match algorithm {
        Algorithm::RsaPkcs1(hash) => rsa_pkcs1(issuer, hash, tbs, sig).into(),
        Algorithm::Ecdsa(hash) => match issuer.parsed() {
            Ok(PublicKey::EC(point)) => match named_curve(issuer) {
                Some(curve) => ecdsa(curve, point.data(), &hash.digest(tbs), sig).into(),
                None => Checked::UnknownAlgorithm,
            },
            _ => Checked::Invalid,
        },
        Algorithm::Dsa(hash) => dsa(issuer, &hash.digest(tbs), sig).into(),
        Algorithm::Ed448 => ed448(issuer, tbs, sig).into(),
    }
}

/// Ed25519 and RSASSA-PSS: ring, through x509-parser.
fn by_ring(cert: &X509Certificate<'_>, issuer: &SubjectPublicKeyInfo<'_>) -> Checked {
    // ring verifies RSA from 2048 bits only; OpenSSL accepts smaller keys.
    if let Ok(PublicKey::RSA(rsa)) = issuer.parsed()
        && rsa.key_size() < 2048
    {
        return Checked::UnknownAlgorithm;
    }
    match cert.verify_signature(Some(issuer)) {
        Ok(()) => Checked::Valid,
        Err(x509_parser::error::X509Error::SignatureUnsupportedAlgorithm) => {
            Checked::UnknownAlgorithm
        }
        Err(_) => Checked::Invalid,
    }
}

/// Whether rustls (webpki on ring) verifies this signature: `false` for every algorithm, curve
/// or key size it cannot check, for an RSA-PSS (rsassaPss) key, which webpki does not take,
/// and for a wrong signature.
pub(crate) fn rustls_checks(cert: &X509Certificate<'_>, issuer: &SubjectPublicKeyInfo<'_>) -> bool {
    issuer.algorithm.algorithm.to_id_string() != "1.2.840.113549.1.1.10"
        && cert.verify_signature(Some(issuer)).is_ok()
}

/// The curve of an EC key: given by name, or by explicit parameters whose generator and order
/// are those of a named curve (OpenSSL matches explicit parameters to its built-in curves too).
fn named_curve(spki: &SubjectPublicKeyInfo<'_>) -> Option<Curve> {
    let params = spki.algorithm.parameters.as_ref()?;
    if params.tag() == Tag::Oid {
        return Curve::of(&params.as_oid().ok()?.to_id_string());
    }
    // ECParameters ::= SEQUENCE { version, fieldID, curve, base ECPoint, order INTEGER, ... }
    let fields = explicit_fields(spki)?;
    let base = fields.get(3)?.as_slice().ok()?;
    let order = unsigned(fields.get(4)?.as_slice().ok()?);
    CURVES.iter().copied().find(|&c| curve_has(c, base, order))
}

/// Whether an explicit curve has this generator and order.
macro_rules! has_generator_and_order {
    ($curve:ty, $base:expr, $order:expr) => {{
        use ecdsa::elliptic_curve::group::Group as _;
        type Point = ecdsa::elliptic_curve::ProjectivePoint<$curve>;
        let order = <$curve as ecdsa::elliptic_curve::Curve>::ORDER.to_be_bytes();
        unsigned(order.as_ref()) == $order
            && ecdsa::VerifyingKey::<$curve>::from_sec1_bytes($base)
                .is_ok_and(|g| Point::from(*g.as_affine()) == Point::generator())
    }};
}

const CURVES: [Curve; 8] = [
    Curve::P192,
    Curve::P224,
    Curve::P256,
    Curve::P384,
    Curve::P521,
    Curve::Secp256k1,
    Curve::BrainpoolP256r1,
    Curve::BrainpoolP384r1,
];

fn curve_has(curve: Curve, base: &[u8], order: &[u8]) -> bool {
    match curve {
        Curve::P192 => has_generator_and_order!(p192::NistP192, base, order),
        Curve::P224 => has_generator_and_order!(p224::NistP224, base, order),
        Curve::P256 => has_generator_and_order!(p256::NistP256, base, order),
        Curve::P384 => has_generator_and_order!(p384::NistP384, base, order),
        Curve::P521 => has_generator_and_order!(p521::NistP521, base, order),
        Curve::Secp256k1 => has_generator_and_order!(k256::Secp256k1, base, order),
        Curve::BrainpoolP256r1 => has_generator_and_order!(bp256::BrainpoolP256r1, base, order),
        Curve::BrainpoolP384r1 => has_generator_and_order!(bp384::BrainpoolP384r1, base, order),
    }
}

/// The bit length of a big-endian unsigned integer.
fn bit_length(integer: &[u8]) -> u32 {
    let integer = unsigned(integer);
    let Some(&top) = integer.first() else {
        return 0;
    };
    let bytes = u32::try_from(integer.len()).unwrap_or(u32::MAX / 8);
    bytes.saturating_sub(1) * 8 + (8 - top.leading_zeros())
}

/// The fields of an explicit `ECParameters` (the content of its SEQUENCE).
fn explicit_fields<'a>(
    spki: &'a SubjectPublicKeyInfo<'_>,
) -> Option<Vec<x509_parser::der_parser::ber::BerObject<'a>>> {
    let mut fields = Vec::new();
    let mut content = spki.algorithm.parameters.as_ref()?.data;
    while !content.is_empty() {
        let (rest, field) = x509_parser::der_parser::parse_der(content).ok()?;
        fields.push(field);
        content = rest;
    }
    Some(fields)
}

/// The bit length of the group order of an EC key with explicit parameters.
pub(crate) fn explicit_order_bits(spki: &SubjectPublicKeyInfo<'_>) -> Option<u32> {
    let fields = explicit_fields(spki)?;
    Some(bit_length(fields.get(4)?.as_slice().ok()?))
}

/// The bit lengths of a DSA key's prime p and subgroup order q.
pub(crate) fn dsa_bits(spki: &SubjectPublicKeyInfo<'_>) -> Option<(u32, u32)> {
    let pqg = der_integers(spki.algorithm.parameters.as_ref()?.data)?;
    Some((bit_length(pqg.first()?), bit_length(pqg.get(1)?)))
}

/// Whether a key is an EC key with explicit curve parameters (OpenSSL's `check_curve` is 0).
pub(crate) fn has_explicit_curve(spki: &SubjectPublicKeyInfo<'_>) -> bool {
    spki.algorithm.algorithm.to_id_string() == "1.2.840.10045.2.1"
        && spki
            .algorithm
            .parameters
            .as_ref()
            .is_some_and(|p| p.tag() == Tag::Sequence)
}

fn rsa_pkcs1(issuer: &SubjectPublicKeyInfo<'_>, hash: Hash, tbs: &[u8], sig: &[u8]) -> bool {
    let Ok(PublicKey::RSA(key)) = issuer.parsed() else {
        return false;
    };
    let n = rsa::BigUint::from_bytes_be(key.modulus);
    let e = rsa::BigUint::from_bytes_be(key.exponent);
    // Unchecked: OpenSSL verifies with keys of any size and exponent.
    let key = rsa::RsaPublicKey::new_unchecked(n, e);
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

/// ECDSA on one curve: the key's SEC1 point, the digest, the DER signature. A high `s` is
/// accepted, as OpenSSL does (k256 alone would refuse it).
macro_rules! ecdsa_on {
    ($curve:ty, $point:expr, $digest:expr, $sig:expr) => {
        match (
            ecdsa::VerifyingKey::<$curve>::from_sec1_bytes($point),
            ecdsa::Signature::<$curve>::from_der($sig),
        ) {
            (Ok(key), Ok(sig)) => key.verify_prehash($digest, &sig.normalize_s()).is_ok(),
            _ => false,
        }
    };
}

fn ecdsa(curve: Curve, point: &[u8], digest: &[u8], sig: &[u8]) -> bool {
    match curve {
        Curve::P192 => ecdsa_on!(p192::NistP192, point, digest, sig),
        Curve::P224 => ecdsa_on!(p224::NistP224, point, digest, sig),
        Curve::P256 => ecdsa_on!(p256::NistP256, point, digest, sig),
        Curve::P384 => ecdsa_on!(p384::NistP384, point, digest, sig),
        Curve::P521 => ecdsa_on!(p521::NistP521, point, digest, sig),
        Curve::Secp256k1 => ecdsa_on!(k256::Secp256k1, point, digest, sig),
        Curve::BrainpoolP256r1 => ecdsa_on!(bp256::BrainpoolP256r1, point, digest, sig),
        Curve::BrainpoolP384r1 => ecdsa_on!(bp384::BrainpoolP384r1, point, digest, sig),
    }
}

/// The INTEGERs in the content of a DER SEQUENCE (DSA's `Dss-Parms`), as big-endian bytes.
fn der_integers(mut content: &[u8]) -> Option<Vec<&[u8]>> {
    let mut integers = Vec::new();
    while !content.is_empty() {
        let (rest, integer) = x509_parser::der_parser::der::parse_der_integer(content).ok()?;
        integers.push(integer.as_slice().ok()?);
        content = rest;
    }
    Some(integers)
}

/// A DER INTEGER's bytes without the leading zeros that keep it positive.
fn unsigned(integer: &[u8]) -> &[u8] {
    let zeros = integer.iter().take_while(|&&b| b == 0).count();
    &integer[zeros..]
}

fn dsa(issuer: &SubjectPublicKeyInfo<'_>, digest: &[u8], sig: &[u8]) -> bool {
    // The dsa crate (crypto-bigint) asserts on operand widths; one such panic on unpadded
    // integers was seen. Hostile parameters must be a failed signature, never a crash.
    std::panic::catch_unwind(|| dsa_unguarded(issuer, digest, sig)).unwrap_or(false)
}

fn dsa_unguarded(issuer: &SubjectPublicKeyInfo<'_>, digest: &[u8], sig: &[u8]) -> bool {
    let Ok(PublicKey::DSA(y)) = issuer.parsed() else {
        return false;
    };
    let Some(params) = issuer.algorithm.parameters.as_ref() else {
        return false;
    };
    let Some(pqg) = der_integers(params.data) else {
        return false;
    };
    let [p, q, g] = pqg.as_slice() else {
        return false;
    };
    // crypto-bigint computes modulo p at p's width: g and y must not be wider.
    let (p, q, g, y) = (unsigned(p), unsigned(q), unsigned(g), unsigned(y));
    if g.len() > p.len() || y.len() > p.len() {
        return false;
    }
    let at_p = |b: &[u8]| {
        let mut wide = vec![0; p.len() - b.len()];
        wide.extend_from_slice(b);
        dsa::BoxedUint::from_be_slice_vartime(&wide)
    };
    let (g, y) = (at_p(g), at_p(y));
    let (p, q) = (at_p(p), dsa::BoxedUint::from_be_slice_vartime(q));
    // Unchecked: OpenSSL verifies with DSA keys of any size.
    let Ok(components) = dsa::Components::from_components_unchecked(p, q, g) else {
        return false;
    };
    let Ok(key) = dsa::VerifyingKey::from_components(components, y) else {
        return false;
    };
    let Ok(sig) = dsa::Signature::try_from(sig) else {
        return false;
    };
    key.verify_prehash(digest, &sig).is_ok()
}

fn ed448(issuer: &SubjectPublicKeyInfo<'_>, tbs: &[u8], sig: &[u8]) -> bool {
    let key = issuer.subject_public_key.data.as_ref();
    let Ok(key) = <&[u8; 57]>::try_from(key) else {
        return false;
    };
    let Ok(key) = ed448_goldilocks::VerifyingKey::from_bytes(key) else {
        return false;
    };
    let Ok(sig) = ed448_goldilocks::Signature::from_slice(sig) else {
        return false;
    };
    key.verify_raw(&sig, tbs).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(case: &str, file: &str) -> Vec<u8> {
        let path = format!("../testdata/verify-conformance/{case}/{file}");
        let pem = std::fs::read(path).unwrap();
        x509_parser::pem::parse_x509_pem(&pem).unwrap().1.contents
    }

    #[test]
    fn explicit_p256_parameters_are_recognised_as_p256() {
        let der = key_of("sig-ec-explicit-issuer", "chain.pem");
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert!(has_explicit_curve(cert.public_key()));
        assert_eq!(named_curve(cert.public_key()), Some(Curve::P256));
        assert_eq!(explicit_order_bits(cert.public_key()), Some(256));
    }

    #[test]
    fn dsa_sizes_are_read_from_the_parameters() {
        let der = key_of("sig-dsa-1024-sha1", "chain.pem");
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert_eq!(dsa_bits(cert.public_key()), Some((1024, 160)));
    }

    #[test]
    fn digest_info_prefixes_are_rfc_8017s() {
        let sha1 = [
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ];
        assert_eq!(Hash::Sha1.digest_info_prefix(20), sha1);
        let sha512 = [
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ];
        assert_eq!(Hash::Sha512.digest_info_prefix(64), sha512);
    }

    #[test]
    fn bit_lengths_ignore_the_sign_byte() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01, 0xff]), 9);
        assert_eq!(bit_length(&[]), 0);
    }

    #[test]
    fn a_named_curve_is_not_explicit() {
        let der = key_of("sig-ecdsa-p192-sha256", "chain.pem");
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert!(!has_explicit_curve(cert.public_key()));
        assert_eq!(named_curve(cert.public_key()), Some(Curve::P192));
    }
}
