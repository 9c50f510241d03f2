//! A fleet, not a demo: the seams between commands on a PKI of several gateways, and renewals
//! and revocations over time (issue 22). Each test here failed on the code before its fix.

use std::path::Path;

use crate::support::clock::{openssl_on, pki_on};
use crate::support::{openssl, pki, register_rows, tmp};

const ROOT: &str = "pki/certs/azure-iot-test-only.root.ca.cert.pem";

/// `openssl verify` of `leaf` against the directory's root, with `untrusted` intermediates.
#[track_caller]
fn openssl_verifies(dir: &Path, untrusted: &str, leaf: &str) {
    let r = openssl(
        dir,
        &["verify", "-CAfile", ROOT, "-untrusted", untrusted, leaf],
    );
    assert_eq!(
        r.stdout.trim(),
        format!("{leaf}: OK"),
        "openssl verify {leaf}\n{}{}",
        r.stdout,
        r.stderr
    );
}

/// What `pki show --json` says of the (first) certificate in `file`.
fn shown(dir: &Path, file: &str) -> serde_json::Value {
    pki(dir, &["--json", "show", file]).expect(0).json()["certificates"][0].clone()
}

/// An owner CA, an intermediate and two IoT Edge device CAs.
fn two_edge_cas(p: &Path) {
    pki(p, &["create-owner-ca", "--pathlen", "2"]).expect(0);
    pki(p, &["create-intermediate-ca"]).expect(0);
    pki(p, &["create-edge-ca", "gwa"]).expect(0);
    pki(p, &["create-edge-ca", "gwb"]).expect(0);
}

#[test]
fn with_two_edge_cas_each_issues_its_gateways_server_certificate() {
    let d = tmp();
    let p = d.path();
    two_edge_cas(p);
    // Without --issuer the choice is the user's: refused, naming both.
    let r = pki(p, &["issue", "server", "a.example"]).expect(2);
    assert!(
        r.stderr.contains("gwa, gwb") && r.stderr.contains("--issuer edge-ca:NAME"),
        "{}",
        r.stderr
    );
    // Each --issuer is taken as given.
    pki(
        p,
        &["issue", "server", "a.example", "--issuer", "edge-ca:gwa"],
    )
    .expect(0);
    pki(
        p,
        &["issue", "server", "b.example", "--issuer", "edge-ca:gwb"],
    )
    .expect(0);
    pki(
        p,
        &["issue", "server", "c.example", "--issuer", "intermediate"],
    )
    .expect(0);
    let show = |file: &str| {
        shown(p, &format!("pki/certs/{file}"))["issuer"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(show("iot-edge-server-a.example.cert.pem").contains("gwa.ca"));
    assert!(show("iot-edge-server-b.example.cert.pem").contains("gwb.ca"));
    // A CA given as a file, with its key.
    pki(
        p,
        &[
            "issue",
            "server",
            "d.example",
            "--issuer",
            "pki/certs/iot-edge-device-ca-gwb-full-chain.cert.pem",
            "--issuer-key",
            "pki/private/iot-edge-device-ca-gwb.key.pem",
        ],
    )
    .expect(0);
    assert!(show("iot-edge-server-d.example.cert.pem").contains("gwb.ca"));
    // A CSR signed under the server profile.
    pki(
        p,
        &[
            "csr",
            "create",
            "e.example",
            "--profile",
            "server",
            "--out",
            "e.csr",
            "--key",
            "pki/private/iot-edge-server-a.example.key.pem",
        ],
    )
    .expect(0);
    pki(
        p,
        &[
            "csr",
            "sign",
            "e.csr",
            "--profile",
            "server",
            "--issuer",
            "edge-ca:gwa",
        ],
    )
    .expect(0);
    assert!(show("iot-edge-server-e.example.cert.pem").contains("gwa.ca"));
    for host in ["a", "b", "c", "d", "e"] {
        openssl_verifies(
            p,
            &format!("pki/certs/iot-edge-server-{host}.example-full-chain.cert.pem"),
            &format!("pki/certs/iot-edge-server-{host}.example.cert.pem"),
        );
    }
}

#[test]
fn proof_of_possession_certificates_stay_out_of_renewal_and_expiry_views() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    pki(p, &["issue", "device", "dev-1", "--days", "10"]).expect(0);
    pki(
        p,
        &[
            "create-verification-cert",
            "ABCDEF0123456789ABCDEF0123456789",
        ],
    )
    .expect(0);
    let rows = register_rows(p, &["--expiring", "60d"]);
    let cns: Vec<&str> = rows
        .iter()
        .map(|r| r["common_name"].as_str().unwrap())
        .collect();
    assert_eq!(cns, ["dev-1"], "{rows:?}");
    let expired = register_rows(p, &["--expired", "--at", "2099-01-01T00:00:00Z"]);
    assert!(
        expired.iter().all(|r| r["profile"] != "verification"),
        "{expired:?}"
    );
    let r = pki(p, &["--json", "renew", "--expiring", "60d"]).expect(0);
    let j = r.json();
    assert_eq!(j["renewed"], 1, "{j}");
    assert_eq!(j["skipped"].as_array().unwrap().len(), 0, "{j}");
}

#[test]
fn a_renewal_capped_by_its_ca_says_which_ca_to_renew_first() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    pki(p, &["create-edge-ca", "gw", "--days", "40"]).expect(0);
    pki(p, &["issue", "server", "gw.example", "--days", "30"]).expect(0);
    // Day 20: the renewal wants 30 days (to day 50); the edge CA ends on day 40.
    let r = pki_on(p, 20, &["renew", "gw.example"]).expect(0);
    assert!(
        r.stderr.contains("edge CA \"gw\"")
            && r.stderr.contains("pki renew edge-ca:gw")
            && r.stderr.contains("10 day(s) short"),
        "stdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    // Again on day 21: nothing to gain until the CA is renewed.
    let r = pki_on(p, 21, &["renew", "gw.example"]).expect(2);
    assert!(
        r.stderr.contains("would gain nothing") && r.stderr.contains("pki renew edge-ca:gw"),
        "{}",
        r.stderr
    );
    // --expiring renews the CA first, then what hangs below it under the new CA.
    let r = pki_on(p, 21, &["--json", "renew", "--expiring", "30d"]).expect(0);
    let j = r.json();
    let subjects: Vec<&str> = j["renewals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["CN = gw.ca", "CN = gw.example"], "{j}");
    assert!(j["renewals"][1]["capped"].is_null(), "{j}");
    let server = shown(p, "pki/certs/iot-edge-server-gw.example.cert.pem");
    let ca = shown(p, "pki/certs/iot-edge-device-ca-gw.cert.pem");
    assert!(ca["subject_key_id"].is_string(), "{ca}");
    assert_eq!(server["authority_key_id"], ca["subject_key_id"]);
    let v = openssl_on(
        p,
        21,
        &[
            "verify",
            "-CAfile",
            ROOT,
            "-untrusted",
            "pki/certs/iot-edge-device-ca-gw.cert.pem",
            "pki/certs/iot-edge-server-gw.example.cert.pem",
        ],
    );
    assert!(v.stdout.contains(": OK"), "{}{}", v.stdout, v.stderr);
}

#[test]
fn after_a_ca_renewal_the_old_keys_certificates_still_get_a_crl() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca", "--pathlen", "2"]).expect(0);
    pki(p, &["create-edge-ca", "gw"]).expect(0);
    pki(p, &["issue", "server", "gw.example"]).expect(0);
    let old_ca = shown(p, "pki/certs/iot-edge-device-ca-gw.cert.pem");
    let serial = old_ca["serial"]["hex"].as_str().unwrap().to_owned();
    pki(p, &["renew", "edge-ca:gw"]).expect(0);
    let kept = format!("pki/certs/iot-edge-device-ca-gw.{serial}.cert.pem");
    assert!(p.join(&kept).is_file(), "no {kept}");
    pki(p, &["revoke", "gw.example", "--reason", "keyCompromise"]).expect(0);
    // The old CA's file names the old key's CRL.
    let r = pki(p, &["--json", "crl", "--issuer", &kept]).expect(0);
    let j = r.json();
    let crl = j["crls"][0]["pem"].as_str().unwrap().to_owned();
    assert_eq!(j["crls"][0]["revoked"], 1, "{j}");
    // OpenSSL finds the server revoked with that CRL: error 23.
    let v = openssl(
        p,
        &[
            "verify",
            "-crl_check",
            "-CAfile",
            ROOT,
            "-untrusted",
            &kept,
            "-CRLfile",
            &crl,
            "pki/certs/iot-edge-server-gw.example.cert.pem",
        ],
    );
    assert!(
        v.stdout.contains("error 23") || v.stderr.contains("error 23"),
        "{}{}",
        v.stdout,
        v.stderr
    );
    // --all writes it too, into the bundle mosquitto reads: no issuer of a certificate still
    // valid is without a CRL.
    let r = pki(p, &["--json", "crl", "--all"]).expect(0);
    let j = r.json();
    let cas: Vec<&str> = j["crls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["ca"].as_str().unwrap())
        .collect();
    assert_eq!(cas.len(), 3, "{j}");
    let all = std::fs::read_to_string(p.join("pki/crl/all.crl.pem")).unwrap();
    assert_eq!(all.matches("BEGIN X509 CRL").count(), 3);
}

#[test]
fn a_revocation_in_the_future_is_refused() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    pki(p, &["issue", "device", "dev-1"]).expect(0);
    let r = pki(p, &["revoke", "dev-1", "--at", "2099-01-01T00:00:00Z"]).expect(2);
    assert!(r.stderr.contains("future"), "{}", r.stderr);
    let rows = register_rows(p, &["--revoked"]);
    assert!(rows.is_empty(), "{rows:?}");
    // The leap second of the last day time can write is in the future too.
    let r = pki(p, &["revoke", "dev-1", "--at", "9999-12-31T23:59:60Z"]).expect(2);
    assert!(r.stderr.contains("future"), "{}", r.stderr);
    // Before the certificate was issued, or before 1950 (where a CRL's UTCTime begins): no
    // revocation can be that old.
    let not_before = register_rows(p, &[])[0]["not_before"]
        .as_str()
        .unwrap()
        .to_owned();
    for (at, says) in [
        ("2000-01-01T00:00:00Z", "before the certificate was issued"),
        ("1949-12-31T23:59:59Z", "before 1950"),
        ("0001-01-01", "before 1950"),
    ] {
        let r = pki(p, &["revoke", "dev-1", "--at", at]).expect(2);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(r.stderr.contains(says), "{at}: {}", r.stderr);
        assert!(register_rows(p, &["--revoked"]).is_empty(), "{at}");
    }
    // In the past, from its notBefore on: recorded as given.
    pki(p, &["revoke", "dev-1", "--at", &not_before]).expect(0);
    let rows = register_rows(p, &["--revoked"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["revoked_at"].as_str(), Some(not_before.as_str()));
}
