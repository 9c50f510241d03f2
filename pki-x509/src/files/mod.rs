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
mod unix;
#[cfg(unix)]
use unix as imp;

#[cfg(not(unix))]
mod portable;
#[cfg(not(unix))]
use portable as imp;

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
mod tests;
