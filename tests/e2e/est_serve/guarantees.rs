//! What `pki est serve` holds against hostile or broken peers, each against the real server:
//! bounded bodies, malformed and forged CSRs, missing and guessed credentials, slow and idle
//! connections, too many connections, old TLS, secrets kept out of its output, an audit line per
//! request, SIGTERM's drain, one-time secrets, revoked and expired certificates.

use std::io::Read;
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use base64::Engine as _;

use super::{
    CACERTS, SIMPLEENROLL, SIMPLEREENROLL, aziot_body, aziot_certs, aziot_get, aziot_post, enrol,
    est_rows, reenrol, serial,
};
use crate::support::clock::Clock;
use crate::support::est::{
    EstServer, Response, TlsConn, basic, csr, exchange, pem_der, root, secret,
};
use crate::support::{loopback, pki, s_client};

/// Generous: how long a connection the server should close may stay open in these tests.
const CLOSE_BOUND: Duration = Duration::from_secs(10);

/// The request refused with `status`: its body is a one-line reason in plain text.
#[track_caller]
fn refused_with_reason(answer: &Response, status: u16) -> String {
    assert_eq!(answer.status, status, "{answer}");
    let ct = answer.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("text/plain"), "{answer}");
    let reason = answer.text();
    assert!(!reason.trim().is_empty(), "no reason: {answer}");
    assert!(
        !reason.trim_end().contains('\n') && !reason.chars().any(|c| c.is_control() && c != '\n'),
        "one line of text: {reason:?}"
    );
    reason
}

#[test]
fn a_body_over_64_kib_is_refused_and_nothing_issued() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &[]);
    let port = server.port();
    let auth = basic("dev-big", &secret(p, "dev-big", &[]));
    // Base64 text, so that only its size refuses it.
    let big = vec![b'A'; 70 * 1024];
    let answer = exchange(
        p,
        port,
        &[],
        &aziot_post(port, SIMPLEENROLL, Some(&auth), &big),
    );
    assert!(matches!(answer.status, 413 | 400), "{answer}");
    // The same without a length: chunked, as a client streaming it sends it.
    let mut chunked = format!(
        "POST {SIMPLEENROLL} HTTP/1.1\r\nhost: localhost:{port}\r\nauthorization: {auth}\r\n\
         content-type: application/pkcs10\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for chunk in big.chunks(8192) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let answer = exchange(p, port, &[], &chunked);
    assert!(matches!(answer.status, 413 | 400), "{answer}");
    assert!(est_rows(p).is_empty(), "{:?}", est_rows(p));
    // The audit lines say who the refused requests claimed to be.
    for l in server.requests(2) {
        assert!(matches!(l["status"].as_u64(), Some(413 | 400)), "{l}");
        assert_eq!(l["who"], "dev-big", "{l}");
    }

    // Nothing was issued, so the secret is still the device's to use.
    let csr = csr(p, "dev-big.key.pem", "/CN=dev-big", &[]);
    let answer = exchange(
        p,
        port,
        &[],
        &aziot_post(port, SIMPLEENROLL, Some(&auth), &aziot_body(&csr)),
    );
    assert_eq!(answer.status, 200, "{answer}");
    assert_eq!(est_rows(p).len(), 1);
}

#[test]
fn malformed_and_forged_csrs_are_400_with_a_reason_and_nothing_issued() {
    let d = super::ca_dir();
    let p = d.path();
    // Fewer than the refusals below: a 400 is not a wrong guess of the secret.
    let server = EstServer::start(p, &["--rate-limit", "2"]);
    let port = server.port();
    let auth = basic("dev-m", &secret(p, "dev-m", &[]));
    let csr_pem = csr(p, "dev-m.key.pem", "/CN=dev-m", &[]);
    let der = pem_der(&csr_pem);
    // The signature's last byte changed: the request reads, its signature fails.
    let mut forged = der.clone();
    *forged.last_mut().unwrap() ^= 0x01;
    // A certificate is no CSR.
    let cert_der = pem_der(&std::fs::read_to_string(p.join(root(p))).unwrap());
    let b64 = |der: &[u8]| {
        let mut s = base64::engine::general_purpose::STANDARD.encode(der);
        s.push('\n');
        s.into_bytes()
    };
    let bodies: [(&str, Vec<u8>); 4] = [
        ("not base64", b"this is not base64 at all!\n".to_vec()),
        ("PEM armour", csr_pem.clone().into_bytes()),
        ("a forged signature", b64(&forged)),
        ("a certificate", b64(&cert_der)),
    ];
    for (what, body) in &bodies {
        let answer = exchange(
            p,
            port,
            &[],
            &aziot_post(port, SIMPLEENROLL, Some(&auth), body),
        );
        let reason = refused_with_reason(&answer, 400);
        if *what == "a forged signature" {
            assert!(reason.contains("signature"), "{what}: {reason}");
        }
    }
    assert!(est_rows(p).is_empty(), "{:?}", est_rows(p));
    let lines = server.requests(bodies.len());
    for l in &lines {
        assert_eq!(l["status"], 400, "{l}");
        assert!(l["reason"].as_str().is_some_and(|r| !r.is_empty()), "{l}");
        assert!(l.get("serial").is_none_or(|s| s.is_null()), "{l}");
    }

    // The secret was neither used nor counted as guessed wrongly: the device may try again.
    let answer = exchange(
        p,
        port,
        &[],
        &aziot_post(port, SIMPLEENROLL, Some(&auth), &aziot_body(&csr_pem)),
    );
    assert_eq!(answer.status, 200, "{answer}");
}

#[test]
fn no_credentials_is_401_with_a_basic_challenge() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &[]);
    let port = server.port();
    let csr = csr(p, "dev-n.key.pem", "/CN=dev-n", &[]);
    for path in [SIMPLEENROLL, SIMPLEREENROLL] {
        let answer = exchange(
            p,
            port,
            &[],
            &aziot_post(port, path, None, &aziot_body(&csr)),
        );
        assert_eq!(answer.status, 401, "{path}: {answer}");
        let challenge = answer.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Basic "), "{path}: {answer}");
        assert!(challenge.contains("realm="), "{path}: {answer}");
    }
    assert!(est_rows(p).is_empty());
    let lines = server.requests(2);
    assert!(
        lines
            .iter()
            .all(|l| l["auth"] == "none" && l["status"] == 401),
        "{lines:?}"
    );
}

#[test]
fn wrong_secrets_count_until_even_the_right_one_gets_429() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &["--rate-limit", "3"]);
    let port = server.port();
    let right = secret(p, "dev-r", &[]);
    let csr = csr(p, "dev-r.key.pem", "/CN=dev-r", &[]);
    let body = aziot_body(&csr);
    for guess in [
        "guess-1-aaaaaaaaaaaaaa",
        "guess-2-aaaaaaaaaaaaaa",
        "guess-3-aaaaaaaaaaaaaa",
    ] {
        let answer = exchange(
            p,
            port,
            &[],
            &aziot_post(port, SIMPLEENROLL, Some(&basic("dev-r", guess)), &body),
        );
        assert_eq!(answer.status, 401, "{answer}");
    }
    let answer = exchange(
        p,
        port,
        &[],
        &aziot_post(port, SIMPLEENROLL, Some(&basic("dev-r", &right)), &body),
    );
    assert_eq!(answer.status, 429, "{answer}");
    let retry = answer.header("retry-after").unwrap_or_default();
    assert!(
        retry.parse::<u64>().is_ok_and(|s| s > 0),
        "Retry-After in seconds: {answer}"
    );
    assert!(est_rows(p).is_empty());
}

#[test]
fn cacerts_ignores_the_authorization_aziot_certd_sends_with_it() {
    let d = super::ca_dir();
    let p = d.path();
    // One wrong guess allowed: a GET counted as one would show.
    let server = EstServer::start(p, &["--rate-limit", "1"]);
    let port = server.port();
    let auth = basic("dev-c", &secret(p, "dev-c", &[]));
    let csr = csr(p, "dev-c.key.pem", "/CN=dev-c", &[]);
    let post = aziot_post(port, SIMPLEENROLL, Some(&auth), &aziot_body(&csr));
    assert_eq!(exchange(p, port, &[], &post).status, 200);
    // aziot-certd's GET may come after its POST used the secret, with the same header.
    let wrong = basic("dev-c", "a-wrong-secret-aaaaaaa");
    for authorization in [&auth, &wrong, &auth] {
        let answer = exchange(p, port, &[], &aziot_get(port, CACERTS, Some(authorization)));
        assert!(!aziot_certs(p, &answer).is_empty());
    }
    // Nothing was counted against this address or id.
    enrol(p, port, "dev-d");
    assert_eq!(est_rows(p).len(), 2);
}

#[test]
fn a_stalled_request_head_is_closed_within_the_header_timeout() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &["--header-timeout", "1s", "--idle-timeout", "60s"]);
    let port = server.port();
    let mut slow = TlsConn::open(p, port, &[]);
    slow.send(format!("POST {SIMPLEENROLL} HTTP/1.1\r\nhost: loc").as_bytes());
    // Served meanwhile.
    let answer = exchange(p, port, &[], &aziot_get(port, CACERTS, None));
    assert_eq!(answer.status, 200);
    assert!(
        slow.closed_within(CLOSE_BOUND),
        "half a header line still open after {CLOSE_BOUND:?}:\n{}",
        slow.output()
    );
    // No TLS at all: a TCP connection that never says hello is closed too.
    let mut silent = TcpStream::connect(loopback(port)).unwrap();
    silent.set_read_timeout(Some(CLOSE_BOUND)).unwrap();
    let mut buf = [0u8; 64];
    let closed = match silent.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    };
    assert!(
        closed,
        "a silent TCP connection still open after {CLOSE_BOUND:?}"
    );
}

#[test]
fn a_stalled_body_is_answered_408_and_nothing_issued() {
    let d = super::ca_dir();
    let p = d.path();
    let mut server = EstServer::start(p, &["--header-timeout", "1s"]);
    let port = server.port();
    let auth = basic("dev-b", &secret(p, "dev-b", &[]));
    let csr = csr(p, "dev-b.key.pem", "/CN=dev-b", &[]);
    let request = aziot_post(port, SIMPLEENROLL, Some(&auth), &aziot_body(&csr));
    // The whole head and a few bytes of the body, then nothing: the body has its own bound
    // (the header timeout, at least 10 seconds).
    let head_end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut conn = TlsConn::open(p, port, &[]);
    conn.send(&request[..head_end + 10]);
    let answer = conn
        .response_within(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("a stalled body still unanswered:\n{}", conn.output()));
    refused_with_reason(&answer, 408);
    assert!(server.running(), "{}", server.output());
    let lines = server.requests(1);
    assert_eq!(
        (lines[0]["status"].as_u64(), lines[0]["who"].as_str()),
        (Some(408), Some("dev-b")),
        "{lines:?}"
    );
    assert!(est_rows(p).is_empty());
    // The secret was not used.
    let answer = exchange(p, port, &[], &request);
    assert_eq!(answer.status, 200, "{answer}");
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &["--idle-timeout", "1s"]);
    let port = server.port();
    let mut conn = TlsConn::open(p, port, &[]);
    conn.send(&aziot_get(port, CACERTS, None));
    let answer = conn.response();
    assert_eq!(answer.status, 200);
    assert_ne!(
        answer.header("connection"),
        Some("close"),
        "kept alive: {answer}"
    );
    // A second request on the same connection is served: it was kept alive.
    conn.send(&aziot_get(port, CACERTS, None));
    assert_eq!(conn.response().status, 200);
    assert!(
        conn.closed_within(CLOSE_BOUND),
        "an idle connection still open after {CLOSE_BOUND:?}"
    );
}

#[test]
fn connections_over_the_limit_wait_while_the_first_are_served() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(
        p,
        &[
            "--max-connections",
            "2",
            "--idle-timeout",
            "60s",
            "--header-timeout",
            "60s",
        ],
    );
    let port = server.port();
    let get = aziot_get(port, CACERTS, None);
    let mut first = TlsConn::open(p, port, &[]);
    let mut second = TlsConn::open(p, port, &[]);
    for c in [&mut first, &mut second] {
        c.send(&get);
        assert_eq!(c.response().status, 200);
    }
    // A third, while both are open: not served.
    let mut third = TlsConn::open(p, port, &[]);
    third.send(&get);
    assert!(
        third.response_within(Duration::from_secs(2)).is_none(),
        "a third connection was served over --max-connections 2"
    );
    // The first two still are.
    for c in [&mut first, &mut second] {
        c.send(&get);
        assert_eq!(c.response().status, 200);
    }
    // Once one closes, the waiting one is served.
    drop(first);
    let answer = third.response();
    assert_eq!(answer.status, 200, "{answer}");
}

#[test]
fn tls_1_1_is_refused_and_tls_1_2_and_1_3_are_accepted() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &[]);
    let root = root(p);
    for (flag, name) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
        let h = s_client(p, server.port())
            .ca_file(&root)
            .servername("localhost")
            .verify_return_error()
            .args(&[flag])
            .run();
        assert_eq!(h.code, 0, "{flag}: {}", h.text());
        assert_eq!(h.verify_code, Some(0), "{flag}: {}", h.text());
        let negotiated = format!("New, {name}, Cipher is");
        assert!(h.stdout.contains(&negotiated), "{flag}: {}", h.text());
    }
    for flag in ["-tls1", "-tls1_1"] {
        // SECLEVEL=0 lets OpenSSL 3 offer them: the refusal is the server's alert.
        let h = s_client(p, server.port())
            .ca_file(&root)
            .servername("localhost")
            .args(&[flag, "-cipher", "DEFAULT@SECLEVEL=0"])
            .run();
        assert_ne!(h.code, 0, "{flag} accepted: {}", h.text());
        assert!(
            h.stdout.contains("Cipher is (NONE)"),
            "{flag}: {}",
            h.text()
        );
        assert!(h.stderr.contains("alert"), "{flag}: {}", h.text());
        assert!(
            !h.text().contains("no protocols available"),
            "{flag}: {}",
            h.text()
        );
    }
}

#[test]
fn secrets_never_reach_the_audit_lines_or_stderr() {
    let d = super::ca_dir();
    let p = d.path();
    let mut server = EstServer::start(p, &[]);
    let port = server.port();
    let right = secret(p, "dev-s", &[]);
    let wrong = "a-mistyped-secret-xyzw";
    let csr = csr(p, "dev-s.key.pem", "/CN=dev-s", &[]);
    let body = aziot_body(&csr);
    for s in [wrong, &right, &right] {
        let auth = basic("dev-s", s);
        exchange(
            p,
            port,
            &[],
            &aziot_post(port, SIMPLEENROLL, Some(&auth), &body),
        );
        exchange(p, port, &[], &aziot_get(port, CACERTS, Some(&auth)));
    }
    server.requests(6);
    assert_eq!(server.terminate(), 0, "{}", server.output());
    let output = server.output();
    for s in [right.as_str(), wrong] {
        let auth = basic("dev-s", s);
        let b64 = auth.trim_start_matches("Basic ");
        for needle in [s, b64] {
            assert!(
                !output.contains(needle),
                "{needle} in the output:\n{output}"
            );
        }
    }
}

#[test]
fn every_request_has_an_audit_line_with_who_what_and_serial() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &[]);
    let port = server.port();
    exchange(p, port, &[], &aziot_get(port, CACERTS, None));
    enrol(p, port, "dev-a");
    let issued = serial(p, "dev-a.cert.pem");
    let csr = csr(p, "dev-x.key.pem", "/CN=dev-x", &[]);
    exchange(
        p,
        port,
        &[],
        &aziot_post(
            port,
            SIMPLEENROLL,
            Some(&basic("dev-x", "wrong-wrong-wrong-wr")),
            &aziot_body(&csr),
        ),
    );
    let missing = exchange(
        p,
        port,
        &[],
        &aziot_get(port, "/.well-known/est/nothing", None),
    );
    assert_eq!(missing.status, 404, "{missing}");
    let method = exchange(p, port, &[], &aziot_get(port, SIMPLEENROLL, None));
    assert_eq!(method.status, 405, "{method}");
    let renewed = reenrol(p, port, "dev-a", SIMPLEREENROLL);
    let certs = aziot_certs(p, &renewed);
    std::fs::write(p.join("dev-a.next.cert.pem"), &certs[0]).unwrap();
    let reissued = serial(p, "dev-a.next.cert.pem");

    let lines = server.requests(6);
    assert_eq!(lines.len(), 6, "one line per request: {lines:#?}");
    for l in &lines {
        let time = l["time"].as_str().unwrap_or_else(|| panic!("{l}"));
        time::OffsetDateTime::parse(time, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(
            l["peer"]
                .as_str()
                .is_some_and(|s| s.starts_with("127.0.0.1:")),
            "{l}"
        );
        assert!(l["method"].is_string() && l["path"].is_string(), "{l}");
        assert!(l["status"].is_u64() && l["ms"].is_u64(), "{l}");
    }
    let find = |path: &str, status: u64| {
        lines
            .iter()
            .find(|l| l["path"] == path && l["status"] == status)
            .unwrap_or_else(|| panic!("no {path} {status}: {lines:#?}"))
    };
    let l = find(CACERTS, 200);
    assert_eq!(
        (l["operation"].as_str(), l["auth"].as_str()),
        (Some("cacerts"), Some("none")),
        "{l}"
    );
    let l = find(SIMPLEENROLL, 200);
    assert_eq!(
        (l["auth"].as_str(), l["who"].as_str()),
        (Some("secret"), Some("dev-a")),
        "{l}"
    );
    assert_eq!(l["label"], "device", "{l}");
    assert_eq!(
        l["serial"].as_str().map(str::to_ascii_uppercase),
        Some(issued),
        "{l}"
    );
    let l = find(SIMPLEENROLL, 401);
    assert_eq!(l["who"], "dev-x", "{l}");
    assert!(
        l["reason"].is_string() && l.get("serial").is_none_or(|s| s.is_null()),
        "{l}"
    );
    let l = find("/.well-known/est/nothing", 404);
    assert_eq!(l["method"], "GET", "{l}");
    let l = find(SIMPLEENROLL, 405);
    assert_eq!(l["method"], "GET", "{l}");
    let l = find(SIMPLEREENROLL, 200);
    assert_eq!(
        (l["auth"].as_str(), l["who"].as_str()),
        (Some("certificate"), Some("dev-a")),
        "{l}"
    );
    assert_eq!(l["operation"], "simplereenroll", "{l}");
    assert_eq!(
        l["serial"].as_str().map(str::to_ascii_uppercase),
        Some(reissued),
        "{l}"
    );
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let d = super::ca_dir();
    let p = d.path();
    let mut server = EstServer::start(p, &[]);
    let port = server.port();
    let auth = basic("dev-t", &secret(p, "dev-t", &[]));
    let csr = csr(p, "dev-t.key.pem", "/CN=dev-t", &[]);
    let request = aziot_post(port, SIMPLEENROLL, Some(&auth), &aziot_body(&csr));
    let (head_and_half, rest) = request.split_at(request.len() - 40);
    let mut conn = TlsConn::open(p, port, &[]);
    conn.send(head_and_half);
    // The head is read and the request handed on: it is in flight, waiting for its body.
    thread::sleep(Duration::from_millis(700));
    server.signal_term();
    thread::sleep(Duration::from_millis(700));
    assert!(
        server.running(),
        "exited with a request in flight:\n{}",
        server.output()
    );
    conn.send(rest);
    let answer = conn.response();
    assert_eq!(answer.status, 200, "{answer}");
    assert_eq!(server.wait_exit(), 0, "{}", server.output());
    let stdout = server.stdout_lines();
    let last: serde_json::Value = serde_json::from_str(stdout.last().unwrap()).unwrap();
    assert_eq!(last["event"], "stopped", "{stdout:?}");
    assert_eq!(last["served"], 1, "{stdout:?}");
    assert!(
        stdout
            .iter()
            .any(|l| l.contains("\"simpleenroll\"") && l.contains("\"status\":200")),
        "{stdout:?}"
    );
    assert_eq!(est_rows(p).len(), 1);
}

#[test]
fn a_used_secret_enrols_once() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &[]);
    let port = server.port();
    let auth = basic("dev-u", &secret(p, "dev-u", &[]));
    for (i, expected) in [(1, 200), (2, 401)] {
        let csr = csr(p, &format!("dev-u.{i}.key.pem"), "/CN=dev-u", &[]);
        let answer = exchange(
            p,
            port,
            &[],
            &aziot_post(port, SIMPLEENROLL, Some(&auth), &aziot_body(&csr)),
        );
        assert_eq!(answer.status, expected, "attempt {i}: {answer}");
    }
    assert_eq!(est_rows(p).len(), 1);
}

#[test]
fn a_revoked_certificate_cannot_re_enrol() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &[]);
    let port = server.port();
    enrol(p, port, "dev-v");
    pki(
        p,
        &[
            "revoke",
            &serial(p, "dev-v.cert.pem"),
            "--reason",
            "keyCompromise",
        ],
    )
    .expect(0);
    for path in [SIMPLEREENROLL, SIMPLEENROLL] {
        let answer = reenrol(p, port, "dev-v", path);
        assert!(matches!(answer.status, 401 | 403), "{path}: {answer}");
    }
    let rows = est_rows(p);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["status"], "revoked");
}

#[test]
fn an_expired_certificate_re_enrols_within_the_grace_and_not_beyond() {
    let d = super::ca_dir();
    let p = d.path();
    let clock = Clock::new();
    let server = EstServer::start_on(p, &["--days", "1", "--reenroll-grace", "5d"], &clock);
    let port = server.port();
    enrol(p, port, "dev-e");
    enrol(p, port, "dev-f");
    // Two days after it expired: within the grace.
    clock.set_day(3);
    let answer = reenrol(p, port, "dev-e", SIMPLEREENROLL);
    assert_eq!(answer.status, 200, "{answer}");
    // Nine days after: beyond it.
    clock.set_day(10);
    let answer = reenrol(p, port, "dev-f", SIMPLEREENROLL);
    assert!(matches!(answer.status, 401 | 403), "{answer}");
    let rows = est_rows(p);
    assert_eq!(
        rows.iter().filter(|r| r["common_name"] == "dev-e").count(),
        2,
        "{rows:?}"
    );
    assert_eq!(
        rows.iter().filter(|r| r["common_name"] == "dev-f").count(),
        1,
        "{rows:?}"
    );
}
