//! `pki verify` against real servers on loopback: `openssl s_server` serving every failure
//! class (pki's OpenSSL verdict must equal what `openssl s_client` says of the same server), a
//! real mosquitto broker as the transparent gateway (with and without required client
//! certificates: what the device presents, told before connecting, and the CAs the server names
//! as acceptable, as `openssl s_client` prints them), and servers that are silent, speak no TLS,
//! or are not there.

mod client_auth;

use std::path::{Path, PathBuf};

use crate::support::quickstart::{
    ROOT, SERVER, SERVER_FULL as SERVER_CHAIN, SERVER_KEY, gateway_pki,
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
fn device_s_client(dir: &Path, port: u16, ca: &str, name: &NameArg, extra: &[String]) -> Handshake {
    let client = s_client(dir, port)
        .ca_file(ca)
        .verify_return_error()
        .args(extra);
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

/// The fixture cases a TLS server can serve: testdata/verify (the failure classes of pki's own
/// chains) and testdata/verify-conformance (issue 11's legacy and malformed certificates) but
/// for those marked `online=no` (a leaf key s_server cannot use).
fn case_dirs() -> Vec<PathBuf> {
    all_case_dirs()
        .into_iter()
        .filter(|p| p.join("leaf.key.pem").is_file())
        .filter(|p| case_option(p, "online").as_deref() != Some("no"))
        .collect()
}

/// Every fixture case (testdata/verify and testdata/verify-conformance), with its options.
fn all_case_dirs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = ["verify", "verify-conformance"]
        .iter()
        .flat_map(|set| std::fs::read_dir(testdata(set)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.txt").is_file())
        .collect();
    v.sort();
    v
}

/// The instant a case is judged at (`attime=UNIX SECONDS`), as `--at` takes it.
fn case_instant(dir: &Path) -> Option<(String, String)> {
    let seconds = case_option(dir, "attime")?;
    let at = time::OffsetDateTime::from_unix_timestamp(seconds.parse().unwrap())
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    Some((seconds, at))
}

#[test]
fn online_openssl_verdict_equals_s_client_on_every_failure_class() {
    let cases = case_dirs();
    assert!(cases.len() >= 130, "fixtures missing: {cases:?}");
    let mut mismatches = Vec::new();
    for dir in &cases {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let chain = std::fs::metadata(dir.join("chain.pem"))
            .map(|m| m.len() > 0)
            .unwrap_or(false);
        // OpenSSL refuses to load a certificate below its default security level as a server's
        // own (a SHA-1 signature, a small or legacy key): the server runs at level 0 so that it
        // serves every case; the client still judges the chain at its own level.
        let server = OpensslServer::start(
            dir,
            "leaf.pem",
            "leaf.key.pem",
            chain.then_some("chain.pem"),
            &["-cipher", "DEFAULT:@SECLEVEL=0"],
        );
        let port = server.port();
        let name = match case_option(dir, "ip") {
            Some(_) => NameArg::Ip("127.0.0.1".into()),
            None => NameArg::Host(
                case_option(dir, "hostname").unwrap_or_else(|| "gateway.example.com".into()),
            ),
        };
        let target = format!("127.0.0.1:{port}");
        let mut args: Vec<String> = ["--json", "verify", &target, "--ca-file", "ca.pem"]
            .map(str::to_owned)
            .to_vec();
        args.extend(["--timeout".into(), "5".into()]);
        let mut client_args: Vec<String> = Vec::new();
        if let NameArg::Host(h) = &name {
            args.extend(["--servername".into(), h.clone()]);
        }
        if let Some((seconds, at)) = case_instant(dir) {
            client_args.extend(["-attime".into(), seconds]);
            args.extend(["--at".into(), at]);
        }
        if let Some(level) = case_option(dir, "auth_level") {
            client_args.extend(["-auth_level".into(), level.clone()]);
            args.extend(["--auth-level".into(), level]);
        }
        let handshake = device_s_client(dir, port, "ca.pem", &name, &client_args);
        let text = handshake.text();
        let code = handshake
            .verify_code
            .unwrap_or_else(|| panic!("{case}: no Verify return code from s_client:\n{text}"));
        let depth = handshake.error_depth;
        let r = pki(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
        if r.code != 0 && r.code != 1 {
            mismatches.push(format!("{case}: exit {}\n{}{}", r.code, r.stdout, r.stderr));
            continue;
        }
        let j = r.json();
        let Some(ours_code) = j["verification"]["openssl"]["code"].as_i64() else {
            mismatches.push(format!("{case}: no OpenSSL verdict in {j}"));
            continue;
        };
        let ours = (
            ours_code as i32,
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
        // A wrong name is the name check's to say (once); every other fault is diagnosed.
        let says = if case == "hostname-mismatch" {
            "[FAIL] name "
        } else {
            "diagnosis:"
        };
        assert!(r.stdout.contains(says), "{case}: {}", r.stdout);
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

/// The lines of verify's text that find fault with `name`: failed or warned checks and the
/// diagnosis (not the raw verdicts, nor the handshake's SNI).
fn lines_naming<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.contains(name))
        .filter(|l| {
            l.starts_with("  [FAIL]") || l.starts_with("  [warn]") || l.starts_with("diagnosis:")
        })
        .collect()
}

#[test]
fn a_name_mismatch_is_reported_once() {
    let d = gateway_pki();
    let p = d.path();
    // Offline, and online against a server of the same chain.
    let offline = pki(
        p,
        &[
            "verify",
            "--chain",
            SERVER_CHAIN,
            "--ca-file",
            ROOT,
            "--hostname",
            "other.example",
        ],
    )
    .expect(1);
    let server = OpensslServer::start(p, SERVER, SERVER_KEY, Some(SERVER_CHAIN), &[]);
    let online = pki(
        p,
        &[
            "verify",
            &server.addr(),
            "--servername",
            "other.example",
            "--ca-file",
            ROOT,
        ],
    )
    .expect(1);
    for r in [offline, online] {
        let said = lines_naming(&r.stdout, "other.example");
        assert_eq!(said.len(), 1, "{}", r.stdout);
        assert!(said[0].starts_with("  [FAIL] name "), "{}", r.stdout);
        // The chain itself is fine: only its name is wrong.
        assert!(r.stdout.contains("  [ok]   chain "), "{}", r.stdout);
        assert!(r.stdout.ends_with("NOT verified\n"), "{}", r.stdout);
    }
}

#[test]
fn a_leaf_that_expires_within_30_days_gets_a_clock_warning() {
    let d = gateway_pki();
    let p = d.path();
    pki(p, &["issue", "server", "near.example", "--days", "5"]).expect(0);
    let near = "pki/certs/iot-edge-server-near.example-full-chain.cert.pem";
    let args = [
        "verify",
        "--chain",
        near,
        "--ca-file",
        ROOT,
        "--hostname",
        "near.example",
    ];
    let r = pki(p, &args).expect(0);
    let clock = r.stdout.lines().find(|l| l.contains(" clock ")).unwrap();
    assert!(clock.starts_with("  [warn] clock "), "{}", r.stdout);
    assert!(
        clock.contains("depth 0 CN = near.example expires in 4 days")
            || clock.contains("depth 0 CN = near.example expires in 5 days"),
        "{clock}"
    );
    assert!(clock.contains("pki renew"), "{clock}");
    assert!(r.stdout.ends_with("verified OK\n"), "{}", r.stdout);
    // 31 days ahead of a one-year certificate: no warning.
    let r = pki(p, &["verify", "--chain", SERVER_CHAIN, "--ca-file", ROOT]).expect(0);
    assert!(r.stdout.contains("  [ok]   clock "), "{}", r.stdout);
}

#[test]
fn an_unreachable_gateway_is_named_once_in_verify_and_scan() {
    let d = tmp();
    let p = d.path();
    std::fs::write(
        p.join("ca.pem"),
        std::fs::read(testdata("verify/ok/ca.pem")).unwrap(),
    )
    .unwrap();
    let silent = SilentServer::start();
    let plain = PlainTextServer::start();
    let closed = closed_port();
    let targets = [
        format!("127.0.0.1:{closed}"),
        silent.addr(),
        plain.addr(),
        "no-such-host.invalid:8883".to_owned(),
    ];
    for target in &targets {
        let r = pki(
            p,
            &["verify", target, "--ca-file", "ca.pem", "--timeout", "1"],
        )
        .expect(2);
        let line = crate::support::one_error_line(&r);
        let host = target.rsplit_once(':').unwrap().0;
        assert_eq!(line.matches(host).count(), 1, "{line}");
        assert!(
            line.starts_with(&format!("pki: error: cannot verify {target}: ")),
            "{line}"
        );
    }
    // A scan's row names the gateway in its first column; its reason does not again.
    std::fs::write(p.join("hosts.txt"), targets.join("\n") + "\n").unwrap();
    let r = pki(
        p,
        &[
            "--json",
            "scan",
            "hosts.txt",
            "--ca-file",
            "ca.pem",
            "--timeout",
            "1",
        ],
    )
    .expect(1);
    for line in r.stdout.lines() {
        let j: serde_json::Value = serde_json::from_str(line).unwrap();
        let host = j["target"].as_str().unwrap().rsplit_once(':').unwrap().0;
        let reason = j["reason"].as_str().unwrap();
        assert!(!reason.is_empty() && !reason.contains(host), "{line}");
    }
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

/// What the built binary says offline of every fixture, in text and in `--json`, against
/// `openssl verify` with the case's options: the same first error (or OK) and exit code, and a
/// whole JSON document carrying the code and depth, for every verdict either client gives.
#[test]
fn offline_verdicts_match_openssl_verify_on_every_fixture() {
    let cases = all_case_dirs();
    assert!(cases.len() >= 138, "fixtures missing: {cases:?}");
    let mut mismatches = Vec::new();
    for dir in &cases {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut args: Vec<String> = ["verify", "--chain", "leaf.pem", "--ca-file", "ca.pem"]
            .map(str::to_owned)
            .to_vec();
        let mut oargs: Vec<String> = ["verify", "-no-CApath", "-no-CAstore", "-CAfile", "ca.pem"]
            .map(str::to_owned)
            .to_vec();
        if std::fs::metadata(dir.join("chain.pem")).is_ok_and(|m| m.len() > 0) {
            args.extend(["--untrusted".into(), "chain.pem".into()]);
            oargs.extend(["-untrusted".into(), "chain.pem".into()]);
        }
        if let Some((seconds, at)) = case_instant(dir) {
            args.extend(["--at".into(), at]);
            oargs.extend(["-attime".into(), seconds]);
        }
        for (key, flag, oflag) in [
            ("purpose", "--purpose", "-purpose"),
            ("auth_level", "--auth-level", "-auth_level"),
            ("hostname", "--hostname", "-verify_hostname"),
            ("ip", "--hostname", "-verify_ip"),
        ] {
            if let Some(v) = case_option(dir, key) {
                let v = match v.as_str() {
                    "sslserver" => "server".to_owned(),
                    "sslclient" => "client".to_owned(),
                    _ => v,
                };
                args.extend([flag.to_owned(), v.clone()]);
                let v = match v.as_str() {
                    "server" => "sslserver".to_owned(),
                    "client" => "sslclient".to_owned(),
                    _ => v,
                };
                oargs.extend([oflag.to_owned(), v]);
            }
        }
        oargs.push("leaf.pem".into());
        let theirs = openssl(dir, &oargs.iter().map(String::as_str).collect::<Vec<_>>());
        let theirs_text = format!("{}{}", theirs.stdout, theirs.stderr);
        let first_error = theirs_text.lines().find_map(|l| {
            let rest = l.strip_prefix("error ")?;
            let (code, rest) = rest.split_once(" at ")?;
            let (depth, _) = rest.split_once(" depth")?;
            Some((code.parse::<i64>().ok()?, depth.parse::<u64>().ok()?))
        });
        let want = first_error.map_or((0, None), |(c, d)| (c, Some(d)));

        args.extend(["--client".into(), "openssl".into()]);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let text = pki(dir, &argv);
        if text.code != i32::from(want.0 != 0) {
            mismatches.push(format!(
                "{case}: text exit {} where openssl verify says {want:?}\n{}{}",
                text.code, text.stdout, text.stderr
            ));
        }
        let json = pki(dir, &[&["--json"], argv.as_slice()].concat());
        let doc: Result<serde_json::Value, _> = serde_json::from_str(&json.stdout);
        let Ok(doc) = doc else {
            mismatches.push(format!(
                "{case}: --json printed no JSON document (exit {})\n{}{}",
                json.code, json.stdout, json.stderr
            ));
            continue;
        };
        let openssl = &doc["verification"]["openssl"];
        let got = (
            openssl["code"].as_i64().unwrap_or(-1),
            openssl["depth"].as_u64(),
        );
        if got != want || json.code != text.code {
            mismatches.push(format!(
                "{case}: --json says {got:?} (exit {}), openssl verify {want:?}",
                json.code
            ));
        }
        if !doc["verification"]["webpki"]["result"].is_string() {
            mismatches.push(format!("{case}: no rustls verdict in {doc}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
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
