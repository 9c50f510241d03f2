//! `pki verify` of client authentication: a broker (mosquitto, `openssl s_server`) that requires
//! client certificates accepts the pki device; a device chain given offline is judged as a
//! gateway checks a device; what the device would present is told before connecting; and the
//! CA names the server sends as acceptable are those `openssl s_client` prints.

use crate::support::quickstart::{
    DEVICE, DEVICE_FULL as DEVICE_CHAIN, DEVICE_KEY, INTERMEDIATE_FULL, ROOT, SERVER,
    SERVER_FULL as SERVER_CHAIN, SERVER_KEY, gateway_pki,
};
use crate::support::{
    Handshake, MQTT_CONNECT_DISCONNECT, Mosquitto, OpensslServer, Server, openssl, pki,
    refused_in_one_line, s_client,
};

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
fn a_device_chain_given_offline_is_judged_as_a_gateway_checks_a_device() {
    let d = gateway_pki();
    let p = d.path();
    // The device's full chain: accepted by both, as a client's (clientAuth), not refused by
    // rustls for lacking serverAuth.
    let r = pki(p, &["verify", "--chain", DEVICE_CHAIN, "--ca-file", ROOT]).expect(0);
    assert!(r.stdout.ends_with("verified OK\n"), "{}", r.stdout);
    assert!(
        r.stdout.contains("certificate(s) presented"),
        "{}",
        r.stdout
    );
    let j = pki(
        p,
        &[
            "--json",
            "verify",
            "--chain",
            DEVICE_CHAIN,
            "--ca-file",
            ROOT,
        ],
    )
    .expect(0)
    .json();
    assert_eq!(j["purpose"], "client", "{j}");
    // The device's certificate alone: OpenSSL's verdict as a gateway's (-purpose sslclient),
    // and the advice about the device, not a server.
    let r = pki(p, &["verify", "--chain", DEVICE, "--ca-file", ROOT]).expect(1);
    let o = openssl(
        p,
        &["verify", "-purpose", "sslclient", "-CAfile", ROOT, DEVICE],
    );
    let said = o.stdout + &o.stderr;
    assert!(said.contains("error 20 at 0 depth lookup"), "{said}");
    assert!(
        r.stdout.contains("OpenSSL:   error 20 at 0 depth lookup"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("the device presents only its own certificate")
            && r.stdout.contains("to the gateway's CA file"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("server"), "{}", r.stdout);
    // A server's chain is still a server's.
    let r = pki(p, &["verify", "--chain", SERVER, "--ca-file", ROOT]).expect(1);
    assert!(
        r.stdout
            .contains("the server sends only its own certificate"),
        "{}",
        r.stdout
    );
}

/// The names `openssl s_client` prints under "Acceptable client certificate CA names" (none
/// when it says "No client certificate CA names sent").
fn s_client_ca_names(h: &Handshake) -> Vec<String> {
    let text = h.text();
    if text.contains("No client certificate CA names sent") {
        return Vec::new();
    }
    text.lines()
        .skip_while(|l| *l != "Acceptable client certificate CA names")
        .skip(1)
        .take_while(|l| l.contains(" = ") && !l.contains(": "))
        .map(str::to_owned)
        .collect()
}

/// The detail of the `client certificate` check of a `--json` report.
fn client_check(j: &serde_json::Value) -> (String, String) {
    let c = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["step"] == "client certificate")
        .unwrap_or_else(|| panic!("no client certificate check: {j}"));
    (
        c["status"].as_str().unwrap().to_owned(),
        c["detail"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn a_leaf_alone_and_a_key_not_the_certificates_are_told_before_connecting() {
    let d = gateway_pki();
    let p = d.path();
    let broker = Mosquitto::start(p, ROOT, SERVER_CHAIN, SERVER_KEY, true);
    let target = format!("localhost:{}", broker.port());
    // A device on OpenSSL presenting its certificate alone: the broker, which trusts the root
    // only, cannot reach it and says `unknown ca`.
    let h = s_client(p, broker.port())
        .ca_file(ROOT)
        .args(&["-cert", DEVICE, "-key", DEVICE_KEY, "-ign_eof"])
        .stdin(MQTT_CONNECT_DISCONNECT)
        .run();
    assert!(h.stderr.contains("unknown ca"), "{}", h.text());
    // pki says so, why, and which file to present instead.
    let args = [
        "--json",
        "verify",
        &target,
        "--ca-file",
        ROOT,
        "--cert",
        DEVICE,
        "--key",
        DEVICE_KEY,
    ];
    let j = pki(p, &args).expect(1).json();
    let (status, detail) = client_check(&j);
    assert_eq!(status, "fail");
    assert!(
        detail.starts_with("the server rejected the client certificate after the handshake (unknown ca): only the device's own certificate is presented"),
        "{detail}"
    );
    assert!(
        detail.ends_with(&format!("present the full chain ({DEVICE_CHAIN})")),
        "{detail}"
    );
    assert_eq!(j["client_certificate"]["leaf_only"], true);
    assert_eq!(j["client_certificate"]["issuer"], "CN=IoT Intermediate CA");
    assert_eq!(j["client_certificate"]["full_chain_file"], DEVICE_CHAIN);
    // Over TLS 1.2 the same refusal aborts the handshake itself: said the same way.
    let tls12 = OpensslServer::start(
        p,
        SERVER,
        SERVER_KEY,
        Some(SERVER_CHAIN),
        &[
            "-tls1_2",
            "-Verify",
            "3",
            "-verify_return_error",
            "-CAfile",
            ROOT,
        ],
    );
    let target12 = format!("localhost:{}", tls12.port());
    let mut over12 = args;
    over12[2] = &target12;
    let j = pki(p, &over12).expect(1).json();
    assert_eq!(j["tls"]["tls_version"], "TLSv1.2", "{j}");
    let (status, detail) = client_check(&j);
    assert_eq!(status, "fail", "{j}");
    assert!(
        detail.starts_with("the server rejected the client certificate during the handshake (unknown ca): the server accepts client certificates issued under CN = IoT Owner Root CA, and the chain presented (CN=downstream-device-1, issued by CN=IoT Intermediate CA) reaches none of them"),
        "{detail}"
    );
    // The full chain is accepted, and nothing is said against it.
    let mut full = args;
    full[6] = DEVICE_CHAIN;
    let j = pki(p, &full).expect(0).json();
    assert_eq!(client_check(&j).0, "ok", "{j}");
    assert_eq!(j["client_certificate"]["leaf_only"], false);

    // A key that is not the certificate's: the broker would say `decrypt error`; pki refuses
    // before connecting, naming both files.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let connections = || broker.output().matches("New connection from").count();
    let before = connections();
    let bad = [
        "verify",
        &target,
        "--ca-file",
        ROOT,
        "--cert",
        DEVICE_CHAIN,
        "--key",
        SERVER_KEY,
    ];
    let r = pki(p, &bad);
    refused_in_one_line(
        &r,
        &bad,
        &format!(
            "the key {SERVER_KEY} does not belong to the certificate {DEVICE_CHAIN} (their public keys differ)"
        ),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(connections(), before, "{}", broker.output());
}

#[test]
fn the_servers_acceptable_client_ca_names_are_those_s_client_prints() {
    let d = gateway_pki();
    let p = d.path();
    // Two client CAs: the quickstart's root and fleet B's.
    let fleet = p.join("fleet");
    std::fs::create_dir(&fleet).unwrap();
    pki(&fleet, &["create-owner-ca", "--cn", "Fleet B Root CA"]).expect(0);
    let fleet_root = "fleet/pki/certs/azure-iot-test-only.root.ca.cert.pem";
    let two = format!(
        "{}{}",
        std::fs::read_to_string(p.join(ROOT)).unwrap(),
        std::fs::read_to_string(p.join(fleet_root)).unwrap()
    );
    std::fs::write(p.join("two-cas.pem"), two).unwrap();
    let device = |port: u16| {
        s_client(p, port)
            .ca_file(ROOT)
            .args(&["-cert", DEVICE, "-cert_chain", INTERMEDIATE_FULL])
            .args(&["-key", DEVICE_KEY])
            .run()
    };
    let verify = |port: u16, code: i32| {
        let target = format!("localhost:{port}");
        let args = [
            "verify",
            &target,
            "--ca-file",
            ROOT,
            "--cert",
            DEVICE_CHAIN,
            "--key",
            DEVICE_KEY,
        ];
        let text = pki(p, &args).expect(code).stdout;
        let mut json = vec!["--json"];
        json.extend_from_slice(&args);
        (text, pki(p, &json).expect(code).json())
    };

    // mosquitto (2.0) trusting both names none in its CertificateRequest: s_client and pki agree.
    let broker = Mosquitto::start(p, "two-cas.pem", SERVER_CHAIN, SERVER_KEY, true);
    let h = device(broker.port());
    assert!(
        h.text().contains("No client certificate CA names sent"),
        "{}",
        h.text()
    );
    let (text, j) = verify(broker.port(), 0);
    assert_eq!(j["tls"]["client_ca_names"], serde_json::json!([]));
    assert!(
        text.contains("client CAs: the server sent no acceptable client certificate CA names\n"),
        "{text}"
    );

    // openssl s_server names the CAs of its -CAfile: pki lists exactly what s_client prints.
    let mtls = |cafile: &str| {
        OpensslServer::start(
            p,
            SERVER,
            SERVER_KEY,
            Some(SERVER_CHAIN),
            &["-Verify", "3", "-verify_return_error", "-CAfile", cafile],
        )
    };
    let server = mtls("two-cas.pem");
    let names = s_client_ca_names(&device(server.port()));
    assert_eq!(names, ["CN = IoT Owner Root CA", "CN = Fleet B Root CA"]);
    let (text, j) = verify(server.port(), 0);
    assert_eq!(j["tls"]["client_ca_names"], serde_json::json!(names));
    assert_eq!(j["client_certificate"]["reaches_acceptable_ca"], true);
    assert!(
        text.contains(&format!(
            "client CAs: the server's acceptable client certificate CA names:\n  {}\n  {}\n",
            names[0], names[1]
        )),
        "{text}"
    );

    // A server trusting fleet B's CA only: the device's chain reaches none of its names.
    let b_only = mtls(fleet_root);
    assert_eq!(
        s_client_ca_names(&device(b_only.port())),
        ["CN = Fleet B Root CA"]
    );
    let (_, j) = verify(b_only.port(), 1);
    assert_eq!(j["client_certificate"]["reaches_acceptable_ca"], false);
    let (status, detail) = client_check(&j);
    assert_eq!(status, "fail", "{j}");
    assert!(
        detail.contains(
            "the server accepts client certificates issued under CN = Fleet B Root CA, and the chain presented (CN=downstream-device-1 <- CN=IoT Intermediate CA <- CN=IoT Owner Root CA, issued by CN=IoT Owner Root CA) reaches none of them: present a certificate issued under one of them"
        ),
        "{detail}"
    );
}
