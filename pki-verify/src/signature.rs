//! One certificate's signature checked with its issuer's key, as OpenSSL 3.0's `X509_verify`
//! checks it: every algorithm its default provider verifies, at any key size, and a failed
//! signature (OpenSSL's 7) for every algorithm it does not verify (MD2, MD4, an unknown OID).
//!
//! The backends, one per algorithm family: RustCrypto's `rsa` for RSA PKCS#1 v1.5 (any hash, any
//! key size, where ring stops below 2048 bits); `ecdsa` with `p192`, `p224`, `p256`, `p384`,
//! `p521`, `k256`, `bp256` and `bp384` for ECDSA on those curves; the generic verifier of
//! `ecgeneric` (over `num-bigint`) for ECDSA on every other curve OpenSSL names, prime or binary
//! field, or gives by explicit parameters, and for SM2; RSASSA-PSS and DSA as OpenSSL's
//! `RSA_verify_PKCS1_PSS_mgf1` and `ossl_dsa_do_verify` do them, on `num-bigint` (every
//! hash, MGF1 hash, salt length and key size, and no width assertion to panic on);
//! `ed448-goldilocks` for Ed448 and ring for Ed25519. The digests: `sha1`, `sha2`, `sha3`,
//! `md-5`, `sm3`. The security level of a key or a digest is judged elsewhere
//! (`openssl::check_auth_level`, with [`digest_security_bits`] and [`ec_order_bits`]): here a
//! signature is only right or wrong.

mod curves;
mod ecgeneric;

use ecdsa::signature::hazmat::PrehashVerifier as _;
use num_bigint::BigUint;
use num_traits::Zero as _;
use sha2::Digest as _;
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

/// The digests the signature algorithms below use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
    Sha3_224,
    Sha3_256,
    Sha3_384,
    Sha3_512,
    Sm3,
}

impl Hash {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Md5 => md5::Md5::digest(data).to_vec(),
            Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Hash::Sha224 => sha2::Sha224::digest(data).to_vec(),
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
            Hash::Sha512_224 => sha2::Sha512_224::digest(data).to_vec(),
            Hash::Sha512_256 => sha2::Sha512_256::digest(data).to_vec(),
            Hash::Sha3_224 => sha3::Sha3_224::digest(data).to_vec(),
            Hash::Sha3_256 => sha3::Sha3_256::digest(data).to_vec(),
            Hash::Sha3_384 => sha3::Sha3_384::digest(data).to_vec(),
            Hash::Sha3_512 => sha3::Sha3_512::digest(data).to_vec(),
            Hash::Sm3 => sm3::Sm3::digest(data).to_vec(),
        }
    }

    /// The hash's OBJECT IDENTIFIER, dotted.
    fn oid(self) -> &'static str {
        match self {
            Hash::Md5 => "1.2.840.113549.2.5",
            Hash::Sha1 => "1.3.14.3.2.26",
            Hash::Sha224 => "2.16.840.1.101.3.4.2.4",
            Hash::Sha256 => "2.16.840.1.101.3.4.2.1",
            Hash::Sha384 => "2.16.840.1.101.3.4.2.2",
            Hash::Sha512 => "2.16.840.1.101.3.4.2.3",
            Hash::Sha512_224 => "2.16.840.1.101.3.4.2.5",
            Hash::Sha512_256 => "2.16.840.1.101.3.4.2.6",
            Hash::Sha3_224 => "2.16.840.1.101.3.4.2.7",
            Hash::Sha3_256 => "2.16.840.1.101.3.4.2.8",
            Hash::Sha3_384 => "2.16.840.1.101.3.4.2.9",
            Hash::Sha3_512 => "2.16.840.1.101.3.4.2.10",
            Hash::Sm3 => "1.2.156.10197.1.401",
        }
    }

    fn of_oid(oid: &str) -> Option<Hash> {
        use Hash::*;
        [
            Md5, Sha1, Sha224, Sha256, Sha384, Sha512, Sha512_224, Sha512_256, Sha3_224, Sha3_256,
            Sha3_384, Sha3_512, Sm3,
        ]
        .into_iter()
        .find(|h| h.oid() == oid)
    }

    /// The DER of the hash's OBJECT IDENTIFIER, contents only.
    fn oid_der(self) -> Vec<u8> {
        let arcs: Vec<u64> = self
            .oid()
            .split('.')
            .filter_map(|a| a.parse().ok())
            .collect();
        let mut out = Vec::new();
        let (first, rest) = match arcs.as_slice() {
            [a, b, rest @ ..] => (a * 40 + b, rest),
            _ => return out,
        };
        for arc in std::iter::once(first).chain(rest.iter().copied()) {
            let mut groups = vec![u8::try_from(arc & 0x7f).unwrap_or(0)];
            let mut v = arc >> 7;
            while v > 0 {
                groups.push(u8::try_from(v & 0x7f).unwrap_or(0) | 0x80);
                v >>= 7;
            }
            out.extend(groups.iter().rev());
        }
        out
    }

    /// The DER of PKCS#1's DigestInfo up to the digest itself (RFC 8017, 9.2, note 1):
    /// SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING header }. Every length is below 128.
    fn digest_info_prefix(self, digest_len: u8) -> Vec<u8> {
        let oid = self.oid_der();
        let oid_len = u8::try_from(oid.len()).unwrap_or(u8::MAX);
        let mut algorithm = vec![0x30, oid_len + 4, 0x06, oid_len];
        algorithm.extend_from_slice(&oid);
        algorithm.extend_from_slice(&[0x05, 0x00]);
        let algorithm_len = u8::try_from(algorithm.len()).unwrap_or(u8::MAX);
        let mut prefix = vec![0x30, algorithm_len + 2 + digest_len];
        prefix.extend_from_slice(&algorithm);
        prefix.extend_from_slice(&[0x04, digest_len]);
        prefix
    }
}

/// A signature algorithm OpenSSL's default provider verifies: those its signature-OID table
/// (`OBJ_find_sigid_algs`, crypto/objects/obj_xref.txt) pairs with a digest and key type, and
/// whose digest the provider takes. OpenSSL 3.0's table lacks ECDSA and DSA with SHA-3, DSA with
/// SHA-384/512 and RSA with SHA-512/224 or SHA-512/256 (it can sign them, not verify them: an
/// issuer of such a certificate is not found, 20); its RSA takes no SM3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    RsaPkcs1(Hash),
    RsaPss,
    Ecdsa(Hash),
    Dsa(Hash),
    Sm2,
    Ed25519,
    Ed448,
}

impl Algorithm {
    fn of(oid: &str) -> Option<Self> {
        use Hash::*;
        Some(match oid {
            "1.2.840.113549.1.1.4" => Algorithm::RsaPkcs1(Md5),
            "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => Algorithm::RsaPkcs1(Sha1),
            "1.2.840.113549.1.1.14" => Algorithm::RsaPkcs1(Sha224),
            "1.2.840.113549.1.1.11" => Algorithm::RsaPkcs1(Sha256),
            "1.2.840.113549.1.1.12" => Algorithm::RsaPkcs1(Sha384),
            "1.2.840.113549.1.1.13" => Algorithm::RsaPkcs1(Sha512),
            "2.16.840.1.101.3.4.3.13" => Algorithm::RsaPkcs1(Sha3_224),
            "2.16.840.1.101.3.4.3.14" => Algorithm::RsaPkcs1(Sha3_256),
            "2.16.840.1.101.3.4.3.15" => Algorithm::RsaPkcs1(Sha3_384),
            "2.16.840.1.101.3.4.3.16" => Algorithm::RsaPkcs1(Sha3_512),
            "1.2.840.113549.1.1.10" => Algorithm::RsaPss,
            "1.2.840.10045.4.1" => Algorithm::Ecdsa(Sha1),
            "1.2.840.10045.4.3.1" => Algorithm::Ecdsa(Sha224),
            "1.2.840.10045.4.3.2" => Algorithm::Ecdsa(Sha256),
            "1.2.840.10045.4.3.3" => Algorithm::Ecdsa(Sha384),
            "1.2.840.10045.4.3.4" => Algorithm::Ecdsa(Sha512),
            "1.2.840.10040.4.3" => Algorithm::Dsa(Sha1),
            "2.16.840.1.101.3.4.3.1" => Algorithm::Dsa(Sha224),
            "2.16.840.1.101.3.4.3.2" => Algorithm::Dsa(Sha256),
            "1.2.156.10197.1.501" => Algorithm::Sm2,
            "1.3.101.112" => Algorithm::Ed25519,
            "1.3.101.113" => Algorithm::Ed448,
            _ => return None,
        })
    }
}

/// The security bits OpenSSL 3.0 gives a signature algorithm (`x509_sig_info_init` and the
/// key types' `siginf_set`): half the digest's bits, 63 for SHA-1, 39 for MD5, 64 for MD4, the
/// PSS hash's for RSASSA-PSS, 128 and 224 for Ed25519 and Ed448. `None` where OpenSSL has no
/// signature information (an unknown OID, MD2, PSS parameters it cannot read), which
/// `check_sig_level` counts as too weak at every level.
pub(crate) fn digest_security_bits(alg: &AlgorithmIdentifier<'_>) -> Option<u32> {
    let oid = alg.algorithm.to_id_string();
    let hash_bits = |hash: Hash| match hash {
        Hash::Md5 => 39,
        Hash::Sha1 => 63,
        h => u32::try_from(h.digest(b"").len() * 4).unwrap_or(0),
    };
    match Algorithm::of(&oid) {
        Some(Algorithm::RsaPkcs1(h) | Algorithm::Ecdsa(h) | Algorithm::Dsa(h)) => {
            Some(hash_bits(h))
        }
        Some(Algorithm::Sm2) => Some(hash_bits(Hash::Sm3)),
        Some(Algorithm::Ed25519) => Some(128),
        Some(Algorithm::Ed448) => Some(224),
        Some(Algorithm::RsaPss) => pss_params(alg).map(|p| hash_bits(p.hash)),
        // md4WithRSAEncryption: OpenSSL still knows MD4's size (16 bytes), though its default
        // provider cannot verify with it.
        None if oid == "1.2.840.113549.1.1.3" => Some(64),
        None => None,
    }
}

/// The parameters of an RSASSA-PSS signature as OpenSSL reads them (`ossl_rsa_pss_get_param`):
/// absent parameters, a mask other than MGF1, a negative salt length or a trailer field other
/// than 1 are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PssParams {
    hash: Hash,
    mgf1_hash: Hash,
    salt_len: usize,
}

const MGF1_OID: &str = "1.2.840.113549.1.1.8";

fn pss_params(alg: &AlgorithmIdentifier<'_>) -> Option<PssParams> {
    let params = alg.parameters.as_ref()?;
    if params.tag() != Tag::Sequence {
        return None;
    }
    let pss = x509_parser::signature_algorithm::RsaSsaPssParams::try_from(params).ok()?;
    let hash = Hash::of_oid(&pss.hash_algorithm_oid().to_id_string())?;
    let mgf = pss.mask_gen_algorithm().ok()?;
    if mgf.mgf.to_id_string() != MGF1_OID || pss.trailer_field() != 1 {
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

/// `X509_verify(cert, issuer's key)` for the signature of `cert`: `true` when the issuer's key
/// verifies it; `false` when it does not, when the key or signature cannot be decoded, or when
/// OpenSSL's default provider cannot verify the algorithm (MD2, MD4, an unknown OID: it reports a
/// signature failure, 7, for those too). The caller has compared the outer and inner signature
/// algorithms.
pub(crate) fn check(cert: &X509Certificate<'_>, issuer: &SubjectPublicKeyInfo<'_>) -> bool {
    let alg = &cert.signature_algorithm;
    let tbs = cert.tbs_certificate.as_ref();
    let sig = cert.signature_value.data.as_ref();
    check_parts(alg, tbs, sig, issuer)
}

/// `X509_CRL_verify(crl, issuer's key)` for the signature of a CRL, as [`check`] for a
/// certificate. The caller has compared the outer and inner signature algorithms.
pub(crate) fn check_crl(
    crl: &x509_parser::revocation_list::CertificateRevocationList<'_>,
    issuer: &SubjectPublicKeyInfo<'_>,
) -> bool {
    let tbs = crl.tbs_cert_list.as_ref();
    check_parts(
        &crl.signature_algorithm,
        tbs,
        crl.signature_value.data.as_ref(),
        issuer,
    )
}

/// The key type OpenSSL's `EVP_PKEY_is_a` must find for each family (`ASN1_item_verify_ctx`).
const RSA_KEY: &str = "1.2.840.113549.1.1.1";
const RSA_PSS_KEY: &str = "1.2.840.113549.1.1.10";
const EC_KEY: &str = "1.2.840.10045.2.1";
const DSA_KEY: &str = "1.2.840.10040.4.1";
/// The SM2 curve: a key on it is an SM2 key to OpenSSL, never an ECDSA one.
const SM2_CURVE: &str = "1.2.156.10197.1.301";

/// [`check`] on the parts of a certificate: its signature algorithm, the signed bytes and the
/// signature.
fn check_parts(
    alg: &AlgorithmIdentifier<'_>,
    tbs: &[u8],
    sig: &[u8],
    issuer: &SubjectPublicKeyInfo<'_>,
) -> bool {
    let Some(algorithm) = Algorithm::of(&alg.algorithm.to_id_string()) else {
        // MD2, MD4 (legacy provider only) and unknown OIDs: OpenSSL cannot verify, 7.
        return false;
    };
    let key_type = issuer.algorithm.algorithm.to_id_string();
    match algorithm {
        Algorithm::RsaPkcs1(hash) => key_type == RSA_KEY && rsa_pkcs1(issuer, hash, tbs, sig),
        Algorithm::RsaPss => {
            (key_type == RSA_KEY || key_type == RSA_PSS_KEY) && rsa_pss(alg, issuer, tbs, sig)
        }
        Algorithm::Ecdsa(hash) => key_type == EC_KEY && ecdsa(issuer, &hash.digest(tbs), sig),
        Algorithm::Dsa(hash) => key_type == DSA_KEY && dsa(issuer, &hash.digest(tbs), sig),
        Algorithm::Sm2 => key_type == EC_KEY && sm2(issuer, tbs, sig),
        Algorithm::Ed25519 => {
            key_type == "1.3.101.112"
                && ring::signature::UnparsedPublicKey::new(
                    &ring::signature::ED25519,
                    issuer.subject_public_key.data.as_ref(),
                )
                .verify(tbs, sig)
                .is_ok()
        }
        Algorithm::Ed448 => key_type == "1.3.101.113" && ed448(issuer, tbs, sig),
    }
}

/// A TLS 1.3 CertificateVerify signature in a scheme rustls does not verify but OpenSSL servers
/// use: ed448 (0x0808) and rsa_pss_pss_sha256/384/512 (0x0809-0x080b, RSA-PSS with an rsassaPss
/// key, the salt as long as the hash; RFC 8446, 4.2.3). `None` for any other scheme. The
/// server's key is `spki`, the signed content `message`.
pub(crate) fn tls13_handshake(
    scheme: u16,
    spki: &SubjectPublicKeyInfo<'_>,
    message: &[u8],
    sig: &[u8],
) -> Option<bool> {
    let key_type = spki.algorithm.algorithm.to_id_string();
    let pss = |hash: Hash| {
        key_type == RSA_PSS_KEY
            && rsa_pss_with(
                PssParams {
                    hash,
                    mgf1_hash: hash,
                    salt_len: hash.digest(b"").len(),
                },
                spki,
                message,
                sig,
            )
    };
    Some(match scheme {
        0x0808 => key_type == "1.3.101.113" && ed448(spki, message, sig),
        0x0809 => pss(Hash::Sha256),
        0x080a => pss(Hash::Sha384),
        0x080b => pss(Hash::Sha512),
        _ => return None,
    })
}

/// The TLS 1.3 signature schemes [`tls13_handshake`] verifies.
pub(crate) const TLS13_EXTRA_SCHEMES: [u16; 4] = [0x0808, 0x0809, 0x080a, 0x080b];

/// [`check`] on DER: a certificate and its issuer's SubjectPublicKeyInfo. `None` when either
/// does not parse. For the fuzz target `signature` (fuzz/harness/verify.rs).
#[doc(hidden)]
pub fn check_der(cert: &[u8], issuer_spki: &[u8]) -> Option<bool> {
    use x509_parser::prelude::FromDer as _;
    let (_, cert) = x509_parser::parse_x509_certificate(cert).ok()?;
    let (_, spki) = SubjectPublicKeyInfo::from_der(issuer_spki).ok()?;
    Some(check(&cert, &spki))
}

/// [`check`] on its parts: the signature algorithm (DER AlgorithmIdentifier), the signed bytes,
/// the signature and the issuer's SubjectPublicKeyInfo. `None` when a DER part does not parse.
/// For the fuzz target `signature`'s mutated-parameter mode.
#[doc(hidden)]
pub fn check_parts_der(alg: &[u8], tbs: &[u8], sig: &[u8], issuer_spki: &[u8]) -> Option<bool> {
    use x509_parser::prelude::FromDer as _;
    let (_, alg) = AlgorithmIdentifier::from_der(alg).ok()?;
    let (_, spki) = SubjectPublicKeyInfo::from_der(issuer_spki).ok()?;
    Some(check_parts(&alg, tbs, sig, &spki))
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

fn ecdsa_rustcrypto(curve: Curve, point: &[u8], digest: &[u8], sig: &[u8]) -> bool {
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
fn ec_group(spki: &SubjectPublicKeyInfo<'_>) -> Option<ecgeneric::Group> {
    let params = spki.algorithm.parameters.as_ref()?;
    if params.tag() == Tag::Oid {
        return ecgeneric::Group::named(&params.as_oid().ok()?.to_id_string());
    }
    ecgeneric::Group::from_fields(&explicit_fields(spki)?)
}

/// Whether an EC key is on SM2's named curve.
fn on_sm2_curve(spki: &SubjectPublicKeyInfo<'_>) -> bool {
    spki.algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .is_some_and(|oid| oid.to_id_string() == SM2_CURVE)
}

/// ECDSA with the issuer's EC key: RustCrypto on the curves it serves, the generic verifier on
/// every other.
fn ecdsa(issuer: &SubjectPublicKeyInfo<'_>, digest: &[u8], sig: &[u8]) -> bool {
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
fn sm2(issuer: &SubjectPublicKeyInfo<'_>, tbs: &[u8], sig: &[u8]) -> bool {
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
    if spki.algorithm.algorithm.to_id_string() != EC_KEY {
        return true;
    }
    let point = spki.subject_public_key.data.as_ref();
    if let Some(curve) = named_curve(spki) {
        return curve_point_decodes(curve, point);
    }
    ec_group(spki).is_some_and(|group| group.point_decodes(point))
}

fn curve_point_decodes(curve: Curve, point: &[u8]) -> bool {
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

/// `r` and `s` of a DER `ECDSA-Sig-Value`/`Dss-Sig-Value`, which must be exactly DER (OpenSSL
/// re-encodes what it decoded and compares) with both integers non-negative.
fn der_signature(sig: &[u8]) -> Option<(BigUint, BigUint)> {
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
        body.push(0x02);
        der_length(&mut body, b.len());
        body.extend_from_slice(b);
    }
    let mut der = vec![0x30];
    der_length(&mut der, body.len());
    der.extend_from_slice(&body);
    (der == sig).then_some((r_int, s_int))
}

fn der_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
        return;
    }
    let bytes: Vec<u8> = len
        .to_be_bytes()
        .into_iter()
        .skip_while(|&b| b == 0)
        .collect();
    out.push(0x80 | u8::try_from(bytes.len()).unwrap_or(0));
    out.extend_from_slice(&bytes);
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

/// DSA as OpenSSL's `ossl_dsa_do_verify` checks it: q of 160, 224 or 256 bits, p of at most
/// 10,000 bits and odd, `r` and `s` in `[1, q-1]`, the digest cut to q's bytes, and
/// `(g^u1 y^u2 mod p) mod q == r`.
fn dsa(issuer: &SubjectPublicKeyInfo<'_>, digest: &[u8], sig: &[u8]) -> bool {
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

/// The RSA public operation `s^e mod n` as OpenSSL's `rsa_ossl_public_decrypt` allows it
/// (modulus of at most 16,384 bits, odd, above `e`; `e` of at most 64 bits above 3,072-bit
/// moduli; `s` below `n`), left-padded to the modulus's length.
fn rsa_public(modulus: &[u8], exponent: &[u8], sig: &[u8]) -> Option<Vec<u8>> {
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
fn mgf1(hash: Hash, seed: &[u8], len: usize) -> Vec<u8> {
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
fn rsa_pss(
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
fn rsa_pss_with(
    params: PssParams,
    issuer: &SubjectPublicKeyInfo<'_>,
    tbs: &[u8],
    sig: &[u8],
) -> bool {
    use x509_parser::prelude::FromDer as _;
    if let Some(key_params) = issuer.algorithm.parameters.as_ref()
        && issuer.algorithm.algorithm.to_id_string() == RSA_PSS_KEY
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
fn emsa_pss_verify(em: &[u8], modulus: &[u8], m_hash: &[u8], params: PssParams) -> bool {
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
#[allow(clippy::disallowed_methods)] // openssl, the oracle, run directly
mod tests {
    use super::*;

    /// `openssl pkeyutl -sign` of `message` with the case's leaf key and `opts`.
    #[cfg(unix)]
    fn openssl_sign(case: &str, message: &[u8], opts: &[&str]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let msg = dir.path().join("msg");
        std::fs::write(&msg, message).unwrap();
        let key = format!("../testdata/verify-conformance/{case}/leaf.key.pem");
        let out = std::process::Command::new("openssl")
            .args(["pkeyutl", "-sign", "-inkey", &key, "-in"])
            .arg(&msg)
            .args(opts)
            .output()
            .expect("openssl signs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    #[test]
    #[cfg(unix)] // it runs the openssl command, which a Windows test run does not have
    fn tls13_signatures_rustls_cannot_check_are_checked_as_openssl_made_them() {
        let message = b"TLS 1.3, server CertificateVerify\x00 transcript hash";
        for (case, scheme, opts) in [
            ("sig-ed448-leaf-key", 0x0808, &["-rawin"][..]),
            (
                "sig-rsa-pss-leaf-key",
                0x0809,
                &[
                    "-rawin",
                    "-digest",
                    "sha256",
                    "-pkeyopt",
                    "rsa_padding_mode:pss",
                    "-pkeyopt",
                    "rsa_pss_saltlen:digest",
                ][..],
            ),
        ] {
            let sig = openssl_sign(case, message, opts);
            let der = key_of(case, "leaf.pem");
            let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
            let spki = cert.public_key();
            assert_eq!(
                tls13_handshake(scheme, spki, message, &sig),
                Some(true),
                "{case}"
            );
            let mut bad = sig.clone();
            bad[7] ^= 1;
            assert_eq!(
                tls13_handshake(scheme, spki, message, &bad),
                Some(false),
                "{case}"
            );
            assert_eq!(
                tls13_handshake(scheme, spki, b"another", &sig),
                Some(false),
                "{case}"
            );
        }
        let der = key_of("sig-ed448-leaf-key", "leaf.pem");
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert_eq!(tls13_handshake(0x0804, cert.public_key(), b"", b""), None);
    }

    fn key_of(case: &str, file: &str) -> Vec<u8> {
        let path = format!("../testdata/verify-conformance/{case}/{file}");
        let pem = std::fs::read(path).unwrap();
        x509_parser::pem::parse_x509_pem(&pem).unwrap().1.contents
    }

    /// The leaf of a case and its intermediate's key (the first certificate of chain.pem).
    fn leaf_and_issuer(case: &str) -> (Vec<u8>, Vec<u8>) {
        (key_of(case, "leaf.pem"), key_of(case, "chain.pem"))
    }

    /// Whether the intermediate's key verifies the leaf's signature (made by openssl or
    /// Python's cryptography), and no longer does when one signed byte changes.
    fn verifies_and_detects_a_change(case: &str) {
        let (leaf, issuer) = leaf_and_issuer(case);
        let (_, issuer) = x509_parser::parse_x509_certificate(&issuer).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&leaf).unwrap();
        assert!(
            check(&cert, issuer.public_key()),
            "{case}: a good signature fails"
        );
        let tbs = cert.tbs_certificate.as_ref();
        let mut changed = tbs.to_vec();
        let last = changed.len() - 1;
        changed[last] ^= 1;
        let sig = cert.signature_value.data.as_ref();
        let alg = &cert.signature_algorithm;
        assert!(
            !check_parts(alg, &changed, sig, issuer.public_key()),
            "{case}: a changed certificate verifies"
        );
    }

    #[test]
    fn the_generic_verifier_agrees_with_openssl_on_a_prime_field_curve() {
        verifies_and_detects_a_change("sig-ecdsa-secp160r1");
        verifies_and_detects_a_change("sig-ecdsa-prime239v1");
        verifies_and_detects_a_change("sig-ecdsa-brainpoolp512r1-sha512");
        verifies_and_detects_a_change("sig-ecdsa-brainpoolp320t1");
    }

    #[test]
    fn the_generic_verifier_agrees_with_openssl_on_binary_field_curves() {
        // Trinomial, pentanomial and an even degree (176).
        verifies_and_detects_a_change("sig-ecdsa-sect233k1");
        verifies_and_detects_a_change("sig-ecdsa-sect163r2");
        verifies_and_detects_a_change("sig-ecdsa-c2pnb176v1");
    }

    #[test]
    fn the_generic_verifier_agrees_with_openssl_on_explicit_parameters() {
        verifies_and_detects_a_change("sig-ec-explicit-unnamed");
        verifies_and_detects_a_change("sig-ec-explicit-binary");
    }

    #[test]
    fn sm2_pss_md5_sha3_and_dsa_agree_with_openssl() {
        for case in [
            "sig-sm2",
            "sig-rsa-pss-1024",
            "sig-rsa-pss-sha1-salt20",
            "sig-rsa-pss-sha256-salt0",
            "sig-rsa-pss-mgf-sha1",
            "sig-rsa-pss-spki",
            "sig-rsa-md5",
            "sig-rsa-sha3-256",
            "sig-dsa-2048-sha256",
        ] {
            verifies_and_detects_a_change(case);
        }
    }

    #[test]
    fn what_openssl_cannot_verify_is_a_failed_signature() {
        for case in [
            "sig-rsa-md4",
            "sig-unknown-oid",
            "sig-ecdsa-sha3-384",
            "sig-dsa-sha512",
        ] {
            let (leaf, issuer) = leaf_and_issuer(case);
            let (_, issuer) = x509_parser::parse_x509_certificate(&issuer).unwrap();
            let (_, cert) = x509_parser::parse_x509_certificate(&leaf).unwrap();
            assert!(!check(&cert, issuer.public_key()), "{case}");
        }
    }

    #[test]
    fn ecdsa_signatures_must_be_exactly_der() {
        assert!(der_signature(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]).is_some());
        // A needless leading zero, a negative r, trailing bytes.
        assert!(der_signature(&[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02]).is_none());
        assert!(der_signature(&[0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x02]).is_none());
        assert!(der_signature(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00]).is_none());
    }

    #[test]
    fn digest_security_bits_follow_openssl() {
        let bits = |case: &str| {
            let der = key_of(case, "leaf.pem");
            let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
            digest_security_bits(&cert.signature_algorithm)
        };
        assert_eq!(bits("sig-rsa-md5"), Some(39));
        assert_eq!(bits("sig-rsa-md4"), Some(64));
        assert_eq!(bits("sig-rsa-pss-sha1-salt20"), Some(63));
        assert_eq!(bits("sig-rsa-pss-spki"), Some(256));
        assert_eq!(bits("sig-rsa-sha3-256"), Some(128));
        assert_eq!(bits("sig-sm2"), Some(128));
        assert_eq!(bits("sig-unknown-oid"), None);
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
