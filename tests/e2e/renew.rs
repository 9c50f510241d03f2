//! `pki renew`: against a real mosquitto gateway (the hook reloads it, `--verify` checks that it
//! serves the new certificate; a hook that breaks the gateway rolls back and the old chain is
//! served again), renewed certificates equal to the originals but for serial, validity and key
//! identifiers and verified by `openssl verify` for their purpose, the register after a renewal,
//! CA renewals (children keep verifying), the root rollover, `--expiring`, bad input, and
//! `--verify` against a gateway that requires a client certificate (`--cert`/`--key`).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::quickstart::{
    DEVICE, DEVICE_FULL, DEVICE_KEY, INTERMEDIATE, INTERMEDIATE_FULL, ROOT, SERVER, SERVER_FULL,
    SERVER_KEY, gateway_pki,
};
use crate::support::{
    MQTT_CONNACK_OK, MQTT_CONNECT_DISCONNECT, Mosquitto, Server, closed_port,
    crl_distribution_points, openssl, openssl_text, pki, pki_env, refused_in_one_line,
    register_rows, s_client, sha256_fingerprint, tmp, tree,
};

/// `openssl x509 -serial`: upper-case hex.
fn serial(dir: &Path, cert: &str) -> String {
    let out = openssl(dir, &["x509", "-in", cert, "-noout", "-serial"]).expect(0);
    out.stdout.trim().trim_start_matches("serial=").to_owned()
}

/// The serial of the certificate the gateway on `port` serves, as `openssl s_client` sees it
/// (verifying it against the root, for `localhost`).
fn served_serial(dir: &Path, port: u16) -> String {
    let h = s_client(dir, port)
        .ca_file(ROOT)
        .servername("localhost")
        .verify_hostname("localhost")
        .verify_return_error()
        .run();
    assert_eq!(h.verify_code, Some(0), "{}", h.text());
    let file = dir.join("served.pem");
    std::fs::write(&file, &h.stdout).unwrap();
    serial(dir, "served.pem")
}

/// What `openssl x509 -text` says of a certificate apart from what a renewal changes: the
/// subject, the issuer and the extensions without the key identifiers.
fn same_parts(dir: &Path, cert: &str) -> String {
    let text = openssl_text(dir, cert);
    let mut out = String::new();
    let mut skip_deeper_than = None;
    let mut in_extensions = false;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(d) = skip_deeper_than {
            if indent > d {
                continue;
            }
            skip_deeper_than = None;
        }
        let t = line.trim();
        if t.starts_with("Subject:") || t.starts_with("Issuer:") {
            out += line;
            out.push('\n');
        }
        if t == "X509v3 extensions:" {
            in_extensions = true;
            continue;
        }
        if in_extensions && indent <= 4 {
            in_extensions = false;
        }
        if !in_extensions {
            continue;
        }
        if t.starts_with("X509v3 Subject Key Identifier")
            || t.starts_with("X509v3 Authority Key Identifier")
        {
            skip_deeper_than = Some(indent);
            continue;
        }
        out += line;
        out.push('\n');
    }
    assert!(out.contains("X509v3"), "no extensions in\n{text}");
    out
}

/// `openssl verify -CAfile CA ARGS` in `dir` succeeds.
#[track_caller]
fn verifies(dir: &Path, ca: &str, args: &[&str]) {
    let v = openssl_verify(dir, ca, args);
    assert_eq!(v.code, 0, "{args:?}: {}{}", v.stdout, v.stderr);
}

/// `openssl verify -CAfile CA ARGS` in `dir` fails.
#[track_caller]
fn does_not_verify(dir: &Path, ca: &str, args: &[&str]) {
    let v = openssl_verify(dir, ca, args);
    assert_ne!(v.code, 0, "{args:?}: {}{}", v.stdout, v.stderr);
}

fn openssl_verify(dir: &Path, ca: &str, args: &[&str]) -> crate::support::Run {
    let mut all = vec!["verify", "-CAfile", ca];
    all.extend(args);
    openssl(dir, &all)
}

/// Every file of `private/` is mode 0600 (Unix modes; nothing to check on Windows).
#[cfg(not(unix))]
fn keys_are_private(_dir: &Path) {}

/// Every file of `private/` is mode 0600.
#[cfg(unix)]
fn keys_are_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for e in std::fs::read_dir(dir.join("pki/private"))
        .unwrap()
        .flatten()
    {
        let mode = e.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", e.path().display());
    }
}

#[test]
fn a_renewal_is_served_by_mosquitto_after_the_hook_and_a_broken_gateway_rolls_back() {
    let d = gateway_pki();
    let dir = d.path();
    let broker = Mosquitto::start(dir, ROOT, SERVER_FULL, SERVER_KEY, false);
    let first = serial(dir, SERVER);
    assert_eq!(served_serial(dir, broker.port()), first);
    let reload = format!("kill -HUP {}", broker.pid());

    // The hook reloads mosquitto (it reloads its certificates on SIGHUP), --verify checks it.
    let r = pki(
        dir,
        &[
            "renew",
            SERVER,
            "--exec",
            &reload,
            "--verify",
            &broker.addr(),
            "--servername",
            "localhost",
            "--json",
        ],
    )
    .expect(0);
    let renewed = serial(dir, SERVER);
    assert_ne!(renewed, first);
    let doc = r.json();
    let one = &doc["renewals"][0];
    assert_eq!(one["result"], "renewed");
    assert_eq!(one["hook"]["ok"], true);
    assert_eq!(one["verification"]["passed"], true);
    assert_eq!(one["verification"]["served_serial"], renewed.as_str());
    assert_eq!(served_serial(dir, broker.port()), renewed);

    // A hook that breaks the gateway on the renewal (garbage where mosquitto reads its chain:
    // it keeps serving what it had) and reloads the restored files on the rollback.
    let chain = dir.join(SERVER_FULL);
    let breaking = format!(
        "if [ \"$PKI_RENEW_PHASE\" = renew ]; then echo garbage > '{}'; fi; {reload}",
        chain.display()
    );
    let r = pki(
        dir,
        &[
            "renew",
            "localhost",
            "--exec",
            &breaking,
            "--verify",
            &broker.addr(),
            "--servername",
            "localhost",
            "--verify-wait",
            "2",
        ],
    )
    .expect(1);
    assert!(r.stdout.contains("ROLLED BACK"), "{}", r.stdout);
    assert!(
        r.stdout.contains("still serves another certificate"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("rollback hook:"), "{}", r.stdout);
    // The old files are back, served again, and still the register's certificate in service.
    assert_eq!(serial(dir, SERVER), renewed);
    assert_eq!(serial(dir, SERVER_FULL), renewed);
    assert_eq!(served_serial(dir, broker.port()), renewed);
    let in_service: Vec<serde_json::Value> = register_rows(dir, &["--cn", "localhost"])
        .into_iter()
        .filter(|l| l["status"] == "issued")
        .collect();
    assert_eq!(in_service.len(), 1, "{in_service:?}");
    assert_eq!(in_service[0]["serial"], renewed.as_str());
    keys_are_private(dir);
}

#[test]
fn renewed_certificates_equal_the_originals_and_verify_for_their_purpose() {
    let d = tmp();
    let dir = d.path();
    for args in [
        &["create-owner-ca"][..],
        &["create-intermediate-ca"],
        &["create-edge-ca", "gw"],
        &[
            "issue",
            "server",
            "gw.example.com",
            "--san",
            "10.0.0.4",
            "--san",
            "gw2.example.com",
            "--issuer",
            "edge-ca:gw",
        ],
        &["issue", "device", "dev-1"],
    ] {
        pki(dir, args).expect(0);
    }
    let certs = "pki/certs";
    // CAs first: what they sign afterwards is signed with their new key.
    for (prefix, purpose) in [
        ("azure-iot-test-only.intermediate", None),
        ("iot-edge-device-ca-gw", None),
        ("iot-edge-server-gw.example.com", Some("sslserver")),
        ("iot-device-dev-1", Some("sslclient")),
    ] {
        let cert = format!("{certs}/{prefix}.cert.pem");
        let full = format!("{certs}/{prefix}-full-chain.cert.pem");
        let (before, old) = (same_parts(dir, &cert), serial(dir, &cert));
        let r = pki(dir, &["renew", &cert]).expect(0);
        assert!(r.stdout.starts_with("renewed "), "{}", r.stdout);
        assert_ne!(serial(dir, &cert), old, "{prefix}");
        assert_eq!(same_parts(dir, &cert), before, "{prefix}");
        let mut args = vec!["-untrusted", full.as_str()];
        if let Some(p) = purpose {
            args.extend(["-purpose", p]);
        }
        args.push(&cert);
        verifies(dir, ROOT, &args);
        // The replaced files are kept under the old serial.
        for kept in [
            format!("pki/certs/{prefix}.{old}.cert.pem"),
            format!("pki/certs/{prefix}.{old}-full-chain.cert.pem"),
            format!("pki/private/{prefix}.{old}.key.pem"),
        ] {
            assert!(dir.join(&kept).is_file(), "{kept}");
        }
    }
    let server = format!("{certs}/iot-edge-server-gw.example.com.cert.pem");
    let text = openssl_text(dir, &server);
    assert!(
        text.contains("DNS:gw.example.com") && text.contains("IP Address:10.0.0.4"),
        "{text}"
    );
    keys_are_private(dir);
}

#[test]
fn the_register_supersedes_the_old_row_with_the_new_ones_sha256() {
    let d = gateway_pki();
    let dir = d.path();
    let old_sha = sha256_fingerprint(dir, DEVICE);
    let old = serial(dir, DEVICE);
    pki(dir, &["renew", "downstream-device-1", "--reuse-key"]).expect(0);
    let new_sha = sha256_fingerprint(dir, DEVICE);
    let rows = register_rows(dir, &[]);
    let row = |sha: &str| {
        rows.iter()
            .find(|r| r["sha256"] == sha)
            .unwrap_or_else(|| panic!("no row {sha} in {rows:?}"))
            .clone()
    };
    let (was, is) = (row(&old_sha), row(&new_sha));
    assert_eq!(was["status"], "superseded");
    assert_eq!(was["superseded_by"], new_sha.as_str());
    assert_eq!(
        was["path"],
        format!("certs/iot-device-downstream-device-1.{old}.cert.pem").as_str()
    );
    assert_eq!(is["status"], "issued");
    assert_eq!(is["path"], "certs/iot-device-downstream-device-1.cert.pem");
    let superseded = pki(dir, &["list", "--superseded"]).expect(0);
    assert!(superseded.stdout.contains(&old), "{}", superseded.stdout);
    // --reuse-key: the same key, so no key was kept.
    assert!(
        !dir.join(format!(
            "pki/private/iot-device-downstream-device-1.{old}.key.pem"
        ))
        .exists()
    );
}

#[test]
fn children_of_a_renewed_ca_keep_verifying_and_list_shows_what_hangs_from_the_old_one() {
    let d = gateway_pki();
    let dir = d.path();
    let old = serial(dir, INTERMEDIATE);
    let r = pki(dir, &["renew", "intermediate"]).expect(0);
    assert!(r.stdout.contains("still under old"), "{}", r.stdout);
    let kept = format!("pki/certs/azure-iot-test-only.intermediate.{old}.cert.pem");
    // Issued before: verifies with its own full chain (the old intermediate in it), not with
    // the new intermediate.
    verifies(dir, ROOT, &["-untrusted", DEVICE_FULL, DEVICE]);
    verifies(dir, ROOT, &["-untrusted", &kept, DEVICE]);
    // Issued after: under the new intermediate.
    pki(
        dir,
        &["issue", "device", "after-1", "--issuer", "intermediate"],
    )
    .expect(0);
    let after = "pki/certs/iot-device-after-1.cert.pem";
    verifies(
        dir,
        ROOT,
        &[
            "-untrusted",
            INTERMEDIATE_FULL,
            "-purpose",
            "sslclient",
            after,
        ],
    );
    // The old intermediate cannot vouch for a child of the new one.
    does_not_verify(dir, ROOT, &["-untrusted", &kept, after]);
    // pki list --issuer OLD_FILE: what still hangs from the old intermediate.
    let under_old = register_rows(dir, &["--issuer", &kept]);
    assert!(!under_old.is_empty());
    assert!(
        under_old.iter().all(|r| r["common_name"] != "after-1"),
        "{under_old:?}"
    );
    let under_new = register_rows(dir, &["--issuer", "intermediate"]);
    assert!(
        under_new.iter().any(|r| r["common_name"] == "after-1"),
        "{under_new:?}"
    );
}

#[test]
fn renewing_the_root_is_a_rollover_with_a_transition_bundle() {
    let d = gateway_pki();
    let dir = d.path();
    let old = serial(dir, ROOT);
    let r = pki(dir, &["renew", "root", "--json"]).expect(0);
    let doc = r.json();
    let one = &doc["renewals"][0];
    assert_eq!(one["profile"], "root-ca");
    let reissue = one["rollover"]["to_reissue"].as_array().unwrap();
    let profiles: Vec<&str> = reissue
        .iter()
        .map(|c| c["profile"].as_str().unwrap())
        .collect();
    assert_eq!(profiles.first(), Some(&"intermediate-ca"), "{profiles:?}");
    assert!(
        profiles.contains(&"server") && profiles.contains(&"device"),
        "{profiles:?}"
    );
    let bundle = "pki/certs/azure-iot-test-only.root.ca.transition.pem";
    let text = std::fs::read_to_string(dir.join(bundle)).unwrap();
    assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 2);
    assert_ne!(serial(dir, ROOT), old);
    assert!(
        dir.join(format!(
            "pki/private/azure-iot-test-only.root.ca.{old}.key.pem"
        ))
        .is_file()
    );
    // The old chain still verifies against the transition bundle, as devices that have it do.
    verifies(dir, bundle, &["-untrusted", SERVER_FULL, SERVER]);
    // Re-issued under the new root: the intermediate is signed by it.
    let r = pki(dir, &["renew", "intermediate"]).expect(0);
    assert!(r.stdout.contains("renewed since"), "{}", r.stdout);
    verifies(dir, ROOT, &[INTERMEDIATE]);
    keys_are_private(dir);
}

#[test]
fn expiring_renews_each_certificate_in_its_own_transaction() {
    let d = gateway_pki();
    let dir = d.path();
    // Quickstart's edge CA, server and device live a year; the CAs above them longer.
    let r = pki(dir, &["renew", "--expiring", "400d", "--json"]).expect(0);
    let doc = r.json();
    let renewals = doc["renewals"].as_array().unwrap();
    assert!(renewals.len() >= 3, "{doc}");
    assert!(renewals.iter().all(|o| o["result"] == "renewed"), "{doc}");
    assert_eq!(renewals[0]["profile"], "edge-ca", "CAs first");
    // Nothing left to renew in that window but what was just issued.
    verifies(
        dir,
        ROOT,
        &["-untrusted", SERVER_FULL, "-purpose", "sslserver", SERVER],
    );
}

#[test]
fn bad_input_is_refused_and_a_failing_hook_or_gateway_rolls_back() {
    let d = gateway_pki();
    let dir = d.path();
    let before = tree(dir);

    // An unknown device id: one line, exit 2, nothing changed.
    let r = pki(dir, &["renew", "no-such-device"]);
    refused_in_one_line(&r, &["renew", "no-such-device"], "no-such-device");
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);

    // A garbage certificate file.
    std::fs::write(dir.join("garbage.pem"), "not a certificate\n").unwrap();
    let r = pki(dir, &["renew", "garbage.pem"]);
    refused_in_one_line(&r, &["renew", "garbage.pem"], "garbage.pem");
    std::fs::remove_file(dir.join("garbage.pem")).unwrap();
    assert_eq!(tree(dir), before);

    // A hook that does not exist: rolled back, exit 1, the files and the register as they were.
    let old = serial(dir, SERVER);
    let r = pki(
        dir,
        &["renew", SERVER, "--exec", "/nonexistent/reload-gateway"],
    )
    .expect(1);
    assert!(
        r.stdout.contains("ROLLED BACK") && r.stdout.contains("exit 127"),
        "{}",
        r.stdout
    );
    assert_eq!(serial(dir, SERVER), old);
    assert_eq!(tree(dir), before);

    // An unreachable --verify target: rolled back within the timeout.
    let start = Instant::now();
    let port = closed_port().to_string();
    let target = format!("127.0.0.1:{port}");
    let r = pki(
        dir,
        &[
            "renew",
            SERVER,
            "--verify",
            &target,
            "--timeout",
            "1",
            "--verify-wait",
            "1",
            "--json",
        ],
    )
    .expect(1);
    assert!(start.elapsed() < Duration::from_secs(20));
    assert_eq!(r.json()["renewals"][0]["result"], "rolled_back");
    assert_eq!(serial(dir, SERVER), old);
    assert_eq!(tree(dir), before);
    let rows = register_rows(dir, &["--superseded"]);
    assert!(rows.is_empty(), "{rows:?}");

    // A certificate the register does not hold (issued by this directory's CA, recorded in
    // another register): refused with --adopt offered; --adopt records and renews it.
    pki(
        dir,
        &["--register", "other.sqlite3", "issue", "device", "stray-1"],
    )
    .expect(0);
    let stray = "pki/certs/iot-device-stray-1.cert.pem";
    let r = pki(dir, &["renew", stray]);
    refused_in_one_line(&r, &["renew", stray], "--adopt");
    let was = serial(dir, stray);
    let r = pki(dir, &["renew", stray, "--adopt"]).expect(0);
    assert!(r.stdout.contains("adopted"), "{}", r.stdout);
    assert_ne!(serial(dir, stray), was);
    // One that no CA of the directory issued cannot be adopted.
    let other = tmp();
    pki(other.path(), &["quickstart", "--gateway", "elsewhere"]).expect(0);
    let foreign = other
        .path()
        .join("pki/certs/iot-edge-server-elsewhere.cert.pem");
    let foreign = foreign.to_str().unwrap();
    let r = pki(dir, &["renew", foreign, "--adopt"]);
    refused_in_one_line(&r, &["renew", foreign, "--adopt"], "cannot be adopted");
    keys_are_private(dir);
}

#[test]
fn the_hook_never_sees_pkis_secrets() {
    let d = gateway_pki();
    let dir = d.path();
    let seen = dir.join("hook-env.txt");
    let hook = format!("env > '{}'", seen.display());
    let secrets = [
        ("PKI_KEY_PASSWORD", "key-pw-31337"),
        ("C8Y_PASSWORD", "c8y-pw-31337"),
        ("PKI_PKCS11_PIN", "pin-31337"),
        (
            "IOTHUB_DEVICE_CONNECTION_STRING",
            "HostName=h;DeviceId=d;SharedAccessKey=sak31337",
        ),
    ];
    pki_env(dir, &["renew", SERVER, "--exec", &hook], &secrets).expect(0);
    let env = std::fs::read_to_string(&seen).unwrap();
    assert!(
        env.contains("PKI_RENEW_PHASE="),
        "the hook ran with its own variables:\n{env}"
    );
    for (name, value) in secrets {
        assert!(
            !env.contains(value) && !env.contains(&format!("{name}=")),
            "{name} reached the hook"
        );
    }
    // A register URL's password neither.
    let url = crate::support::Postgres::stopped_url();
    let r = pki_env(
        dir,
        &["renew", SERVER, "--exec", &hook],
        &[("PKI_REGISTER", &url)],
    );
    assert_eq!(
        r.code, 2,
        "an unreachable register: nothing renewed, no hook"
    );
    assert!(!seen.exists() || !std::fs::read_to_string(&seen).unwrap().contains(&url));
}

#[test]
fn a_certificate_with_a_crl_distribution_point_keeps_it_when_renewed() {
    let d = gateway_pki();
    let dir = d.path();
    pki(dir, &["crl-url", "http://crl.example.com/{ca}.crl"]).expect(0);
    pki(dir, &["issue", "device", "dev-cdp"]).expect(0);
    let cert = "pki/certs/iot-device-dev-cdp.cert.pem";
    let before = crl_distribution_points(dir, cert);
    assert!(before.contains("URI:http://crl.example.com/"), "{before}");
    // The directory's URL changes later: a renewal keeps what the certificate had.
    pki(dir, &["crl-url", "http://other.example.com/{ca}.crl"]).expect(0);
    pki(dir, &["renew", "dev-cdp"]).expect(0);
    assert_eq!(crl_distribution_points(dir, cert), before);
}

#[test]
fn verify_presents_a_device_certificate_to_a_gateway_that_requires_one() {
    let d = gateway_pki();
    let dir = d.path();
    // The mosquitto of docs/guide/revocation.md: require_certificate true.
    let broker = Mosquitto::start(dir, ROOT, SERVER_FULL, SERVER_KEY, true);
    let reload = format!("kill -HUP {}", broker.pid());
    let first = serial(dir, SERVER);
    let addr = broker.addr();
    let renew = |client: &[&str]| {
        let mut args = vec![
            "renew",
            SERVER,
            "--exec",
            &reload,
            "--verify",
            &addr,
            "--servername",
            "localhost",
            "--verify-wait",
            "1",
        ];
        args.extend_from_slice(client);
        pki(dir, &args)
    };
    // Without a device certificate the check cannot pass: rolled back, saying which flags.
    let r = renew(&[]).expect(1);
    assert!(r.stdout.contains("ROLLED BACK"), "{}", r.stdout);
    assert!(r.stdout.contains("give --cert and --key"), "{}", r.stdout);
    assert_eq!(serial(dir, SERVER), first);
    // With one, the gateway accepts the device and serves the new certificate: kept.
    let r = renew(&["--cert", DEVICE_FULL, "--key", DEVICE_KEY, "--json"]).expect(0);
    let one = &r.json()["renewals"][0];
    assert_eq!(one["result"], "renewed", "{one}");
    assert_eq!(one["verification"]["passed"], true, "{one}");
    let renewed = serial(dir, SERVER);
    assert_ne!(renewed, first);
    assert_eq!(one["verification"]["served_serial"], renewed.as_str());
    // The broker serves it, and a device presenting its certificate is let in (s_client).
    let h = s_client(dir, broker.port())
        .ca_file(ROOT)
        .servername("localhost")
        .verify_hostname("localhost")
        .verify_return_error()
        .args(&["-cert", DEVICE, "-cert_chain", INTERMEDIATE_FULL])
        .args(&["-key", DEVICE_KEY, "-ign_eof"])
        .stdin(MQTT_CONNECT_DISCONNECT)
        .run();
    assert_eq!(h.verify_code, Some(0), "{}", h.text());
    assert!(h.stdout.contains(MQTT_CONNACK_OK), "{}", h.text());
    verifies(dir, ROOT, &["-untrusted", SERVER_FULL, SERVER]);
    // A device certificate without --verify has nothing to be presented to.
    let r = pki(
        dir,
        &["renew", SERVER, "--cert", DEVICE_FULL, "--key", DEVICE_KEY],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--verify"), "{}", r.stderr);
    assert_eq!(serial(dir, SERVER), renewed);
}

#[test]
fn a_rollback_hook_that_removes_the_files_is_reported_not_the_old_files_are_back() {
    let d = gateway_pki();
    let dir = d.path();
    let before = std::fs::read(dir.join(SERVER)).unwrap();
    // The renewal's hook fails; the rollback's removes the certificate it was to reload.
    let hook = format!(
        "if [ \"$PKI_RENEW_PHASE\" = rollback ]; then rm -f '{}'; exit 0; fi; exit 3",
        dir.join(SERVER).display()
    );
    let r = pki(dir, &["renew", SERVER, "--exec", &hook]).expect(1);
    assert!(r.stdout.contains("ROLLED BACK"), "{}", r.stdout);
    assert!(!dir.join(SERVER).exists());
    assert!(
        r.stdout.contains(&format!(
            "WARNING: {} is not as it was before the renewal",
            dir.join(SERVER).display()
        )) || r
            .stdout
            .contains(&format!("WARNING: {SERVER} is not as it was")),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("the old files are back"), "{}", r.stdout);
    // --json names the files that are not back.
    std::fs::write(dir.join(SERVER), &before).unwrap();
    let r = pki(dir, &["--json", "renew", SERVER, "--exec", &hook]).expect(1);
    let one = &r.json()["renewals"][0];
    assert_eq!(one["result"], "rolled_back", "{one}");
    let missing = one["not_restored"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{one}");
    assert!(missing[0].as_str().unwrap().ends_with(SERVER), "{one}");
}

#[test]
fn a_hooks_pki_that_writes_the_register_fails_fast_instead_of_waiting_for_the_timeout() {
    // The renewal holds the register's write lock until its hook and check confirm it; a
    // `pki crl` in the hook cannot have it. It says so at once, rather than waiting until
    // --exec-timeout kills the hook.
    let d = gateway_pki();
    let dir = d.path();
    let hook = format!("'{}' crl --all", env!("CARGO_BIN_EXE_pki"));
    let start = Instant::now();
    let r = pki(
        dir,
        &["renew", SERVER, "--exec", &hook, "--exec-timeout", "40"],
    )
    .expect(1);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
    assert!(r.stdout.contains("ROLLED BACK"), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("is locked by the `pki renew` whose hook runs this pki"),
        "{}",
        r.stderr
    );
}
