//! How pki puts files on disk: one mechanism for every file it writes, in the CA directory, in
//! a trust store and in a device image.
//!
//! - A directory is opened once and files are created through its descriptor, so a path swapped
//!   underneath (a symlink planted between a check and a write) cannot redirect a write, a chmod
//!   or a rename.
//! - A file is written to an unnamed temporary file (`O_TMPFILE`, Linux), or where that is not
//!   possible to a fresh random name created with `O_CREAT|O_EXCL|O_NOFOLLOW`; its mode is set
//!   through the descriptor (`fchmod`, whatever the umask), the data is synced, and only then is
//!   it linked into place: without overwrite by `linkat` (which fails if the name exists),
//!   with overwrite by `renameat`. A kill leaves no file behind with `O_TMPFILE`; named
//!   temporary files of pki's own naming (`.pki-tmp-*`) left by a kill are removed by
//!   [`Dir::remove_stale_temps`].
//! - Several files are put in place as one [`Transaction`]: everything is written and synced
//!   first (a full disk fails here, before anything changed), then linked into place; when a
//!   step fails, what was placed is removed and what was replaced is put back.
//! - [`Root`] resolves paths inside a device image as the image itself would (absolute links and
//!   `..` stay inside it), one component at a time without following any link the kernel could
//!   take outside.

use std::ffi::OsStr;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The prefix of pki's named temporary files.
pub const TEMP_PREFIX: &str = ".pki-tmp-";
/// The prefix of the copies a transaction keeps of the files it replaces, until it is done.
const OLD_PREFIX: &str = ".pki-old-";
/// A named temporary file older than this was left by a killed process.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(600);
/// How many symbolic links one resolution inside a root may follow (as Linux's MAXSYMLINKS).
#[cfg(unix)] // resolution inside a device image runs on Unix only
const MAX_LINKS: usize = 40;

fn random_name(prefix: &str) -> String {
    let mut b = [0u8; 12];
    rand::fill(&mut b);
    format!(
        "{prefix}{}",
        crate::text::hex_upper(&b).to_ascii_lowercase()
    )
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

/// A file that is not a regular file (a device, a FIFO, a directory): never read.
/// [`io::ErrorKind::InvalidInput`], so that callers can tell it from a failed read.
fn not_regular(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{} is not a regular file", path.display()),
    )
}

/// A file larger than the caller's bound: never read whole. [`io::ErrorKind::FileTooLarge`].
fn too_large(path: &Path, max: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!(
            "{} is larger than {max} bytes; pki does not read it",
            path.display()
        ),
    )
}

/// A name inside a directory: one normal component, never `..`, `.`, empty or a path.
fn check_name(name: &str) -> io::Result<()> {
    let mut c = Path::new(name).components();
    match (c.next(), c.next()) {
        (Some(Component::Normal(n)), None) if n == OsStr::new(name) => Ok(()),
        _ => Err(invalid(format!("{name:?} is not a plain file name"))),
    }
}

/// A permission mode as rustix takes it. pki's modes are `u32`s, as std's `PermissionsExt`;
/// `mode_t` is 32 bits on Linux but 16 on macOS. Only the permission bits (0o7777) are kept: all
/// that pki ever sets, and they fit both.
#[cfg(unix)]
fn to_mode(bits: u32) -> rustix::fs::Mode {
    rustix::fs::Mode::from_raw_mode((bits & 0o7777) as rustix::fs::RawMode)
}

/// The permission bits (0o7777) of a file's `st_mode` (16 bits on macOS, 32 on Linux).
#[cfg(unix)]
#[allow(clippy::useless_conversion)] // a widening on macOS, none on Linux
fn permission_bits(st_mode: rustix::fs::RawMode) -> u32 {
    u32::from(st_mode & 0o7777)
}

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::io::{self, Read, Write};
    use std::os::fd::OwnedFd;
    use std::path::{Path, PathBuf};

    use rustix::fs::{AtFlags, Mode, OFlags};

    use super::{
        MAX_LINKS, OLD_PREFIX, Placed, STALE_AFTER, TEMP_PREFIX, check_name, permission_bits,
        random_name, to_mode,
    };

    fn e(err: rustix::io::Errno) -> io::Error {
        io::Error::from_raw_os_error(err.raw_os_error())
    }

    const DIR_FLAGS: OFlags = OFlags::DIRECTORY
        .union(OFlags::RDONLY)
        .union(OFlags::CLOEXEC);

    /// A directory opened once; every file operation goes through its descriptor.
    #[derive(Debug)]
    pub struct Dir {
        fd: OwnedFd,
        path: PathBuf,
    }

    impl Dir {
        /// Opens a directory the user named (links in its path are followed).
        pub fn open(path: &Path) -> io::Result<Dir> {
            let fd = rustix::fs::open(path, DIR_FLAGS, Mode::empty()).map_err(e)?;
            Ok(Dir {
                fd,
                path: path.to_owned(),
            })
        }

        /// The path this directory was opened by (for messages).
        pub fn path(&self) -> &Path {
            &self.path
        }

        /// The path of `name` in this directory (for messages).
        pub fn join(&self, name: &str) -> PathBuf {
            self.path.join(name)
        }

        /// Opens the subdirectory `name`, never through a link; creates it with `mode` first
        /// when it is missing and `create` is set. A link there is an error.
        pub fn subdir(&self, name: &str, create: Option<u32>) -> io::Result<Dir> {
            check_name(name)?;
            let open =
                || rustix::fs::openat(&self.fd, name, DIR_FLAGS | OFlags::NOFOLLOW, Mode::empty());
            let fd = match open() {
                Ok(fd) => fd,
                Err(rustix::io::Errno::NOENT) if create.is_some() => {
                    let mode = create.unwrap_or(0o755);
                    match rustix::fs::mkdirat(&self.fd, name, to_mode(mode)) {
                        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                        Err(err) => return Err(e(err)),
                    }
                    let fd = open().map_err(|err| self.link_error(name, err))?;
                    // mkdir's mode is cut by the umask; the mode asked for is the mode given.
                    rustix::fs::fchmod(&fd, to_mode(mode)).map_err(e)?;
                    fd
                }
                Err(err) => return Err(self.link_error(name, err)),
            };
            Ok(Dir {
                fd,
                path: self.path.join(name),
            })
        }

        fn link_error(&self, name: &str, err: rustix::io::Errno) -> io::Error {
            if matches!(err, rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR)
                && self.is_link(name)
            {
                io::Error::other(format!(
                    "{} is a symbolic link; pki does not follow it (replace it with a directory)",
                    self.join(name).display()
                ))
            } else {
                e(err)
            }
        }

        /// True when `name` is a symbolic link.
        pub fn is_link(&self, name: &str) -> bool {
            rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW).is_ok_and(|st| {
                rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Symlink
            })
        }

        /// True when `name` exists (a link counts, dangling or not).
        pub fn exists(&self, name: &str) -> bool {
            rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW).is_ok()
        }

        /// The permission bits and owner of this directory.
        pub fn mode_and_owner(&self) -> io::Result<(u32, u32)> {
            let st = rustix::fs::fstat(&self.fd).map_err(e)?;
            Ok((permission_bits(st.st_mode), st.st_uid))
        }

        /// Sets this directory's mode through its descriptor.
        pub fn set_mode(&self, mode: u32) -> io::Result<()> {
            rustix::fs::fchmod(&self.fd, to_mode(mode)).map_err(e)
        }

        /// Reads `name`, a regular file reached without following a link, at most `max` bytes
        /// (a larger file is an error of kind [`io::ErrorKind::FileTooLarge`], never read whole;
        /// anything but a regular file, e.g. a device or a FIFO, one of kind
        /// [`io::ErrorKind::InvalidInput`], and is never read).
        pub fn read_bounded(&self, name: &str, max: u64) -> io::Result<Vec<u8>> {
            check_name(name)?;
            let fd = rustix::fs::openat(
                &self.fd,
                name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
                Mode::empty(),
            )
            .map_err(|err| self.link_error(name, err))?;
            read_regular(File::from(fd), &self.join(name), max)
        }

        /// Removes the file `name` (a link is removed, not followed). Missing is not an error.
        pub fn remove(&self, name: &str) -> io::Result<()> {
            check_name(name)?;
            match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
                Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
                Err(err) => Err(e(err)),
            }
        }

        /// Removes the empty directory `name` (a link there is not followed: it is an error).
        /// Missing is not an error.
        pub fn remove_dir(&self, name: &str) -> io::Result<()> {
            check_name(name)?;
            match rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR) {
                Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
                Err(err) => Err(e(err)),
            }
        }

        /// The target of the symbolic link `name`, as written in it (never followed).
        pub fn read_link(&self, name: &str) -> io::Result<PathBuf> {
            use std::os::unix::ffi::OsStringExt;
            check_name(name)?;
            let target = rustix::fs::readlinkat(&self.fd, name, Vec::new()).map_err(e)?;
            Ok(PathBuf::from(std::ffi::OsString::from_vec(
                target.into_bytes(),
            )))
        }

        /// Makes `name` a symbolic link to `target`, replacing a file or link of that name
        /// atomically (a new link under a fresh temporary name, renamed into place); a directory
        /// there is an error. The target is written as given, never resolved here.
        pub fn symlink(&self, target: &Path, name: &str) -> io::Result<()> {
            check_name(name)?;
            for _ in 0..8 {
                let t = random_name(TEMP_PREFIX);
                match rustix::fs::symlinkat(target, &self.fd, t.as_str()) {
                    Ok(()) => {
                        return self.rename(&t, name).inspect_err(|_| {
                            let _ = self.remove(&t);
                        });
                    }
                    Err(rustix::io::Errno::EXIST) => continue,
                    Err(err) => return Err(e(err)),
                }
            }
            Err(io::Error::other("cannot find a free temporary file name"))
        }

        /// The names in this directory.
        pub fn names(&self) -> io::Result<Vec<String>> {
            let mut out = Vec::new();
            let dir = rustix::fs::Dir::read_from(&self.fd).map_err(e)?;
            for entry in dir {
                let entry = entry.map_err(e)?;
                let n = entry.file_name().to_string_lossy();
                if n != "." && n != ".." {
                    out.push(n.into_owned());
                }
            }
            Ok(out)
        }

        /// Removes named temporary files of pki's own naming that a killed process left here
        /// (older than ten minutes: a live write never takes that long). Returns how many.
        pub fn remove_stale_temps(&self) -> io::Result<usize> {
            let mut n = 0;
            for name in self.names()? {
                if !(name.starts_with(TEMP_PREFIX) || name.starts_with(OLD_PREFIX)) {
                    continue;
                }
                let Ok(st) = rustix::fs::statat(&self.fd, name.as_str(), AtFlags::SYMLINK_NOFOLLOW)
                else {
                    continue;
                };
                let age = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64 - st.st_mtime)
                    .unwrap_or(0);
                if age >= STALE_AFTER.as_secs() as i64 && self.remove(&name).is_ok() {
                    n += 1;
                }
            }
            Ok(n)
        }

        /// Writes `data` to a new temporary file in this directory with `mode`, synced, not yet
        /// in place.
        pub fn stage(&self, name: &str, data: &[u8], mode: u32) -> io::Result<Staged<'_>> {
            check_name(name)?;
            let (file, temp) = self.temp_file(mode)?;
            let mut staged = Staged {
                dir: self,
                name: name.to_owned(),
                file,
                temp,
            };
            let r = (|| {
                // The mode through the descriptor: the umask does not cut it, no path is used.
                rustix::fs::fchmod(&staged.file, to_mode(mode)).map_err(e)?;
                staged.file.write_all(data)?;
                staged.file.sync_all()
            })();
            match r {
                Ok(()) => Ok(staged),
                Err(err) => {
                    staged.discard();
                    Err(err)
                }
            }
        }

        fn temp_file(&self, mode: u32) -> io::Result<(File, Option<String>)> {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                match rustix::fs::openat(
                    &self.fd,
                    ".",
                    OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
                    to_mode(mode & 0o600),
                ) {
                    Ok(fd) => return Ok((File::from(fd), None)),
                    // File systems without O_TMPFILE: a named temporary file.
                    Err(
                        rustix::io::Errno::OPNOTSUPP
                        | rustix::io::Errno::ISDIR
                        | rustix::io::Errno::INVAL
                        | rustix::io::Errno::NOSYS,
                    ) => {}
                    Err(err) => return Err(e(err)),
                }
            }
            for _ in 0..8 {
                let name = random_name(TEMP_PREFIX);
                match rustix::fs::openat(
                    &self.fd,
                    name.as_str(),
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    to_mode(mode & 0o600),
                ) {
                    Ok(fd) => return Ok((File::from(fd), Some(name))),
                    Err(rustix::io::Errno::EXIST) => continue,
                    Err(err) => return Err(e(err)),
                }
            }
            Err(io::Error::other("cannot find a free temporary file name"))
        }

        /// Links an unnamed temporary file to `name`; `EEXIST` when `name` exists.
        fn link_tmpfile(&self, file: &File, name: &str) -> io::Result<()> {
            use std::os::fd::AsRawFd;
            let proc = format!("/proc/self/fd/{}", file.as_raw_fd());
            match rustix::fs::linkat(
                rustix::fs::CWD,
                proc.as_str(),
                &self.fd,
                name,
                AtFlags::SYMLINK_FOLLOW,
            ) {
                Ok(()) => Ok(()),
                // Only Linux has unnamed temporary files (`temp_file`) and AT_EMPTY_PATH.
                #[cfg(any(target_os = "linux", target_os = "android"))]
                Err(rustix::io::Errno::NOENT) if !Path::new("/proc/self/fd").exists() => {
                    // No /proc: AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH on older kernels).
                    rustix::fs::linkat(file, "", &self.fd, name, AtFlags::EMPTY_PATH).map_err(e)
                }
                Err(err) => Err(e(err)),
            }
        }

        fn rename_noreplace(&self, from: &str, to: &str) -> io::Result<()> {
            // link + unlink: fails with EEXIST when `to` exists, on every file system.
            rustix::fs::linkat(&self.fd, from, &self.fd, to, AtFlags::empty()).map_err(e)?;
            let _ = rustix::fs::unlinkat(&self.fd, from, AtFlags::empty());
            Ok(())
        }

        pub(super) fn rename(&self, from: &str, to: &str) -> io::Result<()> {
            rustix::fs::renameat(&self.fd, from, &self.fd, to).map_err(e)
        }

        /// Makes the directory's entries durable (after a rename).
        pub(super) fn sync(&self) {
            let _ = rustix::fs::fsync(&self.fd);
        }

        /// Another handle on the same directory.
        pub fn try_clone(&self) -> io::Result<Dir> {
            Ok(Dir {
                fd: self.fd.try_clone()?,
                path: self.path.clone(),
            })
        }
    }

    /// A file written and synced but not yet in place.
    #[derive(Debug)]
    pub struct Staged<'a> {
        dir: &'a Dir,
        name: String,
        file: File,
        /// The temporary file's name, when it has one (no `O_TMPFILE`).
        temp: Option<String>,
    }

    impl<'a> Staged<'a> {
        /// The path it will have (for messages).
        pub fn path(&self) -> PathBuf {
            self.dir.join(&self.name)
        }

        /// Gives the file this owner and group (through its descriptor, before it is in
        /// place): a file put where another user's program reads it keeps that user's
        /// ownership. Needs the privilege to give files away (root) unless they are the
        /// caller's own.
        pub fn set_owner(&self, uid: u32, gid: u32) -> io::Result<()> {
            // -1 would mean "unchanged" to the kernel: never an owner to give.
            if uid == u32::MAX || gid == u32::MAX {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "uid or gid -1 names no owner",
                ));
            }
            rustix::fs::fchown(
                &self.file,
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
            )
            .map_err(e)
        }

        pub(super) fn discard(&mut self) {
            if let Some(t) = self.temp.take() {
                let _ = self.dir.remove(&t);
            }
        }

        /// Puts the file in place. Returns the name of the copy of a replaced file, if any.
        pub(super) fn place(&mut self, overwrite: bool) -> io::Result<Placed> {
            let d = self.dir;
            let mut backup = None;
            if overwrite && d.exists(&self.name) {
                let b = random_name(OLD_PREFIX);
                rustix::fs::linkat(
                    &d.fd,
                    self.name.as_str(),
                    &d.fd,
                    b.as_str(),
                    AtFlags::empty(),
                )
                .map_err(e)?;
                backup = Some(b);
            }
            let r = match (&self.temp, overwrite) {
                (None, false) => d.link_tmpfile(&self.file, &self.name),
                (None, true) => {
                    let t = random_name(TEMP_PREFIX);
                    d.link_tmpfile(&self.file, &t)?;
                    self.temp = Some(t.clone());
                    d.rename(&t, &self.name).map(|()| self.temp = None)
                }
                (Some(t), false) => d.rename_noreplace(t, &self.name).map(|()| self.temp = None),
                (Some(t), true) => d.rename(t, &self.name).map(|()| self.temp = None),
            };
            match r {
                Ok(()) => Ok(Placed {
                    name: self.name.clone(),
                    backup,
                }),
                Err(err) => {
                    if let Some(b) = backup {
                        let _ = d.remove(&b);
                    }
                    self.discard();
                    Err(err)
                }
            }
        }

        pub(super) fn dir(&self) -> &'a Dir {
            self.dir
        }
    }

    /// Reads a regular file from `file` (already opened), at most `max` bytes.
    pub(super) fn read_regular(file: File, path: &Path, max: u64) -> io::Result<Vec<u8>> {
        let st = rustix::fs::fstat(&file).map_err(e)?;
        if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
            return Err(super::not_regular(path));
        }
        let mut out = Vec::new();
        file.take(max + 1).read_to_end(&mut out)?;
        if out.len() as u64 > max {
            return Err(super::too_large(path, max));
        }
        Ok(out)
    }

    /// Resolves `rel` inside `root` as the image would: a component that is a link is read and
    /// its target resolved from the root (absolute) or from where it is (relative); `..` never
    /// goes above the root. Returns the directory holding the last component, and its name
    /// (`None` for the root itself). No path is ever handed to the kernel whole.
    pub(super) fn resolve_in(
        root: &Dir,
        rel: &Path,
        create_dirs: Option<u32>,
    ) -> io::Result<(Vec<Dir>, Option<String>)> {
        // The stack of opened directories from the root down.
        let mut stack: Vec<Dir> = Vec::new();
        let mut pending: Vec<String> = Vec::new();
        push_components(&mut pending, rel)?;
        let mut links = 0;
        while let Some(c) = pending.pop() {
            if c == ".." {
                stack.pop();
                continue;
            }
            let is_last = pending.is_empty();
            let here = stack.last().unwrap_or(root);
            let st = rustix::fs::statat(&here.fd, c.as_str(), AtFlags::SYMLINK_NOFOLLOW);
            match st {
                Ok(st)
                    if rustix::fs::FileType::from_raw_mode(st.st_mode)
                        == rustix::fs::FileType::Symlink =>
                {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(io::Error::other(format!(
                            "{}: too many levels of symbolic links",
                            here.join(&c).display()
                        )));
                    }
                    let target =
                        rustix::fs::readlinkat(&here.fd, c.as_str(), Vec::new()).map_err(e)?;
                    let target = PathBuf::from(std::ffi::OsStr::new(&*target.to_string_lossy()));
                    if target.has_root() {
                        stack.clear();
                    }
                    push_components(&mut pending, &target)?;
                    continue;
                }
                Ok(_) if is_last => return Ok((stack, Some(c))),
                Ok(_) => {
                    let d = here.subdir(&c, None)?;
                    stack.push(d);
                }
                Err(rustix::io::Errno::NOENT) if is_last => return Ok((stack, Some(c))),
                Err(rustix::io::Errno::NOENT) if create_dirs.is_some() => {
                    let d = here.subdir(&c, create_dirs)?;
                    stack.push(d);
                }
                Err(err) => {
                    return Err(io::Error::new(
                        io::Error::from_raw_os_error(err.raw_os_error()).kind(),
                        format!("{}: {}", here.join(&c).display(), e(err)),
                    ));
                }
            }
        }
        Ok((stack, None))
    }

    /// Pushes the components of `p` (in reverse, so that popping yields them in order).
    fn push_components(pending: &mut Vec<String>, p: &Path) -> io::Result<()> {
        use std::path::Component;
        let mut v = Vec::new();
        for c in p.components() {
            match c {
                Component::RootDir | Component::CurDir => {}
                Component::ParentDir => v.push("..".to_owned()),
                Component::Normal(n) => v.push(
                    n.to_str()
                        .ok_or_else(|| super::invalid(format!("{} is not UTF-8", p.display())))?
                        .to_owned(),
                ),
                Component::Prefix(_) => return Err(super::invalid("a path prefix")),
            }
        }
        pending.extend(v.into_iter().rev());
        Ok(())
    }
}

#[cfg(not(unix))]
mod imp {
    //! Elsewhere (Windows): the same interface over std and tempfile; there are no modes.
    use std::fs::{self, File};
    use std::io::{self, Read, Write};
    use std::path::{Path, PathBuf};

    use super::{OLD_PREFIX, Placed, STALE_AFTER, TEMP_PREFIX, check_name, random_name};

    /// A directory (by path on this platform).
    #[derive(Debug)]
    pub struct Dir {
        path: PathBuf,
    }

    impl Dir {
        /// Opens a directory.
        pub fn open(path: &Path) -> io::Result<Dir> {
            if !fs::metadata(path)?.is_dir() {
                return Err(io::Error::other(format!(
                    "{} is not a directory",
                    path.display()
                )));
            }
            Ok(Dir {
                path: path.to_owned(),
            })
        }
        /// The path of this directory.
        pub fn path(&self) -> &Path {
            &self.path
        }
        /// Another handle on the same directory.
        pub fn try_clone(&self) -> io::Result<Dir> {
            Ok(Dir {
                path: self.path.clone(),
            })
        }
        /// The path of `name` in this directory.
        pub fn join(&self, name: &str) -> PathBuf {
            self.path.join(name)
        }
        /// Opens (creating when asked) the subdirectory `name`.
        pub fn subdir(&self, name: &str, create: Option<u32>) -> io::Result<Dir> {
            check_name(name)?;
            let p = self.join(name);
            if create.is_some() {
                fs::create_dir_all(&p)?;
            }
            Dir::open(&p)
        }
        /// True when `name` is a symbolic link.
        pub fn is_link(&self, name: &str) -> bool {
            fs::symlink_metadata(self.join(name)).is_ok_and(|m| m.file_type().is_symlink())
        }
        /// True when `name` exists.
        pub fn exists(&self, name: &str) -> bool {
            fs::symlink_metadata(self.join(name)).is_ok()
        }
        /// No modes or owners here.
        pub fn mode_and_owner(&self) -> io::Result<(u32, u32)> {
            Ok((0o700, 0))
        }
        /// No modes here.
        pub fn set_mode(&self, _mode: u32) -> io::Result<()> {
            Ok(())
        }
        /// Reads `name`, at most `max` bytes.
        pub fn read_bounded(&self, name: &str, max: u64) -> io::Result<Vec<u8>> {
            check_name(name)?;
            let p = self.join(name);
            let f = File::open(&p)?;
            if !f.metadata()?.is_file() {
                return Err(super::not_regular(&p));
            }
            let mut out = Vec::new();
            f.take(max + 1).read_to_end(&mut out)?;
            if out.len() as u64 > max {
                return Err(super::too_large(&p, max));
            }
            Ok(out)
        }
        /// Removes the empty directory `name`; missing is not an error.
        pub fn remove_dir(&self, name: &str) -> io::Result<()> {
            check_name(name)?;
            match fs::remove_dir(self.join(name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        }
        /// The target of the symbolic link `name`.
        pub fn read_link(&self, name: &str) -> io::Result<PathBuf> {
            check_name(name)?;
            fs::read_link(self.join(name))
        }
        /// Symbolic links of a Linux image are made on Unix only.
        pub fn symlink(&self, _target: &Path, name: &str) -> io::Result<()> {
            check_name(name)?;
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "making symbolic links needs a Unix host",
            ))
        }
        /// Removes `name`; missing is not an error.
        pub fn remove(&self, name: &str) -> io::Result<()> {
            match fs::remove_file(self.join(name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        }
        /// The names in this directory.
        pub fn names(&self) -> io::Result<Vec<String>> {
            let mut out = Vec::new();
            for e in fs::read_dir(&self.path)? {
                out.push(e?.file_name().to_string_lossy().into_owned());
            }
            Ok(out)
        }
        /// Removes stale temporary files of pki's naming.
        pub fn remove_stale_temps(&self) -> io::Result<usize> {
            let mut n = 0;
            for name in self.names()? {
                if !(name.starts_with(TEMP_PREFIX) || name.starts_with(OLD_PREFIX)) {
                    continue;
                }
                let old = fs::metadata(self.join(&name))
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|a| a >= STALE_AFTER);
                if old && self.remove(&name).is_ok() {
                    n += 1;
                }
            }
            Ok(n)
        }
        pub(super) fn rename(&self, from: &str, to: &str) -> io::Result<()> {
            fs::rename(self.join(from), self.join(to))
        }
        /// Nothing to sync by handle here.
        pub(super) fn sync(&self) {}
        /// Writes a temporary file, not yet in place.
        pub fn stage(&self, name: &str, data: &[u8], _mode: u32) -> io::Result<Staged<'_>> {
            check_name(name)?;
            let t = random_name(TEMP_PREFIX);
            let p = self.join(&t);
            let r = (|| {
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&p)?;
                f.write_all(data)?;
                f.sync_all()
            })();
            if let Err(e) = r {
                let _ = fs::remove_file(&p);
                return Err(e);
            }
            Ok(Staged {
                dir: self,
                name: name.to_owned(),
                temp: Some(t),
            })
        }
    }

    /// A file written but not in place.
    #[derive(Debug)]
    pub struct Staged<'a> {
        dir: &'a Dir,
        name: String,
        temp: Option<String>,
    }

    impl<'a> Staged<'a> {
        /// The path it will have.
        pub fn path(&self) -> PathBuf {
            self.dir.join(&self.name)
        }

        /// No owners on this platform's files: nothing to give.
        pub fn set_owner(&self, _uid: u32, _gid: u32) -> io::Result<()> {
            Ok(())
        }

        pub(super) fn discard(&mut self) {
            if let Some(t) = self.temp.take() {
                let _ = self.dir.remove(&t);
            }
        }
        pub(super) fn place(&mut self, overwrite: bool) -> io::Result<Placed> {
            let d = self.dir;
            let target = d.join(&self.name);
            let mut backup = None;
            if overwrite && target.exists() {
                let b = random_name(OLD_PREFIX);
                fs::copy(&target, d.join(&b))?;
                backup = Some(b);
            } else if target.exists() {
                self.discard();
                return Err(io::Error::new(io::ErrorKind::AlreadyExists, "exists"));
            }
            let t = self.temp.clone().unwrap_or_default();
            match fs::rename(d.join(&t), &target) {
                Ok(()) => {
                    self.temp = None;
                    Ok(Placed {
                        name: self.name.clone(),
                        backup,
                    })
                }
                Err(e) => {
                    self.discard();
                    Err(e)
                }
            }
        }
        pub(super) fn dir(&self) -> &'a Dir {
            self.dir
        }
    }

    pub(super) fn resolve_in(
        root: &Dir,
        rel: &Path,
        create_dirs: Option<u32>,
    ) -> io::Result<(Vec<Dir>, Option<String>)> {
        let _ = (root, rel, create_dirs);
        Err(io::Error::other(
            "device image roots are supported on Unix only",
        ))
    }
}

pub use imp::{Dir, Staged};

impl Dir {
    /// Writes `name` atomically (see the module's documentation). Without `overwrite`, an
    /// existing `name` is never replaced ([`io::ErrorKind::AlreadyExists`]).
    pub fn write_atomic(
        &self,
        name: &str,
        data: &[u8],
        mode: u32,
        overwrite: bool,
    ) -> io::Result<()> {
        let staged = self.stage(name, data, mode)?;
        let mut t = Transaction::default();
        t.add(staged);
        t.commit(overwrite)
    }
}

/// A file put in place by a transaction, and the copy of what it replaced.
#[derive(Debug)]
struct Placed {
    name: String,
    backup: Option<String>,
}

impl Placed {
    /// Puts back what was there before.
    fn undo(&self, dir: &Dir) -> io::Result<()> {
        match &self.backup {
            Some(b) => dir.rename(b, &self.name),
            None => dir.remove(&self.name),
        }
    }

    /// Drops the copy of the replaced file, and makes the new entry durable.
    fn finish(&self, dir: &Dir) {
        if let Some(b) = &self.backup {
            let _ = dir.remove(b);
        }
        dir.sync();
    }
}

/// Files written and synced, put in place together: all of them, or (after a failure) none,
/// with every file they replaced back as it was.
#[derive(Debug, Default)]
pub struct Transaction<'a> {
    staged: Vec<Staged<'a>>,
    /// Files to take away at commit (put back when it fails).
    removed: Vec<(&'a Dir, String)>,
}

impl<'a> Transaction<'a> {
    /// A file to put in place at commit.
    pub fn add(&mut self, staged: Staged<'a>) {
        self.staged.push(staged);
    }

    /// A file of `dir` to take away at commit, when it is there: after the new files are in
    /// place, and back as it was when the commit fails.
    pub fn remove(&mut self, dir: &'a Dir, name: &str) {
        self.removed.push((dir, name.to_owned()));
    }

    /// Puts every file in place, in order. Without `overwrite`, an existing target fails the
    /// whole transaction with [`io::ErrorKind::AlreadyExists`] and changes nothing.
    pub fn commit(self, overwrite: bool) -> io::Result<()> {
        self.commit_then(overwrite, || Ok::<(), io::Error>(()))
            .map_err(|e| match e {
                Failed::Files(e) | Failed::Then(e) => e,
            })
    }

    /// Puts every file in place, then runs `then` (the commit of the database row that goes
    /// with them) while what they replaced can still be put back: when `then` fails, every file
    /// is as it was before, and its error is returned.
    pub fn commit_then<E>(
        mut self,
        overwrite: bool,
        then: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), Failed<E>> {
        let mut placed: Vec<(&Dir, Placed)> = Vec::new();
        let mut failure = None;
        for s in self.staged.iter_mut() {
            match s.place(overwrite) {
                Ok(p) => placed.push((s.dir(), p)),
                Err(err) => {
                    let path = s.path();
                    failure = Some(Failed::Files(
                        if err.kind() == io::ErrorKind::AlreadyExists {
                            io::Error::new(
                                io::ErrorKind::AlreadyExists,
                                format!("{} exists", path.display()),
                            )
                        } else {
                            err
                        },
                    ));
                    break;
                }
            }
        }
        // A file taken away is renamed aside: put back on failure, deleted when done.
        for (dir, name) in &self.removed {
            if failure.is_some() {
                break;
            }
            if !dir.exists(name) {
                continue;
            }
            let aside = random_name(OLD_PREFIX);
            match dir.rename(name, &aside) {
                Ok(()) => placed.push((
                    dir,
                    Placed {
                        name: name.clone(),
                        backup: Some(aside),
                    },
                )),
                Err(err) => failure = Some(Failed::Files(err)),
            }
        }
        if failure.is_none()
            && let Err(e) = then()
        {
            failure = Some(Failed::Then(e));
        }
        match failure {
            None => {
                for (dir, p) in &placed {
                    p.finish(dir);
                }
                Ok(())
            }
            Some(err) => {
                for (dir, p) in placed.iter().rev() {
                    let _ = p.undo(dir);
                }
                for s in &mut self.staged {
                    s.discard();
                }
                Err(err)
            }
        }
    }
}

/// Why [`Transaction::commit_then`] changed nothing.
#[derive(Debug)]
pub enum Failed<E> {
    /// A file could not be put in place.
    Files(io::Error),
    /// The step to run with the files in place failed.
    Then(E),
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        for s in &mut self.staged {
            s.discard();
        }
    }
}

/// A device image's (or container's) root file system: every path is resolved inside it, as
/// the image itself would see it. A link in the image, absolute or relative, and `..` can never
/// lead outside: pki reads and writes only the image's own files.
#[derive(Debug)]
pub struct Root {
    dir: Dir,
}

impl Root {
    /// Opens the root directory (the path the user named; links in it are followed).
    pub fn open(path: &Path) -> io::Result<Root> {
        Ok(Root {
            dir: Dir::open(path)?,
        })
    }

    /// The root's path on this machine.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The directory at `rel` (an absolute path in the image), resolved inside the root;
    /// missing directories are created with `mode` when `create` is set.
    pub fn dir(&self, rel: &Path, create: Option<u32>) -> io::Result<Dir> {
        let (mut stack, last) = imp::resolve_in(&self.dir, rel, create)?;
        let parent = match stack.pop() {
            Some(d) => d,
            None => self.dir.try_clone()?,
        };
        match last {
            Some(name) => parent.subdir(&name, create),
            None => Ok(parent),
        }
    }

    /// The directory holding the file `rel` (resolved inside the root, creating missing
    /// directories with `mode` when `create` is set) and the file's name in it.
    pub fn parent_of(&self, rel: &Path, create: Option<u32>) -> io::Result<(Dir, String)> {
        let (mut stack, last) = imp::resolve_in(&self.dir, rel, create)?;
        let name = last.ok_or_else(|| invalid(format!("{} names no file", rel.display())))?;
        let dir = match stack.pop() {
            Some(d) => d,
            None => self.dir.try_clone()?,
        };
        Ok((dir, name))
    }

    /// Reads the regular file `rel` inside the root, at most `max` bytes.
    pub fn read_bounded(&self, rel: &Path, max: u64) -> io::Result<Vec<u8>> {
        let (dir, name) = self.parent_of(rel, None)?;
        dir.read_bounded(&name, max)
    }

    /// Where `rel` is on this machine after resolution inside the root (for messages and for
    /// tools run on it): the root's path joined with the resolved path.
    pub fn host_path(&self, rel: &Path) -> io::Result<PathBuf> {
        let (dir, name) = self.parent_of(rel, None)?;
        Ok(dir.join(&name))
    }
}

/// The process's umask, read once from `/proc/self/status` (Linux 4.7 and later; pki never
/// changes its umask). Where it cannot be read, every bit: the mode is then always set through
/// the descriptor.
#[cfg(unix)]
fn umask() -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Umask:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            })
            .unwrap_or(0o7777)
    })
}

/// Creates `path` as a new file (`O_CREAT|O_EXCL|O_NOFOLLOW`: never over an existing file,
/// never through a link), gives it exactly `mode` through its descriptor, and writes `data`.
/// Not atomic by itself: for a writer whose own record makes it so (a batch commits a device
/// through its manifest after its files are complete), where a rename per file would cost a
/// quarter of the speed. An existing `path` is [`io::ErrorKind::AlreadyExists`].
pub fn create_new(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    let mut file = {
        use rustix::fs::OFlags;
        let fd = rustix::fs::open(
            path,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            to_mode(mode),
        )
        .map_err(|err| io::Error::from_raw_os_error(err.raw_os_error()))?;
        // The umask may have narrowed the mode: the mode asked for is the mode given.
        if mode & umask() != 0 {
            rustix::fs::fchmod(&fd, to_mode(mode))
                .map_err(|err| io::Error::from_raw_os_error(err.raw_os_error()))?;
        }
        std::fs::File::from(fd)
    };
    #[cfg(not(unix))]
    let mut file = {
        let _ = mode;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?
    };
    file.write_all(data)
}

/// Opens `path` for reading and appending (a lock, a journal, a record a writer appends to
/// line by line, whose own format makes it safe). With `create`, a missing file is created with
/// that mode (narrowed by the umask, as `open(2)` does); without it, a missing file is
/// [`io::ErrorKind::NotFound`]. An existing file is neither truncated nor changed in mode.
pub fn open_append(path: &Path, create: Option<u32>) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).append(true).create(create.is_some());
    #[cfg(unix)]
    if let Some(mode) = create {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    options.open(path)
}

/// Creates the directory `path` and any missing parents with `mode` (narrowed by the umask, as
/// `mkdir(2)` does); directories already there are left as they are.
pub fn create_dir_all(path: &Path, mode: u32) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    builder.create(path)
}

/// Writes `data` to `path` atomically with `mode` (see the module documentation). Without
/// `overwrite`, an existing `path` is never replaced ([`io::ErrorKind::AlreadyExists`]).
pub fn write_file(path: &Path, data: &[u8], mode: u32, overwrite: bool) -> io::Result<()> {
    let (dir, name) = split(path)?;
    Dir::open(&dir)?.write_atomic(&name, data, mode, overwrite)
}

/// What a file the user names holds, and so the most pki reads of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// Certificates, CRLs, a CSR, a hosts file: 16 MiB (a bundle of some 10,000 certificates).
    Document,
    /// A private key: 1 MiB.
    Key,
    /// A password or a PIN: 64 KiB.
    Password,
}

impl Input {
    /// The most bytes read of such a file: a larger file is refused, never read.
    pub const fn max(self) -> u64 {
        match self {
            Input::Document => 16 << 20,
            Input::Key => 1 << 20,
            Input::Password => 64 << 10,
        }
    }

    /// The limit as a message says it.
    fn max_text(self) -> &'static str {
        match self {
            Input::Document => {
                "16 MiB, the most pki reads of a certificate, CRL, CSR or hosts file"
            }
            Input::Key => "1 MiB, the most pki reads of a key file",
            Input::Password => "64 KiB, the most pki reads of a password or PIN file",
        }
    }
}

/// A user-named input that is not a regular file: never read. [`io::ErrorKind::InvalidInput`].
fn input_not_regular(what: &str) -> io::Error {
    invalid(format!(
        "{what}, not a regular file: pki reads only regular files (not a FIFO, a device or a directory)"
    ))
}

/// Reads a file the user named, whole: the one reader of every input file (certificates, CRLs,
/// CSRs, hosts files, keys, passwords, PINs). The file is opened without blocking
/// (`O_NONBLOCK`, so a FIFO cannot hang pki) and without becoming a controlling terminal; what
/// is not a regular file (a FIFO, a device such as `/dev/zero`, a directory) is refused before
/// a byte is read ([`io::ErrorKind::InvalidInput`]); a file larger than `kind`'s limit is
/// refused unread ([`io::ErrorKind::FileTooLarge`]); at most the size the file had when opened
/// is read, and a file that grew meanwhile is refused. The bytes are wiped when dropped (a key
/// or password is no different from a certificate here). The error's text does not name the
/// path: callers do, once.
pub fn read_input(path: &Path, kind: Input) -> io::Result<zeroize::Zeroizing<Vec<u8>>> {
    use std::io::Read;
    let (file, len) = open_regular(path)?;
    if len > kind.max() {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("{len} bytes, larger than {}", kind.max_text()),
        ));
    }
    // The size fits in memory: it is at most the limit. One allocation, never grown (no copy
    // of a secret left behind by a reallocation).
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(len as usize + 1));
    file.take(len + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > len {
        return Err(invalid(format!(
            "it grew while pki read it (from {len} bytes): pki reads only a file at rest"
        )));
    }
    Ok(buf)
}

/// Opens a user-named input that is read as a stream (a batch file) as [`read_input`] does:
/// without blocking, and only when it is a regular file (anything else is
/// [`io::ErrorKind::InvalidInput`], naming what it is). The caller bounds what it reads.
pub fn open_input(path: &Path) -> io::Result<std::fs::File> {
    open_regular(path).map(|(f, _)| f)
}

/// Opens a user-named input for reading without blocking, and its size when it is a regular
/// file.
#[cfg(unix)]
fn open_regular(path: &Path) -> io::Result<(std::fs::File, u64)> {
    use rustix::fs::{FileType, Mode, OFlags};
    let os = |err: rustix::io::Errno| io::Error::from_raw_os_error(err.raw_os_error());
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY,
        Mode::empty(),
    )
    .map_err(os)?;
    let st = rustix::fs::fstat(&fd).map_err(os)?;
    let what = match FileType::from_raw_mode(st.st_mode) {
        FileType::RegularFile => {
            return Ok((
                std::fs::File::from(fd),
                u64::try_from(st.st_size).unwrap_or(0),
            ));
        }
        FileType::Fifo => "a FIFO",
        FileType::CharacterDevice | FileType::BlockDevice => "a device",
        FileType::Directory => "a directory",
        FileType::Socket => "a socket",
        _ => "not a file",
    };
    Err(input_not_regular(what))
}

/// Opens a user-named input for reading, and its size when it is a regular file.
#[cfg(not(unix))]
fn open_regular(path: &Path) -> io::Result<(std::fs::File, u64)> {
    let f = std::fs::File::open(path)?;
    let m = f.metadata()?;
    if m.is_dir() {
        return Err(input_not_regular("a directory"));
    }
    if !m.is_file() {
        return Err(input_not_regular("a special file"));
    }
    Ok((f, m.len()))
}

/// The directory and the file name of `path`.
pub fn split(path: &Path) -> io::Result<(PathBuf, String)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| invalid(format!("{} names no file", path.display())))?
        .to_owned();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{PermissionsExt, symlink};

    #[test]
    fn an_input_that_is_a_fifo_a_device_or_a_directory_is_refused_unread() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        // A FIFO nobody writes to: opening it would block without O_NONBLOCK.
        for (p, what) in [
            (fifo.as_path(), "a FIFO"),
            (Path::new("/dev/zero"), "a device"),
            (d.path(), "a directory"),
        ] {
            let err = read_input(p, Input::Document).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{p:?}: {err}");
            assert!(err.to_string().starts_with(what), "{err}");
        }
    }

    #[test]
    fn an_input_over_its_limit_is_refused_unread_and_one_at_it_is_read() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("big");
        for (kind, max) in [
            (Input::Document, 16 << 20),
            (Input::Key, 1 << 20),
            (Input::Password, 64 << 10),
        ] {
            let f = fs::File::create(&p).unwrap();
            f.set_len(max + 1).unwrap();
            let err = read_input(&p, kind).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::FileTooLarge, "{err}");
            assert!(err.to_string().contains("the most pki reads"), "{err}");
            f.set_len(max).unwrap();
            assert_eq!(read_input(&p, kind).unwrap().len() as u64, max);
        }
        fs::write(&p, b"abc").unwrap();
        assert_eq!(&read_input(&p, Input::Password).unwrap()[..], b"abc");
    }

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn atomic_write_modes_ignore_the_umask_and_leave_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let dir = Dir::open(d.path()).unwrap();
        dir.write_atomic("k", b"secret", 0o600, false).unwrap();
        dir.write_atomic("c", b"cert", 0o644, false).unwrap();
        assert_eq!(mode(&d.path().join("k")), 0o600);
        assert_eq!(mode(&d.path().join("c")), 0o644);
        let e = dir.write_atomic("k", b"other", 0o600, false).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(d.path().join("k")).unwrap(), b"secret");
        dir.write_atomic("k", b"other", 0o600, true).unwrap();
        assert_eq!(fs::read(d.path().join("k")).unwrap(), b"other");
        let mut names = dir.names().unwrap();
        names.sort();
        assert_eq!(names, ["c", "k"]);
    }

    #[test]
    fn a_file_taken_away_comes_back_when_the_commit_fails() {
        let d = tempfile::tempdir().unwrap();
        let dir = Dir::open(d.path()).unwrap();
        dir.write_atomic("k.uri", b"pkcs11:", 0o600, false).unwrap();
        let mut t = Transaction::default();
        t.add(dir.stage("k.pem", b"key", 0o600).unwrap());
        t.remove(&dir, "k.uri");
        t.remove(&dir, "absent");
        let failed = t.commit_then(true, || Err::<(), _>("the register"));
        assert!(matches!(failed, Err(Failed::Then("the register"))));
        assert_eq!(dir.names().unwrap(), ["k.uri"]);
        let mut t = Transaction::default();
        t.add(dir.stage("k.pem", b"key", 0o600).unwrap());
        t.remove(&dir, "k.uri");
        t.commit(true).unwrap();
        assert_eq!(dir.names().unwrap(), ["k.pem"]);
    }

    #[test]
    fn a_planted_link_is_replaced_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        fs::write(&victim, b"host file").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
        let sub = d.path().join("sub");
        fs::create_dir(&sub).unwrap();
        symlink(&victim, sub.join("anchor.crt")).unwrap();
        let dir = Dir::open(&sub).unwrap();
        dir.write_atomic("anchor.crt", b"ca", 0o644, true).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"host file");
        assert_eq!(mode(&victim), 0o600);
        assert!(
            !fs::symlink_metadata(sub.join("anchor.crt"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn a_failed_transaction_puts_back_what_it_replaced() {
        let d = tempfile::tempdir().unwrap();
        let dir = Dir::open(d.path()).unwrap();
        dir.write_atomic("a", b"old a", 0o644, false).unwrap();
        dir.write_atomic("b", b"old b", 0o644, false).unwrap();
        let mut t = Transaction::default();
        t.add(dir.stage("a", b"new a", 0o644).unwrap());
        t.add(dir.stage("b", b"new b", 0o644).unwrap());
        // Without overwrite, the first target exists: nothing changes.
        assert!(t.commit(false).is_err());
        assert_eq!(fs::read(d.path().join("a")).unwrap(), b"old a");
        let mut t = Transaction::default();
        t.add(dir.stage("new", b"n", 0o644).unwrap());
        t.add(dir.stage("b", b"new b", 0o644).unwrap());
        assert!(t.commit(false).is_err());
        assert!(
            !d.path().join("new").exists(),
            "the placed file is removed again"
        );
        let mut names = dir.names().unwrap();
        names.sort();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn create_new_never_follows_a_link_nor_replaces_a_file() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        fs::write(&victim, b"host").unwrap();
        symlink(&victim, d.path().join("key.pem")).unwrap();
        assert!(create_new(&d.path().join("key.pem"), b"k", 0o600).is_err());
        assert_eq!(fs::read(&victim).unwrap(), b"host");
        let e = create_new(&victim, b"k", 0o600).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        create_new(&d.path().join("new"), b"k", 0o640).unwrap();
        assert_eq!(mode(&d.path().join("new")), 0o640);
    }

    #[test]
    fn stale_temps_are_removed_fresh_ones_kept() {
        let d = tempfile::tempdir().unwrap();
        let dir = Dir::open(d.path()).unwrap();
        let stale = d.path().join(".pki-tmp-dead");
        fs::write(&stale, b"key").unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(old)
            .unwrap();
        fs::write(d.path().join(".pki-tmp-live"), b"key").unwrap();
        fs::write(d.path().join("keep"), b"x").unwrap();
        assert_eq!(dir.remove_stale_temps().unwrap(), 1);
        assert!(!stale.exists());
        assert!(d.path().join(".pki-tmp-live").exists());
    }

    #[test]
    fn subdir_refuses_links_and_creates_with_the_mode_asked() {
        let d = tempfile::tempdir().unwrap();
        let dir = Dir::open(d.path()).unwrap();
        let p = dir.subdir("private", Some(0o700)).unwrap();
        assert_eq!(mode(p.path()), 0o700);
        let elsewhere = tempfile::tempdir().unwrap();
        symlink(elsewhere.path(), d.path().join("link")).unwrap();
        let err = dir.subdir("link", Some(0o700)).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
    }

    #[test]
    fn links_are_made_read_and_replaced_through_the_directory_never_followed() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        fs::write(&victim, b"host file").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
        let dir = Dir::open(d.path()).unwrap();
        dir.symlink(Path::new("/usr/share/x.crt"), "x.pem").unwrap();
        assert!(dir.is_link("x.pem"));
        assert_eq!(
            dir.read_link("x.pem").unwrap(),
            Path::new("/usr/share/x.crt")
        );
        // A link to a host file is replaced, not followed; so is a regular file.
        symlink(&victim, d.path().join("v")).unwrap();
        dir.symlink(Path::new("new"), "v").unwrap();
        assert_eq!(dir.read_link("v").unwrap(), Path::new("new"));
        assert_eq!(fs::read(&victim).unwrap(), b"host file");
        assert_eq!(mode(&victim), 0o600);
        fs::write(d.path().join("f"), b"data").unwrap();
        dir.symlink(Path::new("t"), "f").unwrap();
        assert!(dir.is_link("f"));
        // A directory is not replaced.
        fs::create_dir(d.path().join("sub")).unwrap();
        assert!(dir.symlink(Path::new("t"), "sub").is_err());
        assert!(d.path().join("sub").is_dir());
        let mut names = dir.names().unwrap();
        names.sort();
        assert_eq!(names, ["f", "sub", "v", "x.pem"], "no temporary is left");
        assert!(dir.read_link("../x").is_err());
        // remove_dir: an empty directory; a link to one is not followed; missing is fine.
        fs::create_dir(outside.path().join("hostdir")).unwrap();
        symlink(outside.path().join("hostdir"), d.path().join("dl")).unwrap();
        assert!(dir.remove_dir("dl").is_err());
        assert!(outside.path().join("hostdir").is_dir());
        dir.remove_dir("sub").unwrap();
        dir.remove_dir("sub").unwrap();
        assert!(!d.path().join("sub").exists());
    }

    #[test]
    fn refused_reads_say_why_by_their_kind() {
        let d = tempfile::tempdir().unwrap();
        let dir = Dir::open(d.path()).unwrap();
        fs::create_dir(d.path().join("sub")).unwrap();
        fs::write(d.path().join("big"), b"0123456789A").unwrap();
        let err = dir.read_bounded("sub", 100).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let err = dir.read_bounded("big", 10).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge, "{err}");
        assert_eq!(dir.read_bounded("big", 11).unwrap(), b"0123456789A");
    }

    #[test]
    fn root_resolution_never_leaves_the_root() {
        let host = tempfile::tempdir().unwrap();
        let img = tempfile::tempdir().unwrap();
        let hostdir = host.path().join("hostdir");
        fs::create_dir(&hostdir).unwrap();
        fs::write(hostdir.join("bundle"), b"HOST").unwrap();
        fs::create_dir_all(img.path().join("etc/ssl")).unwrap();
        fs::create_dir_all(img.path().join("usr/local/share")).unwrap();
        // An absolute link to a host directory, and a relative one climbing out.
        symlink(&hostdir, img.path().join("etc/ssl/certs")).unwrap();
        symlink(
            "../../../../../../..",
            img.path().join("usr/local/share/ca-certificates"),
        )
        .unwrap();
        let root = Root::open(img.path()).unwrap();
        // /etc/ssl/certs -> <hostdir> resolves to IMG<hostdir>, which does not exist.
        assert!(
            root.read_bounded(Path::new("/etc/ssl/certs/bundle"), 100)
                .is_err()
        );
        let (d, name) = root
            .parent_of(Path::new("/etc/ssl/certs/bundle"), Some(0o755))
            .unwrap();
        d.write_atomic(&name, b"IMAGE", 0o644, true).unwrap();
        assert_eq!(fs::read(hostdir.join("bundle")).unwrap(), b"HOST");
        let inside = img
            .path()
            .join(hostdir.strip_prefix("/").unwrap())
            .join("bundle");
        assert_eq!(fs::read(inside).unwrap(), b"IMAGE");
        // ../../.. from the image's /usr/local/share is the image's root.
        let d = root
            .dir(Path::new("/usr/local/share/ca-certificates"), None)
            .unwrap();
        assert!(d.path().starts_with(img.path()));
        d.write_atomic("x.crt", b"CA", 0o644, false).unwrap();
        assert!(img.path().join("x.crt").exists());
        // A bundle that is a device is not read.
        symlink("/dev/zero", img.path().join("zero")).unwrap();
        fs::create_dir_all(img.path().join("dev")).unwrap();
        assert!(root.read_bounded(Path::new("/zero"), 100).is_err());
    }
}
