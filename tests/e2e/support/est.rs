//! The EST server under test and its clients: `pki est serve` started on a free loopback port
//! (its address read from the first JSON line it prints, its audit lines collected as it runs,
//! stopped by SIGTERM or on drop), one-time secrets from `pki est secret`, and HTTP/1.1 over
//! TLS through `openssl s_client`, the bytes a test writes sent as they are and the answer read
//! back as a client reads it.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::clock::Clock;
use super::programs;
use super::run::{openssl, pki, pki_command};

/// How long the server may take to print its address (it may first issue its own TLS
/// certificate).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stopped server may take to exit.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long an answer may take.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

/// Lines a reader thread collects.
type Lines = Arc<Mutex<Vec<String>>>;

/// `pki est serve` on 127.0.0.1, stopped (killed) when dropped.
pub(crate) struct EstServer {
    child: Child,
    port: u16,
    url: String,
    stdout: Lines,
    stderr: Lines,
    readers: Vec<JoinHandle<()>>,
}

fn collect(from: impl Read + Send + 'static, into: Lines) -> JoinHandle<()> {
    thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            into.lock().unwrap().push(line);
        }
    })
}

impl EstServer {
    /// `pki --dir CWD/pki est serve --listen 127.0.0.1:0 EXTRA...` run in `cwd`, started and
    /// listening.
    pub(crate) fn start(cwd: &Path, extra: &[&str]) -> Self {
        Self::start_with(cwd, extra, None)
    }

    /// As [`EstServer::start`], the server's clock on `clock` (libfaketime).
    pub(crate) fn start_on(cwd: &Path, extra: &[&str], clock: &Clock) -> Self {
        Self::start_with(cwd, extra, Some(clock))
    }

    /// As [`EstServer::start`], with these environment variables (a PKCS#11 module's).
    pub(crate) fn start_env(cwd: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Self::command(cwd, extra);
        cmd.envs(env.iter().copied());
        Self::spawn(cmd)
    }

    fn start_with(cwd: &Path, extra: &[&str], clock: Option<&Clock>) -> Self {
        let mut cmd = Self::command(cwd, extra);
        if let Some(clock) = clock {
            clock.apply(&mut cmd);
        }
        Self::spawn(cmd)
    }

    fn command(cwd: &Path, extra: &[&str]) -> Command {
        let dir = cwd.join("pki");
        let dir = dir.to_str().expect("a UTF-8 temporary path");
        let mut args = vec!["--dir", dir, "est", "serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        pki_command(cwd, &args)
    }

    fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the pki binary runs");
        let (stdout, stderr) = (Lines::default(), Lines::default());
        let readers = vec![
            collect(child.stdout.take().expect("piped stdout"), stdout.clone()),
            collect(child.stderr.take().expect("piped stderr"), stderr.clone()),
        ];
        let mut server = EstServer {
            child,
            port: 0,
            url: String::new(),
            stdout,
            stderr,
            readers,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        let first = loop {
            if let Some(first) = server.stdout.lock().unwrap().first().cloned() {
                break first;
            }
            if let Some(status) = server.child.try_wait().expect("try_wait") {
                server.join_readers();
                panic!(
                    "pki est serve exited ({status}) before it listened:\n{}",
                    server.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "pki est serve printed no address within {START_TIMEOUT:?}:\n{}",
                server.output()
            );
            thread::sleep(Duration::from_millis(20));
        };
        let v: serde_json::Value = serde_json::from_str(&first)
            .unwrap_or_else(|e| panic!("the first line is not JSON ({e}): {first}"));
        assert_eq!(v["event"], "listening", "{first}");
        let address = v["address"].as_str().unwrap_or_else(|| panic!("{first}"));
        let port = address
            .strip_prefix("127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("not a loopback address: {first}"));
        server.port = port;
        server.url = v["url"]
            .as_str()
            .unwrap_or_else(|| panic!("{first}"))
            .into();
        assert_eq!(
            server.url,
            format!("https://127.0.0.1:{port}/.well-known/est"),
            "{first}"
        );
        server
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// `https://127.0.0.1:PORT/.well-known/est`, as it printed it.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Its process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every line it printed on stdout so far (the first is the address).
    pub(crate) fn stdout_lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Everything it printed on stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// stdout and stderr, for a failure message.
    pub(crate) fn output(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout_lines().join("\n"),
            self.stderr()
        )
    }

    /// The audit lines so far: every stdout line after the address, parsed.
    pub(crate) fn audit_lines(&self) -> Vec<serde_json::Value> {
        self.stdout_lines()
            .iter()
            .skip(1)
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// The audit lines once there are at least `n` request lines (the server writes one after
    /// its answer, which a client may read first); panics after [`ANSWER_TIMEOUT`].
    pub(crate) fn requests(&self, n: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let lines: Vec<_> = self
                .audit_lines()
                .into_iter()
                .filter(|l| l["event"] == "request")
                .collect();
            if lines.len() >= n {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "fewer than {n} request lines:\n{}",
                self.output()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether it is still running.
    pub(crate) fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Sends SIGTERM (through `kill -TERM`, tests/programs.txt).
    pub(crate) fn signal_term(&self) {
        let out = programs::command("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .output()
            .expect("kill runs");
        assert!(
            out.status.success(),
            "kill -TERM: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Waits for it to exit after a signal: its exit code (-1: killed by a signal). Panics when
    /// it still runs after [`STOP_TIMEOUT`].
    pub(crate) fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.join_readers();
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "pki est serve still runs {STOP_TIMEOUT:?} after SIGTERM:\n{}",
                self.output()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then waits for it to exit: its exit code.
    pub(crate) fn terminate(&mut self) -> i32 {
        self.signal_term();
        self.wait_exit()
    }

    fn join_readers(&mut self) {
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }
}

impl super::Server for EstServer {
    fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for EstServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.join_readers();
    }
}

/// The root CA certificate of the CA directory `cwd/pki` (certs/*root*.cert.pem), relative to
/// `cwd`.
pub(crate) fn root(cwd: &Path) -> String {
    let certs = cwd.join("pki/certs");
    let mut roots: Vec<String> = std::fs::read_dir(&certs)
        .unwrap_or_else(|e| panic!("{}: {e}", certs.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains("root") && n.ends_with(".cert.pem"))
        .collect();
    roots.sort();
    assert_eq!(
        roots.len(),
        1,
        "one root certificate in pki/certs: {roots:?}"
    );
    format!("pki/certs/{}", roots[0])
}

/// A one-time enrolment secret for `device_id` (`pki est secret DEVICE_ID --json EXTRA...`).
pub(crate) fn secret(cwd: &Path, device_id: &str, extra: &[&str]) -> String {
    let mut args = vec!["est", "secret", device_id, "--json"];
    args.extend_from_slice(extra);
    let v = pki(cwd, &args).expect(0).json();
    v["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no secret: {v}"))
        .to_owned()
}

/// `Basic BASE64(id:secret)`, the value of an Authorization header.
pub(crate) fn basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// A new P-256 key in `key` and a CSR for it with `subject` (`/CN=dev-1/O=...`) and the
/// extensions `ext` (`-addext` values), made by `openssl req`: the CSR's PEM.
pub(crate) fn csr(cwd: &Path, key: &str, subject: &str, ext: &[&str]) -> String {
    csr_with(
        cwd,
        key,
        subject,
        ext,
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    )
}

/// As [`csr`], the key made with `newkey` (`-newkey rsa:2048`, ...).
pub(crate) fn csr_with(
    cwd: &Path,
    key: &str,
    subject: &str,
    ext: &[&str],
    newkey: &[&str],
) -> String {
    let mut args = vec!["req", "-new", "-nodes", "-keyout", key, "-subj", subject];
    args.extend_from_slice(newkey);
    for e in ext {
        args.extend_from_slice(&["-addext", e]);
    }
    let r = openssl(cwd, &args);
    assert_eq!(r.code, 0, "openssl req: {}", r.stderr);
    r.stdout
}

/// The DER of a PEM document's first block.
pub(crate) fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let b64: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("PEM base64")
}

/// A parsed HTTP/1.1 answer.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// The status code.
    pub(crate) status: u16,
    /// The headers, names lower-cased, in the order sent.
    pub(crate) headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The first value of the header `name` (any case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl std::fmt::Display for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.status)?;
        for (n, v) in &self.headers {
            writeln!(f, "{n}: {v}")?;
        }
        write!(f, "\n{}", self.text())
    }
}

/// What parsing a buffer found.
enum Parsed {
    /// An answer, and how many bytes it took.
    Done(Response, usize),
    /// Not all of it yet.
    More,
    /// A body that runs until the connection closes (no length, not chunked).
    UntilClose(Response),
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One answer from the start of `buf`.
fn parse(buf: &[u8]) -> Parsed {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        return Parsed::More;
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP/1.x status line: {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let rest = &buf[end + 4..];
    if let Some(len) = response.header("content-length") {
        let len: usize = len.parse().expect("a numeric content-length");
        if rest.len() < len {
            return Parsed::More;
        }
        response.body = rest[..len].to_vec();
        return Parsed::Done(response, end + 4 + len);
    }
    if response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        let mut at = 0;
        loop {
            let Some(eol) = find(&rest[at..], b"\r\n") else {
                return Parsed::More;
            };
            let size = String::from_utf8_lossy(&rest[at..at + eol]);
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                .expect("a chunk size");
            at += eol + 2;
            if size == 0 {
                // No trailers expected: the final CRLF.
                if rest.len() < at + 2 {
                    return Parsed::More;
                }
                return Parsed::Done(response, end + 4 + at + 2);
            }
            if rest.len() < at + size + 2 {
                return Parsed::More;
            }
            response.body.extend_from_slice(&rest[at..at + size]);
            at += size + 2;
        }
    }
    if status == 204 || status == 304 || (100..200).contains(&status) {
        return Parsed::Done(response, end + 4);
    }
    response.body = rest.to_vec();
    Parsed::UntilClose(response)
}

/// One TLS connection to a server through `openssl s_client -quiet`: what the test writes is
/// sent as it is, what the server sends is collected. Killed when dropped.
pub(crate) struct TlsConn {
    child: Child,
    stdin: Option<ChildStdin>,
    received: Arc<Mutex<Vec<u8>>>,
    stderr: Lines,
    readers: Vec<JoinHandle<()>>,
    /// How many bytes of `received` earlier answers took.
    consumed: usize,
}

impl TlsConn {
    /// `openssl s_client -quiet -connect 127.0.0.1:PORT -servername localhost -CAfile ROOT
    /// -verify_return_error EXTRA...` in `cwd`: the server's certificate checked against the
    /// root of `cwd/pki`, as every client of these tests does.
    pub(crate) fn open(cwd: &Path, port: u16, extra: &[&str]) -> Self {
        let root = root(cwd);
        let mut args = vec![
            "s_client",
            "-quiet",
            "-connect",
            &format!("127.0.0.1:{port}"),
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
        for a in [
            "-servername",
            "localhost",
            "-CAfile",
            &root,
            "-verify_return_error",
        ] {
            args.push(a.to_owned());
        }
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        Self::open_raw(cwd, &args)
    }

    /// `openssl ARGS` (an s_client command line of the test's own), run in `cwd`.
    pub(crate) fn open_raw(cwd: &Path, args: &[String]) -> Self {
        let mut child = programs::command("openssl")
            .current_dir(cwd)
            .args(args)
            // Only the CA file a test names is trusted, not this machine's store.
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "openssl is required for these tests and could not be run ({e}): {}",
                    programs::install_hint("openssl")
                )
            });
        let received = Arc::new(Mutex::new(Vec::new()));
        let stderr = Lines::default();
        let mut out = child.stdout.take().expect("piped stdout");
        let readers = vec![
            {
                let received = received.clone();
                thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = out.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        received.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                })
            },
            collect(child.stderr.take().expect("piped stderr"), stderr.clone()),
        ];
        TlsConn {
            stdin: child.stdin.take(),
            child,
            received,
            stderr,
            readers,
            consumed: 0,
        }
    }

    /// Writes `bytes` to the connection (s_client sends them once connected).
    pub(crate) fn send(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        // A closed connection is what some tests expect: they check for it after.
        let _ = stdin.write_all(bytes).and_then(|()| stdin.flush());
    }

    /// Whether s_client has exited (the connection is closed, or never opened).
    pub(crate) fn exited(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_some()
    }

    /// Waits up to `timeout` for the connection to close: whether it did.
    pub(crate) fn closed_within(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.exited() {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The next answer on the connection, within `timeout`: `None` when none came complete.
    pub(crate) fn response_within(&mut self, timeout: Duration) -> Option<Response> {
        let deadline = Instant::now() + timeout;
        loop {
            let exited = self.exited();
            if exited {
                // Everything s_client printed is read once it has exited.
                for r in self.readers.drain(..) {
                    let _ = r.join();
                }
            }
            let buf = self.received.lock().unwrap()[self.consumed..].to_vec();
            match parse(&buf) {
                Parsed::Done(response, used) => {
                    self.consumed += used;
                    return Some(response);
                }
                Parsed::UntilClose(response) if exited => {
                    self.consumed += buf.len();
                    return Some(response);
                }
                _ if exited || Instant::now() > deadline => return None,
                _ => thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    /// The next answer; panics with what s_client printed when none comes within
    /// [`ANSWER_TIMEOUT`].
    #[track_caller]
    pub(crate) fn response(&mut self) -> Response {
        match self.response_within(ANSWER_TIMEOUT) {
            Some(r) => r,
            None => panic!("no answer within {ANSWER_TIMEOUT:?}:\n{}", self.output()),
        }
    }

    /// What s_client printed so far: what it received, and its stderr.
    pub(crate) fn output(&self) -> String {
        format!(
            "received:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&self.received.lock().unwrap()),
            self.stderr.lock().unwrap().join("\n")
        )
    }
}

impl Drop for TlsConn {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }
}

/// Sends `request` on a new TLS connection (`s_client` with `extra`) and reads one answer.
#[track_caller]
pub(crate) fn exchange(cwd: &Path, port: u16, extra: &[&str], request: &[u8]) -> Response {
    let mut conn = TlsConn::open(cwd, port, extra);
    conn.send(request);
    conn.response()
}
