//! ECDSA and SM2: the named curves RustCrypto serves, the generic verifier (`ecgeneric`) for every
//! other curve OpenSSL names or a key gives by explicit parameters, and whether OpenSSL can decode
//! an EC key at all.

use ecdsa::signature::hazmat::PrehashVerifier as _;
use num_bigint::BigUint;
use pki_x509::oid;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::der::{bit_length, der_signature, unsigned};
use super::ecgeneric;
use super::hash::Hash;

/// The named curves ECDSA is checked on, by OID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Curve {
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
    pub(super) fn of(oid: &str) -> Option<Self> {
        Some(match oid {
            oid::PRIME192V1 => Curve::P192,
            oid::SECP224R1 => Curve::P224,
            oid::PRIME256V1 => Curve::P256,
            oid::SECP384R1 => Curve::P384,
            oid::SECP521R1 => Curve::P521,
            oid::SECP256K1 => Curve::Secp256k1,
            oid::BRAINPOOL_P256R1 => Curve::BrainpoolP256r1,
            oid::BRAINPOOL_P384R1 => Curve::BrainpoolP384r1,
            _ => return None,
        })
    }
}

/// The curve of an EC key: given by name, or by explicit parameters whose generator and order
/// are those of a named curve (OpenSSL matches explicit parameters to its built-in curves too).
pub(super) fn named_curve(spki: &SubjectPublicKeyInfo<'_>) -> Option<Curve> {
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

pub(super) fn curve_has(curve: Curve, base: &[u8], order: &[u8]) -> bool {
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

/// The fields of an explicit `ECParameters` (the content of its SEQUENCE).
pub(super) fn explicit_fields<'a>(
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
/// Whether a key is an EC key with explicit curve parameters (OpenSSL's `check_curve` is 0).
pub(crate) fn has_explicit_curve(spki: &SubjectPublicKeyInfo<'_>) -> bool {
    spki.algorithm.algorithm.to_id_string() == oid::EC_PUBLIC_KEY
        && spki
            .algorithm
            .parameters
            .as_ref()
            .is_some_and(|p| p.tag() == Tag::Sequence)
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

pub(super) fn ecdsa_rustcrypto(curve: Curve, point: &[u8], digest: &[u8], sig: &[u8]) -> bool {
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

/// The curve of an EC key for the generic verifier: named (any curve OpenSSL names, but SM2's,
/// whose keys are SM2 keys to OpenSSL) or explicit.
pub(super) fn ec_group(spki: &SubjectPublicKeyInfo<'_>) -> Option<ecgeneric::Group> {
    let params = spki.algorithm.parameters.as_ref()?;
    if params.tag() == Tag::Oid {
        return ecgeneric::Group::named(&params.as_oid().ok()?.to_id_string());
    }
    ecgeneric::Group::from_fields(&explicit_fields(spki)?)
}

/// Whether an EC key is on SM2's named curve.
pub(super) fn on_sm2_curve(spki: &SubjectPublicKeyInfo<'_>) -> bool {
    spki.algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .is_some_and(|oid| oid.to_id_string() == oid::SM2)
}

/// ECDSA with the issuer's EC key: RustCrypto on the curves it serves, the generic verifier on
/// every other.
pub(super) fn ecdsa(issuer: &SubjectPublicKeyInfo<'_>, digest: &[u8], sig: &[u8]) -> bool {
    if on_sm2_curve(issuer) {
        return false;
    }
    let point = issuer.subject_public_key.data.as_ref();
    if let Some(curve) = named_curve(issuer) {
        return ecdsa_rustcrypto(curve, point, digest, sig);
    }
    let (Some(group), Some((r, s))) = (ec_group(issuer), der_signature(sig)) else {
        return false;
    };
    group.verify_ecdsa(point, digest, &r, &s)
}

/// SM2 with SM3 and OpenSSL's default distinguishing ID, which is empty (`X509_verify` sets
/// none): only a key on the SM2 curve verifies it.
pub(super) fn sm2(issuer: &SubjectPublicKeyInfo<'_>, tbs: &[u8], sig: &[u8]) -> bool {
    if !on_sm2_curve(issuer) {
        return false;
    }
    let point = issuer.subject_public_key.data.as_ref();
    let (Some(group), Some((r, s))) = (ec_group(issuer), der_signature(sig)) else {
        return false;
    };
    let Some(z_input) = group.sm2_z_input(b"", point) else {
        return false;
    };
    let z = Hash::Sm3.digest(&z_input);
    let mut message = z;
    message.extend_from_slice(tbs);
    let e = BigUint::from_bytes_be(&Hash::Sm3.digest(&message));
    group.verify_sm2(point, &e, &r, &s)
}
/// Whether OpenSSL can decode a key (`X509_get0_pubkey` is not NULL). An EC key's point must be
/// on its curve and not the point at infinity, its parameters a curve OpenSSL names or valid
/// explicit ones; other key types are taken as decodable.
pub(crate) fn public_key_decodes(spki: &SubjectPublicKeyInfo<'_>) -> bool {
    if spki.algorithm.algorithm.to_id_string() != oid::EC_PUBLIC_KEY {
        return true;
    }
    let point = spki.subject_public_key.data.as_ref();
    if let Some(curve) = named_curve(spki) {
        return curve_point_decodes(curve, point);
    }
    ec_group(spki).is_some_and(|group| group.point_decodes(point))
}

pub(super) fn curve_point_decodes(curve: Curve, point: &[u8]) -> bool {
    match curve {
        Curve::P192 => ecdsa::VerifyingKey::<p192::NistP192>::from_sec1_bytes(point).is_ok(),
        Curve::P224 => ecdsa::VerifyingKey::<p224::NistP224>::from_sec1_bytes(point).is_ok(),
        Curve::P256 => ecdsa::VerifyingKey::<p256::NistP256>::from_sec1_bytes(point).is_ok(),
        Curve::P384 => ecdsa::VerifyingKey::<p384::NistP384>::from_sec1_bytes(point).is_ok(),
        Curve::P521 => ecdsa::VerifyingKey::<p521::NistP521>::from_sec1_bytes(point).is_ok(),
        Curve::Secp256k1 => ecdsa::VerifyingKey::<k256::Secp256k1>::from_sec1_bytes(point).is_ok(),
        Curve::BrainpoolP256r1 => {
            ecdsa::VerifyingKey::<bp256::BrainpoolP256r1>::from_sec1_bytes(point).is_ok()
        }
        Curve::BrainpoolP384r1 => {
            ecdsa::VerifyingKey::<bp384::BrainpoolP384r1>::from_sec1_bytes(point).is_ok()
        }
    }
}

/// The bit length of the group order of a named EC curve (any OpenSSL names), by OID.
pub(crate) fn ec_order_bits(curve_oid: &str) -> Option<u32> {
    let group = ecgeneric::Group::named(curve_oid)?;
    u32::try_from(group.order_bits()).ok()
}
