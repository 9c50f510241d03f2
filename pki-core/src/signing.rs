//! rcgen's signing key for whichever [`CaSigner`] signs: a file key parsed for ring, or any
//! other signer (a token) through rcgen's remote-key interface.

use std::sync::{Arc, Mutex};

use rcgen::{KeyPair, PublicKeyData, SignatureAlgorithm, SigningKey};

use crate::error::{Error, Result};
use pki_x509::CaSigner;
#[cfg(test)]
use pki_x509::{KeyType, PrivateKey};

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
        failure: Mutex<Option<pki_x509::Error>>,
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
            return err.into();
        }
        pki_x509::Error::Sign(e.to_string()).into()
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
        fn public_key_raw(&self) -> pki_x509::Result<Vec<u8>> {
            self.0.public_key_raw()
        }
        fn sign(&self, message: &[u8]) -> pki_x509::Result<Vec<u8>> {
            CaSigner::sign(&self.0, message)
        }
    }

    struct Broken(Vec<u8>);

    impl CaSigner for Broken {
        fn key_type(&self) -> KeyType {
            KeyType::EcP256
        }
        fn public_key_raw(&self) -> pki_x509::Result<Vec<u8>> {
            Ok(self.0.clone())
        }
        fn sign(&self, _: &[u8]) -> pki_x509::Result<Vec<u8>> {
            Err(pki_x509::Error::Sign("the token was removed".into()))
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
            matches!(err, Error::X509(pki_x509::Error::Sign(ref m)) if m.contains("removed")),
            "{err}"
        );
    }
}
