//! Signing keys wherever they are kept: [`CaSigner`] is what issuing asks of a key (its type,
//! its public half, a signature), so that a key in a file and a key on a PKCS#11 token (the
//! `pki-pkcs11` crate) take the same path through `issue`, `csr`, CRLs and the batch.

use std::sync::{Arc, Mutex};

use rcgen::{KeyPair, PublicKeyData, SignatureAlgorithm, SigningKey};

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

/// The key rcgen signs with: a parsed file key (ring, directly), or any other [`CaSigner`]
/// through rcgen's remote-key interface.
pub(crate) enum Signing<'a> {
    /// A key held in memory, parsed for ring.
    File(KeyPair),
    /// A key that signs elsewhere (a token).
    Remote {
        key: Held<'a>,
        public: Vec<u8>,
        alg: &'static SignatureAlgorithm,
        /// Why the last signature failed: rcgen's error for a remote key carries no reason.
        failure: Mutex<Option<Error>>,
    },
}

/// How a [`Signing::Remote`] holds its signer: shared (an issuer's, kept) or lent (for one
/// self-signature).
pub(crate) enum Held<'a> {
    /// Kept by an issuer for as long as it lives.
    Shared(Arc<dyn CaSigner>),
    /// Borrowed for one signature.
    Lent(&'a dyn CaSigner),
}

impl<'a> std::ops::Deref for Held<'a> {
    type Target = dyn CaSigner + 'a;
    fn deref(&self) -> &Self::Target {
        match self {
            Held::Shared(k) => k.as_ref(),
            Held::Lent(k) => *k,
        }
    }
}

impl<'a> Signing<'a> {
    /// A remote signer, its public key read once.
    pub(crate) fn remote(key: Held<'a>) -> Result<Self> {
        Ok(Signing::Remote {
            public: key.public_key_raw()?,
            alg: key.key_type().signature_algorithm(),
            key,
            failure: Mutex::new(None),
        })
    }

    /// The error of a failed rcgen call: the signer's own when it failed, else rcgen's.
    pub(crate) fn error(&self, e: rcgen::Error) -> Error {
        if let Signing::Remote { failure, .. } = self
            && let Some(err) = failure.lock().ok().and_then(|mut f| f.take())
        {
            return err;
        }
        Error::Sign(e.to_string())
    }
}

impl PublicKeyData for Signing<'_> {
    fn der_bytes(&self) -> &[u8] {
        match self {
            Signing::File(k) => k.der_bytes(),
            Signing::Remote { public, .. } => public,
        }
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        match self {
            Signing::File(k) => k.algorithm(),
            Signing::Remote { alg, .. } => alg,
        }
    }
}

impl SigningKey for Signing<'_> {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        match self {
            Signing::File(k) => k.sign(msg),
            Signing::Remote { key, failure, .. } => key.sign(msg).map_err(|e| {
                if let Ok(mut f) = failure.lock() {
                    *f = Some(e);
                }
                rcgen::Error::RemoteKeyError
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signer that is not a `PrivateKey`: what a token looks like to pki-core.
    struct Elsewhere(PrivateKey);

    impl CaSigner for Elsewhere {
        fn key_type(&self) -> KeyType {
            self.0.key_type()
        }
        fn public_key_raw(&self) -> Result<Vec<u8>> {
            self.0.public_key_raw()
        }
        fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
            CaSigner::sign(&self.0, message)
        }
    }

    struct Broken(Vec<u8>);

    impl CaSigner for Broken {
        fn key_type(&self) -> KeyType {
            KeyType::EcP256
        }
        fn public_key_raw(&self) -> Result<Vec<u8>> {
            Ok(self.0.clone())
        }
        fn sign(&self, _: &[u8]) -> Result<Vec<u8>> {
            Err(Error::Sign("the token was removed".into()))
        }
    }

    #[test]
    fn a_remote_signer_issues_as_a_file_key_does() {
        use crate::{Issuer, Profile, Request, Subject, SubjectKey, issue};
        let now = time::OffsetDateTime::now_utc();
        for kt in [KeyType::EcP256, KeyType::EcP384, KeyType::Ed25519] {
            let remote: Arc<dyn CaSigner> = Arc::new(Elsewhere(PrivateKey::generate(kt).unwrap()));
            let req = Request::new(Profile::RootCa { pathlen: None }, Subject::cn("R"), now);
            let root = issue(&req, &SubjectKey::Signer(remote.as_ref()), None).unwrap();
            let x = root.certificate.x509();
            assert!(x.verify_signature(None).is_ok(), "{kt}");
            let issuer = Issuer::with_signer(root.chain, remote, "r", "token").unwrap();
            let dev = PrivateKey::generate(KeyType::EcP256).unwrap();
            let req = Request::new(Profile::Device, Subject::cn("d"), now);
            let leaf = issue(&req, &SubjectKey::Private(&dev), Some(&issuer)).unwrap();
            assert!(
                leaf.certificate
                    .x509()
                    .verify_signature(Some(issuer.certificate().x509().public_key()))
                    .is_ok()
            );
        }
    }

    #[test]
    fn a_signer_that_fails_says_why() {
        use crate::{Issuer, Profile, Request, Subject, SubjectKey, issue};
        let now = time::OffsetDateTime::now_utc();
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let req = Request::new(Profile::RootCa { pathlen: None }, Subject::cn("R"), now);
        let root = issue(&req, &SubjectKey::Private(&key), None).unwrap();
        let broken = Arc::new(Broken(key.public_key_raw().unwrap()));
        let issuer = Issuer::with_signer(root.chain, broken, "r", "token").unwrap();
        let req = Request::new(Profile::Device, Subject::cn("d"), now);
        let err = issue(&req, &SubjectKey::Private(&key), Some(&issuer)).unwrap_err();
        assert!(
            matches!(err, Error::Sign(ref m) if m.contains("removed")),
            "{err}"
        );
    }
}
