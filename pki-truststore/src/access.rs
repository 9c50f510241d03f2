//! How a Linux store's files are reached: every path resolved inside the root file system the
//! store belongs to (a device image given with `--root`, or this machine's `/`) through
//! [`pki_x509::files::Root`], so that a link or `..` in an image never leads to this machine's
//! files; and every read bounded, of regular files only (a bundle that is a device, a FIFO or a
//! huge file is refused, never read).

use std::io;
use std::path::{Path, PathBuf};

use pki_x509::files::{Dir, Root};

use crate::error::{Error, io};

/// The most pki reads of a bundle.
pub(crate) const MAX_BUNDLE: u64 = 64 << 20;
/// The most pki reads of one certificate file.
pub(crate) const MAX_CERT: u64 = 1 << 20;
/// The most pki reads of a configuration file (os-release, ca-certificates.conf).
pub(crate) const MAX_CONF: u64 = 1 << 20;

/// A Linux store's root file system.
#[derive(Debug)]
pub(crate) struct StoreFs {
    root: Root,
}

/// Missing: the file, or a directory on the way to it.
pub(crate) fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Refused unread: not a regular file, or too large.
pub(crate) fn is_refused(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::FileTooLarge
    )
}

/// The error for a failed read of the store's `path`: refused (not a regular file, too large)
/// or I/O.
pub(crate) fn read_error(path: &Path, e: io::Error) -> Error {
    if is_refused(&e) {
        Error::Refused {
            path: path.to_owned(),
            reason: e.to_string(),
        }
    } else {
        io(path, e)
    }
}

impl StoreFs {
    /// The image at `root`, or this machine's `/`.
    pub(crate) fn open(root: Option<&Path>) -> Result<StoreFs, Error> {
        let path = root.unwrap_or(Path::new("/"));
        Root::open(path)
            .map(|root| StoreFs { root })
            .map_err(|e| io(path, e))
    }

    /// The root, for operations this module does not wrap.
    pub(crate) fn root(&self) -> &Root {
        &self.root
    }

    /// Where `rel` (absolute, as the system sees it) is on this machine, as named: the root's
    /// path joined with it. Plans and reports name files this way; every operation on them
    /// resolves the path inside the root again.
    pub(crate) fn named(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel.trim_start_matches('/'))
    }

    /// The directory `rel` (absolute, as the system sees it), resolved inside the root; `None`
    /// when it, or a directory above it, is missing.
    pub(crate) fn dir(&self, rel: &str) -> Result<Option<Dir>, Error> {
        match self.root.dir(Path::new(rel), None) {
            Ok(d) => Ok(Some(d)),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(read_error(&self.named(rel), e)),
        }
    }

    /// Reads the file `rel`, a last link followed inside the root, at most `max` bytes; `None`
    /// when it is missing. Anything but a regular file, or a larger one, is refused unread.
    pub(crate) fn read(&self, rel: &str, max: u64) -> Result<Option<Vec<u8>>, Error> {
        match self.root.read_bounded(Path::new(rel), max) {
            Ok(b) => Ok(Some(b)),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(read_error(&self.named(rel), e)),
        }
    }

    /// True when `rel`, a last link followed inside the root, is a regular file (`test -f`).
    /// At most one byte of it is read.
    pub(crate) fn is_file(&self, rel: &str) -> bool {
        match self.root.read_bounded(Path::new(rel), 0) {
            Ok(_) => true,
            Err(e) => e.kind() == io::ErrorKind::FileTooLarge,
        }
    }

    /// True when `rel` exists inside the root (a link counts, dangling or not).
    pub(crate) fn exists(&self, rel: &str) -> bool {
        self.root
            .parent_of(Path::new(rel), None)
            .is_ok_and(|(d, name)| d.exists(&name))
    }
}

/// Reads a file the user named on this machine (links followed), at most `max` bytes, a
/// regular file only.
pub(crate) fn read_user_file(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    #[cfg(unix)]
    {
        let abs = std::path::absolute(path)?;
        Root::open(Path::new("/"))?.read_bounded(&abs, max)
    }
    #[cfg(not(unix))]
    {
        let (dir, name) = pki_x509::files::split(path)?;
        Dir::open(&dir)?.read_bounded(&name, max)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::Error as TrustStoreError;

    #[test]
    fn paths_resolve_inside_the_image_and_reads_are_bounded() {
        let host = tempfile_dir("host");
        let img = tempfile_dir("img");
        std::fs::create_dir_all(img.join("etc/ssl")).unwrap();
        std::fs::create_dir_all(host.join("certs")).unwrap();
        std::fs::write(host.join("certs/bundle"), "HOST").unwrap();
        std::os::unix::fs::symlink(host.join("certs"), img.join("etc/ssl/certs")).unwrap();
        let fs = StoreFs::open(Some(&img)).unwrap();
        // The link names the image's own <host>/certs, which does not exist there.
        assert_eq!(fs.read("/etc/ssl/certs/bundle", 100).unwrap(), None);
        assert!(fs.dir("/etc/ssl/certs").unwrap().is_none());
        let inside = img.join(host.join("certs").strip_prefix("/").unwrap());
        assert_eq!(
            fs.named("/etc/ssl/certs/bundle"),
            img.join("etc/ssl/certs/bundle")
        );
        std::fs::create_dir_all(&inside).unwrap();
        std::fs::write(inside.join("bundle"), "IMAGE").unwrap();
        assert_eq!(
            fs.read("/etc/ssl/certs/bundle", 100).unwrap().unwrap(),
            b"IMAGE"
        );
        assert!(fs.exists("/etc/ssl/certs/bundle"));
        assert!(!fs.exists("/etc/ssl/certs/other"));
        assert!(fs.is_file("/etc/ssl/certs/bundle"));
        assert!(!fs.is_file("/etc/ssl/certs"));
        assert!(matches!(
            fs.read("/etc/ssl/certs/bundle", 2),
            Err(TrustStoreError::Refused { .. })
        ));
        assert!(matches!(
            fs.read("/etc/ssl", 2),
            Err(TrustStoreError::Refused { .. })
        ));
        std::fs::remove_dir_all(&host).unwrap();
        std::fs::remove_dir_all(&img).unwrap();
    }

    fn tempfile_dir(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("pki-access-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }
}
