//! CA and device keys on a PKCS#11 token: SoftHSM2 initialised per test in a temporary
//! directory, keys made by pki and by OpenSC's pkcs11-tool, every chain checked by
//! `openssl verify`, the key's protection read back through cryptoki, and the bad inputs (a
//! wrong PIN tried once, a missing module, a URI naming no key); and a device key on the token
//! proving the device to a real mosquitto that requires client certificates (verify, scan,
//! renew --verify).

mod broker;

use std::path::{Path, PathBuf};

use crate::support::{Run, openssl, pki_env, refused_in_one_line, tmp, tree};
use crate::support::{programs, softhsm};

const PIN: &str = "73914628";
const SO_PIN: &str = "5555999911";

/// A token labelled `pki` in a SoftHSM2 of its own under `dir`, and a PIN file for it.
struct Hsm {
    conf: PathBuf,
    module: PathBuf,
    pin_file: PathBuf,
}

impl Hsm {
    fn new(dir: &Path) -> Hsm {
        let conf = softhsm::init_token(dir, PIN, SO_PIN);
        let pin_file = dir.join("pin");
        std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
        Hsm {
            conf,
            module: softhsm::module(),
            pin_file,
        }
    }

    /// A URI of the `pki` token's key `object`, its PIN from the PIN file.
    fn uri(&self, object: &str) -> String {
        format!(
            "pkcs11:token=pki;object={object}?pin-source=file:{}",
            self.pin_file.display()
        )
    }

    /// pki with this token's module and configuration.
    fn pki(&self, cwd: &Path, args: &[&str]) -> Run {
        let run = pki_env(
            cwd,
            args,
            &[
                ("SOFTHSM2_CONF", self.conf.to_str().unwrap()),
                ("PKI_PKCS11_MODULE", self.module.to_str().unwrap()),
            ],
        );
        assert!(
            !run.stdout.contains(PIN) && !run.stderr.contains(PIN),
            "the PIN was printed:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        run
    }

    /// The private keys on the token as OpenSC's `pkcs11-tool` reads them (a reader
    /// independent of pki's own binding): label and the access flags the token reports.
    fn keys(&self) -> Vec<TokenKey> {
        let out = programs::command("pkcs11-tool")
            .arg("--module")
            .arg(&self.module)
            .args(["--token-label", "pki", "--login", "--pin", PIN])
            .args(["--list-objects", "--type", "privkey"])
            .env("SOFTHSM2_CONF", &self.conf)
            .output()
            .expect("pkcs11-tool runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "pkcs11-tool: {text}");
        let mut keys: Vec<TokenKey> = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with("Private Key Object") {
                keys.push(TokenKey::default());
            } else if let Some(k) = keys.last_mut() {
                if let Some(label) = line.strip_prefix("label:") {
                    k.label = label.trim().to_owned();
                } else if let Some(access) = line.strip_prefix("Access:") {
                    let flags: Vec<&str> = access.split(',').map(str::trim).collect();
                    k.sensitive = flags.contains(&"sensitive");
                    k.extractable = flags.contains(&"extractable");
                }
            }
        }
        keys
    }
}

/// A private key on the token, as `pkcs11-tool --list-objects` shows it.
#[derive(Debug, Default)]
struct TokenKey {
    label: String,
    /// CKA_SENSITIVE ("sensitive").
    sensitive: bool,
    /// CKA_EXTRACTABLE ("extractable"; a key that may never leave shows "never extractable").
    extractable: bool,
}

#[track_caller]
fn verifies(cwd: &Path, root: &str, untrusted: &[&str], leaf: &str) {
    let mut args = vec!["verify", "-CAfile", root];
    for u in untrusted {
        args.extend(["-untrusted", u]);
    }
    args.push(leaf);
    let r = openssl(cwd, &args);
    assert!(r.code == 0 && r.stdout.contains(": OK"), "{r:?}");
}

const ROOT: &str = "pki/certs/azure-iot-test-only.root.ca.cert.pem";
const INTER: &str = "pki/certs/azure-iot-test-only.intermediate.cert.pem";

#[test]
fn ca_keys_made_on_the_token_issue_chains_openssl_verifies_and_never_leave_it() {
    let d = tmp();
    let p = d.path();
    let hsm = Hsm::new(p);
    let root_uri = hsm.uri("owner-ca");
    let r = hsm
        .pki(p, &["create-owner-ca", "--key-on", &root_uri])
        .expect(0);
    assert!(r.stdout.contains("root.ca.key.uri"), "{}", r.stdout);
    assert!(
        !p.join("pki/private/azure-iot-test-only.root.ca.key.pem")
            .exists()
    );
    let recorded =
        std::fs::read_to_string(p.join("pki/private/azure-iot-test-only.root.ca.key.uri")).unwrap();
    assert!(
        recorded.starts_with("pkcs11:token=pki;object=owner-ca;id="),
        "{recorded}"
    );
    let inter_uri = hsm.uri("intermediate");
    hsm.pki(
        p,
        &[
            "create-intermediate-ca",
            "--key-on",
            &inter_uri,
            "--key-type",
            "rsa-2048",
        ],
    )
    .expect(0);
    hsm.pki(
        p,
        &[
            "create-edge-ca",
            "gw",
            "--key-on",
            &hsm.uri("edge"),
            "--key-type",
            "ec-p384",
        ],
    )
    .expect(0);
    // The edge CA (P-384 on the token) signs the server; the intermediate (RSA) the device.
    hsm.pki(p, &["issue", "server", "gw.contoso.com"]).expect(0);
    hsm.pki(p, &["issue", "device", "dev-1", "--issuer", "intermediate"])
        .expect(0);
    verifies(p, ROOT, &[], INTER);
    verifies(p, ROOT, &[INTER], "pki/certs/iot-device-dev-1.cert.pem");
    verifies(
        p,
        ROOT,
        &["pki/certs/iot-edge-device-ca-gw-full-chain.cert.pem"],
        "pki/certs/iot-edge-server-gw.contoso.com.cert.pem",
    );
    // A CSR signed by the token's CA, and a CRL.
    hsm.pki(
        p,
        &[
            "csr",
            "create",
            "dev-2",
            "--out",
            "dev-2.csr",
            "--key",
            "pki/private/iot-device-dev-1.key.pem",
        ],
    )
    .expect(0);
    hsm.pki(p, &["csr", "sign", "dev-2.csr", "--profile", "device"])
        .expect(0);
    verifies(p, ROOT, &[INTER], "pki/certs/iot-device-dev-2.cert.pem");
    hsm.pki(p, &["crl"]).expect(0);
    let crl = openssl(
        p,
        &[
            "crl",
            "-in",
            "pki/crl/azure-iot-test-only.intermediate.crl.pem",
            "-CAfile",
            INTER,
            "-noout",
        ],
    );
    assert!(
        crl.stderr.contains("verify OK") || crl.stdout.contains("verify OK"),
        "{crl:?}"
    );
    // show --key checks the token's public key against the certificate.
    let shown = hsm
        .pki(p, &["--json", "show", ROOT, "--key", &root_uri])
        .expect(0);
    assert_eq!(shown.json()["key_check"]["matches"], true);
    hsm.pki(p, &["show", INTER, "--key", &root_uri]).expect(1);
    // The keys are sensitive and never extractable, as the token itself says.
    let keys = hsm.keys();
    assert_eq!(keys.len(), 3, "{keys:?}");
    for k in &keys {
        assert!(k.sensitive && !k.extractable, "{k:?}");
    }
    let listed = hsm.pki(
        p,
        &[
            "hsm",
            "list-keys",
            &hsm.uri("x")
                .replace("object=x;", "")
                .replace(";object=x", ""),
        ],
    );
    assert_eq!(listed.code, 0, "{listed:?}");
    assert!(
        listed.stdout.contains("never leaves the token"),
        "{}",
        listed.stdout
    );
    let tokens = hsm.pki(p, &["hsm", "list-tokens"]).expect(0);
    assert!(tokens.stdout.starts_with("pki\n"), "{}", tokens.stdout);
}

#[test]
fn a_key_made_by_pkcs11_tool_is_adopted() {
    let d = tmp();
    let p = d.path();
    let hsm = Hsm::new(p);
    let out = programs::command("pkcs11-tool")
        .env("SOFTHSM2_CONF", &hsm.conf)
        .arg("--module")
        .arg(&hsm.module)
        .args(["--token-label", "pki", "--login", "--pin", PIN])
        .args([
            "--keypairgen",
            "--key-type",
            "EC:prime256v1",
            "--label",
            "corp-ca",
            "--id",
            "c0ffee",
        ])
        .args(["--sensitive", "--usage-sign"])
        .output()
        .expect("pkcs11-tool (OpenSC) is required for these tests");
    assert!(out.status.success(), "{out:?}");
    // The key signs its CSR through pki; the owner CA (a file key) signs it as the
    // intermediate; the certificate is then adopted with the key left on the token.
    let by_id = format!(
        "pkcs11:token=pki;id=%c0%ff%ee?pin-source=file:{}",
        hsm.pin_file.display()
    );
    // Directory `signer` (a file-key owner CA) signs the token key's CSR as an intermediate;
    // `pki` adopts that owner CA and then the intermediate, its key left on the token.
    let at = |dir: &str, args: &[&str]| {
        let mut all = vec!["--dir", dir];
        all.extend_from_slice(args);
        hsm.pki(p, &all)
    };
    at("signer", &["create-owner-ca"]).expect(0);
    at(
        "signer",
        &[
            "csr",
            "create",
            "Corp Intermediate",
            "--profile",
            "intermediate-ca",
            "--out",
            "corp.csr",
            "--key",
            &by_id,
        ],
    )
    .expect(0);
    at(
        "signer",
        &["csr", "sign", "corp.csr", "--profile", "intermediate-ca"],
    )
    .expect(0);
    at(
        "pki",
        &[
            "create-owner-ca",
            "--import",
            "signer/certs/azure-iot-test-only.root.ca.cert.pem",
            "--key",
            "signer/private/azure-iot-test-only.root.ca.key.pem",
        ],
    )
    .expect(0);
    let r = at(
        "pki",
        &[
            "create-intermediate-ca",
            "--import",
            "signer/certs/azure-iot-test-only.intermediate.cert.pem",
            "--key",
            &by_id,
        ],
    )
    .expect(0);
    assert!(r.stdout.starts_with("imported"), "{}", r.stdout);
    assert!(
        !p.join("pki/private/azure-iot-test-only.intermediate.key.pem")
            .exists()
    );
    assert!(
        p.join("pki/private/azure-iot-test-only.intermediate.key.uri")
            .exists()
    );
    hsm.pki(p, &["issue", "device", "dev-9"]).expect(0);
    verifies(p, ROOT, &[INTER], "pki/certs/iot-device-dev-9.cert.pem");
    // A batch on the token: one session per worker.
    let lot: String = (1..=40).map(|i| format!("lot-{i:03}\n")).collect();
    std::fs::write(p.join("lot.txt"), lot).unwrap();
    hsm.pki(p, &["issue", "device", "--batch", "lot.txt", "--jobs", "2"])
        .expect(0);
    for i in [1, 17, 40] {
        verifies(
            p,
            ROOT,
            &[INTER],
            &format!("pki/certs/iot-device-lot-{i:03}.cert.pem"),
        );
    }
}

#[test]
fn a_wrong_pin_is_one_line_exit_2_and_one_login_attempt() {
    let d = tmp();
    let p = d.path();
    let hsm = Hsm::with_owner_ca(p);
    std::fs::write(&hsm.pin_file, "11112222\n").unwrap();
    // OpenSC's pkcs11-spy between pki and SoftHSM2 logs every call pki makes.
    let spy = [
        "/usr/lib/x86_64-linux-gnu/pkcs11-spy.so",
        "/usr/lib/aarch64-linux-gnu/pkcs11-spy.so",
    ]
    .iter()
    .find(|s| Path::new(s).is_file())
    .expect("OpenSC's pkcs11-spy is required for these tests (Debian: opensc-pkcs11)");
    let log = p.join("spy.log");
    let before = tree(p);
    let r = pki_env(
        p,
        &["issue", "device", "dev-1"],
        &[
            ("SOFTHSM2_CONF", hsm.conf.to_str().unwrap()),
            ("PKI_PKCS11_MODULE", spy),
            ("PKCS11SPY", hsm.module.to_str().unwrap()),
            ("PKCS11SPY_OUTPUT", log.to_str().unwrap()),
        ],
    )
    .expect(2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("wrong PIN for token \"pki\""),
        "{}",
        r.stderr
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(calls.matches("C_Login").count(), 1, "{calls}");
    let mut after = tree(p);
    after.retain(|f| f != "spy.log");
    assert_eq!(after, before);
    // The right PIN still works: the token was not locked.
    std::fs::write(&hsm.pin_file, format!("{PIN}\n")).unwrap();
    hsm.pki(p, &["issue", "device", "dev-1"]).expect(0);
}

#[test]
fn a_missing_module_a_uri_naming_no_key_and_a_pin_in_the_uri_are_refused() {
    let d = tmp();
    let p = d.path();
    let hsm = Hsm::new(p);
    let r = pki_env(p, &["create-owner-ca", "--key-on", &hsm.uri("k")], &[]).expect(2);
    assert!(r.stderr.contains("no PKCS#11 module"), "{}", r.stderr);
    let r = pki_env(
        p,
        &["create-owner-ca", "--key-on", &hsm.uri("k")],
        &[("PKI_PKCS11_MODULE", "/nonexistent/libnone.so")],
    )
    .expect(2);
    assert!(r.stderr.contains("/nonexistent/libnone.so"), "{}", r.stderr);
    let no_object = format!(
        "pkcs11:token=pki?pin-source=file:{}",
        hsm.pin_file.display()
    );
    let r = hsm
        .pki(p, &["create-owner-ca", "--key-on", &no_object])
        .expect(2);
    assert!(r.stderr.contains("names no key"), "{}", r.stderr);
    let r = hsm
        .pki(p, &["show", "x.pem", "--key", &hsm.uri("absent")])
        .expect(2);
    let _ = r;
    let r = hsm
        .pki(
            p,
            &[
                "create-owner-ca",
                "--key-on",
                "pkcs11:token=pki;object=k?pin-value=12345678",
            ],
        )
        .expect(2);
    assert!(!r.stderr.contains("12345678"), "{}", r.stderr);
    assert!(r.stderr.contains("pin-value"), "{}", r.stderr);
    assert!(!p.join("pki").exists());
}

/// The URI of the `pki` token's key `object` with no PIN source: the PIN comes from
/// `PKI_PKCS11_PIN`, as a build server gives it.
fn uri_without_pin_source(object: &str) -> String {
    format!("pkcs11:token=pki;object={object}")
}

impl Hsm {
    /// [`Hsm::new`], and an owner CA in `dir/pki` whose key pki made on the token.
    fn with_owner_ca(dir: &Path) -> Hsm {
        let hsm = Hsm::new(dir);
        hsm.pki(dir, &["create-owner-ca", "--key-on", &hsm.uri("owner-ca")])
            .expect(0);
        hsm
    }

    /// [`Hsm::pki`] with the PIN in `PKI_PKCS11_PIN`.
    fn pki_pin(&self, cwd: &Path, args: &[&str]) -> Run {
        let run = pki_env(
            cwd,
            args,
            &[
                ("SOFTHSM2_CONF", self.conf.to_str().unwrap()),
                ("PKI_PKCS11_MODULE", self.module.to_str().unwrap()),
                ("PKI_PKCS11_PIN", PIN),
            ],
        );
        assert!(
            !run.stdout.contains(PIN) && !run.stderr.contains(PIN),
            "the PIN was printed:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        run
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The serial `openssl x509 -serial` prints of `cert`.
fn serial_of(cwd: &Path, cert: &str) -> String {
    openssl(cwd, &["x509", "-in", cert, "-noout", "-serial"])
        .expect(0)
        .stdout
        .trim()
        .trim_start_matches("serial=")
        .to_owned()
}

#[test]
fn token_cas_are_renewed_on_their_token_and_the_pin_never_reaches_the_hook() {
    let d = tmp();
    let p = d.path();
    let hsm = Hsm::new(p);
    hsm.pki_pin(
        p,
        &[
            "create-owner-ca",
            "--key-on",
            &uri_without_pin_source("owner-ca"),
        ],
    )
    .expect(0);
    hsm.pki_pin(
        p,
        &[
            "create-intermediate-ca",
            "--key-on",
            &uri_without_pin_source("intermediate"),
        ],
    )
    .expect(0);
    hsm.pki_pin(
        p,
        &[
            "create-edge-ca",
            "gw",
            "--key-on",
            &uri_without_pin_source("edge"),
            "--key-type",
            "ec-p384",
        ],
    )
    .expect(0);
    hsm.pki_pin(p, &["issue", "device", "dev-1"]).expect(0);
    hsm.pki_pin(p, &["issue", "server", "gw.contoso.com"])
        .expect(0);
    let private = p.join("pki/private");
    let inter_record = private.join("azure-iot-test-only.intermediate.key.uri");
    let old_uri = read(&inter_record);
    let old_serial = serial_of(p, INTER);

    // The intermediate: a fresh key on the same token; the hook sees no PIN.
    let seen = p.join("hook-env.txt");
    let hook = format!("env > '{}'", seen.display());
    let r = hsm
        .pki_pin(p, &["renew", "intermediate", "--exec", &hook])
        .expect(0);
    assert!(r.stdout.contains("a fresh key"), "{}", r.stdout);
    let env = read(&seen);
    assert!(env.contains("PKI_RENEW_PHASE=renew"), "{env}");
    assert!(
        !env.contains(PIN) && !env.contains("PKI_PKCS11_PIN="),
        "the PIN reached the hook:\n{env}"
    );
    let new_uri = read(&inter_record);
    assert_ne!(new_uri, old_uri);
    assert!(
        new_uri.starts_with("pkcs11:token=pki;object=intermediate-renewed-"),
        "{new_uri}"
    );
    assert_eq!(
        read(&private.join(format!(
            "azure-iot-test-only.intermediate.{old_serial}.key.uri"
        ))),
        old_uri
    );
    assert!(
        !private
            .join("azure-iot-test-only.intermediate.key.pem")
            .exists()
    );
    verifies(p, ROOT, &[], INTER);
    // What the token intermediate signed is renewed by its new key, on the token.
    hsm.pki_pin(p, &["renew", "dev-1"]).expect(0);
    verifies(p, ROOT, &[INTER], "pki/certs/iot-device-dev-1.cert.pem");
    // The edge CA keeps its token key; the server it signs is renewed through it.
    let edge_record = private.join("iot-edge-device-ca-gw.key.uri");
    let edge_uri = read(&edge_record);
    let r = hsm
        .pki_pin(p, &["renew", "edge-ca:gw", "--reuse-key"])
        .expect(0);
    assert!(r.stdout.contains("--reuse-key"), "{}", r.stdout);
    assert_eq!(read(&edge_record), edge_uri);
    verifies(
        p,
        ROOT,
        &[INTER],
        "pki/certs/iot-edge-device-ca-gw.cert.pem",
    );
    hsm.pki_pin(p, &["renew", "gw.contoso.com"]).expect(0);
    verifies(
        p,
        ROOT,
        &["pki/certs/iot-edge-device-ca-gw-full-chain.cert.pem"],
        "pki/certs/iot-edge-server-gw.contoso.com.cert.pem",
    );
    // The owner CA: a rollover, its new key on the token too.
    hsm.pki_pin(p, &["renew", "root"]).expect(0);
    verifies(p, ROOT, &[], ROOT);
    assert!(
        read(&private.join("azure-iot-test-only.root.ca.key.uri"))
            .starts_with("pkcs11:token=pki;object=owner-ca-renewed-")
    );
    // Every key, old and new, is still on the token, sensitive and never extractable.
    let keys = hsm.keys();
    assert_eq!(keys.len(), 5, "{keys:?}");
    for k in &keys {
        assert!(k.sensitive && !k.extractable, "{k:?}");
    }
    // Only the device and the server keep their keys in files; every CA's is a URI.
    let files = tree(&private);
    let pems: Vec<&String> = files.iter().filter(|n| n.ends_with(".key.pem")).collect();
    assert_eq!(pems.len(), 4, "{files:?}");
    assert!(
        pems.iter()
            .all(|n| n.starts_with("iot-device-dev-1.") || n.starts_with("iot-edge-server-gw.")),
        "{files:?}"
    );
}

#[test]
fn a_csr_made_with_a_key_on_the_token() {
    let d = tmp();
    let p = d.path();
    let hsm = Hsm::new(p);
    hsm.pki(p, &["create-owner-ca"]).expect(0);
    let r = hsm
        .pki(
            p,
            &[
                "csr",
                "create",
                "sensor-7",
                "--key-on",
                &hsm.uri("sensor-7"),
                "--out",
                "sensor-7.csr",
            ],
        )
        .expect(0);
    assert!(r.stdout.contains("sensor-7.csr"), "{}", r.stdout);
    let v = openssl(p, &["req", "-in", "sensor-7.csr", "-verify", "-noout"]);
    assert!(
        v.code == 0 && (v.stderr.contains("verify OK") || v.stdout.contains("verify OK")),
        "{v:?}"
    );
    let subject = openssl(p, &["req", "-in", "sensor-7.csr", "-noout", "-subject"]).expect(0);
    assert!(
        subject.stdout.contains("CN = sensor-7"),
        "{}",
        subject.stdout
    );
    let keys = hsm.keys();
    let k = keys
        .iter()
        .find(|k| k.label == "sensor-7")
        .unwrap_or_else(|| panic!("the key is on the token: {keys:?}"));
    assert!(k.sensitive && !k.extractable, "{k:?}");
    // The CA signs it; the certificate carries the token key (show --key checks it there).
    hsm.pki(p, &["csr", "sign", "sensor-7.csr", "--profile", "device"])
        .expect(0);
    let cert = "pki/certs/iot-device-sensor-7.cert.pem";
    verifies(p, ROOT, &[], cert);
    let shown = hsm
        .pki(p, &["--json", "show", cert, "--key", &hsm.uri("sensor-7")])
        .expect(0);
    assert_eq!(shown.json()["key_check"]["matches"], true);
}

#[test]
fn force_between_a_token_ca_and_a_file_ca_leaves_no_stale_key_record() {
    let d = tmp();
    let p = d.path();
    let hsm = Hsm::new(p);
    let private = p.join("pki/private");
    let pem = private.join("azure-iot-test-only.intermediate.key.pem");
    let record = private.join("azure-iot-test-only.intermediate.key.uri");
    hsm.pki(p, &["create-owner-ca", "--key-on", &hsm.uri("owner-ca")])
        .expect(0);
    hsm.pki(
        p,
        &["create-intermediate-ca", "--key-on", &hsm.uri("inter-1")],
    )
    .expect(0);
    // Without --force, neither kind replaces the other.
    hsm.pki(p, &["create-intermediate-ca"]).expect(2);
    assert!(record.exists() && !pem.exists());
    // Token -> file: the URI record goes with the old key.
    hsm.pki(p, &["create-intermediate-ca", "--force"]).expect(0);
    assert!(pem.exists() && !record.exists());
    hsm.pki(p, &["issue", "device", "dev-1"]).expect(0);
    verifies(p, ROOT, &[INTER], "pki/certs/iot-device-dev-1.cert.pem");
    // File -> token: the key file goes.
    hsm.pki(
        p,
        &[
            "create-intermediate-ca",
            "--force",
            "--key-on",
            &hsm.uri("inter-2"),
        ],
    )
    .expect(0);
    assert!(record.exists() && !pem.exists());
    assert!(read(&record).contains("object=inter-2"));
    hsm.pki(p, &["issue", "device", "dev-2"]).expect(0);
    verifies(p, ROOT, &[INTER], "pki/certs/iot-device-dev-2.cert.pem");
}

/// The device ids whose files of one kind (`certs/iot-device-ID.cert.pem`, `...-full-chain`,
/// `private/iot-device-ID.key.pem`) are in `dir`.
fn devices_with(dir: &Path, suffix: &str) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            let id = name.strip_prefix("iot-device-")?.strip_suffix(suffix)?;
            (!id.ends_with("-full-chain")).then(|| id.to_owned())
        })
        .collect()
}

#[test]
fn a_token_removed_mid_batch_stops_the_lot_in_one_line_and_a_rerun_finishes_it() {
    let d = tmp();
    let p = d.path();
    let hsm = Hsm::with_owner_ca(p);
    const LOT: usize = 6000;
    let lot: String = (1..=LOT).map(|i| format!("lot-{i:05}\n")).collect();
    std::fs::write(p.join("lot.txt"), lot).unwrap();
    // The token's files, copied while nothing uses them: the token "put back" later.
    let tokens = p.join("tokens");
    let copy = p.join("tokens.copy");
    assert!(
        programs::command("cp")
            .arg("-a")
            .arg(&tokens)
            .arg(&copy)
            .status()
            .unwrap()
            .success()
    );
    let batch = ["issue", "device", "--batch", "lot.txt", "--jobs", "2"];
    let mut cmd = crate::support::pki_command(p, &batch);
    cmd.env("SOFTHSM2_CONF", &hsm.conf)
        .env("PKI_PKCS11_MODULE", &hsm.module)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Once the batch is well under way, the token goes: its directory is deleted under
    // SoftHSM2 (as a card pulled out of its reader).
    let certs = p.join("pki/certs");
    let start = std::time::Instant::now();
    while devices_with(&certs, ".cert.pem").len() < 100 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the batch never got going"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::fs::remove_dir_all(&tokens).unwrap();
    let first = Run::from(child.wait_with_output().unwrap()).expect(2);
    assert_eq!(first.stderr.lines().count(), 1, "{}", first.stderr);
    assert!(
        first.stderr.contains("token \"pki\" is gone")
            && first.stderr.contains("run the same command again"),
        "{}",
        first.stderr
    );
    assert!(!first.stderr.contains(PIN));
    // Nothing half-written: every device has all three files or none.
    let private = p.join("pki/private");
    let with_cert = devices_with(&certs, ".cert.pem");
    assert!(
        with_cert.len() < LOT,
        "the token went before the lot was done"
    );
    assert_eq!(with_cert, devices_with(&certs, "-full-chain.cert.pem"));
    assert_eq!(with_cert, devices_with(&private, ".key.pem"));
    for id in with_cert.iter().take(20) {
        let pem = read(&certs.join(format!("iot-device-{id}.cert.pem")));
        assert!(
            pem.trim_end().ends_with("-----END CERTIFICATE-----"),
            "{id}"
        );
    }
    // The token back, from its copy: the same command finishes the lot.
    programs::command("cp")
        .arg("-a")
        .arg(&copy)
        .arg(&tokens)
        .status()
        .unwrap();
    let second = hsm.pki(p, &batch).expect(0);
    assert!(
        second.stdout.contains("completed from an interrupted run")
            || second.stdout.contains("already done"),
        "{}",
        second.stdout
    );
    let manifest = read(&p.join("pki/manifest.jsonl"));
    let lines: Vec<serde_json::Value> = manifest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), LOT, "one manifest line per device");
    let ids: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|l| l["device_id"].as_str().unwrap())
        .collect();
    let serials: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|l| l["serial"].as_str().unwrap())
        .collect();
    assert_eq!((ids.len(), serials.len()), (LOT, LOT));
    assert_eq!(devices_with(&certs, ".cert.pem").len(), LOT);
    // Each certificate on disk is the one its manifest line names (issued once, never again).
    for l in lines.iter().step_by(LOT / 12) {
        let cert = l["cert"].as_str().unwrap();
        assert_eq!(serial_of(p, cert), l["serial"].as_str().unwrap(), "{cert}");
        verifies(p, ROOT, &[], cert);
    }
}

#[test]
fn exporting_a_token_cas_key_names_the_token_not_a_missing_file() {
    let d = tmp();
    let p = d.path();
    let hsm = Hsm::new(p);
    hsm.pki(p, &["create-owner-ca", "--key-on", &hsm.uri("owner-ca")])
        .expect(0);
    let args = ["export", ROOT, "--p12", "root.p12", "--no-password"];
    let r = hsm.pki(p, &args);
    refused_in_one_line(
        &r,
        &args,
        "the key of pki/certs/azure-iot-test-only.root.ca.cert.pem is on a token (pkcs11:token=pki;object=owner-ca;",
    );
    assert!(!r.stderr.contains("key.pem"), "{}", r.stderr);
    assert!(!p.join("root.p12").exists());
    // What can be exported is: the certificate, as a truststore.
    hsm.pki(
        p,
        &[
            "export",
            ROOT,
            "--truststore",
            "root-trust.p12",
            "--no-password",
        ],
    )
    .expect(0);
}

#[cfg(unix)] // support::est
#[test]
fn pki_est_serve_signs_with_the_ca_key_on_the_token() {
    use crate::support::est::{EstServer, basic, csr, exchange, secret};
    let d = tmp();
    let p = d.path();
    let hsm = Hsm::new(p);
    hsm.pki(p, &["create-owner-ca", "--key-on", &hsm.uri("owner-ca")])
        .expect(0);
    hsm.pki(
        p,
        &[
            "create-intermediate-ca",
            "--key-on",
            &hsm.uri("intermediate"),
        ],
    )
    .expect(0);
    let env = [
        ("SOFTHSM2_CONF", hsm.conf.to_str().unwrap()),
        ("PKI_PKCS11_MODULE", hsm.module.to_str().unwrap()),
    ];
    let server = EstServer::start_env(p, &[], &env);
    // A device enrols with a one-time secret; the intermediate's key on the token signs.
    let auth = basic("dev-1", &secret(p, "dev-1", &[]));
    let csr = csr(p, "dev-1.key.pem", "/CN=dev-1", &[]);
    let body: String = csr
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(|l| format!("{l}\n"))
        .collect();
    let request = format!(
        "POST /.well-known/est/simpleenroll HTTP/1.1\r\nhost: localhost\r\n\
         authorization: {auth}\r\ncontent-type: application/pkcs10\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = exchange(p, server.port(), &[], request.as_bytes());
    assert_eq!(answer.status, 200, "{}", server.output());
    std::fs::write(p.join("answer.b64"), &answer.body).unwrap();
    let der = openssl(
        p,
        &["base64", "-d", "-in", "answer.b64", "-out", "answer.p7b"],
    );
    assert_eq!(der.code, 0, "{der:?}");
    let pem = openssl(
        p,
        &[
            "pkcs7",
            "-inform",
            "DER",
            "-in",
            "answer.p7b",
            "-print_certs",
            "-out",
            "dev-1.cert.pem",
        ],
    );
    assert_eq!(pem.code, 0, "{pem:?}");
    verifies(p, ROOT, &[INTER], "dev-1.cert.pem");
    // The server's stderr and audit never show the PIN; the keys stayed on the token.
    assert!(!server.output().contains(PIN), "{}", server.output());
    let keys = hsm.keys();
    assert!(
        keys.iter().all(|k| k.sensitive && !k.extractable),
        "{keys:?}"
    );
    assert!(
        !p.join("pki/private/azure-iot-test-only.intermediate.key.pem")
            .exists()
    );
}
