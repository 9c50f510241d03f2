//! A device key on the token proving the device to a real mosquitto that requires client
//! certificates: `pki verify`, `pki scan` and `pki renew --verify` present it through the token.

use super::{Hsm, ROOT};
use crate::support::{Mosquitto, Server, tmp};

#[test]
fn a_device_key_on_the_token_proves_the_device_to_a_broker_that_requires_one() {
    let d = tmp();
    let p = d.path();
    let hsm = Hsm::new(p);
    hsm.pki(p, &["quickstart", "--gateway", "localhost"])
        .expect(0);
    // An EC key and an RSA key on the token (RSA signs TLS 1.3's handshake with PSS there).
    for (name, key_type) in [("dev-ec", "ec-p256"), ("dev-rsa", "rsa-2048")] {
        let csr = format!("{name}.csr");
        hsm.pki(
            p,
            &[
                "csr",
                "create",
                name,
                "--key-on",
                &hsm.uri(name),
                "--key-type",
                key_type,
                "--out",
                &csr,
            ],
        )
        .expect(0);
        hsm.pki(p, &["csr", "sign", &csr, "--profile", "device"])
            .expect(0);
    }
    let server_full = "pki/certs/iot-edge-server-localhost-full-chain.cert.pem";
    let server_key = "pki/private/iot-edge-server-localhost.key.pem";
    let broker = Mosquitto::start(p, ROOT, server_full, server_key, true);
    let target = format!("localhost:{}", broker.port());
    let cert = |name: &str| format!("pki/certs/iot-device-{name}-full-chain.cert.pem");
    for name in ["dev-ec", "dev-rsa"] {
        let j = hsm
            .pki(
                p,
                &[
                    "--json",
                    "verify",
                    &target,
                    "--ca-file",
                    ROOT,
                    "--cert",
                    &cert(name),
                    "--key",
                    &hsm.uri(name),
                ],
            )
            .expect(0)
            .json();
        assert_eq!(j["tls"]["tls_version"], "TLSv1.3", "{j}");
        let check = j["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["step"] == "client certificate")
            .unwrap();
        assert_eq!(check["status"], "ok", "{name}: {j}");
    }
    // A hosts file's line with its key on the token.
    std::fs::write(
        p.join("hosts.txt"),
        format!(
            "{} servername=localhost cert={} key={}\n",
            broker.addr(),
            cert("dev-ec"),
            hsm.uri("dev-ec")
        ),
    )
    .unwrap();
    let r = hsm.pki(p, &["scan", "hosts.txt", "--ca-file", ROOT]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("1 ok"), "{}", r.stdout);
    // renew --verify presenting it: the renewal is kept.
    let reload = format!("kill -HUP {}", broker.pid());
    let r = hsm.pki(
        p,
        &[
            "renew",
            "pki/certs/iot-edge-server-localhost.cert.pem",
            "--exec",
            &reload,
            "--verify",
            &broker.addr(),
            "--servername",
            "localhost",
            "--cert",
            &cert("dev-rsa"),
            "--key",
            &hsm.uri("dev-rsa"),
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("renewed"), "{}", r.stdout);
    // The token's other key is not this certificate's: refused before connecting.
    let r = hsm.pki(
        p,
        &[
            "verify",
            &target,
            "--ca-file",
            ROOT,
            "--cert",
            &cert("dev-ec"),
            "--key",
            &hsm.uri("dev-rsa"),
        ],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("does not belong to the certificate"),
        "{}",
        r.stderr
    );
}
