//! `pki verify` against real servers on loopback: `openssl s_server` serving every failure
//! class (pki's OpenSSL verdict must equal what `openssl s_client` says of the same server), a
//! real mosquitto broker as the transparent gateway (with and without required client
//! certificates), and servers that are silent, speak no TLS, or are not there.

use std::path::{Path, PathBuf};

use crate::support::quickstart::{
    DEVICE_FULL as DEVICE_CHAIN, DEVICE_KEY, ROOT, SERVER_FULL as SERVER_CHAIN, SERVER_KEY,
    gateway_pki,
};
use crate::support::snapshot;
use crate::support::{
    Handshake, Mosquitto, OpensslServer, PlainTextServer, Server, SilentServer, closed_port,
    openssl, pki, pki_env, s_client, testdata, tmp,
};

/// The options of a fixture case (testdata/verify/CASE/case.txt).
fn case_option(dir: &Path, key: &str) -> Option<String> {
    std::fs::read_to_string(dir.join("case.txt"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
}

/// `openssl s_client` against the server like a device with -verify_return_error, checking
/// `name`.
fn device_s_client(dir: &Path, port: u16, ca: &str, name: &NameArg) -> Handshake {
    let client = s_client(dir, port).ca_file(ca).verify_return_error();
    match name {
        NameArg::Host(h) => client.servername(h).verify_hostname(h),
        NameArg::Ip(ip) => client.verify_ip(ip),
    }
    .run()
}

enum NameArg {
    Host(String),
    Ip(String),
}

fn case_dirs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(testdata("verify"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("leaf.key.pem").is_file())
        .collect();
    v.sort();
    v
}

#[test]
fn online_openssl_verdict_equals_s_client_on_every_failure_class() {
    let cases = case_dirs();
    assert!(cases.len() >= 24, "fixtures missing: {cases:?}");
    let mut mismatches = Vec::new();
    for dir in &cases {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let chain = std::fs::metadata(dir.join("chain.pem"))
            .map(|m| m.len() > 0)
            .unwrap_or(false);
        // SHA-1 and v1 fixtures are below OpenSSL's default security level for a server's own
        // certificate; let the server load them (the client still judges them at its level).
        let extra: &[&str] = if case == "sha1-signature" {
            &["-cipher", "DEFAULT:@SECLEVEL=0"]
        } else {
            &[]
        };
        let server = OpensslServer::start(
            dir,
            "leaf.pem",
            "leaf.key.pem",
            chain.then_some("chain.pem"),
            extra,
        );
        let port = server.port();
        let name = match case_option(dir, "ip") {
            Some(_) => NameArg::Ip("127.0.0.1".into()),
            None => NameArg::Host(
                case_option(dir, "hostname").unwrap_or_else(|| "gateway.example.com".into()),
            ),
        };
        let handshake = device_s_client(dir, port, "ca.pem", &name);
        let text = handshake.text();
        let code = handshake
            .verify_code
            .unwrap_or_else(|| panic!("no Verify return code from s_client:\n{text}"));
        let depth = handshake.error_depth;
        let target = format!("127.0.0.1:{port}");
        let mut args = vec![
            "--json",
            "verify",
            target.as_str(),
            "--ca-file",
            "ca.pem",
            "--timeout",
            "5",
        ];
        let sn;
        if let NameArg::Host(h) = &name {
            sn = h.clone();
            args.extend_from_slice(&["--servername", &sn]);
        }
        let r = pki(dir, &args);
        assert!(
            r.code == 0 || r.code == 1,
            "{case}: exit {}\n{}{}",
            r.code,
            r.stdout,
            r.stderr
        );
        let j = r.json();
        let ours = (
            j["verification"]["openssl"]["code"].as_i64().unwrap() as i32,
            j["verification"]["openssl"]["depth"]
                .as_u64()
                .map(|d| d as u32),
        );
        if ours != (code, depth) {
            mismatches.push(format!(
                "{case}: pki says {ours:?}, s_client says ({code}, {depth:?})\n{text}"
            ));
        }
        // The exit code follows the verdicts (both clients must accept by default).
        let both = j["verification"]["openssl"]["code"] == 0
            && j["verification"]["webpki"]["result"] == "ok";
        assert_eq!(r.code, if both { 0 } else { 1 }, "{case}");
        drop(server);
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn explains_the_common_failures_in_plain_words() {
    for (case, expect) in [
        ("missing-intermediate", "sends only its own certificate"),
        ("wrong-ca", "CA file"),
        ("expired-leaf", "expired"),
        ("hostname-mismatch", "other.example.com"),
    ] {
        let dir = testdata(&format!("verify/{case}"));
        let chain = std::fs::metadata(dir.join("chain.pem"))
            .map(|m| m.len() > 0)
            .unwrap_or(false);
        let server = OpensslServer::start(
            &dir,
            "leaf.pem",
            "leaf.key.pem",
            chain.then_some("chain.pem"),
            &[],
        );
        let name = case_option(&dir, "hostname").unwrap_or_else(|| "gateway.example.com".into());
        let target = format!("127.0.0.1:{}", server.port());
        let r = pki(
            &dir,
            &[
                "verify",
                &target,
                "--servername",
                &name,
                "--ca-file",
                "ca.pem",
            ],
        )
        .expect(1);
        assert!(r.stdout.contains("diagnosis:"), "{case}: {}", r.stdout);
        assert!(
            r.stdout.to_lowercase().contains(&expect.to_lowercase()),
            "{case}: expected {expect:?} in\n{}",
            r.stdout
        );
        assert!(
            r.stdout.trim_end().ends_with("NOT verified"),
            "{}",
            r.stdout
        );
    }
}

#[test]
fn mosquitto_transparent_gateway_verifies_as_a_device_would() {
    let d = gateway_pki();
    let p = d.path();
    let broker = Mosquitto::start(p, ROOT, SERVER_CHAIN, SERVER_KEY, false);
    let target = format!("localhost:{}", broker.port());
    let r = pki(p, &["verify", &target, "--ca-file", ROOT, "--showcerts"]).expect(0);
    assert!(
        r.stdout.contains("Verify return code: 0 (ok)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Certificate chain\n 0 s:CN = localhost"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.trim_end().ends_with("verified OK"), "{}", r.stdout);
    // The connection string of a downstream device going through this gateway.
    let good = "HostName=hub.azure-devices.net;DeviceId=downstream-device-1;x509=true;GatewayHostName=localhost";
    let j = pki(
        p,
        &[
            "--json",
            "verify",
            &target,
            "--ca-file",
            ROOT,
            "--connection-string",
            good,
        ],
    )
    .expect(0)
    .json();
    assert_eq!(j["accepted"], true);
    assert_eq!(j["connection_string"]["gateway_host_name"], "localhost");
    // A connection string naming another gateway is a negative verdict, said precisely.
    let other = "HostName=hub.azure-devices.net;DeviceId=downstream-device-1;x509=true;GatewayHostName=gw.contoso.com";
    let r = pki(
        p,
        &[
            "verify",
            &target,
            "--ca-file",
            ROOT,
            "--connection-string",
            other,
        ],
    )
    .expect(1);
    assert!(
        r.stdout.contains("GatewayHostName=gw.contoso.com"),
        "{}",
        r.stdout
    );
    // A malformed one cannot be checked: exit 2, naming the fault and never the key.
    let bad = "HostName=hub.azure-devices.net;DeviceId=d;SharedAccessKey=c2VjcmV0;gatewayhostname=localhost";
    let r = pki(
        p,
        &[
            "verify",
            &target,
            "--ca-file",
            ROOT,
            "--connection-string",
            bad,
        ],
    )
    .expect(2);
    assert!(r.stderr.contains("GatewayHostName"), "{}", r.stderr);
    assert!(!r.stderr.contains("c2VjcmV0") && !r.stdout.contains("c2VjcmV0"));
    // The OS store, pointed at the root through SSL_CERT_FILE.
    let root = p.join(ROOT);
    let r = pki_env(
        p,
        &["verify", &target, "--os-store"],
        &[
            ("SSL_CERT_FILE", root.to_str().unwrap()),
            ("SSL_CERT_DIR", "/nonexistent"),
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // The wrong trust anchor: the device's own certificate is no CA of this chain.
    let r = pki(
        p,
        &[
            "verify",
            &target,
            "--ca-file",
            "pki/certs/iot-device-downstream-device-1.cert.pem",
        ],
    )
    .expect(1);
    assert!(r.stdout.contains("NOT verified"), "{}", r.stdout);
}

#[test]
fn mosquitto_requiring_client_certificates_accepts_the_pki_device() {
    let d = gateway_pki();
    let p = d.path();
    let broker = Mosquitto::start(p, ROOT, SERVER_CHAIN, SERVER_KEY, true);
    let target = format!("localhost:{}", broker.port());
    let r = pki(p, &["--json", "verify", &target, "--ca-file", ROOT]).expect(1);
    let j = r.json();
    assert_eq!(j["accepted"], false);
    assert_eq!(j["tls"]["client_certificate_requested"], true);
    let check = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["step"] == "client certificate")
        .unwrap()
        .clone();
    assert_eq!(check["status"], "fail", "{j}");
    let r = pki(
        p,
        &[
            "verify",
            &target,
            "--ca-file",
            ROOT,
            "--cert",
            DEVICE_CHAIN,
            "--key",
            DEVICE_KEY,
        ],
    )
    .expect(0);
    assert!(
        r.stdout.contains("accepted the one presented"),
        "{}",
        r.stdout
    );
}

#[test]
fn unreachable_silent_and_non_tls_servers_are_reported_within_the_timeout() {
    let d = tmp();
    let p = d.path();
    std::fs::write(
        p.join("ca.pem"),
        std::fs::read(testdata("verify/ok/ca.pem")).unwrap(),
    )
    .unwrap();
    let silent = SilentServer::start();
    let r = pki(
        p,
        &[
            "verify",
            &format!("127.0.0.1:{}", silent.port()),
            "--ca-file",
            "ca.pem",
            "--timeout",
            "1",
        ],
    )
    .expect(2);
    assert!(r.stderr.contains("no answer within"), "{}", r.stderr);
    let plain = PlainTextServer::start();
    let r = pki(
        p,
        &[
            "verify",
            &format!("127.0.0.1:{}", plain.port()),
            "--ca-file",
            "ca.pem",
            "--timeout",
            "2",
        ],
    )
    .expect(2);
    assert!(r.stderr.contains("does not speak TLS"), "{}", r.stderr);
    let r = pki(
        p,
        &[
            "verify",
            &format!("127.0.0.1:{}", closed_port()),
            "--ca-file",
            "ca.pem",
            "--timeout",
            "2",
        ],
    )
    .expect(2);
    assert!(r.stderr.contains("refused"), "{}", r.stderr);
    let r = pki(
        p,
        &[
            "verify",
            "no-such-host.invalid:8883",
            "--ca-file",
            "ca.pem",
            "--timeout",
            "2",
        ],
    )
    .expect(2);
    assert!(
        r.stderr.contains("does not resolve") || r.stderr.contains("no answer"),
        "{}",
        r.stderr
    );
    let r = pki(
        p,
        &[
            "--json",
            "verify",
            &format!("127.0.0.1:{}", closed_port()),
            "--ca-file",
            "ca.pem",
        ],
    )
    .expect(2);
    assert!(r.json()["error"].as_str().unwrap().contains("refused"));
}

#[test]
fn offline_verdicts_match_openssl_verify() {
    for case in [
        "ok",
        "missing-intermediate",
        "expired-leaf",
        "pathlen-exceeded",
        "issuer-ca-false",
    ] {
        let dir = testdata(&format!("verify/{case}"));
        let chain = std::fs::metadata(dir.join("chain.pem"))
            .map(|m| m.len() > 0)
            .unwrap_or(false);
        let mut args = vec![
            "verify",
            "--chain",
            "leaf.pem",
            "--ca-file",
            "ca.pem",
            "--at",
            "2030-01-01T00:00:00Z",
            "--client",
            "openssl",
        ];
        let mut oargs = vec!["verify", "-CAfile", "ca.pem", "-attime", "1893456000"];
        if chain {
            args.extend_from_slice(&["--untrusted", "chain.pem"]);
            oargs.extend_from_slice(&["-untrusted", "chain.pem"]);
        }
        oargs.push("leaf.pem");
        let ours = pki(&dir, &args);
        let theirs = openssl(&dir, &oargs);
        let first_error = |t: &str| {
            t.lines()
                .find(|l| l.starts_with("error "))
                .map(|l| l.split(':').next().unwrap().to_owned())
        };
        let want = first_error(&format!("{}{}", theirs.stdout, theirs.stderr));
        let got = first_error(
            &ours
                .stdout
                .lines()
                .map(|l| l.trim_start_matches("OpenSSL:").trim())
                .collect::<Vec<_>>()
                .join("\n"),
        );
        assert_eq!(
            got, want,
            "{case}\n{}\n{}{}",
            ours.stdout, theirs.stdout, theirs.stderr
        );
        assert_eq!(ours.code == 0, theirs.code == 0, "{case}");
    }
}

#[test]
fn alpn_is_offered_and_reported() {
    let dir = testdata("verify/ok");
    let server = OpensslServer::start(
        &dir,
        "leaf.pem",
        "leaf.key.pem",
        Some("chain.pem"),
        &["-alpn", "x-amzn-mqtt-ca"],
    );
    let target = format!("127.0.0.1:{}", server.port());
    let j = pki(
        &dir,
        &[
            "--json",
            "verify",
            &target,
            "--servername",
            "gateway.example.com",
            "--ca-file",
            "ca.pem",
            "--alpn",
            "x-amzn-mqtt-ca",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(j["tls"]["alpn"], "x-amzn-mqtt-ca");
    assert_eq!(j["tls"]["sni"], "gateway.example.com");
    let j = pki(
        &dir,
        &[
            "--json",
            "verify",
            &target,
            "--servername",
            "gateway.example.com",
            "--ca-file",
            "ca.pem",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(j["tls"]["alpn"], serde_json::Value::Null);
}

#[test]
fn offline_text_snapshot() {
    // What a user reads of a good chain and of an expired leaf, at a pinned time.
    for (case, code) in [("ok", 0), ("expired-leaf", 1)] {
        let dir = testdata(&format!("verify/{case}"));
        let r = pki(
            &dir,
            &[
                "verify",
                "--chain",
                "leaf.pem",
                "--untrusted",
                "chain.pem",
                "--ca-file",
                "ca.pem",
                "--hostname",
                "gateway.example.com",
                "--at",
                "2030-01-01T00:00:00Z",
            ],
        )
        .expect(code);
        snapshot::settings(&[]).bind(|| {
            insta::assert_snapshot!(
                format!("offline_{}", case.replace('-', "_")),
                snapshot::transcript(&r)
            );
        });
    }
}

#[test]
fn online_text_snapshot() {
    // What a user reads of a gateway that sends a good chain, checked under its name and
    // under another.
    let dir = testdata("verify/ok");
    let server = OpensslServer::start(&dir, "leaf.pem", "leaf.key.pem", Some("chain.pem"), &[]);
    let target = server.addr();
    for (label, name, code) in [
        ("its_name", "gateway.example.com", 0),
        ("another_name", "other.example.com", 1),
    ] {
        let r = pki(
            &dir,
            &[
                "verify",
                &target,
                "--servername",
                name,
                "--ca-file",
                "ca.pem",
            ],
        )
        .expect(code);
        snapshot::settings(&[]).bind(|| {
            insta::assert_snapshot!(format!("online_{label}"), snapshot::transcript(&r));
        });
    }
}
