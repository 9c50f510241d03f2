//! Helpers for the end-to-end tests: run the built `pki` binary and the real `openssl` in a
//! temporary directory, and read what they printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// What a process did.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics with everything printed unless the exit code is `code`.
    #[track_caller]
    pub(crate) fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

/// `pki ARGS` run in `cwd`, with the environment variables pki reads cleared.
pub(crate) fn pki(cwd: &Path, args: &[&str]) -> Run {
    pki_env(cwd, args, &[])
}

/// `pki ARGS` with extra environment variables.
pub(crate) fn pki_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pki"));
    cmd.current_dir(cwd).args(args);
    for var in ["PKI_DIR", "PKI_KEY_PASSWORD", "C8Y_PASSWORD"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("the pki binary runs"))
}

/// The real `openssl` with these arguments in `cwd`. A missing openssl fails the test: it is
/// the oracle, never optional.
pub(crate) fn openssl(cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new("openssl")
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("openssl is required for these tests and could not be run: {e}")
        });
    Run::from(out)
}

/// A file under testdata/.
pub(crate) fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

/// A fresh temporary directory.
pub(crate) fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Every file below `dir`, relative, sorted: to prove that a failed command wrote nothing.
pub(crate) fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.strip_prefix(base).unwrap().display().to_string());
            if p.is_dir() {
                walk(base, &p, out);
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// The extension section of `openssl x509 -noout -text`, for asserting exact extensions.
pub(crate) fn openssl_text(cwd: &Path, cert: &str) -> String {
    openssl(cwd, &["x509", "-in", cert, "-noout", "-text"])
        .expect(0)
        .stdout
}

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

/// Whether the tests run as root.
pub(crate) fn is_root() -> bool {
    Command::new("id")
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

/// A self-signed EC P-256 certificate made by the real openssl with exactly this subject
/// (openssl's `-subj` syntax), valid 30 days, in `dir/file` and its key in `dir/file.key`;
/// `extra` goes to `openssl req` as it is (`-addext EXT`, `-utf8`, ...).
pub(crate) fn openssl_self_signed(dir: &Path, subj: &str, file: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(file);
    let key = dir.join(format!("{file}.key"));
    let (key_s, out_s) = (key.display().to_string(), out.display().to_string());
    let mut args = vec![
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &key_s,
        "-out",
        &out_s,
        "-days",
        "30",
        "-subj",
        subj,
    ];
    args.extend_from_slice(extra);
    openssl(dir, &args).expect(0);
    out
}
