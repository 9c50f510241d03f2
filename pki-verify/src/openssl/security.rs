//! Security bits as OpenSSL 3.0 counts them, for `-auth_level`: of a key (RSA, EC, DSA,
//! EdDSA) and of a signature's digest.

use pki_x509::oid;

use crate::chain::Cert;

/// Minimum security bits per auth level 1..=5.
const MIN_BITS: [u32; 5] = [80, 112, 128, 192, 256];

pub(super) fn min_bits(level: u8) -> Option<u32> {
    match level {
        0 => None,
        l => Some(MIN_BITS[usize::from(l.min(5)) - 1]),
    }
}

/// `EVP_PKEY_get_security_bits` of a certificate's key; `None` when unknown (treated as strong).
pub(super) fn key_security_bits(cert: &Cert<'_>) -> Option<u32> {
    use x509_parser::public_key::PublicKey;
    let spki = cert.x509.public_key();
    // `check_key_level` fails a key that does not decode (`X509_get0_pubkey` is NULL).
    if !crate::signature::public_key_decodes(spki) {
        return Some(0);
    }
    match spki.parsed().ok()? {
        PublicKey::RSA(rsa) => Some(rsa_security_bits(u32::try_from(rsa.key_size()).ok()?)),
        PublicKey::EC(_) if crate::signature::has_explicit_curve(spki) => {
            crate::signature::explicit_order_bits(spki).map(ec_security_bits)
        }
        PublicKey::DSA(_) => {
            let (l, n) = crate::signature::dsa_bits(spki)?;
            Some(ffc_security_bits(l, n))
        }
        PublicKey::EC(_) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()?
                .as_oid()
                .ok()?
                .to_id_string();
            crate::signature::ec_order_bits(&curve).map(ec_security_bits)
        }
        _ => match spki.algorithm.algorithm.to_id_string().as_str() {
            // An rsassaPss key: RSA's bits (its BIT STRING is an RSAPublicKey).
            oid::RSASSA_PSS => {
                use x509_parser::prelude::FromDer as _;
                let data = spki.subject_public_key.data.as_ref();
                let (_, rsa) = x509_parser::public_key::RSAPublicKey::from_der(data).ok()?;
                Some(rsa_security_bits(u32::try_from(rsa.key_size()).ok()?))
            }
            oid::ED25519 => Some(128),
            oid::ED448 => Some(224),
            _ => None,
        },
    }
}

/// `RSA_security_bits` of a modulus of `bits` bits (`BN_security_bits(bits, -1)`).
fn rsa_security_bits(bits: u32) -> u32 {
    match bits {
        b if b >= 15360 => 256,
        b if b >= 7680 => 192,
        b if b >= 3072 => 128,
        b if b >= 2048 => 112,
        b if b >= 1024 => 80,
        _ => 0,
    }
}

/// `EVP_PKEY_get_security_bits` of an EC key whose group order has `order_bits` bits.
fn ec_security_bits(order_bits: u32) -> u32 {
    match order_bits {
        b if b >= 512 => 256,
        b if b >= 384 => 192,
        b if b >= 256 => 128,
        b if b >= 224 => 112,
        b if b >= 160 => 80,
        b => b / 2,
    }
}

/// `BN_security_bits(L, N)`: a DSA key with an `l`-bit prime and an `n`-bit subgroup order.
fn ffc_security_bits(l: u32, n: u32) -> u32 {
    match (rsa_security_bits(l), n / 2) {
        (0, _) => 0,
        (_, half) if half < 80 => 0,
        (bits, half) => bits.min(half),
    }
}

/// The security bits OpenSSL 3.0 assigns to a certificate's signature (`x509_sig_info_init`);
/// `None` where it has no signature information, which `check_sig_level` counts as too weak.
pub(super) fn signature_security_bits(cert: &Cert<'_>) -> Option<u32> {
    crate::signature::digest_security_bits(&cert.x509.signature_algorithm)
}
