//! A store operation as data: the exact file operations and commands ([`Step`]) for one system,
//! the check that confirms the result, and what privilege it needs. A dry run returns the plan
//! as it is; [`crate::execute`] carries it out; nothing here writes or runs anything. A Linux
//! store's files are read resolved inside the root they belong to ([`crate::access`]), and
//! plans name them as the root's path joined with the path the system names them by: whoever
//! carries a plan out resolves each path inside [`Plan::root`] again.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use pki_x509::files::Dir;

use crate::access::{MAX_BUNDLE, MAX_CERT, StoreFs, is_missing};
use crate::cert::{Fingerprint, PREFIX, StoreCertificate, parse_bundle};
use crate::detect::TrustSystem;
use crate::error::{Error, io};
use crate::linux::{self, Family};
use crate::{macos, windows};

/// Where the store is and what the caller may do there: the facts a plan depends on (the
/// operations gather them for this process, from the [`crate::Environment`] the caller passes).
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
    /// The first `dir/name` of `tool_dirs` that is a file.
    pub(crate) fn find_tool(&self, name: &str) -> Option<PathBuf> {
        self.tool_dirs
            .iter()
            .map(|d| d.join(name))
            .find(|p| p.is_file())
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
    /// Add the certificate to the local machine's Windows certificate store `store` (`Root`)
    /// through crypt32; shown as the `certutil` command that does the same, for an operator
    /// to read.
    AddToWindowsStore {
        /// The system store (`Root`).
        store: String,
        /// pki's record of the certificate (the file `certutil -addstore` would be given).
        file: PathBuf,
        /// The certificate's SHA-1 thumbprint, upper-case hex.
        sha1: String,
        /// The certificate, DER.
        #[serde(skip)]
        der: Vec<u8>,
    },
    /// Delete the certificate with this SHA-1 thumbprint from the local machine's Windows
    /// certificate store `store` through crypt32; shown as the equivalent `certutil` command.
    DeleteFromWindowsStore {
        /// The system store (`Root`).
        store: String,
        /// The certificate's SHA-1 thumbprint, upper-case hex.
        sha1: String,
        /// The certificate, DER (to add it back if a later step fails).
        #[serde(skip)]
        der: Vec<u8>,
    },
    /// Build the bundle of the Debian-family image at `root`, and the links beside it, in pki
    /// from the image's own anchors, as `update-ca-certificates --fresh` does (debian.rs):
    /// every path resolved inside the image, nothing of it run.
    BuildBundle {
        /// The image.
        root: PathBuf,
        /// The bundle written.
        bundle: PathBuf,
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
            Step::AddToWindowsStore { store, file, .. } => write!(
                f,
                "{} -addstore -f {store} {}",
                windows::CERTUTIL,
                quote(&file.display().to_string())
            ),
            Step::DeleteFromWindowsStore { store, sha1, .. } => {
                write!(f, "{} -delstore {store} {sha1}", windows::CERTUTIL)
            }
            Step::BuildBundle { root, bundle } => write!(
                f,
                "build {} and its links in pki from the image's /etc/ca-certificates.conf, /usr/share/ca-certificates and /usr/local/share/ca-certificates, as update-ca-certificates --fresh does (every path resolved inside {}; nothing of the image runs)",
                quote(&bundle.display().to_string()),
                quote(&root.display().to_string())
            ),
        }
    }
}

/// The first steps of an install into a store pki keeps records for (Windows, macOS): its record
/// directory, and the copy of the certificate by which pki lists and removes what it installed.
pub(crate) fn record_copy(records: &str, file: &Path, cert: &StoreCertificate) -> [Step; 2] {
    [
        Step::CreateDir {
            path: records.into(),
        },
        Step::WriteFile {
            path: file.to_owned(),
            mode: 0o644,
            content: Content::Certificate,
            bytes: cert.to_pem().into_bytes(),
        },
    ]
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
    /// Ask crypt32 whether the local machine's Windows certificate store `store` holds the
    /// certificate with this SHA-1 thumbprint (what `certutil -store Root SHA1` shows).
    WindowsStore {
        /// The system store (`Root`).
        store: String,
        /// The certificate's SHA-1 thumbprint, upper-case hex.
        sha1: String,
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
    /// The refresh cannot run from here: it must run inside the image (pki never runs an
    /// image's programs).
    RefreshPending {
        /// The image's command, as the image runs it.
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
    /// Asked to remove a certificate pki did not install, which the store's bundle holds (from
    /// the system, or added by hand).
    InStoreNotFromPki,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::HooksNotRun { dir } => write!(
                f,
                "the image's hooks in {} (e.g. the Java keystore) are not run from here: they act on this machine's paths; they run with the next update-ca-certificates inside the image",
                dir.display()
            ),
            Note::RefreshPending { command } => write!(
                f,
                "the store's refresh must run inside the image: pki does not run an image's programs, and this system's tool cannot act on another root; run `{command}` inside the image (a build step of the image, or at its first boot)"
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
            Note::InStoreNotFromPki => write!(
                f,
                "the store holds it, but not from a file pki installed: remove it the way it was added"
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

/// Windows' and macOS's record directory of pki's files, and the extension they carry.
pub(crate) struct Records {
    pub(crate) dir: PathBuf,
    pub(crate) extension: &'static str,
}

/// What kind of store a system has. Exhaustive: a new system must say which.
enum Kind {
    Windows,
    MacOs,
    Linux(Family),
}

fn kind(system: TrustSystem) -> Kind {
    match system {
        TrustSystem::Windows => Kind::Windows,
        TrustSystem::MacOs => Kind::MacOs,
        TrustSystem::Debian => Kind::Linux(Family::Debian),
        TrustSystem::Alpine => Kind::Linux(Family::Alpine),
        TrustSystem::RedHat => Kind::Linux(Family::RedHat),
        TrustSystem::Suse => Kind::Linux(Family::Suse),
        TrustSystem::Arch => Kind::Linux(Family::Arch),
    }
}

/// Where a store is, opened.
enum Where {
    Windows,
    MacOs,
    /// A Linux store, in its root file system.
    Linux(Family, StoreFs),
}

/// A store, opened for reading: where pki's files are (a Linux store's resolved inside its
/// root), and its bundle.
struct Store {
    at: Where,
    /// The directory of pki's files, as named.
    dir_path: PathBuf,
    /// It, opened (resolved inside the root); `None` when it does not exist.
    dir: Option<Dir>,
    extension: &'static str,
}

impl Store {
    fn open(target: &StoreTarget) -> Result<Store, Error> {
        let records = |rec: Records, at| -> Result<Store, Error> {
            let dir = match Dir::open(&rec.dir) {
                Ok(d) => Some(d),
                Err(e) if is_missing(&e) => None,
                Err(e) => return Err(io(&rec.dir, e)),
            };
            Ok(Store {
                at,
                dir_path: rec.dir,
                dir,
                extension: rec.extension,
            })
        };
        match kind(target.system) {
            Kind::Windows => records(windows::records(), Where::Windows),
            Kind::MacOs => records(macos::records(), Where::MacOs),
            Kind::Linux(family) => {
                let fs = StoreFs::open(target.root.as_deref())?;
                let l = linux::layout(family);
                Ok(Store {
                    dir_path: fs.named(l.anchors),
                    dir: fs.dir(l.anchors)?,
                    at: Where::Linux(family, fs),
                    extension: l.extension,
                })
            }
        }
    }

    /// The certificates pki installed.
    fn installed(&self) -> Result<Vec<Installed>, Error> {
        let Some(dir) = &self.dir else {
            return Ok(Vec::new());
        };
        let mut names = dir.names().map_err(|e| io(&self.dir_path, e))?;
        names.sort();
        let mut out = Vec::new();
        for name in names {
            if !(name.starts_with(PREFIX) && name.ends_with(self.extension)) {
                continue;
            }
            let path = path_in(&self.dir_path, &name, &self.at);
            // pki writes regular files: a link or anything unreadable of that name is not pki's.
            let Ok(bytes) = dir.read_bounded(&name, MAX_CERT) else {
                continue;
            };
            if let Ok(certificate) = StoreCertificate::parse(&path.display().to_string(), &bytes) {
                out.push(Installed { path, certificate });
            }
        }
        Ok(out)
    }

    /// The bundle (as named) and its certificates, for a store that has one (Linux).
    fn bundle(&self) -> Result<Option<(PathBuf, Vec<StoreCertificate>)>, Error> {
        match &self.at {
            Where::Linux(family, fs) => linux_bundle(fs, *family).map(Some),
            Where::Windows | Where::MacOs => Ok(None),
        }
    }
}

/// A Linux store's bundle (as named) and its certificates; a missing bundle holds none.
fn linux_bundle(fs: &StoreFs, family: Family) -> Result<(PathBuf, Vec<StoreCertificate>), Error> {
    let rel = linux::layout(family).bundle;
    let path = fs.named(rel);
    let certs = match fs.read(rel, MAX_BUNDLE)? {
        Some(bytes) => parse_bundle(&path.display().to_string(), &bytes)?,
        None => Vec::new(),
    };
    Ok((path, certs))
}

/// The certificates pki installed: the `pki-*` files of the store's anchor directory (on
/// Windows and macOS, of pki's record directory) that hold a certificate.
pub fn installed(target: &StoreTarget) -> Result<Vec<Installed>, Error> {
    Store::open(target)?.installed()
}

/// Every certificate of the store's bundle (`--all`).
pub fn store_certificates(target: &StoreTarget) -> Result<(PathBuf, Vec<StoreCertificate>), Error> {
    let store = Store::open(target)?;
    match &store.at {
        Where::Windows => Err(Error::ListUnsupported {
            system: "windows",
            command: r"`certutil -store Root`",
        }),
        Where::MacOs => Err(Error::ListUnsupported {
            system: "macos",
            command: "`security find-certificate -a -Z /Library/Keychains/System.keychain`",
        }),
        Where::Linux(family, fs) => linux_bundle(fs, *family),
    }
}

/// True when the PEM bundle at `path` (on this machine's path, under `root` when given)
/// holds the certificate with this SHA-256; a missing bundle holds nothing. The path is
/// resolved inside `root` (or `/`), and the bundle read bounded: what [`Confirm::Bundle`] checks.
pub(crate) fn bundle_holds(root: Option<&Path>, path: &Path, sha256: &str) -> Result<bool, Error> {
    let fs = StoreFs::open(root)?;
    let rel = match root {
        Some(r) => path.strip_prefix(r).map_err(|_| Error::Refused {
            path: path.to_owned(),
            reason: format!("not under the root {}", r.display()),
        })?,
        None => path,
    };
    let rel = Path::new("/").join(rel).display().to_string();
    Ok(match fs.read(&rel, MAX_BUNDLE)? {
        Some(bytes) => parse_bundle(&path.display().to_string(), &bytes)?
            .iter()
            .any(|c| c.sha256 == sha256),
        None => false,
    })
}

/// Plans installing `cert` under the base name `name` (from [`StoreCertificate::default_name`]
/// or [`crate::cert::checked_name`]); nothing to do when pki installed it already or the
/// store's bundle holds it.
pub fn plan_install(
    target: &StoreTarget,
    cert: &StoreCertificate,
    name: &str,
) -> Result<InstallPlan, Error> {
    let store = Store::open(target)?;
    if let Some(i) = store
        .installed()?
        .into_iter()
        .find(|i| i.certificate.sha256 == cert.sha256)
    {
        return Ok(InstallPlan::Already(Already::InstalledByPki {
            path: i.path,
        }));
    }
    if let Some((bundle, certs)) = store.bundle()?
        && certs.iter().any(|c| c.sha256 == cert.sha256)
    {
        return Ok(InstallPlan::Already(Already::InBundle { bundle }));
    }
    let file_name = format!("{name}{}", store.extension);
    let file = path_in(&store.dir_path, &file_name, &store.at);
    if let Some(dir) = &store.dir
        && dir.exists(&file_name)
    {
        let other = dir
            .read_bounded(&file_name, MAX_CERT)
            .ok()
            .and_then(|b| StoreCertificate::parse(&file_name, &b).ok())
            .map(|c| c.sha256)
            .unwrap_or_else(|| "unreadable".to_owned());
        return Err(Error::NameTaken {
            path: file,
            other_sha256: other,
        });
    }
    let plan = match &store.at {
        Where::Windows => windows::install(cert, file),
        Where::MacOs => macos::install(cert, file),
        Where::Linux(family, fs) => linux::install(target, fs, *family, cert, file)?,
    };
    Ok(InstallPlan::Steps(plan))
}

/// Plans removing the certificate pki installed with this fingerprint.
pub fn plan_uninstall(
    target: &StoreTarget,
    fingerprint: &Fingerprint,
) -> Result<UninstallPlan, Error> {
    let store = Store::open(target)?;
    let found = store
        .installed()?
        .into_iter()
        .find(|i| i.certificate.matches(fingerprint));
    let Some(found) = found else {
        let in_bundle = store
            .bundle()?
            .is_some_and(|(_, certs)| certs.iter().any(|c| c.matches(fingerprint)));
        return Ok(UninstallPlan::NotInstalled { in_bundle });
    };
    let plan = match &store.at {
        Where::Windows => windows::uninstall(&found),
        Where::MacOs => macos::uninstall(&found),
        Where::Linux(family, fs) => linux::uninstall(target, fs, *family, &found)?,
    };
    Ok(UninstallPlan::Steps(plan))
}

/// `dir` joined with `file` as the system writes paths (backslashes on Windows, whatever this
/// build's separator is).
fn path_in(dir: &Path, file: &str, at: &Where) -> PathBuf {
    match at {
        Where::Windows => PathBuf::from(format!(r"{}\{file}", dir.display())),
        Where::MacOs | Where::Linux(..) => dir.join(file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_render_as_commands() {
        let run = Step::Run {
            program: "/usr/sbin/update-ca-certificates".into(),
            args: vec!["--certsconf".into(), "/mnt/my image/x.conf".into()],
        };
        assert_eq!(
            run.to_string(),
            "/usr/sbin/update-ca-certificates --certsconf '/mnt/my image/x.conf'"
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
