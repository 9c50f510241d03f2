//! Proof of possession for Cumulocity: what signs the tenant's verification code ([`Signer`]),
//! and its implementation over a CA key held in memory ([`CaKey`]).
//!
//! Cumulocity's own instructions (the trusted-certificate page of its UI) sign the code with
//! `openssl dgst -sha256 -sign KEY CODE_FILE | openssl base64 -A`, so the tenant verifies a
//! SHA-256 signature: ECDSA (ASN.1 DER, as OpenSSL writes it) for EC keys and PKCS#1 v1.5 for
//! RSA keys. ring signs both from the PKCS#8 key. ring cannot sign SHA-256 with a P-384 key
//! (only SHA-384), and `openssl dgst -sha256` refuses Ed25519 keys, so those are refused here
//! with the manual recipe rather than sending a signature the tenant would reject.

use pki_core::{KeyType, PrivateKey};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair};

use crate::error::Error;

/// What signs a tenant's verification code: the private key of the certificate being proven,
/// wherever it is held.
pub trait Signer {
    /// The signature over `message` with SHA-256, as `openssl dgst -sha256 -sign KEY` writes it:
    /// ECDSA in ASN.1 DER for an EC key, PKCS#1 v1.5 for an RSA key.
    fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error>;
}

/// A CA's private key in memory, named (by its path) for messages: a [`Signer`] for EC P-256
/// and RSA keys.
#[derive(Debug)]
pub struct CaKey<'a> {
    key: &'a PrivateKey,
    name: String,
}

impl<'a> CaKey<'a> {
    /// `key`, named `name` in messages. Refuses, before anything is sent, a key whose signature
    /// the tenant could not check ([`Error::UnsupportedKey`], with the openssl recipe).
    pub fn new(key: &'a PrivateKey, name: &str) -> Result<Self, Error> {
        check_supported(key.key_type(), name)?;
        Ok(CaKey {
            key,
            name: name.to_owned(),
        })
    }
}

impl Signer for CaKey<'_> {
    fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        check_supported(self.key.key_type(), &self.name)?;
        let failed = |reason: String| Error::Sign {
            key: self.name.clone(),
            reason,
        };
        let rng = SystemRandom::new();
        let der = self.key.pkcs8_der();
        match self.key.key_type() {
            KeyType::Rsa(_) => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| failed(e.to_string()))?;
                let mut sig = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(|_| failed("ring refused the RSA key".into()))?;
                Ok(sig)
            }
            _ => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der, &rng)
                    .map_err(|e| failed(e.to_string()))?;
                Ok(pair
                    .sign(&rng, message)
                    .map_err(|_| failed("ring refused the EC key".into()))?
                    .as_ref()
                    .to_vec())
            }
        }
    }
}

/// Refuses a key whose signature the tenant could not check.
fn check_supported(key_type: KeyType, key: &str) -> Result<(), Error> {
    match key_type {
        KeyType::EcP256 | KeyType::Rsa(_) => Ok(()),
        other => Err(Error::UnsupportedKey {
            key: key.to_owned(),
            key_type: other,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_ASN1, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    fn verify(key: &PrivateKey, alg: &'static dyn ring::signature::VerificationAlgorithm) {
        let sig = CaKey::new(key, "k")
            .unwrap()
            .sign_sha256(b"c0de-1234")
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
            let err = check_supported(kt, "ca.key.pem").unwrap_err();
            assert!(matches!(err, Error::UnsupportedKey { .. }), "{err}");
            let err = err.to_string();
            assert!(
                err.contains("openssl dgst -sha256 -sign ca.key.pem"),
                "{err}"
            );
        }
    }
}
