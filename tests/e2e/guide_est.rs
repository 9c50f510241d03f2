//! `pki guide --sdk iotedge` (issue 25): the lines of Azure IoT Edge 1.5's config.toml for a
//! gateway, its edge CA from files (the default) or enrolled and renewed by IoT Edge over EST
//! from `pki est serve` (`--issuance est`), and `--sdk tedge --issuance est`. What is printed is
//! read back by real readers: the TOML by python3's tomllib (every key and value asserted, also
//! of hostile ids and directories), the shell by bash (the commands run against stand-ins that
//! record the words they receive), the named files by openssl (the key is the chain's).

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{openssl, pki, programs, refused_in_one_line, tmp};

const EST: &str = "https://pki.contoso.com:8443/.well-known/est";
const ROOT_URI: &str = "file:///var/aziot/certs/azure-iot-test-only.root.ca.cert.pem";

/// The document python3's tomllib reads from `text` (which must be TOML), as JSON.
fn toml(dir: &Path, text: &str) -> Value {
    let file = dir.join("config.toml");
    std::fs::write(&file, text).unwrap();
    let out = programs::command("python3")
        .arg("-c")
        .arg("import json, sys, tomllib\nprint(json.dumps(tomllib.load(open(sys.argv[1], 'rb'))))")
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "not TOML: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Printable ASCII, one value per line: what a terminal shows as it is.
fn printable(text: &str) -> bool {
    text.bytes()
        .all(|b| b == b'\n' || (0x20..0x7f).contains(&b))
}

/// The keys of a TOML table, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not a table: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

fn auto_renew() -> Value {
    json!({"rotate_key": true, "threshold": "80%", "retry": "4%"})
}

/// A CA directory with an owner CA and an intermediate, as `pki quickstart` starts one.
fn directory(d: &Path, at: &str) {
    pki(d, &[at, "create-owner-ca"]).expect(0);
    pki(d, &[at, "create-intermediate-ca"]).expect(0);
}

#[test]
fn iotedge_est_blocks_are_toml_with_iotedge_s_own_keys() {
    let dir = tmp();
    let d = dir.path();
    directory(d, "--dir=pki");
    let args = [
        "guide",
        "gw-1",
        "--sdk",
        "iotedge",
        "--gateway",
        "gw.contoso.com",
        "--hub",
        "contoso.azure-devices.net",
        "--issuance",
        "est",
        "--est-url",
        "https://pki.contoso.com:8443",
    ];
    let r = pki(d, &args).expect(0);
    assert!(printable(&r.stdout), "{}", r.stdout);
    let c = toml(d, &r.stdout);
    assert_eq!(
        keys(&c),
        [
            "cert_issuance",
            "edge_ca",
            "hostname",
            "provisioning",
            "trust_bundle_cert"
        ]
    );
    assert_eq!(c["hostname"], "gw.contoso.com");
    assert_eq!(c["trust_bundle_cert"], ROOT_URI);
    // Manual provisioning, the identity issued over EST with the device id as its CN.
    assert_eq!(
        c["provisioning"],
        json!({
            "source": "manual",
            "iothub_hostname": "contoso.azure-devices.net",
            "device_id": "gw-1",
            "authentication": {
                "method": "x509",
                "identity_cert": {"method": "est", "common_name": "gw-1"}
            }
        })
    );
    // The edge CA over EST, CN NAME.ca, renewed by IoT Edge; no expiry_days (aziot-certd
    // applies it to local_ca and self_signed only).
    assert_eq!(
        c["edge_ca"],
        json!({"method": "est", "common_name": "gw-1.ca", "auto_renew": auto_renew()})
    );
    let est = &c["cert_issuance"]["est"];
    assert_eq!(keys(&c["cert_issuance"]), ["est"]);
    assert_eq!(
        keys(est),
        ["auth", "identity_auto_renew", "trusted_certs", "urls"]
    );
    assert_eq!(est["trusted_certs"], json!([ROOT_URI]));
    assert_eq!(
        est["auth"],
        json!({
            "bootstrap_identity_cert": "file:///var/aziot/certs/est-bootstrap-id.pem",
            "bootstrap_identity_pk": "file:///var/aziot/secrets/est-bootstrap-id.key.pem"
        })
    );
    assert_eq!(est["identity_auto_renew"], auto_renew());
    // The server's default label for the identity, its edge-ca label for aziot-certd's
    // certificate aziot-edged-ca.
    assert_eq!(
        est["urls"],
        json!({"default": EST, "aziot-edged-ca": format!("{EST}/edge-ca")})
    );
    assert!(!r.stdout.contains("placeholder"), "{}", r.stdout);
    // The JSON report: the same snippet, the server, the root it names.
    let mut json_args = vec!["--json"];
    json_args.extend(args);
    let report = pki(d, &json_args).expect(0).json();
    assert_eq!(report["snippet"].as_str(), Some(r.stdout.as_str()));
    assert_eq!(report["sdk"], "iotedge");
    assert_eq!(report["issuance"], "est");
    assert_eq!(report["est_url"], EST);
    assert_eq!(report["gateway"], "gw.contoso.com");
    let root = report["files"]["root"].as_str().unwrap();
    assert!(
        Path::new(root).is_absolute() && Path::new(root).is_file(),
        "{root}"
    );
    assert!(report["files"].get("key").is_none(), "{report}");
}

#[test]
fn iotedge_est_with_dps_renews_the_identity_too() {
    let dir = tmp();
    let d = dir.path();
    directory(d, "--dir=pki");
    pki(d, &["issue", "server", "gw.contoso.com"]).expect(0);
    // The gateway's host name from the register's one gateway certificate.
    let r = pki(
        d,
        &[
            "guide",
            "gw-1",
            "--sdk",
            "iotedge",
            "--issuance",
            "est",
            "--est-url",
            "pki.contoso.com:8443",
            "--dps-scope",
            "0ne00A1B2C3",
            "--edge-ca",
            "site-7",
        ],
    )
    .expect(0);
    let c = toml(d, &r.stdout);
    assert_eq!(c["hostname"], "gw.contoso.com");
    assert_eq!(
        c["provisioning"],
        json!({
            "source": "dps",
            "global_endpoint": "https://global.azure-devices-provisioning.net",
            "id_scope": "0ne00A1B2C3",
            "attestation": {
                "method": "x509",
                "registration_id": "gw-1",
                "identity_cert": {
                    "method": "est",
                    "common_name": "gw-1",
                    "auto_renew": auto_renew()
                }
            }
        })
    );
    assert_eq!(c["edge_ca"]["common_name"], "site-7.ca");
    assert_eq!(c["edge_ca"]["auto_renew"], auto_renew());
    assert_eq!(c["cert_issuance"]["est"]["urls"]["default"], EST);
}

#[test]
fn without_est_url_the_server_is_a_placeholder_and_the_guide_says_so() {
    let dir = tmp();
    let d = dir.path();
    directory(d, "--dir=pki");
    let args = [
        "guide",
        "gw-1",
        "--sdk",
        "iotedge",
        "--gateway",
        "gw.test",
        "--issuance",
        "est",
    ];
    let r = pki(d, &args).expect(0);
    let c = toml(d, &r.stdout);
    let urls = &c["cert_issuance"]["est"]["urls"];
    assert_eq!(urls["default"], "https://EST-SERVER:8443/.well-known/est");
    assert_eq!(
        urls["aziot-edged-ca"],
        "https://EST-SERVER:8443/.well-known/est/edge-ca"
    );
    assert!(
        r.stdout.contains("EST-SERVER:8443 below is a placeholder"),
        "{}",
        r.stdout
    );
    let mut json_args = vec!["--json"];
    json_args.extend(args);
    let report = pki(d, &json_args).expect(0).json();
    assert_eq!(report["est_url"], Value::Null);
}

#[test]
fn iotedge_from_files_names_the_edge_ca_chain_and_its_own_key() {
    let dir = tmp();
    let d = dir.path();
    directory(d, "--dir=pki");
    pki(d, &["create-edge-ca", "gw-1"]).expect(0);
    pki(d, &["create-edge-ca", "other"]).expect(0);
    let r = pki(
        d,
        &[
            "guide",
            "gw-1",
            "--sdk",
            "iotedge",
            "--gateway",
            "gw.contoso.com",
        ],
    )
    .expect(0);
    let c = toml(d, &r.stdout);
    assert_eq!(keys(&c), ["edge_ca", "hostname", "trust_bundle_cert"]);
    assert_eq!(c["trust_bundle_cert"], ROOT_URI);
    assert_eq!(
        c["edge_ca"],
        json!({
            "cert": "file:///var/aziot/certs/iot-edge-device-ca-gw-1-full-chain.cert.pem",
            "pk": "file:///var/aziot/secrets/iot-edge-device-ca-gw-1.key.pem"
        })
    );
    // The files the copy commands name: the chain starts with the edge CA gw-1.ca, and the key
    // is its key (openssl's public keys of both are the same).
    let report = pki(
        d,
        &[
            "--json",
            "guide",
            "gw-1",
            "--sdk",
            "iotedge",
            "--gateway",
            "gw.contoso.com",
        ],
    )
    .expect(0)
    .json();
    let chain = report["files"]["chain"].as_str().unwrap();
    let key = report["files"]["key"].as_str().unwrap();
    assert!(
        r.stdout
            .contains(&format!("#   sudo install -m 644 {chain} "))
    );
    assert!(
        r.stdout
            .contains(&format!("#   sudo install -m 600 -o aziotks {key} "))
    );
    let subject = openssl(d, &["x509", "-in", chain, "-noout", "-subject"]).expect(0);
    assert!(subject.stdout.contains("CN=gw-1.ca") || subject.stdout.contains("CN = gw-1.ca"));
    let cert_key = openssl(d, &["x509", "-in", chain, "-noout", "-pubkey"]).expect(0);
    let own_key = openssl(d, &["pkey", "-in", key, "-pubout"]).expect(0);
    assert_eq!(cert_key.stdout, own_key.stdout);
    // With one edge CA and another id, that one; with two and neither named, a refusal.
    let r = pki(
        d,
        &["guide", "gw-9", "--sdk", "iotedge", "--gateway", "gw.test"],
    );
    refused_in_one_line(&r, &["guide"], "2 edge CAs in ");
    assert!(r.stderr.contains("--edge-ca NAME"), "{}", r.stderr);
    let r = pki(
        d,
        &[
            "guide",
            "gw-9",
            "--sdk",
            "iotedge",
            "--gateway",
            "gw.test",
            "--edge-ca",
            "other",
        ],
    )
    .expect(0);
    assert_eq!(
        toml(d, &r.stdout)["edge_ca"]["pk"],
        "file:///var/aziot/secrets/iot-edge-device-ca-other.key.pem"
    );
}

/// A device id Azure allows that means something to a shell and to a URI, in a CA directory
/// whose path holds a newline and quotes: the TOML still reads back every value unchanged, the
/// file URIs name the files (percent-decoded), and every line is printable ASCII.
#[test]
fn hostile_ids_and_directories_are_carried_unchanged() {
    let dir = tmp();
    let d = dir.path();
    let at = "--dir=ca\n\"'$(id)\\é";
    directory(d, at);
    let id = "x$(id)'?%=";
    pki(d, &[at, "create-edge-ca", id]).expect(0);
    let files = pki(
        d,
        &[at, "guide", id, "--sdk", "iotedge", "--gateway", "gw.test"],
    )
    .expect(0);
    let est = pki(
        d,
        &[
            at,
            "guide",
            id,
            "--sdk",
            "iotedge",
            "--gateway",
            "gw.test",
            "--issuance",
            "est",
        ],
    )
    .expect(0);
    for r in [&files, &est] {
        assert!(printable(&r.stdout), "{}", r.stdout);
    }
    let c = toml(d, &files.stdout);
    let decode = |uri: &Value| {
        let out = programs::command("python3")
            .arg("-c")
            .arg("import sys, urllib.parse\nsys.stdout.write(urllib.parse.unquote(urllib.parse.urlparse(sys.argv[1]).path))")
            .arg(uri.as_str().unwrap())
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(
        decode(&c["edge_ca"]["cert"]),
        format!("/var/aziot/certs/iot-edge-device-ca-{id}-full-chain.cert.pem")
    );
    assert_eq!(
        decode(&c["edge_ca"]["pk"]),
        format!("/var/aziot/secrets/iot-edge-device-ca-{id}.key.pem")
    );
    let c = toml(d, &est.stdout);
    assert_eq!(c["provisioning"]["device_id"].as_str(), Some(id));
    assert_eq!(
        c["provisioning"]["authentication"]["identity_cert"]["common_name"].as_str(),
        Some(id)
    );
    assert_eq!(
        c["edge_ca"]["common_name"].as_str(),
        Some(format!("{id}.ca").as_str())
    );
}

#[test]
fn est_flags_where_they_mean_nothing_are_refused_in_one_line() {
    let dir = tmp();
    let d = dir.path();
    directory(d, "--dir=pki");
    pki(d, &["issue", "device", "dev-1"]).expect(0);
    let g = ["--gateway", "gw.test"];
    for (args, says) in [
        (
            vec!["guide", "dev-1", "--sdk", "python", "--issuance", "est"],
            "--issuance: only IoT Edge",
        ),
        (
            vec!["guide", "dev-1", "--sdk", "tedge", "--est-url", "h.test"],
            "--est-url names the EST server of --issuance est",
        ),
        (
            vec!["guide", "dev-1", "--sdk", "iotedge", "--dps-scope", "0ne1"],
            "--dps-scope is the DPS provisioning",
        ),
        (
            vec!["guide", "dev-1", "--sdk", "c", "--edge-ca", "gw"],
            "--edge-ca names the edge CA",
        ),
        (
            vec![
                "guide",
                "dev-1",
                "--sdk",
                "tedge",
                "--issuance",
                "est",
                "--cloud",
                "azure",
            ],
            "leave out --cloud azure",
        ),
        (
            vec![
                "guide",
                "dev-1",
                "--sdk",
                "iotedge",
                "--issuance",
                "est",
                "--est-url",
                "http://h.test",
            ],
            "is not an https:// URL",
        ),
        (
            vec![
                "guide",
                "dev-1",
                "--sdk",
                "iotedge",
                "--issuance",
                "est",
                "--est-url",
                "https://h.test/.well-known/est/edge-ca",
            ],
            "names a label or an operation",
        ),
        (
            vec![
                "guide",
                "dev-1",
                "--sdk",
                "iotedge",
                "--issuance",
                "est",
                "--dps-scope",
                "a b",
            ],
            "is not a DPS ID scope",
        ),
        (
            vec!["guide", "dev-1", "--sdk", "iotedge", "--edge-ca", "a/b"],
            "--edge-ca: ",
        ),
        (
            vec!["guide", "dev-1", "--sdk", "iotedge", "--auth", "sas"],
            "--auth sas",
        ),
        (vec!["guide", "dev-1", "--sdk", "iotedge"], "no edge CA in "),
    ] {
        let mut args = args;
        args.extend(g);
        let r = pki(d, &args);
        refused_in_one_line(&r, &args, says);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
    // Credentials in the URL: refused, and never repeated.
    let args = [
        "guide",
        "dev-1",
        "--sdk",
        "iotedge",
        "--issuance",
        "est",
        "--est-url",
        "https://dev-1:s3cret@h.test",
    ];
    let r = pki(d, &args);
    refused_in_one_line(&r, &args, "credentials");
    assert!(!r.stderr.contains("s3cret"), "{}", r.stderr);
}

/// `--sdk tedge --issuance est`: run in bash against stand-ins for sudo and tedge, the
/// commands enrol with `tedge cert download c8y` against the server's host and port, the
/// one-time secret read from the terminal reaches tedge through its environment variable and
/// never through an argument; no device certificate is needed beforehand.
#[test]
fn tedge_downloads_its_certificate_from_pki_est_serve() {
    let dir = tmp();
    let d = dir.path();
    directory(d, "--dir=pki");
    let id = "x$(id)'dev";
    let args = [
        "guide",
        id,
        "--sdk",
        "tedge",
        "--issuance",
        "est",
        "--est-url",
        "https://pki.contoso.com:8443/",
    ];
    let r = pki(d, &args).expect(0);
    assert!(printable(&r.stdout), "{}", r.stdout);
    let script = d.join("enrol.sh");
    std::fs::write(
        &script,
        format!(
            "sudo() {{\n\
             case \"$1\" in\n\
             --preserve-env=DEVICE_ONE_TIME_PASSWORD) shift; \"$@\" ;;\n\
             *) printf '%s\\n' \"$*\" >> sudo.log ;;\n\
             esac\n\
             }}\n\
             tedge() {{ printf '%s\\n' \"$@\" > tedge.args; printf '%s' \"$DEVICE_ONE_TIME_PASSWORD\" > tedge.env; }}\n\
             {}",
            r.stdout
        ),
    )
    .unwrap();
    let mut cmd = programs::command("bash");
    cmd.current_dir(d)
        .arg(&script)
        .stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"s3cret-otp\n")
            .unwrap();
    }
    assert!(child.wait().unwrap().success());
    let words = std::fs::read_to_string(d.join("tedge.args")).unwrap();
    assert_eq!(
        words.lines().collect::<Vec<_>>(),
        [
            "cert",
            "download",
            "c8y",
            "--device-id",
            id,
            "--url",
            "pki.contoso.com:8443"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(d.join("tedge.env")).unwrap(),
        "s3cret-otp"
    );
    assert!(!r.stdout.contains("s3cret"));
    let sudo = std::fs::read_to_string(d.join("sudo.log")).unwrap();
    let report = pki(d, &[&["--json"][..], &args[..]].concat())
        .expect(0)
        .json();
    let root = report["files"]["root"].as_str().unwrap();
    assert_eq!(
        sudo.lines().collect::<Vec<_>>(),
        [
            format!("install -m 644 {root} /usr/local/share/ca-certificates/pki-root.crt"),
            "update-ca-certificates".to_owned()
        ]
    );
    assert_eq!(report["issuance"], "est");
    assert_eq!(report["est_url"], EST);
    // The secret is made where pki runs, for this device.
    assert!(
        r.stdout.contains("#   pki est secret 'x$(id)'\\''dev'"),
        "{}",
        r.stdout
    );
}
