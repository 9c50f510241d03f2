//! The fake Cumulocity tenants and how the tests run `pki c8y` against them.
//!
//! `tests/c8y_server.py` is an honest tenant: a Python standard-library HTTPS server on
//! 127.0.0.1 with a pki-made certificate, which checks Basic auth and roles, examines every
//! uploaded certificate with `openssl x509`, verifies proofs of possession with
//! `openssl dgst -sha256 -verify`, keeps the offline revocation list (a DER CRL from `openssl ca
//! -gencrl`, every PUT validated), and records every request it receives.
//! `tests/hostile_tenant.py` attacks the client instead. Both serve the certificate of
//! `pki quickstart --gateway localhost` ([`gateway_pki`](super::quickstart::gateway_pki)).
//!
//! Every pki run here is checked for the tenant password (and its Basic-auth encodings) in what
//! it printed. A missing python3 fails the tests (the tenant is never optional).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use serde_json::Value;

use super::programs;
use super::quickstart::{ROOT, SERVER_FULL, SERVER_KEY, gateway_pki};
use super::run::{Run, pki_command};

/// The tenant id.
pub(crate) const TENANT: &str = "t12345";
/// The tenant password of both users. Never printed, so the tests look for it everywhere.
pub(crate) const PASSWORD: &str = "Pw-4b1c-tenant-SECRET";
/// The role that may manage trusted certificates.
const ADMIN_ROLE: &str = "ROLE_TENANT_MANAGEMENT_ADMIN";
/// How long the tenant may take to start.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// The fake tenant, stopped (killed and reaped) when dropped.
pub(crate) struct Tenant {
    child: Child,
    /// The port it listens on, on 127.0.0.1.
    pub(crate) port: u16,
    log: PathBuf,
}

impl Tenant {
    /// An HTTPS tenant serving `pki/certs/iot-edge-server-localhost-full-chain.cert.pem` from
    /// `dir` (made by `pki quickstart --gateway localhost`), with an admin (the role to manage
    /// trusted certificates) and a viewer (read role only), plus `extra` server options.
    pub(crate) fn start(dir: &Path, extra: &[&str]) -> Tenant {
        let admin = format!("admin:{PASSWORD}:{ADMIN_ROLE}");
        let viewer = format!("viewer:{PASSWORD}:ROLE_TENANT_MANAGEMENT_READ");
        let mut args = vec![
            "--cert",
            SERVER_FULL,
            "--key",
            SERVER_KEY,
            "--tenant",
            TENANT,
            "--user",
            &admin,
            "--user",
            &viewer,
        ];
        args.extend_from_slice(extra);
        Self::spawn(dir, &args)
    }

    /// A server that answers in plain HTTP.
    pub(crate) fn plain(dir: &Path) -> Tenant {
        Self::spawn(dir, &["--plain"])
    }

    fn spawn(dir: &Path, args: &[&str]) -> Tenant {
        Self::spawn_script(dir, "c8y_server.py", args)
    }

    /// `tests/SCRIPT ARGS --log LOG` in `dir`, once it says `READY <port>`.
    pub(crate) fn spawn_script(dir: &Path, script: &str, args: &[&str]) -> Tenant {
        static N: AtomicUsize = AtomicUsize::new(0);
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests")
            .join(script);
        let log = dir.join(format!(
            "tenant-{}.jsonl",
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let mut child = programs::command("python3")
            .current_dir(dir)
            .arg(&script)
            .args(args)
            .arg("--log")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("python3 is required for the Cumulocity tests (the fake tenant {}) and could not be run: {e}; install python3", script.display())
            });
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(READY_TIMEOUT).unwrap_or_default();
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the fake tenant did not start (said {line:?})");
        };
        Tenant { child, port, log }
    }

    /// `https://localhost:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// Every request received so far, in order.
    pub(crate) fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .expect("the tenant's request log")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    /// (method, path, status) of every request so far.
    pub(crate) fn calls(&self) -> Vec<(String, String, u64)> {
        self.requests()
            .iter()
            .map(|r| {
                (
                    r["method"].as_str().unwrap().to_owned(),
                    r["path"].as_str().unwrap().to_owned(),
                    r["status"].as_u64().unwrap(),
                )
            })
            .collect()
    }
}

impl Drop for Tenant {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The hostile tenant (`tests/hostile_tenant.py`) in `mode`, serving the quickstart's
/// localhost certificate from `dir`.
pub(crate) fn hostile(dir: &Path, mode: &str, extra: &[&str]) -> Tenant {
    let mut args = vec!["--cert", SERVER_FULL, "--key", SERVER_KEY, "--mode", mode];
    args.extend_from_slice(extra);
    Tenant::spawn_script(dir, "hostile_tenant.py", &args)
}

/// A temporary directory with `pki quickstart --gateway localhost` in it, and a tenant.
pub(crate) fn setup(extra: &[&str]) -> (tempfile::TempDir, Tenant) {
    let dir = gateway_pki();
    let tenant = Tenant::start(dir.path(), extra);
    (dir, tenant)
}

/// `pki ARGS` with every variable pki or reqwest reads cleared, loopback exempt from proxies.
pub(crate) fn command(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = pki_command(cwd, args);
    cmd.stdin(Stdio::null());
    for var in [
        "C8Y_URL",
        "C8Y_USER",
        "C8Y_TENANT",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    cmd
}

/// Runs a command and checks that the tenant password (and its Basic-auth encodings) appear
/// nowhere in what pki printed.
#[track_caller]
pub(crate) fn run(mut cmd: Command) -> Run {
    let run = Run::from(cmd.output().expect("the pki binary runs"));
    let mut secrets = vec![PASSWORD.to_owned(), "wrong-password".to_owned()];
    for user in ["admin", "viewer", "t12345/admin"] {
        secrets.push(b64(&format!("{user}:{PASSWORD}")));
    }
    for s in &secrets {
        assert!(
            !run.stdout.contains(s.as_str()) && !run.stderr.contains(s.as_str()),
            "a secret was printed\nstdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
    }
    run
}

/// `pki c8y ARGS --url TENANT --user admin --ca-file ROOT` with `C8Y_PASSWORD`.
#[track_caller]
pub(crate) fn c8y(dir: &Path, t: &Tenant, args: &[&str]) -> Run {
    run(c8y_command(dir, t, args))
}

/// The command [`c8y`] runs, not yet run.
pub(crate) fn c8y_command(dir: &Path, t: &Tenant, args: &[&str]) -> Command {
    let url = t.url();
    let mut all = args.to_vec();
    all.extend_from_slice(&["--url", &url, "--user", "admin", "--ca-file", ROOT]);
    let mut cmd = command(dir, &all);
    cmd.env("C8Y_PASSWORD", PASSWORD);
    cmd
}

/// Standard base64 of `s`.
pub(crate) fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The Authorization header pki sends for `user` with the tenant password.
pub(crate) fn basic(user: &str) -> String {
    format!("Basic {}", b64(&format!("{user}:{PASSWORD}")))
}

/// What the kernel says about a finished pki.
#[derive(Debug)]
pub(crate) struct Measured {
    /// What pki did.
    pub(crate) run: Run,
    /// Peak resident set size, KiB.
    pub(crate) max_rss_kib: u64,
    /// From start to the reaped process.
    pub(crate) elapsed: Duration,
    /// pki was still running at the limit and was killed.
    pub(crate) killed: bool,
}

/// Runs `cmd` (a pki command) under a python3 wrapper that kills it after `limit` and reports
/// the peak RSS of the reaped process (`getrusage(RUSAGE_CHILDREN)`), then checks the output for
/// secrets as every run here is.
#[track_caller]
pub(crate) fn measured(dir: &Path, cmd: Command, limit: Duration) -> Measured {
    const WRAPPER: &str = r#"
import resource, subprocess, sys, time
limit, out = float(sys.argv[1]), sys.argv[2]
start = time.monotonic()
p = subprocess.Popen(sys.argv[3:])
killed = 0
try:
    code = p.wait(timeout=limit)
except subprocess.TimeoutExpired:
    p.kill()
    code = p.wait()
    killed = 1
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(out, "w") as f:
    f.write(f"{code} {rss} {time.monotonic() - start:.3f} {killed}")
sys.exit(code if code >= 0 else 125)
"#;
    let report = dir.join("measured.txt");
    let mut wrapped = programs::command("python3");
    wrapped
        .arg("-c")
        .arg(WRAPPER)
        .arg(limit.as_secs_f64().to_string())
        .arg(&report)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null());
    if let Some(cwd) = cmd.get_current_dir() {
        wrapped.current_dir(cwd);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    let run = run(wrapped);
    let text = std::fs::read_to_string(&report).expect("the wrapper's report");
    let f: Vec<&str> = text.split(' ').collect();
    let m = Measured {
        run,
        max_rss_kib: f[1].parse().unwrap(),
        elapsed: Duration::from_secs_f64(f[2].parse().unwrap()),
        killed: f[3] == "1",
    };
    // For the record (nextest shows it with --no-capture).
    eprintln!(
        "measured: exit {}, peak RSS {} MiB, {:.2} s{}",
        m.run.code,
        m.max_rss_kib / 1024,
        m.elapsed.as_secs_f64(),
        if m.killed {
            ", killed at the limit"
        } else {
            ""
        }
    );
    m
}
