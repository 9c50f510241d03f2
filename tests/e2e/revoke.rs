//! Revocation the gateway enforces: `pki revoke` and `pki crl` against a real mosquitto that
//! checks CRLs, `openssl verify -crl_check` and `openssl crl` as the oracle, CRL numbers, the
//! CRL distribution point, `pki list --revoked`, revoking a CA, and bad input.

use std::path::Path;

use crate::support::quickstart::{
    DEVICE, DEVICE_KEY, INTERMEDIATE, INTERMEDIATE_FULL, ROOT, SERVER_FULL, SERVER_KEY, gateway_pki,
};
use crate::support::{
    Handshake, MQTT_CONNACK_OK, MQTT_CONNECT_DISCONNECT, Mosquitto, Server,
    crl_distribution_points, fails_cleanly, openssl, pki, s_client, tmp, tree,
};
#[cfg(unix)] // the huge batch runs under ulimit
use crate::support::{refused_in_one_line, run_bounded};

/// The CRL of every CA in one PEM file (`pki crl --all`).
const ALL_CRLS: &str = "pki/crl/all.crl.pem";
/// The intermediate's CRL.
const INTERMEDIATE_CRL: &str = "pki/crl/azure-iot-test-only.intermediate.crl.pem";
/// The second device of the lot.
const OTHER: &str = "pki/certs/iot-device-downstream-device-2.cert.pem";
const OTHER_KEY: &str = "pki/private/iot-device-downstream-device-2.key.pem";

/// The quickstart PKI with the devices `downstream-device-1` to `downstream-device-N` of the
/// intermediate.
fn lot(n: u32) -> tempfile::TempDir {
    let d = gateway_pki();
    for i in 2..=n {
        pki(
            d.path(),
            &["issue", "device", &format!("downstream-device-{i}")],
        )
        .expect(0);
    }
    d
}

/// `openssl verify -crl_check` (or `-crl_check_all`) of `leaf` against the root, the
/// intermediate and `crls`: its exit code and everything it printed.
fn verify_with_crl(p: &Path, leaf: &str, crls: &str, all: bool) -> (i32, String) {
    let check = if all { "-crl_check_all" } else { "-crl_check" };
    let r = openssl(
        p,
        &[
            "verify",
            check,
            "-CRLfile",
            crls,
            "-CAfile",
            ROOT,
            "-untrusted",
            INTERMEDIATE,
            leaf,
        ],
    );
    (r.code, format!("{}{}", r.stdout, r.stderr))
}

/// A device (its certificate, the intermediate, its key) connecting to `broker` over mutual TLS
/// and sending an MQTT CONNECT, as `openssl s_client` (reading until the broker closes, so that
/// a refusal after a TLS 1.3 handshake is seen).
fn mqtt_connect(p: &Path, broker: &Mosquitto, cert: &str, key: &str) -> Handshake {
    s_client(p, broker.port())
        .ca_file(ROOT)
        .verify_return_error()
        .verify_hostname("localhost")
        .args(&[
            "-cert",
            cert,
            "-cert_chain",
            INTERMEDIATE_FULL,
            "-key",
            key,
            "-ign_eof",
        ])
        .stdin(MQTT_CONNECT_DISCONNECT)
        .run()
}

/// The CRL number `openssl crl` reads from `crl`.
fn crl_number(p: &Path, crl: &str) -> u64 {
    let r = openssl(p, &["crl", "-in", crl, "-noout", "-crlnumber"]).expect(0);
    let hex = r.stdout.trim().trim_start_matches("crlNumber=0x");
    u64::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("{}", r.stdout))
}

#[test]
fn mosquitto_refuses_a_revoked_device_and_accepts_its_lot_mate() {
    let d = lot(2);
    let p = d.path();
    let r = pki(
        p,
        &["revoke", "downstream-device-1", "--reason", "keyCompromise"],
    )
    .expect(0);
    assert!(
        r.stdout
            .starts_with("revoked device certificate CN = downstream-device-1"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("pki crl --all"), "{}", r.stderr);
    pki(p, &["crl", "--all"]).expect(0);

    // OpenSSL, the oracle: 23 for the revoked device, OK for the other (leaf and whole chain).
    for all in [false, true] {
        let (code, said) = verify_with_crl(p, DEVICE, ALL_CRLS, all);
        assert_ne!(code, 0, "{said}");
        assert!(
            said.contains("error 23 at 0 depth lookup: certificate revoked"),
            "{said}"
        );
        let (code, said) = verify_with_crl(p, OTHER, ALL_CRLS, all);
        assert_eq!(code, 0, "{said}");
        assert!(said.contains(": OK"), "{said}");
    }
    // The intermediate's own CRL is the one -crl_check needs for a device.
    let (_, said) = verify_with_crl(p, DEVICE, INTERMEDIATE_CRL, false);
    assert!(said.contains("error 23 at 0"), "{said}");

    // A real mosquitto with the combined file as its crlfile.
    let broker = Mosquitto::start_with_crl(p, ROOT, SERVER_FULL, SERVER_KEY, ALL_CRLS);
    let device = |cert: &str, key: &str| mqtt_connect(p, &broker, cert, key);
    let ok = device(OTHER, OTHER_KEY);
    assert!(
        ok.stdout.contains(MQTT_CONNACK_OK),
        "no CONNACK:\n{}{}\n{}",
        ok.stdout,
        ok.stderr,
        broker.output()
    );
    let refused = device(DEVICE, DEVICE_KEY);
    assert!(
        !refused.stdout.contains(MQTT_CONNACK_OK),
        "the revoked device connected:\n{}",
        refused.stdout
    );
    assert!(
        refused.stderr.contains("certificate revoked")
            || broker.output().contains("certificate revoked"),
        "{}\n{}",
        refused.stderr,
        broker.output()
    );
}

#[test]
fn crls_parse_show_their_reasons_and_their_numbers_increase() {
    let d = lot(4);
    let p = d.path();
    // By device id, by serial with colons, by file.
    pki(
        p,
        &[
            "revoke",
            "downstream-device-2",
            "--reason",
            "cessationOfOperation",
        ],
    )
    .expect(0);
    let serial = openssl(
        p,
        &[
            "x509",
            "-in",
            "pki/certs/iot-device-downstream-device-3.cert.pem",
            "-noout",
            "-serial",
        ],
    )
    .expect(0)
    .stdout
    .trim()
    .trim_start_matches("serial=")
    .to_owned();
    let colons: Vec<String> = serial
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_lowercase())
        .collect();
    // A time given: the certificate's notBefore, the earliest a revocation may be dated.
    let device3 = "pki/certs/iot-device-downstream-device-3.cert.pem";
    let at = pki(p, &["--json", "show", device3]).expect(0).json()["certificates"][0]["not_before"]
        .as_str()
        .unwrap()
        .to_owned();
    let start = openssl(p, &["x509", "-in", device3, "-noout", "-startdate"])
        .expect(0)
        .stdout
        .trim()
        .trim_start_matches("notBefore=")
        .to_owned();
    pki(
        p,
        &[
            "revoke",
            &colons.join(":"),
            "--reason",
            "superseded",
            "--at",
            &at,
        ],
    )
    .expect(0);
    pki(
        p,
        &[
            "revoke",
            "pki/certs/iot-device-downstream-device-4.cert.pem",
        ],
    )
    .expect(0);

    let first = pki(p, &["--json", "crl", "--all"]).expect(0).json();
    pki(p, &["crl", "--all"]).expect(0);
    let crls = first["crls"].as_array().unwrap();
    assert_eq!(
        crls.len(),
        3,
        "root, intermediate and the edge CA (which revokes gateway certificates): {first}"
    );
    for c in crls {
        for key in ["pem", "der"] {
            let file = c[key].as_str().unwrap();
            let form = if key == "pem" { "PEM" } else { "DER" };
            openssl(p, &["crl", "-in", file, "-inform", form, "-noout", "-text"]).expect(0);
        }
    }
    let text = openssl(p, &["crl", "-in", INTERMEDIATE_CRL, "-noout", "-text"])
        .expect(0)
        .stdout;
    assert!(text.contains("Version 2"), "{text}");
    assert!(text.contains("X509v3 Authority Key Identifier"), "{text}");
    assert!(text.contains("Cessation Of Operation"), "{text}");
    assert!(text.contains("Superseded"), "{text}");
    assert!(text.contains(&serial), "{text}");
    assert!(
        text.contains(&format!("Revocation Date: {start}")),
        "{start}: {text}"
    );
    assert_eq!(text.matches("Serial Number:").count(), 3, "{text}");
    // The AKI of the CRL is the intermediate's SKI: openssl finds its issuer by it.
    openssl(
        p,
        &[
            "crl",
            "-in",
            INTERMEDIATE_CRL,
            "-noout",
            "-CAfile",
            INTERMEDIATE,
        ],
    )
    .expect(0);
    // The number increased across the two runs, by one.
    assert_eq!(
        crl_number(p, INTERMEDIATE_CRL),
        crls[1]["number"].as_u64().unwrap() + 1
    );
    assert_eq!(crl_number(p, INTERMEDIATE_CRL), 2);
    // A single CA's CRL, valid for 30 days.
    pki(p, &["crl", "--issuer", "root", "--days", "30"]).expect(0);
    assert_eq!(
        crl_number(p, "pki/crl/azure-iot-test-only.root.ca.crl.pem"),
        3
    );

    // pki list --revoked shows them, with their state.
    let listed = pki(p, &["list", "--revoked"]).expect(0).stdout;
    assert_eq!(
        listed.lines().filter(|l| l.starts_with("revoked ")).count(),
        3,
        "{listed}"
    );
    let rows = pki(p, &["--json", "list"]).expect(0).stdout;
    let revoked: Vec<serde_json::Value> = rows
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["state"] == "revoked")
        .collect();
    assert_eq!(revoked.len(), 3);
    assert!(
        revoked
            .iter()
            .any(|r| r["revocation_reason"] == "superseded" && r["revoked_at"] == at.as_str())
    );
}

#[test]
fn a_recalled_lot_is_revoked_in_one_transaction() {
    let d = lot(5);
    let p = d.path();
    let list = || pki(p, &["--json", "list", "--revoked"]).expect(0).stdout;
    // A bad line (here the fourth, a cut serial) revokes nothing and names its line.
    std::fs::write(
        p.join("lot.txt"),
        "# lot 7\ndownstream-device-2\n\n4A3F9\ndownstream-device-3\n",
    )
    .unwrap();
    let r = fails_cleanly(
        p,
        &["revoke", "--batch", "lot.txt"],
        "lot.txt:4: \"4A3F9\"",
        list,
    );
    assert!(
        r.stderr.contains("no certificate in the register"),
        "{}",
        r.stderr
    );
    // Binary garbage: named by its line too.
    std::fs::write(
        p.join("garbage.txt"),
        b"downstream-device-2\n\xff\xfe\x00\x01\n",
    )
    .unwrap();
    fails_cleanly(
        p,
        &["revoke", "--batch", "garbage.txt"],
        "garbage.txt:2: ",
        list,
    );
    // The lot, one of it already revoked.
    pki(p, &["revoke", "downstream-device-3"]).expect(0);
    std::fs::write(p.join("lot.txt"), "downstream-device-2\ndownstream-device-3\npki/certs/iot-device-downstream-device-4.cert.pem\n").unwrap();
    let r = pki(
        p,
        &[
            "--json",
            "revoke",
            "--batch",
            "lot.txt",
            "--reason",
            "privilegeWithdrawn",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(
        (r["revoked"].as_u64(), r["already_revoked"].as_u64()),
        (Some(2), Some(1)),
        "{r}"
    );
    assert_eq!(r["certificates"][1]["line"], 2);
    assert_eq!(list().lines().count(), 3);
}

#[test]
fn revoking_twice_says_so_and_changes_nothing() {
    let d = gateway_pki();
    let p = d.path();
    pki(
        p,
        &["revoke", "downstream-device-1", "--reason", "keyCompromise"],
    )
    .expect(0);
    let before = pki(p, &["--json", "list", "--revoked"]).expect(0).stdout;
    let r = pki(
        p,
        &[
            "revoke",
            "downstream-device-1",
            "--reason",
            "affiliationChanged",
        ],
    )
    .expect(0);
    assert!(
        r.stdout
            .starts_with("already revoked: device certificate CN = downstream-device-1"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("(keyCompromise); nothing changed"),
        "{}",
        r.stdout
    );
    assert_eq!(
        pki(p, &["--json", "list", "--revoked"]).expect(0).stdout,
        before
    );
}

#[test]
fn revoking_a_ca_lists_what_hangs_below_it() {
    let d = gateway_pki();
    let p = d.path();
    let r = pki(
        p,
        &[
            "revoke",
            "pki/certs/azure-iot-test-only.intermediate.cert.pem",
            "--reason",
            "cACompromise",
        ],
    )
    .expect(0);
    let below: Vec<&str> = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("below the revoked CA: 3 certificate(s)"))
        .skip(1)
        .collect();
    // The edge CA, the server it issued (recursively) and the device.
    assert_eq!(below.len(), 3, "{}", r.stdout);
    for cn in ["edge-gateway.ca", "localhost", "downstream-device-1"] {
        assert!(
            below.iter().any(|l| l.contains(&format!("CN = {cn} "))),
            "{cn}: {}",
            r.stdout
        );
    }
    assert!(r.stdout.contains("pki crl --all"), "{}", r.stdout);
    assert!(r.stdout.contains("still accepts them"), "{}", r.stdout);
    // The root's CRL lists the intermediate: every device below fails -crl_check_all.
    pki(p, &["crl", "--all"]).expect(0);
    let (_, said) = verify_with_crl(p, DEVICE, ALL_CRLS, true);
    assert!(
        said.contains("error 23 at 1 depth lookup: certificate revoked"),
        "{said}"
    );
    // mosquitto checks a client's own certificate only (as -crl_check): the device still
    // connects, which is why the report says to revoke what hangs below too.
    let (code, _) = verify_with_crl(p, DEVICE, ALL_CRLS, false);
    assert_eq!(code, 0);
    let broker = Mosquitto::start_with_crl(p, ROOT, SERVER_FULL, SERVER_KEY, ALL_CRLS);
    let r = mqtt_connect(p, &broker, DEVICE, DEVICE_KEY);
    assert!(
        r.stdout.contains(MQTT_CONNACK_OK),
        "{}{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn certificates_carry_the_crl_distribution_point() {
    let d = gateway_pki();
    let p = d.path();
    let cdp = |cert: &str| crl_distribution_points(p, cert);
    pki(p, &["issue", "device", "plain"]).expect(0);
    assert!(!cdp("pki/certs/iot-device-plain.cert.pem").contains("URI:"));
    pki(p, &["crl-url", "http://pki.example/crl/{ca}.crl.der"]).expect(0);
    assert_eq!(
        pki(p, &["crl-url"]).expect(0).stdout,
        "CRL distribution point: http://pki.example/crl/{ca}.crl.der\n"
    );
    pki(p, &["issue", "device", "with-default"]).expect(0);
    assert!(
        cdp("pki/certs/iot-device-with-default.cert.pem")
            .contains("URI:http://pki.example/crl/azure-iot-test-only.intermediate.crl.der"),
        "{}",
        cdp("pki/certs/iot-device-with-default.cert.pem")
    );
    pki(
        p,
        &[
            "issue",
            "server",
            "gw2.example",
            "--issuer",
            "root",
            "--crl-url",
            "https://other.example/root.crl",
        ],
    )
    .expect(0);
    assert!(
        cdp("pki/certs/iot-edge-server-gw2.example.cert.pem")
            .contains("URI:https://other.example/root.crl")
    );
    std::fs::write(p.join("ids.txt"), "batch-1\n").unwrap();
    pki(p, &["issue", "device", "--batch", "ids.txt"]).expect(0);
    assert!(cdp("pki/certs/iot-device-batch-1.cert.pem").contains("URI:http://pki.example/crl/"));
    pki(p, &["crl-url", "--unset"]).expect(0);
    pki(p, &["issue", "device", "after-unset"]).expect(0);
    assert!(!cdp("pki/certs/iot-device-after-unset.cert.pem").contains("URI:"));
    fails_cleanly(
        p,
        &["crl-url", "ftp://x/"],
        "CRL URL \"ftp://x/\": give an http://",
        || tree(p),
    );
}

#[test]
fn bad_input_is_one_line_and_changes_nothing() {
    let d = gateway_pki();
    let p = d.path();
    let state = || tree(p);
    fails_cleanly(
        p,
        &["revoke", "7A7A7A7A"],
        "\"7A7A7A7A\": no certificate in the register has this serial or device id",
        state,
    );
    fails_cleanly(
        p,
        &["revoke", "no-such-device"],
        "\"no-such-device\": no certificate",
        state,
    );
    fails_cleanly(
        p,
        &["revoke", "x", "--reason", "stolen"],
        "--reason \"stolen\" is not a revocation reason",
        state,
    );
    fails_cleanly(
        p,
        &["revoke", "--batch", "missing.txt"],
        "cannot read the batch file missing.txt",
        state,
    );
    let foreign = tmp();
    pki(foreign.path(), &["self-signed", "elsewhere"]).expect(0);
    let file = foreign
        .path()
        .join("pki/certs/iot-device-elsewhere.cert.pem");
    fails_cleanly(
        p,
        &["revoke", file.to_str().unwrap()],
        "this certificate is not in the register",
        state,
    );
    fails_cleanly(
        p,
        &["crl", "--issuer", "edge-ca:nope"],
        "does not exist",
        state,
    );
    fails_cleanly(
        p,
        &["crl", "--issuer", "pki/certs/x.pem"],
        "cannot read the CA certificate pki/certs/x.pem",
        state,
    );
    // A missing CA key, and an encrypted one without its password.
    let key = p.join("pki/private/azure-iot-test-only.intermediate.key.pem");
    let saved = std::fs::read(&key).unwrap();
    std::fs::remove_file(&key).unwrap();
    fails_cleanly(
        p,
        &["crl"],
        "the intermediate CA's key signs its CRL: cannot read the key",
        state,
    );
    std::fs::write(p.join("plain.key"), &saved).unwrap();
    openssl(
        p,
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:secret",
            "-in",
            "plain.key",
            "-out",
            key.to_str().unwrap(),
        ],
    )
    .expect(0);
    fails_cleanly(p, &["crl", "--all"], "encrypted", state);
}

/// Issue 23, finding 6: a batch line of 200 MB is refused by its number and its start, never
/// held in memory (pki runs under a 1 GiB address space), and an argument of 100 kB is never
/// echoed whole.
#[test]
#[cfg(unix)] // ulimit
fn a_huge_batch_line_or_argument_is_refused_by_its_start_without_being_held() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    pki(p, &["issue", "device", "dev-1"]).expect(0);
    let mut lot = b"dev-1\n".to_vec();
    lot.resize(lot.len() + 200_000_000, b'x');
    lot.push(b'\n');
    std::fs::write(p.join("lot.txt"), &lot).unwrap();
    drop(lot);
    let args = ["revoke", "--batch", "lot.txt"];
    let cmd = crate::support::pki_in_shell(p, "ulimit -v 1048576", &args);
    let r = run_bounded(cmd, b"", std::time::Duration::from_secs(60)).expect("pki ended");
    refused_in_one_line(&r, &args, "lot.txt:2: \"xxxx");
    assert!(r.stderr.contains("longer than 65536 bytes"), "{}", r.stderr);
    assert!(r.stderr.len() < 512, "{} bytes on stderr", r.stderr.len());
    // Nothing was revoked: the batch is one transaction, refused before it began.
    let listed = pki(p, &["list", "--revoked", "--json"]).expect(0);
    assert!(!listed.stdout.contains("dev-1"), "{}", listed.stdout);

    let huge = "y".repeat(100_000);
    let r = pki(p, &["revoke", &huge]);
    refused_in_one_line(&r, &["revoke", "y…"], "\"yyyy");
    assert!(r.stderr.contains("…\": no certificate"), "{}", r.stderr);
    assert!(r.stderr.len() < 512, "{} bytes on stderr", r.stderr.len());
}
