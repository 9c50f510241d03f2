//! The deployment the scale-out tests run: PostgreSQL, the CA directory on machine A copied
//! to machine B, a `pki est serve` on each (stopped with SIGTERM, or killed when dropped), and
//! what the tests read back from them: the register, the audit logs, PostgreSQL's statistics.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::clients::CLIENT_TIMEOUT;
use crate::support::{Postgres, openssl, pki, pki_command, programs, register_rows, tmp};

/// How long a server may take to print that it listens (a debug build, on a busy machine).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A CA directory on two machines (A and B) sharing one PostgreSQL register, and a third
/// directory for the clients' files.
pub(super) struct Deployment {
    pub(super) url: String,
    dir: tempfile::TempDir,
    // Dropped last: the servers (test variables) stop before their database does.
    _pg: Postgres,
}

impl Deployment {
    /// PostgreSQL, the CA made on A (owner root and intermediate) with its register there, and
    /// the directory copied to B.
    pub(super) fn new() -> Self {
        let pg = Postgres::start();
        let url = pg.url();
        let dir = tmp();
        let d = Deployment { url, dir, _pg: pg };
        for sub in ["machine-a", "machine-b", "clients"] {
            std::fs::create_dir(d.dir.path().join(sub)).unwrap();
        }
        d.pki_at(&d.a(), &["create-owner-ca"]).expect(0);
        d.pki_at(&d.a(), &["create-intermediate-ca"]).expect(0);
        let copied = programs::command("cp")
            .arg("-a")
            .arg(d.a().join("pki"))
            .arg(d.b())
            .status()
            .unwrap();
        assert!(copied.success());
        let id = |m: &Path| std::fs::read_to_string(m.join("pki/directory.id")).unwrap();
        assert_eq!(id(&d.a()), id(&d.b()), "one CA directory, two copies");
        d
    }

    pub(super) fn a(&self) -> PathBuf {
        self.dir.path().join("machine-a")
    }

    pub(super) fn b(&self) -> PathBuf {
        self.dir.path().join("machine-b")
    }

    pub(super) fn clients(&self) -> PathBuf {
        self.dir.path().join("clients")
    }

    /// `pki --register URL ARGS` on `machine`.
    pub(super) fn pki_at(&self, machine: &Path, args: &[&str]) -> crate::support::Run {
        pki(
            machine,
            &[&["--register", self.url.as_str()], args].concat(),
        )
    }

    /// The CA certificate of A's directory whose file name has `role` (`root`, `intermediate`):
    /// what clients trust, and what the server's chain must be.
    pub(super) fn ca_cert(&self, role: &str) -> PathBuf {
        let certs = self.a().join("pki/certs");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&certs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name.contains(role) && name.ends_with(".cert.pem") && !name.contains("full-chain")
            })
            .collect();
        assert_eq!(found.len(), 1, "one {role} certificate in {certs:?}");
        found.remove(0)
    }

    pub(super) fn root(&self) -> PathBuf {
        self.ca_cert("root")
    }

    /// A one-time enrolment secret for `id`, made by the operator on B.
    pub(super) fn secret(&self, id: &str) -> String {
        let made = self.pki_at(&self.b(), &["est", "secret", id, "--json"]);
        made.expect(0).json()["secret"].as_str().unwrap().to_owned()
    }

    /// The register's rows of the certificates issued over EST (`est:LABEL/CN`), by CN, as
    /// `pki --register URL list --json` on B gives them.
    pub(super) fn est_rows(&self) -> Vec<Value> {
        register_rows(&self.b(), &["--register", &self.url])
            .into_iter()
            .filter(|r| r["path"].as_str().unwrap().starts_with("est:"))
            .collect()
    }

    /// The register's rows of the certificates issued over EST for the CN `cn`.
    pub(super) fn rows_of(&self, cn: &str) -> Vec<Value> {
        self.est_rows()
            .into_iter()
            .filter(|r| r["common_name"] == cn)
            .collect()
    }

    /// `pki est serve` on `machine`.
    pub(super) fn serve(&self, name: &'static str, machine: &Path, extra: &[&str]) -> EstServer {
        EstServer::start(name, machine, &self.url, extra)
    }
}

/// A `pki est serve` process, stopped (killed) when dropped; its stdout (the audit log) and
/// stderr collected as it runs.
pub(super) struct EstServer {
    pub(super) name: &'static str,
    child: Child,
    pub(super) port: u16,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl EstServer {
    /// Starts `pki --register URL est serve --listen 127.0.0.1:0 EXTRA` on `machine` and waits
    /// for the first line of its audit log, which says where it listens. Every client of
    /// these tests comes from 127.0.0.1, so the rate limit per address is lifted.
    fn start(name: &'static str, machine: &Path, url: &str, extra: &[&str]) -> Self {
        let mut args = vec!["--register", url, "est", "serve", "--listen", "127.0.0.1:0"];
        args.extend(["--rate-limit", "1000000"]);
        args.extend_from_slice(extra);
        let mut child = pki_command(machine, &args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the pki binary runs");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (first_tx, first_rx) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        let lines = stdout.clone();
        let mut readers = vec![thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                let _ = first_tx.send(line.clone());
                lines.lock().unwrap().push(line);
            }
        })];
        let mut err = child.stderr.take().unwrap();
        let text = stderr.clone();
        readers.push(thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                text.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }));
        let mut server = EstServer {
            name,
            child,
            port: 0,
            stdout,
            stderr,
            readers,
        };
        let first = first_rx.recv_timeout(START_TIMEOUT).unwrap_or_else(|_| {
            let _ = server.child.kill();
            thread::sleep(Duration::from_millis(100));
            panic!(
                "server {name} did not say where it listens:\n{}",
                server.stderr.lock().unwrap()
            )
        });
        let listening: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(listening["event"], "listening", "{first}");
        let address = listening["address"].as_str().unwrap();
        assert!(address.starts_with("127.0.0.1:"), "{first}");
        server.port = address.rsplit(':').next().unwrap().parse().unwrap();
        server
    }

    /// `https://127.0.0.1:PORT/.well-known/est/OP`.
    pub(super) fn url(&self, op: &str) -> String {
        format!("https://127.0.0.1:{}/.well-known/est/{op}", self.port)
    }

    /// Stops the server with SIGTERM, as an operator does, and returns its audit log's
    /// request lines; asserts that it drained and said so in its last line.
    pub(super) fn stop(mut self) -> Vec<Value> {
        let pid = self.child.id().to_string();
        let sent = programs::command("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + CLIENT_TIMEOUT;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "server {} did not stop",
                self.name
            );
            thread::sleep(Duration::from_millis(20));
        };
        for r in self.readers.drain(..) {
            r.join().unwrap();
        }
        self.port = 0; // stopped by the test: nothing to report when dropped
        let stderr = self.stderr.lock().unwrap().clone();
        assert!(status.success(), "server {}: {status}\n{stderr}", self.name);
        let lines: Vec<Value> = self
            .stdout
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let last = lines.last().unwrap().clone();
        assert_eq!(last["event"], "stopped", "server {}: {last}", self.name);
        assert_eq!(last["cut"], 0, "{last}");
        let requests: Vec<Value> = lines
            .into_iter()
            .filter(|l| l["event"] == "request")
            .collect();
        assert_eq!(last["served"], requests.len(), "{last}");
        requests
    }
}

impl Drop for EstServer {
    fn drop(&mut self) {
        let exited = self.child.try_wait().ok().flatten();
        let _ = self.child.kill();
        let _ = self.child.wait();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        // A server that ended on its own before the test was done with it says why.
        if let Some(status) = exited.filter(|_| self.port != 0) {
            eprintln!(
                "server {} had exited ({status}):\n{}",
                self.name,
                self.stderr.lock().unwrap()
            );
        }
    }
}

/// `openssl verify` of every file in `certs` against the CA's root and intermediate: each
/// must be `OK`.
pub(super) fn verify_all(d: &Deployment, certs: &[PathBuf]) {
    for chunk in certs.chunks(100) {
        let mut args = vec![
            "verify".to_owned(),
            "-CAfile".to_owned(),
            d.root().display().to_string(),
            "-untrusted".to_owned(),
            d.ca_cert("intermediate").display().to_string(),
        ];
        args.extend(chunk.iter().map(|c| c.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = openssl(&d.clients(), &args);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        for c in chunk {
            assert!(
                run.stdout.contains(&format!("{}: OK", c.display())),
                "{}",
                run.stdout
            );
        }
    }
}

/// How many sessions PostgreSQL has seen in the register's database (each connection one; a
/// session is counted when it ends at the latest).
pub(super) fn sessions(d: &Deployment) -> u64 {
    let n = Postgres::psql(
        &d.url,
        "SELECT sessions FROM pg_stat_database WHERE datname = current_database()",
    );
    n.trim().parse().unwrap()
}
