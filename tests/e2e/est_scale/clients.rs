//! The scale-out tests' clients: devices' keys and CSRs made by openssl, curl POSTing them as
//! RFC 7030's examples do, `openssl s_client` sending raw HTTP held back by its last byte for
//! races, and the answers decoded with `openssl pkcs7` and read with `openssl x509`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::Barrier;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use base64::Engine as _;

use super::deployment::EstServer;
use crate::support::{openssl, programs, run_bounded};

/// How long one client's request may take.
pub(super) const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the racing clients wait, their requests sent but for the last byte, before the
/// barrier: time for both handshakes and both heads to reach the servers.
const SETTLE: Duration = Duration::from_millis(300);

/// A device's key and CSR, made by openssl: the CSR's base64 (its PEM armour taken off, as
/// thin-edge sends it) is the body of its enrolment requests.
pub(super) struct Device {
    pub(super) key: PathBuf,
    csr: PathBuf,
}

/// A new P-256 key and a CSR for `CN=cn` in `dir`, named after `file`.
pub(super) fn device(dir: &Path, cn: &str, file: &str) -> Device {
    let key = dir.join(format!("{file}.key.pem"));
    let pem = dir.join(format!("{file}.csr.pem"));
    let subj = format!("/CN={cn}");
    let made = openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            key.to_str().unwrap(),
            "-subj",
            &subj,
            "-out",
            pem.to_str().unwrap(),
        ],
    );
    made.expect(0);
    let text = std::fs::read_to_string(&pem).unwrap();
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(|l| format!("{l}\n"))
        .collect();
    let csr = dir.join(format!("{file}.csr.b64"));
    std::fs::write(&csr, body).unwrap();
    Device { key, csr }
}

/// How a request authenticates.
pub(super) enum Auth<'a> {
    /// HTTP Basic `DEVICE_ID:SECRET`.
    Secret(&'a str, &'a str),
    /// A TLS client certificate (a file that may hold its chain after it) and its key.
    Cert(&'a Path, &'a Path),
}

impl Auth<'_> {
    fn basic(id: &str, secret: &str) -> String {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        format!("Authorization: Basic {token}")
    }
}

/// An answer: the status and the body.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: String,
}

/// curl POSTs `device`'s CSR to `op` of `server`, as RFC 7030 §4.2 wants it (base64
/// `application/pkcs10`), trusting `root`. The secret goes to curl on its stdin (`-K -`), never
/// in its arguments.
pub(super) fn curl_post(
    server: &EstServer,
    op: &str,
    device: &Device,
    auth: &Auth<'_>,
    root: &Path,
) -> Answer {
    let mut cmd = curl(root);
    cmd.args([
        "-H",
        "Content-Type: application/pkcs10",
        "-H",
        "Content-Transfer-Encoding: base64",
        "--data-binary",
    ])
    .arg(format!("@{}", device.csr.display()));
    let config = match auth {
        Auth::Secret(id, secret) => format!("header = \"{}\"\n", Auth::basic(id, secret)),
        Auth::Cert(cert, key) => {
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
            String::new()
        }
    };
    cmd.args(["-K", "-"]).arg(server.url(op));
    curl_answer(cmd, config.as_bytes())
}

/// curl GETs `op` of `server`.
pub(super) fn curl_get(server: &EstServer, op: &str, root: &Path) -> Answer {
    let mut cmd = curl(root);
    cmd.arg(server.url(op));
    curl_answer(cmd, b"")
}

/// curl, silent but for errors, trusting `root` only, printing the status after the body.
fn curl(root: &Path) -> std::process::Command {
    let mut cmd = programs::command("curl");
    cmd.args(["-sS", "--noproxy", "*", "--cacert"])
        .arg(root)
        .args(["-w", "\n%{http_code}"]);
    for var in ["SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE"] {
        cmd.env_remove(var);
    }
    cmd
}

fn curl_answer(cmd: std::process::Command, stdin: &[u8]) -> Answer {
    let run = run_bounded(cmd, stdin, CLIENT_TIMEOUT).expect("curl finished in time");
    assert_eq!(run.code, 0, "curl: {}", run.stderr);
    let (body, status) = run.stdout.rsplit_once('\n').unwrap();
    Answer {
        status: status.parse().unwrap(),
        body: body.to_owned(),
    }
}

/// A request sent over `openssl s_client` but for its last byte, which [`Held::finish`] sends.
struct Held {
    child: Child,
    stdin: Option<ChildStdin>,
    last: u8,
    out: Option<JoinHandle<Vec<u8>>>,
}

/// Starts the POST of `device`'s CSR to `op` of `server` over `openssl s_client` (raw HTTP/1.1,
/// `Connection: close`), all of it sent but the body's last byte.
fn hold(server: &EstServer, op: &str, device: &Device, auth: &Auth<'_>, root: &Path) -> Held {
    let body = std::fs::read(&device.csr).unwrap();
    let mut head = format!(
        "POST /.well-known/est/{op} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
         Content-Type: application/pkcs10\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        server.port,
        body.len()
    );
    let mut cmd = programs::command("openssl");
    cmd.args(["s_client", "-quiet", "-verify_return_error", "-connect"])
        .arg(format!("127.0.0.1:{}", server.port))
        .arg("-CAfile")
        .arg(root);
    match auth {
        Auth::Secret(id, secret) => head.push_str(&format!("{}\r\n", Auth::basic(id, secret))),
        Auth::Cert(cert, key) => {
            cmd.arg("-cert").arg(cert).arg("-key").arg(key);
        }
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(&body);
    let last = request.pop().unwrap();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&request).unwrap();
    stdin.flush().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let out = thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    Held {
        child,
        stdin: Some(stdin),
        last,
        out: Some(out),
    }
}

impl Held {
    /// Sends the last byte and reads the answer (the server closes the connection after it).
    fn finish(mut self) -> Answer {
        let mut stdin = self.stdin.take().unwrap();
        stdin.write_all(&[self.last]).unwrap();
        stdin.flush().unwrap();
        let deadline = Instant::now() + CLIENT_TIMEOUT;
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "s_client got no answer in time");
            thread::sleep(Duration::from_millis(10));
        }
        drop(stdin);
        let raw = self.out.take().unwrap().join().unwrap();
        let raw = String::from_utf8_lossy(&raw);
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("not an HTTP answer: {raw:?}"));
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        Answer {
            status,
            body: body.to_owned(),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fires one request at each server at the same moment: both sent but for their last byte,
/// given time to reach the servers, then finished together behind a barrier.
pub(super) fn race(
    servers: [&EstServer; 2],
    op: &str,
    requests: [(&Device, &Auth<'_>); 2],
    root: &Path,
) -> [Answer; 2] {
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        let handles: Vec<_> = servers
            .iter()
            .zip(requests)
            .map(|(server, (device, auth))| {
                let barrier = &barrier;
                s.spawn(move || {
                    let held = hold(server, op, device, auth, root);
                    thread::sleep(SETTLE);
                    barrier.wait();
                    held.finish()
                })
            })
            .collect();
        let mut answers = handles.into_iter().map(|h| h.join().unwrap());
        [answers.next().unwrap(), answers.next().unwrap()]
    })
}

/// The certificates of a certs-only PKCS#7 answer, as `openssl pkcs7 -print_certs` reads them
/// (PEM, in order).
pub(super) fn certificates(body: &str) -> Vec<String> {
    let p7 = format!("-----BEGIN PKCS7-----\n{body}-----END PKCS7-----\n");
    let mut cmd = programs::command("openssl");
    cmd.args(["pkcs7", "-print_certs"]);
    let run = run_bounded(cmd, p7.as_bytes(), CLIENT_TIMEOUT).unwrap();
    assert_eq!(run.code, 0, "openssl pkcs7: {}\n{body}", run.stderr);
    let mut pems = Vec::new();
    let mut rest = run.stdout.as_str();
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let end = rest[start..].find("-----END CERTIFICATE-----").unwrap() + start;
        let end = end + "-----END CERTIFICATE-----".len();
        pems.push(format!("{}\n", &rest[start..end]));
        rest = &rest[end..];
    }
    pems
}

/// The one certificate of a 200 answer to an enrolment, written to `file`.
pub(super) fn issued(answer: &Answer, file: &Path) -> PathBuf {
    assert_eq!(answer.status, 200, "{answer:?}");
    let certs = certificates(&answer.body);
    assert_eq!(certs.len(), 1, "the certificate alone: {answer:?}");
    std::fs::write(file, &certs[0]).unwrap();
    file.to_owned()
}

/// The serial (upper-case hex, no leading zeros) and CN of a certificate file, by openssl.
pub(super) fn serial_and_cn(cert: &Path) -> (String, String) {
    let dir = cert.parent().unwrap();
    let run = openssl(
        dir,
        &[
            "x509",
            "-noout",
            "-serial",
            "-subject",
            "-nameopt",
            "multiline",
            "-in",
            cert.to_str().unwrap(),
        ],
    )
    .expect(0);
    let serial = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("serial="))
        .unwrap();
    let cn = run
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("commonName"))
        .unwrap()
        .trim()
        .trim_start_matches('=')
        .trim();
    (hex(serial), cn.to_owned())
}

/// A serial as hex, upper-case, without leading zeros: how the tests compare them.
pub(super) fn hex(serial: &str) -> String {
    serial
        .replace(':', "")
        .to_ascii_uppercase()
        .trim_start_matches('0')
        .to_owned()
}
