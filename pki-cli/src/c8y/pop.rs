//! Proof of possession for Cumulocity: the signature over the tenant's verification code.
//!
//! Cumulocity's own instructions (the trusted-certificate page of its UI) sign the code with
//! `openssl dgst -sha256 -sign KEY CODE_FILE | openssl base64 -A`, so the tenant verifies a
//! SHA-256 signature: ECDSA (ASN.1 DER, as OpenSSL writes it) for EC keys and PKCS#1 v1.5 for
//! RSA keys. ring signs both from the PKCS#8 key. ring cannot sign SHA-256 with a P-384 key
//! (only SHA-384), and `openssl dgst -sha256` refuses Ed25519 keys, so those are refused here
//! with the manual recipe rather than sending a signature the tenant would reject.

use anyhow::{Result, anyhow, bail};
use base64::Engine;
use pki_core::{KeyType, PrivateKey};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair};

/// Refuses, before anything is sent, a key whose signature the tenant could not check.
pub(crate) fn check_supported(key_type: KeyType, key: &str) -> Result<()> {
    match key_type {
        KeyType::EcP256 | KeyType::Rsa(_) => Ok(()),
        other => bail!(
            "cannot prove possession of {key} ({other}): Cumulocity checks a SHA-256 signature, \
             which pki signs with EC P-256 and RSA keys only; sign the code by hand with \
             `openssl dgst -sha256 -sign {key} code.txt | openssl base64 -A` in the tenant's \
             trusted-certificates page"
        ),
    }
}

/// Base64 (standard alphabet, no line breaks) of the SHA-256 signature over `code`'s bytes.
pub(crate) fn sign_code(key: &PrivateKey, code: &str, key_name: &str) -> Result<String> {
    check_supported(key.key_type(), key_name)?;
    let rng = SystemRandom::new();
    let der = key.pkcs8_der();
    let signature = match key.key_type() {
        KeyType::Rsa(_) => {
            let pair = RsaKeyPair::from_pkcs8(der)
                .map_err(|e| anyhow!("cannot sign with {key_name}: {e}"))?;
            let mut sig = vec![0; pair.public().modulus_len()];
            pair.sign(&RSA_PKCS1_SHA256, &rng, code.as_bytes(), &mut sig)
                .map_err(|_| anyhow!("cannot sign with {key_name}: ring refused the RSA key"))?;
            sig
        }
        _ => {
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der, &rng)
                .map_err(|e| anyhow!("cannot sign with {key_name}: {e}"))?;
            pair.sign(&rng, code.as_bytes())
                .map_err(|_| anyhow!("cannot sign with {key_name}: ring refused the EC key"))?
                .as_ref()
                .to_vec()
        }
    };
    Ok(base64::engine::general_purpose::STANDARD.encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use ring::signature::{ECDSA_P256_SHA256_ASN1, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    fn verify(key: &PrivateKey, alg: &'static dyn ring::signature::VerificationAlgorithm) {
        let b64 = sign_code(key, "c0de-1234", "k").unwrap();
        let sig = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let public = key.public_key_raw().unwrap();
        UnparsedPublicKey::new(alg, &public)
            .verify(b"c0de-1234", &sig)
            .unwrap();
        assert!(
            UnparsedPublicKey::new(alg, &public)
                .verify(b"c0de-1235", &sig)
                .is_err()
        );
    }

    #[test]
    fn p256_signs_ecdsa_sha256_der() {
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        verify(&key, &ECDSA_P256_SHA256_ASN1);
    }

    #[test]
    fn rsa_signs_pkcs1_sha256() {
        let key = PrivateKey::generate(KeyType::Rsa(2048)).unwrap();
        verify(&key, &RSA_PKCS1_2048_8192_SHA256);
    }

    #[test]
    fn p384_and_ed25519_are_refused_with_the_recipe() {
        for kt in [KeyType::EcP384, KeyType::Ed25519] {
            let err = check_supported(kt, "ca.key.pem").unwrap_err().to_string();
            assert!(
                err.contains("openssl dgst -sha256 -sign ca.key.pem"),
                "{err}"
            );
        }
    }
}
