//! A JDK's trust store (`$JAVA_HOME/lib/security/cacerts`, or the keystore `--cacerts` names)
//! through that JDK's `keytool`: found by SHA-256 (idempotent), added as a trusted certificate
//! entry, listed and deleted. The store password goes to keytool as `-storepass:file
//! /dev/stdin`, its standard input an unlinked temporary file (Unix): never in its arguments or
//! environment, and never a named file that a kill could leave behind.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::app::{self, AppEntry, AppReport, AppStatus, AppStore};
use crate::cert::StoreCertificate;
use crate::child::Environment;
use crate::error::Error;

/// The password of a JDK's `cacerts` unless it was changed.
pub const DEFAULT_STOREPASS: &str = "changeit";

/// A Java keystore and the keytool that edits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaStore {
    /// The keystore (`cacerts`).
    pub cacerts: PathBuf,
    /// keytool, by absolute path.
    pub keytool: PathBuf,
}

impl JavaStore {
    /// The JDK of `java_home` (the caller's JAVA_HOME), else of the `java` on `env`'s PATH
    /// (links followed); `cacerts` overrides the store's path.
    pub fn find(
        java_home: Option<&OsStr>,
        cacerts: Option<&Path>,
        env: &Environment,
    ) -> Result<Self, Error> {
        let mut homes = Vec::new();
        if let Some(h) = java_home.filter(|h| !h.is_empty()) {
            homes.push(PathBuf::from(h));
        }
        let on_path = app::find_in(&app::path_only(env), "java")
            .and_then(|java| std::fs::canonicalize(java).ok())
            .and_then(|j| Some(j.parent()?.parent()?.to_owned()));
        homes.extend(on_path);
        for home in &homes {
            let keytool = home.join("bin/keytool");
            if keytool.is_file() {
                let cacerts = cacerts
                    .map(Path::to_owned)
                    .unwrap_or_else(|| home.join("lib/security/cacerts"));
                return Ok(JavaStore { cacerts, keytool });
            }
        }
        let looked: Vec<String> = homes.iter().map(|h| h.display().to_string()).collect();
        Err(Error::NoJdk {
            looked: if looked.is_empty() {
                "JAVA_HOME (unset) and PATH (no java)".to_owned()
            } else {
                looked.join(", ")
            },
        })
    }

    /// The trusted certificates of the store.
    pub fn list(&self, storepass: &str, env: &Environment) -> Result<Vec<AppEntry>, Error> {
        let out = self.keytool(&["-list"], storepass, env)?;
        // `alias, date, trustedCertEntry,` then `Certificate fingerprint (SHA-256): AB:CD:...`.
        let mut entries = Vec::new();
        let mut alias: Option<String> = None;
        for line in out.lines() {
            if let Some(fp) = line.strip_prefix("Certificate fingerprint (SHA-256): ") {
                if let Some(a) = alias.take() {
                    entries.push(AppEntry {
                        alias: a,
                        sha256: fp.trim().replace(':', "").to_ascii_uppercase(),
                    });
                }
            } else if line.contains(", trustedCertEntry,") {
                alias = line.split(", ").next().map(str::to_owned);
            }
        }
        Ok(entries)
    }

    /// Adds `cert` (read from `file`) as `alias`, unless a certificate with its SHA-256 is there.
    pub fn install(
        &self,
        cert: &StoreCertificate,
        file: &Path,
        alias: &str,
        storepass: &str,
        env: &Environment,
    ) -> Result<AppReport, Error> {
        let found = self
            .list(storepass, env)?
            .into_iter()
            .find(|e| e.sha256 == cert.sha256);
        let (status, alias) = match found {
            Some(e) => (AppStatus::AlreadyInstalled, e.alias),
            None => {
                let file = file.display().to_string();
                self.keytool(
                    &["-importcert", "-noprompt", "-alias", alias, "-file", &file],
                    storepass,
                    env,
                )?;
                (AppStatus::Installed, alias.to_owned())
            }
        };
        Ok(self.report(status, alias, &cert.sha256))
    }

    /// Deletes every entry whose certificate has SHA-256 `sha256`.
    pub fn uninstall(
        &self,
        sha256: &str,
        storepass: &str,
        env: &Environment,
    ) -> Result<AppReport, Error> {
        let (status, alias) = app::remove_all(self.list(storepass, env)?, sha256, |e| {
            self.keytool(&["-delete", "-alias", &e.alias], storepass, env)
                .map(drop)
        })?;
        Ok(self.report(status, alias, sha256))
    }

    fn report(&self, status: AppStatus, alias: String, sha256: &str) -> AppReport {
        AppReport {
            store: AppStore::Java,
            location: self.cacerts.clone(),
            status,
            alias,
            sha256: sha256.to_owned(),
        }
    }

    /// `keytool ARGS -keystore CACERTS -storepass:file /dev/stdin`, its standard input an
    /// unlinked temporary file holding the password (`O_TMPFILE`, or a file removed as soon as
    /// it is made): the password is only ever reachable through descriptors, so a kill of pki
    /// or of keytool leaves nothing behind.
    #[cfg(unix)]
    fn keytool(&self, args: &[&str], storepass: &str, env: &Environment) -> Result<String, Error> {
        use std::io::Seek;
        let unnamed = |reason| Error::StorePassword {
            path: std::env::temp_dir(),
            reason,
        };
        let mut pass = tempfile::tempfile().map_err(unnamed)?;
        let line = Zeroizing::new(format!("{storepass}\n"));
        pass.write_all(line.as_bytes()).map_err(unnamed)?;
        pass.rewind().map_err(unnamed)?;
        let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        all.extend([
            "-keystore".to_owned(),
            self.cacerts.display().to_string(),
            "-storepass:file".to_owned(),
            // keytool opens the path: /dev/stdin is the descriptor handed to it, read from
            // the start.
            "/dev/stdin".to_owned(),
        ]);
        app::run_with_stdin(&self.keytool, &all, env, pass.into())
    }

    /// `keytool ARGS -keystore CACERTS -storepass:file TMP` (TMP 0600, removed afterwards).
    #[cfg(not(unix))]
    fn keytool(&self, args: &[&str], storepass: &str, env: &Environment) -> Result<String, Error> {
        let mut pass = tempfile::Builder::new()
            .prefix(".pki-storepass-")
            .tempfile()
            .map_err(|reason| Error::StorePassword {
                path: std::env::temp_dir(),
                reason,
            })?;
        let line = Zeroizing::new(format!("{storepass}\n"));
        pass.write_all(line.as_bytes())
            .map_err(|reason| Error::StorePassword {
                path: pass.path().to_owned(),
                reason,
            })?;
        let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        all.extend([
            "-keystore".to_owned(),
            self.cacerts.display().to_string(),
            "-storepass:file".to_owned(),
            pass.path().display().to_string(),
        ]);
        app::run(&self.keytool, &all, env)
    }
}
