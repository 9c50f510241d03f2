//! `pki needs-renewal` on real certificates, issued by the built `pki` and by `openssl req -x509
//! -days`: the exit codes of `step certificate needs-renewal` (0 due, 1 not due, 2 error), the
//! threshold instant itself, `--at` to move time, `openssl x509 -checkend` as the oracle of
//! `--expires-in`, and the refusals (missing, garbage, truncated, a bad flag value) that print
//! one line and judge nothing.

use std::path::Path;

use crate::support::{openssl, openssl_self_signed, pki, refused_in_one_line, tmp};

/// The report of `pki needs-renewal --json ARGS` and its exit code.
fn judge(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["--json", "needs-renewal"];
    all.extend_from_slice(args);
    let r = pki(dir, &all);
    assert!(
        r.code == 0 || r.code == 1,
        "{args:?}: {}{}",
        r.stdout,
        r.stderr
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    (r.code, r.json())
}

/// A CA directory with a 365-day device certificate and a 10-day server certificate.
fn pki_dir() -> tempfile::TempDir {
    let dir = tmp();
    pki(dir.path(), &["create-owner-ca"]).expect(0);
    pki(dir.path(), &["issue", "device", "d1"]).expect(0);
    pki(
        dir.path(),
        &["issue", "server", "short.test", "--days", "10"],
    )
    .expect(0);
    dir
}

const DEVICE: &str = "pki/certs/iot-device-d1.cert.pem";
const SHORT: &str = "pki/certs/iot-edge-server-short.test.cert.pem";
const SHORT_CHAIN: &str = "pki/certs/iot-edge-server-short.test-full-chain.cert.pem";

/// `t` plus `secs` seconds, RFC 3339.
fn shifted(t: &str, secs: i64) -> String {
    let rfc = time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(t, &rfc).unwrap() + time::Duration::seconds(secs);
    t.format(&rfc).unwrap()
}

#[test]
fn exit_0_from_two_thirds_of_the_lifetime_on_and_1_before() {
    let dir = pki_dir();
    let d = dir.path();
    // Now: a fresh 365-day certificate is not due.
    let (code, report) = judge(d, &[DEVICE]);
    assert_eq!(code, 1);
    assert_eq!(report["threshold"], "66.67%");
    assert_eq!(report["needs_renewal"], false);
    let c = &report["certificates"][0];
    assert_eq!(
        (c["subject"].as_str(), c["status"].as_str()),
        (Some("CN=d1"), Some("ok"))
    );
    // The threshold is two thirds of notAfter - notBefore after notBefore.
    let lifetime = c["lifetime_seconds"].as_i64().unwrap();
    let renew_from = c["renew_from"].as_str().unwrap();
    assert_eq!(
        renew_from,
        shifted(c["not_before"].as_str().unwrap(), lifetime * 2 / 3)
    );
    // Exactly at the threshold it is due; a second before, not.
    let (code, report) = judge(d, &[DEVICE, "--at", renew_from]);
    assert_eq!(code, 0);
    assert_eq!(report["certificates"][0]["status"], "needs_renewal");
    assert_eq!(judge(d, &[DEVICE, "--at", &shifted(renew_from, -1)]).0, 1);
    // Past notAfter: expired, and due.
    let not_after = c["not_after"].as_str().unwrap();
    let (code, report) = judge(d, &[DEVICE, "--at", &shifted(not_after, 1)]);
    assert_eq!(code, 0);
    assert_eq!(report["certificates"][0]["status"], "expired");
    assert_eq!(report["certificates"][0]["remaining_seconds"], -1);
    // At notAfter itself it is still valid (as OpenSSL judges it), and due.
    let (_, report) = judge(d, &[DEVICE, "--at", not_after]);
    assert_eq!(report["certificates"][0]["status"], "needs_renewal");
}

#[test]
fn expires_in_a_time_left_and_a_share_and_any_file_due_makes_exit_0() {
    let dir = pki_dir();
    let d = dir.path();
    // 10 days left: due within 30 days, not within 5.
    assert_eq!(judge(d, &[SHORT, "--expires-in", "30d"]).0, 0);
    assert_eq!(judge(d, &[SHORT, "--expires-in", "5d"]).0, 1);
    assert_eq!(judge(d, &[SHORT, "--expires-in", "1d12h"]).0, 1);
    assert_eq!(judge(d, &[DEVICE, "--expires-in", "30d"]).0, 1);
    // A fresh certificate has passed 0% of its lifetime, not 1%.
    assert_eq!(judge(d, &[DEVICE, "--expires-in", "0%"]).0, 0);
    assert_eq!(judge(d, &[DEVICE, "--expires-in", "1%"]).0, 1);
    // Several files: exit 0 when any is due, one entry per file in order.
    let (code, report) = judge(d, &[DEVICE, SHORT, "--expires-in", "30d"]);
    assert_eq!(code, 0);
    let statuses: Vec<&str> = report["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ok", "needs_renewal"]);
    // A full-chain file is judged by its leaf (the first certificate), as step does: the CAs
    // after it last years.
    let (code, report) = judge(d, &[SHORT_CHAIN, "--expires-in", "30d"]);
    assert_eq!(code, 0);
    assert_eq!(report["certificates"][0]["subject"], "CN=short.test");
}

#[test]
fn text_is_one_escaped_line_per_file() {
    let dir = pki_dir();
    let d = dir.path();
    let r = pki(d, &["needs-renewal", DEVICE, SHORT, "--expires-in", "30d"]).expect(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(
        lines[0].starts_with(&format!("{DEVICE}: CN=d1, notAfter ")),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with(" left: ok"), "{}", lines[0]);
    assert!(lines[1].starts_with(&format!("{SHORT}: CN=short.test, notAfter ")));
    assert!(
        lines[1].contains(", 10d 0h 0m 0s left: needs renewal") || lines[1].contains(", 9d 23h"),
        "{}",
        lines[1]
    );
    let r = pki(
        d,
        &["needs-renewal", DEVICE, "--at", "2100-01-01T00:00:00Z"],
    )
    .expect(0);
    assert!(r.stdout.contains(" ago: expired"), "{}", r.stdout);
    // A path with a line feed cannot start a line of its own.
    std::fs::copy(d.join(DEVICE), d.join("odd\nname.pem")).unwrap();
    let r = pki(d, &["needs-renewal", "odd\nname.pem"]).expect(1);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(
        r.stdout.starts_with("odd\\x0aname.pem: CN=d1"),
        "{}",
        r.stdout
    );
}

#[test]
fn openssl_certificates_agree_with_openssl_checkend() {
    let dir = tmp();
    let d = dir.path();
    // `openssl req -x509 -days 30`, PEM and DER.
    openssl_self_signed(d, "/CN=openssl-device", "dev.pem", &[]);
    openssl(
        d,
        &[
            "x509", "-in", "dev.pem", "-outform", "DER", "-out", "dev.der",
        ],
    )
    .expect(0);
    let (code, report) = judge(d, &["dev.pem"]);
    assert_eq!(code, 1, "a fresh 30-day certificate is not due");
    let c = &report["certificates"][0];
    assert_eq!(c["lifetime_seconds"], 30 * 86_400);
    assert_eq!(
        c["renew_from"].as_str().unwrap(),
        shifted(c["not_before"].as_str().unwrap(), 20 * 86_400)
    );
    let left = c["remaining_seconds"].as_i64().unwrap();
    // `openssl x509 -checkend N` exits 1 when the certificate expires within N seconds: pki's
    // --expires-in Ns is due (exit 0) exactly then. A minute either side of the time left.
    for (n, due) in [(left - 60, false), (left + 60, true)] {
        let checkend = openssl(
            d,
            &[
                "x509",
                "-in",
                "dev.pem",
                "-noout",
                "-checkend",
                &n.to_string(),
            ],
        );
        assert_eq!(checkend.code == 1, due, "openssl -checkend {n}");
        for file in ["dev.pem", "dev.der"] {
            let (code, _) = judge(d, &[file, "--expires-in", &format!("{n}s")]);
            assert_eq!(code == 0, due, "{file} --expires-in {n}s");
        }
    }
    // Moved to day 21 it is due by default; --at before notBefore it is not.
    assert_eq!(
        judge(
            d,
            &[
                "dev.pem",
                "--at",
                &shifted(c["not_before"].as_str().unwrap(), 21 * 86_400)
            ]
        )
        .0,
        0
    );
    assert_eq!(judge(d, &["dev.pem", "--at", "2000-01-01T00:00:00Z"]).0, 1);
}

#[test]
fn a_missing_garbage_or_truncated_file_is_one_line_and_exit_2_and_nothing_judged() {
    let dir = pki_dir();
    let d = dir.path();
    std::fs::write(d.join("garbage.pem"), "this is not a certificate\n").unwrap();
    let pem = std::fs::read_to_string(d.join(DEVICE)).unwrap();
    std::fs::write(d.join("truncated.pem"), &pem[..pem.len() / 2]).unwrap();
    for (file, says) in [
        ("missing.pem", "missing.pem: No such file or directory"),
        ("garbage.pem", "garbage.pem: not a valid certificate"),
        (
            "truncated.pem",
            "truncated.pem: not a valid certificate (the PEM is truncated",
        ),
    ] {
        // Even after a file that is due: nothing is judged, nothing printed on stdout.
        let args = ["needs-renewal", SHORT, file, "--expires-in", "30d"];
        let r = pki(d, &args);
        refused_in_one_line(&r, &args, says);
        assert!(r.stdout.is_empty(), "{}", r.stdout);
        // With --json: the error document, alone.
        let r = pki(d, &["--json", "needs-renewal", SHORT, file]);
        assert_eq!(r.code, 2);
        let doc = r.json();
        assert!(doc["error"].as_str().unwrap().contains(says), "{doc}");
        assert!(doc.get("certificates").is_none());
    }
    let args = ["needs-renewal", DEVICE, "--expires-in", "soon"];
    refused_in_one_line(
        &pki(d, &args),
        &args,
        "--expires-in \"soon\": give a time left such as 30d",
    );
    let args = ["needs-renewal", DEVICE, "--expires-in", "120%"];
    refused_in_one_line(&pki(d, &args), &args, "--expires-in \"120%\"");
    // No file judges the register: where there is no CA directory, that cannot run.
    let empty = crate::support::tmp();
    let r = pki(empty.path(), &["needs-renewal"]);
    refused_in_one_line(&r, &["needs-renewal"], "no CA directory");
}
