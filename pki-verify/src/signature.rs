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
//!
//! This file dispatches on the algorithm; each family has a file of its own (`rsa`, `ec`, `dsa`;
//! the digests in `hash`, DER signatures and integers in `der`). README.md in this directory says
//! why this code exists and how it is checked.

mod curves;
mod der;
mod dsa;
mod ec;
mod ecgeneric;
mod hash;
mod rsa;
#[cfg(test)]
mod tests;

use pki_x509::oid;
use x509_parser::certificate::X509Certificate;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

use dsa::dsa;
use ec::{ecdsa, sm2};
use hash::Hash;
use rsa::{PssParams, pss_params, rsa_pkcs1, rsa_pss, rsa_pss_with};

pub(crate) use dsa::dsa_bits;
pub(crate) use ec::{ec_order_bits, explicit_order_bits, has_explicit_curve, public_key_decodes};

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
            oid::MD5_WITH_RSA_ENCRYPTION => Algorithm::RsaPkcs1(Md5),
            oid::SHA1_WITH_RSA_ENCRYPTION | oid::SHA1_WITH_RSA => Algorithm::RsaPkcs1(Sha1),
            oid::SHA224_WITH_RSA_ENCRYPTION => Algorithm::RsaPkcs1(Sha224),
            oid::SHA256_WITH_RSA_ENCRYPTION => Algorithm::RsaPkcs1(Sha256),
            oid::SHA384_WITH_RSA_ENCRYPTION => Algorithm::RsaPkcs1(Sha384),
            oid::SHA512_WITH_RSA_ENCRYPTION => Algorithm::RsaPkcs1(Sha512),
            oid::RSA_WITH_SHA3_224 => Algorithm::RsaPkcs1(Sha3_224),
            oid::RSA_WITH_SHA3_256 => Algorithm::RsaPkcs1(Sha3_256),
            oid::RSA_WITH_SHA3_384 => Algorithm::RsaPkcs1(Sha3_384),
            oid::RSA_WITH_SHA3_512 => Algorithm::RsaPkcs1(Sha3_512),
            oid::RSASSA_PSS => Algorithm::RsaPss,
            oid::ECDSA_WITH_SHA1 => Algorithm::Ecdsa(Sha1),
            oid::ECDSA_WITH_SHA224 => Algorithm::Ecdsa(Sha224),
            oid::ECDSA_WITH_SHA256 => Algorithm::Ecdsa(Sha256),
            oid::ECDSA_WITH_SHA384 => Algorithm::Ecdsa(Sha384),
            oid::ECDSA_WITH_SHA512 => Algorithm::Ecdsa(Sha512),
            oid::DSA_WITH_SHA1 => Algorithm::Dsa(Sha1),
            oid::DSA_WITH_SHA224 => Algorithm::Dsa(Sha224),
            oid::DSA_WITH_SHA256 => Algorithm::Dsa(Sha256),
            oid::SM2_WITH_SM3 => Algorithm::Sm2,
            oid::ED25519 => Algorithm::Ed25519,
            oid::ED448 => Algorithm::Ed448,
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
        None if oid == oid::MD4_WITH_RSA_ENCRYPTION => Some(64),
        None => None,
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
        Algorithm::RsaPkcs1(hash) => {
            key_type == oid::RSA_ENCRYPTION && rsa_pkcs1(issuer, hash, tbs, sig)
        }
        Algorithm::RsaPss => {
            (key_type == oid::RSA_ENCRYPTION || key_type == oid::RSASSA_PSS)
                && rsa_pss(alg, issuer, tbs, sig)
        }
        Algorithm::Ecdsa(hash) => {
            key_type == oid::EC_PUBLIC_KEY && ecdsa(issuer, &hash.digest(tbs), sig)
        }
        Algorithm::Dsa(hash) => key_type == oid::DSA && dsa(issuer, &hash.digest(tbs), sig),
        Algorithm::Sm2 => key_type == oid::EC_PUBLIC_KEY && sm2(issuer, tbs, sig),
        Algorithm::Ed25519 => {
            key_type == oid::ED25519
                && ring::signature::UnparsedPublicKey::new(
                    &ring::signature::ED25519,
                    issuer.subject_public_key.data.as_ref(),
                )
                .verify(tbs, sig)
                .is_ok()
        }
        Algorithm::Ed448 => key_type == oid::ED448 && ed448(issuer, tbs, sig),
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
        key_type == oid::RSASSA_PSS
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
        0x0808 => key_type == oid::ED448 && ed448(spki, message, sig),
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
    issuer.algorithm.algorithm.to_id_string() != oid::RSASSA_PSS
        && cert.verify_signature(Some(issuer)).is_ok()
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
