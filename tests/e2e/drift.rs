//! `pki scan --drift`: a fleet's gateways, each served by a real server on loopback, joined with
//! the register. One serves its certificate in service; a real mosquitto broker keeps serving
//! the certificate `pki renew` replaced (the files were written, the broker not reloaded) until
//! it is sent SIGHUP; one serves a revoked certificate; one a certificate the directory's
//! intermediate signed outside pki (not in the register); one another directory's; an IoT Edge
//! gateway serves a server certificate its Edge CA issued itself (no register holds it: judged
//! by the Edge CA's row).

use std::path::Path;
use std::time::Duration;

use crate::support::quickstart::{INTERMEDIATE, ROOT};
use crate::support::{
    Mosquitto, OpensslServer, Run, Server, openssl, pki, pki_command, run_bounded, tmp,
};

const INTERMEDIATE_KEY: &str = "pki/private/azure-iot-test-only.intermediate.key.pem";

fn cert(host: &str) -> String {
    format!("pki/certs/iot-edge-server-{host}.cert.pem")
}

fn full_chain(host: &str) -> String {
    format!("pki/certs/iot-edge-server-{host}-full-chain.cert.pem")
}

fn key(host: &str) -> String {
    format!("pki/private/iot-edge-server-{host}.key.pem")
}

/// `openssl s_server` serving `cert` with `chain` after it.
fn serve(dir: &Path, cert: &str, key: &str, chain: &str) -> OpensslServer {
    OpensslServer::start(dir, cert, key, Some(chain), &[])
}

/// Signs a server certificate for `host` with `ca_cert`/`ca_key` by openssl, outside pki (what
/// IoT Edge does with its Edge CA for edgeHub, or a hand-run recipe with the intermediate's
/// key); writes `host.cert.pem`, `host.key.pem` and `host.chain.pem` (the certificate, then
/// `chain`'s files).
fn openssl_server_cert(dir: &Path, host: &str, ca_cert: &str, ca_key: &str, chain: &[&str]) {
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{host}.key.pem"),
            "-subj",
            &format!("/CN={host}"),
            "-out",
            &format!("{host}.csr.pem"),
        ],
    )
    .expect(0);
    std::fs::write(
        dir.join(format!("{host}.ext")),
        format!(
            "subjectAltName=DNS:{host}\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n"
        ),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{host}.csr.pem"),
            "-CA",
            ca_cert,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-days",
            "365",
            "-extfile",
            &format!("{host}.ext"),
            "-out",
            &format!("{host}.cert.pem"),
        ],
    )
    .expect(0);
    let mut text = std::fs::read_to_string(dir.join(format!("{host}.cert.pem"))).unwrap();
    for c in chain {
        text += &std::fs::read_to_string(dir.join(c)).unwrap();
    }
    std::fs::write(dir.join(format!("{host}.chain.pem")), text).unwrap();
}

/// `pki scan hosts.txt --drift ARGS` in `dir`.
fn scan(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["scan", "hosts.txt", "--drift", "--timeout", "3"];
    all.extend_from_slice(args);
    run_bounded(pki_command(dir, &all), b"", Duration::from_secs(60))
        .expect("pki scan --drift ends")
}

/// The JSON line of each host, by its servername.
fn lines(run: &Run) -> Vec<(String, serde_json::Value)> {
    run.stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            (v["servername"].as_str().unwrap_or_default().to_owned(), v)
        })
        .collect()
}

fn of<'a>(lines: &'a [(String, serde_json::Value)], host: &str) -> &'a serde_json::Value {
    &lines
        .iter()
        .find(|(h, _)| h == host)
        .unwrap_or_else(|| panic!("no line for {host}: {lines:?}"))
        .1
}

/// The serial of a PEM certificate file, as `openssl x509 -serial` prints it.
fn serial(dir: &Path, file: &str) -> String {
    let out = openssl(dir, &["x509", "-in", file, "-noout", "-serial"]).expect(0);
    out.stdout.trim().trim_start_matches("serial=").to_owned()
}

#[test]
fn scan_drift_names_each_gateway_that_serves_anything_but_the_certificate_in_service() {
    let dir = tmp();
    let d = dir.path();
    pki(d, &["create-owner-ca"]).expect(0);
    pki(d, &["create-intermediate-ca"]).expect(0);
    for host in ["current.test", "renewed.test", "revoked.test"] {
        pki(d, &["issue", "server", host]).expect(0);
    }
    pki(d, &["create-edge-ca", "edge-1"]).expect(0);
    let edge_cert = "pki/certs/iot-edge-device-ca-edge-1.cert.pem";
    let edge_key = "pki/private/iot-edge-device-ca-edge-1.key.pem";
    assert!(d.join(edge_cert).is_file() && d.join(edge_key).is_file());
    // IoT Edge's own edgeHub certificate, from its Edge CA; a hand-signed one from the
    // intermediate's key; another directory's gateway.
    openssl_server_cert(
        d,
        "edgehub.test",
        edge_cert,
        edge_key,
        &[edge_cert, INTERMEDIATE],
    );
    openssl_server_cert(
        d,
        "rogue.test",
        INTERMEDIATE,
        INTERMEDIATE_KEY,
        &[INTERMEDIATE],
    );
    let other = d.join("other");
    std::fs::create_dir(&other).unwrap();
    pki(&other, &["create-owner-ca"]).expect(0);
    pki(&other, &["issue", "server", "foreign.test"]).expect(0);
    for f in ["cert", "key", "full_chain"] {
        let (from, to) = match f {
            "cert" => (cert("foreign.test"), "foreign.cert.pem"),
            "key" => (key("foreign.test"), "foreign.key.pem"),
            _ => (full_chain("foreign.test"), "foreign.chain.pem"),
        };
        std::fs::copy(other.join(from), d.join(to)).unwrap();
    }

    let current = serve(
        d,
        &cert("current.test"),
        &key("current.test"),
        &full_chain("current.test"),
    );
    let broker = Mosquitto::start(
        d,
        ROOT,
        &full_chain("renewed.test"),
        &key("renewed.test"),
        false,
    );
    let revoked = serve(
        d,
        &cert("revoked.test"),
        &key("revoked.test"),
        &full_chain("revoked.test"),
    );
    let edge = serve(
        d,
        "edgehub.test.cert.pem",
        "edgehub.test.key.pem",
        "edgehub.test.chain.pem",
    );
    let rogue = serve(
        d,
        "rogue.test.cert.pem",
        "rogue.test.key.pem",
        "rogue.test.chain.pem",
    );
    let foreign = serve(
        d,
        "foreign.cert.pem",
        "foreign.key.pem",
        "foreign.chain.pem",
    );
    let hosts = [
        (current.addr(), "current.test"),
        (broker.addr(), "renewed.test"),
        (revoked.addr(), "revoked.test"),
        (edge.addr(), "edgehub.test"),
        (rogue.addr(), "rogue.test"),
        (foreign.addr(), "foreign.test"),
    ];
    let text: String = hosts
        .iter()
        .map(|(a, h)| format!("{a} servername={h}\n"))
        .collect();
    std::fs::write(d.join("hosts.txt"), text).unwrap();

    // Everything in service: only the two outsiders drift.
    let old_serial = serial(d, &cert("renewed.test"));
    let run = scan(d, &["--json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let l = lines(&run);
    for h in ["current.test", "renewed.test", "revoked.test"] {
        assert_eq!(of(&l, h)["drift"], "in_service", "{h}: {}", of(&l, h));
        assert_eq!(of(&l, h)["register"]["depth"], 0);
    }
    assert_eq!(of(&l, "edgehub.test")["drift"], "in_service");
    assert_eq!(of(&l, "edgehub.test")["register"]["depth"], 1);
    assert_eq!(of(&l, "edgehub.test")["register"]["profile"], "edge-ca");
    assert_eq!(of(&l, "rogue.test")["drift"], "not_issued");
    assert!(of(&l, "rogue.test")["register"].is_null());
    assert_eq!(of(&l, "foreign.test")["drift"], "foreign_ca");
    assert_eq!(
        of(&l, "foreign.test")["status"],
        "failed",
        "the directory's root does not trust it"
    );

    // A renewal the broker did not take (its files written, mosquitto not reloaded), a
    // revocation, and the Edge CA revoked: each is drift.
    pki(d, &["renew", "renewed.test"]).expect(0);
    let new_serial = serial(d, &cert("renewed.test"));
    assert_ne!(old_serial, new_serial);
    pki(d, &["revoke", "revoked.test"]).expect(0);
    let run = scan(d, &["--json"]);
    assert_eq!(run.code, 1);
    let l = lines(&run);
    assert_eq!(of(&l, "current.test")["drift"], "in_service");
    let renewed = of(&l, "renewed.test");
    assert_eq!(renewed["drift"], "superseded", "{renewed}");
    assert_eq!(
        renewed["status"], "ok",
        "the verdicts alone see nothing wrong"
    );
    assert_eq!(renewed["register"]["serial"], old_serial);
    assert_eq!(renewed["register"]["superseded_by_serial"], new_serial);
    assert_eq!(of(&l, "revoked.test")["drift"], "revoked");
    assert_eq!(of(&l, "revoked.test")["register"]["status"], "revoked");
    assert!(of(&l, "revoked.test")["register"]["revoked_at"].is_string());

    // The table says the same, with a count.
    let table = scan(d, &[]);
    assert_eq!(table.code, 1);
    let row = |h: &str| {
        table
            .stdout
            .lines()
            .find(|l| {
                l.contains(&format!(
                    "{} ",
                    hosts.iter().find(|(_, n)| *n == h).unwrap().0
                ))
            })
            .unwrap_or_else(|| panic!("no row for {h}:\n{}", table.stdout))
            .to_owned()
    };
    assert!(
        row("renewed.test").contains(&format!("SUPERSEDED by {new_serial}")),
        "{}",
        table.stdout
    );
    assert!(row("revoked.test").contains("REVOKED"));
    assert!(row("rogue.test").contains("NOT IN REGISTER"));
    assert!(row("foreign.test").contains("FOREIGN CA"));
    assert!(row("current.test").contains("in service"));
    assert!(
        table.stdout.contains(
            "drift: 2 in service, 1 superseded, 1 revoked, 1 not in the register, 1 from a foreign CA"
        ),
        "{}",
        table.stdout
    );

    // The broker reloaded (SIGHUP: mosquitto 2 reads its certificate files again): in service.
    let hup = crate::support::programs::command("kill")
        .args(["-HUP", &broker.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let l = lines(&scan(d, &["--json"]));
        let drift = of(&l, "renewed.test")["drift"].clone();
        if drift == "in_service" {
            assert_eq!(of(&l, "renewed.test")["register"]["serial"], new_serial);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {drift} after SIGHUP"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Only the gateways that serve what is in service: exit 0.
    std::fs::write(
        d.join("hosts.txt"),
        format!(
            "{} servername=current.test\n{} servername=renewed.test\n{} servername=edgehub.test\n",
            current.addr(),
            broker.addr(),
            edge.addr()
        ),
    )
    .unwrap();
    scan(d, &[]).expect(0);
}

#[test]
fn scan_drift_without_a_ca_directory_is_refused_in_one_line() {
    let dir = tmp();
    std::fs::write(dir.path().join("hosts.txt"), "127.0.0.1:1\n").unwrap();
    let run = scan(dir.path(), &[]);
    crate::support::refused_in_one_line(&run, &["scan", "--drift"], "no CA directory");
}
