//! Servers the tests start on loopback: `openssl s_server`, a server that accepts and never
//! answers, one that answers in plain text, and a port where nothing listens; and [`Process`],
//! a long-running peer whose output is collected as it runs (mosquitto is one too).
//!
//! Every server binds 127.0.0.1 on a free port, is accepting connections before its constructor
//! returns, and is stopped when its handle is dropped. A missing program (openssl, mosquitto)
//! fails the test with a message saying what to install: these peers are never optional.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::fixtures::{pem_certificates, tmp};
use super::programs;

/// How long a server may take to start accepting connections.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a server is started on a fresh port when another process took the port first.
const PORT_ATTEMPTS: usize = 5;

/// `127.0.0.1:port`.
pub(crate) fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// A port on 127.0.0.1 that was free a moment ago (bound, read back, released).
fn free_port() -> u16 {
    TcpListener::bind(loopback(0))
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// A port on 127.0.0.1 where nothing listens, so a connection is refused.
pub(crate) fn closed_port() -> u16 {
    free_port()
}

/// A server the tests started on 127.0.0.1.
pub(crate) trait Server {
    /// The port it listens on.
    fn port(&self) -> u16;

    /// `127.0.0.1:PORT`.
    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port())
    }
}

/// `dir/file` as an absolute path; panics naming it when it cannot be made one.
pub(super) fn absolute(dir: &Path, file: &str) -> PathBuf {
    std::path::absolute(dir.join(file))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

/// One growing text buffer fed by a reader thread.
type Sink = Arc<Mutex<String>>;

fn drain(mut from: impl Read + Send + 'static, into: Sink) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
}

/// A long-running server process whose stdout and stderr are collected as it runs.
pub(super) struct Process {
    what: &'static str,
    child: Child,
    stdout: Sink,
    stderr: Sink,
    readers: Vec<JoinHandle<()>>,
}

/// How a start attempt ended.
enum Start {
    Ready,
    /// Another process took the port between `free_port` and the server's bind.
    PortTaken,
}

impl Process {
    /// Spawns `cmd` (the program `what` of tests/programs.txt) with stdin closed. A program
    /// that cannot be run fails the test, saying which package to install.
    fn spawn(what: &'static str, mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{what} is required for these tests and could not be run ({e}): {}",
                    programs::install_hint(what)
                )
            });
        let (stdout, stderr) = (Sink::default(), Sink::default());
        let readers = vec![
            drain(child.stdout.take().expect("piped stdout"), stdout.clone()),
            drain(child.stderr.take().expect("piped stderr"), stderr.clone()),
        ];
        Process {
            what,
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// The process id (to signal it).
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process printed so far.
    pub(super) fn output(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout.lock().unwrap(),
            self.stderr.lock().unwrap()
        )
    }

    /// Waits until the process has printed `marker` (it prints it once it listens, so a
    /// connection cannot reach another process that took the port) and accepts a TCP
    /// connection on `port`. Panics with the output after `READY_TIMEOUT`.
    fn wait_ready(&mut self, port: u16, marker: &str) -> Start {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                for r in self.readers.drain(..) {
                    let _ = r.join();
                }
                let out = self.output();
                if !out.contains("Address already in use") {
                    panic!("{} exited ({status}) before it listened:\n{out}", self.what);
                }
                return Start::PortTaken;
            }
            let printed = self.stdout.lock().unwrap().contains(marker)
                || self.stderr.lock().unwrap().contains(marker);
            if printed
                && TcpStream::connect_timeout(&loopback(port), Duration::from_millis(200)).is_ok()
            {
                return Start::Ready;
            }
            if Instant::now() > deadline {
                panic!(
                    "{} did not accept connections on 127.0.0.1:{port} within {READY_TIMEOUT:?}:\n{}",
                    self.what,
                    self.output()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts a server on a free port, on another one when the port was taken in between.
    /// `make` builds the command for a port; `marker` is what the server prints once it listens.
    pub(super) fn start_on_free_port(
        what: &'static str,
        marker: &str,
        mut make: impl FnMut(u16) -> Command,
    ) -> (Self, u16) {
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let mut p = Process::spawn(what, make(port));
            match p.wait_ready(port, marker) {
                Start::Ready => return (p, port),
                Start::PortTaken => continue,
            }
        }
        panic!("{what}: no free port after {PORT_ATTEMPTS} attempts");
    }

    /// Starts a server on `port` exactly (a port a client cannot be told otherwise, as the
    /// Azure IoT SDKs' 8883). A port another process holds fails the test, saying so.
    pub(super) fn start_on_port(
        what: &'static str,
        marker: &str,
        port: u16,
        make: impl FnOnce(u16) -> Command,
    ) -> Self {
        let taken = || {
            panic!(
                "{what} cannot listen on 127.0.0.1:{port}: the port is taken by another process; \
                 stop it (ss -ltnp 'sport = :{port}') and run the test again"
            )
        };
        if std::net::TcpListener::bind(loopback(port)).is_err() {
            taken();
        }
        let mut p = Process::spawn(what, make(port));
        match p.wait_ready(port, marker) {
            Start::Ready => p,
            Start::PortTaken => taken(),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }
}

/// `openssl s_server` on 127.0.0.1, serving one handshake after another (`-www`) until dropped.
pub(crate) struct OpensslServer {
    process: Process,
    port: u16,
    _files: tempfile::TempDir,
}

impl OpensslServer {
    /// `openssl s_server -accept 127.0.0.1:PORT -cert CERT -key KEY [-cert_chain CHAIN] -www
    /// EXTRA…`, run in `dir` (relative paths are relative to it).
    ///
    /// `chain` holds the certificates the server sends after its own, in that order. s_server
    /// sends the chain file as it is, so a file that starts with the leaf itself (pki's
    /// `-full-chain` files) would send the leaf twice: that leading copy is left out, and the
    /// server sends what mosquitto or nginx send for the same file.
    ///
    /// `extra` adds flags: mutual TLS with `-Verify 1 -verify_return_error -CAfile ROOT`
    /// (`-Verify N` is the verify depth: N intermediates may sit between the client's
    /// certificate and ROOT); `-cipher DEFAULT@SECLEVEL=0` to serve a SHA-1-signed certificate,
    /// which OpenSSL 3 refuses to load at the default level ("ca md too weak"). `-rev`, `-WWW`
    /// or `-HTTP` in `extra` replace `-www`.
    pub(crate) fn start(
        dir: &Path,
        cert: &str,
        key: &str,
        chain: Option<&str>,
        extra: &[&str],
    ) -> Self {
        let files = tmp();
        let chain = chain.map(|chain| {
            let chain_path = absolute(dir, chain);
            let text = std::fs::read_to_string(&chain_path)
                .unwrap_or_else(|e| panic!("{}: {e}", chain_path.display()));
            let cert_path = absolute(dir, cert);
            let leaf = std::fs::read_to_string(&cert_path)
                .unwrap_or_else(|e| panic!("{}: {e}", cert_path.display()));
            let (leaf, certs) = (pem_certificates(&leaf), pem_certificates(&text));
            if certs.is_empty() || leaf.first() != certs.first() {
                return chain_path;
            }
            let rest = files.path().join("chain.pem");
            let mut pem = String::new();
            for b64 in &certs[1..] {
                pem.push_str("-----BEGIN CERTIFICATE-----\n");
                for line in b64.as_bytes().chunks(64) {
                    pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
                    pem.push('\n');
                }
                pem.push_str("-----END CERTIFICATE-----\n");
            }
            std::fs::write(&rest, pem).expect("write the chain file");
            rest
        });
        let mode_given = extra
            .iter()
            .any(|a| matches!(*a, "-www" | "-WWW" | "-HTTP" | "-rev"));
        let (process, port) = Process::start_on_free_port("openssl", "ACCEPT", |port| {
            let mut cmd = programs::command("openssl");
            cmd.current_dir(dir)
                .arg("s_server")
                .arg("-accept")
                .arg(format!("127.0.0.1:{port}"))
                .arg("-cert")
                .arg(cert)
                .arg("-key")
                .arg(key);
            if let Some(chain) = &chain {
                cmd.arg("-cert_chain").arg(chain);
            }
            if !mode_given {
                cmd.arg("-www");
            }
            cmd.args(extra);
            cmd
        });
        OpensslServer {
            process,
            port,
            _files: files,
        }
    }

    /// What s_server printed so far (its verification of client certificates, errors).
    pub(crate) fn output(&self) -> String {
        self.process.output()
    }
}

impl Server for OpensslServer {
    fn port(&self) -> u16 {
        self.port
    }
}

/// A TCP listener on 127.0.0.1 run by a thread until its handle is dropped; `serve` gets every
/// accepted connection.
struct Listener {
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    fn start(mut serve: impl FnMut(TcpStream) + Send + 'static) -> Self {
        let listener = TcpListener::bind(loopback(0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (accepted, stop) = (accepted.clone(), stop.clone());
            thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(conn) = conn {
                        accepted.fetch_add(1, Ordering::SeqCst);
                        serve(conn);
                    }
                }
            })
        };
        // Bound before returning: the kernel queues connections from now on.
        Listener {
            port,
            accepted,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Unblocks `accept`, which then sees the flag.
        let _ = TcpStream::connect_timeout(&loopback(self.port), Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Accepts TCP connections and never writes a byte: a TLS client waits for a ServerHello that
/// never comes. The connections stay open until the handle is dropped.
pub(crate) struct SilentServer(Listener);

impl SilentServer {
    /// Starts it on a free port.
    pub(crate) fn start() -> Self {
        let mut held = Vec::new();
        SilentServer(Listener::start(move |conn| held.push(conn)))
    }

    /// How many connections it has accepted.
    pub(crate) fn accepted(&self) -> usize {
        self.0.accepted.load(Ordering::SeqCst)
    }
}

impl Server for SilentServer {
    fn port(&self) -> u16 {
        self.0.port
    }
}

/// What [`PlainTextServer`] answers.
pub(crate) const PLAIN_TEXT_ANSWER: &str = "HTTP/1.1 400 Bad Request\r\n\
    Content-Type: text/plain\r\nContent-Length: 49\r\nConnection: close\r\n\r\n\
    400 The plain HTTP request was sent to TLS port\n";

/// Answers every connection with a plain-text HTTP 400 and closes it: a port that speaks no TLS.
pub(crate) struct PlainTextServer(Listener);

impl PlainTextServer {
    /// Starts it on a free port.
    pub(crate) fn start() -> Self {
        PlainTextServer(Listener::start(|conn| {
            thread::spawn(move || answer_plain_text(conn));
        }))
    }

    /// How many connections it has accepted.
    pub(crate) fn accepted(&self) -> usize {
        self.0.accepted.load(Ordering::SeqCst)
    }
}

impl Server for PlainTextServer {
    fn port(&self) -> u16 {
        self.0.port
    }
}

fn answer_plain_text(mut conn: TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    // Read the client's first flight (a ClientHello) before answering, and drain the rest
    // after, so that closing sends FIN rather than RST: with unread bytes the kernel resets
    // the connection and the client could see "reset" instead of the answer.
    let _ = conn.read(&mut buf);
    let _ = conn.write_all(PLAIN_TEXT_ANSWER.as_bytes());
    let _ = conn.shutdown(Shutdown::Write);
    while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
}
