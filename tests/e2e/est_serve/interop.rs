//! The clients' own requests, byte for byte, and their own reading of the answers: aziot-certd
//! (enrolment with a secret, its renewal with simpleenroll and its current certificate, its
//! bootstrap identity), tedge (download and renewal), curl and openssl by hand.

use std::path::Path;

use super::{
    CACERTS, SIMPLEENROLL, SIMPLEREENROLL, aziot_body, aziot_certs, aziot_get, aziot_post,
    est_rows, public_key, serial, tedge_body, tedge_certs, tedge_file, tedge_post, x509,
};
use crate::support::clock::Clock;
use crate::support::est::{EstServer, TlsConn, basic, csr, csr_with, exchange, root, secret};
use crate::support::{openssl, openssl_ca, programs};

/// aziot-certd's `create_cert`: simpleenroll and cacerts at once on two connections (`tls`:
/// s_client's client-certificate options), the answers read as it reads them; the chain it
/// writes (leaf, what simpleenroll sent after it, cacerts) in `NAME.chain.pem` and the leaf in
/// `NAME.cert.pem`. Returns the chain's certificates.
fn aziot_create_cert(
    p: &Path,
    server: &EstServer,
    path: &str,
    authorization: Option<&str>,
    tls: &[&str],
    csr_pem: &str,
    name: &str,
) -> Vec<String> {
    let port = server.port();
    let mut post = TlsConn::open(p, port, tls);
    let mut get = TlsConn::open(p, port, tls);
    post.send(&aziot_post(port, path, authorization, &aziot_body(csr_pem)));
    get.send(&aziot_get(port, CACERTS, authorization));
    let (enrolled, cacerts) = (post.response(), get.response());
    let mut chain = aziot_certs(p, &enrolled);
    chain.extend(aziot_certs(p, &cacerts));
    std::fs::write(p.join(format!("{name}.chain.pem")), chain.concat()).unwrap();
    std::fs::write(p.join(format!("{name}.cert.pem")), &chain[0]).unwrap();
    chain
}

/// The chain file verifies the leaf up to the CA directory's root, as a peer that trusts only
/// the root checks what the device presents.
#[track_caller]
fn chain_verifies(p: &Path, leaf: &str, chain: &str) {
    let r = openssl(
        p,
        &["verify", "-CAfile", &root(p), "-untrusted", chain, leaf],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.trim(), format!("{leaf}: OK"));
}

/// The leaf in `cert` is for the key in `key`, with the subject CN `cn`.
#[track_caller]
fn leaf_is(p: &Path, cert: &str, key: &str, cn: &str) {
    assert_eq!(
        x509(p, cert, &["-pubkey"]).trim(),
        public_key(p, key).trim(),
        "{cert} is not for {key}"
    );
    let subject = x509(p, cert, &["-subject", "-nameopt", "RFC2253"]);
    assert!(
        subject.starts_with(&format!("subject=CN={cn}")),
        "{cert}: {subject}"
    );
}

#[test]
fn aziot_certd_enrols_with_a_secret_posting_and_getting_cacerts_at_once() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &[]);
    let auth = basic("gw-1", &secret(p, "gw-1", &[]));
    let csr = csr(p, "gw-1.key.pem", "/CN=gw-1", &[]);
    let chain = aziot_create_cert(p, &server, SIMPLEENROLL, Some(&auth), &[], &csr, "gw-1");
    assert!(
        chain.len() >= 2,
        "a leaf and the CA certificates: {chain:?}"
    );
    leaf_is(p, "gw-1.cert.pem", "gw-1.key.pem", "gw-1");
    chain_verifies(p, "gw-1.cert.pem", "gw-1.chain.pem");

    let rows = est_rows(p);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["common_name"], "gw-1");
    assert_eq!(rows[0]["path"], "est:device/gw-1");
    assert_eq!(rows[0]["status"], "issued");
    assert_eq!(rows[0]["serial"], serial(p, "gw-1.cert.pem"));

    let lines = server.requests(2);
    let enrol = lines
        .iter()
        .find(|l| l["operation"] == "simpleenroll")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(enrol["status"], 200);
    assert_eq!(enrol["auth"], "secret");
    assert_eq!(enrol["who"], "gw-1");
    assert_eq!(
        enrol["serial"].as_str().map(str::to_ascii_uppercase),
        Some(serial(p, "gw-1.cert.pem"))
    );
    let cacerts = lines
        .iter()
        .find(|l| l["operation"] == "cacerts")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(cacerts["status"], 200);
}

#[test]
fn aziot_certd_renews_with_simpleenroll_and_its_current_certificate() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &[]);
    let auth = basic("gw-2", &secret(p, "gw-2", &[]));
    let first = csr(p, "gw-2.key.pem", "/CN=gw-2", &[]);
    aziot_create_cert(p, &server, SIMPLEENROLL, Some(&auth), &[], &first, "gw-2");
    let old_serial = serial(p, "gw-2.cert.pem");

    // renewal.rs: a new key (rotate_key), the old certificate's subject, the clientAuth
    // extension request; the current leaf alone as the client certificate, no Basic.
    let renewal = csr(
        p,
        "gw-2.new.key.pem",
        "/CN=gw-2",
        &["extendedKeyUsage=clientAuth"],
    );
    let tls = ["-cert", "gw-2.cert.pem", "-key", "gw-2.key.pem"];
    aziot_create_cert(p, &server, SIMPLEENROLL, None, &tls, &renewal, "gw-2.new");
    leaf_is(p, "gw-2.new.cert.pem", "gw-2.new.key.pem", "gw-2");
    chain_verifies(p, "gw-2.new.cert.pem", "gw-2.new.chain.pem");
    let new_serial = serial(p, "gw-2.new.cert.pem");
    assert_ne!(new_serial, old_serial);

    let rows = est_rows(p);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let row = |s: &str| rows.iter().find(|r| r["serial"] == s).unwrap().clone();
    assert_eq!(row(&old_serial)["status"], "superseded", "{rows:?}");
    assert_eq!(row(&new_serial)["status"], "issued", "{rows:?}");
    assert_eq!(
        row(&old_serial)["superseded_by"],
        row(&new_serial)["sha256"]
    );
    let renewed = server.requests(4);
    let renewed = renewed
        .iter()
        .rfind(|l| l["operation"] == "simpleenroll")
        .unwrap();
    assert_eq!(renewed["auth"], "certificate", "{renewed}");
    assert_eq!(renewed["who"], "gw-2", "{renewed}");

    // The superseded certificate renews no more.
    let again = csr(p, "gw-2.third.key.pem", "/CN=gw-2", &[]);
    let mut post = TlsConn::open(p, server.port(), &tls);
    post.send(&aziot_post(
        server.port(),
        SIMPLEENROLL,
        None,
        &aziot_body(&again),
    ));
    let refused = post.response();
    assert!(
        matches!(refused.status, 401 | 403),
        "a superseded certificate re-enrolled: {refused}"
    );
    assert_eq!(est_rows(p).len(), 2);
}

/// A factory CA pki knows nothing of (`factory.pem`), and a device's bootstrap certificate
/// from it for `cn` (`boot.cert.pem`, its key `boot.key.pem`), made by openssl.
fn factory(p: &Path, cn: &str) {
    openssl_ca(
        p,
        "/CN=Factory CA",
        "factory.pem",
        &["-addext", "keyUsage=critical,keyCertSign"],
    );
    let subject = format!("/CN={cn}");
    openssl(
        p,
        &[
            "req",
            "-x509",
            "-CA",
            "factory.pem",
            "-CAkey",
            "factory.pem.key",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "boot.key.pem",
            "-out",
            "boot.cert.pem",
            "-days",
            "30",
            "-subj",
            &subject,
            "-addext",
            "extendedKeyUsage=clientAuth",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ],
    )
    .expect(0);
}

/// `/.well-known/est/edge-ca/simpleenroll`: where `pki guide --sdk iotedge --issuance est`
/// points aziot-certd's `aziot-edged-ca` certificate.
const EDGE_CA_ENROLL: &str = "/.well-known/est/edge-ca/simpleenroll";

/// aziot-edged's Edge CA request for `cn`: a new RSA-2048 key in `key`, a CA's extensions.
fn edge_ca_csr(p: &Path, key: &str, cn: &str) -> String {
    csr_with(
        p,
        key,
        &format!("/CN={cn}"),
        &[
            "basicConstraints=critical,CA:TRUE",
            "keyUsage=critical,digitalSignature,keyCertSign",
        ],
        &["-newkey", "rsa:2048"],
    )
}

/// s_client's options for presenting the EST identity `NAME.cert.pem` (key `NAME.key.pem`)
/// with the rest of its chain file as extra chain certificates, as est.rs presents the
/// identity aziot-certd keeps (leaf and the CA certificates it was answered with).
fn est_identity(p: &Path, name: &str, chain: &[String]) -> Vec<String> {
    std::fs::write(p.join(format!("{name}.rest.pem")), chain[1..].concat()).unwrap();
    ["cert", "key", "rest"]
        .iter()
        .zip(["-cert", "-key", "-cert_chain"])
        .flat_map(|(f, flag)| [flag.to_owned(), format!("{name}.{f}.pem")])
        .collect()
}

#[test]
fn iot_edge_enrols_and_renews_everything_with_its_bootstrap_then_its_est_identity() {
    let d = super::ca_dir();
    let p = d.path();
    factory(p, "gw-3");
    let server = EstServer::start(p, &["--bootstrap-ca", "factory.pem"]);
    let boot = ["-cert", "boot.cert.pem", "-key", "boot.key.pem"];
    let client_auth = ["extendedKeyUsage=clientAuth"];

    // aziot-identityd asks for the device identity (CN gw-3). No EST identity yet: lib.rs makes
    // one (a new key, the request's subject, clientAuth) with the bootstrap certificate.
    let id_csr = csr(p, "est-id.key.pem", "/CN=gw-3", &client_auth);
    let chain = aziot_create_cert(p, &server, SIMPLEENROLL, None, &boot, &id_csr, "est-id");
    leaf_is(p, "est-id.cert.pem", "est-id.key.pem", "gw-3");
    chain_verifies(p, "est-id.cert.pem", "est-id.chain.pem");
    let lines = server.requests(1);
    let enrol = lines
        .iter()
        .find(|l| l["operation"] == "simpleenroll")
        .unwrap();
    assert_eq!(
        (enrol["auth"].as_str(), enrol["who"].as_str()),
        (Some("bootstrap"), Some("gw-3")),
        "{enrol}"
    );
    let id = est_identity(p, "est-id", &chain);
    let id: Vec<&str> = id.iter().map(String::as_str).collect();

    // Then the device identity itself, with the EST identity.
    let device = csr(p, "device-id.key.pem", "/CN=gw-3", &[]);
    aziot_create_cert(p, &server, SIMPLEENROLL, None, &id, &device, "device-id");
    leaf_is(p, "device-id.cert.pem", "device-id.key.pem", "gw-3");
    chain_verifies(p, "device-id.cert.pem", "device-id.chain.pem");

    // aziot-edged asks for its Edge CA under the edge-ca label, with the same EST identity.
    let edge = edge_ca_csr(p, "edge-ca.key.pem", "gw-3.ca");
    aziot_create_cert(p, &server, EDGE_CA_ENROLL, None, &id, &edge, "edge-ca");
    leaf_is(p, "edge-ca.cert.pem", "edge-ca.key.pem", "gw-3.ca");
    chain_verifies(p, "edge-ca.cert.pem", "edge-ca.chain.pem");
    let text = x509(p, "edge-ca.cert.pem", &["-ext", "basicConstraints"]);
    assert!(text.contains("CA:TRUE, pathlen:0"), "{text}");

    // identity_auto_renew (renewal.rs): the EST identity renews itself on simpleenroll, its
    // leaf alone as the client certificate, the old certificate's subject, a new key.
    let leaf_only = ["-cert", "est-id.cert.pem", "-key", "est-id.key.pem"];
    let renewal = csr(p, "est-id.2.key.pem", "/CN=gw-3", &client_auth);
    let chain = aziot_create_cert(
        p,
        &server,
        SIMPLEENROLL,
        None,
        &leaf_only,
        &renewal,
        "est-id.2",
    );
    leaf_is(p, "est-id.2.cert.pem", "est-id.2.key.pem", "gw-3");
    // The identity and the device identity share their name and profile: the identity's
    // renewal must not take the device identity, live, out of service.
    let live = serial(p, "device-id.cert.pem");
    let rows = est_rows(p);
    let row = rows.iter().find(|r| r["serial"] == live.as_str()).unwrap();
    assert_eq!(row["status"], "issued", "{row}");
    let id = est_identity(p, "est-id.2", &chain);
    let id: Vec<&str> = id.iter().map(String::as_str).collect();

    // edge_ca.auto_renew and the identity's renewal: new keys, the renewed EST identity.
    let edge = edge_ca_csr(p, "edge-ca.2.key.pem", "gw-3.ca");
    aziot_create_cert(p, &server, EDGE_CA_ENROLL, None, &id, &edge, "edge-ca.2");
    leaf_is(p, "edge-ca.2.cert.pem", "edge-ca.2.key.pem", "gw-3.ca");
    let device = csr(p, "device-id.2.key.pem", "/CN=gw-3", &[]);
    aziot_create_cert(p, &server, SIMPLEENROLL, None, &id, &device, "device-id.2");
    leaf_is(p, "device-id.2.cert.pem", "device-id.2.key.pem", "gw-3");

    // In service: the renewed three; what they replaced is superseded.
    let rows = est_rows(p);
    assert_eq!(rows.len(), 6, "{rows:#?}");
    for (file, status) in [
        ("est-id", "superseded"),
        ("device-id", "superseded"),
        ("edge-ca", "superseded"),
        ("est-id.2", "issued"),
        ("edge-ca.2", "issued"),
        ("device-id.2", "issued"),
    ] {
        let serial = serial(p, &format!("{file}.cert.pem"));
        let row = rows
            .iter()
            .find(|r| r["serial"] == serial.as_str())
            .unwrap();
        assert_eq!(row["status"], status, "{file}: {row}");
    }
}

#[test]
fn iot_edge_whose_edge_ca_comes_first_gets_its_device_identity_with_the_same_est_identity() {
    // IoT Edge 1.5 asks for its EST identity with the subject of the request that needed it:
    // when that is the Edge CA, the identity is issued under the edge-ca label as `ID.ca`, and
    // it must still get the device identity (CN ID) under the default label.
    let d = super::ca_dir();
    let p = d.path();
    factory(p, "gw-5");
    let server = EstServer::start(p, &["--bootstrap-ca", "factory.pem"]);
    let boot = ["-cert", "boot.cert.pem", "-key", "boot.key.pem"];
    let edge = edge_ca_csr(p, "est-id.key.pem", "gw-5.ca");
    let chain = aziot_create_cert(p, &server, EDGE_CA_ENROLL, None, &boot, &edge, "est-id");
    leaf_is(p, "est-id.cert.pem", "est-id.key.pem", "gw-5.ca");
    let id = est_identity(p, "est-id", &chain);
    let id: Vec<&str> = id.iter().map(String::as_str).collect();
    let device = csr(p, "device-id.key.pem", "/CN=gw-5", &[]);
    aziot_create_cert(p, &server, SIMPLEENROLL, None, &id, &device, "device-id");
    leaf_is(p, "device-id.cert.pem", "device-id.key.pem", "gw-5");
    chain_verifies(p, "device-id.cert.pem", "device-id.chain.pem");
    // Another device's name it may not have.
    let other = csr(p, "other.key.pem", "/CN=gw-6", &[]);
    let port = server.port();
    let refused = exchange(
        p,
        port,
        &id,
        &aziot_post(port, SIMPLEENROLL, None, &aziot_body(&other)),
    );
    assert_eq!(
        refused.status,
        403,
        "{}",
        String::from_utf8_lossy(&refused.body)
    );
}

#[test]
fn older_aziot_certd_est_id_request_is_issued_for_the_bootstrap_device() {
    let d = super::ca_dir();
    let p = d.path();
    factory(p, "gw-9");
    let server = EstServer::start(p, &["--bootstrap-ca", "factory.pem"]);
    let boot = ["-cert", "boot.cert.pem", "-key", "boot.key.pem"];
    // lib.rs @ 065b66a: with no subject configured the EST identity's CSR says CN est-id.
    let id_csr = csr(
        p,
        "est-id.key.pem",
        "/CN=est-id",
        &["extendedKeyUsage=clientAuth"],
    );
    let chain = aziot_create_cert(p, &server, EDGE_CA_ENROLL, None, &boot, &id_csr, "est-id");
    leaf_is(p, "est-id.cert.pem", "est-id.key.pem", "gw-9");
    chain_verifies(p, "est-id.cert.pem", "est-id.chain.pem");
    let id = est_identity(p, "est-id", &chain);
    let id: Vec<&str> = id.iter().map(String::as_str).collect();
    let edge = edge_ca_csr(p, "edge-ca.key.pem", "gw-9.ca");
    aziot_create_cert(p, &server, EDGE_CA_ENROLL, None, &id, &edge, "edge-ca");
    leaf_is(p, "edge-ca.cert.pem", "edge-ca.key.pem", "gw-9.ca");
    chain_verifies(p, "edge-ca.cert.pem", "edge-ca.chain.pem");
}

#[test]
fn tedge_downloads_its_certificate_as_tedge_sends_and_reads_it() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &[]);
    let auth = basic("tedge-1", &secret(p, "tedge-1", &[]));
    let csr = csr(
        p,
        "tedge.key.pem",
        "/CN=tedge-1/O=Thin Edge/OU=Test Device",
        &[],
    );
    let body = tedge_body(&csr);
    assert!(body.ends_with(b"==\n") || body.ends_with(b"=\n") || body.ends_with(b"\n"));
    let answer = exchange(
        p,
        server.port(),
        &[],
        &tedge_post(server.port(), SIMPLEENROLL, Some(&auth), &body),
    );
    let certs = tedge_certs(&answer);
    std::fs::write(p.join("tedge-certificate.pem"), tedge_file(&certs)).unwrap();
    // The file's first certificate is the device's: mosquitto presents it to the cloud.
    leaf_is(p, "tedge-certificate.pem", "tedge.key.pem", "tedge-1");
    // tedge fetches no cacerts: the file is what simpleenroll sent. With the issuing CAs of
    // /cacerts, the device's certificate verifies up to the root.
    cacerts_file(p, &server, "cacerts.pem");
    chain_verifies(p, "tedge-certificate.pem", "cacerts.pem");
    let rows = est_rows(p);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["serial"], serial(p, "tedge-certificate.pem"));

    // renew.rs: simplereenroll with the certificate as the TLS identity, no authorization.
    let renewal = csr_renewal(p);
    let answer = exchange(
        p,
        server.port(),
        &["-cert", "tedge-certificate.pem", "-key", "tedge.key.pem"],
        &tedge_post(server.port(), SIMPLEREENROLL, None, &tedge_body(&renewal)),
    );
    let certs = tedge_certs(&answer);
    std::fs::write(p.join("tedge-renewed.pem"), tedge_file(&certs)).unwrap();
    leaf_is(p, "tedge-renewed.pem", "tedge.new.key.pem", "tedge-1");
    chain_verifies(p, "tedge-renewed.pem", "cacerts.pem");
    let rows = est_rows(p);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r["status"] == "superseded"
                && r["serial"] == serial(p, "tedge-certificate.pem")),
        "{rows:?}"
    );
}

/// The certificates of `/cacerts`, as aziot-certd reads them, in the file `name`.
fn cacerts_file(p: &Path, server: &EstServer, name: &str) {
    let get = aziot_get(server.port(), CACERTS, None);
    let answer = exchange(p, server.port(), &[], &get);
    std::fs::write(p.join(name), aziot_certs(p, &answer).concat()).unwrap();
}

/// tedge's renewal CSR: a new key, the same subject.
fn csr_renewal(p: &Path) -> String {
    csr(
        p,
        "tedge.new.key.pem",
        "/CN=tedge-1/O=Thin Edge/OU=Test Device",
        &[],
    )
}

/// `PROGRAM ARGS` with `stdin`, in `cwd`, with only the trust a test names: stdout's bytes.
fn run_piped(cwd: &Path, program: &str, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = programs::command(program)
        .current_dir(cwd)
        .args(args)
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env_remove("CURL_CA_BUNDLE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}: {}", programs::install_hint(program)));
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn curl_and_openssl_by_hand_as_rfc_7030_shows() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &[]);
    let secret = secret(p, "dev-9", &[]);
    // The user and secret in curl's config file rather than on its command line (-u), where
    // other users could read them.
    std::fs::write(p.join("curl.conf"), format!("user = \"dev-9:{secret}\"\n")).unwrap();
    let csr_pem = csr(p, "dev-9.key.pem", "/CN=dev-9", &[]);
    let csr_der = run_piped(
        p,
        "openssl",
        &["req", "-outform", "DER"],
        csr_pem.as_bytes(),
    );
    // GNU base64 wraps at 76 characters: not PEM's 64.
    let csr_b64 = run_piped(p, "base64", &[], &csr_der);
    std::fs::write(p.join("csr.b64"), &csr_b64).unwrap();
    let root = root(p);
    let curl = |args: &[&str]| {
        let mut all = vec!["--silent", "--show-error", "--fail", "--cacert", &root];
        all.extend_from_slice(args);
        run_piped(p, "curl", &all, b"")
    };
    let enrolled = curl(&[
        "--config",
        "curl.conf",
        "--data-binary",
        "@csr.b64",
        "-H",
        "Content-Type: application/pkcs10",
        &format!("{}/simpleenroll", server.url()),
    ]);
    let cacerts = curl(&[&format!("{}/cacerts", server.url())]);
    let print = |b64: &[u8]| {
        let der = run_piped(p, "base64", &["-d"], b64);
        let text = run_piped(
            p,
            "openssl",
            &["pkcs7", "-inform", "DER", "-print_certs"],
            &der,
        );
        super::pem_blocks(&String::from_utf8(text).unwrap())
    };
    let leaf = print(&enrolled);
    let cas = print(&cacerts);
    assert!(!cas.is_empty());
    std::fs::write(p.join("dev-9.cert.pem"), &leaf[0]).unwrap();
    std::fs::write(p.join("cacerts.pem"), cas.concat()).unwrap();
    leaf_is(p, "dev-9.cert.pem", "dev-9.key.pem", "dev-9");
    chain_verifies(p, "dev-9.cert.pem", "cacerts.pem");
}

#[test]
fn aziot_certd_falls_back_to_its_bootstrap_identity_once_its_est_identity_expired() {
    let d = super::ca_dir();
    let p = d.path();
    factory(p, "gw-5");
    let clock = Clock::new();
    let server = EstServer::start_on(p, &["--bootstrap-ca", "factory.pem", "--days", "1"], &clock);
    let port = server.port();
    let client_auth = ["extendedKeyUsage=clientAuth"];
    let boot = ["-cert", "boot.cert.pem", "-key", "boot.key.pem"];
    let first = csr(p, "est-id.key.pem", "/CN=gw-5", &client_auth);
    let chain = aziot_create_cert(p, &server, SIMPLEENROLL, None, &boot, &first, "est-id");
    assert!(!chain.is_empty());
    clock.set_day(2);
    // renewal.rs: the identity has expired (no grace here), so the server refuses it...
    let renewal = csr(p, "est-id.2.key.pem", "/CN=gw-5", &client_auth);
    let post = aziot_post(port, SIMPLEENROLL, None, &aziot_body(&renewal));
    let tls = ["-cert", "est-id.cert.pem", "-key", "est-id.key.pem"];
    let refused = exchange(p, port, &tls, &post);
    assert_eq!(refused.status, 403, "{refused}");
    // ...and aziot-certd authenticates with its bootstrap certificate instead.
    let again = exchange(p, port, &boot, &post);
    assert_eq!(again.status, 200, "{again}");
    let rows = super::est_rows(p);
    assert_eq!(rows.len(), 2, "{rows:?}");
}

#[test]
fn aziot_edge_ca_enrols_under_the_edge_ca_label_by_its_ca_name() {
    let d = super::ca_dir();
    let p = d.path();
    let server = EstServer::start(p, &[]);
    let path = "/.well-known/est/edge-ca/simpleenroll";
    let auth = basic("gw-7", &secret(p, "gw-7", &["--label", "edge-ca"]));
    // aziot-edged's Edge CA request: an RSA-2048 key, a CA's extensions.
    let ext = [
        "basicConstraints=critical,CA:TRUE",
        "keyUsage=critical,digitalSignature,keyCertSign",
    ];
    let rsa = ["-newkey", "rsa:2048"];
    // Its default common name is not pki's Edge CA name: refused, saying which name is, and
    // the secret is not used up.
    let default_cn = csr_with(p, "edge.key.pem", "/CN=aziot-edge CA gw-7", &ext, &rsa);
    let port = server.port();
    let refused = exchange(
        p,
        port,
        &[],
        &aziot_post(port, path, Some(&auth), &aziot_body(&default_cn)),
    );
    assert_eq!(refused.status, 403, "{refused}");
    assert!(refused.text().contains("gw-7.ca"), "{refused}");
    // [edge_ca] common_name = "gw-7.ca" in IoT Edge's config.toml.
    let named = csr_with(p, "edge.key.pem", "/CN=gw-7.ca", &ext, &rsa);
    aziot_create_cert(p, &server, path, Some(&auth), &[], &named, "edge-ca");
    leaf_is(p, "edge-ca.cert.pem", "edge.key.pem", "gw-7.ca");
    chain_verifies(p, "edge-ca.cert.pem", "edge-ca.chain.pem");
    let text = x509(p, "edge-ca.cert.pem", &["-ext", "basicConstraints"]);
    assert!(text.contains("CA:TRUE, pathlen:0"), "{text}");
    let rows = est_rows(p);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["profile"], "edge-ca");
    assert_eq!(rows[0]["path"], "est:edge-ca/gw-7.ca");
}
