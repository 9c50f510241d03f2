//! Signing keys wherever they are kept: [`CaSigner`] is what issuing asks of a key (its type,
//! its public half, a signature), so that a key in a file and a key on a PKCS#11 token (the
//! `pki-pkcs11` crate) take the same path through `issue`, `csr`, CRLs and the batch.

use rcgen::SigningKey;

use crate::error::{Error, Result};
use crate::key::{KeyType, PrivateKey};

/// A private key that signs: held in memory ([`PrivateKey`]) or kept on a token that signs on
/// request and never shows the key.
pub trait CaSigner: Send + Sync {
    /// The key's type: it decides the signature algorithm (ECDSA with the curve's hash, RSA
    /// PKCS#1 v1.5 with SHA-256, Ed25519).
    fn key_type(&self) -> KeyType;

    /// The raw public key (the contents of the SubjectPublicKeyInfo's BIT STRING).
    fn public_key_raw(&self) -> Result<Vec<u8>>;

    /// Signs `message` with the key type's algorithm, returning the signature as X.509 carries
    /// it: a DER `ECDSA-Sig-Value`, the PKCS#1 v1.5 signature bytes, or Ed25519's 64 bytes.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;

    /// Signs `message` with RSASSA-PSS, SHA-256, MGF1 with SHA-256 and a 32-byte salt: what TLS
    /// 1.3 asks of an RSA key that proves a client certificate (it allows no PKCS#1 v1.5 there).
    /// Certificates never need it; a signer that cannot do it (the default) says so.
    fn sign_rsa_pss_sha256(&self, _message: &[u8]) -> Result<Vec<u8>> {
        Err(Error::Sign(format!(
            "this {:?} key cannot sign with RSA-PSS",
            self.key_type()
        )))
    }
}

impl CaSigner for PrivateKey {
    fn key_type(&self) -> KeyType {
        PrivateKey::key_type(self)
    }

    fn public_key_raw(&self) -> Result<Vec<u8>> {
        PrivateKey::public_key_raw(self)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.key_pair()?
            .sign(message)
            .map_err(|e| Error::Sign(e.to_string()))
    }
}
