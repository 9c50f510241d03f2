//! A fleet lived through two years (issue 22): an owner CA, an intermediate, three gateways
//! (two IoT Edge edge CAs with their server certificates, one plain mosquitto broker), all real
//! mosquitto brokers on loopback that require client certificates and read pki's CRLs, 50
//! devices issued in a batch, two thin-edge self-signed devices. The clock (libfaketime, shared
//! by pki, openssl, the brokers and the clients) moves: on day 300 what is due is renewed in
//! order, each gateway renewed and proven over mutual TLS, the fleet scanned, every device
//! guided and connected, one revoked and refused; on day 600 the owner CA rolls over and every
//! device keeps connecting through the transition bundle while the fleet moves to the new root.
//! Every step's files are checked by `openssl verify`, every connection by a real client.

use std::path::Path;

use crate::support::clock::Clock;
use crate::support::programs;
use crate::support::{Mosquitto, Run, Server, run_bounded, tmp};

const ROOT: &str = "pki/certs/azure-iot-test-only.root.ca.cert.pem";
/// What brokers and devices trust: the root, and through the rollover both roots.
const TRUST: &str = "trust.pem";
const CRL: &str = "pki/crl/all.crl.pem";
const DEVICES: usize = 50;

/// A gateway: its host name, the edge CA that signs its server certificate (none: the
/// intermediate), and its broker.
struct Gateway {
    host: &'static str,
    edge_ca: Option<&'static str>,
    broker: Option<Mosquitto>,
}

impl Gateway {
    fn cert(&self) -> String {
        format!("pki/certs/iot-edge-server-{}.cert.pem", self.host)
    }
    fn full_chain(&self) -> String {
        format!(
            "pki/certs/iot-edge-server-{}-full-chain.cert.pem",
            self.host
        )
    }
    fn key(&self) -> String {
        format!("pki/private/iot-edge-server-{}.key.pem", self.host)
    }
    fn broker(&self) -> &Mosquitto {
        self.broker.as_ref().expect("the gateway's broker runs")
    }
    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.broker().port())
    }
}

fn device(n: usize) -> String {
    format!("dev-{n:02}")
}
fn device_chain(id: &str) -> String {
    format!("pki/certs/iot-device-{id}-full-chain.cert.pem")
}
fn device_cert(id: &str) -> String {
    format!("pki/certs/iot-device-{id}.cert.pem")
}
fn device_key(id: &str) -> String {
    format!("pki/private/iot-device-{id}.key.pem")
}

struct Fleet {
    dir: tempfile::TempDir,
    clock: Clock,
    gateways: Vec<Gateway>,
}

impl Fleet {
    fn p(&self) -> &Path {
        self.dir.path()
    }

    /// `pki ARGS` on the fleet's clock, with the exit code expected.
    #[track_caller]
    fn pki(&self, code: i32, args: &[&str]) -> Run {
        let r = self.clock.pki(self.p(), args);
        assert_eq!(
            r.code,
            code,
            "day {}: pki {args:?}\nstdout:\n{}\nstderr:\n{}",
            self.clock.day(),
            r.stdout,
            r.stderr
        );
        r
    }

    /// `openssl verify` of `cert` with its `chain` against what devices trust, on the clock.
    #[track_caller]
    fn openssl_verifies(&self, chain: &str, cert: &str) {
        let r = self.clock.openssl(
            self.p(),
            &[
                "verify",
                "-CAfile",
                TRUST,
                "-untrusted",
                chain,
                "-purpose",
                "any",
                cert,
            ],
        );
        assert_eq!(
            r.stdout.trim(),
            format!("{cert}: OK"),
            "day {}: openssl verify {cert}\n{}{}",
            self.clock.day(),
            r.stdout,
            r.stderr
        );
    }

    /// Every file of the fleet passes `openssl verify` today.
    fn all_files_verify(&self) {
        for g in &self.gateways {
            self.openssl_verifies(&g.full_chain(), &g.cert());
        }
        for n in 1..=DEVICES {
            let id = device(n);
            self.openssl_verifies(&device_chain(&id), &device_cert(&id));
        }
    }

    /// mosquitto_pub as device `id` through gateway `g` (the clock's day): true when the broker
    /// took the message.
    fn publishes(&self, id: &str, g: &Gateway) -> bool {
        let mut cmd = programs::command("mosquitto_pub");
        cmd.current_dir(self.p()).args([
            "-h",
            "127.0.0.1",
            "-p",
            &g.broker().port().to_string(),
            "--cafile",
            TRUST,
            "--cert",
            &device_chain(id),
            "--key",
            &device_key(id),
            "-i",
            id,
            "-t",
            &format!("devices/{id}/messages/events/"),
            "-m",
            "hello",
            "-q",
            "1",
        ]);
        self.clock.apply(&mut cmd);
        let r = run_bounded(cmd, b"", std::time::Duration::from_secs(20))
            .unwrap_or_else(|| panic!("mosquitto_pub as {id} to {} hung", g.host));
        r.code == 0
    }

    #[track_caller]
    fn connects(&self, id: &str, g: &Gateway) {
        assert!(
            self.publishes(id, g),
            "day {}: {id} could not publish through {}:\n{}",
            self.clock.day(),
            g.host,
            g.broker().output()
        );
    }

    /// Makes the brokers read their files again (certificates, trust, CRLs).
    fn reload_all(&self) {
        for g in &self.gateways {
            hup(g.broker().pid());
        }
        std::thread::sleep(std::time::Duration::from_millis(700));
    }

    /// The hook that reloads every broker: what an operator's `--exec` does.
    fn reload_command(&self) -> String {
        let pids: Vec<String> = self
            .gateways
            .iter()
            .map(|g| g.broker().pid().to_string())
            .collect();
        format!("kill -HUP {}", pids.join(" "))
    }

    /// Writes every CA's CRL and has the brokers read them (a CRL is valid for 7 days: an
    /// operator's timer does this).
    fn refresh_crls(&self) -> serde_json::Value {
        let j = self.pki(0, &["--json", "crl", "--all"]).json();
        self.reload_all();
        j
    }

    /// The device's mutual-TLS credentials, as flags.
    fn client(&self, id: &str) -> [String; 4] {
        [
            "--cert".into(),
            device_chain(id),
            "--key".into(),
            device_key(id),
        ]
    }
}

/// A renewal run's report in brief: each certificate's subject, result and error.
fn brief(j: &serde_json::Value) -> String {
    let mut s = format!("renewed {}, failed {}\n", j["renewed"], j["failed"]);
    for r in j["renewals"].as_array().into_iter().flatten() {
        s += &format!("  {} {} {}\n", r["subject"], r["result"], r["error"]);
    }
    for r in j["skipped"].as_array().into_iter().flatten() {
        s += &format!("  skipped {} {}\n", r["subject"], r["reason"]);
    }
    s
}

fn hup(pid: u32) {
    let ok = programs::command("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -HUP {pid}");
}

fn args<'a>(a: &'a [&'a str], more: &'a [String]) -> Vec<&'a str> {
    a.iter()
        .copied()
        .chain(more.iter().map(String::as_str))
        .collect()
}

/// Day 0: the PKI, the gateways' brokers, the devices.
fn build() -> Fleet {
    let mut f = Fleet {
        dir: tmp(),
        clock: Clock::new(),
        gateways: vec![
            Gateway {
                host: "gwa.example",
                edge_ca: Some("gwa"),
                broker: None,
            },
            Gateway {
                host: "gwb.example",
                edge_ca: Some("gwb"),
                broker: None,
            },
            Gateway {
                host: "broker.example",
                edge_ca: None,
                broker: None,
            },
        ],
    };
    f.pki(0, &["create-owner-ca", "--pathlen", "2"]);
    f.pki(0, &["create-intermediate-ca"]);
    for g in &f.gateways {
        let issuer = match g.edge_ca {
            Some(name) => {
                f.pki(0, &["create-edge-ca", name, "--days", "365"]);
                format!("edge-ca:{name}")
            }
            None => "intermediate".to_owned(),
        };
        f.pki(
            0,
            &[
                "issue",
                "server",
                g.host,
                "--san",
                "127.0.0.1",
                "--issuer",
                &issuer,
                "--days",
                "365",
            ],
        );
    }
    let ids: Vec<String> = (1..=DEVICES).map(device).collect();
    std::fs::write(f.p().join("devices.txt"), ids.join("\n") + "\n").unwrap();
    let r = f.pki(
        0,
        &[
            "--json",
            "issue",
            "device",
            "--batch",
            "devices.txt",
            "--days",
            "365",
        ],
    );
    assert_eq!(r.json()["summary"]["issued"], DEVICES, "{}", r.stdout);
    for t in ["tedge-1", "tedge-2"] {
        std::fs::create_dir_all(f.p().join(format!("tedge/{t}"))).unwrap();
        f.pki(
            0,
            &[
                "self-signed",
                t,
                "--out-cert",
                &format!("tedge/{t}/tedge-certificate.pem"),
                "--out-key",
                &format!("tedge/{t}/tedge-private-key.pem"),
            ],
        );
    }
    std::fs::copy(f.p().join(ROOT), f.p().join(TRUST)).unwrap();
    f.pki(0, &["crl", "--all"]);
    for g in &mut f.gateways {
        let (cert, key) = (g.full_chain(), g.key());
        g.broker = Some(Mosquitto::start_on_clock(
            f.dir.path(),
            [TRUST, &cert, &key, CRL],
            &f.clock,
        ));
    }
    f
}

#[test]
fn a_fleet_lives_through_renewals_a_revocation_and_a_root_rollover() {
    let f = build();
    f.all_files_verify();
    for (n, g) in f.gateways.iter().enumerate() {
        f.connects(&device(n + 1), g);
        let dev = f.client(&device(n + 1));
        f.pki(
            0,
            &args(
                &[
                    "verify",
                    &g.address(),
                    "--servername",
                    g.host,
                    "--ca-file",
                    TRUST,
                ],
                &dev,
            ),
        );
    }

    // ---- Day 300: what expires within 90 days is renewed, CAs first. ----
    f.clock.set_day(300);
    f.refresh_crls();
    let hook = f.reload_command();
    let r = f.pki(
        0,
        &["--json", "renew", "--expiring", "90d", "--exec", &hook],
    );
    let j = r.json();
    let profiles: Vec<&str> = j["renewals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["profile"].as_str().unwrap())
        .collect();
    // The two edge CAs, the three servers, the devices, the two thin-edge devices.
    assert_eq!(j["renewed"], 2 + 3 + DEVICES + 2, "{}", brief(&j));
    assert_eq!(j["failed"], 0, "{}", brief(&j));
    assert_eq!(&profiles[..2], ["edge-ca", "edge-ca"], "{profiles:?}");
    assert!(
        j["renewals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["capped"].is_null()),
        "no renewal was cut short by a CA renewed after it: {}",
        brief(&j)
    );
    // The servers hang below the renewed edge CAs.
    for g in f.gateways.iter().filter(|g| g.edge_ca.is_some()) {
        let chain = std::fs::read_to_string(f.p().join(g.full_chain())).unwrap();
        let edge = std::fs::read_to_string(f.p().join(format!(
            "pki/certs/iot-edge-device-ca-{}.cert.pem",
            g.edge_ca.unwrap()
        )))
        .unwrap();
        assert!(chain.contains(edge.trim()), "{} chain", g.host);
    }
    f.all_files_verify();
    // The old edge CA keys still sign the CRLs of what they issued.
    let crls = f.refresh_crls();
    let previous = crls["crls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ca"].as_str().unwrap().starts_with("previous edge CA"))
        .count();
    assert_eq!(previous, 2, "{crls}");

    // Each gateway, renewed on its own with the reload hook and proven over mutual TLS.
    for (n, g) in f.gateways.iter().enumerate() {
        let dev = f.client(&device(n + 10));
        let r = f.pki(
            0,
            &args(
                &[
                    "--json",
                    "renew",
                    g.host,
                    "--exec",
                    &format!("kill -HUP {}", g.broker().pid()),
                    "--verify",
                    &g.address(),
                    "--servername",
                    g.host,
                ],
                &dev,
            ),
        );
        let j = r.json();
        assert_eq!(j["renewals"][0]["result"], "renewed", "{j}");
        assert_eq!(j["renewals"][0]["verification"]["passed"], true, "{j}");
    }
    // The fleet scanned with a device's certificate: every gateway OK.
    let hosts: String = f
        .gateways
        .iter()
        .map(|g| format!("{} servername={}\n", g.address(), g.host))
        .collect();
    std::fs::write(f.p().join("gateways.txt"), hosts).unwrap();
    let dev = f.client(&device(20));
    f.pki(
        0,
        &args(&["scan", "gateways.txt", "--ca-file", TRUST], &dev),
    );
    // Every device: its guide, and a connection through one of the gateways.
    for n in 1..=DEVICES {
        let id = device(n);
        let g = &f.gateways[n % f.gateways.len()];
        f.pki(
            0,
            &["guide", &id, "--sdk", "mosquitto", "--gateway", g.host],
        );
        f.connects(&id, g);
    }
    // The thin-edge devices were renewed in place.
    for t in ["tedge-1", "tedge-2"] {
        let cert = format!("tedge/{t}/tedge-certificate.pem");
        let r = f.clock.openssl(
            f.p(),
            &["verify", "-CAfile", &cert, "-purpose", "sslclient", &cert],
        );
        assert!(r.stdout.contains(": OK"), "{t}: {}{}", r.stdout, r.stderr);
        let shown = f.pki(0, &["--json", "show", &cert]).json();
        let not_after = shown["certificates"][0]["not_after"].as_str().unwrap();
        assert!(not_after > "2028", "{t} renewed: {not_after}");
    }
    // A device is revoked: the brokers refuse it once they read the new CRL; the rest connect.
    f.pki(0, &["revoke", "dev-07", "--reason", "keyCompromise"]);
    f.refresh_crls();
    for g in &f.gateways {
        assert!(
            !f.publishes("dev-07", g),
            "day 300: the revoked dev-07 still connects through {}",
            g.host
        );
        f.connects("dev-08", g);
    }

    // ---- Day 600: the owner CA rolls over. ----
    f.clock.set_day(600);
    f.refresh_crls();
    let r = f.pki(0, &["--json", "renew", "root"]).json();
    let bundle = r["renewals"][0]["rollover"]["transition_bundle"]
        .as_str()
        .unwrap()
        .to_owned();
    // Both roots on every broker and device before anything is issued under the new one.
    std::fs::copy(f.p().join(&bundle), f.p().join(TRUST)).unwrap();
    f.reload_all();
    f.connects("dev-01", &f.gateways[0]);
    // The intermediate under the new root, then everything due below it.
    f.pki(0, &["renew", "intermediate"]);
    f.refresh_crls();
    // The gateways move first: old-chain devices still connect to new-chain gateways.
    let hook = f.reload_command();
    for g in &f.gateways {
        if let Some(name) = g.edge_ca {
            f.pki(0, &["renew", &format!("edge-ca:{name}"), "--exec", &hook]);
        }
        f.pki(0, &["renew", g.host, "--exec", &hook]);
    }
    f.refresh_crls();
    for (n, g) in f.gateways.iter().enumerate() {
        f.connects(&device(n + 1), g);
    }
    let r = f.pki(
        0,
        &["--json", "renew", "--expiring", "90d", "--exec", &hook],
    );
    let j = r.json();
    assert_eq!(j["failed"], 0, "{}", brief(&j));
    assert!(
        j["renewed"].as_u64().unwrap() >= DEVICES as u64 - 1,
        "{}",
        brief(&j)
    );
    f.refresh_crls();
    f.all_files_verify();
    // Everything now chains to the new root alone.
    let new_root = f.p().join(ROOT);
    for n in [1, 25, 50] {
        let id = device(n);
        let r = f.clock.openssl(
            f.p(),
            &[
                "verify",
                "-CAfile",
                new_root.to_str().unwrap(),
                "-untrusted",
                &device_chain(&id),
                &device_cert(&id),
            ],
        );
        assert!(r.stdout.contains(": OK"), "{id}: {}{}", r.stdout, r.stderr);
    }
    for n in 1..=DEVICES {
        let id = device(n);
        if id == "dev-07" {
            continue;
        }
        f.connects(&id, &f.gateways[n % f.gateways.len()]);
    }
}
