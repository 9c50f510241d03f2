//! The implementation of [`Dir`](super::Dir) and [`Staged`](super::Staged) where Unix's
//! descriptor calls are not available (Windows): paths, and `std::fs`.

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
