//! PKCS#12 files: a key with its certificate chain (a keystore, `.p12`/`.pfx`, as Windows, .NET
//! and Java load a device identity) and certificates alone (a Java/.NET truststore).
//!
//! Written by the `p12-keystore` crate. The default is what OpenSSL 3 and Java 17 write:
//! PBES2 (AES-256-CBC, PBKDF2 with HMAC-SHA-256) and an HMAC-SHA-256 MAC. [`Pkcs12Cipher::Legacy`]
//! is what Windows before Server 2019 and Java 8 read: pbeWithSHAAnd3-KeyTripleDES-CBC for keys
//! and certificates with an HMAC-SHA-1 MAC. Every certificate of a truststore carries Oracle's
//! trusted-key-usage bag attribute (2.16.840.1.113894.746875.1.1), without which keytool and
//! JSSE skip a certificate that has no key.

use p12_keystore::{
    Certificate as P12Cert, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm,
    PrivateKey as P12Key, PrivateKeyChain,
};
use zeroize::Zeroizing;

use crate::{Certificate, Error, PrivateKey, Result};

/// How a PKCS#12 file's contents are encrypted and its MAC computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pkcs12Cipher {
    /// AES-256-CBC with PBKDF2 (HMAC-SHA-256) and an HMAC-SHA-256 MAC, 10,000 iterations each.
    #[default]
    Modern,
    /// Triple DES (PKCS#12 PBE with SHA-1) and an HMAC-SHA-1 MAC, 2,048 iterations each: for
    /// Windows Server 2016 and older, and Java 8 before update 301.
    Legacy,
}

impl Pkcs12Cipher {
    fn encryption(self) -> (EncryptionAlgorithm, MacAlgorithm, u32) {
        match self {
            Pkcs12Cipher::Modern => (
                EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
                MacAlgorithm::HmacSha256,
                10_000,
            ),
            Pkcs12Cipher::Legacy => (
                EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
                MacAlgorithm::HmacSha1,
                2_048,
            ),
        }
    }
}

/// One certificate of a truststore and the alias it is listed under.
#[derive(Debug, Clone)]
pub struct TrustedEntry<'a> {
    /// The alias (`keytool -list` shows it; the bag's friendlyName).
    pub alias: String,
    /// The certificate.
    pub certificate: &'a Certificate,
}

/// A PKCS#12 keystore holding `key` under `alias`, with `chain` (leaf first). The caller has
/// checked that the key belongs to `chain[0]`; `output` names the file in errors.
pub fn pkcs12_keystore(
    key: &PrivateKey,
    chain: &[Certificate],
    alias: &str,
    password: &str,
    cipher: Pkcs12Cipher,
    output: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    let fail = |reason: String| Error::Pkcs12 {
        output: output.to_owned(),
        reason,
    };
    let Some(leaf) = chain.first() else {
        return Err(fail("no certificate for the key".to_owned()));
    };
    let certs = chain
        .iter()
        .map(|c| P12Cert::from_der(c.der()).map_err(|e| fail(e.to_string())))
        .collect::<Result<Vec<_>>>()?;
    let p12_key = P12Key::from_der(key.pkcs8_der()).map_err(|e| fail(e.to_string()))?;
    // The localKeyId pairs the key bag with its certificate: the leaf's SHA-1, as Windows
    // and keytool write it.
    let key_id = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, leaf.der())
        .as_ref()
        .to_vec();
    let mut store = KeyStore::new();
    store.add_entry(
        alias,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(key_id, p12_key, certs)),
    );
    write(&store, password, cipher).map_err(fail)
}

/// A PKCS#12 truststore: every certificate as a trusted entry, no key.
pub fn pkcs12_truststore(
    entries: &[TrustedEntry<'_>],
    password: &str,
    cipher: Pkcs12Cipher,
    output: &str,
) -> Result<Vec<u8>> {
    let fail = |reason: String| Error::Pkcs12 {
        output: output.to_owned(),
        reason,
    };
    if entries.is_empty() {
        return Err(fail("no certificate to trust".to_owned()));
    }
    let mut store = KeyStore::new();
    for e in entries {
        let cert = P12Cert::from_der(e.certificate.der()).map_err(|e| fail(e.to_string()))?;
        store.add_entry(&e.alias, KeyStoreEntry::Certificate(cert));
    }
    Ok(write(&store, password, cipher).map_err(fail)?.to_vec())
}

fn write(
    store: &KeyStore,
    password: &str,
    cipher: Pkcs12Cipher,
) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    let (encryption, mac, iterations) = cipher.encryption();
    store
        .writer(password)
        .encryption_algorithm(encryption)
        .encryption_iterations(iterations)
        .mac_algorithm(mac)
        .mac_iterations(iterations)
        .write()
        .map(Zeroizing::new)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Issuer, KeyType, Profile, Request, Subject, SubjectKey, issue};
    use p12_keystore::Pkcs12ImportPolicy;

    fn chain() -> (PrivateKey, Vec<Certificate>) {
        let now = time::macros::datetime!(2026-01-01 00:00 UTC);
        let root_key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let root = issue(
            &Request::new(Profile::RootCa { pathlen: None }, Subject::cn("Root"), now),
            &SubjectKey::Private(&root_key),
            None,
        )
        .unwrap();
        let issuer = Issuer::new(root.chain, &root_key, "root", "root key").unwrap();
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let dev = issue(
            &Request::new(Profile::Device, Subject::cn("dev-1"), now),
            &SubjectKey::Private(&key),
            Some(&issuer),
        )
        .unwrap();
        (key, dev.chain)
    }

    #[test]
    fn keystore_reads_back_with_its_key_and_chain_in_both_ciphers() {
        let (key, chain) = chain();
        for cipher in [Pkcs12Cipher::Modern, Pkcs12Cipher::Legacy] {
            let p12 = pkcs12_keystore(&key, &chain, "dev-1", "s3cret", cipher, "out.p12").unwrap();
            let store =
                KeyStore::from_pkcs12(&p12, "s3cret", Pkcs12ImportPolicy::default()).unwrap();
            let (alias, kc) = store.private_key_chain().unwrap();
            assert_eq!(alias, "dev-1");
            assert_eq!(kc.key().as_der(), key.pkcs8_der());
            assert_eq!(kc.certs().len(), chain.len());
            assert_eq!(kc.certs()[0].as_der(), chain[0].der());
            assert!(KeyStore::from_pkcs12(&p12, "wrong", Pkcs12ImportPolicy::default()).is_err());
        }
    }

    #[test]
    fn truststore_holds_trusted_certificates_only() {
        let (_, chain) = chain();
        let entries = [TrustedEntry {
            alias: "root".to_owned(),
            certificate: &chain[1],
        }];
        let p12 = pkcs12_truststore(&entries, "changeit", Pkcs12Cipher::Modern, "t.p12").unwrap();
        let store = KeyStore::from_pkcs12(&p12, "changeit", Pkcs12ImportPolicy::default()).unwrap();
        assert!(store.private_key_chain().is_none());
        assert!(matches!(
            store.entry("root"),
            Some(KeyStoreEntry::Certificate(_))
        ));
        let empty = pkcs12_truststore(&[], "x", Pkcs12Cipher::Modern, "t.p12");
        assert!(matches!(empty, Err(Error::Pkcs12 { .. })));
    }
}
