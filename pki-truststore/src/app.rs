//! The trust stores of applications that ignore the operating system's: a JDK's `cacerts`
//! ([`crate::JavaStore`], through `keytool`) and NSS databases ([`crate::NssDb`], through
//! `certutil`: Firefox, Chromium on Linux, `tstclnt`). What they share: the report of an
//! operation, an entry as listed, and running their tool with a clean environment.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::child::{Environment, output_with_stdin};
use crate::error::Error;

/// Which application store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppStore {
    /// A JDK's `cacerts` (or another PKCS#12/JKS keystore), through keytool.
    Java,
    /// An NSS database (`cert9.db`), through certutil.
    Nss,
}

/// What an install or uninstall did to one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppStatus {
    /// Added now.
    Installed,
    /// A certificate with the same SHA-256 was there already.
    AlreadyInstalled,
    /// Deleted now.
    Removed,
    /// No certificate with that SHA-256 was there.
    NotInstalled,
}

/// One operation on one store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppReport {
    /// The kind of store.
    pub store: AppStore,
    /// The keystore file or database directory.
    pub location: PathBuf,
    /// What was done.
    pub status: AppStatus,
    /// The alias (Java) or nickname (NSS) of the entry.
    pub alias: String,
    /// SHA-256 of the certificate, upper-case hex.
    pub sha256: String,
}

/// A trusted certificate a store lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppEntry {
    /// The alias or nickname.
    pub alias: String,
    /// SHA-256 of the certificate, upper-case hex.
    pub sha256: String,
}

/// Runs `program args` with a clean environment; its standard output, or
/// [`Error::ProgramFailed`] with the last line it wrote.
pub(crate) fn run(program: &Path, args: &[String], env: &Environment) -> Result<String, Error> {
    run_with_stdin(program, args, env, std::process::Stdio::null())
}

/// [`run`] with `stdin` as the program's standard input (a descriptor handed to it, e.g. a
/// secret it reads as `/dev/stdin`).
pub(crate) fn run_with_stdin(
    program: &Path,
    args: &[String],
    env: &Environment,
    stdin: std::process::Stdio,
) -> Result<String, Error> {
    let out = output_with_stdin(program, args, env, stdin)?;
    if !out.status.success() {
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let said = text
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no output")
            .to_owned();
        return Err(Error::ProgramFailed {
            program: program.to_owned(),
            args: args.to_vec(),
            status: out.status,
            said,
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The first `name` found in `dirs`.
pub(crate) fn find_in(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// The directories of a PATH value, then the system ones.
pub(crate) fn path_dirs(env: &Environment) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = env
        .path
        .as_ref()
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    for d in ["/usr/bin", "/usr/local/bin"] {
        dirs.push(PathBuf::from(d));
    }
    dirs
}

/// The directories of a PATH value alone (a cleared PATH finds nothing: how a user says "no JDK").
pub(crate) fn path_only(env: &Environment) -> Vec<PathBuf> {
    env.path
        .as_ref()
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default()
}

/// The entries of `listed` with SHA-256 `sha256`, each deleted by `delete`; the status and the
/// (first) alias of the report.
pub(crate) fn remove_all(
    listed: Vec<AppEntry>,
    sha256: &str,
    mut delete: impl FnMut(&AppEntry) -> Result<(), Error>,
) -> Result<(AppStatus, String), Error> {
    let found: Vec<AppEntry> = listed.into_iter().filter(|e| e.sha256 == sha256).collect();
    for e in &found {
        delete(e)?;
    }
    let status = if found.is_empty() {
        AppStatus::NotInstalled
    } else {
        AppStatus::Removed
    };
    Ok((
        status,
        found.first().map(|e| e.alias.clone()).unwrap_or_default(),
    ))
}
