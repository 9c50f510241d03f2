//! Why a trust-store operation could not be planned or carried out: a bad certificate, an
//! unknown system, a missing refresh tool, a name already taken, a privilege the process lacks,
//! a step that failed (and whether undoing it worked). Each variant carries the data (paths,
//! system, program) and says what is wrong; what the user should do about it is the caller's
//! to say (the CLI adds its hint, naming its flags).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

use crate::detect::TrustSystem;
use crate::plan::{Action, Privilege, Step};

/// Why installing, removing or listing could not be planned or carried out.
///
/// Not `non_exhaustive`: a caller that maps each variant to advice (the CLI's hints) must
/// decide for a new one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The certificate file holds no readable X.509 certificate.
    #[error("{input}: not a certificate ({reason})")]
    BadCertificate {
        /// The file, as the user named it.
        input: String,
        /// What the parser said.
        reason: String,
    },

    /// The file holds several certificates: which one to trust would be a guess.
    #[error("{input}: holds {count} certificates")]
    SeveralCertificates {
        /// The file.
        input: String,
        /// How many it holds.
        count: usize,
    },

    /// The certificate is not a CA (basicConstraints CA:FALSE or absent), and a leaf was not
    /// allowed.
    #[error("{input}: {subject} is not a CA certificate")]
    NotCa {
        /// The file.
        input: String,
        /// Its subject.
        subject: String,
    },

    /// The certificate file to install or remove cannot be read.
    #[error("cannot read the certificate {}: {reason}", path.display())]
    ReadCertificate {
        /// The file, as given.
        path: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },

    /// The certificate file is not a regular file of sane size (a device, a FIFO, a directory,
    /// more than 1 MiB): refused unread.
    #[error("cannot read the certificate {}: {reason}", path.display())]
    CertificateRefused {
        /// The file, as given.
        path: PathBuf,
        /// Why, naming the file it resolved to.
        reason: String,
    },

    /// The root given (a device image) cannot be made an absolute path.
    #[error("{}: {reason}", root.display())]
    BadRoot {
        /// The root, as given.
        root: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },

    /// The root given (a device image) is not a directory.
    #[error("the root {} is not a directory", root.display())]
    RootNotADirectory {
        /// The root, made absolute.
        root: PathBuf,
    },

    /// /etc/os-release (or /usr/lib/os-release) is missing under the root.
    #[error(
        "cannot tell which system {root} is: neither {root}etc/os-release nor {root}usr/lib/os-release can be read"
    )]
    NoOsRelease {
        /// The root looked at, ending in `/`.
        root: String,
    },

    /// The system named by os-release has no known trust store layout.
    #[error(
        "unknown system ID={id} (ID_LIKE={id_like}): pki knows Debian, Ubuntu, Alpine, RHEL, Fedora, CentOS, Azure Linux, openSUSE, SLES and Arch"
    )]
    UnknownSystem {
        /// os-release ID.
        id: String,
        /// os-release ID_LIKE, space-separated (empty when absent).
        id_like: String,
    },

    /// The refresh tool is not installed.
    #[error("{tool} not found (looked in {looked})")]
    MissingTool {
        /// The tool's name.
        tool: &'static str,
        /// The places looked in, comma-separated.
        looked: String,
        /// The package that provides it.
        package: &'static str,
        /// " in the image" when looked for in a device image, else empty.
        where_: &'static str,
    },

    /// A different certificate already has the file name asked for.
    #[error(
        "{} already holds a different certificate (SHA-256 {other_sha256})",
        path.display()
    )]
    NameTaken {
        /// The file.
        path: PathBuf,
        /// The fingerprint of the certificate in it.
        other_sha256: String,
    },

    /// A name that cannot be a file name.
    #[error("name {name:?}: use letters, digits, '.', '-' and '_' only")]
    BadName {
        /// The name given.
        name: String,
    },

    /// Reading the store failed.
    #[error("cannot read {}: {reason}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },

    /// A store's file that pki does not read: not a regular file (a device, a FIFO, a
    /// directory), or larger than a trust store's file can sensibly be (a bundle 64 MiB, any
    /// other file 1 MiB).
    #[error("cannot read {}: {reason}", path.display())]
    Refused {
        /// The file, as the store names it (on this machine's path).
        path: PathBuf,
        /// Why, naming the file it resolved to.
        reason: String,
    },

    /// Writing a file of the store failed.
    #[error("cannot write {}: {reason}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },

    /// Listing the whole store is not supported on this system.
    #[error("listing the whole {system} store is not supported; use {command}")]
    ListUnsupported {
        /// The system.
        system: &'static str,
        /// The system's own command for it.
        command: &'static str,
    },

    /// The plan needs a privilege this process does not have (root, or an elevated process on
    /// Windows). Nothing was changed.
    #[error("{}", needs_privilege(*action, *privilege, *system, file, program.as_deref()))]
    NeedsPrivilege {
        /// Install or uninstall.
        action: Action,
        /// The privilege needed.
        privilege: Privilege,
        /// The system.
        system: TrustSystem,
        /// The store's file the plan writes or removes.
        file: PathBuf,
        /// The refresh program the plan runs, if any.
        program: Option<PathBuf>,
    },

    /// The root (a device image) cannot be opened to carry out a plan.
    #[error("cannot open the root {}: {reason}", root.display())]
    OpenRoot {
        /// The root.
        root: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },

    /// A directory of the store cannot be created.
    #[error("cannot create {}: {reason}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },

    /// A file of the store cannot be removed.
    #[error("cannot remove {}: {reason}", path.display())]
    Remove {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },

    /// A link about to be replaced or removed cannot be read (to put it back on failure).
    #[error("cannot read the link {}: {reason}", path.display())]
    ReadLink {
        /// The link.
        path: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },

    /// A file about to be replaced or removed cannot be read (to put it back on failure).
    #[error("cannot read {} (to keep a copy): {reason}", path.display())]
    KeepCopy {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },

    /// The refresh program of a plan is not there (any more).
    #[error("{} not found", program.display())]
    ProgramMissing {
        /// The program, by absolute path.
        program: PathBuf,
    },

    /// A program cannot be started.
    #[error("cannot run {}: {reason}", program.display())]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },

    /// The Windows certificate store (crypt32) refused a change, or could not be read.
    #[error("cannot {call} LocalMachine\\{store} (SHA-1 {sha1}): {reason}")]
    WindowsStore {
        /// What pki asked of the store.
        call: WindowsCall,
        /// The system store (`Root`).
        store: String,
        /// The certificate's SHA-1 thumbprint.
        sha1: String,
        /// The error Windows gave.
        reason: std::io::Error,
    },

    /// A program ran and failed.
    #[error(
        "`{}` failed ({status}): {said}",
        Step::Run { program: program.clone(), args: args.clone() }
    )]
    ProgramFailed {
        /// The program.
        program: PathBuf,
        /// Its arguments.
        args: Vec<String>,
        /// How it ended.
        status: ExitStatus,
        /// The last line it wrote (standard error, else standard output), or `no output`.
        said: String,
    },

    /// pki could not build a device image's bundle.
    #[error("cannot build {}: {cause}", bundle.display())]
    BuildBundle {
        /// The bundle.
        bundle: PathBuf,
        /// Why.
        cause: Box<Error>,
    },

    /// The steps ran, but the store does not show the result.
    #[error("the refresh ran, but {}", not_confirmed(*action, bundle.as_deref(), sha256))]
    NotConfirmed {
        /// Install (the certificate should be there) or uninstall (it should be gone).
        action: Action,
        /// The bundle read, when the check reads one (else a command's output was read).
        bundle: Option<PathBuf>,
        /// The certificate's SHA-256.
        sha256: String,
    },

    /// A step (or the confirmation) failed; what was done is undone: the store is as it was.
    #[error("{cause}; the {system} trust store is as it was ({undone})")]
    RolledBack {
        /// What failed.
        cause: Box<Error>,
        /// The system.
        system: TrustSystem,
        /// What undoing it did.
        undone: Undone,
    },

    /// A step (or the confirmation) failed, and undoing it failed too.
    #[error(
        "{cause}; undoing it failed too, check the store by hand: {}",
        problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    RollbackFailed {
        /// What failed.
        cause: Box<Error>,
        /// What could not be undone.
        problems: Vec<UndoFailure>,
    },

    /// No JDK was found for `--java`.
    #[error(
        "no Java found (looked in {looked}): set JAVA_HOME or put the JDK's java on PATH (Debian: apt-get install default-jdk-headless)"
    )]
    NoJdk {
        /// Where pki looked, comma-separated.
        looked: String,
    },

    /// A directory given as an NSS database holds none.
    #[error("{}: not an NSS database (no cert9.db)", dir.display())]
    NotNssDatabase {
        /// The directory.
        dir: PathBuf,
    },

    /// No NSS database was named and there is no home directory to look in (`HOME` unset).
    #[error("no NSS database found (no home directory: HOME unset)")]
    NoHome,

    /// No NSS database was found in the user's home.
    #[error("no NSS database found (looked in {looked})")]
    NoNssDatabase {
        /// Where pki looked, comma-separated.
        looked: String,
    },

    /// The password file of a Java keystore cannot be read.
    #[error("cannot read the store password file {}: {reason}", path.display())]
    StorePassword {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: std::io::Error,
    },
}

/// What pki asked of the Windows certificate store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowsCall {
    /// Add a certificate (`CertAddEncodedCertificateToStore`).
    Add,
    /// Delete a certificate (`CertDeleteCertificateFromStore`).
    Delete,
    /// Look a certificate up (`CertFindCertificateInStore`).
    Find,
}

impl fmt::Display for WindowsCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WindowsCall::Add => "add the certificate to",
            WindowsCall::Delete => "delete the certificate from",
            WindowsCall::Find => "look the certificate up in",
        })
    }
}

/// What undoing a failed operation did (the store is as it was).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undone {
    /// Nothing had been changed.
    NothingChanged,
    /// The file installed was removed again.
    Removed {
        /// The store's file.
        file: PathBuf,
    },
    /// The file removed was put back.
    PutBack {
        /// The store's file.
        file: PathBuf,
    },
}

impl fmt::Display for Undone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Undone::NothingChanged => f.write_str("nothing was changed"),
            Undone::Removed { file } => write!(f, "{} removed again", file.display()),
            Undone::PutBack { file } => write!(f, "{} put back", file.display()),
        }
    }
}

/// Something undoing a failed operation could not do.
#[derive(Debug)]
pub enum UndoFailure {
    /// A file written could not be removed again.
    Remove {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },
    /// A file replaced or removed could not be written back.
    Restore {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },
    /// A link replaced or removed could not be made again (on a system without links made
    /// through a directory).
    Relink {
        /// The link.
        path: PathBuf,
        /// Where it pointed.
        target: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },
    /// A change to the Windows certificate store could not be reversed (the certificate added
    /// could not be deleted again, or the one deleted could not be added back).
    WindowsStore {
        /// Why.
        cause: Box<Error>,
    },
    /// Refreshing the store again (after the files were put back) failed.
    Refresh {
        /// Why.
        cause: Box<Error>,
    },
}

impl fmt::Display for UndoFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UndoFailure::Remove { path, reason } => {
                write!(f, "cannot remove {}: {reason}", path.display())
            }
            UndoFailure::Restore { path, reason } => {
                write!(f, "cannot restore {}: {reason}", path.display())
            }
            UndoFailure::Relink {
                path,
                target,
                reason,
            } => write!(
                f,
                "cannot restore {}: it was a symbolic link to {} and cannot be made again here ({reason}); recreate it by hand",
                path.display(),
                target.display()
            ),
            UndoFailure::WindowsStore { cause } => write!(f, "reversing: {cause}"),
            UndoFailure::Refresh { cause } => write!(f, "refreshing again: {cause}"),
        }
    }
}

fn needs_privilege(
    action: Action,
    privilege: Privilege,
    system: TrustSystem,
    file: &Path,
    program: Option<&Path>,
) -> String {
    let what = match action {
        Action::Install => "installing into",
        Action::Uninstall => "removing from",
    };
    match privilege {
        Privilege::Administrator => format!("{what} LocalMachine\\Root needs an elevated process"),
        Privilege::Root | Privilege::None => format!(
            "{what} the {system} trust store needs root (it writes {} and runs {})",
            file.display(),
            program.map(|p| p.display().to_string()).unwrap_or_default()
        ),
    }
}

fn not_confirmed(action: Action, bundle: Option<&Path>, sha256: &str) -> String {
    match (action, bundle) {
        (Action::Install, Some(path)) => format!(
            "{} does not hold the certificate (SHA-256 {sha256})",
            path.display()
        ),
        (Action::Uninstall, Some(path)) => format!(
            "{} still holds the certificate (SHA-256 {sha256})",
            path.display()
        ),
        (Action::Install, None) => "the store does not list the certificate".to_owned(),
        (Action::Uninstall, None) => "the store still lists the certificate".to_owned(),
    }
}

pub(crate) fn io(path: &Path, reason: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        reason,
    }
}

pub(crate) fn write(path: &Path, reason: std::io::Error) -> Error {
    Error::Write {
        path: path.to_owned(),
        reason,
    }
}
