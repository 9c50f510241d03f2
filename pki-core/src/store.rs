//! The CA directory: Azure IoT Edge `certGen.sh` file names, keys 0600 in a 0700 `private/`,
//! atomic writes (temporary file, then rename), no overwrite without `force`, and every issued
//! certificate recorded in the register (pki-register) in the same transaction as its files.

use std::fs;
use std::path::{Path, PathBuf};

use pki_register::{Location, Query, Record, Register};
use serde::Serialize;

use crate::error::{Error, Foreign, NotCaDir, Result};
use crate::issue::Issued;
use crate::profile::Profile;
use pki_x509::Certificate;
use pki_x509::files;

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

    /// The same directory with its register elsewhere (a PostgreSQL database several build
    /// agents share, or another SQLite file).
    pub fn with_register(mut self, location: Location) -> Self {
        self.register = location;
        self.shared = true;
        self
    }

    /// Whether the register was named (`--register`), and may serve other directories too.
    pub fn is_shared_register(&self) -> bool {
        self.shared
    }

    /// Where the directory's register is.
    pub fn register_location(&self) -> &Location {
        &self.register
    }

    /// Opens the register. On first use, the certificates of an `index.jsonl` (what pki
    /// recorded before the register) are imported and the file renamed `index.jsonl.migrated`;
    /// an import cut short is simply done again (rows already there are skipped).
    ///
    /// The directory's own register (`register.sqlite3`, no `--register`) must be its own: a
    /// link is refused, and so is one missing, empty, or serving another CA directory, once the
    /// directory has issued certificates (taking it would forget every revocation). A register
    /// records the id of each directory it serves ([`DIRECTORY_ID_FILE`]); one written before
    /// it did is bound on first open. A shared register (`--register`) serves several.
    pub fn register(&self) -> Result<Register> {
        if !self.shared {
            self.check_own_register()?;
        }
        let mut register = Register::open(self.register.clone())?;
        let index = self.index_path();
        if index.is_file() {
            let mut records = self.index()?;
            let issuers = self.ca_fingerprints_by_subject();
            for r in &mut records {
                if r.issuer_sha256.is_none() {
                    r.issuer_sha256 = issuers.get(&r.issuer).cloned().flatten();
                }
            }
            let mut tx = register.transaction()?;
            tx.import(&records)?;
            tx.commit()?;
            let migrated = self.root.join("index.jsonl.migrated");
            fs::rename(&index, &migrated).map_err(|e| Error::io(&index, e))?;
        }
        if !self.shared && self.has_issued() && register.is_empty()? {
            return Err(Error::RegisterLost {
                path: self.root.join(pki_register::SQLITE_FILE),
                what: "empty (no certificate in it)",
            });
        }
        self.bind(&mut register)?;
        Ok(register)
    }

    /// Refuses the directory's own register file when it is a link, or missing or empty
    /// while the directory has issued certificates (and no `index.jsonl` to migrate).
    fn check_own_register(&self) -> Result<()> {
        let Location::Sqlite(path) = &self.register else {
            return Ok(());
        };
        let lost = |what| {
            if self.has_issued() && !self.index_path().is_file() {
                Err(Error::RegisterLost {
                    path: path.clone(),
                    what,
                })
            } else {
                Ok(())
            }
        };
        match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => Err(Error::ForeignRegister {
                register: path.display().to_string(),
                reason: Foreign::SymbolicLink,
            }),
            Ok(m) if m.is_file() && m.len() == 0 => lost("empty"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => lost("missing"),
            _ => Ok(()),
        }
    }

    /// Whether the directory has issued certificates: a CA certificate in `certs/`, or a CRL
    /// in `crl/`.
    pub fn has_issued(&self) -> bool {
        self.ca_prefixes()
            .iter()
            .any(|prefix| self.cert_path(prefix).is_file())
            || fs::read_dir(self.root.join(CRL_DIR)).is_ok_and(|entries| {
                entries.flatten().any(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.ends_with(".crl.pem") || name.ends_with(".crl.der")
                })
            })
    }

    /// Records in `register` that it serves this directory; refuses the directory's own
    /// register when it already serves another.
    fn bind(&self, register: &mut Register) -> Result<()> {
        let id = self.directory_id()?;
        let served = register.served()?;
        if served.iter().any(|(served_id, _)| *served_id == id) {
            return Ok(());
        }
        if !self.shared
            && let Some((_, other)) = served.first()
        {
            return Err(Error::ForeignRegister {
                register: register.location().to_string(),
                reason: Foreign::ServesAnother {
                    other: other.clone(),
                },
            });
        }
        let at = fs::canonicalize(&self.root).unwrap_or_else(|_| self.root.clone());
        register.serve(&id, &at.display().to_string())?;
        Ok(())
    }

    /// The directory's id (in [`DIRECTORY_ID_FILE`]), made (random, 128 bits) when it has none.
    fn directory_id(&self) -> Result<String> {
        let path = self.root.join(DIRECTORY_ID_FILE);
        let read = || -> Result<Option<String>> {
            match fs::read_to_string(&path) {
                Ok(text) => {
                    let id = text.trim();
                    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
                        Ok(Some(id.to_ascii_lowercase()))
                    } else {
                        Err(Error::ForeignRegister {
                            register: self.register.to_string(),
                            reason: Foreign::BadDirectoryId { path: path.clone() },
                        })
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::io(&path, e)),
            }
        };
        if let Some(id) = read()? {
            return Ok(id);
        }
        let id: String = (0..16)
            .map(|_| format!("{:02x}", rand::random::<u8>()))
            .collect();
        let dir = files::Dir::open(&self.root).map_err(|e| Error::io(&self.root, e))?;
        let mut tx = files::Transaction::default();
        tx.add(
            dir.stage(DIRECTORY_ID_FILE, format!("{id}\n").as_bytes(), PUBLIC_MODE)
                .map_err(|e| Error::io(&path, e))?,
        );
        match tx.commit(false) {
            Ok(()) => Ok(id),
            // Another run made it first: its id.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                read()?.ok_or_else(|| Error::io(&path, e))
            }
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// The rows of the register `query` selects.
    pub fn records(&self, query: &Query) -> Result<Vec<Record>> {
        Ok(self.register()?.records(query)?)
    }

    /// The SHA-256 of each CA certificate of the directory, by subject (`None` for a subject
    /// two CAs share: which one signed is then not known).
    fn ca_fingerprints_by_subject(&self) -> std::collections::HashMap<String, Option<String>> {
        let mut by_subject = std::collections::HashMap::new();
        for prefix in self.ca_prefixes() {
            let Some(cert) = read_certs(&self.cert_path(&prefix))
                .ok()
                .and_then(|c| c.into_iter().next())
            else {
                continue;
            };
            by_subject
                .entry(crate::issue::Facts::of(&cert).subject)
                .and_modify(|v: &mut Option<String>| *v = None)
                .or_insert(Some(cert.sha256_hex()));
        }
        by_subject
    }

    /// The prefixes of the directory's CAs: the root, the intermediate, the edge CAs (whether
    /// their files exist or not).
    pub(crate) fn ca_prefixes(&self) -> Vec<String> {
        let roles = self
            .ca_roles()
            .unwrap_or_else(|_| vec![CaRole::Root, CaRole::Intermediate]);
        roles.iter().map(CaRole::prefix).collect()
    }

    /// The roles a CA of the directory may have: the root, the intermediate, and each edge CA
    /// whose certificate is in `certs/` (whether the root's and intermediate's files exist or
    /// not).
    pub fn ca_roles(&self) -> Result<Vec<CaRole>> {
        let mut roles = vec![CaRole::Root, CaRole::Intermediate];
        roles.extend(self.edge_ca_names()?.into_iter().map(CaRole::EdgeCa));
        Ok(roles)
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
        // A renewal keeps the replaced certificate as `<prefix>.<OLD SERIAL>.cert.pem` beside
        // the CA's own file: that is no edge CA of its own.
        let kept = |n: &String| {
            split_kept_prefix(n)
                .is_some_and(|(base, _)| self.cert_path(&edge_ca_prefix(base)).is_file())
        };
        names.retain(|n| !kept(n));
        names.sort();
        Ok(names)
    }

    /// The previous certificates of the directory's CAs that renewals kept with their keys
    /// (a kept certificate whose key is gone can sign nothing and is left out), by CA, oldest
    /// serial first within a CA only by name.
    pub fn kept_cas(&self) -> Result<Vec<KeptCa>> {
        let roles = self.ca_roles()?;
        let certs = self.root.join("certs");
        let mut files: Vec<String> = Vec::new();
        for entry in fs::read_dir(&certs).map_err(|e| Error::io(&certs, e))? {
            let entry = entry.map_err(|e| Error::io(&certs, e))?;
            if let Ok(name) = entry.file_name().into_string() {
                files.push(name);
            }
        }
        files.sort();
        let mut kept = Vec::new();
        for role in roles {
            let prefix = role.prefix();
            for file in &files {
                let Some((base, serial)) = file
                    .strip_suffix(".cert.pem")
                    .filter(|n| !n.ends_with("-full-chain"))
                    .and_then(split_kept_prefix)
                else {
                    continue;
                };
                if base != prefix {
                    continue;
                }
                let kp = kept_prefix(&prefix, serial);
                let key = self.key_record(&kp);
                if key.path().is_file() {
                    kept.push(KeptCa {
                        role: role.clone(),
                        serial: serial.to_owned(),
                        cert: certs.join(file),
                        key,
                    });
                }
            }
        }
        Ok(kept)
    }

    /// The gateways' server certificates in service, one per host (the CN), sorted by host: the
    /// register's rows of profile `server` and status issued; of several for one host, the one
    /// that expires last. What a renewal replaced (and kept beside the new files as
    /// `<prefix>.<OLD SERIAL>.cert.pem`) is superseded, and a revoked gateway is revoked:
    /// neither is a gateway.
    pub fn gateways(&self) -> Result<Vec<Record>> {
        let query = Query {
            profile: Some(Profile::Server.name().to_owned()),
            status: Some(pki_register::Status::Issued),
            ..Query::default()
        };
        // Rows come by notAfter: a later row of a host replaces an earlier one.
        let mut by_host = std::collections::BTreeMap::new();
        for row in self.records(&query)? {
            by_host.insert(row.common_name.clone(), row);
        }
        Ok(by_host.into_values().collect())
    }

    /// The certificate in service of the device `id` (profile `device` or
    /// `self-signed-device`, the one that expires last) and where its files are; `None` when
    /// the register has none.
    pub fn device(&self, id: &str) -> Result<Option<DeviceFiles>> {
        let query = Query {
            common_name: Some(id.to_owned()),
            status: Some(pki_register::Status::Issued),
            ..Query::default()
        };
        let devices = [Profile::Device.name(), Profile::SelfSignedDevice.name()];
        // Rows come by notAfter; the pattern also matches CNs with `*`, `?` or `[`: exact only.
        let Some(record) = self
            .records(&query)?
            .into_iter()
            .rfind(|r| r.common_name == id && devices.contains(&r.profile.as_str()))
        else {
            return Ok(None);
        };
        let files = if let Some(p) = self.placement(&record.path)? {
            DeviceFiles {
                cert: p.cert,
                full_chain: None,
                key: Some(KeyRecord::File(p.key)),
                placed: true,
                record,
            }
        } else if let Some(prefix) = self.prefix_in_certs(&record.path) {
            let chain = self.full_chain_path(&prefix);
            DeviceFiles {
                cert: self.cert_path(&prefix),
                full_chain: chain.is_file().then_some(chain),
                key: Some(self.key_record(&prefix)),
                placed: false,
                record,
            }
        } else {
            // Adopted from elsewhere: where its key is, pki does not know.
            DeviceFiles {
                cert: self.file_of(&record.path),
                full_chain: None,
                key: None,
                placed: false,
                record,
            }
        };
        Ok(Some(files))
    }

    /// The prefix of a register path `certs/<prefix>.cert.pem` (not a full chain's).
    pub(crate) fn prefix_in_certs(&self, path: &str) -> Option<String> {
        Path::new(path)
            .strip_prefix(&self.root)
            .unwrap_or(Path::new(path))
            .strip_prefix("certs")
            .ok()
            .and_then(|p| p.to_str())
            .and_then(|n| n.strip_suffix(".cert.pem"))
            .filter(|n| !n.contains('/') && !n.ends_with("-full-chain"))
            .map(str::to_owned)
    }

    /// The file of the directory's CA certificate whose SHA-256 is `sha256`: a CA at its
    /// role's path, or one a renewal replaced and kept (`certs/<prefix>.<OLD SERIAL>.cert.pem`).
    pub fn ca_certificate_file(&self, sha256: &str) -> Option<PathBuf> {
        // The CAs at their roles' paths first: most often it is one of them.
        let standard = self.ca_prefixes().into_iter().map(|p| self.cert_path(&p));
        standard
            .chain(self.certificate_files())
            .find(|p| read_first_cert(p).is_ok_and(|c| c.is_ca() && c.sha256_hex() == sha256))
    }

    /// Every certificate file in `certs/` (`*.cert.pem`, full-chain files aside); none when
    /// `certs/` cannot be read.
    fn certificate_files(&self) -> Vec<PathBuf> {
        fs::read_dir(self.root.join("certs"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = file_name_of(p);
                name.ends_with(".cert.pem") && !name.ends_with("-full-chain.cert.pem")
            })
            .collect()
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

    /// Every CA certificate in `certs/`: the CAs at their roles' paths and the old ones a
    /// renewal kept (full-chain files aside). Unreadable files are passed over.
    pub fn ca_certificates(&self) -> Vec<Certificate> {
        self.certificate_files()
            .iter()
            .filter_map(|p| read_first_cert(p).ok())
            .filter(Certificate::is_ca)
            .collect()
    }

    /// The chain above `cert` in this directory, as its -full-chain file would hold it: the CA
    /// whose key signed it, then each CA above that one, up to a self-issued root. Empty when
    /// no CA of the directory signed it (or it is self-issued).
    pub fn issuer_chain(&self, cert: &Certificate) -> Vec<Certificate> {
        let cas = self.ca_certificates();
        let mut chain: Vec<Certificate> = Vec::new();
        let mut current = cert.clone();
        // A chain of the directory is a handful of CAs; the bound stops a loop of cross-signed
        // CAs, as does never taking a CA twice. Of a CA renewed on the same key (the kept old
        // certificate and the new one), the one valid longest: the CA's current certificate.
        while !current.is_self_issued() && chain.len() < 16 {
            let next = cas
                .iter()
                .filter(|c| current.is_signed_by(c) && !chain.iter().any(|k| k.der() == c.der()))
                .max_by_key(|c| c.x509().validity().not_after.timestamp());
            let Some(next) = next else { break };
            chain.push(next.clone());
            current = next.clone();
        }
        chain
    }

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

    /// The register's row of `issued` (its issuer: the chain's second certificate, or itself
    /// when self-signed), to be stored at `cert_path`.
    pub fn issued_record(&self, issued: &Issued, profile: Profile, cert_path: &Path) -> Record {
        let issuer = issued.chain.get(1).unwrap_or(&issued.certificate);
        self.record_of(
            &issued.certificate,
            &issued.facts,
            issuer.sha256_hex(),
            profile,
            cert_path,
        )
    }

    /// The register's row of a certificate just issued by the CA whose certificate's SHA-256 is
    /// `issuer_sha256` (its own, when self-signed), to be stored at `cert_path`. The issuer's
    /// fingerprint is the caller's to compute: a batch computes it once for the lot.
    pub fn record_of(
        &self,
        cert: &Certificate,
        facts: &crate::issue::Facts,
        issuer_sha256: String,
        profile: Profile,
        cert_path: &Path,
    ) -> Record {
        Record {
            serial: facts.serial.clone(),
            subject: facts.subject.clone(),
            common_name: facts.common_name.clone(),
            issuer: facts.issuer.clone(),
            issuer_sha256: Some(issuer_sha256),
            profile: profile.name().to_owned(),
            not_before: facts.not_before,
            not_after: facts.not_after,
            sha256: cert.sha256_hex(),
            path: self.register_path(cert_path),
            status: pki_register::Status::Issued,
            superseded_by: None,
            revoked_at: None,
            revocation_reason: None,
        }
    }

    /// `index.jsonl`: where pki recorded certificates before the register (read once, to
    /// migrate).
    pub fn index_path(&self) -> PathBuf {
        self.root.join("index.jsonl")
    }

    /// Every complete line of `index.jsonl` (none when it does not exist).
    fn index(&self) -> Result<Vec<Record>> {
        let path = self.index_path();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&path, e)),
        };
        // A last line without its newline is a write that was cut (a kill, a full disk): it is
        // not part of the index.
        let complete = match text.rfind('\n') {
            Some(i) => &text[..=i],
            None => "",
        };
        complete
            .lines()
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

    #[test]
    fn a_kept_edge_ca_certificate_is_no_edge_ca() {
        let d = tempfile::tempdir().unwrap();
        let ca = CaDir::create(&d.path().join("pki")).unwrap();
        let certs = ca.path().join("certs");
        for f in [
            "iot-edge-device-ca-gw.cert.pem",
            "iot-edge-device-ca-gw-full-chain.cert.pem",
            "iot-edge-device-ca-gw.5900EB1F10E5093909B1D834B739E960.cert.pem",
            "iot-edge-device-ca-gw.5900EB1F10E5093909B1D834B739E960-full-chain.cert.pem",
            "iot-edge-device-ca-site.2.cert.pem",
        ] {
            fs::write(certs.join(f), b"").unwrap();
        }
        assert_eq!(ca.edge_ca_names().unwrap(), ["gw", "site.2"]);
    }

    #[test]
    fn gateways_are_the_server_certificates_in_service_one_per_host() {
        use crate::{Issuer, KeyType, PrivateKey, Request, SanEntry, Subject, SubjectKey};
        let d = tempfile::tempdir().unwrap();
        let ca = CaDir::create(&d.path().join("pki")).unwrap();
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let root_key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let root = crate::issue(
            &Request::new(Profile::RootCa { pathlen: None }, Subject::cn("R"), now),
            &SubjectKey::Private(&root_key),
            None,
        )
        .unwrap();
        let issuer = Issuer::new(vec![root.certificate], &root_key, "root", "root key").unwrap();
        let server = |host: &str, prefix: &str, days: u32| {
            let key = PrivateKey::generate(KeyType::EcP256).unwrap();
            let mut req = Request::new(Profile::Server, Subject::cn(host), now);
            req.sans = vec![SanEntry::Dns(host.into())];
            req.days = days;
            let issued = crate::issue(&req, &SubjectKey::Private(&key), Some(&issuer)).unwrap();
            ca.write_issued(prefix, &issued, None, Profile::Server, false)
                .unwrap()
                .1
        };
        let hosts = |ca: &CaDir| -> Vec<(String, String)> {
            ca.gateways()
                .unwrap()
                .into_iter()
                .map(|r| (r.common_name, r.serial))
                .collect()
        };
        let gw = server("gw.example.com", "iot-edge-server-gw.example.com", 30);
        // A second certificate for the same host (a renewal's kept file aside): one gateway,
        // the certificate that expires last.
        let later = server("gw.example.com", "iot-edge-server-gw.example.com.2", 60);
        let other = server("b.example.com", "iot-edge-server-b.example.com", 30);
        assert_eq!(
            hosts(&ca),
            [
                ("b.example.com".into(), other.serial.clone()),
                ("gw.example.com".into(), later.serial.clone())
            ]
        );
        // Superseded and revoked certificates are no gateways.
        let mut register = ca.register().unwrap();
        let mut tx = register.transaction().unwrap();
        tx.supersede(&later.sha256, None).unwrap();
        tx.revoke(&other.sha256, now, pki_register::Reason::Unspecified)
            .unwrap();
        tx.commit().unwrap();
        assert_eq!(hosts(&ca), [("gw.example.com".into(), gw.serial)]);
    }

    #[test]
    fn a_placed_certificate_is_recorded_at_its_absolute_path_with_its_key() {
        use crate::{KeyType, PrivateKey, Request, Subject, SubjectKey};
        let d = tempfile::tempdir().unwrap();
        let ca = CaDir::create(&d.path().join("pki")).unwrap();
        let elsewhere = d.path().join("tedge");
        fs::create_dir(&elsewhere).unwrap();
        let at = Placement {
            cert: elsewhere.join("tedge-certificate.pem"),
            key: elsewhere.join("tedge-private-key.pem"),
        };
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let req = Request::new(Profile::SelfSignedDevice, Subject::cn("dev-x"), now);
        let issued = crate::issue(&req, &SubjectKey::Private(&key), None).unwrap();
        let pem = key.to_pem();
        let (written, row) = ca
            .write_placed(
                &issued,
                pem.as_bytes(),
                &at,
                Profile::SelfSignedDevice,
                false,
            )
            .unwrap();
        assert_eq!(written.cert, at.cert);
        assert_eq!(row.path, at.cert.to_str().unwrap());
        assert_eq!(ca.file_of(&row.path), at.cert);
        assert_eq!(ca.placement(&row.path).unwrap(), Some(at.clone()));
        assert_eq!(fs::read_to_string(&at.key).unwrap(), *pem);
        let rows = ca.records(&Query::default()).unwrap();
        assert_eq!(rows, std::slice::from_ref(&row));
        // A second one at the same paths is refused, and changes nothing.
        let again = crate::issue(&req, &SubjectKey::Private(&key), None).unwrap();
        assert!(matches!(
            ca.write_placed(
                &again,
                pem.as_bytes(),
                &at,
                Profile::SelfSignedDevice,
                false
            ),
            Err(Error::Exists(_))
        ));
        assert_eq!(
            ca.records(&Query::default()).unwrap(),
            std::slice::from_ref(&row)
        );
        // Files of the CA directory keep paths relative to it; no placement of their own.
        let inside = ca.cert_path("iot-device-d");
        assert_eq!(ca.register_path(&inside), "certs/iot-device-d.cert.pem");
        assert_eq!(ca.placement("certs/iot-device-d.cert.pem").unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_failed_write_leaves_no_partial_set() {
        use crate::{KeyType, PrivateKey, Profile, Request, Subject, SubjectKey};
        let d = tempfile::tempdir().unwrap();
        let ca = CaDir::create(&d.path().join("pki")).unwrap();
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let now = time::OffsetDateTime::now_utc();
        let req = Request::new(Profile::SelfSignedDevice, Subject::cn("d"), now);
        let issued = crate::issue(&req, &SubjectKey::Private(&key), None).unwrap();
        // certs/ replaced by a file: the key is written, the certificate cannot be.
        fs::remove_dir(ca.path().join("certs")).unwrap();
        fs::write(ca.path().join("certs"), b"").unwrap();
        assert!(
            ca.write_issued(
                "iot-device-d",
                &issued,
                Some(key.to_pem().as_bytes()),
                Profile::SelfSignedDevice,
                false
            )
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
