//! The CA directory: Azure IoT Edge `certGen.sh` file names, keys 0600 in a 0700 `private/`,
//! atomic writes (temporary file, then rename), no overwrite without `force`, and every issued
//! certificate recorded in the register (pki-register) in the same transaction as its files.
//!
//! This file holds the directory's file names, its types, opening it and its paths;
//! `lookup.rs` what it holds (CAs, kept CAs, gateways, devices, chains), `register.rs` its
//! register (opened, bound, migrated; an issued certificate's row), `write.rs` writing into it.

use std::fs;
use std::path::{Path, PathBuf};

use pki_register::{Location, Record};
use serde::Serialize;

use crate::error::{Error, NotCaDir, Result};
use pki_x509::Certificate;
use pki_x509::files;

mod lookup;
mod register;
#[cfg(test)]
mod tests;
mod write;

pub use write::{write_atomic, write_files};

/// File-name prefix of the owner / root CA.
pub const ROOT_PREFIX: &str = "azure-iot-test-only.root.ca";
/// File-name prefix of the intermediate CA.
pub const INTERMEDIATE_PREFIX: &str = "azure-iot-test-only.intermediate";
/// File-name prefix of a proof-of-possession certificate.
pub const VERIFICATION_PREFIX: &str = "iot-device-verification-code";
const EDGE_CA_PREFIX: &str = "iot-edge-device-ca-";
/// The CA directory's folder of CRLs (`pki crl` writes them there).
pub const CRL_DIR: &str = "crl";

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
    /// The CA of `ca` whose file prefix is `prefix`, if it is one.
    pub fn of_prefix(ca: &CaDir, prefix: &str) -> Option<CaRole> {
        match prefix {
            ROOT_PREFIX => Some(CaRole::Root),
            INTERMEDIATE_PREFIX => Some(CaRole::Intermediate),
            _ => {
                let name = prefix.strip_prefix(EDGE_CA_PREFIX)?;
                let role = CaRole::EdgeCa(name.to_owned());
                ca.has(&role).then_some(role)
            }
        }
    }

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

/// The file prefix of the TLS certificate `pki est serve` issues itself
/// (`certs/pki-est-server.cert.pem`): a server certificate, but no gateway's.
pub const EST_SERVER_PREFIX: &str = "pki-est-server";

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

/// The prefix under which a renewal keeps the replaced files of `prefix`: `<prefix>.<OLD
/// SERIAL>` (`certs/<prefix>.<SERIAL>.cert.pem`, `private/<prefix>.<SERIAL>.key.pem`, ...).
pub fn kept_prefix(prefix: &str, serial: &str) -> String {
    format!("{prefix}.{serial}")
}

/// The prefix and the serial of a kept prefix ([`kept_prefix`]): `None` when `name` is not one
/// (the serial is 16 or more upper-case hex digits: pki's serials are random and at least 64
/// bits long, and a host name or device id never ends in such a label by accident of pki's).
pub fn split_kept_prefix(name: &str) -> Option<(&str, &str)> {
    let (base, serial) = name.rsplit_once('.')?;
    (serial.len() >= 16
        && serial
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)))
    .then_some((base, serial))
}

/// A previous certificate of one of the directory's CAs, kept with its key by a renewal: what
/// it issued stays valid until it expires, so it still signs the CRL of what it issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptCa {
    /// The CA it was.
    pub role: CaRole,
    /// Its serial (upper-case hex, as in its file names).
    pub serial: String,
    /// Its certificate, `certs/<prefix>.<SERIAL>.cert.pem`.
    pub cert: PathBuf,
    /// Its kept key.
    pub key: KeyRecord,
}

impl KeptCa {
    /// The prefix of its files, `<prefix>.<SERIAL>`.
    pub fn prefix(&self) -> String {
        kept_prefix(&self.role.prefix(), &self.serial)
    }
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

/// The private key written with a certificate.
#[derive(Debug, Clone, Copy)]
pub enum StoredKey<'a> {
    /// None (a certificate signed from a CSR, whose key stays with its owner).
    None,
    /// The key's PEM, written to `private/<prefix>.key.pem`.
    Pem(&'a [u8]),
    /// Where a token keeps the key: its `pkcs11:` URI, written to `private/<prefix>.key.uri`
    /// (the key itself never leaves the token).
    Uri(&'a str),
}

/// Where the CA directory keeps a certificate's private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRecord {
    /// In a PEM file, `private/<prefix>.key.pem`.
    File(PathBuf),
    /// On a token: `private/<prefix>.key.uri` holds its `pkcs11:` URI.
    Token(PathBuf),
}

impl KeyRecord {
    /// The file: the key's PEM, or its URI's record.
    pub fn path(&self) -> &Path {
        match self {
            KeyRecord::File(p) | KeyRecord::Token(p) => p,
        }
    }
}

/// Where pki wrote a certificate and its key under names the user chose (`pki self-signed
/// --out-cert FILE --out-key FILE`, e.g. where thin-edge.io reads them) instead of the CA
/// directory's `certs/<prefix>` names. The register records the certificate at that path, and
/// the CA directory where its key is: a renewal renews both there, in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// The certificate file (followed by its chain when it has one).
    pub cert: PathBuf,
    /// The private key file.
    pub key: PathBuf,
}

/// A device's certificate in service and where its files are ([`CaDir::device`]).
#[derive(Debug, Clone)]
pub struct DeviceFiles {
    /// Its row in the register.
    pub record: Record,
    /// The certificate.
    pub cert: PathBuf,
    /// The certificate followed by its chain, when there is such a file (a CA-signed device
    /// in the CA directory).
    pub full_chain: Option<PathBuf>,
    /// Where its private key is, when pki knows.
    pub key: Option<KeyRecord>,
    /// Written where the user chose ([`Placement`]), and renewed there.
    pub placed: bool,
}

/// The prefix of the records of placed keys in `private/`.
const PLACED_PREFIX: &str = "placed-";
/// The suffix of a record of a placed key.
const PLACED_SUFFIX: &str = ".key.path";

/// A CA directory.
#[derive(Debug, Clone)]
pub struct CaDir {
    root: PathBuf,
    /// What opening the directory found and corrected, for the user to read.
    notes: Vec<String>,
    /// Where its register is: `register.sqlite3` in it unless told otherwise.
    register: Location,
    /// Whether the register was named (`--register`): one several directories may share.
    shared: bool,
}

/// The file of a CA directory that holds its id: what a register records to know which
/// directories it serves.
pub const DIRECTORY_ID_FILE: &str = "directory.id";

/// Modes of the CA directory's parts.
const DIR_MODE: u32 = 0o755;
const PRIVATE_MODE: u32 = 0o700;
pub(crate) const KEY_MODE: u32 = 0o600;
pub(crate) const PUBLIC_MODE: u32 = 0o644;

impl CaDir {
    /// Opens an existing CA directory (one that has `certs/` and `private/`). `private/` must be
    /// a real directory (not a link) owned by this user; a `private/` that others can read is
    /// corrected to 0700 (said in [`CaDir::notes`]). Temporary files a killed `pki` left are
    /// removed.
    pub fn open(dir: &Path) -> Result<Self> {
        let not = |reason: NotCaDir| Error::NotACaDir {
            dir: dir.to_owned(),
            reason,
        };
        let meta = fs::metadata(dir).map_err(|_| not(NotCaDir::Missing))?;
        if !meta.is_dir() {
            return Err(not(NotCaDir::NotADirectory));
        }
        if !dir.join("certs").is_dir() || fs::symlink_metadata(dir.join("private")).is_err() {
            return Err(not(NotCaDir::NoCertsOrPrivate));
        }
        let mut ca = CaDir {
            root: dir.to_owned(),
            notes: Vec::new(),
            register: Location::in_ca_dir(dir),
            shared: false,
        };
        ca.check_private()?;
        ca.clean_temps();
        Ok(ca)
    }

    /// Opens the directory, creating it and its `certs/`, `private/` (0700) and `csr/` as needed,
    /// each with its mode whatever the umask.
    pub fn create(dir: &Path) -> Result<Self> {
        if dir.exists() && !dir.is_dir() {
            return Err(Error::NotACaDir {
                dir: dir.to_owned(),
                reason: NotCaDir::ExistsNotADirectory,
            });
        }
        if !dir.exists() {
            create_dirs(dir)?;
        }
        let top = files::Dir::open(dir).map_err(|e| Error::io(dir, e))?;
        for sub in ["certs", "csr"] {
            top.subdir(sub, Some(DIR_MODE))
                .map_err(|e| Error::io(dir.join(sub), e))?;
        }
        top.subdir("private", Some(PRIVATE_MODE))
            .map_err(|e| Error::io(dir.join("private"), e))?;
        let mut ca = CaDir {
            root: dir.to_owned(),
            notes: Vec::new(),
            register: Location::in_ca_dir(dir),
            shared: false,
        };
        ca.check_private()?;
        ca.clean_temps();
        Ok(ca)
    }

    /// What opening the directory found and corrected (a `private/` others could read, stale
    /// temporary files removed), one sentence each.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// `private/` is a directory of this user's, not a link, and nobody else's to read.
    fn check_private(&mut self) -> Result<()> {
        let private = self.root.join("private");
        let refuse = |reason: NotCaDir| Error::NotACaDir {
            dir: private.clone(),
            reason,
        };
        let d = self.private_dir().map_err(|e| {
            refuse(NotCaDir::PrivateUnusable {
                reason: e.to_string(),
            })
        })?;
        let (mode, owner) = d.mode_and_owner().map_err(|e| Error::io(&private, e))?;
        #[cfg(unix)]
        {
            let me = rustix::process::geteuid().as_raw();
            if owner != me {
                return Err(refuse(NotCaDir::OwnedByOther { owner, me }));
            }
        }
        let _ = owner;
        if mode & 0o077 != 0 {
            d.set_mode(PRIVATE_MODE)
                .map_err(|e| Error::io(&private, e))?;
            self.notes.push(format!(
                "{} was mode {mode:04o} (others could read the keys); corrected to 0700",
                private.display()
            ));
        }
        Ok(())
    }

    fn clean_temps(&mut self) {
        let mut n = 0;
        for sub in ["private", "certs", "csr", CRL_DIR] {
            if let Ok(d) = self.sub_dir(sub) {
                n += d.remove_stale_temps().unwrap_or(0);
            }
        }
        if n > 0 {
            self.notes.push(format!(
                "removed {n} temporary file(s) an interrupted pki left in {}",
                self.root.display()
            ));
        }
    }

    pub(crate) fn private_dir(&self) -> std::io::Result<files::Dir> {
        self.sub_dir("private")
    }

    /// A subdirectory of the CA directory, opened without following a link.
    pub(crate) fn sub_dir(&self, name: &str) -> std::io::Result<files::Dir> {
        files::Dir::open(&self.root)?.subdir(name, None)
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
    /// `private/<prefix>.key.uri`: the `pkcs11:` URI of a key kept on a token (instead of
    /// [`CaDir::key_path`]).
    pub fn key_uri_path(&self, prefix: &str) -> PathBuf {
        self.root.join("private").join(format!("{prefix}.key.uri"))
    }

    /// Where `prefix`'s key is kept: on a token when its URI is recorded, else in its file.
    pub fn key_record(&self, prefix: &str) -> KeyRecord {
        let uri = self.key_uri_path(prefix);
        if uri.is_file() {
            KeyRecord::Token(uri)
        } else {
            KeyRecord::File(self.key_path(prefix))
        }
    }

    /// The `pkcs11:` URI recorded for `prefix`'s key, when its key is on a token.
    pub fn key_uri(&self, prefix: &str) -> Result<Option<String>> {
        let path = self.key_uri_path(prefix);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text.trim().to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// How the register names a file: relative to the CA directory when the file is in it (as
    /// every `certs/<prefix>.cert.pem`), else its absolute path (a certificate written where a
    /// device reads it).
    pub fn register_path(&self, file: &Path) -> String {
        // A path in the directory is written with `/` on every system, as the register's
        // other paths are (`certs/<prefix>.cert.pem`).
        let relative = |rel: &Path| {
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        };
        if let Ok(rel) = file.strip_prefix(&self.root) {
            return relative(rel);
        }
        let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
        if let Ok(root) = std::path::absolute(&self.root)
            && let Ok(rel) = abs.strip_prefix(&root)
        {
            return relative(rel);
        }
        abs.to_string_lossy().into_owned()
    }

    /// The file a register's `path` names: a relative path is in the CA directory, an
    /// absolute one where it is.
    pub fn file_of(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }

    /// `private/placed-<16 hex digits>.key.path`: the record of where the key of the
    /// certificate the register records at `path` is, when pki wrote them under names the user
    /// chose ([`Placement`]). Named by the SHA-256 of `path`, which a renewal in place keeps.
    fn placement_record(&self, path: &str) -> PathBuf {
        let digest = ring::digest::digest(&ring::digest::SHA256, path.as_bytes());
        let hex = pki_x509::text::hex_upper(&digest.as_ref()[..8]).to_ascii_lowercase();
        self.root
            .join("private")
            .join(format!("{PLACED_PREFIX}{hex}{PLACED_SUFFIX}"))
    }

    /// Where the certificate the register records at `path` and its key were written, when
    /// pki wrote them under names the user chose (`None` for the CA directory's own names).
    pub fn placement(&self, path: &str) -> Result<Option<Placement>> {
        let record = self.placement_record(path);
        let text = match fs::read_to_string(&record) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&record, e)),
        };
        let key = text.lines().next().unwrap_or_default().trim_end();
        if key.is_empty() {
            return Ok(None);
        }
        Ok(Some(Placement {
            cert: self.file_of(path),
            key: self.file_of(key),
        }))
    }

    /// `csr/<prefix>.csr.pem`.
    pub fn csr_path(&self, prefix: &str) -> PathBuf {
        self.root.join("csr").join(format!("{prefix}.csr.pem"))
    }
}

/// The file name of `p` (empty when it names none).
pub(crate) fn file_name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Creates `dir` and its missing parents with mode 0755, whatever the umask.
fn create_dirs(dir: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(DIR_MODE);
    }
    b.create(dir).map_err(|e| Error::io(dir, e))
}

/// Certificates as one PEM bundle.
pub fn pem_bundle(certs: &[Certificate]) -> String {
    certs.iter().map(Certificate::to_pem).collect()
}

/// Reads every certificate of a PEM or DER file (a regular file of at most 16 MiB:
/// [`files::read_input`]).
pub fn read_certs(path: &Path) -> Result<Vec<Certificate>> {
    let bytes = files::read_input(path, files::Input::Document).map_err(|e| Error::io(path, e))?;
    Ok(Certificate::parse_all(&bytes, &path.display().to_string())?)
}

/// The first certificate of a PEM or DER file (a bundle's leaf).
pub fn read_first_cert(path: &Path) -> Result<Certificate> {
    read_certs(path)?
        .into_iter()
        .next()
        .ok_or_else(|| crate::error::bad_cert(&path.display().to_string(), "no certificate"))
}
