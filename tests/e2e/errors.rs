//! Bad input gets one clear error line naming the input, exit code 2, no panic, and nothing
//! half-written.

use crate::support::quickstart::{DEVICE, ROOT, SERVER_KEY, gateway_pki};
use crate::support::{closed_port, pki, testdata, tmp, tree};

#[track_caller]
fn fails_cleanly(dir: &std::path::Path, args: &[&str], says: &str) {
    crate::support::fails_cleanly(dir, args, says, || tree(dir));
}

#[test]
fn missing_ca_and_non_ca_directories_are_reported() {
    let d = tmp();
    let p = d.path();
    fails_cleanly(p, &["issue", "device", "dev-1"], "no CA directory");
    std::fs::create_dir(p.join("pki")).unwrap();
    fails_cleanly(p, &["issue", "server", "gw.local"], "not a CA directory");
    std::fs::write(p.join("afile"), "x").unwrap();
    fails_cleanly(
        p,
        &["--dir", "afile", "issue", "device", "d"],
        "not a directory",
    );
    fails_cleanly(p, &["--dir", "afile", "create-owner-ca"], "not a directory");
    // A CA directory without the intermediate asked for.
    pki(p, &["create-owner-ca"]).expect(0);
    fails_cleanly(
        p,
        &["issue", "device", "d", "--issuer", "intermediate"],
        "does not exist",
    );
}

#[test]
fn invalid_names_and_key_types_are_refused() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    fails_cleanly(
        p,
        &["issue", "server", "gw..contoso"],
        "not a valid DNS name or IP address",
    );
    fails_cleanly(
        p,
        &["issue", "server", "gw.local", "--san", "10.0.0"],
        "not a valid DNS name or IP address",
    );
    fails_cleanly(p, &["issue", "device", "bad/id"], "not a valid device id");
    fails_cleanly(
        p,
        &["issue", "device", "dev", "--key-type", "dsa-1024"],
        "unknown key type",
    );
    fails_cleanly(p, &["create-verification-cert", ""], "verification code");
}

#[test]
fn existing_files_are_never_overwritten_without_force() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    let root = std::fs::read(p.join("pki/certs/azure-iot-test-only.root.ca.cert.pem")).unwrap();
    let key = std::fs::read(p.join("pki/private/azure-iot-test-only.root.ca.key.pem")).unwrap();
    fails_cleanly(p, &["create-owner-ca"], "already exists (use --force");
    pki(p, &["issue", "device", "dev-1"]).expect(0);
    fails_cleanly(p, &["issue", "device", "dev-1"], "already exists");
    assert_eq!(
        std::fs::read(p.join("pki/certs/azure-iot-test-only.root.ca.cert.pem")).unwrap(),
        root
    );
    assert_eq!(
        std::fs::read(p.join("pki/private/azure-iot-test-only.root.ca.key.pem")).unwrap(),
        key
    );
    pki(p, &["issue", "device", "dev-1", "--force"]).expect(0);
    pki(p, &["create-owner-ca", "--force"]).expect(0);
    assert_ne!(
        std::fs::read(p.join("pki/private/azure-iot-test-only.root.ca.key.pem")).unwrap(),
        key
    );
}

#[test]
fn bad_certificates_and_keys_are_reported() {
    let d = tmp();
    let p = d.path();
    let td = |f: &str| testdata(&format!("show/{f}")).display().to_string();
    for (file, says) in [
        ("garbage.pem", "neither PEM"),
        ("truncated.pem", "truncated"),
        ("truncated.der", "DER does not parse"),
        ("does-not-exist.pem", "No such file"),
    ] {
        fails_cleanly(p, &["show", &td(file)], says);
        fails_cleanly(p, &["show", &td(file)], file);
    }
    // An import whose key does not match: refused, nothing written.
    std::fs::create_dir_all(p.join("pki/certs")).unwrap();
    std::fs::create_dir_all(p.join("pki/private")).unwrap();
    fails_cleanly(
        p,
        &[
            "create-owner-ca",
            "--import",
            &td("ed25519-self.cert.pem"),
            "--key",
            &td("ec-server.key.pem"),
        ],
        "does not match",
    );
    // A non-CA cannot be adopted as a CA.
    fails_cleanly(
        p,
        &[
            "create-owner-ca",
            "--import",
            &td("ec-server.cert.pem"),
            "--key",
            &td("ec-server.key.pem"),
        ],
        "not a CA",
    );
    fails_cleanly(
        p,
        &[
            "create-owner-ca",
            "--import",
            &td("garbage.pem"),
            "--key",
            &td("ec-server.key.pem"),
        ],
        "garbage.pem",
    );
    fails_cleanly(
        p,
        &[
            "create-owner-ca",
            "--import",
            &td("ed25519-self.cert.pem"),
            "--key",
            &td("garbage.pem"),
        ],
        "garbage.pem",
    );
    // A CSR whose signature does not verify.
    let csr = std::fs::read_to_string(td("csr-device.csr")).unwrap();
    let block: Vec<&str> = csr.lines().collect();
    let mut body = block[1..block.len() - 1].join("");
    // Flip one character inside the subject (well before the signature).
    let at = 40;
    let c = if &body[at..=at] == "A" { "B" } else { "A" };
    body.replace_range(at..=at, c);
    std::fs::write(
        p.join("bad.csr"),
        format!("-----BEGIN CERTIFICATE REQUEST-----\n{body}\n-----END CERTIFICATE REQUEST-----\n"),
    )
    .unwrap();
    pki(p, &["create-owner-ca"]).expect(0);
    fails_cleanly(
        p,
        &["csr", "sign", "bad.csr", "--profile", "device"],
        "bad.csr",
    );
}

#[test]
fn edge_ca_name_must_differ_from_gateway_and_devices() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    pki(p, &["issue", "server", "gw1.ca"]).expect(0);
    fails_cleanly(
        p,
        &["create-edge-ca", "gw1"],
        "must differ from the gateway hostname",
    );
    pki(p, &["create-edge-ca", "gw2"]).expect(0);
    fails_cleanly(p, &["issue", "device", "gw2.ca"], "must differ");
    // Names differ in case only: still the same name to IoT Edge.
    fails_cleanly(p, &["issue", "device", "GW2.CA"], "must differ");
    fails_cleanly(
        p,
        &["issue", "server", "gw2.ca", "--issuer", "root"],
        "must differ",
    );
}

#[test]
fn usage_errors_exit_2_and_json_errors_are_json() {
    let d = tmp();
    let r = pki(d.path(), &["issue"]);
    assert_eq!(r.code, 2);
    let r = pki(d.path(), &["--json", "issue", "device", "x"]).expect(2);
    let j = r.json();
    assert!(
        j["error"].as_str().unwrap().contains("no CA directory"),
        "{j}"
    );
    assert!(
        j["hint"].as_str().unwrap().contains("create-owner-ca"),
        "{j}"
    );
}

#[test]
fn an_instant_flag_takes_a_bare_date_as_midnight_utc_and_refuses_in_one_reason() {
    let d = tmp();
    let p = d.path();
    pki(p, &["quickstart", "--gateway", "gw.example"]).expect(0);
    let server = "pki/certs/iot-edge-server-gw.example.cert.pem";
    // A bare date is that day's midnight, UTC: the same answer as the RFC 3339 instant.
    for cmd in [
        vec!["--json", "show", server],
        vec!["--json", "needs-renewal", server],
        vec!["--json", "list"],
    ] {
        let at = |when: &str| {
            let mut args = cmd.clone();
            args.extend(["--at", when]);
            let r = pki(p, &args);
            assert!(r.stdout.starts_with('{'), "{args:?}: {}", r.stderr);
            (r.code, r.stdout)
        };
        assert_eq!(at("2040-01-01"), at("2040-01-01T00:00:00Z"), "{cmd:?}");
    }
    // A value that is neither: one line, its reason said once.
    for bad in ["2028-13-01", "2028-01-01T25:00:00Z", "soon"] {
        let r = pki(p, &["show", server, "--at", bad]).expect(2);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.starts_with(&format!(
                "pki: error: --at \"{bad}\" is not a date such as 2028-01-01 (midnight UTC) or an \
                 RFC 3339 time such as 2026-11-22T10:00:00Z"
            )),
            "{}",
            r.stderr
        );
        let reason = r.stderr.rsplit(": ").next().unwrap_or_default().trim();
        assert_eq!(r.stderr.matches(reason).count(), 1, "{}", r.stderr);
    }
}

#[test]
fn a_refused_flag_value_is_one_error_line_and_with_json_one_document() {
    let d = tmp();
    let p = d.path();
    for json in [false, true] {
        let mut args = vec!["show", "x.pem", "--at", "yesterday"];
        if json {
            args.insert(0, "--json");
        }
        let r = pki(p, &args).expect(2);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.starts_with(
                "pki: error: --at \"yesterday\" is not a date such as 2028-01-01 (midnight UTC) or an RFC 3339 time such as 2026-11-22T10:00:00Z: "
            ),
            "{}",
            r.stderr
        );
        if json {
            let j = r.json();
            assert!(
                j["error"]
                    .as_str()
                    .unwrap()
                    .starts_with("--at \"yesterday\""),
                "{j}"
            );
        } else {
            assert_eq!(r.stdout, "");
        }
    }
    // The hint of the library's error comes with it.
    let r = pki(p, &["--json", "create-owner-ca", "--key-type", "dsa-1024"]).expect(2);
    let j = r.json();
    assert!(
        j["error"].as_str().unwrap().starts_with("unknown key type"),
        "{j}"
    );
    assert!(
        j["hint"].as_str().unwrap().starts_with("--key-type takes"),
        "{j}"
    );
    assert!(!p.join("pki").exists());
    // A value that is not a number stays clap's usage error.
    let r = pki(p, &["verify", "127.0.0.1:1", "--timeout", "soon"]).expect(2);
    assert!(
        r.stderr
            .starts_with("error: invalid value 'soon' for '--timeout <SECONDS>'"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout, "");
}

/// `pki --json ARGS` in `dir` exits 2 with one JSON document on stdout carrying `code`, and the
/// error line on stderr as without `--json`. Returns the document.
#[track_caller]
fn json_failure(dir: &std::path::Path, args: &[&str], code: &str) -> serde_json::Value {
    let r = pki(dir, args).expect(2);
    assert_eq!(r.stdout.lines().count(), 1, "{args:?}: {}", r.stdout);
    let j = r.json();
    assert_eq!(j["code"], code, "{args:?}: {j}");
    assert!(j["error"].as_str().is_some_and(|e| !e.is_empty()), "{j}");
    assert!(!r.stderr.is_empty(), "{args:?}");
    j
}

#[test]
fn json_errors_carry_a_stable_code() {
    let d = gateway_pki();
    let p = d.path();
    json_failure(p, &["--json", "show", "missing.pem"], "file_not_found");
    std::fs::write(
        p.join("garbage.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64!\n",
    )
    .unwrap();
    let j = json_failure(p, &["--json", "show", "garbage.pem"], "bad_certificate");
    assert!(
        j["error"].as_str().unwrap().starts_with("garbage.pem: "),
        "{j}"
    );
    std::fs::write(p.join("pw.txt"), "a password\n").unwrap();
    json_failure(
        p,
        &[
            "--json",
            "export",
            DEVICE,
            "--p12",
            "x.p12",
            "--key",
            SERVER_KEY,
            "--password-file",
            "pw.txt",
        ],
        "key_mismatch",
    );
    assert!(!p.join("x.p12").exists());
    let port = closed_port().to_string();
    let target = format!("127.0.0.1:{port}");
    json_failure(
        p,
        &["--json", "verify", &target, "--ca-file", ROOT],
        "unreachable_host",
    );
    let before = tree(p);
    let j = json_failure(p, &["create-owner-ca", "--json"], "file_exists");
    assert!(j["hint"].as_str().unwrap().contains("--force"), "{j}");
    assert_eq!(tree(p), before);
    // A refused flag value is the command line's fault.
    json_failure(p, &["--json", "show", ROOT, "--at", "soon"], "usage");
}

#[test]
fn usage_errors_under_json_are_one_json_document_with_code_usage() {
    let d = tmp();
    let p = d.path();
    // --json before or after the sub-command.
    for args in [
        &["--json", "issue", "device"][..],
        &["issue", "device", "--json"][..],
    ] {
        let j = json_failure(p, args, "usage");
        assert_eq!(
            j["error"], "the following required arguments were not provided: <DEVICE_ID>",
            "{j}"
        );
    }
    let j = json_failure(p, &["--json", "issue", "device", "d", "--frob"], "usage");
    assert_eq!(j["error"], "unexpected argument '--frob' found", "{j}");
    let j = json_failure(p, &["--json", "c8y"], "usage");
    assert!(
        j["hint"].as_str().unwrap().starts_with("Usage: pki c8y"),
        "{j}"
    );
    json_failure(
        p,
        &["--json", "verify", "127.0.0.1:1", "--timeout", "soon"],
        "usage",
    );
    // clap's own words on stderr, as without --json.
    let r = pki(p, &["--json", "issue", "device"]).expect(2);
    assert!(
        r.stderr
            .starts_with("error: the following required arguments were not provided:"),
        "{}",
        r.stderr
    );
    // Without --json, stdout stays empty; --help is no error.
    assert_eq!(pki(p, &["issue", "device"]).expect(2).stdout, "");
    assert!(
        pki(p, &["--json", "--help"])
            .expect(0)
            .stdout
            .contains("Usage:")
    );
    assert!(!p.join("pki").exists());
}
