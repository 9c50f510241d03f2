//! The CA directory's register: opening it (the directory's own `register.sqlite3` refused when
//! it is not its own, `index.jsonl` migrated on first use), binding it to the directory's id, and
//! the register's row of a certificate just issued.

use std::fs;
use std::path::{Path, PathBuf};

use pki_register::{Location, Query, Record, Register};
use pki_x509::{Certificate, files};

use super::{CRL_DIR, CaDir, DIRECTORY_ID_FILE, PUBLIC_MODE, read_certs};
use crate::error::{Error, Foreign, Result};
use crate::issue::Issued;
use crate::profile::Profile;

impl CaDir {
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
