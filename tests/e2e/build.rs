//! Every chain `pki` builds passes `openssl verify`, and `openssl x509 -text` shows the
//! extensions of the profile table of docs/guide/profiles.md, for every key type.

use std::collections::HashMap;
use std::path::Path;

use crate::support::{openssl, openssl_text, pki, pki_env, testdata, tmp};

const ROOT: &str = "pki/certs/azure-iot-test-only.root.ca.cert.pem";

/// `openssl x509 -text`'s extensions as name -> (critical, value).
fn extensions(text: &str) -> HashMap<String, (bool, String)> {
    let mut map = HashMap::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t == "X509v3 extensions:" {
            continue;
        }
        if let Some(name) = t.strip_prefix("X509v3 ") {
            let (name, critical) = match name.split_once(':') {
                Some((n, rest)) => (n.to_owned(), rest.trim() == "critical"),
                None => continue,
            };
            let value = lines
                .next()
                .map(|v| v.trim().to_owned())
                .unwrap_or_default();
            map.insert(name, (critical, value));
        }
    }
    map
}

fn field<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in\n{text}"))
        .trim()
}

#[track_caller]
fn verify_ok(dir: &Path, args: &[&str], leaf: &str) {
    let mut full = vec!["verify", "-CAfile", ROOT];
    full.extend_from_slice(args);
    full.push(leaf);
    let r = openssl(dir, &full);
    assert_eq!(
        r.stdout.trim(),
        format!("{leaf}: OK"),
        "openssl verify {args:?} {leaf}\n{}{}",
        r.stdout,
        r.stderr
    );
}

#[track_caller]
fn assert_ext(exts: &HashMap<String, (bool, String)>, name: &str, critical: bool, value: &str) {
    let got = exts
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {exts:?}"));
    assert_eq!((got.0, got.1.as_str()), (critical, value), "{name}");
}

fn build_and_check(key_type: &str) {
    let d = tmp();
    let p = d.path();
    let kt = ["--key-type", key_type];
    let run = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend_from_slice(&kt);
        pki(p, &a).expect(0);
    };
    run(&["create-owner-ca", "--pathlen", "2"]);
    run(&["create-intermediate-ca"]);
    run(&["create-edge-ca", "gw1"]);
    run(&[
        "issue",
        "server",
        "gw.contoso.com",
        "--san",
        "10.0.0.4",
        "--san",
        "gw",
    ]);
    run(&["issue", "device", "sensor-0001"]);
    run(&["create-verification-cert", "0D5A2B3C4E"]);
    run(&["self-signed", "tedge-0001"]);

    let certs = "pki/certs";
    let server = format!("{certs}/iot-edge-server-gw.contoso.com.cert.pem");
    let server_chain = format!("{certs}/iot-edge-server-gw.contoso.com-full-chain.cert.pem");
    let device = format!("{certs}/iot-device-sensor-0001.cert.pem");
    let device_chain = format!("{certs}/iot-device-sensor-0001-full-chain.cert.pem");
    let edge = format!("{certs}/iot-edge-device-ca-gw1.cert.pem");
    let edge_chain = format!("{certs}/iot-edge-device-ca-gw1-full-chain.cert.pem");
    let inter = format!("{certs}/azure-iot-test-only.intermediate.cert.pem");
    let verification = format!("{certs}/iot-device-verification-code.cert.pem");
    let selfsigned = format!("{certs}/iot-device-tedge-0001.cert.pem");

    // The chains verify, with the purpose and name a device or gateway will check.
    verify_ok(
        p,
        &[
            "-untrusted",
            &server_chain,
            "-purpose",
            "sslserver",
            "-verify_hostname",
            "gw.contoso.com",
        ],
        &server,
    );
    verify_ok(
        p,
        &[
            "-untrusted",
            &server_chain,
            "-purpose",
            "sslserver",
            "-verify_hostname",
            "gw",
        ],
        &server,
    );
    verify_ok(
        p,
        &[
            "-untrusted",
            &server_chain,
            "-purpose",
            "sslserver",
            "-verify_ip",
            "10.0.0.4",
        ],
        &server,
    );
    verify_ok(
        p,
        &["-untrusted", &device_chain, "-purpose", "sslclient"],
        &device,
    );
    verify_ok(p, &["-untrusted", &edge_chain], &edge);
    verify_ok(p, &[], &inter);
    verify_ok(p, &[], &verification);
    let r = openssl(
        p,
        &[
            "verify",
            "-CAfile",
            &selfsigned,
            "-purpose",
            "sslclient",
            &selfsigned,
        ],
    );
    assert_eq!(
        r.stdout.trim(),
        format!("{selfsigned}: OK"),
        "{}{}",
        r.stdout,
        r.stderr
    );

    // The extensions of docs/guide/profiles.md's table.
    let sig = match key_type {
        "ec-p256" => "ecdsa-with-SHA256",
        "ec-p384" => "ecdsa-with-SHA384",
        "ed25519" => "ED25519",
        _ => "sha256WithRSAEncryption",
    };
    let ca_ku = "Digital Signature, Certificate Sign, CRL Sign";
    for (file, bc, ku, eku, aki) in [
        (ROOT.to_owned(), "CA:TRUE, pathlen:2", ca_ku, None, false),
        (inter.clone(), "CA:TRUE, pathlen:1", ca_ku, None, true),
        // cRLSign too, as certGen.sh's edge device CA: its CRL withdraws a gateway certificate.
        (edge.clone(), "CA:TRUE, pathlen:0", ca_ku, None, true),
        (
            server.clone(),
            "CA:FALSE",
            if key_type.starts_with("rsa") {
                "Digital Signature, Key Encipherment"
            } else {
                "Digital Signature"
            },
            Some("TLS Web Server Authentication"),
            true,
        ),
        (
            device.clone(),
            "CA:FALSE",
            "Digital Signature",
            Some("TLS Web Client Authentication"),
            true,
        ),
        (
            verification.clone(),
            "CA:FALSE",
            "Digital Signature",
            None,
            true,
        ),
        (
            selfsigned.clone(),
            "CA:TRUE, pathlen:0",
            "Digital Signature, Certificate Sign",
            Some("TLS Web Client Authentication"),
            false,
        ),
    ] {
        let text = openssl_text(p, &file);
        assert!(text.contains("Version: 3 (0x2)"), "{file}");
        assert_eq!(field(&text, "Signature Algorithm:"), sig, "{file}");
        let exts = extensions(&text);
        assert_ext(&exts, "Basic Constraints", true, bc);
        assert_ext(&exts, "Key Usage", true, ku);
        match eku {
            Some(e) => assert_ext(&exts, "Extended Key Usage", false, e),
            None => assert!(
                !exts.contains_key("Extended Key Usage"),
                "{file} has an EKU"
            ),
        }
        assert!(
            exts.contains_key("Subject Key Identifier"),
            "{file} lacks SKI"
        );
        assert_eq!(
            exts.contains_key("Authority Key Identifier"),
            aki,
            "{file} AKI"
        );
        // Random positive serials of at least 64 bits.
        let serial = openssl(p, &["x509", "-in", &file, "-noout", "-serial"])
            .expect(0)
            .stdout;
        let hex = serial.trim().trim_start_matches("serial=");
        assert!(
            hex.len() >= 16,
            "{file}: serial {hex} is shorter than 64 bits"
        );
        assert!(
            u8::from_str_radix(&hex[..2], 16).unwrap() < 0x80,
            "{file}: negative serial"
        );
    }
    let server_text = openssl_text(p, &server);
    assert_ext(
        &extensions(&server_text),
        "Subject Alternative Name",
        false,
        "DNS:gw.contoso.com, IP Address:10.0.0.4, DNS:gw",
    );
    assert!(server_text.contains("Subject: CN = gw.contoso.com"));
    assert!(openssl_text(p, &device).contains("Subject: CN = sensor-0001"));
    assert!(openssl_text(p, &edge).contains("Subject: CN = gw1.ca"));
    assert!(openssl_text(p, &verification).contains("Subject: CN = 0D5A2B3C4E"));
    assert!(
        openssl_text(p, &selfsigned)
            .contains("Subject: O = Thin Edge, OU = Device, CN = tedge-0001")
    );

    // Keys: 0600 in a 0700 private/, and each matches its certificate (OpenSSL's own check).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &Path| std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p.join("pki/private")), 0o700);
        for e in std::fs::read_dir(p.join("pki/private")).unwrap() {
            assert_eq!(mode(&e.unwrap().path()), 0o600);
        }
    }
    for (cert, key) in [
        (
            &server,
            "pki/private/iot-edge-server-gw.contoso.com.key.pem",
        ),
        (&device, "pki/private/iot-device-sensor-0001.key.pem"),
    ] {
        let a = openssl(p, &["x509", "-in", cert, "-noout", "-pubkey"])
            .expect(0)
            .stdout;
        let b = openssl(p, &["pkey", "-in", key, "-pubout"])
            .expect(0)
            .stdout;
        assert_eq!(a, b, "{key} does not belong to {cert}");
    }

    // The register has one row per certificate, agreeing with the files.
    let index = crate::support::register_lines(p);
    assert_eq!(index.lines().count(), 7);
    for line in index.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let path = p.join("pki").join(v["path"].as_str().unwrap());
        let fp = openssl(
            p,
            &[
                "x509",
                "-in",
                path.to_str().unwrap(),
                "-noout",
                "-fingerprint",
                "-sha256",
            ],
        )
        .expect(0)
        .stdout;
        assert_eq!(
            fp.trim().rsplit('=').next().unwrap().replace(':', ""),
            v["sha256"].as_str().unwrap()
        );
    }
}

#[test]
fn ec_p256_chain_verifies_with_openssl() {
    build_and_check("ec-p256");
}

#[test]
fn ec_p384_chain_verifies_with_openssl() {
    build_and_check("ec-p384");
}

#[test]
fn ed25519_chain_verifies_with_openssl() {
    build_and_check("ed25519");
}

#[test]
fn rsa_2048_chain_verifies_with_openssl() {
    build_and_check("rsa-2048");
}

#[test]
fn rsa_3072_chain_verifies_with_openssl() {
    build_and_check("rsa-3072");
}

#[test]
fn rsa_4096_chain_verifies_with_openssl() {
    build_and_check("rsa-4096");
}

#[test]
fn quickstart_builds_a_verified_gateway_pki() {
    let d = tmp();
    let r = pki(d.path(), &["quickstart", "--gateway", "gw.contoso.com"]).expect(0);
    assert!(r.stdout.contains("verified OK"), "{}", r.stdout);
    assert!(
        r.stdout.contains("GatewayHostName=gw.contoso.com"),
        "{}",
        r.stdout
    );
    verify_ok(
        d.path(),
        &[
            "-untrusted",
            "pki/certs/iot-edge-server-gw.contoso.com-full-chain.cert.pem",
            "-purpose",
            "sslserver",
            "-verify_hostname",
            "gw.contoso.com",
        ],
        "pki/certs/iot-edge-server-gw.contoso.com.cert.pem",
    );
    // A second run refuses to replace the PKI; --force does.
    let again = pki(d.path(), &["quickstart", "--gateway", "gw.contoso.com"]).expect(2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    pki(
        d.path(),
        &["quickstart", "--gateway", "gw.contoso.com", "--force"],
    )
    .expect(0);
    let j = pki(
        d.path(),
        &["--json", "quickstart", "--gateway", "10.1.2.3", "--force"],
    )
    .expect(0)
    .json();
    assert_eq!(j["proof"]["ok"], true);
    assert_eq!(j["certificates"].as_array().unwrap().len(), 5);
}

#[test]
fn csr_create_and_sign_for_pki_and_openssl_made_requests() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    pki(p, &["create-intermediate-ca"]).expect(0);
    // A device keeps its key and sends a CSR.
    pki(p, &["csr", "create", "sensor-7"]).expect(0);
    assert!(p.join("pki/csr/iot-device-sensor-7.csr.pem").is_file());
    openssl(
        p,
        &[
            "req",
            "-in",
            "pki/csr/iot-device-sensor-7.csr.pem",
            "-noout",
            "-verify",
        ],
    )
    .expect(0);
    pki(
        p,
        &[
            "csr",
            "sign",
            "pki/csr/iot-device-sensor-7.csr.pem",
            "--profile",
            "device",
        ],
    )
    .expect(0);
    verify_ok(
        p,
        &[
            "-untrusted",
            "pki/certs/iot-device-sensor-7-full-chain.cert.pem",
            "-purpose",
            "sslclient",
        ],
        "pki/certs/iot-device-sensor-7.cert.pem",
    );
    // The certificate carries the CSR's key.
    let a = openssl(
        p,
        &[
            "x509",
            "-in",
            "pki/certs/iot-device-sensor-7.cert.pem",
            "-noout",
            "-pubkey",
        ],
    )
    .expect(0)
    .stdout;
    let b = openssl(
        p,
        &[
            "pkey",
            "-in",
            "pki/private/iot-device-sensor-7.key.pem",
            "-pubout",
        ],
    )
    .expect(0)
    .stdout;
    assert_eq!(a, b);
    // An OpenSSL-made CSR, signed as a server certificate with an extra SAN.
    let csr = testdata("show/csr-device.csr");
    let r = pki(
        p,
        &[
            "--json",
            "csr",
            "sign",
            csr.to_str().unwrap(),
            "--profile",
            "device",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(r["subject"], "CN = csr-device-7");
    openssl(
        p,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "gw.key",
            "-subj",
            "/CN=gw.local",
            "-out",
            "gw.csr",
        ],
    )
    .expect(0);
    pki(
        p,
        &[
            "csr",
            "sign",
            "gw.csr",
            "--profile",
            "server",
            "--san",
            "127.0.0.1",
        ],
    )
    .expect(0);
    verify_ok(
        p,
        &[
            "-untrusted",
            "pki/certs/iot-edge-server-gw.local-full-chain.cert.pem",
            "-purpose",
            "sslserver",
            "-verify_ip",
            "127.0.0.1",
        ],
        "pki/certs/iot-edge-server-gw.local.cert.pem",
    );
}

#[test]
fn import_reads_the_key_formats_other_tools_write() {
    let d = tmp();
    let p = d.path();
    let td = |f: &str| testdata(&format!("show/{f}")).display().to_string();
    // certGen.sh style: encrypted PKCS#8 root key, password 1234, from a file.
    let r = pki(
        p,
        &[
            "create-owner-ca",
            "--import",
            &td("rsa-root.cert.pem"),
            "--key",
            &td("rsa-root.key.pem"),
            "--key-password-file",
            &td("rsa-root.password.txt"),
        ],
    )
    .expect(0);
    assert!(r.stdout.contains("imported"), "{}", r.stdout);
    // The adopted (still encrypted) key signs: the intermediate (PKCS#1 key) is imported under it,
    // then a device is issued with the password from the environment.
    pki(
        p,
        &[
            "create-intermediate-ca",
            "--import",
            &td("rsa-inter.cert.pem"),
            "--key",
            &td("rsa-inter.key.pem"),
            "--key-password-file",
            &td("rsa-root.password.txt"),
        ],
    )
    .expect(0);
    pki_env(
        p,
        &["issue", "device", "dev-9", "--issuer", "root"],
        &[("PKI_KEY_PASSWORD", "1234")],
    )
    .expect(0);
    verify_ok(
        p,
        &[
            "-untrusted",
            "pki/certs/iot-device-dev-9-full-chain.cert.pem",
            "-purpose",
            "sslclient",
        ],
        "pki/certs/iot-device-dev-9.cert.pem",
    );
    pki(p, &["issue", "device", "dev-10"]).expect(0);
    verify_ok(
        p,
        &[
            "-untrusted",
            "pki/certs/iot-device-dev-10-full-chain.cert.pem",
            "-purpose",
            "sslclient",
        ],
        "pki/certs/iot-device-dev-10.cert.pem",
    );
    // Without a password (no terminal): a clear error, exit 2.
    let r = pki(p, &["issue", "device", "dev-11", "--issuer", "root"]).expect(2);
    assert!(
        r.stderr.contains("encrypted") && r.stderr.contains("hint:"),
        "{}",
        r.stderr
    );
    // SEC1 EC key and an Ed25519 PKCS#8 key import as roots in other directories.
    let e = tmp();
    pki(
        e.path(),
        &[
            "create-owner-ca",
            "--import",
            &td("ed25519-self.cert.pem"),
            "--key",
            &td("ed25519-self.key.pem"),
        ],
    )
    .expect(0);
    pki(e.path(), &["issue", "device", "ed-dev"]).expect(0);
}
