//! Simulated time: a fleet lived through years in one test. libfaketime (Debian's package
//! `faketime`) moves the clock of one child process by whole days, so pki and every peer a
//! test starts (openssl, mosquitto, a client) agree on the same "now", days or years ahead.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::run::{Run, pki_command};

/// libfaketime's library for multi-threaded programs (pki's batch and scan use threads).
fn library() -> PathBuf {
    super::programs::path("libfaketimeMT.so")
}

/// `cmd` with its clock `day` days ahead of the real one (0: today, as it is).
pub(crate) fn on_day(cmd: &mut Command, day: i64) -> &mut Command {
    if day == 0 {
        return cmd;
    }
    cmd.env("LD_PRELOAD", library())
        .env("FAKETIME", format!("{day:+}d"))
        // Timeouts and sleeps keep real time: only the calendar moves.
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
}

/// One clock that several processes share, and that moves while they run: libfaketime reads
/// the offset from a file at every call (`FAKETIME_TIMESTAMP_FILE`, `FAKETIME_NO_CACHE`), so a
/// broker started on day 0 lives on into day 300 when the test says so.
pub(crate) struct Clock {
    file: PathBuf,
    day: std::cell::Cell<i64>,
    _dir: tempfile::TempDir,
}

impl Clock {
    /// A clock on day 0 (today).
    pub(crate) fn new() -> Clock {
        let dir = super::tmp();
        let clock = Clock {
            file: dir.path().join("faketime"),
            day: std::cell::Cell::new(0),
            _dir: dir,
        };
        clock.set_day(0);
        clock
    }

    /// Moves the clock of every process that shares it to `day` days after today.
    pub(crate) fn set_day(&self, day: i64) {
        let tmp = self.file.with_extension("new");
        std::fs::write(&tmp, format!("{day:+}d\n")).expect("write the clock");
        std::fs::rename(&tmp, &self.file).expect("move the clock");
        self.day.set(day);
    }

    /// The day the clock shows.
    pub(crate) fn day(&self) -> i64 {
        self.day.get()
    }

    /// `cmd` on this clock.
    pub(crate) fn apply<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.env("LD_PRELOAD", library())
            .env("FAKETIME_TIMESTAMP_FILE", &self.file)
            .env("FAKETIME_NO_CACHE", "1")
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
    }

    /// `pki ARGS` in `cwd` on this clock.
    pub(crate) fn pki(&self, cwd: &Path, args: &[&str]) -> Run {
        let mut cmd = pki_command(cwd, args);
        Run::from(self.apply(&mut cmd).output().expect("the pki binary runs"))
    }

    /// The real `openssl ARGS` in `cwd` on this clock.
    pub(crate) fn openssl(&self, cwd: &Path, args: &[&str]) -> Run {
        let mut cmd = super::programs::command("openssl");
        cmd.current_dir(cwd).args(args);
        Run::from(
            self.apply(&mut cmd)
                .output()
                .unwrap_or_else(|e| panic!("openssl could not be run: {e}")),
        )
    }
}

/// `pki ARGS` in `cwd` on day `day`.
pub(crate) fn pki_on(cwd: &Path, day: i64, args: &[&str]) -> Run {
    let mut cmd = pki_command(cwd, args);
    Run::from(on_day(&mut cmd, day).output().expect("the pki binary runs"))
}

/// The real `openssl ARGS` in `cwd` on day `day`.
pub(crate) fn openssl_on(cwd: &Path, day: i64, args: &[&str]) -> Run {
    let mut cmd = super::programs::command("openssl");
    cmd.current_dir(cwd).args(args);
    Run::from(
        on_day(&mut cmd, day)
            .output()
            .unwrap_or_else(|e| panic!("openssl could not be run: {e}")),
    )
}
