//! A store operation as data: the exact file operations and commands ([`Step`]) for one system,
//! the check that confirms the result, and what privilege it needs. The caller renders a plan
//! (`--dry-run`) or executes it; nothing here writes or runs anything.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::cert::{Fingerprint, PREFIX, StoreCertificate, bundle_contains};
use super::detect::TrustSystem;
use super::error::{TrustStoreError, io};
use super::{linux, macos, windows};

/// Where the store is and what the caller may do there: the facts a plan depends on, gathered
/// by the caller (this crate reads no environment).
#[derive(Debug, Clone)]
pub struct StoreTarget {
    /// The system's layout.
    pub system: TrustSystem,
    /// A device image or container root file system to act on instead of this machine.
    pub root: Option<PathBuf>,
    /// The process runs as root (administrator on Windows).
    pub privileged: bool,
    /// Directories to look for refresh tools in, in order (e.g. /usr/sbin, /usr/bin, then
    /// the caller's PATH).
    pub tool_dirs: Vec<PathBuf>,
}

impl StoreTarget {
    /// `path` (absolute, as the system sees it) under the root, or as it is without one.
    pub(crate) fn under(&self, path: &str) -> PathBuf {
        under(self.root.as_deref(), path)
    }

    /// The first `dir/name` of `tool_dirs` that is a file.
    pub(crate) fn find_tool(&self, name: &str) -> Option<PathBuf> {
        self.tool_dirs
            .iter()
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    }
}

/// `path` under `root`.
pub(crate) fn under(root: Option<&Path>, path: &str) -> PathBuf {
    match root {
        Some(r) => r.join(path.trim_start_matches('/')),
        None => PathBuf::from(path),
    }
}

/// One file operation or command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Step {
    /// Create a directory and its parents (`mkdir -p`).
    CreateDir {
        /// The directory.
        path: PathBuf,
    },
    /// Write a new file (to a temporary file, then renamed into place).
    WriteFile {
        /// The file.
        path: PathBuf,
        /// Its Unix permission bits (in JSON as octal text, `"0644"`).
        #[serde(serialize_with = "octal")]
        mode: u32,
        /// What it holds.
        content: Content,
        /// The bytes.
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// Remove a file (or symbolic link).
    RemoveFile {
        /// The file.
        path: PathBuf,
    },
    /// Run a program (by absolute path) with these arguments; a non-zero exit is a failure.
    Run {
        /// The program.
        program: PathBuf,
        /// Its arguments.
        args: Vec<String>,
    },
    /// Rewrite each symbolic link in `dir` whose target lies under `root` to the same path
    /// inside the image (Debian's update-ca-certificates, run with --root flags, links to
    /// `ROOT/usr/...`, which does not exist once the image boots).
    RebaseLinks {
        /// The directory whose links are rewritten.
        dir: PathBuf,
        /// The root prefix to strip.
        root: PathBuf,
    },
}

fn octal<S: serde::Serializer>(mode: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{mode:04o}"))
}

/// What a written file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    /// The certificate, PEM.
    Certificate,
    /// Nothing: an empty bundle.
    Empty,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateDir { path } => {
                write!(f, "mkdir -p {}", quote(&path.display().to_string()))
            }
            Step::WriteFile {
                path,
                mode,
                content,
                ..
            } => write!(
                f,
                "write {} (mode {mode:04o}): {}",
                quote(&path.display().to_string()),
                match content {
                    Content::Certificate => "the certificate, PEM",
                    Content::Empty => "empty",
                }
            ),
            Step::RemoveFile { path } => write!(f, "rm -f {}", quote(&path.display().to_string())),
            Step::Run { program, args } => {
                write!(f, "{}", quote(&program.display().to_string()))?;
                for a in args {
                    write!(f, " {}", quote(a))?;
                }
                Ok(())
            }
            Step::RebaseLinks { dir, root } => write!(
                f,
                "relink each symlink in {} that points into {} to the same path inside the image",
                quote(&dir.display().to_string()),
                quote(&root.display().to_string())
            ),
        }
    }
}

/// Quotes an argument for a POSIX shell when it needs it.
pub(crate) fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '/' | '.' | '_' | '-' | ':' | '=' | ',' | '+' | '@' | '\\'
                )
        });
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// How the result is confirmed once the steps ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum Confirm {
    /// Read this PEM bundle and look for the SHA-256 fingerprint.
    Bundle {
        /// The bundle the store's clients read.
        path: PathBuf,
    },
    /// Run this command; its standard output names the certificate (case-insensitive
    /// `needle`) when the store holds it.
    CommandOutput {
        /// The program.
        program: PathBuf,
        /// Its arguments.
        args: Vec<String>,
        /// What the output holds when the certificate is there.
        needle: String,
    },
}

/// The privilege the steps need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Privilege {
    /// None beyond write access to the root given (`--root`).
    None,
    /// root (sudo).
    Root,
    /// An elevated (administrator) process on Windows.
    Administrator,
}

/// Something the user should know about a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum Note {
    /// The image's update hooks (e.g. the Java keystore) were not run: they act on the running
    /// system's paths.
    HooksNotRun {
        /// The image's hooks directory.
        dir: PathBuf,
    },
    /// The refresh runs inside the image, through chroot.
    InsideImage,
    /// The refresh cannot run from here: it must run inside the image.
    RefreshPending {
        /// The command, for a root shell on this machine.
        command: String,
    },
    /// No certificate is left in the store; update-ca-certificates keeps the old bundle then,
    /// so pki empties it.
    EmptyStore {
        /// The bundle.
        bundle: PathBuf,
    },
    /// macOS trusts a certificate that is not self-issued only as `trustAsRoot`.
    TrustAsRoot,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::HooksNotRun { dir } => write!(
                f,
                "the image's hooks in {} (e.g. the Java keystore) are not run from here: they act on this machine's paths; they run with the next update-ca-certificates inside the image",
                dir.display()
            ),
            Note::InsideImage => write!(
                f,
                "this system's refresh tool has no option to act on another root: it runs inside the image through chroot"
            ),
            Note::RefreshPending { command } => write!(
                f,
                "the refresh must run inside the image (this system's tool cannot act on another root, and chroot needs root): run `{command}` as root, or let the image run it at build or first boot"
            ),
            Note::EmptyStore { bundle } => write!(
                f,
                "no other certificate is left: update-ca-certificates would keep the old {}, so pki empties it",
                bundle.display()
            ),
            Note::TrustAsRoot => write!(
                f,
                "the certificate is not self-issued: macOS trusts it as `trustAsRoot`"
            ),
        }
    }
}

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Add a certificate.
    Install,
    /// Remove one.
    Uninstall,
}

/// The exact steps of one store operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Install or uninstall.
    pub action: Action,
    /// The system's layout.
    pub system: TrustSystem,
    /// The root acted on, if not this machine.
    pub root: Option<PathBuf>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The store's file for the certificate (installed or removed), or pki's record of it on
    /// Windows and macOS.
    pub file: PathBuf,
    /// How to confirm the result after the steps; `None` when the refresh is pending.
    pub confirm: Option<Confirm>,
    /// The privilege the steps need.
    pub requires: Privilege,
    /// What the user should know.
    pub notes: Vec<Note>,
}

/// Nothing to do, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "already", rename_all = "snake_case")]
pub enum Already {
    /// pki installed it before, in this file.
    InstalledByPki {
        /// The file.
        path: PathBuf,
    },
    /// The store's bundle holds it already (from the system or by hand).
    InBundle {
        /// The bundle.
        bundle: PathBuf,
    },
}

/// The answer to "install this certificate".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallPlan {
    /// Nothing to change.
    Already(Already),
    /// These steps.
    Steps(Plan),
}

/// The answer to "remove this certificate".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UninstallPlan {
    /// pki did not install it (`in_bundle`: the store has it anyway, from elsewhere).
    NotInstalled {
        /// The store's bundle holds it.
        in_bundle: bool,
    },
    /// These steps.
    Steps(Plan),
}

/// A certificate pki installed: its file (its record on Windows and macOS) and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Installed {
    /// The file.
    pub path: PathBuf,
    /// The certificate in it.
    pub certificate: StoreCertificate,
}

/// The directory of pki's files for a system, the extension they carry, and the bundle its
/// clients read (none on Windows and macOS).
pub(crate) struct Records {
    pub(crate) dir: PathBuf,
    pub(crate) extension: &'static str,
    pub(crate) bundle: Option<PathBuf>,
}

fn records(target: &StoreTarget) -> Records {
    match target.system {
        TrustSystem::Windows => windows::records(),
        TrustSystem::MacOs => macos::records(),
        _ => linux::records(target),
    }
}

/// The certificates pki installed: the `pki-*` files of the store's anchor directory (on
/// Windows and macOS, of pki's record directory) that hold a certificate.
pub fn installed(target: &StoreTarget) -> Result<Vec<Installed>, TrustStoreError> {
    let rec = records(target);
    let rd = match std::fs::read_dir(&rec.dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&rec.dir, e)),
    };
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| io(&rec.dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(PREFIX) && name.ends_with(rec.extension)) {
            continue;
        }
        let path = entry.path();
        if let Ok(certificate) = StoreCertificate::read(&path) {
            out.push(Installed { path, certificate });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Every certificate of the store's bundle (`--all`).
pub fn store_certificates(
    target: &StoreTarget,
) -> Result<(PathBuf, Vec<StoreCertificate>), TrustStoreError> {
    let rec = records(target);
    match (target.system, rec.bundle) {
        (TrustSystem::Windows, _) => Err(TrustStoreError::ListUnsupported {
            system: "windows",
            command: r"`certutil -store Root`",
        }),
        (TrustSystem::MacOs, _) | (_, None) => Err(TrustStoreError::ListUnsupported {
            system: "macos",
            command: "`security find-certificate -a -Z /Library/Keychains/System.keychain`",
        }),
        (_, Some(bundle)) => {
            let certs = match super::cert::read_bundle(&bundle) {
                Err(TrustStoreError::Io { reason, .. })
                    if reason.kind() == std::io::ErrorKind::NotFound =>
                {
                    Vec::new()
                }
                other => other?,
            };
            Ok((bundle, certs))
        }
    }
}

/// Plans installing `cert` under the base name `name` (from [`StoreCertificate::default_name`]
/// or [`super::cert::checked_name`]); nothing to do when pki installed it already or the
/// store's bundle holds it.
pub fn plan_install(
    target: &StoreTarget,
    cert: &StoreCertificate,
    name: &str,
) -> Result<InstallPlan, TrustStoreError> {
    if let Some(i) = installed(target)?
        .into_iter()
        .find(|i| i.certificate.sha256 == cert.sha256)
    {
        return Ok(InstallPlan::Already(Already::InstalledByPki {
            path: i.path,
        }));
    }
    let rec = records(target);
    if let Some(bundle) = rec.bundle
        && bundle_contains(&bundle, &cert.sha256)?
    {
        return Ok(InstallPlan::Already(Already::InBundle { bundle }));
    }
    let file = path_in(&rec.dir, &format!("{name}{}", rec.extension), target.system);
    if std::fs::symlink_metadata(&file).is_ok() {
        let other = StoreCertificate::read(&file)
            .map(|c| c.sha256)
            .unwrap_or_else(|_| "unreadable".to_owned());
        return Err(TrustStoreError::NameTaken {
            path: file,
            other_sha256: other,
        });
    }
    let plan = match target.system {
        TrustSystem::Windows => windows::install(cert, file),
        TrustSystem::MacOs => macos::install(cert, file),
        _ => linux::install(target, cert, &rec.dir, file)?,
    };
    Ok(InstallPlan::Steps(plan))
}

/// Plans removing the certificate pki installed with this fingerprint.
pub fn plan_uninstall(
    target: &StoreTarget,
    fingerprint: &Fingerprint,
) -> Result<UninstallPlan, TrustStoreError> {
    let found = installed(target)?
        .into_iter()
        .find(|i| i.certificate.matches(fingerprint));
    let Some(found) = found else {
        let rec = records(target);
        let in_bundle = match rec.bundle {
            Some(bundle) => super::cert::read_bundle(&bundle)
                .map(|certs| certs.iter().any(|c| c.matches(fingerprint)))
                .unwrap_or(false),
            None => false,
        };
        return Ok(UninstallPlan::NotInstalled { in_bundle });
    };
    let plan = match target.system {
        TrustSystem::Windows => windows::uninstall(&found),
        TrustSystem::MacOs => macos::uninstall(&found),
        _ => linux::uninstall(target, &found)?,
    };
    Ok(UninstallPlan::Steps(plan))
}

/// `dir` joined with `file` as the system writes paths (backslashes on Windows, whatever this
/// build's separator is).
fn path_in(dir: &Path, file: &str, system: TrustSystem) -> PathBuf {
    match system {
        TrustSystem::Windows => PathBuf::from(format!(r"{}\{file}", dir.display())),
        _ => dir.join(file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_render_as_commands() {
        let run = Step::Run {
            program: "/usr/sbin/chroot".into(),
            args: vec![
                "/mnt/my image".into(),
                "/usr/bin/update-ca-trust".into(),
                "extract".into(),
            ],
        };
        assert_eq!(
            run.to_string(),
            "/usr/sbin/chroot '/mnt/my image' /usr/bin/update-ca-trust extract"
        );
        let w = Step::WriteFile {
            path: "/x/pki-a.crt".into(),
            mode: 0o644,
            content: Content::Certificate,
            bytes: vec![],
        };
        assert_eq!(
            w.to_string(),
            "write /x/pki-a.crt (mode 0644): the certificate, PEM"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(
            quote(r"C:\Windows\System32\certutil.exe"),
            r"C:\Windows\System32\certutil.exe"
        );
    }
}
