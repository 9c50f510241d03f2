//! `openssl s_client`, the reference TLS client: one builder for every way the tests run it
//! (as a device that trusts a CA file and checks a name, presenting a client certificate, with
//! input to send), bounded in time, returning its exit code, its output and the verification
//! it reported.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::programs;
use super::run::run_bounded;

/// How long `s_client` may run before it counts as hung.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// `openssl s_client -connect 127.0.0.1:PORT` run in `cwd`, to be given its options: a builder.
pub(crate) fn s_client(cwd: &Path, port: u16) -> SClient {
    SClient {
        cwd: cwd.to_owned(),
        port,
        args: Vec::new(),
        stdin: Vec::new(),
    }
}

/// An `openssl s_client` run being built; [`SClient::run`] runs it.
///
/// With no input (the default: /dev/null) s_client leaves right after the handshake. Over TLS
/// 1.3 a server rejects a client certificate only after the client's handshake has finished;
/// s_client without `-ign_eof` may leave before that alert arrives and exit 0. To see a
/// rejection, pass `-ign_eof`: s_client then reads until the server closes.
#[must_use]
pub(crate) struct SClient {
    cwd: PathBuf,
    port: u16,
    args: Vec<OsString>,
    stdin: Vec<u8>,
}

impl SClient {
    /// `-CAfile CA`: trust the certificates in this file.
    pub(crate) fn ca_file(self, ca: impl AsRef<OsStr>) -> Self {
        self.args(&[OsStr::new("-CAfile"), ca.as_ref()])
    }

    /// `-verify_return_error`: abort the handshake when verification fails, as a device does.
    pub(crate) fn verify_return_error(self) -> Self {
        self.args(&["-verify_return_error"])
    }

    /// `-servername NAME`: send NAME as SNI.
    pub(crate) fn servername(self, name: &str) -> Self {
        self.args(&["-servername", name])
    }

    /// `-verify_hostname NAME`: check that the server's certificate is valid for NAME.
    pub(crate) fn verify_hostname(self, name: &str) -> Self {
        self.args(&["-verify_hostname", name])
    }

    /// `-verify_ip IP`: check that the server's certificate is valid for this IP address.
    pub(crate) fn verify_ip(self, ip: &str) -> Self {
        self.args(&["-verify_ip", ip])
    }

    /// Any other options, as they are (`-showcerts`, `-ign_eof`, `-cert FILE -key FILE`,
    /// `-tls1_2`, `-attime T`, ...).
    pub(crate) fn args(mut self, args: &[impl AsRef<OsStr>]) -> Self {
        self.args
            .extend(args.iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// What s_client sends once connected (empty: nothing, it leaves after the handshake).
    pub(crate) fn stdin(mut self, bytes: &[u8]) -> Self {
        self.stdin = bytes.to_vec();
        self
    }

    /// Runs it; fails the test when it runs longer than `CLIENT_TIMEOUT` or openssl cannot be
    /// run.
    pub(crate) fn run(self) -> Handshake {
        let what = format!("openssl s_client {:?} to port {}", self.args, self.port);
        self.within(CLIENT_TIMEOUT)
            .unwrap_or_else(|| panic!("{what} still ran after {CLIENT_TIMEOUT:?}"))
    }

    /// Runs it for `timeout` at most: `None` when it still ran then (and was killed). A missing
    /// openssl fails the test.
    pub(crate) fn within(self, timeout: Duration) -> Option<Handshake> {
        let mut cmd = programs::command("openssl");
        cmd.current_dir(&self.cwd)
            .arg("s_client")
            .arg("-connect")
            .arg(format!("127.0.0.1:{}", self.port))
            .args(&self.args);
        let run = run_bounded(cmd, &self.stdin, timeout)?;
        let mut handshake = Handshake {
            code: run.code,
            stdout: run.stdout,
            stderr: run.stderr,
            verify_code: None,
            error_depth: None,
        };
        let text = handshake.text();
        handshake.verify_code = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Verify return code: "))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|c| c.parse().ok());
        // The depth of the first error: the `depth=N` line just before the first
        // `verify error:`.
        let mut last_depth = None;
        for l in text.lines() {
            if let Some(d) = l.strip_prefix("depth=") {
                last_depth = d.split_whitespace().next().and_then(|d| d.parse().ok());
            }
            if l.starts_with("verify error:") && handshake.error_depth.is_none() {
                handshake.error_depth = last_depth;
            }
        }
        Some(handshake)
    }
}

/// What `openssl s_client` did: its exit code and output, and the verification it reported.
#[derive(Debug)]
pub(crate) struct Handshake {
    /// s_client's exit code.
    pub(crate) code: i32,
    /// stdout, as text (the chain with `-showcerts`, the `Verify return code`, what the server
    /// sent).
    pub(crate) stdout: String,
    /// stderr, as text (`depth=`, `verify error:` and TLS alerts).
    pub(crate) stderr: String,
    /// N of the `Verify return code: N (...)` line, when s_client printed one.
    pub(crate) verify_code: Option<i32>,
    /// The depth of the first verification error, when there was one.
    pub(crate) error_depth: Option<u32>,
}

impl Handshake {
    /// stdout then stderr: everything s_client printed, for a failure message.
    pub(crate) fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}
