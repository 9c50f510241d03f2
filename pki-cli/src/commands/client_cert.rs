//! The device certificate and key a gateway check presents for mutual TLS (`--cert`/`--key` of
//! `verify`, `scan` and `renew --verify`; a hosts file's `cert=`/`key=`): the certificate file
//! read with the chain it holds, the key read from its file (its password as for any key) or
//! opened on its token (a `pkcs11:` URI), the two checked to belong together before anything
//! connects, and each file read once however many gateways share it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use pki_verify::{ClientAuth, ClientKey};

use super::{GlobalContext, hsm, read_key};
use crate::args::{ClientCertOpts, PasswordOpts};

/// The client certificate `--cert`/`--key` give, if they do.
pub(crate) fn from_flags(
    ctx: &GlobalContext,
    opts: &ClientCertOpts,
    pw: &PasswordOpts,
) -> Result<Option<ClientAuth>> {
    match (&opts.cert, &opts.key) {
        (Some(cert), Some(key)) => Ok(Some(Loader::new(ctx, pw).client_auth(cert, key)?)),
        // clap requires both or neither.
        _ => Ok(None),
    }
}

/// How a loader reads one key.
type ReadKey<'a> = Box<dyn FnMut(&Path) -> Result<ClientKey> + 'a>;

/// Reads client certificates and keys, each file (or token key) once.
pub(crate) struct Loader<'a> {
    read: ReadKey<'a>,
    keys: BTreeMap<PathBuf, ClientKey>,
    chains: BTreeMap<PathBuf, Vec<Vec<u8>>>,
}

impl<'a> Loader<'a> {
    /// A loader reading keys as pki reads any key: files with `pw`, tokens (through `ctx`'s
    /// module) with their PIN.
    pub(crate) fn new(ctx: &'a GlobalContext, pw: &'a PasswordOpts) -> Loader<'a> {
        Loader::with_reader(move |key| read_client_key(ctx, key, pw))
    }

    /// A loader reading keys with `read`.
    fn with_reader(read: impl FnMut(&Path) -> Result<ClientKey> + 'a) -> Loader<'a> {
        Loader {
            read: Box::new(read),
            keys: BTreeMap::new(),
            chains: BTreeMap::new(),
        }
    }

    /// The certificate of `cert` with its chain and the key `key`, checked to belong together.
    pub(crate) fn client_auth(&mut self, cert: &Path, key: &Path) -> Result<ClientAuth> {
        let chain = match self.chains.get(&same_file(cert)) {
            Some(c) => c.clone(),
            None => {
                let c: Vec<Vec<u8>> = pki_core::read_certs(cert)?
                    .iter()
                    .map(|c| c.der().to_vec())
                    .collect();
                self.chains.insert(same_file(cert), c.clone());
                c
            }
        };
        let client_key = match self.keys.get(&same_file(key)) {
            Some(k) => k.clone(),
            None => {
                let k = (self.read)(key)?;
                self.keys.insert(same_file(key), k.clone());
                k
            }
        };
        let auth = ClientAuth::new(
            chain,
            client_key,
            &cert.display().to_string(),
            &key.display().to_string(),
        )?;
        Ok(match full_chain_beside(cert, auth.chain()) {
            Some(full) => auth.with_full_chain_file(full.display().to_string()),
            None => auth,
        })
    }
}

/// What tells a file from another however it is written (the command line's path and a hosts
/// file's, relative to another directory): its canonical path, else (a `pkcs11:` URI, a file
/// that is not there, which reading then reports) the path as given.
fn same_file(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

/// A key file, or the key a `pkcs11:` URI names on its token.
fn read_client_key(ctx: &GlobalContext, key: &Path, pw: &PasswordOpts) -> Result<ClientKey> {
    match hsm::uri_of(key)? {
        Some(uri) => {
            let token_key = hsm::open_key(ctx, &uri)
                .with_context(|| format!("cannot open the client key {uri}"))?;
            Ok(ClientKey::Signer(token_key))
        }
        None => Ok(ClientKey::File(Arc::new(read_key(key, pw)?))),
    }
}

/// For a file holding one certificate that is not self-issued, pki's file of the same
/// certificate with its chain beside it (`NAME.cert.pem` and `NAME-full-chain.cert.pem`), when
/// there is one.
fn full_chain_beside(cert: &Path, chain: &[Vec<u8>]) -> Option<PathBuf> {
    let [leaf] = chain else { return None };
    let parsed = pki_core::Certificate::from_der_prefix(leaf.clone(), "certificate").ok()?;
    if parsed.is_self_issued() {
        return None;
    }
    let name = cert.file_name()?.to_str()?;
    let stem = name
        .strip_suffix(".cert.pem")
        .or_else(|| name.strip_suffix(".pem"))
        .or_else(|| name.strip_suffix(".crt"))?;
    let full = cert.with_file_name(format!("{stem}-full-chain.cert.pem"));
    full.is_file().then_some(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(f: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/verify/ok")
            .join(f)
    }

    #[test]
    fn a_key_shared_by_many_gateways_is_read_once() {
        let mut reads = Vec::new();
        {
            let mut loader = Loader::with_reader(|key: &Path| {
                reads.push(key.to_owned());
                let bytes = std::fs::read(key)?;
                let k = pki_core::PrivateKey::parse(&bytes, "key", None)?;
                Ok(ClientKey::File(Arc::new(k)))
            });
            let (cert, key) = (testdata("leaf.pem"), testdata("leaf.key.pem"));
            for _ in 0..50 {
                let auth = loader.client_auth(&cert, &key).unwrap();
                assert_eq!(auth.chain().len(), 1);
            }
            // The same file by another path is the same key.
            let roundabout = testdata("../ok/./leaf.key.pem");
            loader.client_auth(&cert, &roundabout).unwrap();
            // Another key is read, once; a mismatch is refused naming both files.
            let other = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../testdata/verify/expired-leaf/leaf.key.pem");
            for _ in 0..3 {
                let err = loader.client_auth(&cert, &other).unwrap_err().to_string();
                assert!(err.contains("does not belong to the certificate"), "{err}");
            }
        }
        assert_eq!(reads.len(), 2, "{reads:?}");
    }

    #[test]
    fn the_full_chain_file_beside_a_leaf_alone_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let leaf = std::fs::read(testdata("leaf.pem")).unwrap();
        let cert = dir.path().join("iot-device-d1.cert.pem");
        std::fs::write(&cert, &leaf).unwrap();
        let chain: Vec<Vec<u8>> = pki_core::read_certs(&cert)
            .unwrap()
            .iter()
            .map(|c| c.der().to_vec())
            .collect();
        assert_eq!(full_chain_beside(&cert, &chain), None);
        let full = dir.path().join("iot-device-d1-full-chain.cert.pem");
        std::fs::write(&full, &leaf).unwrap();
        assert_eq!(full_chain_beside(&cert, &chain), Some(full));
    }
}
