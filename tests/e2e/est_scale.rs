//! EST scale-out (issue 25): two `pki est serve` processes on one PostgreSQL register serve one
//! CA. They are deployed as two machines would be: the CA directory is made on machine A with
//! `--register postgres://...`, then copied whole to machine B (`cp -a`: the same directory id,
//! the CA's keys copied with it, as an operator copies them); each server runs with
//! `--register postgres://...` on its own copy and issues its own TLS certificate from the CA
//! when it starts. The clients are curl, as RFC 7030's examples use it, and `openssl s_client`
//! writing raw HTTP where two requests must reach the servers at the same moment (each sent
//! but for its last byte, then finished together behind a barrier); answers are decoded with
//! `openssl pkcs7` and the certificates checked with `openssl verify`.
//!
//! - One secret fired at both servers at once enrols once: one 200 and one 401 per secret, as
//!   many register rows as 200s, and the two audit logs together show each race.
//! - 200 enrolments spread over both servers at once: no serial twice, each one a register row
//!   and an audit line, each certificate verified by openssl; both serve the directory's chain
//!   and issue from its intermediate; the servers pool their register connections (PostgreSQL
//!   counts far fewer sessions than enrolments).
//! - A certificate enrolled at A and revoked with `pki revoke` on the shared register is refused
//!   re-enrolment (403) by B, which knew it in service a moment before, and by A.
//! - A certificate enrolled at A re-enrols at B and is superseded; one certificate fired at
//!   both servers at once re-enrols once.

mod clients;
mod deployment;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Instant;

use serde_json::Value;

use crate::support::{Postgres, pem_certificates, pki, sha256_fingerprint};
use clients::{
    Answer, Auth, Device, certificates, curl_get, curl_post, device, hex, issued, race,
    serial_and_cn,
};
use deployment::{Deployment, EstServer, sessions, verify_all};

/// The audit lines of enrolments (`simpleenroll`, `simplereenroll`) by `who`, each with the
/// server that wrote it.
fn enrolments_by<'a>(logs: &'a [(&str, Vec<Value>)], who: &str) -> Vec<(&'a str, &'a Value)> {
    logs.iter()
        .flat_map(|(server, lines)| lines.iter().map(move |l| (*server, l)))
        .filter(|(_, l)| {
            l["who"] == who
                && matches!(
                    l["operation"].as_str(),
                    Some("simpleenroll" | "simplereenroll")
                )
        })
        .collect()
}

#[test]
fn one_secret_fired_at_both_servers_at_once_enrols_once() {
    let d = Deployment::new();
    let a = d.serve("A", &d.a(), &[]);
    let b = d.serve("B", &d.b(), &[]);
    let (root, clients) = (d.root(), d.clients());
    const SECRETS: usize = 20;
    let mut winners: HashMap<String, (&str, String)> = HashMap::new();
    for i in 0..SECRETS {
        let id = format!("race-{i:02}");
        let secret = d.secret(&id);
        let dev = device(&clients, &id, &id);
        let auth = Auth::Secret(&id, &secret);
        let (winner, won, lost) = one_wins(i, [&a, &b], "simpleenroll", &dev, &auth, &root, 401);
        assert!(
            lost.body.starts_with("authentication failed"),
            "the loser learns only that: {lost:?}"
        );
        let cert = issued(&won, &clients.join(format!("{id}.cert.pem")));
        let (serial, cn) = serial_and_cn(&cert);
        assert_eq!(cn, id);
        winners.insert(id, (winner, serial));
    }
    let won_by_a = winners.values().filter(|(s, _)| *s == "A").count();
    eprintln!(
        "{SECRETS} secrets raced: A won {won_by_a}, B won {}",
        SECRETS - won_by_a
    );

    // The register: one row per 200, each the certificate the winner answered with.
    let rows = d.est_rows();
    assert_eq!(rows.len(), winners.len(), "{rows:#?}");
    for r in &rows {
        let cn = r["common_name"].as_str().unwrap();
        let (_, serial) = &winners[cn];
        assert_eq!(&hex(r["serial"].as_str().unwrap()), serial, "{r}");
        assert_eq!(r["path"], format!("est:device/{cn}"));
        assert_eq!(r["status"], "issued");
    }
    // Each secret is used, once, and names the serial it enrolled.
    let secrets = Postgres::psql(
        &d.url,
        "SELECT device_id, used_at IS NOT NULL, serial FROM enrolment_secrets ORDER BY device_id",
    );
    let secrets: Vec<&str> = secrets.lines().collect();
    assert_eq!(secrets.len(), SECRETS);
    for line in secrets {
        let [id, used, serial] = line.split('|').collect::<Vec<_>>()[..] else {
            panic!("{line}")
        };
        assert_eq!(used, "t", "{line}");
        assert_eq!(hex(serial), winners[id].1, "{line}");
    }
    // The losers' attempts count against their device ids in the shared register (the rate
    // limit both servers read).
    let failures = Postgres::psql(
        &d.url,
        "SELECT COALESCE(SUM(count), 0) FROM auth_failures WHERE key LIKE 'device:race-%'",
    );
    assert_eq!(failures.trim(), SECRETS.to_string());

    // The two audit logs together: per secret, one 200 with the serial at the winner and one
    // 401 "used already" at the other server.
    let logs = [("A", a.stop()), ("B", b.stop())];
    let mut gaps = Vec::new();
    for (id, (winner, serial)) in &winners {
        let lines = enrolments_by(&logs, id);
        if let [(_, x), (_, y)] = lines[..] {
            gaps.push((answered_at(x) - answered_at(y)).abs().whole_milliseconds());
        }
        assert_eq!(lines.len(), 2, "{id}: {lines:#?}");
        for (server, l) in &lines {
            assert_eq!(l["auth"], "secret", "{l}");
            if server == winner {
                assert_eq!(l["status"], 200, "{l}");
                assert_eq!(&hex(l["serial"].as_str().unwrap()), serial, "{l}");
            } else {
                assert_eq!(l["status"], 401, "{l}");
                assert!(l.get("serial").is_none(), "{l}");
                let reason = l["reason"].as_str().unwrap();
                assert!(reason.contains("used already"), "{l}");
            }
        }
        assert_ne!(
            lines[0].0, lines[1].0,
            "one request at each server: {lines:#?}"
        );
    }
    gaps.sort_unstable();
    eprintln!(
        "the two answers of a race came {} ms apart (median; {} at most)",
        gaps[gaps.len() / 2],
        gaps[gaps.len() - 1]
    );
}

/// Fires the same request at both servers at once (A's sent first in even rounds, B's in odd
/// ones; the barrier makes it matter little) and asserts that one is answered 200 and the
/// other `lost`: the winner's name, its answer and the loser's.
fn one_wins(
    round: usize,
    [a, b]: [&EstServer; 2],
    op: &str,
    device: &Device,
    auth: &Auth<'_>,
    root: &Path,
    lost: u16,
) -> (&'static str, Answer, Answer) {
    let servers = if round.is_multiple_of(2) {
        [a, b]
    } else {
        [b, a]
    };
    let [x, y] = race(servers, op, [(device, auth), (device, auth)], root);
    let [(wx, x), (wy, y)] = [(servers[0].name, x), (servers[1].name, y)];
    match (x.status, y.status) {
        (200, s) if s == lost => (wx, x, y),
        (s, 200) if s == lost => (wy, y, x),
        _ => panic!("{op}: one 200 and one {lost}, not {x:?} and {y:?}"),
    }
}

/// `id` enrolled at `server` with a secret made for it: the device's key and CSR, and the
/// file of its certificate.
fn enrolled(d: &Deployment, server: &EstServer, id: &str) -> (Device, PathBuf) {
    let secret = d.secret(id);
    let clients = d.clients();
    let dev = device(&clients, id, id);
    let auth = Auth::Secret(id, &secret);
    let answer = curl_post(server, "simpleenroll", &dev, &auth, &d.root());
    let cert = issued(&answer, &clients.join(format!("{id}.cert.pem")));
    (dev, cert)
}

/// When an audit line's answer was written.
fn answered_at(line: &Value) -> time::OffsetDateTime {
    let at = line["time"].as_str().unwrap();
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).unwrap()
}

#[test]
fn two_hundred_enrolments_over_both_servers_at_once_no_serial_twice() {
    let d = Deployment::new();
    let clients = d.clients();
    // The devices' factory identities: another CA (the manufacturer's, a pki directory of its
    // own), 200 device certificates from a batch.
    const DEVICES: usize = 200;
    const CLIENTS: usize = 16;
    let factory = clients.join("factory");
    std::fs::create_dir(&factory).unwrap();
    pki(&factory, &["create-owner-ca"]).expect(0);
    pki(&factory, &["create-intermediate-ca"]).expect(0);
    let ids: Vec<String> = (0..DEVICES).map(|i| format!("bulk-{i:03}")).collect();
    std::fs::write(factory.join("lot.txt"), ids.join("\n") + "\n").unwrap();
    pki(&factory, &["issue", "device", "--batch", "lot.txt"]).expect(0);
    let factory_root = factory.join("pki/certs/azure-iot-test-only.root.ca.cert.pem");
    let bootstrap = ["--bootstrap-ca", factory_root.to_str().unwrap()];
    let a = d.serve("A", &d.a(), &bootstrap);
    let b = d.serve("B", &d.b(), &bootstrap);
    let root = d.root();

    // Both serve the directory's CA: /cacerts is its intermediate and root, at A as at B.
    let chain: Vec<String> = [d.ca_cert("intermediate"), root.clone()]
        .iter()
        .flat_map(|f| pem_certificates(&std::fs::read_to_string(f).unwrap()))
        .collect();
    for server in [&a, &b] {
        let answer = curl_get(server, "cacerts", &root);
        assert_eq!(answer.status, 200, "{answer:?}");
        let served: Vec<String> = certificates(&answer.body)
            .iter()
            .flat_map(|p| pem_certificates(p))
            .collect();
        assert_eq!(served, chain, "server {}", server.name);
    }

    // 16 clients at once, each enrolling its share of the devices, odd ones at B.
    let sessions_before = sessions(&d);
    let started = Instant::now();
    let results: Vec<(String, &str, String, PathBuf)> = thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (ids, a, b, root, clients, factory) = (&ids, &a, &b, &root, &clients, &factory);
                s.spawn(move || {
                    let mut out = Vec::new();
                    for (i, id) in ids.iter().enumerate().skip(c).step_by(CLIENTS) {
                        let server = if i.is_multiple_of(2) { a } else { b };
                        let dev = device(clients, id, id);
                        let chain =
                            factory.join(format!("pki/certs/iot-device-{id}-full-chain.cert.pem"));
                        let key = factory.join(format!("pki/private/iot-device-{id}.key.pem"));
                        let answer = curl_post(
                            server,
                            "simpleenroll",
                            &dev,
                            &Auth::Cert(&chain, &key),
                            root,
                        );
                        let cert = issued(&answer, &clients.join(format!("{id}.cert.pem")));
                        let (serial, cn) = serial_and_cn(&cert);
                        assert_eq!(&cn, id);
                        out.push((id.clone(), server.name, serial, cert));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    eprintln!(
        "{DEVICES} enrolments by {CLIENTS} curl clients over two servers in {:?}",
        started.elapsed()
    );
    assert_eq!(results.len(), DEVICES);

    // No serial twice; every certificate verified by openssl against the CA.
    let serials: HashSet<&str> = results.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(serials.len(), DEVICES, "a serial twice");
    let files: Vec<PathBuf> = results.iter().map(|r| r.3.clone()).collect();
    verify_all(&d, &files);

    // Every one a register row, issued by the directory's intermediate.
    let intermediate = sha256_fingerprint(&clients, d.ca_cert("intermediate").to_str().unwrap());
    let rows = d.est_rows();
    assert_eq!(rows.len(), DEVICES);
    let by_serial: HashMap<String, &Value> = rows
        .iter()
        .map(|r| (hex(r["serial"].as_str().unwrap()), r))
        .collect();
    assert_eq!(by_serial.len(), DEVICES, "a serial twice in the register");
    for (id, _, serial, _) in &results {
        let row = by_serial
            .get(serial)
            .unwrap_or_else(|| panic!("{id} ({serial}) is not in the register"));
        assert_eq!(&row["common_name"], id.as_str());
        assert_eq!(row["status"], "issued");
        assert_eq!(row["issuer_sha256"], intermediate.as_str());
    }
    // Neither machine made a register of its own.
    for m in [d.a(), d.b()] {
        assert!(!m.join("pki/register.sqlite3").exists(), "{m:?}");
    }

    // Each server's audit log has its half, each line with the serial issued.
    let logs = [("A", a.stop()), ("B", b.stop())];
    // The servers kept their register connections in pools: far fewer were opened than
    // enrolments were served (`pki list` above opened one more, and each psql one).
    let opened = sessions(&d) - sessions_before;
    eprintln!("PostgreSQL sessions opened during the enrolments: {opened}");
    assert!(
        opened < (DEVICES / 4) as u64,
        "{opened} sessions for {DEVICES} enrolments"
    );
    for (server, lines) in &logs {
        let mine: HashSet<&str> = results
            .iter()
            .filter(|r| r.1 == *server)
            .map(|r| r.2.as_str())
            .collect();
        assert_eq!(mine.len(), DEVICES / 2);
        let logged: HashSet<String> = lines
            .iter()
            .filter(|l| l["operation"] == "simpleenroll")
            .map(|l| {
                assert_eq!(l["status"], 200, "{l}");
                assert_eq!(l["auth"], "bootstrap", "{l}");
                hex(l["serial"].as_str().unwrap())
            })
            .collect();
        let logged: HashSet<&str> = logged.iter().map(String::as_str).collect();
        assert_eq!(logged, mine, "server {server}");
    }
}

#[test]
fn a_revocation_on_the_shared_register_is_seen_by_both_servers() {
    let d = Deployment::new();
    let a = d.serve("A", &d.a(), &[]);
    let b = d.serve("B", &d.b(), &[]);
    let (root, clients) = (d.root(), d.clients());
    let (dev, cert) = enrolled(&d, &a, "rev-1");
    let (serial, _) = serial_and_cn(&cert);
    let with_cert = Auth::Cert(&cert, &dev.key);

    // B knows the certificate in service: a re-enrolment asking for another name is refused
    // for the name, not for the certificate.
    let other = device(&clients, "rev-1-other", "rev-1-other");
    let refused = curl_post(&b, "simplereenroll", &other, &with_cert, &root);
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(!refused.body.contains("revoked"), "{refused:?}");

    d.pki_at(&d.a(), &["revoke", &serial, "--reason", "keyCompromise"])
        .expect(0);

    // Neither server re-enrols it now, whichever way it asks (aziot-certd re-enrols with
    // simpleenroll).
    let renewed = device(&clients, "rev-1", "rev-1-new");
    for (server, op) in [
        (&b, "simplereenroll"),
        (&b, "simpleenroll"),
        (&a, "simplereenroll"),
    ] {
        let answer = curl_post(server, op, &renewed, &with_cert, &root);
        assert_eq!(answer.status, 403, "{} {op}: {answer:?}", server.name);
        assert!(answer.body.contains("revoked"), "{answer:?}");
    }
    // Nothing was issued for it after the first: one row, revoked.
    let rows = d.rows_of("rev-1");
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["status"], "revoked");
    assert_eq!(hex(rows[0]["serial"].as_str().unwrap()), serial);

    let logs = [("A", a.stop()), ("B", b.stop())];
    let lines = enrolments_by(&logs, "rev-1");
    let seen: Vec<(&str, u64, &str)> = lines
        .iter()
        .map(|(s, l)| {
            (
                *s,
                l["status"].as_u64().unwrap(),
                l["auth"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("A", 200, "secret"),
            ("A", 403, "certificate"),
            ("B", 403, "certificate"),
            ("B", 403, "certificate"),
            ("B", 403, "certificate"),
        ]
    );
}

#[test]
fn a_certificate_enrolled_at_a_reenrols_at_b_and_once_when_fired_at_both() {
    let d = Deployment::new();
    let a = d.serve("A", &d.a(), &[]);
    let b = d.serve("B", &d.b(), &[]);
    let (root, clients) = (d.root(), d.clients());

    // Enrolled at A, re-enrolled at B with a new key.
    let (first, cert1) = enrolled(&d, &a, "move-1");
    let second = device(&clients, "move-1", "move-1-2");
    let answer = curl_post(
        &b,
        "simplereenroll",
        &second,
        &Auth::Cert(&cert1, &first.key),
        &root,
    );
    let cert2 = issued(&answer, &clients.join("move-1-2.cert.pem"));
    verify_all(&d, &[cert1.clone(), cert2.clone()]);
    let (serial1, _) = serial_and_cn(&cert1);
    let (serial2, cn2) = serial_and_cn(&cert2);
    assert_eq!(cn2, "move-1");
    assert_ne!(serial1, serial2);
    // The register: the first superseded by the second.
    let sha = |c: &Path| sha256_fingerprint(&clients, c.to_str().unwrap());
    let rows: HashMap<String, Value> = d
        .rows_of("move-1")
        .into_iter()
        .map(|r| (hex(r["serial"].as_str().unwrap()), r))
        .collect();
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_eq!(rows[&serial1]["status"], "superseded");
    assert_eq!(rows[&serial1]["superseded_by"], sha(&cert2).as_str());
    assert_eq!(rows[&serial2]["status"], "issued");
    // The old one re-enrols nowhere now; the new one does, at A.
    let third = device(&clients, "move-1", "move-1-3");
    let again = curl_post(
        &a,
        "simplereenroll",
        &third,
        &Auth::Cert(&cert1, &first.key),
        &root,
    );
    assert_eq!(again.status, 403, "{again:?}");
    assert!(again.body.contains("superseded"), "{again:?}");
    let answer = curl_post(
        &a,
        "simplereenroll",
        &third,
        &Auth::Cert(&cert2, &second.key),
        &root,
    );
    issued(&answer, &clients.join("move-1-3.cert.pem"));

    // One certificate fired at both servers at once re-enrols once.
    const RACES: usize = 10;
    for i in 0..RACES {
        let id = format!("twice-{i:02}");
        let (dev, cert) = enrolled(&d, &a, &id);
        let auth = Auth::Cert(&cert, &dev.key);
        let renewed = device(&clients, &id, &format!("{id}-new"));
        let (_, won, lost) = one_wins(i, [&a, &b], "simplereenroll", &renewed, &auth, &root, 403);
        issued(&won, &clients.join(format!("{id}-new.cert.pem")));
        assert!(lost.body.contains("superseded"), "{lost:?}");
        let rows = d.rows_of(&id);
        let in_service = rows.iter().filter(|r| r["status"] == "issued").count();
        assert_eq!((rows.len(), in_service), (2, 1), "{id}: {rows:#?}");
    }
    drop((a, b));
}
