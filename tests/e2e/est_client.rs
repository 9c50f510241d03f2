//! EST enrolment, the device's side: `pki est enroll` and `pki est reenroll` against the real
//! `pki est serve` on loopback. A one-time secret enrols once (a second try is one line, exit 2,
//! nothing written); a bootstrap certificate enrols; re-enrolment renews in place with the same
//! key or a fresh one, keeps the old files beside, and the register shows the old certificate
//! superseded; a failing hook puts every file back byte for byte; a server that is not trusted,
//! not reachable, not TLS or not EST is one line and exit 2. Every chain written passes
//! `openssl verify`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use crate::support::lot::ca;
use crate::support::{
    OpensslServer, PlainTextServer, Run, Server, SilentServer, closed_port, one_error_line,
    openssl, openssl_ca, pki, pki_command, refused_in_one_line, register_rows, tmp,
};

/// The CA directory's root certificate, relative to the CA directory's parent.
const ROOT: &str = "pki/certs/azure-iot-test-only.root.ca.cert.pem";

/// `pki est serve --listen 127.0.0.1:0 EXTRA...` in `dir`, stopped (killed) when dropped; its
/// audit lines collected as they come.
struct EstServer {
    child: Child,
    url: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl EstServer {
    fn start(dir: &Path, extra: &[&str]) -> EstServer {
        let args = [&["est", "serve", "--listen", "127.0.0.1:0"], extra].concat();
        let mut child = pki_command(dir, &args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pki est serve starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line.clone());
                sink.lock().unwrap().push(line);
            }
        });
        let stderr = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("pki est serve: {line}");
            }
        });
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("pki est serve {extra:?} printed no listening line"));
        let v: serde_json::Value = serde_json::from_str(&first).unwrap();
        assert_eq!(v["event"], "listening", "{first}");
        let url = v["url"].as_str().unwrap().to_owned();
        assert!(url.starts_with("https://127.0.0.1:"), "{url}");
        EstServer { child, url, lines }
    }

    /// The audit lines so far (the listening line left out).
    fn audit(&self) -> Vec<serde_json::Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .skip(1)
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for EstServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA directory (root and intermediate) in a fresh directory, its EST server, and a device's
/// directory, apart.
fn setup(extra: &[&str]) -> (tempfile::TempDir, EstServer, tempfile::TempDir) {
    let ca_dir = tmp();
    ca(ca_dir.path());
    let server = EstServer::start(ca_dir.path(), extra);
    (ca_dir, server, tmp())
}

/// A one-time secret for `id`, written (0600) to `device/name`.
fn secret_file(ca_dir: &Path, id: &str, device: &Path, name: &str) -> PathBuf {
    secret_file_for(ca_dir, id, &[], device, name)
}

/// [`secret_file`] with `pki est secret`'s flags (`--label`).
fn secret_file_for(ca_dir: &Path, id: &str, flags: &[&str], device: &Path, name: &str) -> PathBuf {
    let r = pki(ca_dir, &[&["--json", "est", "secret", id], flags].concat()).expect(0);
    let secret = r.json()["secret"].as_str().unwrap().to_owned();
    let file = device.join(name);
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    set_mode(&file, 0o600);
    file
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// The root certificate of the CA directory in `ca_dir`, as an absolute path.
fn root(ca_dir: &Path) -> String {
    ca_dir.join(ROOT).display().to_string()
}

/// Every file under `dir` and its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    crate::support::tree(dir)
        .into_iter()
        .filter(|f| dir.join(f).is_file())
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

/// `pki est enroll ID --server URL --ca-file ROOT --secret-file SECRET --out-cert cert.pem
/// --out-key keys/key.pem EXTRA...` in `device`.
fn enroll(
    device: &Path,
    server: &str,
    ca_file: &str,
    id: &str,
    secret: &Path,
    extra: &[&str],
) -> Run {
    let secret = secret.display().to_string();
    let args = [
        &[
            "est",
            "enroll",
            id,
            "--server",
            server,
            "--ca-file",
            ca_file,
            "--secret-file",
            &secret,
            "--out-cert",
            "cert.pem",
            "--out-key",
            "keys/key.pem",
        ][..],
        extra,
    ]
    .concat();
    est_pki(device, &args, &[])
}

/// `pki ARGS` in `cwd` with `env`, proxies cleared (a developer's HTTPS_PROXY must not take the
/// loopback requests elsewhere).
fn est_pki(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = pki_command(cwd, args);
    cmd.stdin(Stdio::null());
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("the pki binary runs"))
}

/// `pki est reenroll --server URL --ca-file ROOT --cert cert.pem --key keys/key.pem EXTRA...`.
fn reenroll(device: &Path, server: &str, ca_file: &str, extra: &[&str]) -> Run {
    let args = [
        &[
            "est",
            "reenroll",
            "--server",
            server,
            "--ca-file",
            ca_file,
            "--cert",
            "cert.pem",
            "--key",
            "keys/key.pem",
        ][..],
        extra,
    ]
    .concat();
    est_pki(device, &args, &[])
}

/// `openssl verify -CAfile ROOT -untrusted CHAIN CERT` passes.
fn openssl_verifies(device: &Path, ca_file: &str, chain: &str, cert: &str) {
    let v = openssl(
        device,
        &["verify", "-CAfile", ca_file, "-untrusted", chain, cert],
    );
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(v.stdout.trim_end().ends_with(": OK"), "{}", v.stdout);
}

/// The public key of a certificate and of a key, as openssl prints them.
fn same_key(device: &Path, cert: &str, key: &str) -> bool {
    let c = openssl(device, &["x509", "-in", cert, "-noout", "-pubkey"]).expect(0);
    let k = openssl(device, &["pkey", "-in", key, "-pubout"]).expect(0);
    c.stdout == k.stdout
}

fn serial(device: &Path, cert: &str) -> String {
    let r = openssl(device, &["x509", "-in", cert, "-noout", "-serial"]).expect(0);
    r.stdout.trim().trim_start_matches("serial=").to_owned()
}

fn sha256(device: &Path, cert: &str) -> String {
    crate::support::sha256_fingerprint(device, cert)
}

#[test]
fn enroll_with_a_secret_writes_a_chain_openssl_verifies_and_the_register_records_it() {
    let (ca_dir, server, device) = setup(&[]);
    let (c, d) = (ca_dir.path(), device.path());
    let secret = secret_file(c, "dev-1", d, "secret");
    let r = enroll(
        d,
        &server.url,
        &root(c),
        "dev-1",
        &secret,
        &["--out-chain", "chain.pem", "--json"],
    )
    .expect(0);
    let v = r.json();
    assert_eq!(v["result"], "enrolled");
    assert_eq!(v["device_id"], "dev-1");
    assert_eq!(v["auth"], "secret");
    assert_eq!(v["files"]["key"], "keys/key.pem");
    let text = crate::support::openssl_text(d, "cert.pem");
    assert!(text.contains("Subject: CN = dev-1"), "{text}");
    assert!(!text.contains("Subject Alternative Name"), "{text}");
    // The key was made here, is the certificate's, 0600 in a new 0700 directory.
    assert!(same_key(d, "cert.pem", "keys/key.pem"));
    assert_eq!(mode(&d.join("keys/key.pem")), 0o600);
    assert_eq!(mode(&d.join("keys")), 0o700);
    assert_eq!(mode(&d.join("cert.pem")), 0o644);
    // The chain: the certificate, then the CA certificates up to the root.
    let chain = std::fs::read_to_string(d.join("chain.pem")).unwrap();
    let cert = std::fs::read_to_string(d.join("cert.pem")).unwrap();
    assert!(chain.starts_with(&cert), "the certificate first");
    assert_eq!(crate::support::pem_certificates(&chain).len(), 3);
    openssl_verifies(d, &root(c), "chain.pem", "cert.pem");
    // The register has it, in service.
    let rows = register_rows(c, &["--cn", "dev-1"]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["sha256"].as_str().unwrap(), sha256(d, "cert.pem"));
    assert_eq!(rows[0]["status"], "issued");
    // The server saw a secret, and issued that serial.
    let audit = server.audit();
    let issued: Vec<&serde_json::Value> = audit
        .iter()
        .filter(|l| l["operation"] == "simpleenroll")
        .collect();
    assert_eq!(issued.len(), 1, "{audit:?}");
    assert_eq!(issued[0]["auth"], "secret");
    assert_eq!(issued[0]["who"], "dev-1");
    assert_eq!(issued[0]["status"], 200);
    assert_eq!(
        issued[0]["serial"]
            .as_str()
            .unwrap()
            .trim_start_matches('0'),
        serial(d, "cert.pem").trim_start_matches('0')
    );
    // The secret appears nowhere in what pki printed.
    let secret_text = std::fs::read_to_string(&secret).unwrap();
    assert!(!r.stdout.contains(secret_text.trim()) && !r.stderr.contains(secret_text.trim()));
}

#[test]
fn a_used_secret_is_refused_in_one_line_and_nothing_is_written() {
    let (ca_dir, server, device) = setup(&[]);
    let (c, d) = (ca_dir.path(), device.path());
    let secret = secret_file(c, "dev-1", d, "secret");
    enroll(d, &server.url, &root(c), "dev-1", &secret, &[]).expect(0);
    let again = tmp();
    std::fs::copy(&secret, again.path().join("secret")).unwrap();
    let before = files(again.path());
    let r = enroll(
        again.path(),
        &server.url,
        &root(c),
        "dev-1",
        &again.path().join("secret"),
        &[],
    );
    refused_in_one_line(&r, &["est", "enroll"], "401");
    let line = one_error_line(&r);
    assert!(line.contains("already used"), "{line}");
    assert!(line.contains("pki est secret"), "{line}");
    assert_eq!(files(again.path()), before, "nothing written");
    // The same with --json: the code, on stdout.
    let r = enroll(
        again.path(),
        &server.url,
        &root(c),
        "dev-1",
        &again.path().join("secret"),
        &["--json"],
    );
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["code"], "unauthorized");
    // Existing files are never overwritten without --force, before the server is asked.
    let fresh = secret_file(c, "dev-1", d, "secret2");
    let asked = server.audit().len();
    let r = enroll(d, &server.url, &root(c), "dev-1", &fresh, &[]);
    refused_in_one_line(&r, &["est", "enroll"], "cert.pem");
    assert_eq!(server.audit().len(), asked, "the server was not asked");
    enroll(d, &server.url, &root(c), "dev-1", &fresh, &["--force"]).expect(0);
}

#[test]
fn enroll_with_a_bootstrap_certificate_over_mutual_tls() {
    let boot = tmp();
    let b = boot.path();
    let boot_ca = openssl_ca(b, "/CN=Factory Bootstrap CA", "boot-ca.pem", &[]);
    openssl(
        b,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "boot.key",
            "-out",
            "boot.csr",
            "-subj",
            "/CN=dev-boot",
        ],
    )
    .expect(0);
    std::fs::write(b.join("ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    openssl(
        b,
        &[
            "x509",
            "-req",
            "-in",
            "boot.csr",
            "-CA",
            "boot-ca.pem",
            "-CAkey",
            "boot-ca.pem.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            "ext",
            "-out",
            "boot.pem",
        ],
    )
    .expect(0);
    let boot_ca = boot_ca.display().to_string();
    let (ca_dir, server, device) = setup(&["--bootstrap-ca", &boot_ca]);
    let (c, d) = (ca_dir.path(), device.path());
    let (cert, key) = (
        b.join("boot.pem").display().to_string(),
        b.join("boot.key").display().to_string(),
    );
    let r = est_pki(
        d,
        &[
            "est",
            "enroll",
            "dev-boot",
            "--server",
            &server.url,
            "--ca-file",
            &root(c),
            "--cert",
            &cert,
            "--key",
            &key,
            "--out-cert",
            "cert.pem",
            "--out-key",
            "key.pem",
            "--out-chain",
            "chain.pem",
            "--json",
        ],
        &[],
    )
    .expect(0);
    assert_eq!(r.json()["auth"], "certificate");
    assert!(same_key(d, "cert.pem", "key.pem"));
    assert!(
        !same_key(d, "cert.pem", &key),
        "a new key, not the bootstrap key"
    );
    openssl_verifies(d, &root(c), "chain.pem", "cert.pem");
    let audit = server.audit();
    assert!(
        audit
            .iter()
            .any(|l| l["auth"] == "bootstrap" && l["status"] == 200 && l["who"] == "dev-boot"),
        "{audit:?}"
    );
}

#[test]
fn reenroll_with_the_same_key_then_a_fresh_one_keeps_the_old_files_and_supersedes_them() {
    let (ca_dir, server, device) = setup(&[]);
    let (c, d) = (ca_dir.path(), device.path());
    // A gateway's server certificate (label server: its name is its SAN), to see the SANs kept.
    let secret = secret_file_for(c, "gw-2.local", &["--label", "server"], d, "secret");
    let label = ["--label", "server"];
    enroll(
        d,
        &server.url,
        &root(c),
        "gw-2.local",
        &secret,
        &["--label", "server", "--san", "gw-2.local"],
    )
    .expect(0);
    let first = (serial(d, "cert.pem"), sha256(d, "cert.pem"));
    let (cert0, key0) = (
        std::fs::read(d.join("cert.pem")).unwrap(),
        std::fs::read(d.join("keys/key.pem")).unwrap(),
    );

    // The same key: the certificate renewed in place, the old one kept beside; the key as it was.
    let args = [
        &label[..],
        &["--reuse-key", "--out-chain", "chain.pem", "--json"],
    ]
    .concat();
    let r = reenroll(d, &server.url, &root(c), &args).expect(0);
    let v = r.json();
    assert_eq!(v["result"], "reenrolled");
    assert_eq!(v["key"], "reused");
    let second = (serial(d, "cert.pem"), sha256(d, "cert.pem"));
    assert_ne!(second.0, first.0);
    assert_eq!(std::fs::read(d.join("keys/key.pem")).unwrap(), key0);
    let kept = format!("cert.{}.pem", first.0);
    assert_eq!(std::fs::read(d.join(&kept)).unwrap(), cert0);
    assert!(same_key(d, "cert.pem", "keys/key.pem"));
    let text = crate::support::openssl_text(d, "cert.pem");
    assert!(text.contains("DNS:gw-2.local"), "the same SANs: {text}");
    openssl_verifies(d, &root(c), "chain.pem", "cert.pem");

    // A fresh key (the default): both replaced, both kept, the key kept 0600.
    let args = [&label[..], &["--out-chain", "chain.pem"]].concat();
    let r = reenroll(d, &server.url, &root(c), &args).expect(0);
    assert!(
        r.stdout.starts_with("re-enrolled gw-2.local at "),
        "{}",
        r.stdout
    );
    let third = (serial(d, "cert.pem"), sha256(d, "cert.pem"));
    assert_ne!(std::fs::read(d.join("keys/key.pem")).unwrap(), key0);
    let kept_key = d.join(format!("keys/key.{}.pem", second.0));
    assert_eq!(std::fs::read(&kept_key).unwrap(), key0);
    assert_eq!(mode(&kept_key), 0o600);
    assert_eq!(mode(&d.join("keys/key.pem")), 0o600);
    assert!(same_key(d, "cert.pem", "keys/key.pem"));
    openssl_verifies(d, &root(c), "chain.pem", "cert.pem");

    // The register: the first two superseded, each by the next; the third in service.
    let rows = register_rows(c, &["--cn", "gw-2.local"]);
    let by_sha = |sha: &str| {
        rows.iter()
            .find(|r| r["sha256"] == sha)
            .unwrap_or_else(|| panic!("{sha} not in {rows:?}"))
            .clone()
    };
    assert_eq!(by_sha(&first.1)["status"], "superseded");
    assert_eq!(by_sha(&first.1)["superseded_by"], second.1.as_str());
    assert_eq!(by_sha(&second.1)["status"], "superseded");
    assert_eq!(by_sha(&second.1)["superseded_by"], third.1.as_str());
    assert_eq!(by_sha(&third.1)["status"], "issued");
    // The superseded certificate no longer re-enrols: one line, exit 2, nothing changed.
    let old = tmp();
    std::fs::create_dir(old.path().join("keys")).unwrap();
    std::fs::write(old.path().join("cert.pem"), &cert0).unwrap();
    std::fs::write(old.path().join("keys/key.pem"), &key0).unwrap();
    let before = files(old.path());
    let r = reenroll(old.path(), &server.url, &root(c), &label);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    one_error_line(&r);
    assert_eq!(files(old.path()), before);
}

#[test]
fn a_failing_hook_rolls_back_to_the_files_byte_for_byte() {
    let (ca_dir, server, device) = setup(&[]);
    let (c, d) = (ca_dir.path(), device.path());
    let secret = secret_file(c, "dev-3", d, "secret");
    enroll(
        d,
        &server.url,
        &root(c),
        "dev-3",
        &secret,
        &["--out-chain", "chain.pem"],
    )
    .expect(0);
    set_mode(&d.join("cert.pem"), 0o640);
    let before = files(d);
    let old_serial = serial(d, "cert.pem");
    // The hook logs its phase; it fails on the renewal and succeeds on the rollback.
    let hook = "echo \"$PKI_RENEW_PHASE\" >> hook.log; test \"$PKI_RENEW_PHASE\" = rollback";
    let r = reenroll(
        d,
        &server.url,
        &root(c),
        &["--out-chain", "chain.pem", "--exec", hook],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stdout);
    assert!(
        lines[0].starts_with("ROLLED BACK dev-3: the hook failed (exit 1"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("the old files are back"), "{}", lines[0]);
    assert_eq!(
        std::fs::read_to_string(d.join("hook.log")).unwrap(),
        "renew\nrollback\n"
    );
    // Every file as it was, mode included; beside them only the hook's log and the new
    // certificate and key, set aside under the new serial.
    let mut after = files(d);
    after.remove("hook.log");
    let aside: Vec<String> = after
        .keys()
        .filter(|f| !before.contains_key(*f))
        .cloned()
        .collect();
    assert_eq!(aside.len(), 2, "{aside:?}");
    for f in &aside {
        after.remove(f);
    }
    assert_eq!(after, before);
    assert_eq!(mode(&d.join("cert.pem")), 0o640);
    let new_cert = aside.iter().find(|f| f.starts_with("cert.")).unwrap();
    let new_key = aside.iter().find(|f| f.starts_with("keys/key.")).unwrap();
    assert_ne!(serial(d, new_cert), old_serial);
    assert!(lines[0].contains(new_cert.as_str()), "{}", lines[0]);
    assert!(same_key(d, new_cert, new_key));
    assert_eq!(mode(&d.join(new_key)), 0o600);
    // The server replaced the old certificate: the new one is the one in service.
    let rows = register_rows(c, &["--cn", "dev-3"]);
    let in_service: Vec<_> = rows.iter().filter(|r| r["status"] == "issued").collect();
    assert_eq!(in_service.len(), 1);
    assert_eq!(
        in_service[0]["sha256"].as_str().unwrap(),
        sha256(d, new_cert)
    );
}

#[test]
fn reenroll_does_nothing_until_the_certificate_is_due() {
    let (ca_dir, server, device) = setup(&[]);
    let (c, d) = (ca_dir.path(), device.path());
    let secret = secret_file(c, "dev-4", d, "secret");
    enroll(d, &server.url, &root(c), "dev-4", &secret, &[]).expect(0);
    let before = files(d);
    let asked = server.audit().len();
    let r = reenroll(d, &server.url, &root(c), &["--expires-in", "30d"]).expect(0);
    assert!(
        r.stdout.starts_with("not due: dev-4 (serial "),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.trim_end().ends_with("(30d); nothing done"),
        "{}",
        r.stdout
    );
    let r = reenroll(d, &server.url, &root(c), &["--expires-in", "66%", "--json"]).expect(0);
    assert_eq!(r.json()["result"], "not_due");
    assert_eq!(files(d), before);
    assert_eq!(server.audit().len(), asked, "the server was not asked");
    // Due (all of the lifetime left is less than 100 years): re-enrolled.
    let r = reenroll(d, &server.url, &root(c), &["--expires-in", "0%", "--json"]).expect(0);
    assert_eq!(r.json()["result"], "reenrolled");
}

#[test]
fn a_server_that_is_not_trusted_is_one_line_and_spends_no_secret() {
    let (ca_dir, server, device) = setup(&[]);
    let (c, d) = (ca_dir.path(), device.path());
    let secret = secret_file(c, "dev-5", d, "secret");
    let other = openssl_ca(d, "/CN=Some Other CA", "other-ca.pem", &[]);
    let other = other.display().to_string();
    let before = files(d);
    let r = enroll(d, &server.url, &other, "dev-5", &secret, &[]);
    refused_in_one_line(&r, &["est", "enroll"], "not trusted");
    assert!(one_error_line(&r).contains("--ca-file"), "{}", r.stderr);
    assert_eq!(files(d), before);
    // The OS store (SSL_CERT_FILE) without the CA: the same.
    let empty = tmp();
    let env = [
        ("SSL_CERT_FILE", other.as_str()),
        ("SSL_CERT_DIR", empty.path().to_str().unwrap()),
    ];
    let args = [
        "est",
        "enroll",
        "dev-5",
        "--server",
        &server.url,
        "--secret-file",
        "secret",
        "--out-cert",
        "cert.pem",
        "--out-key",
        "key.pem",
        "--json",
    ];
    let r = est_pki(d, &args, &env);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["code"], "untrusted");
    assert_eq!(files(d), before);
    // The secret was never sent: it still enrols.
    enroll(d, &server.url, &root(c), "dev-5", &secret, &[]).expect(0);
}

#[test]
fn a_server_that_is_not_there_not_tls_silent_or_not_est_is_one_line_and_exit_2() {
    let d = tmp();
    let p = d.path();
    let dir = tmp();
    pki(dir.path(), &["quickstart", "--gateway", "127.0.0.1"]).expect(0);
    let ca_file = dir.path().join(ROOT).display().to_string();
    std::fs::write(p.join("secret"), "s\n").unwrap();
    let secret = p.join("secret");
    let before = files(p);
    let check = |url: String, says: &str, code: &str, extra: &[&str]| {
        let r = enroll(p, &url, &ca_file, "dev-6", &secret, extra);
        refused_in_one_line(&r, &["est", "enroll", &url], says);
        one_error_line(&r);
        let j = enroll(
            p,
            &url,
            &ca_file,
            "dev-6",
            &secret,
            &[&["--json"], extra].concat(),
        );
        assert_eq!(j.json()["code"], code, "{url}");
        assert_eq!(files(p), before);
    };
    check(
        format!("https://127.0.0.1:{}", closed_port()),
        "cannot be reached: connection refused",
        "unreachable_host",
        &[],
    );
    let plain = PlainTextServer::start();
    check(format!("https://{}", plain.addr()), "TLS", "tls", &[]);
    let silent = SilentServer::start();
    check(
        format!("https://{}", silent.addr()),
        "no answer within 1 s",
        "timeout",
        &["--timeout", "1"],
    );
    // openssl s_server -WWW serves files: /cacerts as text/plain, not a certs-only PKCS#7.
    let www = tmp();
    std::fs::create_dir_all(www.path().join(".well-known/est")).unwrap();
    std::fs::write(www.path().join(".well-known/est/cacerts"), "hello\n").unwrap();
    let file = |f: &str| dir.path().join(f).display().to_string();
    let server = OpensslServer::start(
        www.path(),
        &file("pki/certs/iot-edge-server-127.0.0.1.cert.pem"),
        &file("pki/private/iot-edge-server-127.0.0.1.key.pem"),
        Some(&file(
            "pki/certs/iot-edge-server-127.0.0.1-full-chain.cert.pem",
        )),
        &["-WWW"],
    );
    check(
        format!("https://{}", server.addr()),
        "not application/pkcs7-mime",
        "est_server",
        &[],
    );
    // What is not an EST server's URL never leaves pki.
    let r = enroll(p, "http://127.0.0.1:1/", &ca_file, "dev-6", &secret, &[]);
    refused_in_one_line(&r, &["est", "enroll"], "must start with https://");
}

#[test]
fn a_misbehaving_server_is_one_line_each_and_nothing_is_written() {
    use crate::support::quickstart::{INTERMEDIATE_FULL, ROOT as QS_ROOT, SERVER_FULL, SERVER_KEY};
    use crate::support::tenant::Tenant;
    let gw = crate::support::quickstart::gateway_pki();
    let g = gw.path();
    // /cacerts: the quickstart's intermediate and root as OpenSSL writes a certs-only PKCS#7,
    // its armour stripped (the base64 an EST server sends).
    let p7 = openssl(g, &["crl2pkcs7", "-nocrl", "-certfile", INTERMEDIATE_FULL]).expect(0);
    let body: String = p7
        .stdout
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(g.join("cacerts.b64"), body).unwrap();
    let ca_file = g.join(QS_ROOT).display().to_string();
    let cases = [
        (
            "status:400",
            "(400 Bad Request): \"no\\u{1b}[2J",
            "est_server",
        ),
        (
            "status:401",
            "the secret is wrong, expired or already used",
            "unauthorized",
        ),
        ("status:403", "(403 Forbidden): \"no", "forbidden"),
        (
            "status:429",
            "too many attempts (429 Too Many Requests); try again in 60 s",
            "try_later",
        ),
        (
            "status:202",
            "holds the request for approval (202 Accepted); try again in 60 s",
            "try_later",
        ),
        (
            "status:500",
            "answered 500 Internal Server Error",
            "est_server",
        ),
        (
            "garbage",
            "not a certs-only PKCS#7: it is not base64",
            "est_server",
        ),
        (
            "truncated",
            "not a DER ContentInfo holding a SignedData",
            "est_server",
        ),
        ("huge", "larger than the 262144 bytes read", "est_server"),
        (
            "foreign",
            "none of its 2 certificate(s) carries the public key of the request",
            "est_server",
        ),
    ];
    for (mode, says, code) in cases {
        let server = Tenant::spawn_script(
            g,
            "hostile_est.py",
            &[
                "--cert",
                SERVER_FULL,
                "--key",
                SERVER_KEY,
                "--cacerts",
                "cacerts.b64",
                "--enroll",
                mode,
            ],
        );
        let device = tmp();
        let d = device.path();
        std::fs::write(d.join("secret"), "s3cret-7\n").unwrap();
        let before = files(d);
        let url = format!("https://localhost:{}", server.port);
        let started = std::time::Instant::now();
        let r = enroll(d, &url, &ca_file, "dev-7", &d.join("secret"), &[]);
        refused_in_one_line(&r, &["est", "enroll", mode], says);
        let line = one_error_line(&r);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{mode}: bounded"
        );
        for c in ['\x1b', '\x07', '\r', '\u{9b}'] {
            assert!(!r.stderr.contains(c), "{mode}: {c:?} in {line}");
        }
        assert_eq!(files(d), before, "{mode}: nothing written");
        let j = enroll(d, &url, &ca_file, "dev-7", &d.join("secret"), &["--json"]);
        assert_eq!(j.code, 2);
        assert_eq!(j.json()["code"], code, "{mode}");
        if mode != "status:400" {
            continue;
        }
        // What was sent, as RFC 7030 has it: /cacerts first, then the CSR as base64 lines of at
        // most 64 characters, application/pkcs10, Basic dev-7:SECRET; OpenSSL reads the CSR and
        // checks its signature.
        let requests = server.requests();
        assert_eq!(requests[0]["method"], "GET");
        assert_eq!(requests[0]["path"], "/.well-known/est/cacerts");
        let post = &requests[1];
        assert_eq!(post["path"], "/.well-known/est/simpleenroll");
        assert_eq!(post["headers"]["content-type"], "application/pkcs10");
        assert_eq!(post["headers"]["content-transfer-encoding"], "base64");
        assert_eq!(
            post["headers"]["authorization"],
            format!("Basic {}", crate::support::tenant::b64("dev-7:s3cret-7"))
        );
        let sent = post["body"].as_str().unwrap();
        assert!(sent.ends_with('\n'), "{sent}");
        assert!(sent.lines().all(|l| l.len() <= 64), "{sent}");
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(sent.replace('\n', ""))
            .unwrap();
        std::fs::write(d.join("csr.der"), der).unwrap();
        let csr = openssl(
            d,
            &[
                "req", "-inform", "DER", "-in", "csr.der", "-noout", "-verify", "-subject",
            ],
        )
        .expect(0);
        assert!(csr.stdout.contains("subject=CN = dev-7"), "{}", csr.stdout);
        assert!(
            csr.stderr.contains("verify OK") || csr.stdout.contains("verify OK"),
            "{}{}",
            csr.stdout,
            csr.stderr
        );
    }
}
