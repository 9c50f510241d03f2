//! Real peers for the end-to-end tests of `pki verify`: `openssl s_server`, a mosquitto broker,
//! a server that accepts and never answers, one that answers in plain text, and a refused port;
//! plus a bounded `openssl s_client`, the reference client that proves each peer works.
//!
//! Every server binds 127.0.0.1 on a free port, is accepting connections before its constructor
//! returns, and is stopped when its handle is dropped. A missing program (openssl, mosquitto)
//! fails the test with a message saying what to install: these peers are never optional.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::common::{Run, pki, testdata, tmp};

/// How long a server may take to start accepting connections.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `s_client` may run before it counts as hung.
pub(crate) const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a server is started on a fresh port when another process took the port first.
const PORT_ATTEMPTS: usize = 5;

fn loopback(port: u16) -> SocketAddr {
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

/// The bodies of the `CERTIFICATE` blocks of a PEM text, whitespace removed, in order.
pub(crate) fn pem_certificates(pem: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body = &rest[start + "-----BEGIN CERTIFICATE-----".len()..];
        let Some(end) = body.find("-----END CERTIFICATE-----") else {
            break;
        };
        out.push(body[..end].split_whitespace().collect());
        rest = &body[end..];
    }
    out
}

fn absolute(dir: &Path, file: &str) -> PathBuf {
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
struct Process {
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
    /// Spawns `cmd` with stdin closed. A program that cannot be run fails the test.
    fn spawn(what: &'static str, mut cmd: Command, install: &str) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{what} is required for these tests and could not be run ({e}): {install}")
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

    /// Everything the process printed so far.
    fn output(&self) -> String {
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
    fn start_on_free_port(
        what: &'static str,
        install: &str,
        marker: &str,
        mut make: impl FnMut(u16) -> Command,
    ) -> (Self, u16) {
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let mut p = Process::spawn(what, make(port), install);
            match p.wait_ready(port, marker) {
                Start::Ready => return (p, port),
                Start::PortTaken => continue,
            }
        }
        panic!("{what}: no free port after {PORT_ATTEMPTS} attempts");
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
        let (process, port) = Process::start_on_free_port(
            "openssl",
            "install the openssl command-line tool (Debian: apt-get install -y openssl; \
             scripts/test.sh does)",
            "ACCEPT",
            |port| {
                let mut cmd = Command::new("openssl");
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
            },
        );
        OpensslServer {
            process,
            port,
            _files: files,
        }
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub(crate) fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What s_server printed so far (its verification of client certificates, errors).
    pub(crate) fn output(&self) -> String {
        self.process.output()
    }
}

/// Where the mosquitto broker is: on PATH, or in /usr/sbin (Debian's package puts it there,
/// and /usr/sbin is not on every user's PATH).
fn mosquitto_program() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "mosquitto is required for these tests and was found neither on PATH nor in \
                 /usr/sbin: install it (Debian: apt-get install -y mosquitto; scripts/test.sh does)"
            )
        })
}

/// A real mosquitto broker with one TLS listener on 127.0.0.1, in the foreground, until dropped.
pub(crate) struct Mosquitto {
    process: Process,
    port: u16,
    _config: tempfile::TempDir,
}

impl Mosquitto {
    /// Starts mosquitto with a TLS listener serving `certfile` (the server certificate followed
    /// by its chain, sent as it is) and `keyfile`, trusting `cafile` for client certificates.
    /// With `require_certificate`, a client must present a certificate issued under `cafile`
    /// and its subject's CN becomes its user name. Paths are relative to `dir`.
    pub(crate) fn start(
        dir: &Path,
        cafile: &str,
        certfile: &str,
        keyfile: &str,
        require_certificate: bool,
    ) -> Self {
        let program = mosquitto_program();
        let config_dir = tmp();
        let config = config_dir.path().join("mosquitto.conf");
        let (cafile, certfile, keyfile) = (
            absolute(dir, cafile),
            absolute(dir, certfile),
            absolute(dir, keyfile),
        );
        let (process, port) = Process::start_on_free_port(
            "mosquitto",
            "install it (Debian: apt-get install -y mosquitto; scripts/test.sh does)",
            " running",
            |port| {
                let mut text = format!(
                    "# Written by the pki end-to-end tests.\n\
                     # When run as root (CI containers) mosquitto would switch to the user\n\
                     # `mosquitto` before loading the certificates, which then cannot read the\n\
                     # keys in a 0700 temporary directory; `root` keeps it. As any other user\n\
                     # this line has no effect.\n\
                     user root\n\
                     persistence false\n\
                     log_dest stderr\n\
                     allow_anonymous true\n\
                     listener {port} 127.0.0.1\n\
                     cafile {}\n\
                     certfile {}\n\
                     keyfile {}\n\
                     require_certificate {require_certificate}\n",
                    cafile.display(),
                    certfile.display(),
                    keyfile.display(),
                );
                if require_certificate {
                    text.push_str("use_identity_as_username true\n");
                }
                std::fs::write(&config, text).expect("write mosquitto.conf");
                let mut cmd = Command::new(&program);
                cmd.arg("-c").arg(&config);
                cmd
            },
        );
        Mosquitto {
            process,
            port,
            _config: config_dir,
        }
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub(crate) fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The broker's log so far (connections, TLS errors, client user names).
    pub(crate) fn output(&self) -> String {
        self.process.output()
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
    pub(crate) fn start() -> Self {
        let mut held = Vec::new();
        SilentServer(Listener::start(move |conn| held.push(conn)))
    }

    pub(crate) fn port(&self) -> u16 {
        self.0.port
    }

    /// `127.0.0.1:PORT`.
    pub(crate) fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.0.port)
    }

    /// How many connections it has accepted.
    pub(crate) fn accepted(&self) -> usize {
        self.0.accepted.load(Ordering::SeqCst)
    }
}

/// What [`PlainTextServer`] answers.
pub(crate) const PLAIN_TEXT_ANSWER: &str = "HTTP/1.1 400 Bad Request\r\n\
    Content-Type: text/plain\r\nContent-Length: 49\r\nConnection: close\r\n\r\n\
    400 The plain HTTP request was sent to TLS port\n";

/// Answers every connection with a plain-text HTTP 400 and closes it: a port that speaks no TLS.
pub(crate) struct PlainTextServer(Listener);

impl PlainTextServer {
    pub(crate) fn start() -> Self {
        PlainTextServer(Listener::start(|conn| {
            thread::spawn(move || answer_plain_text(conn));
        }))
    }

    pub(crate) fn port(&self) -> u16 {
        self.0.port
    }

    /// `127.0.0.1:PORT`.
    pub(crate) fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.0.port)
    }

    /// How many connections it has accepted.
    pub(crate) fn accepted(&self) -> usize {
        self.0.accepted.load(Ordering::SeqCst)
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

/// `openssl s_client -connect 127.0.0.1:PORT ARGS` in `cwd`, with `stdin` as its input (empty:
/// /dev/null, so it leaves right after the handshake). Fails the test when it runs longer than
/// `CLIENT_TIMEOUT`.
///
/// Over TLS 1.3 a server rejects a client certificate only after the client's handshake has
/// finished; s_client without `-ign_eof` may leave before that alert arrives and exit 0. To see
/// a rejection, pass `-ign_eof`: s_client then reads until the server closes.
pub(crate) fn s_client(cwd: &Path, port: u16, args: &[&str], stdin: &[u8]) -> Run {
    let mut cmd = Command::new("openssl");
    cmd.current_dir(cwd)
        .arg("s_client")
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .args(args);
    run_bounded(cmd, stdin, CLIENT_TIMEOUT).unwrap_or_else(|| {
        panic!("openssl s_client {args:?} to port {port} still ran after {CLIENT_TIMEOUT:?}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "pki/certs/azure-iot-test-only.root.ca.cert.pem";
    const SERVER: &str = "pki/certs/iot-edge-server-localhost.cert.pem";
    const SERVER_FULL: &str = "pki/certs/iot-edge-server-localhost-full-chain.cert.pem";
    const SERVER_KEY: &str = "pki/private/iot-edge-server-localhost.key.pem";
    const DEVICE: &str = "pki/certs/iot-device-downstream-device-1.cert.pem";
    const DEVICE_FULL: &str = "pki/certs/iot-device-downstream-device-1-full-chain.cert.pem";
    const DEVICE_KEY: &str = "pki/private/iot-device-downstream-device-1.key.pem";
    /// The intermediate and the root: what a device sends after its own certificate.
    const INTERMEDIATE_FULL: &str =
        "pki/certs/azure-iot-test-only.intermediate-full-chain.cert.pem";
    /// A device that trusts the pki root and checks the name `localhost`.
    const TRUSTING_DEVICE: &[&str] = &[
        "-CAfile",
        ROOT,
        "-verify_return_error",
        "-verify_hostname",
        "localhost",
    ];
    /// A device presenting its certificate, the intermediate and the root.
    const WITH_DEVICE_CERT: &[&str] = &[
        "-cert",
        DEVICE,
        "-cert_chain",
        INTERMEDIATE_FULL,
        "-key",
        DEVICE_KEY,
    ];

    fn quickstart() -> tempfile::TempDir {
        let d = tmp();
        pki(d.path(), &["quickstart", "--gateway", "localhost"]).expect(0);
        d
    }

    fn args<'a>(parts: &[&[&'a str]]) -> Vec<&'a str> {
        parts.concat()
    }

    #[track_caller]
    fn verified_ok(r: &Run) {
        assert!(
            r.code == 0 && r.stdout.contains("Verify return code: 0 (ok)"),
            "s_client did not verify the server (exit {}):\n{}\n{}",
            r.code,
            r.stdout,
            r.stderr
        );
    }

    /// The certificates the server sent, from `s_client -showcerts`.
    fn sent(r: &Run) -> Vec<String> {
        pem_certificates(&r.stdout)
    }

    fn file_certs(dir: &Path, rel: &str) -> Vec<String> {
        pem_certificates(&std::fs::read_to_string(dir.join(rel)).unwrap())
    }

    /// An MQTT 3.1.1 CONNECT (client id `e2e`, clean session, keep-alive 60 s) then DISCONNECT.
    const MQTT_CONNECT_DISCONNECT: &[u8] = &[
        0x10, 15, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 60, 0, 3, b'e', b'2', b'e', 0xe0, 0,
    ];
    /// CONNACK, connection accepted.
    const MQTT_CONNACK_OK: &str = "\u{20}\u{2}\u{0}\u{0}";

    #[test]
    fn openssl_server_serves_a_pki_gateway_chain_to_several_clients() {
        let d = quickstart();
        let p = d.path();
        let server = OpensslServer::start(p, SERVER, SERVER_KEY, Some(SERVER_FULL), &[]);
        assert_eq!(server.addr(), format!("127.0.0.1:{}", server.port()));
        for _ in 0..2 {
            let r = s_client(
                p,
                server.port(),
                &args(&[TRUSTING_DEVICE, &["-showcerts"]]),
                b"",
            );
            verified_ok(&r);
            // Leaf, edge CA, intermediate, root: the full-chain file once, the leaf not twice.
            assert_eq!(sent(&r), file_certs(p, SERVER_FULL));
        }
        // A device that checks another name, or trusts another root, rejects it.
        let r = s_client(
            p,
            server.port(),
            &[
                "-CAfile",
                ROOT,
                "-verify_return_error",
                "-verify_hostname",
                "gw.example.com",
            ],
            b"",
        );
        assert_ne!(r.code, 0);
        assert!(
            r.stdout
                .contains("Verify return code: 62 (hostname mismatch)"),
            "{}",
            r.stdout
        );
        let port = server.port();
        drop(server);
        assert!(
            TcpStream::connect(loopback(port)).is_err(),
            "still listening after drop"
        );
    }

    #[test]
    fn openssl_server_without_a_chain_sends_only_its_certificate() {
        let d = quickstart();
        let p = d.path();
        let server = OpensslServer::start(p, SERVER, SERVER_KEY, None, &[]);
        let r = s_client(
            p,
            server.port(),
            &args(&[TRUSTING_DEVICE, &["-showcerts"]]),
            b"",
        );
        assert_ne!(r.code, 0);
        assert!(
            r.stdout
                .contains("Verify return code: 20 (unable to get local issuer certificate)"),
            "{}",
            r.stdout
        );
        assert_eq!(sent(&r), file_certs(p, SERVER));
    }

    #[test]
    fn openssl_server_with_mutual_tls() {
        let d = quickstart();
        let p = d.path();
        let server = OpensslServer::start(
            p,
            SERVER,
            SERVER_KEY,
            Some(SERVER_FULL),
            &["-Verify", "1", "-verify_return_error", "-CAfile", ROOT],
        );
        // Without a client certificate: the server aborts (TLS 1.3 alert 116).
        let r = s_client(
            p,
            server.port(),
            &args(&[TRUSTING_DEVICE, &["-ign_eof"]]),
            b"",
        );
        assert_ne!(r.code, 0, "{}", r.stdout);
        assert!(r.stderr.contains("certificate required"), "{}", r.stderr);
        // With the pki-issued device certificate: the -www page describes it.
        let r = s_client(
            p,
            server.port(),
            &args(&[TRUSTING_DEVICE, WITH_DEVICE_CERT, &["-ign_eof"]]),
            b"GET / HTTP/1.0\r\n\r\n",
        );
        verified_ok(&r);
        assert!(r.stdout.contains("HTTP/1.0 200 ok"), "{}", r.stdout);
        assert!(
            r.stdout.contains("Subject: CN=downstream-device-1"),
            "{}",
            r.stdout
        );
        // A device certificate without its intermediate does not verify at the server.
        let r = s_client(
            p,
            server.port(),
            &args(&[
                TRUSTING_DEVICE,
                &["-cert", DEVICE, "-key", DEVICE_KEY, "-ign_eof"],
            ]),
            b"",
        );
        assert_ne!(r.code, 0);
        assert!(r.stderr.contains("unknown ca"), "{}", r.stderr);
        assert!(
            server
                .output()
                .contains("unable to get local issuer certificate"),
            "{}",
            server.output()
        );
    }

    #[test]
    fn openssl_server_serves_every_fixture_case() {
        let root = testdata("verify");
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("case.txt").is_file())
            .collect();
        cases.sort();
        assert!(cases.len() >= 20, "fixtures in {}", root.display());
        for case in cases {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let options = std::fs::read_to_string(case.join("case.txt")).unwrap();
            let attime = options
                .lines()
                .find_map(|l| l.strip_prefix("attime="))
                .expect("attime");
            let chain = file_certs(&case, "chain.pem");
            // OpenSSL 3 loads a SHA-1-signed certificate only at security level 0.
            let extra: &[&str] = if options.contains("auth_level=") {
                &["-cipher", "DEFAULT@SECLEVEL=0"]
            } else {
                &[]
            };
            let server = OpensslServer::start(
                &case,
                "leaf.pem",
                "leaf.key.pem",
                (!chain.is_empty()).then_some("chain.pem"),
                extra,
            );
            // Not -verify_return_error: the handshake completes whatever the verdict.
            let r = s_client(
                &case,
                server.port(),
                &["-CAfile", "ca.pem", "-attime", attime, "-showcerts"],
                b"",
            );
            assert_eq!(r.code, 0, "{name}: {}\n{}", r.stderr, server.output());
            assert!(
                r.stdout.contains("Verify return code: "),
                "{name}: {}",
                r.stdout
            );
            let mut expected = file_certs(&case, "leaf.pem");
            expected.extend(chain);
            assert_eq!(sent(&r), expected, "{name}: the server sent another chain");
        }
    }

    #[test]
    fn mosquitto_serves_a_pki_gateway_chain() {
        let d = quickstart();
        let p = d.path();
        let broker = Mosquitto::start(p, ROOT, SERVER_FULL, SERVER_KEY, false);
        assert_eq!(broker.addr(), format!("127.0.0.1:{}", broker.port()));
        let r = s_client(
            p,
            broker.port(),
            &args(&[TRUSTING_DEVICE, &["-showcerts"]]),
            b"",
        );
        verified_ok(&r);
        assert_eq!(sent(&r), file_certs(p, SERVER_FULL));
        // An MQTT session over it, anonymous.
        let r = s_client(
            p,
            broker.port(),
            &args(&[TRUSTING_DEVICE, &["-ign_eof"]]),
            MQTT_CONNECT_DISCONNECT,
        );
        verified_ok(&r);
        assert!(
            r.stdout.contains(MQTT_CONNACK_OK),
            "no CONNACK:\n{}",
            r.stdout
        );
        let port = broker.port();
        drop(broker);
        assert!(
            TcpStream::connect(loopback(port)).is_err(),
            "still listening after drop"
        );
    }

    #[test]
    fn mosquitto_requiring_a_client_certificate() {
        let d = quickstart();
        let p = d.path();
        let broker = Mosquitto::start(p, ROOT, SERVER_FULL, SERVER_KEY, true);
        // Without a certificate the broker aborts the handshake (TLS 1.3 alert 116).
        let r = s_client(
            p,
            broker.port(),
            &args(&[TRUSTING_DEVICE, &["-ign_eof"]]),
            b"",
        );
        assert_ne!(r.code, 0, "{}", r.stdout);
        assert!(r.stderr.contains("certificate required"), "{}", r.stderr);
        // Over TLS 1.2 the same refusal fails the handshake itself.
        let r = s_client(
            p,
            broker.port(),
            &args(&[TRUSTING_DEVICE, &["-tls1_2"]]),
            b"",
        );
        assert_ne!(r.code, 0, "{}", r.stdout);
        assert!(r.stderr.contains("handshake failure"), "{}", r.stderr);
        // With the pki-issued device certificate: an MQTT session, the CN as the user name.
        let r = s_client(
            p,
            broker.port(),
            &args(&[TRUSTING_DEVICE, WITH_DEVICE_CERT, &["-ign_eof"]]),
            MQTT_CONNECT_DISCONNECT,
        );
        verified_ok(&r);
        assert!(
            r.stdout.contains(MQTT_CONNACK_OK),
            "no CONNACK:\n{}",
            r.stdout
        );
        assert!(
            broker.output().contains("u'downstream-device-1'"),
            "{}",
            broker.output()
        );
        // s_client sends only the first certificate of a -cert file: the device's full-chain
        // file alone lacks the intermediate.
        let r = s_client(
            p,
            broker.port(),
            &args(&[
                TRUSTING_DEVICE,
                &["-cert", DEVICE_FULL, "-key", DEVICE_KEY, "-ign_eof"],
            ]),
            b"",
        );
        assert_ne!(r.code, 0, "{}", r.stdout);
        assert!(r.stderr.contains("unknown ca"), "{}", r.stderr);
    }

    #[test]
    fn silent_server_accepts_and_never_answers() {
        let server = SilentServer::start();
        assert_eq!(server.addr(), format!("127.0.0.1:{}", server.port()));
        let mut conn = TcpStream::connect(loopback(server.port())).unwrap();
        conn.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let err = conn.read(&mut [0u8; 16]).unwrap_err();
        assert!(
            matches!(
                err.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "{err}"
        );
        // A TLS client waits for a ServerHello that never comes.
        let mut cmd = Command::new("openssl");
        cmd.args(["s_client", "-connect", &server.addr()]);
        assert!(run_bounded(cmd, b"", Duration::from_millis(700)).is_none());
        assert!(server.accepted() >= 2);
        let port = server.port();
        drop(server);
        assert!(
            TcpStream::connect(loopback(port)).is_err(),
            "still listening after drop"
        );
    }

    #[test]
    fn plain_text_server_answers_http_400() {
        let server = PlainTextServer::start();
        assert_eq!(server.addr(), format!("127.0.0.1:{}", server.port()));
        let mut conn = TcpStream::connect(loopback(server.port())).unwrap();
        conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        assert_eq!(answer, PLAIN_TEXT_ANSWER);
        let r = s_client(&std::env::temp_dir(), server.port(), &[], b"");
        assert_ne!(r.code, 0);
        assert!(r.stderr.contains("wrong version number"), "{}", r.stderr);
        assert_eq!(server.accepted(), 2);
        let port = server.port();
        drop(server);
        assert!(
            TcpStream::connect(loopback(port)).is_err(),
            "still listening after drop"
        );
    }

    #[test]
    fn closed_port_refuses() {
        let port = closed_port();
        let err = TcpStream::connect(loopback(port)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        let r = s_client(&std::env::temp_dir(), port, &[], b"");
        assert_ne!(r.code, 0);
        assert!(r.stderr.contains("Connection refused"), "{}", r.stderr);
    }
}
