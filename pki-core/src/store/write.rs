//! Writing into a CA directory: an issued certificate, its key and its full chain with the
//! register's row as one transaction (under the directory's names or where the user chose), and
//! atomic writes of single files or sets of files.

use std::path::Path;

use pki_register::Record;
use pki_x509::files;

use super::{
    CaDir, KEY_MODE, PUBLIC_MODE, Placement, StoredKey, Written, file_name_of, pem_bundle,
    read_certs,
};
use crate::error::{Error, Result};
use crate::issue::Issued;
use crate::profile::Profile;

impl CaDir {
    /// Refuses to go on when any of `paths` exists, unless `force`.
    pub fn check_free(paths: &[&Path], force: bool) -> Result<()> {
        if let Some(p) = paths.iter().find(|p| p.exists()).filter(|_| !force) {
            return Err(Error::Exists(p.to_path_buf()));
        }
        Ok(())
    }

    /// Writes a freshly issued certificate (and its key's PEM, if given) under `prefix` and
    /// records it in the register, as one transaction: either the key, the certificate, the full
    /// chain and the register's row are all there, or (after any failure, a full disk or an
    /// unreachable database included) the directory and the register are as they were. Nothing
    /// is overwritten without `force`; two processes writing the same name one after the other
    /// each leave a complete set.
    pub fn write_issued(
        &self,
        prefix: &str,
        issued: &Issued,
        key_pem: Option<&[u8]>,
        profile: Profile,
        force: bool,
    ) -> Result<(Written, Record)> {
        let key = key_pem.map_or(StoredKey::None, StoredKey::Pem);
        self.write_issued_with(prefix, issued, key, profile, force)
    }

    /// [`CaDir::write_issued`], its key given as a PEM, a token's URI, or none.
    pub fn write_issued_with(
        &self,
        prefix: &str,
        issued: &Issued,
        stored: StoredKey<'_>,
        profile: Profile,
        force: bool,
    ) -> Result<(Written, Record)> {
        // A key of one kind replaces one of the other: a CA moved from a token to a file (or
        // back) with --force must not leave the old record, which would win when the issuer
        // is chosen.
        let (key, key_path, other) = match stored {
            StoredKey::None => (None, self.key_path(prefix), None),
            StoredKey::Pem(pem) => (
                Some(pem),
                self.key_path(prefix),
                Some(self.key_uri_path(prefix)),
            ),
            StoredKey::Uri(uri) => (
                Some(uri.as_bytes()),
                self.key_uri_path(prefix),
                Some(self.key_path(prefix)),
            ),
        };
        let cert = self.cert_path(prefix);
        let chain = self.full_chain_path(prefix);
        let with_chain = issued.chain.len() > 1;
        let certs = self.sub_dir("certs").map_err(|e| Error::io(&cert, e))?;
        let private = match key {
            Some(_) => Some(self.private_dir().map_err(|e| Error::io(&key_path, e))?),
            None => None,
        };
        let record = self.issued_record(issued, profile, &cert);
        let mut register = self.register()?;
        // The register's transaction is the directory's write lock (SQLite takes it at once):
        // the check below cannot be raced by another pki.
        let mut tx = register.transaction()?;
        let mut targets = vec![cert.as_path()];
        if with_chain {
            targets.push(&chain);
        }
        if key.is_some() {
            targets.push(&key_path);
        }
        if let Some(o) = &other {
            targets.push(o);
        }
        Self::check_free(&targets, force)?;
        let name = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        // Everything is written and synced before anything is put in place: a full disk fails
        // here and changes nothing.
        let mut t = files::Transaction::default();
        if let (Some(dir), Some(bytes)) = (&private, key) {
            t.add(
                dir.stage(&name(&key_path), bytes, KEY_MODE)
                    .map_err(|e| Error::io(&key_path, e))?,
            );
            if let Some(o) = &other {
                t.remove(dir, &name(o));
            }
        }
        t.add(
            certs
                .stage(
                    &name(&cert),
                    issued.certificate.to_pem().as_bytes(),
                    PUBLIC_MODE,
                )
                .map_err(|e| Error::io(&cert, e))?,
        );
        if with_chain {
            t.add(
                certs
                    .stage(
                        &name(&chain),
                        pem_bundle(&issued.chain).as_bytes(),
                        PUBLIC_MODE,
                    )
                    .map_err(|e| Error::io(&chain, e))?,
            );
        }
        if force {
            // What the files replace is no longer in service.
            if let Ok(old) = read_certs(&cert)
                && let Some(old) = old.first()
            {
                tx.supersede(&old.sha256_hex(), Some(&record.sha256))?;
            }
        }
        tx.insert(std::slice::from_ref(&record))?;
        t.commit_then(force, || tx.commit()).map_err(|e| match e {
            files::Failed::Files(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Error::Exists(cert.clone())
            }
            files::Failed::Files(e) => Error::io(&cert, e),
            files::Failed::Then(e) => Error::from(e),
        })?;
        Ok((
            Written {
                cert,
                full_chain: with_chain.then_some(chain),
                key: key.map(|_| key_path),
            },
            record,
        ))
    }

    /// Writes a freshly issued certificate (followed by its chain, when it has one) and its key
    /// where `at` says, outside the CA directory's own names, and records both: the
    /// certificate in the register at that path (absolute, unless it is in the CA directory),
    /// and where its key is in `private/placed-*.key.path`, so that a renewal renews them in
    /// place. One transaction, as [`CaDir::write_issued`]: nothing is overwritten without
    /// `force`, and after any failure the files and the register are as they were. The
    /// directories of `at` must exist.
    pub fn write_placed(
        &self,
        issued: &Issued,
        key_pem: &[u8],
        at: &Placement,
        profile: Profile,
        force: bool,
    ) -> Result<(Written, Record)> {
        let open = |p: &Path| -> Result<(files::Dir, String)> {
            let (dir, name) = files::split(p).map_err(|e| Error::io(p, e))?;
            Ok((files::Dir::open(&dir).map_err(|e| Error::io(p, e))?, name))
        };
        let (cert_dir, cert_name) = open(&at.cert)?;
        let (key_dir, key_name) = open(&at.key)?;
        let record = self.issued_record(issued, profile, &at.cert);
        let placed = self.placement_record(&record.path);
        let private = self.private_dir().map_err(|e| Error::io(&placed, e))?;
        let mut register = self.register()?;
        // The register's transaction is the directory's write lock (see `write_issued_with`).
        let mut tx = register.transaction()?;
        Self::check_free(&[&at.cert, &at.key], force)?;
        let placed_name = file_name_of(&placed);
        if !force && private.exists(&placed_name) {
            // The record of a certificate whose files are gone (they were free just above):
            // the new one replaces it.
            private
                .remove(&placed_name)
                .map_err(|e| Error::io(&placed, e))?;
        }
        let mut t = files::Transaction::default();
        t.add(
            key_dir
                .stage(&key_name, key_pem, KEY_MODE)
                .map_err(|e| Error::io(&at.key, e))?,
        );
        t.add(
            cert_dir
                .stage(
                    &cert_name,
                    pem_bundle(&issued.chain).as_bytes(),
                    PUBLIC_MODE,
                )
                .map_err(|e| Error::io(&at.cert, e))?,
        );
        let key_record = format!("{}\n", self.register_path(&at.key));
        t.add(
            private
                .stage(&placed_name, key_record.as_bytes(), KEY_MODE)
                .map_err(|e| Error::io(&placed, e))?,
        );
        if force
            && let Ok(old) = read_certs(&at.cert)
            && let Some(old) = old.first()
        {
            // What the file replaces is no longer in service.
            tx.supersede(&old.sha256_hex(), Some(&record.sha256))?;
        }
        tx.insert(std::slice::from_ref(&record))?;
        t.commit_then(force, || tx.commit()).map_err(|e| match e {
            files::Failed::Files(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Error::Exists(at.cert.clone())
            }
            files::Failed::Files(e) => Error::io(&at.cert, e),
            files::Failed::Then(e) => Error::from(e),
        })?;
        Ok((
            Written {
                cert: at.cert.clone(),
                full_chain: None,
                key: Some(at.key.clone()),
            },
            record,
        ))
    }
}

/// Writes several files as one: each is written and synced to a temporary file first, then all
/// are put in place; after any failure none of them is (and what `overwrite` replaced is put
/// back). Without `overwrite`, an existing target fails the whole set and changes nothing.
pub fn write_files(set: &[(&Path, &[u8], u32)], overwrite: bool) -> Result<()> {
    let mut dirs = Vec::with_capacity(set.len());
    for (path, _, _) in set {
        let (dir, name) = files::split(path).map_err(|e| Error::io(path, e))?;
        let dir = files::Dir::open(&dir).map_err(|e| Error::io(path, e))?;
        dirs.push((dir, name));
    }
    if !overwrite {
        let targets: Vec<&Path> = set.iter().map(|(p, _, _)| *p).collect();
        CaDir::check_free(&targets, false)?;
    }
    let mut t = files::Transaction::default();
    for ((dir, name), (path, data, mode)) in dirs.iter().zip(set) {
        t.add(
            dir.stage(name, data, *mode)
                .map_err(|e| Error::io(path, e))?,
        );
    }
    t.commit(overwrite).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Exists(set[0].0.to_owned())
        } else {
            Error::io(set[0].0, e)
        }
    })
}

/// Writes `data` to `path` atomically with `mode` (see [`files`]). Without `overwrite`, an
/// existing `path` is never replaced.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32, overwrite: bool) -> Result<()> {
    files::write_file(path, data, mode, overwrite).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Exists(path.to_owned())
        } else {
            Error::io(path, e)
        }
    })
}
