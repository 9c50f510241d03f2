//! The external programs the tests run, from one list: `tests/programs.txt` (included here, and
//! read by scripts/test.sh, which installs the Debian package of each program it does not
//! find). A test runs a program only through [`command`] (or [`path`]) with the program's name
//! on that list, so a program not on it cannot be run without being added, with its package;
//! clippy's `disallowed-methods` (clippy.toml) refuses `Command::new` anywhere else in the
//! end-to-end tests. A missing program fails the test naming it and its package.
//!
//! The end-to-end tests reach it as `crate::support::programs`; [`crate::postgres`] runs
//! PostgreSQL's programs through it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The list: `PROGRAM PACKAGE [PLACE...]` a line, `#` comments.
pub const LIST: &str = include_str!("../../tests/programs.txt");

/// Where Debian puts daemons and administration tools, off an ordinary user's PATH: looked in
/// after PATH for every program.
const OFF_PATH: [&str; 3] = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/// One line of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The program's file name (a PKCS#11 module's: `NAME.so`).
    pub name: &'static str,
    /// The Debian package that provides it.
    pub package: &'static str,
    /// Where else it may be: full paths, a `*` standing for one directory name.
    pub places: Vec<&'static str>,
}

/// Every program of the list, in its order. Panics naming the line when one is not
/// `PROGRAM PACKAGE [PLACE...]` or names a program twice.
pub fn list() -> Vec<Program> {
    let mut programs: Vec<Program> = Vec::new();
    for (i, line) in LIST.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(name), Some(package)) = (words.next(), words.next()) else {
            panic!(
                "tests/programs.txt line {}: {line:?} is not PROGRAM PACKAGE [PLACE...]",
                i + 1
            );
        };
        let places: Vec<&str> = words.collect();
        for place in &places {
            assert!(
                place.starts_with('/') && place.matches('*').count() <= 1,
                "tests/programs.txt line {}: {place:?} is not a full path with at most one *",
                i + 1
            );
        }
        assert!(
            programs.iter().all(|p| p.name != name),
            "tests/programs.txt line {}: {name} is listed twice",
            i + 1
        );
        programs.push(Program {
            name,
            package,
            places,
        });
    }
    programs
}

/// The list's line for `name`; panics when the list has none (add it, with its package).
pub fn program(name: &str) -> Program {
    list()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| {
            panic!(
                "{name} is not in tests/programs.txt: add it there with the Debian package that \
                 provides it, so that scripts/test.sh installs it"
            )
        })
}

impl Program {
    /// Whether it is a PKCS#11 module (a library, looked for in its places only).
    fn is_module(&self) -> bool {
        self.name.ends_with(".so")
    }

    /// Where it is: PATH, then [`OFF_PATH`], then its own places; `None` when it is nowhere.
    pub fn find(&self) -> Option<PathBuf> {
        self.find_on(std::env::var_os("PATH").as_deref())
    }

    /// [`Program::find`] with `path` as PATH (none: an empty one).
    pub fn find_on(&self, path: Option<&OsStr>) -> Option<PathBuf> {
        let dirs: Vec<PathBuf> = if self.is_module() {
            Vec::new()
        } else {
            let on_path = path.map(|p| std::env::split_paths(p).collect::<Vec<_>>());
            let off_path = OFF_PATH.iter().map(PathBuf::from);
            on_path
                .unwrap_or_default()
                .into_iter()
                .chain(off_path)
                .collect()
        };
        let in_dirs = dirs.into_iter().map(|d| d.join(self.name));
        let in_places = self.places.iter().flat_map(|p| expand(p));
        in_dirs
            .chain(in_places)
            .find(|p| runnable(p, self.is_module()))
    }

    /// What the message of a missing program says to do.
    pub fn install_hint(&self) -> String {
        format!(
            "install it (Debian: apt-get install -y {}; scripts/test.sh does)",
            self.package
        )
    }

    /// Where it was looked for, for a message.
    fn looked_in(&self) -> String {
        let mut at: Vec<String> = Vec::new();
        if !self.is_module() {
            at.push("PATH".to_owned());
            at.extend(OFF_PATH.iter().map(|d| d.to_string()));
        }
        at.extend(self.places.iter().map(|p| p.to_string()));
        at.join(", ")
    }
}

/// `place` with its `*` (one directory name) expanded: the matches, the newest version first;
/// `place` itself when it has none.
fn expand(place: &str) -> Vec<PathBuf> {
    let Some((before, after)) = place.split_once('*') else {
        return vec![PathBuf::from(place)];
    };
    // "/usr/lib/postgresql/" "*" "/bin/initdb": the directory read, the part of a name
    // before the star, and what follows the matched name.
    let (dir, prefix) = before.rsplit_once('/').unwrap_or(("", before));
    let (suffix, rest) = after.split_once('/').unwrap_or((after, ""));
    let mut found: Vec<(Vec<u64>, String, PathBuf)> = std::fs::read_dir(format!("{dir}/"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let middle = name.strip_prefix(prefix)?.strip_suffix(suffix)?.to_owned();
            let version = middle.split('.').map(|n| n.parse().unwrap_or(0)).collect();
            Some((version, name.clone(), e.path().join(rest)))
        })
        .collect();
    found.sort();
    found.into_iter().rev().map(|(_, _, p)| p).collect()
}

/// Whether `path` is a file that can be run (a module: a file).
fn runnable(path: &Path, module: bool) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && (module || meta.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = module;
        meta.is_file()
    }
}

/// Where the program `name` of the list is. Panics when it is not on the list, or is nowhere,
/// naming it, where it was looked for and its package.
pub fn path(name: &str) -> PathBuf {
    let program = program(name);
    program.find().unwrap_or_else(|| {
        panic!(
            "{name} is required for these tests and was not found (looked in {}): {}",
            program.looked_in(),
            program.install_hint()
        )
    })
}

/// The install hint of the program `name` of the list, for a message of the caller's.
pub fn install_hint(name: &str) -> String {
    program(name).install_hint()
}

/// The program `name` of the list, found where [`path`] finds it, as a command not yet run.
pub fn command(name: &str) -> Command {
    // The one place the tests make a command for a machine's program.
    #[allow(clippy::disallowed_methods)]
    Command::new(path(name))
}

/// The program `name` of the list in `dir` exactly (the server programs of one PostgreSQL
/// installation belong together). Panics, with the package, when `dir` lacks it.
pub fn in_dir(dir: &Path, name: &str) -> PathBuf {
    let program = program(name);
    let path = dir.join(program.name);
    assert!(
        runnable(&path, program.is_module()),
        "{name} is required for these tests and is not in {} beside the rest of its \
         installation: {}",
        dir.display(),
        program.install_hint()
    );
    path
}

/// The program `name` of the list in `dir` exactly ([`in_dir`]), as a command not yet run.
pub fn command_in(dir: &Path, name: &str) -> Command {
    // As `command`: a program of the list, found by its line.
    #[allow(clippy::disallowed_methods)]
    Command::new(in_dir(dir, name))
}

/// A program this build made or installed in the build directory, not one of the machine's
/// (the `pki` binary under test, the SDKs' venv python): a command not yet run.
pub fn built(program: impl AsRef<OsStr>) -> Command {
    // Not a machine's program: the build made it, so no package provides it.
    #[allow(clippy::disallowed_methods)]
    Command::new(program)
}
