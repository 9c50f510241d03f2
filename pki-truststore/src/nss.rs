//! NSS databases (`cert9.db`: Firefox profiles, `~/.pki/nssdb` that Chromium on Linux and NSS
//! tools read) through `certutil`, as mkcert does: a CA is added with trust `C,,` (trusted to
//! issue server certificates), found by SHA-256 (idempotent), listed and deleted.

use std::path::{Path, PathBuf};

use pki_x509::Certificate;

use crate::app::{self, AppEntry, AppReport, AppStatus, AppStore};
use crate::cert::StoreCertificate;
use crate::child::Environment;
use crate::error::Error;

/// The NSS databases to act on: `explicit` (which must hold `cert9.db`), else those of `home`
/// (`~/.pki/nssdb`, and every Firefox profile with a `cert9.db`).
pub fn nss_databases(explicit: Option<&Path>, home: Option<&Path>) -> Result<Vec<PathBuf>, Error> {
    if let Some(dir) = explicit {
        if !dir.join("cert9.db").is_file() {
            return Err(Error::NotNssDatabase {
                dir: dir.to_owned(),
            });
        }
        return Ok(vec![dir.to_owned()]);
    }
    let Some(home) = home else {
        return Err(Error::NoHome);
    };
    let mut found = Vec::new();
    let nssdb = home.join(".pki/nssdb");
    let profiles = [
        home.join(".mozilla/firefox"),
        home.join("snap/firefox/common/.mozilla/firefox"),
    ];
    if nssdb.join("cert9.db").is_file() {
        found.push(nssdb.clone());
    }
    for dir in &profiles {
        let mut in_dir: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| Some(e.ok()?.path()))
                    .filter(|p| p.join("cert9.db").is_file())
                    .collect()
            })
            .unwrap_or_default();
        in_dir.sort();
        found.extend(in_dir);
    }
    if found.is_empty() {
        let looked: Vec<String> = std::iter::once(nssdb)
            .chain(profiles.iter().map(|p| p.join("*")))
            .map(|p| p.display().to_string())
            .collect();
        return Err(Error::NoNssDatabase {
            looked: looked.join(", "),
        });
    }
    Ok(found)
}

/// One NSS database and the certutil that edits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NssDb {
    /// The database directory (holding `cert9.db`).
    pub dir: PathBuf,
    /// certutil, by absolute path.
    pub certutil: PathBuf,
}

impl NssDb {
    /// The database in `dir`, with the certutil on `env`'s PATH (Debian: libnss3-tools).
    pub fn new(dir: PathBuf, env: &Environment) -> Result<Self, Error> {
        let dirs = app::path_dirs(env);
        let certutil = app::find_in(&dirs, "certutil").ok_or_else(|| Error::MissingTool {
            tool: "certutil",
            looked: dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            package: "libnss3-tools",
            where_: "",
        })?;
        Ok(NssDb { dir, certutil })
    }

    fn db(&self) -> String {
        format!("sql:{}", self.dir.display())
    }

    /// The certificates of the database, with their SHA-256.
    pub fn list(&self, env: &Environment) -> Result<Vec<AppEntry>, Error> {
        let out = app::run(&self.certutil, &["-L".into(), "-d".into(), self.db()], env)?;
        // A header, then `NICKNAME<spaces>TRUST` per certificate: TRUST is three
        // comma-separated flag sets (`C,,`, `CT,C,C`); the header's `SSL,S/MIME,JAR/XPI` is not.
        let mut entries = Vec::new();
        for line in out.lines() {
            let line = line.trim_end();
            let Some((name, trust)) = line.rsplit_once(char::is_whitespace) else {
                continue;
            };
            let is_trust = trust.matches(',').count() == 2
                && trust.chars().all(|c| c == ',' || "pPcCTuwkIDs".contains(c));
            let name = name.trim_end().to_owned();
            if !is_trust || name.is_empty() {
                continue;
            }
            let args = ["-L", "-d", &self.db(), "-n", &name, "-a"].map(str::to_owned);
            let pem = app::run(&self.certutil, &args, env)?;
            for cert in Certificate::parse_all(pem.as_bytes(), &name).unwrap_or_default() {
                entries.push(AppEntry {
                    alias: name.clone(),
                    sha256: cert.sha256_hex(),
                });
            }
        }
        Ok(entries)
    }

    /// Adds `cert` (read from `file`) as `nickname` with trust `C,,`, unless it is there.
    pub fn install(
        &self,
        cert: &StoreCertificate,
        file: &Path,
        nickname: &str,
        env: &Environment,
    ) -> Result<AppReport, Error> {
        let found = self
            .list(env)?
            .into_iter()
            .find(|e| e.sha256 == cert.sha256);
        let (status, alias) = match found {
            Some(e) => (AppStatus::AlreadyInstalled, e.alias),
            None => {
                let args = [
                    "-A",
                    "-d",
                    &self.db(),
                    "-t",
                    "C,,",
                    "-n",
                    nickname,
                    "-i",
                    &file.display().to_string(),
                ]
                .map(str::to_owned);
                app::run(&self.certutil, &args, env)?;
                (AppStatus::Installed, nickname.to_owned())
            }
        };
        Ok(self.report(status, alias, &cert.sha256))
    }

    /// Deletes every certificate with SHA-256 `sha256`.
    pub fn uninstall(&self, sha256: &str, env: &Environment) -> Result<AppReport, Error> {
        let (status, alias) = app::remove_all(self.list(env)?, sha256, |e| {
            let args = ["-D", "-d", &self.db(), "-n", &e.alias].map(str::to_owned);
            app::run(&self.certutil, &args, env).map(drop)
        })?;
        Ok(self.report(status, alias, sha256))
    }

    fn report(&self, status: AppStatus, alias: String, sha256: &str) -> AppReport {
        AppReport {
            store: AppStore::Nss,
            location: self.dir.clone(),
            status,
            alias,
            sha256: sha256.to_owned(),
        }
    }
}
