//! `pki scan` against real servers on loopback, all at once: a good gateway and one whose
//! certificate expires in 10 days (both issued by the built `pki`, served by `openssl s_server`),
//! an expired one (the `expired-leaf` fixture), a silent one and a closed port. Each row's
//! verdict, the exit codes, the JSON lines, the hosts file's refusals, and the bound on
//! concurrency, seen by the servers themselves. Then real mosquitto brokers requiring client
//! certificates: `--cert`/`--key` for all, a hosts line's own `cert=`/`key=` for a broker that
//! trusts another fleet's CA.

use std::io::Read;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::support::quickstart::{DEVICE_FULL, DEVICE_KEY, SERVER_FULL, SERVER_KEY, gateway_pki};
use crate::support::{
    Mosquitto, OpensslServer, Run, Server, SilentServer, closed_port, loopback, openssl, pki,
    pki_command, pki_env, refused_in_one_line, run_bounded, testdata, tmp,
};

/// `pki scan ARGS` in `dir`, killed (and the test failed) after `limit`.
fn scan(dir: &Path, args: &[&str], limit: Duration) -> Run {
    let mut all = vec!["scan"];
    all.extend_from_slice(args);
    let cmd: Command = pki_command(dir, &all);
    run_bounded(cmd, b"", limit).unwrap_or_else(|| panic!("pki scan {args:?} ran past {limit:?}"))
}

/// The table's row of `host` (the line that starts with it), split into its cells.
fn row<'a>(table: &'a str, host: &str) -> Vec<&'a str> {
    let line = table
        .lines()
        .find(|l| l.starts_with(&format!("{host} ")))
        .unwrap_or_else(|| panic!("no row for {host}:\n{table}"));
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// A CA directory with the gateway `gw.test` (365 days) and `short.test` (10 days), and the
/// `expired-leaf` fixture's CA beside it.
fn fleet_dir() -> tempfile::TempDir {
    let dir = tmp();
    let d = dir.path();
    pki(d, &["create-owner-ca"]).expect(0);
    pki(d, &["create-intermediate-ca"]).expect(0);
    pki(d, &["issue", "server", "gw.test"]).expect(0);
    pki(d, &["issue", "server", "short.test", "--days", "10"]).expect(0);
    for f in ["leaf.pem", "leaf.key.pem", "chain.pem", "ca.pem"] {
        std::fs::copy(
            testdata(&format!("verify/expired-leaf/{f}")),
            d.join(format!("expired-{f}")),
        )
        .unwrap();
    }
    dir
}

/// `openssl s_server` with pki's server certificate for `host` and its chain.
fn gateway(dir: &Path, host: &str) -> OpensslServer {
    OpensslServer::start(
        dir,
        &format!("pki/certs/iot-edge-server-{host}.cert.pem"),
        &format!("pki/private/iot-edge-server-{host}.key.pem"),
        Some(&format!(
            "pki/certs/iot-edge-server-{host}-full-chain.cert.pem"
        )),
        &[],
    )
}

const ROOT: &str = "pki/certs/azure-iot-test-only.root.ca.cert.pem";

#[test]
fn every_kind_of_gateway_at_once_with_its_verdict_and_exit_1() {
    let dir = fleet_dir();
    let d = dir.path();
    let good = gateway(d, "gw.test");
    let short = gateway(d, "short.test");
    let expired = OpensslServer::start(
        d,
        "expired-leaf.pem",
        "expired-leaf.key.pem",
        Some("expired-chain.pem"),
        &[],
    );
    let silent = SilentServer::start();
    let closed = closed_port();
    let hosts = format!(
        "# the fleet\n\n{} servername=gw.test\n{} servername=short.test   # renews soon\n\
         {} servername=gateway.example.com\n{}\n127.0.0.1:{closed}\n",
        good.addr(),
        short.addr(),
        expired.addr(),
        silent.addr()
    );
    std::fs::write(d.join("hosts.txt"), hosts).unwrap();
    let args = [
        "hosts.txt",
        "--ca-file",
        ROOT,
        "--ca-file",
        "expired-ca.pem",
        "--timeout",
        "2",
    ];
    let started = Instant::now();
    let r = scan(d, &args, Duration::from_secs(60)).expect(1);
    // The silent host costs its timeout, not more: the hosts run side by side.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let t = &r.stdout;
    assert!(t.starts_with("HOST "), "{t}");
    assert_eq!(row(t, &good.addr())[1..4], ["ok", "0 (ok)", "OK"], "{t}");
    let s = row(t, &short.addr());
    assert_eq!(s[1..4], ["expiring", "0 (ok)", "OK"], "{t}");
    assert!(["9", "10"].contains(&s[5]), "{t}");
    assert!(s[6].starts_with("CN=short.test expires in "), "{t}");
    let e = row(t, &expired.addr());
    assert_eq!(
        e[1..5],
        [
            "FAILED",
            "10 (certificate has expired)",
            "CertExpired",
            "2026-01-01"
        ],
        "{t}"
    );
    assert!(e[5].starts_with('-'), "expired: negative days left\n{t}");
    let q = row(t, &silent.addr());
    assert_eq!(q[1..4], ["unreachable", "-", "-"], "{t}");
    assert!(q.last().unwrap().contains("no answer within 2.0 s"), "{t}");
    let c = row(t, &format!("127.0.0.1:{closed}"));
    assert!(
        c[1] == "unreachable" && c.last().unwrap().contains("refused"),
        "{t}"
    );
    assert!(
        t.ends_with("5 gateway(s): 1 ok, 1 expiring, 1 failed, 2 unreachable\n"),
        "{t}"
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);

    // --json: one JSON object per host, a line each, in the file's order.
    let mut json_args = vec!["--json"];
    json_args.extend_from_slice(&args);
    let r = scan(d, &json_args, Duration::from_secs(60)).expect(1);
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let statuses: Vec<&str> = lines
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["ok", "expiring", "failed", "unreachable", "unreachable"]
    );
    let lines_of_file: Vec<u64> = lines.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    assert_eq!(lines_of_file, [3, 4, 5, 6, 7]);
    // Every certificate presented, leaf and chain, with its days left.
    let good_certs = lines[0]["certificates"].as_array().unwrap();
    assert_eq!(
        good_certs.len(),
        3,
        "leaf, intermediate, root: {}",
        lines[0]
    );
    assert_eq!(good_certs[0]["subject"], "CN=gw.test");
    assert!(
        good_certs
            .iter()
            .all(|c| c["days_left"].as_i64().unwrap() >= 364)
    );
    assert_eq!(lines[1]["certificates"][0]["expiring"], true);
    assert_eq!(lines[1]["certificates"][1]["expiring"], false);
    assert_eq!(lines[2]["openssl"]["code"], 10);
    assert_eq!(lines[2]["rustls"]["result"], "cert_expired");
    assert_eq!(lines[2]["accepted"], false);
    assert_eq!(lines[3]["checks"].as_array().unwrap().len(), 0);
}

#[test]
fn exit_0_when_every_gateway_verifies_and_nothing_expires_within_warn() {
    let dir = fleet_dir();
    let d = dir.path();
    let good = gateway(d, "gw.test");
    let short = gateway(d, "short.test");
    std::fs::write(
        d.join("hosts.txt"),
        format!(
            "{} servername=gw.test\n{} servername=short.test\n",
            good.addr(),
            short.addr()
        ),
    )
    .unwrap();
    let limit = Duration::from_secs(60);
    // 9 or 10 days left: within the default 30d, not within 5d.
    scan(d, &["hosts.txt", "--ca-file", ROOT], limit).expect(1);
    let r = scan(d, &["hosts.txt", "--ca-file", ROOT, "--warn", "5d"], limit).expect(0);
    assert!(
        r.stdout
            .ends_with("2 gateway(s): 2 ok, 0 expiring, 0 failed, 0 unreachable\n"),
        "{}",
        r.stdout
    );
    // A share of the lifetime works as for needs-renewal: 10 days are not yet 50% gone.
    scan(d, &["hosts.txt", "--ca-file", ROOT, "--warn", "50%"], limit).expect(0);
    // Trusting the wrong root fails both.
    let r = scan(d, &["hosts.txt", "--ca-file", "expired-ca.pem"], limit).expect(1);
    assert!(r.stdout.contains("2 failed"), "{}", r.stdout);
}

#[test]
fn a_hosts_file_that_cannot_be_read_or_names_no_gateway_is_exit_2() {
    let dir = tmp();
    let d = dir.path();
    std::fs::write(d.join("empty.txt"), "# nothing yet\n\n").unwrap();
    std::fs::write(d.join("bad.txt"), "gw1.test\ngw2.test:mqtts\n").unwrap();
    std::fs::write(d.join("extra.txt"), "gw1.test sni=gw\n").unwrap();
    for (file, says) in [
        ("missing.txt", "cannot read the hosts file missing.txt"),
        ("empty.txt", "empty.txt names no gateway"),
        (
            "bad.txt",
            "bad.txt line 2: \"gw2.test:mqtts\" is not HOST[:PORT]",
        ),
        (
            "extra.txt",
            "extra.txt line 1: \"sni=gw\": only servername=NAME, cert=FILE and key=FILE may follow the host",
        ),
    ] {
        let args = ["scan", file, "--timeout", "1"];
        let r = pki(d, &args);
        refused_in_one_line(&r, &args, says);
        assert!(r.stdout.is_empty(), "{}", r.stdout);
        let r = pki(d, &["--json", "scan", file]);
        assert_eq!(r.code, 2);
        assert!(r.json()["error"].as_str().unwrap().contains(says));
    }
    let args = ["scan", "bad.txt", "--jobs", "0"];
    assert_eq!(pki(d, &args).code, 2);
}

#[test]
fn a_hosts_line_of_70000_characters_or_no_host_name_is_refused_in_one_short_line() {
    // A line as long as this was checked, then its row padded to its width: a format width over
    // 65,535 panicked. A line that is no host name or address is refused before any connection,
    // and the error quotes a bounded piece of it.
    let dir = tmp();
    let d = dir.path();
    std::fs::write(d.join("long.txt"), format!("{}\n", "g".repeat(70_000))).unwrap();
    std::fs::write(
        d.join("long-sni.txt"),
        format!("127.0.0.1:1 servername={}\n", "s".repeat(70_000)),
    )
    .unwrap();
    std::fs::write(d.join("odd.txt"), "gw1.test\ngw$(id).test:8883\n").unwrap();
    std::fs::write(d.join("odd-sni.txt"), "127.0.0.1:1 servername=a..b\n").unwrap();
    for (file, says) in [
        ("long.txt", "long.txt line 1: longer than"),
        ("long-sni.txt", "long-sni.txt line 1: longer than"),
        (
            "odd.txt",
            "odd.txt line 2: \"gw$(id).test\" is neither a host name nor an IP address",
        ),
        (
            "odd-sni.txt",
            "odd-sni.txt line 1: servername \"a..b\" is not a host name",
        ),
    ] {
        let args = ["scan", file, "--timeout", "1"];
        let r = scan(d, &args[1..], Duration::from_secs(30));
        refused_in_one_line(&r, &args, says);
        assert!(r.stdout.is_empty(), "{:.300}", r.stdout);
        assert!(r.stderr.len() < 1_000, "{:.300}", r.stderr);
    }
}

/// Listeners that accept and never answer, sharing one count of the connections open at the
/// same time across all of them: a connection counts until its client closes it, which the
/// next accept sees (on loopback the client's FIN is queued before its next SYN leaves).
struct Gauge {
    ports: Vec<u16>,
    max_open: Arc<Mutex<usize>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Gauge {
    fn start(n: usize) -> Gauge {
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let max_open: Arc<Mutex<usize>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (mut ports, mut threads) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let listener = TcpListener::bind(loopback(0)).unwrap();
            ports.push(listener.local_addr().unwrap().port());
            let (open, max_open, stop) = (open.clone(), max_open.clone(), stop.clone());
            threads.push(thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    conn.set_nonblocking(true).unwrap();
                    let mut open = open.lock().unwrap();
                    // Drop the connections whose client has closed: reading what it sent (its
                    // ClientHello) reaches the end of the stream.
                    open.retain(|mut c| {
                        let mut b = [0u8; 4096];
                        loop {
                            match c.read(&mut b) {
                                Ok(0) => return false,
                                Ok(_) => continue,
                                Err(e) => return e.kind() == std::io::ErrorKind::WouldBlock,
                            }
                        }
                    });
                    open.push(conn);
                    let mut max = max_open.lock().unwrap();
                    *max = (*max).max(open.len());
                }
            }));
        }
        Gauge {
            ports,
            max_open,
            stop,
            threads,
        }
    }
}

impl Drop for Gauge {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for port in &self.ports {
            if let Ok(c) = TcpStream::connect_timeout(&loopback(*port), Duration::from_secs(1)) {
                let _ = c.shutdown(Shutdown::Both);
            }
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn jobs_bounds_how_many_gateways_are_checked_at_once() {
    let dir = tmp();
    let d = dir.path();
    std::fs::copy(testdata("verify/ok/ca.pem"), d.join("ca.pem")).unwrap();
    let n = 6;
    let gauge = Gauge::start(n);
    let hosts: String = gauge
        .ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}\n"))
        .collect();
    std::fs::write(d.join("hosts.txt"), hosts).unwrap();
    let started = Instant::now();
    let r = scan(
        d,
        &[
            "hosts.txt",
            "--ca-file",
            "ca.pem",
            "--jobs",
            "2",
            "--timeout",
            "1",
        ],
        Duration::from_secs(60),
    )
    .expect(1);
    let took = started.elapsed();
    assert!(
        r.stdout
            .contains("6 gateway(s): 0 ok, 0 expiring, 0 failed, 6 unreachable"),
        "{}",
        r.stdout
    );
    // Never more than two at a time, and two at a time indeed.
    assert_eq!(*gauge.max_open.lock().unwrap(), 2);
    // Each silent host costs its 1 s timeout: ceil(6/2) = 3 rounds, well under 6 one by one.
    assert!(took >= Duration::from_secs(3), "{took:?}");
    assert!(took < Duration::from_millis(5_500), "{took:?}");
}

/// A broker requiring client certificates (issued under `cafile`), serving the quickstart's
/// gateway certificate for `localhost`.
fn mtls_broker(dir: &Path, cafile: &str) -> Mosquitto {
    Mosquitto::start(dir, cafile, SERVER_FULL, SERVER_KEY, true)
}

#[test]
fn brokers_requiring_client_certificates_are_all_ok_with_cert_and_key() {
    let d = gateway_pki();
    let p = d.path();
    let (a, b) = (mtls_broker(p, ROOT), mtls_broker(p, ROOT));
    std::fs::write(
        p.join("hosts.txt"),
        format!(
            "{} servername=localhost\n{} servername=localhost\n",
            a.addr(),
            b.addr()
        ),
    )
    .unwrap();
    let limit = Duration::from_secs(60);
    // Without a device certificate every such gateway fails, and the reason says what to give.
    let r = scan(p, &["hosts.txt", "--ca-file", ROOT], limit).expect(1);
    assert!(r.stdout.contains("2 failed"), "{}", r.stdout);
    assert!(
        row(&r.stdout, &a.addr())
            .last()
            .unwrap()
            .contains("give --cert and --key"),
        "{}",
        r.stdout
    );
    // With one, all OK: scan takes --cert and --key as verify does.
    let args = [
        "hosts.txt",
        "--ca-file",
        ROOT,
        "--cert",
        DEVICE_FULL,
        "--key",
        DEVICE_KEY,
    ];
    let r = scan(p, &args, limit).expect(0);
    assert!(
        r.stdout
            .ends_with("2 gateway(s): 2 ok, 0 expiring, 0 failed, 0 unreachable\n"),
        "{}",
        r.stdout
    );
    let mut json = vec!["--json"];
    json.extend_from_slice(&args);
    let r = scan(p, &json, limit).expect(0);
    for line in r.stdout.lines() {
        let host: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(host["status"], "ok", "{host}");
        assert_eq!(host["client_certificate"], DEVICE_FULL, "{host}");
        let client = host["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["step"] == "client certificate")
            .unwrap();
        assert_eq!(client["status"], "ok", "{host}");
    }
    // An encrypted device key: its password from PKI_KEY_PASSWORD, as for any key.
    let enc = p.join("device.enc.key.pem");
    openssl(
        p,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            DEVICE_KEY,
            "-out",
            enc.to_str().unwrap(),
            "-passout",
            "pass:s3cret",
        ],
    )
    .expect(0);
    let enc_args = [
        "scan",
        "hosts.txt",
        "--ca-file",
        ROOT,
        "--cert",
        DEVICE_FULL,
        "--key",
        "device.enc.key.pem",
    ];
    let r = pki_env(p, &enc_args, &[("PKI_KEY_PASSWORD", "s3cret")]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // A key that is not the certificate's is refused before any gateway is asked.
    let r = pki(
        p,
        &[
            "scan",
            "hosts.txt",
            "--ca-file",
            ROOT,
            "--cert",
            DEVICE_FULL,
            "--key",
            SERVER_KEY,
        ],
    );
    refused_in_one_line(
        &r,
        &["scan"],
        &format!("the key {SERVER_KEY} does not belong to the certificate {DEVICE_FULL}"),
    );
}

#[test]
fn a_hosts_line_presents_its_own_client_certificate_for_a_gateway_that_trusts_another_ca() {
    let d = gateway_pki();
    let p = d.path();
    // Fleet B: another owner CA and its device, kept beside the hosts file.
    let fleet = p.join("fleet");
    std::fs::create_dir(&fleet).unwrap();
    pki(&fleet, &["create-owner-ca", "--cn", "Fleet B Root CA"]).expect(0);
    pki(&fleet, &["issue", "device", "dev-b"]).expect(0);
    // Gateway A trusts the quickstart's devices, gateway B fleet B's.
    let a = mtls_broker(p, ROOT);
    let b = mtls_broker(p, "fleet/pki/certs/azure-iot-test-only.root.ca.cert.pem");
    let line_b = format!(
        "{} servername=localhost cert=pki/certs/iot-device-dev-b-full-chain.cert.pem key=pki/private/iot-device-dev-b.key.pem",
        b.addr()
    );
    std::fs::write(
        fleet.join("hosts.txt"),
        format!("{} servername=localhost\n{line_b}   # fleet B\n", a.addr()),
    )
    .unwrap();
    // Run from the CA directory's parent: the line's paths are the hosts file's directory's.
    let args = [
        "--json",
        "fleet/hosts.txt",
        "--ca-file",
        ROOT,
        "--cert",
        DEVICE_FULL,
        "--key",
        DEVICE_KEY,
    ];
    let r = scan(p, &args, Duration::from_secs(60)).expect(0);
    let hosts: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(hosts.len(), 2, "{}", r.stdout);
    assert!(hosts.iter().all(|h| h["status"] == "ok"), "{}", r.stdout);
    assert_eq!(hosts[0]["client_certificate"], DEVICE_FULL);
    let b_cert = hosts[1]["client_certificate"].as_str().unwrap();
    assert!(
        b_cert.ends_with("fleet/pki/certs/iot-device-dev-b-full-chain.cert.pem"),
        "{b_cert}"
    );
    // The command line's certificate alone does not open gateway B: the line's did.
    std::fs::write(
        fleet.join("plain.txt"),
        format!(
            "{} servername=localhost\n{} servername=localhost\n",
            a.addr(),
            b.addr()
        ),
    )
    .unwrap();
    let mut plain = args;
    plain[1] = "fleet/plain.txt";
    let r = scan(p, &plain, Duration::from_secs(60)).expect(1);
    let statuses: Vec<String> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["status"].to_string())
        .collect();
    assert_eq!(statuses, ["\"ok\"", "\"failed\""], "{}", r.stdout);
    // A line's files that are not there: exit 2, naming the line and the file.
    std::fs::write(
        fleet.join("missing.txt"),
        format!("{} cert=nope.pem key=nope.key\n", a.addr()),
    )
    .unwrap();
    let r = pki(p, &["scan", "fleet/missing.txt", "--ca-file", ROOT]);
    refused_in_one_line(&r, &["scan"], "fleet/missing.txt line 1");
    assert!(r.stderr.contains("nope.pem"), "{}", r.stderr);
}

/// Without `--jobs`, a fleet's scan checks 64 gateways at a time (a silent gateway then costs a
/// 64th of its timeout): 80 silent ones see 64 connections open at once, not 8.
#[test]
fn the_default_concurrency_suits_a_fleet() {
    let dir = tmp();
    let d = dir.path();
    std::fs::copy(testdata("verify/ok/ca.pem"), d.join("ca.pem")).unwrap();
    let gauge = Gauge::start(80);
    let hosts: String = gauge
        .ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}\n"))
        .collect();
    std::fs::write(d.join("hosts.txt"), hosts).unwrap();
    let r = scan(
        d,
        &["hosts.txt", "--ca-file", "ca.pem", "--timeout", "1"],
        Duration::from_secs(60),
    )
    .expect(1);
    assert!(
        r.stdout
            .contains("80 gateway(s): 0 ok, 0 expiring, 0 failed, 80 unreachable"),
        "{}",
        r.stdout
    );
    assert_eq!(*gauge.max_open.lock().unwrap(), 64);
}
