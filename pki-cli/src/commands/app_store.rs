//! `pki install-ca / uninstall-ca / list-ca --java | --nss`: the trust stores of applications
//! that ignore the operating system's (a JDK's cacerts; NSS databases: Firefox, Chromium on
//! Linux). pki-truststore does the work; this file finds the stores from the flags and this
//! process's environment (JAVA_HOME, PATH, HOME) and renders the reports.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use pki_truststore::{
    AppEntry, AppReport, AppStatus, Environment, Fingerprint, JavaStore, NssDb, StoreCertificate,
};
use serde::Serialize;
use zeroize::Zeroizing;

use super::first_line_of;
use super::trust::{AppStoreOpts, InstallCaArgs, ListCaArgs, StoreOpts, UninstallCaArgs};
use crate::env;
use crate::output::{Outcome, Output, escape_line};

/// A pki-truststore error in the CLI's words (hints.rs).
fn t<T>(r: Result<T, pki_truststore::Error>) -> Result<T> {
    r.map_err(|e| crate::hints::truststore(e, None))
}

fn environment() -> Environment {
    Environment {
        path: std::env::var_os(env::system::PATH),
        system_root: std::env::var_os(env::system::SYSTEM_ROOT),
    }
}

/// The stores the flags name.
enum Stores {
    Java(JavaStore, Zeroizing<String>),
    Nss(Vec<NssDb>),
}

fn stores(apps: &AppStoreOpts, store: &StoreOpts, env: &Environment) -> Result<Stores> {
    if store.root.is_some() || store.dry_run {
        bail!(
            "--root and --dry-run act on the OS store only; --java and --nss act on this machine's stores"
        );
    }
    if apps.java {
        let java_home = std::env::var_os(env::system::JAVA_HOME);
        let java = t(JavaStore::find(
            java_home.as_deref(),
            apps.cacerts.as_deref(),
            env,
        ))?;
        let pass = match &apps.storepass_file {
            Some(f) => first_line_of(f, "store password file")?,
            None => Zeroizing::new(pki_truststore::DEFAULT_STOREPASS.to_owned()),
        };
        if !java.cacerts.is_file() {
            bail!(
                "{}: no such Java keystore; name it with --cacerts PATH",
                java.cacerts.display()
            );
        }
        return Ok(Stores::Java(java, pass));
    }
    let home = std::env::var_os(env::system::HOME).map(PathBuf::from);
    let dirs = t(pki_truststore::nss_databases(
        apps.nss_db.as_deref(),
        home.as_deref(),
    ))?;
    let dbs = t(dirs
        .into_iter()
        .map(|d| NssDb::new(d, env))
        .collect::<Result<Vec<_>, _>>())?;
    Ok(Stores::Nss(dbs))
}

#[derive(Serialize)]
struct AppReports {
    results: Vec<AppReport>,
}

/// `pki install-ca --java|--nss`.
pub(crate) fn install(a: InstallCaArgs, out: &Output) -> Result<Outcome> {
    let env = environment();
    let cert = t(StoreCertificate::read(&a.cert))?;
    if !cert.is_ca && !a.allow_leaf {
        bail!(
            "{}: not a CA certificate (basicConstraints CA:FALSE); give --allow-leaf to pin it anyway",
            a.cert.display()
        );
    }
    let alias = match &a.name {
        Some(n) => n.clone(),
        None => cert.default_name(),
    };
    let results = match stores(&a.apps, &a.store, &env)? {
        Stores::Java(java, pass) => vec![t(java.install(&cert, &a.cert, &alias, &pass, &env))?],
        Stores::Nss(dbs) => t(dbs
            .iter()
            .map(|db| db.install(&cert, &a.cert, &alias, &env))
            .collect::<Result<_, _>>())?,
    };
    emit(results, out)
}

/// `pki uninstall-ca --java|--nss`.
pub(crate) fn uninstall(a: UninstallCaArgs, out: &Output) -> Result<Outcome> {
    let env = environment();
    let path = Path::new(&a.cert);
    let sha256 = if path.is_file() {
        t(StoreCertificate::read(path))?.sha256
    } else {
        match Fingerprint::parse(&a.cert) {
            Some(Fingerprint::Sha256(h)) => h,
            _ => bail!(
                "{}: neither a certificate file nor a SHA-256 fingerprint (64 hex digits); --java and --nss find certificates by SHA-256",
                a.cert
            ),
        }
    };
    let results = match stores(&a.apps, &a.store, &env)? {
        Stores::Java(java, pass) => vec![t(java.uninstall(&sha256, &pass, &env))?],
        Stores::Nss(dbs) => t(dbs
            .iter()
            .map(|db| db.uninstall(&sha256, &env))
            .collect::<Result<_, _>>())?,
    };
    emit(results, out)
}

#[derive(Serialize)]
struct AppListing {
    stores: Vec<Listed>,
}

#[derive(Serialize)]
struct Listed {
    location: PathBuf,
    certificates: Vec<AppEntry>,
}

/// `pki list-ca --java|--nss`: what pki installed (aliases `pki-...`), or with --all every entry.
pub(crate) fn list(a: ListCaArgs, out: &Output) -> Result<Outcome> {
    let env = environment();
    let keep = |entries: Vec<AppEntry>| -> Vec<AppEntry> {
        entries
            .into_iter()
            .filter(|e| a.all || e.alias.starts_with("pki-"))
            .collect()
    };
    let stores = match stores(&a.apps, &a.store, &env)? {
        Stores::Java(java, pass) => vec![Listed {
            location: java.cacerts.clone(),
            certificates: keep(t(java.list(&pass, &env))?),
        }],
        Stores::Nss(dbs) => dbs
            .iter()
            .map(|db| {
                Ok(Listed {
                    location: db.dir.clone(),
                    certificates: keep(t(db.list(&env))?),
                })
            })
            .collect::<Result<_>>()?,
    };
    let listing = AppListing { stores };
    out.emit(&listing, || {
        let mut s = String::new();
        for st in &listing.stores {
            s += &format!("{}:\n", escape_line(&st.location.display().to_string()));
            if st.certificates.is_empty() {
                s += "  (none)\n";
            }
            for c in &st.certificates {
                s += &format!("  {}  SHA-256 {}\n", escape_line(&c.alias), c.sha256);
            }
        }
        s
    })?;
    Ok(Outcome::Success)
}

fn emit(results: Vec<AppReport>, out: &Output) -> Result<Outcome> {
    let r = AppReports { results };
    out.emit(&r, || {
        r.results
            .iter()
            .map(|x| {
                let what = match x.status {
                    AppStatus::Installed => "installed in",
                    AppStatus::AlreadyInstalled => "already installed in",
                    AppStatus::Removed => "removed from",
                    AppStatus::NotInstalled => "not installed in",
                };
                let who = if x.alias.is_empty() {
                    format!("SHA-256 {}", x.sha256)
                } else {
                    escape_line(&x.alias).into_owned()
                };
                format!(
                    "{who} {what} {} ({})\n",
                    escape_line(&x.location.display().to_string()),
                    match x.store {
                        pki_truststore::AppStore::Java => "Java keystore",
                        pki_truststore::AppStore::Nss => "NSS database",
                    }
                )
            })
            .collect()
    })?;
    Ok(Outcome::Success)
}
