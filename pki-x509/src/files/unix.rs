//! The Unix implementation of [`Dir`](super::Dir) and [`Staged`](super::Staged): descriptors,
//! `O_TMPFILE`, `linkat`/`renameat` (rustix).

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
        if matches!(err, rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) && self.is_link(name)
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
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
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
                let target = rustix::fs::readlinkat(&here.fd, c.as_str(), Vec::new()).map_err(e)?;
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
