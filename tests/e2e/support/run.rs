//! Running programs: the built `pki` binary with a clean environment, the real `openssl`, and
//! any command with a deadline; what each did as a [`Run`].

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::programs;

/// pki's own environment variables (pki-cli/src/env.rs, where each is declared once): removed
/// from every pki a test starts, so that only what the test sets reaches it (a developer's
/// `PKI_REGISTER=postgres://...` never does). Read from that file rather than copied, so that a
/// variable added there is cleared here without a second list to keep.
pub(crate) fn pki_variables() -> &'static [String] {
    static VARIABLES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    VARIABLES.get_or_init(|| variables_declared_in(include_str!("../../../pki-cli/src/env.rs")))
}

/// The values of the top-level `pub(crate) const NAME: &str = "VALUE";` lines of env.rs (those
/// of its indented `system` module, the system's variables, are left to the tests).
pub(crate) fn variables_declared_in(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|l| l.strip_prefix("pub(crate) const "))
        .filter_map(|l| l.split_once(": &str = \"")?.1.strip_suffix("\";"))
        .map(str::to_owned)
        .collect()
}

/// What a process did.
#[derive(Debug)]
pub(crate) struct Run {
    /// The exit code; -1 when a signal ended the process.
    pub(crate) code: i32,
    /// stdout, as text.
    pub(crate) stdout: String,
    /// stderr, as text.
    pub(crate) stderr: String,
}

impl Run {
    /// The exit code (-1 when a signal ended the process) and the output, as text.
    pub(crate) fn from(out: Output) -> Self {
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

    /// stdout as one JSON document; panics with stdout when it is not one.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

/// `pki ARGS` in `cwd`, not yet run, with the environment variables pki reads removed.
pub(crate) fn pki_command(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = programs::built(env!("CARGO_BIN_EXE_pki"));
    cmd.current_dir(cwd).args(args);
    for var in pki_variables() {
        cmd.env_remove(var);
    }
    cmd
}

/// `sh -c "SETUP; exec pki ARGS"` in `cwd`, not yet run: pki under limits a shell sets
/// (`umask 000`, `ulimit -v ...`), with the environment variables pki reads removed.
#[cfg(unix)] // sh, umask and ulimit
pub(crate) fn pki_in_shell(cwd: &Path, setup: &str, args: &[&str]) -> Command {
    let mut cmd = programs::command("sh");
    cmd.current_dir(cwd)
        .arg("-c")
        .arg(format!("{setup}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_pki"))
        .args(args);
    for var in pki_variables() {
        cmd.env_remove(var);
    }
    cmd
}

/// `pki ARGS` run in `cwd`, with the environment variables pki reads cleared.
pub(crate) fn pki(cwd: &Path, args: &[&str]) -> Run {
    pki_env(cwd, args, &[])
}

/// `pki ARGS` with extra environment variables.
pub(crate) fn pki_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = pki_command(cwd, args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("the pki binary runs"))
}

/// The real `openssl` with these arguments in `cwd`. A missing openssl fails the test: it is
/// the oracle, never optional.
pub(crate) fn openssl(cwd: &Path, args: &[&str]) -> Run {
    let out = programs::command("openssl")
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("openssl is required for these tests and could not be run: {e}")
        });
    Run::from(out)
}

/// Runs `cmd` with `stdin` as its input (empty: /dev/null) and kills it after `timeout`:
/// `None` when it had to be killed. A program that cannot be run fails the test.
pub(crate) fn run_bounded(mut cmd: Command, stdin: &[u8], timeout: Duration) -> Option<Run> {
    let scratch = || tempfile::tempfile().expect("a temporary file");
    let input = if stdin.is_empty() {
        Stdio::null()
    } else {
        let mut f = scratch();
        f.write_all(stdin).expect("write stdin");
        f.rewind().expect("rewind stdin");
        Stdio::from(f)
    };
    let (mut out, mut err) = (scratch(), scratch());
    let mut child = cmd
        .stdin(input)
        .stdout(out.try_clone().expect("clone"))
        .stderr(err.try_clone().expect("clone"))
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{} is required for these tests and could not be run: {e}",
                cmd.get_program().to_string_lossy()
            )
        });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    };
    let read = |f: &mut File| {
        let mut bytes = Vec::new();
        f.rewind().expect("rewind");
        f.read_to_end(&mut bytes).expect("read output");
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Some(Run {
        code: status.code().unwrap_or(-1),
        stdout: read(&mut out),
        stderr: read(&mut err),
    })
}

/// The register of the CA directory `pki/` in `cwd`, as `pki --json list` exports it: one JSON
/// line per certificate, in notAfter order.
pub(crate) fn register_lines(cwd: &Path) -> String {
    register_list(cwd, &[])
}

/// `pki --json list ARGS` in `cwd`: the rows the filters select, one JSON object each.
pub(crate) fn register_rows(cwd: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    register_list(cwd, args)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn register_list(cwd: &Path, args: &[&str]) -> String {
    pki(cwd, &[&["--json", "list"], args].concat())
        .expect(0)
        .stdout
}

/// What `openssl x509 -ext crlDistributionPoints` prints of the certificate `cert` (relative
/// to `cwd`): empty when it has none.
pub(crate) fn crl_distribution_points(cwd: &Path, cert: &str) -> String {
    openssl(
        cwd,
        &[
            "x509",
            "-in",
            cert,
            "-noout",
            "-ext",
            "crlDistributionPoints",
        ],
    )
    .expect(0)
    .stdout
}
