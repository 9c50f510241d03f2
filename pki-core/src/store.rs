//! The CA directory: Azure IoT Edge `certGen.sh` file names, keys 0600 in a 0700 `private/`,
//! atomic writes (temporary file, then rename), no overwrite without `force`, and `index.jsonl`
//! appended under a lock.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::issue::Issued;
use crate::key::PrivateKey;
use crate::pem::Certificate;
use crate::profile::Profile;

/// File-name prefix of the owner / root CA.
pub const ROOT_PREFIX: &str = "azure-iot-test-only.root.ca";
/// File-name prefix of the intermediate CA.
pub const INTERMEDIATE_PREFIX: &str = "azure-iot-test-only.intermediate";
/// File-name prefix of a proof-of-possession certificate.
pub const VERIFICATION_PREFIX: &str = "iot-device-verification-code";
const EDGE_CA_PREFIX: &str = "iot-edge-device-ca-";

/// A well-known CA of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaRole {
    /// The owner / root CA.
    Root,
    /// The intermediate CA.
    Intermediate,
    /// An IoT Edge device CA, by name.
    EdgeCa(String),
}

impl CaRole {
    /// The file-name prefix of this CA.
    pub fn prefix(&self) -> String {
        match self {
            CaRole::Root => ROOT_PREFIX.to_owned(),
            CaRole::Intermediate => INTERMEDIATE_PREFIX.to_owned(),
            CaRole::EdgeCa(name) => edge_ca_prefix(name),
        }
    }
}

impl std::fmt::Display for CaRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaRole::Root => f.write_str("owner CA"),
            CaRole::Intermediate => f.write_str("intermediate CA"),
            CaRole::EdgeCa(n) => write!(f, "edge CA {n:?}"),
        }
    }
}

/// The prefix of an IoT Edge device CA's files.
pub fn edge_ca_prefix(name: &str) -> String {
    format!("{EDGE_CA_PREFIX}{name}")
}
/// The prefix of a gateway server certificate's files.
pub fn server_prefix(host: &str) -> String {
    format!("iot-edge-server-{host}")
}
/// The prefix of a device certificate's files.
pub fn device_prefix(id: &str) -> String {
    format!("iot-device-{id}")
}

/// The files written for one certificate.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    /// The certificate.
    pub cert: PathBuf,
    /// The full chain (certificate, then its issuers up to the root), if written.
    pub full_chain: Option<PathBuf>,
    /// The private key, if written.
    pub key: Option<PathBuf>,
}

/// One line of `index.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// Serial, upper-case hex.
    pub serial: String,
    /// Subject, one-line form.
    pub subject: String,
    /// Subject CN.
    pub common_name: String,
    /// Issuer, one-line form.
    pub issuer: String,
    /// Profile name.
    pub profile: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// SHA-256 of the DER, upper-case hex.
    pub sha256: String,
    /// The certificate file, relative to the CA directory.
    pub path: String,
    /// `issued` (kept for revocation later).
    pub status: String,
}

/// A CA directory.
#[derive(Debug, Clone)]
pub struct CaDir {
    root: PathBuf,
}

impl CaDir {
    /// Opens an existing CA directory (one that has `certs/` and `private/`).
    pub fn open(dir: &Path) -> Result<Self> {
        let not = |reason: &str| Error::NotACaDir {
            dir: dir.to_owned(),
            reason: reason.to_owned(),
        };
        let meta = fs::metadata(dir).map_err(|_| {
            not("no CA directory here; create one with `pki create-owner-ca` or point --dir/PKI_DIR at one")
        })?;
        if !meta.is_dir() {
            return Err(not("not a directory"));
        }
        if !dir.join("certs").is_dir() || !dir.join("private").is_dir() {
            return Err(not(
                "not a CA directory (no certs/ and private/); create one with `pki create-owner-ca`",
            ));
        }
        Ok(CaDir {
            root: dir.to_owned(),
        })
    }

    /// Opens the directory, creating it and its `certs/`, `private/` (0700) and `csr/` as needed.
    pub fn create(dir: &Path) -> Result<Self> {
        if dir.exists() && !dir.is_dir() {
            return Err(Error::NotACaDir {
                dir: dir.to_owned(),
                reason: "exists and is not a directory".into(),
            });
        }
        for sub in ["certs", "csr"] {
            let p = dir.join(sub);
            fs::create_dir_all(&p).map_err(|e| Error::io(&p, e))?;
        }
        let private = dir.join("private");
        if !private.is_dir() {
            fs::create_dir_all(&private).map_err(|e| Error::io(&private, e))?;
        }
        set_mode(&private, 0o700)?;
        Ok(CaDir {
            root: dir.to_owned(),
        })
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// `certs/<prefix>.cert.pem`.
    pub fn cert_path(&self, prefix: &str) -> PathBuf {
        self.root.join("certs").join(format!("{prefix}.cert.pem"))
    }
    /// `certs/<prefix>-full-chain.cert.pem`.
    pub fn full_chain_path(&self, prefix: &str) -> PathBuf {
        self.root
            .join("certs")
            .join(format!("{prefix}-full-chain.cert.pem"))
    }
    /// `private/<prefix>.key.pem`.
    pub fn key_path(&self, prefix: &str) -> PathBuf {
        self.root.join("private").join(format!("{prefix}.key.pem"))
    }
    /// `csr/<prefix>.csr.pem`.
    pub fn csr_path(&self, prefix: &str) -> PathBuf {
        self.root.join("csr").join(format!("{prefix}.csr.pem"))
    }

    /// True when this CA's certificate exists.
    pub fn has(&self, role: &CaRole) -> bool {
        self.cert_path(&role.prefix()).is_file()
    }

    /// The names of the IoT Edge device CAs in the directory, sorted.
    pub fn edge_ca_names(&self) -> Result<Vec<String>> {
        let certs = self.root.join("certs");
        let mut names = Vec::new();
        for entry in fs::read_dir(&certs).map_err(|e| Error::io(&certs, e))? {
            let entry = entry.map_err(|e| Error::io(&certs, e))?;
            let file = entry.file_name();
            let Some(file) = file.to_str() else { continue };
            if let Some(name) = file
                .strip_prefix(EDGE_CA_PREFIX)
                .and_then(|r| r.strip_suffix(".cert.pem"))
                .filter(|n| !n.ends_with("-full-chain"))
            {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// The chain of a CA of this directory: its certificate and those above it, read from its
    /// full-chain file when it has one.
    pub fn chain_of(&self, prefix: &str) -> Result<Vec<Certificate>> {
        let full = self.full_chain_path(prefix);
        let path = if full.is_file() {
            full
        } else {
            self.cert_path(prefix)
        };
        read_certs(&path)
    }

    /// Refuses to go on when any of `paths` exists, unless `force`.
    pub fn check_free(paths: &[&Path], force: bool) -> Result<()> {
        if let Some(p) = paths.iter().find(|p| p.exists()).filter(|_| !force) {
            return Err(Error::Exists(p.to_path_buf()));
        }
        Ok(())
    }

    /// Writes a freshly issued certificate (and its key, if given) under `prefix`: the key first
    /// (0600), then the certificate, then the full chain. All targets are checked before anything
    /// is written; each file is written to a temporary file and renamed into place.
    pub fn write_issued(
        &self,
        prefix: &str,
        issued: &Issued,
        key: Option<&PrivateKey>,
        force: bool,
    ) -> Result<Written> {
        let cert = self.cert_path(prefix);
        let chain = self.full_chain_path(prefix);
        let key_path = self.key_path(prefix);
        let with_chain = issued.chain.len() > 1;
        let mut targets = vec![cert.as_path()];
        if with_chain {
            targets.push(&chain);
        }
        if key.is_some() {
            targets.push(&key_path);
        }
        Self::check_free(&targets, force)?;
        let mut files: Vec<(&Path, String, u32)> = Vec::new();
        if let Some(k) = key {
            files.push((&key_path, k.to_pem(), 0o600));
        }
        files.push((&cert, issued.certificate.to_pem(), 0o644));
        if with_chain {
            files.push((&chain, pem_bundle(&issued.chain), 0o644));
        }
        let mut done: Vec<&Path> = Vec::new();
        for (path, data, mode) in &files {
            if let Err(e) = write_atomic(path, data.as_bytes(), *mode, force) {
                // Leave no half-written set behind: remove what this call created (files it
                // replaced under `force` are gone either way).
                if !force {
                    for p in &done {
                        let _ = fs::remove_file(p);
                    }
                }
                return Err(e);
            }
            done.push(path);
        }
        Ok(Written {
            cert,
            full_chain: with_chain.then_some(chain),
            key: key.map(|_| key_path),
        })
    }

    /// Appends one line for this certificate to `index.jsonl`, under an exclusive lock.
    pub fn record(
        &self,
        issued: &Issued,
        profile: Profile,
        cert_path: &Path,
    ) -> Result<IndexEntry> {
        let entry = self.index_entry(&issued.certificate, &issued.facts, profile, cert_path);
        self.append_index(std::slice::from_ref(&entry))?;
        Ok(entry)
    }

    /// The index line of a certificate stored at `cert_path`, from its facts.
    pub fn index_entry(
        &self,
        cert: &Certificate,
        facts: &crate::issue::Facts,
        profile: Profile,
        cert_path: &Path,
    ) -> IndexEntry {
        IndexEntry {
            serial: facts.serial.clone(),
            subject: facts.subject.clone(),
            common_name: facts.common_name.clone(),
            issuer: facts.issuer.clone(),
            profile: profile.name().to_owned(),
            not_before: facts.not_before,
            not_after: facts.not_after,
            sha256: cert.sha256_hex(),
            path: cert_path
                .strip_prefix(&self.root)
                .unwrap_or(cert_path)
                .to_string_lossy()
                .into_owned(),
            status: "issued".into(),
        }
    }

    /// Appends these lines to `index.jsonl` in one write, under an exclusive lock, so that two
    /// `pki` processes never interleave or tear a line.
    pub fn append_index(&self, entries: &[IndexEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut buf = String::with_capacity(entries.len() * 400);
        for e in entries {
            buf += &serde_json::to_string(e).map_err(|e| Error::Sign(e.to_string()))?;
            buf.push('\n');
        }
        let path = self.index_path();
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        file.lock().map_err(|e| Error::io(&path, e))?;
        let res = file.write_all(buf.as_bytes()).and_then(|()| file.flush());
        let _ = file.unlock();
        res.map_err(|e| Error::io(&path, e))
    }

    /// `index.jsonl`.
    pub fn index_path(&self) -> PathBuf {
        self.root.join("index.jsonl")
    }

    /// Every line of `index.jsonl` (none when it does not exist yet).
    pub fn index(&self) -> Result<Vec<IndexEntry>> {
        let path = self.index_path();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&path, e)),
        };
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|e| Error::BadIndex {
                    path: path.clone(),
                    line: i + 1,
                    reason: e.to_string(),
                })
            })
            .collect()
    }
}

/// Certificates as one PEM bundle.
pub fn pem_bundle(certs: &[Certificate]) -> String {
    certs.iter().map(Certificate::to_pem).collect()
}

/// Reads every certificate of a PEM or DER file.
pub fn read_certs(path: &Path) -> Result<Vec<Certificate>> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    Certificate::parse_all(&bytes, &path.display().to_string())
}

/// Writes `data` to `path` atomically: a temporary file in the same directory, synced, given
/// `mode`, then renamed into place. Without `overwrite`, an existing `path` is never replaced.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32, overwrite: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".pki-tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    set_mode(tmp.path(), mode)?;
    tmp.write_all(data).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    if overwrite {
        tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Exists(path.to_owned())
            } else {
                Error::io(path, e.error)
            }
        })?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| Error::io(path, e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_never_clobbers_without_overwrite() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        write_atomic(&p, b"one", 0o600, false).unwrap();
        assert!(matches!(
            write_atomic(&p, b"two", 0o600, false),
            Err(Error::Exists(_))
        ));
        assert_eq!(fs::read(&p).unwrap(), b"one");
        write_atomic(&p, b"two", 0o600, true).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        // No temporary file left behind.
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_failed_write_leaves_no_partial_set() {
        use crate::{KeyType, PrivateKey, Profile, Request, Subject, SubjectKey};
        let d = tempfile::tempdir().unwrap();
        let ca = CaDir::create(&d.path().join("pki")).unwrap();
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let now = OffsetDateTime::now_utc();
        let req = Request::new(Profile::SelfSignedDevice, Subject::cn("d"), now);
        let issued = crate::issue(&req, &SubjectKey::Private(&key), None).unwrap();
        // certs/ replaced by a file: the key is written, the certificate cannot be.
        fs::remove_dir(ca.path().join("certs")).unwrap();
        fs::write(ca.path().join("certs"), b"").unwrap();
        assert!(
            ca.write_issued("iot-device-d", &issued, Some(&key), false)
                .is_err()
        );
        assert!(!ca.key_path("iot-device-d").exists());
    }

    #[cfg(unix)]
    #[test]
    fn private_dir_is_0700() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let ca = CaDir::create(&d.path().join("pki")).unwrap();
        let mode = fs::metadata(ca.path().join("private"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn open_refuses_a_directory_that_is_not_a_ca_dir() {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(
            CaDir::open(d.path()),
            Err(Error::NotACaDir { .. })
        ));
        assert!(matches!(
            CaDir::open(&d.path().join("nope")),
            Err(Error::NotACaDir { .. })
        ));
    }
}
