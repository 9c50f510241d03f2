//! Assertions on how pki refuses: one `pki: error:` line, exit 2, no panic, nothing changed;
//! and on where the tests run (as root, which some of them need).

use std::path::Path;

use super::programs;
use super::run::{Run, pki};

/// Runs pki and checks that it could not run, cleanly: exit 2, a first stderr line
/// `pki: error: ...` containing `says`, no panic, and `state()` (a view of what the command
/// must not touch) unchanged.
#[track_caller]
pub(crate) fn fails_cleanly<T: PartialEq + std::fmt::Debug>(
    dir: &Path,
    args: &[&str],
    says: &str,
    state: impl Fn() -> T,
) -> Run {
    let before = state();
    let r = pki(dir, args);
    refused_in_one_line(&r, args, says);
    assert_eq!(state(), before, "{args:?} changed what it must not");
    r
}

/// Asserts that `r` could not run, cleanly: exit 2, one `pki: error:` line containing `says`,
/// no panic.
#[track_caller]
pub(crate) fn refused_in_one_line(r: &Run, args: &[&str], says: &str) {
    assert_eq!(
        r.code, 2,
        "{args:?}\nstdout:\n{}\nstderr:\n{}",
        r.stdout, r.stderr
    );
    let first = r.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("pki: error: "), "{args:?}: {}", r.stderr);
    assert!(
        first.contains(says),
        "{args:?}: expected {says:?} in {first:?}"
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

/// The `pki: error:` line, which must be the only line on stderr besides the retry lines
/// (`pki: retrying ...`).
#[track_caller]
pub(crate) fn one_error_line(run: &Run) -> String {
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.starts_with("pki: retrying "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line expected:\n{}", run.stderr);
    assert!(errors[0].starts_with("pki: error: "), "{}", run.stderr);
    errors[0].to_owned()
}

/// The retry lines on stderr (`pki: retrying ...`), in order.
pub(crate) fn retries(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| l.starts_with("pki: retrying "))
        .collect()
}

/// Whether the tests run as root.
pub(crate) fn is_root() -> bool {
    programs::command("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Fails the test unless it runs as root: the tests run as root (CI does), and a test that
/// needs it never passes by skipping.
#[track_caller]
pub(crate) fn assert_root(why: &str) {
    assert!(
        is_root(),
        "this test needs root ({why}); the tests run as root, they never pass by skipping"
    );
}
