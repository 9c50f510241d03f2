//! `pki show --json` agrees with `openssl x509` on every field both print, for certificates
//! `pki` made and certificates OpenSSL made; the text output is pinned by a snapshot.

use std::net::IpAddr;
use std::path::Path;

use crate::support::snapshot;
use crate::support::{openssl, pki, pki_env, testdata, tmp};

fn openssl_field(dir: &Path, cert: &str, flag: &[&str]) -> String {
    let mut args = vec!["x509", "-in", cert, "-noout"];
    if cert.ends_with(".der") {
        args.extend_from_slice(&["-inform", "DER"]);
    }
    args.extend_from_slice(flag);
    let out = openssl(dir, &args).expect(0).stdout;
    out.trim()
        .split_once('=')
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

fn openssl_date(s: &str) -> time::OffsetDateTime {
    let fmt = time::macros::format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
    );
    time::PrimitiveDateTime::parse(s, &fmt)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .assume_utc()
}

/// Normalises a SAN as either tool prints it: `DNS:x`, `IP:addr` (parsed), `email:x`.
fn norm_san(s: &str) -> String {
    let s = s.trim();
    if let Some(ip) = s
        .strip_prefix("IP Address:")
        .or_else(|| s.strip_prefix("IP:"))
    {
        return format!(
            "IP:{}",
            ip.parse::<IpAddr>().unwrap_or_else(|_| panic!("{ip}"))
        );
    }
    s.to_owned()
}

fn ext_value(dir: &Path, cert: &str, ext: &str) -> Option<(bool, String)> {
    let mut args = vec!["x509", "-in", cert, "-noout", "-ext", ext];
    if cert.ends_with(".der") {
        args.extend_from_slice(&["-inform", "DER"]);
    }
    let out = openssl(dir, &args).expect(0).stdout;
    let mut lines = out.lines();
    let head = lines.next()?;
    Some((
        head.contains("critical"),
        lines.map(str::trim).collect::<Vec<_>>().join(" "),
    ))
}

fn check_against_openssl(dir: &Path, cert: &str) {
    let j = pki(dir, &["--json", "show", cert]).expect(0).json();
    let c = &j["certificates"][0];
    assert_eq!(
        c["subject"].as_str().unwrap(),
        openssl_field(dir, cert, &["-subject"]),
        "{cert} subject"
    );
    assert_eq!(
        c["issuer"].as_str().unwrap(),
        openssl_field(dir, cert, &["-issuer"]),
        "{cert} issuer"
    );
    assert_eq!(
        c["serial"]["hex"].as_str().unwrap(),
        openssl_field(dir, cert, &["-serial"]),
        "{cert} serial"
    );
    let nb = time::OffsetDateTime::parse(
        c["not_before"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let na = time::OffsetDateTime::parse(
        c["not_after"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(
        nb,
        openssl_date(&openssl_field(dir, cert, &["-startdate"])),
        "{cert} notBefore"
    );
    assert_eq!(
        na,
        openssl_date(&openssl_field(dir, cert, &["-enddate"])),
        "{cert} notAfter"
    );
    assert_eq!(
        c["sha1"].as_str().unwrap(),
        openssl_field(dir, cert, &["-fingerprint", "-sha1"]).replace(':', "")
    );
    assert_eq!(
        c["sha256"].as_str().unwrap(),
        openssl_field(dir, cert, &["-fingerprint", "-sha256"]).replace(':', "")
    );
    // SANs.
    let ours: Vec<String> = c["subject_alt_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| norm_san(s.as_str().unwrap()))
        .collect();
    let theirs: Vec<String> = ext_value(dir, cert, "subjectAltName")
        .map(|(_, v)| v.split(", ").map(norm_san).collect())
        .unwrap_or_default();
    assert_eq!(ours, theirs, "{cert} SANs");
    // Basic constraints, key usage, EKU: criticality and values.
    let bc = ext_value(dir, cert, "basicConstraints");
    match (&c["basic_constraints"], bc) {
        (serde_json::Value::Null, None) => {}
        (ours, Some((crit, v))) => {
            assert_eq!(ours["critical"], crit, "{cert} BC critical");
            let mut want = if ours["ca"] == true {
                "CA:TRUE".to_owned()
            } else {
                "CA:FALSE".to_owned()
            };
            if let Some(n) = ours["pathlen"].as_u64() {
                want += &format!(", pathlen:{n}");
            }
            assert_eq!(want, v, "{cert} BC");
        }
        (o, t) => panic!("{cert} basic constraints: ours {o}, openssl {t:?}"),
    }
    let long = |n: &str| -> String {
        match n {
            "digitalSignature" => "Digital Signature",
            "keyEncipherment" => "Key Encipherment",
            "keyCertSign" => "Certificate Sign",
            "cRLSign" => "CRL Sign",
            "serverAuth" => "TLS Web Server Authentication",
            "clientAuth" => "TLS Web Client Authentication",
            other => other,
        }
        .to_owned()
    };
    for (ours, ext) in [
        (&c["key_usage"], "keyUsage"),
        (&c["extended_key_usage"], "extendedKeyUsage"),
    ] {
        match (ours, ext_value(dir, cert, ext)) {
            (serde_json::Value::Null, None) => {}
            (o, Some((crit, v))) => {
                assert_eq!(o["critical"], crit, "{cert} {ext} critical");
                let names: Vec<String> = o["usages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| long(u.as_str().unwrap()))
                    .collect();
                assert_eq!(names.join(", "), v, "{cert} {ext}");
            }
            (o, t) => panic!("{cert} {ext}: ours {o}, openssl {t:?}"),
        }
    }
    // Signature algorithm and version, from the text dump.
    let mut args = vec!["x509", "-in", cert, "-noout", "-text"];
    if cert.ends_with(".der") {
        args.extend_from_slice(&["-inform", "DER"]);
    }
    let text = openssl(dir, &args).expect(0).stdout;
    assert!(
        text.contains(&format!(
            "Signature Algorithm: {}",
            c["signature_algorithm"].as_str().unwrap()
        )),
        "{cert}"
    );
    assert!(
        text.contains(&format!("Version: {} ", c["version"])),
        "{cert}"
    );
}

#[test]
fn show_json_agrees_with_openssl_on_openssl_made_certificates() {
    let dir = testdata("show");
    for cert in [
        "rsa-root.cert.pem",
        "rsa-inter.cert.pem",
        "ec-server.cert.pem",
        "ec-server.cert.der",
        "ec384-device.cert.pem",
        "ed25519-self.cert.pem",
        "v1.cert.pem",
    ] {
        check_against_openssl(&dir, cert);
    }
}

#[test]
fn show_json_agrees_with_openssl_on_pki_made_certificates() {
    let d = tmp();
    let p = d.path();
    for kt in ["ec-p256", "rsa-2048", "ed25519"] {
        let dir = format!("pki-{kt}");
        let k = ["--dir", dir.as_str(), "--key-type", kt];
        let run = |a: &[&str]| {
            let mut v = a.to_vec();
            v.extend_from_slice(&k);
            pki(p, &v).expect(0);
        };
        run(&["create-owner-ca"]);
        run(&["create-intermediate-ca"]);
        run(&["create-edge-ca", "edge"]);
        run(&[
            "issue",
            "server",
            "gw.contoso.com",
            "--san",
            "fd00::1",
            "--san",
            "192.168.7.1",
        ]);
        run(&["issue", "device", "dev-1"]);
        run(&["self-signed", "tedge-1"]);
        for f in std::fs::read_dir(p.join(&dir).join("certs")).unwrap() {
            let f = f.unwrap().path();
            check_against_openssl(p, f.to_str().unwrap());
        }
    }
}

#[test]
fn show_reads_bundles_and_checks_keys() {
    let dir = testdata("show");
    let j = pki(&dir, &["--json", "show", "ec-server-full-chain.cert.pem"])
        .expect(0)
        .json();
    let certs = j["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 3);
    assert_eq!(certs[0]["signed_by_next"], true);
    assert_eq!(certs[1]["signed_by_next"], true);
    assert_eq!(certs[2]["signed_by_next"], serde_json::Value::Null);
    assert_eq!(certs[2]["self_signed"], true);
    // A bundle out of order is said to be.
    let j = pki(
        &dir,
        &[
            "--json",
            "show",
            "ec384-device.cert.pem",
            "ec-server-full-chain.cert.pem",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(j["certificates"].as_array().unwrap().len(), 4);
    // Keys: SEC1, PKCS#1 (unencrypted), PKCS#8, encrypted PKCS#8 with the password from env.
    for (cert, key) in [
        ("ec-server.cert.pem", "ec-server.key.pem"),
        ("rsa-inter.cert.pem", "rsa-inter.key.pem"),
        ("ec384-device.cert.pem", "ec384-device.key.pem"),
        ("ed25519-self.cert.pem", "ed25519-self.key.pem"),
    ] {
        let r = pki(&dir, &["show", cert, "--key", key]).expect(0);
        assert!(r.stdout.contains("MATCHES"), "{cert} {key}: {}", r.stdout);
    }
    let r = pki_env(
        &dir,
        &[
            "--json",
            "show",
            "rsa-root.cert.pem",
            "--key",
            "rsa-root.key.pem",
        ],
        &[("PKI_KEY_PASSWORD", "1234")],
    )
    .expect(0);
    assert_eq!(r.json()["key_check"]["matches"], true);
    // A key that does not match is a negative verdict: exit 1.
    let r = pki(
        &dir,
        &[
            "show",
            "ec-server.cert.pem",
            "--key",
            "ec384-device.key.pem",
        ],
    )
    .expect(1);
    assert!(r.stdout.contains("does NOT match"), "{}", r.stdout);
}

#[test]
fn show_status_follows_tedge_at_a_pinned_time() {
    let dir = testdata("show");
    let j = |at: &str| {
        pki(&dir, &["--json", "show", "ec-server.cert.pem", "--at", at])
            .expect(0)
            .json()["certificates"][0]["status"]
            .clone()
    };
    assert_eq!(j("2000-01-01T00:00:00Z"), "NOT_VALID_YET");
    assert_eq!(j("2200-01-01T00:00:00Z"), "EXPIRED");
    let nb = pki(&dir, &["--json", "show", "ec-server.cert.pem"])
        .expect(0)
        .json()["certificates"][0]["not_after"]
        .as_str()
        .unwrap()
        .to_owned();
    let na =
        time::OffsetDateTime::parse(&nb, &time::format_description::well_known::Rfc3339).unwrap();
    let soon = (na - time::Duration::days(3))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert_eq!(j(&soon), "EXPIRES_SOON");
}

#[test]
fn show_text_snapshot() {
    let dir = testdata("show");
    // The fixture is regenerated by gen.sh; pin what does not depend on it.
    let r = pki(
        &dir,
        &["show", "ec-server.cert.pem", "--at", "2030-01-01T00:00:00Z"],
    )
    .expect(0);
    snapshot::settings(&[]).bind(|| insta::assert_snapshot!(r.stdout));
}

#[test]
fn completions_are_printed_for_every_shell() {
    let d = tmp();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let r = pki(d.path(), &["completions", shell]).expect(0);
        assert!(r.stdout.contains("create-owner-ca"), "{shell}");
    }
}
