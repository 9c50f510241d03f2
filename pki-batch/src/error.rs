//! The batch engine's error: what stops a lot. A line that cannot be issued does not stop it;
//! it is a [`crate::Rejected`] line, reported through [`crate::Events`]. Every variant carries
//! what it is about (the file, the input line, the device), not preformatted text.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What the engine was doing to a file when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileOp {
    /// Creating a file or a directory.
    Create,
    /// Opening a file.
    Open,
    /// Reading a file.
    Read,
    /// Appending to a file.
    Write,
    /// Syncing a file to the disk.
    Sync,
    /// Cutting off or completing the last line a kill left of a file.
    Repair,
    /// Emptying a file.
    Empty,
    /// Removing a file.
    Remove,
    /// Replacing a file.
    Replace,
    /// Looking at what is at a path (without following a link).
    LookAt,
}

impl fmt::Display for FileOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileOp::Create => "create",
            FileOp::Open => "open",
            FileOp::Read => "read",
            FileOp::Write => "write",
            FileOp::Sync => "sync",
            FileOp::Repair => "repair",
            FileOp::Empty => "empty",
            FileOp::Remove => "remove",
            FileOp::Replace => "replace",
            FileOp::LookAt => "look at",
        })
    }
}

/// Why a lot stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory of the lot (a device's file or folder, the output directory, the
    /// lock, the CA directory's index) could not be created, read, written or removed.
    #[error("cannot {op} {}", path.display())]
    File {
        /// What was being done.
        op: FileOp,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The manifest could not be opened, read, written, synced or repaired.
    #[error("cannot {op} the manifest {}", path.display())]
    Manifest {
        /// What was being done.
        op: FileOp,
        /// The manifest.
        path: PathBuf,
        /// The operating system's error (or the JSON encoder's).
        #[source]
        source: io::Error,
    },
    /// The journal could not be opened, read, written, repaired or emptied.
    #[error("cannot {op} the journal {}", path.display())]
    Journal {
        /// What was being done.
        op: FileOp,
        /// The journal.
        path: PathBuf,
        /// The operating system's error (or the JSON encoder's).
        #[source]
        source: io::Error,
    },
    /// The input could not be read (a line that is too long or not UTF-8 is a rejected line,
    /// not this).
    #[error("cannot read the batch input")]
    Input(#[source] io::Error),
    /// Another batch holds the lock of the same output: two would race on the same files.
    #[error("{}: another batch is running on this output; wait for it to finish", lock.display())]
    Locked {
        /// The lock file.
        lock: PathBuf,
    },
    /// The manifest asked for is a file that is not a manifest of pki: it is refused before
    /// anything is changed.
    #[error("{}: not a manifest of pki (line {line} is not a manifest line)", path.display())]
    NotAManifest {
        /// The file.
        path: PathBuf,
        /// Its first line (1-based) that is not a manifest line.
        line: usize,
    },
    /// The worker threads could not be started.
    #[error("cannot start the worker threads")]
    Threads(#[source] rayon::ThreadPoolBuildError),
    /// The thread that appends the manifest and index lines stopped without finishing.
    #[error("the manifest writer failed")]
    Writer,
    /// Issuing or the CA directory failed (a lot-wide validity no certificate can hold, an
    /// index that cannot be appended to, ...).
    #[error(transparent)]
    Core(#[from] pki_core::Error),
    /// A device of the input could not be dealt with: the lot stops there (what was complete
    /// is in the manifest; a re-run finishes the rest).
    #[error("line {line}: device {device_id}")]
    Device {
        /// The device's line in the input (1-based).
        line: usize,
        /// The device id.
        device_id: String,
        /// What failed.
        #[source]
        source: Box<Error>,
    },
}

impl From<pki_core::x509::Error> for Error {
    fn from(e: pki_core::x509::Error) -> Self {
        Error::Core(e.into())
    }
}

impl Error {
    /// pki-core's error at the root of this one, if that is what it is (for a caller that
    /// maps pki-core's errors to advice).
    pub fn core(&self) -> Option<&pki_core::Error> {
        match self {
            Error::Core(e) => Some(e),
            Error::Device { source, .. } => source.core(),
            _ => None,
        }
    }

    /// The innermost error of this one (through [`Error::Device`]).
    pub fn root(&self) -> &Error {
        match self {
            Error::Device { source, .. } => source.root(),
            other => other,
        }
    }

    pub(crate) fn file(op: FileOp, path: &Path, source: io::Error) -> Error {
        Error::File {
            op,
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn manifest(op: FileOp, path: &Path, source: impl Into<io::Error>) -> Error {
        Error::Manifest {
            op,
            path: path.to_owned(),
            source: source.into(),
        }
    }

    pub(crate) fn journal(op: FileOp, path: &Path, source: impl Into<io::Error>) -> Error {
        Error::Journal {
            op,
            path: path.to_owned(),
            source: source.into(),
        }
    }

    pub(crate) fn device(self, line: usize, device_id: &str) -> Error {
        Error::Device {
            line,
            device_id: device_id.to_owned(),
            source: Box::new(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_the_device() {
        let e = Error::file(
            FileOp::LookAt,
            Path::new("pki/private/k.pem"),
            io::Error::other("denied"),
        )
        .device(3, "dev-3");
        assert_eq!(e.to_string(), "line 3: device dev-3");
        assert!(matches!(
            e.root(),
            Error::File {
                op: FileOp::LookAt,
                ..
            }
        ));
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("cannot look at pki/private/k.pem"));
        let m = Error::manifest(FileOp::Sync, Path::new("m.jsonl"), io::Error::other("x"));
        assert_eq!(m.to_string(), "cannot sync the manifest m.jsonl");
    }
}
