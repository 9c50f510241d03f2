//! The harness's own tests: each peer in `support/` works as the tests assume, proved with the
//! reference client (`openssl s_client`): s_server serves a pki chain (and every fixture case)
//! to several clients, mutual TLS, mosquitto with and without client certificates, a silent
//! server, a plain-text server, a refused port; and each server is gone once dropped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::quickstart::{
    DEVICE, DEVICE_FULL, DEVICE_KEY, INTERMEDIATE_FULL, ROOT, SERVER, SERVER_FULL, SERVER_KEY,
    gateway_pki as quickstart,
};
use crate::support::{
    Handshake, MQTT_CONNACK_OK, MQTT_CONNECT_DISCONNECT, Mosquitto, OpensslServer,
    PLAIN_TEXT_ANSWER, PlainTextServer, SClient, Server, SilentServer, closed_port, loopback,
    pem_certificates, programs, s_client, testdata, tmp,
};

/// A device presenting its certificate, the intermediate and the root.
const WITH_DEVICE_CERT: &[&str] = &[
    "-cert",
    DEVICE,
    "-cert_chain",
    INTERMEDIATE_FULL,
    "-key",
    DEVICE_KEY,
];

/// s_client as a device that trusts the pki root and checks the name `localhost`.
fn trusting_device(p: &Path, server: &impl Server) -> SClient {
    s_client(p, server.port())
        .ca_file(ROOT)
        .verify_return_error()
        .verify_hostname("localhost")
}

#[track_caller]
fn verified_ok(r: &Handshake) {
    assert!(
        r.code == 0 && r.stdout.contains("Verify return code: 0 (ok)"),
        "s_client did not verify the server (exit {}):\n{}\n{}",
        r.code,
        r.stdout,
        r.stderr
    );
}

/// Drops `server` and checks that its port no longer accepts connections.
#[track_caller]
fn assert_stops_listening(server: impl Server) {
    let port = server.port();
    drop(server);
    assert!(
        TcpStream::connect(loopback(port)).is_err(),
        "still listening after drop"
    );
}

/// The certificates the server sent, from `s_client -showcerts`.
fn sent(r: &Handshake) -> Vec<String> {
    pem_certificates(&r.stdout)
}

fn file_certs(dir: &Path, rel: &str) -> Vec<String> {
    pem_certificates(&std::fs::read_to_string(dir.join(rel)).unwrap())
}

#[test]
fn openssl_server_serves_a_pki_gateway_chain_to_several_clients() {
    let d = quickstart();
    let p = d.path();
    let server = OpensslServer::start(p, SERVER, SERVER_KEY, Some(SERVER_FULL), &[]);
    assert_eq!(server.addr(), format!("127.0.0.1:{}", server.port()));
    for _ in 0..2 {
        let r = trusting_device(p, &server).args(&["-showcerts"]).run();
        verified_ok(&r);
        // Leaf, edge CA, intermediate, root: the full-chain file once, the leaf not twice.
        assert_eq!(sent(&r), file_certs(p, SERVER_FULL));
    }
    // A device that checks another name, or trusts another root, rejects it.
    let r = s_client(p, server.port())
        .args(&[
            "-CAfile",
            ROOT,
            "-verify_return_error",
            "-verify_hostname",
            "gw.example.com",
        ])
        .run();
    assert_ne!(r.code, 0);
    assert!(
        r.stdout
            .contains("Verify return code: 62 (hostname mismatch)"),
        "{}",
        r.stdout
    );
    assert_stops_listening(server);
}

#[test]
fn openssl_server_without_a_chain_sends_only_its_certificate() {
    let d = quickstart();
    let p = d.path();
    let server = OpensslServer::start(p, SERVER, SERVER_KEY, None, &[]);
    let r = trusting_device(p, &server).args(&["-showcerts"]).run();
    assert_ne!(r.code, 0);
    assert!(
        r.stdout
            .contains("Verify return code: 20 (unable to get local issuer certificate)"),
        "{}",
        r.stdout
    );
    assert_eq!(sent(&r), file_certs(p, SERVER));
}

#[test]
fn openssl_server_with_mutual_tls() {
    let d = quickstart();
    let p = d.path();
    let server = OpensslServer::start(
        p,
        SERVER,
        SERVER_KEY,
        Some(SERVER_FULL),
        &["-Verify", "1", "-verify_return_error", "-CAfile", ROOT],
    );
    // Without a client certificate: the server aborts (TLS 1.3 alert 116).
    let r = trusting_device(p, &server).args(&["-ign_eof"]).run();
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("certificate required"), "{}", r.stderr);
    // With the pki-issued device certificate: the -www page describes it.
    let r = trusting_device(p, &server)
        .args(WITH_DEVICE_CERT)
        .args(&["-ign_eof"])
        .stdin(b"GET / HTTP/1.0\r\n\r\n")
        .run();
    verified_ok(&r);
    assert!(r.stdout.contains("HTTP/1.0 200 ok"), "{}", r.stdout);
    assert!(
        r.stdout.contains("Subject: CN=downstream-device-1"),
        "{}",
        r.stdout
    );
    // A device certificate without its intermediate does not verify at the server.
    let r = trusting_device(p, &server)
        .args(&["-cert", DEVICE, "-key", DEVICE_KEY, "-ign_eof"])
        .run();
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("unknown ca"), "{}", r.stderr);
    assert!(
        server
            .output()
            .contains("unable to get local issuer certificate"),
        "{}",
        server.output()
    );
}

#[test]
fn openssl_server_serves_every_fixture_case() {
    let root = testdata("verify");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.txt").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "fixtures in {}", root.display());
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let options = std::fs::read_to_string(case.join("case.txt")).unwrap();
        let attime = options
            .lines()
            .find_map(|l| l.strip_prefix("attime="))
            .expect("attime");
        let chain = file_certs(&case, "chain.pem");
        // OpenSSL 3 loads a SHA-1-signed certificate only at security level 0.
        let extra: &[&str] = if options.contains("auth_level=") {
            &["-cipher", "DEFAULT@SECLEVEL=0"]
        } else {
            &[]
        };
        let server = OpensslServer::start(
            &case,
            "leaf.pem",
            "leaf.key.pem",
            (!chain.is_empty()).then_some("chain.pem"),
            extra,
        );
        // Not -verify_return_error: the handshake completes whatever the verdict.
        let r = s_client(&case, server.port())
            .args(&["-CAfile", "ca.pem", "-attime", attime, "-showcerts"])
            .run();
        assert_eq!(r.code, 0, "{name}: {}\n{}", r.stderr, server.output());
        assert!(
            r.stdout.contains("Verify return code: "),
            "{name}: {}",
            r.stdout
        );
        let mut expected = file_certs(&case, "leaf.pem");
        expected.extend(chain);
        assert_eq!(sent(&r), expected, "{name}: the server sent another chain");
    }
}

#[test]
fn mosquitto_serves_a_pki_gateway_chain() {
    let d = quickstart();
    let p = d.path();
    let broker = Mosquitto::start(p, ROOT, SERVER_FULL, SERVER_KEY, false);
    assert_eq!(broker.addr(), format!("127.0.0.1:{}", broker.port()));
    let r = trusting_device(p, &broker).args(&["-showcerts"]).run();
    verified_ok(&r);
    assert_eq!(sent(&r), file_certs(p, SERVER_FULL));
    // An MQTT session over it, anonymous.
    let r = trusting_device(p, &broker)
        .args(&["-ign_eof"])
        .stdin(MQTT_CONNECT_DISCONNECT)
        .run();
    verified_ok(&r);
    assert!(
        r.stdout.contains(MQTT_CONNACK_OK),
        "no CONNACK:\n{}",
        r.stdout
    );
    assert_stops_listening(broker);
}

#[test]
fn mosquitto_requiring_a_client_certificate() {
    let d = quickstart();
    let p = d.path();
    let broker = Mosquitto::start(p, ROOT, SERVER_FULL, SERVER_KEY, true);
    // Without a certificate the broker aborts the handshake (TLS 1.3 alert 116).
    let r = trusting_device(p, &broker).args(&["-ign_eof"]).run();
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("certificate required"), "{}", r.stderr);
    // Over TLS 1.2 the same refusal fails the handshake itself.
    let r = trusting_device(p, &broker).args(&["-tls1_2"]).run();
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("handshake failure"), "{}", r.stderr);
    // With the pki-issued device certificate: an MQTT session, the CN as the user name.
    let r = trusting_device(p, &broker)
        .args(WITH_DEVICE_CERT)
        .args(&["-ign_eof"])
        .stdin(MQTT_CONNECT_DISCONNECT)
        .run();
    verified_ok(&r);
    assert!(
        r.stdout.contains(MQTT_CONNACK_OK),
        "no CONNACK:\n{}",
        r.stdout
    );
    assert!(
        broker.output().contains("u'downstream-device-1'"),
        "{}",
        broker.output()
    );
    // s_client sends only the first certificate of a -cert file: the device's full-chain
    // file alone lacks the intermediate.
    let r = trusting_device(p, &broker)
        .args(&["-cert", DEVICE_FULL, "-key", DEVICE_KEY, "-ign_eof"])
        .run();
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("unknown ca"), "{}", r.stderr);
}

#[test]
fn silent_server_accepts_and_never_answers() {
    let server = SilentServer::start();
    assert_eq!(server.addr(), format!("127.0.0.1:{}", server.port()));
    let mut conn = TcpStream::connect(loopback(server.port())).unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let err = conn.read(&mut [0u8; 16]).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    // A TLS client waits for a ServerHello that never comes.
    let client = s_client(&std::env::temp_dir(), server.port());
    assert!(client.within(Duration::from_millis(700)).is_none());
    assert!(server.accepted() >= 2);
    assert_stops_listening(server);
}

#[test]
fn plain_text_server_answers_http_400() {
    let server = PlainTextServer::start();
    assert_eq!(server.addr(), format!("127.0.0.1:{}", server.port()));
    let mut conn = TcpStream::connect(loopback(server.port())).unwrap();
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert_eq!(answer, PLAIN_TEXT_ANSWER);
    let r = s_client(&std::env::temp_dir(), server.port()).run();
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("wrong version number"), "{}", r.stderr);
    assert_eq!(server.accepted(), 2);
    assert_stops_listening(server);
}

#[test]
fn closed_port_refuses() {
    let port = closed_port();
    let err = TcpStream::connect(loopback(port)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    let r = s_client(&std::env::temp_dir(), port).run();
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("Connection refused"), "{}", r.stderr);
}

/// The programs of tests/programs.txt that are found nowhere, as `NAME (Debian package PKG)`.
fn missing_programs() -> Vec<String> {
    programs::list()
        .into_iter()
        .filter(|p| p.find().is_none())
        .map(|p| format!("{} (Debian package {})", p.name, p.package))
        .collect()
}

/// `(major, minor, patch)` of an `openssl version` line (`OpenSSL 3.0.22 25 Aug 2026 ...`).
fn openssl_release(version: &str) -> Option<(u32, u32, u32)> {
    let number = version.split_whitespace().nth(1)?;
    let mut parts = number
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

#[test]
fn the_oracle_is_openssl_3_0_20_or_later() {
    // pki-verify models OpenSSL 3.0 as Debian's security updates ship it: from 3.0.20 a delta
    // CRL is never taken for a complete one (openssl/openssl#31044). An older oracle disagrees
    // with the model on purpose; scripts/test.sh upgrades it.
    assert_eq!(
        openssl_release("OpenSSL 3.0.22 25 Aug 2026 (Library: OpenSSL 3.0.22 25 Aug 2026)"),
        Some((3, 0, 22))
    );
    let d = tmp();
    let out = crate::support::openssl(d.path(), &["version"]);
    let release = openssl_release(&out.stdout)
        .unwrap_or_else(|| panic!("cannot read `openssl version`: {:?}", out.stdout));
    assert!(
        release >= (3, 0, 20),
        "the tests' oracle is {}; pki models OpenSSL 3.0.20 or later (Debian's current 3.0): \
         upgrade it (apt-get install -y openssl; scripts/test.sh does)",
        out.stdout.trim()
    );
}

#[test]
fn every_program_the_tests_run_is_installed() {
    let missing = missing_programs();
    assert!(
        missing.is_empty(),
        "programs the tests run are missing: {}; install their packages (scripts/test.sh does, \
         from tests/programs.txt)",
        missing.join(", ")
    );
}

/// The packages `scripts/lib/programs.sh` (what scripts/test.sh installs from) says are missing
/// with `path` as PATH.
fn packages_the_script_installs(path: &std::ffi::OsStr) -> Vec<String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = programs::command("bash")
        .current_dir(&repo)
        .args([
            "-c",
            ". scripts/lib/programs.sh && programs_missing_packages tests/programs.txt",
        ])
        .env("PATH", path)
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The packages of the programs the harness finds nowhere with `path` as PATH, once each.
fn packages_the_harness_misses(path: &std::ffi::OsStr) -> Vec<String> {
    let mut packages: Vec<String> = Vec::new();
    for p in programs::list() {
        if p.find_on(Some(path)).is_none() && !packages.iter().any(|k| k == p.package) {
            packages.push(p.package.to_owned());
        }
    }
    packages
}

#[test]
fn scripts_test_sh_installs_what_the_harness_finds_missing() {
    // The machine's PATH, and none at all (only the off-PATH places and the list's own count):
    // the script and the harness read the one list the same way.
    let on_path = std::env::var_os("PATH").unwrap_or_default();
    let nowhere = tmp();
    for path in [on_path.as_os_str(), nowhere.path().as_os_str()] {
        assert_eq!(
            packages_the_script_installs(path),
            packages_the_harness_misses(path),
            "PATH={path:?}"
        );
    }
    // Without PATH most programs are missing (the check is not vacuous); the ones Debian puts
    // off PATH are still found where the list says.
    let without = packages_the_harness_misses(nowhere.path().as_os_str());
    assert!(without.iter().any(|p| p == "openssl"), "{without:?}");
    for name in ["update-ca-certificates", "initdb"] {
        assert!(
            programs::program(name)
                .find_on(Some(nowhere.path().as_os_str()))
                .is_some(),
            "{name}"
        );
    }
}

#[test]
fn a_program_is_found_on_path_then_off_path_then_at_its_newest_place() {
    let d = tmp();
    let p = d.path();
    let exe = |rel: &str| {
        let f = p.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        f
    };
    // Versions 9 and 15 (15 is newer though "9" sorts after "15"), and 16 without the program.
    exe("pg/9/bin/tool");
    let newest = exe("pg/15/bin/tool");
    std::fs::create_dir_all(p.join("pg/16/bin")).unwrap();
    let place: &'static str = Box::leak(format!("{}/pg/*/bin/tool", p.display()).into_boxed_str());
    let tool = programs::Program {
        name: "tool",
        package: "some-package",
        places: vec![place],
    };
    let empty = tmp();
    assert_eq!(tool.find_on(Some(empty.path().as_os_str())), Some(newest));
    // On PATH first.
    let on_path = exe("bin/tool");
    assert_eq!(tool.find_on(Some(p.join("bin").as_os_str())), Some(on_path));
    // A file that cannot be run is not the program.
    #[cfg(unix)]
    {
        std::fs::create_dir_all(p.join("plain")).unwrap();
        std::fs::write(p.join("plain/tool"), "").unwrap();
        let nothing = programs::Program {
            name: "tool",
            package: "some-package",
            places: vec![],
        };
        assert_eq!(nothing.find_on(Some(p.join("plain").as_os_str())), None);
    }
    // A program not on the list cannot be run: the harness refuses to make its command.
    let refused = std::panic::catch_unwind(|| programs::command("no-such-program-xyz"))
        .expect_err("an unlisted program was run");
    let message = refused
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("no-such-program-xyz is not in tests/programs.txt"),
        "{message}"
    );
}

/// Every variable of pki's own (pki-cli/src/env.rs) is removed from each pki a test starts, the
/// system's (PATH, SSL_CERT_FILE) are left to the tests: a developer's shell with
/// `PKI_REGISTER=postgres://...` or `C8Y_URL=...` exported never reaches a test's pki.
#[test]
fn pki_runs_without_the_variables_pki_reads() {
    let vars = crate::support::pki_variables();
    for expected in [
        "PKI_DIR",
        "PKI_REGISTER",
        "PKI_KEY_PASSWORD",
        "PKI_PKCS11_MODULE",
        "PKI_PKCS11_PIN",
        "PKI_RENEW_PHASE",
        "IOTHUB_DEVICE_CONNECTION_STRING",
        "C8Y_URL",
        "C8Y_USER",
        "C8Y_TENANT",
        "C8Y_PASSWORD",
    ] {
        assert!(vars.iter().any(|v| v == expected), "{expected} in {vars:?}");
    }
    for system in ["PATH", "HOME", "SSL_CERT_FILE", "SSL_CERT_DIR"] {
        assert!(!vars.iter().any(|v| v == system), "{system} in {vars:?}");
    }
    let p = tmp();
    let removed: Vec<String> = crate::support::pki_command(p.path(), &["--version"])
        .get_envs()
        .filter(|(_, value)| value.is_none())
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    for var in vars {
        assert!(removed.contains(var), "{var} reaches pki: {removed:?}");
    }
}
