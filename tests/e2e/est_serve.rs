//! `pki est serve` against its clients as they really behave, and against hostile peers.
//!
//! The clients' requests are sent byte for byte as their code builds them (HTTP/1.1 over TLS,
//! through `openssl s_client`: aziot-certd speaks TLS through OpenSSL too), and the answers are
//! read as each client reads them. What each sends, from its source (the library's stored copies;
//! a revision whose commit the copy does not name is called "a later revision"):
//!
//! **aziot-certd** (Azure/iot-identity-service, IoT Edge 1.5's certificate service):
//! - `cert/aziot-certd/src/est.rs` @ 02c2212599426400937ff8f923d1a5fd105ffb65, `create_cert`:
//!   one hyper 0.14 client, TLS by OpenSSL (hyper-openssl) trusting `trusted_certs`, with the
//!   client certificate and key when given (its chain's further certificates as extra chain
//!   certificates). `URL/simpleenroll` and `URL/cacerts` (a `/` added to URL unless it ends with
//!   one) are requested *at once* (`futures_util::future::join`, a later revision `try_join`),
//!   so on two connections: `POST simpleenroll` with `authorization: Basic BASE64(user:pass)`
//!   when Basic is configured, `content-type: application/pkcs10`, `content-transfer-encoding:
//!   base64`, the CSR body; `GET cacerts` with the *same* `authorization` header and no body.
//!   hyper writes the header names in lower case, in that order, then `host: HOST:PORT` (added
//!   when sending) and `content-length` (from the body; none for the empty GET).
//!   `get_pkcs7_response` takes only status 200, with a `content-type` that is
//!   `application/pkcs7-mime` or starts with `application/pkcs7-mime;`, wraps the body as it
//!   came between `-----BEGIN PKCS7-----\n` and `-----END PKCS7-----\n` and parses it with
//!   OpenSSL's PEM reader (`Pkcs7::from_pem`), so the body must be base64 in PEM-sized lines
//!   ending with a newline. (A later revision tries `from_pem` on the body as it is, then
//!   base64-decodes it with white space removed and reads DER: more lenient, so the older
//!   revision is the one emulated.) Each certificate is written out as PEM; the result is
//!   simpleenroll's certificates followed by cacerts' certificates.
//! - `cert/aziot-certd/src/lib.rs` @ 065b66adb365b1490164aa5d3c248653ef655546: the CSR body is
//!   `chunked_base64_encode(&req.to_der())`: base64 of the DER in lines of 64 characters, each
//!   (the last too) ended by `\n`, no armour. The certificate requested for a cert id
//!   (`method = "est"`) is written to the id's file as that result (leaf, then cacerts): the Edge
//!   CA's chain file is the leaf, what simpleenroll sent after it, and cacerts' certificates.
//!   With `auth.x509`, the EST identity certificate authenticates the request over TLS; when it
//!   is missing, the bootstrap identity certificate authenticates a first request for it (a new
//!   key, extension request extendedKeyUsage=clientAuth, and the subject of the cert's options,
//!   else CN `est-id` in this revision; in the later revision, the one with the renewal engine
//!   that IoT Edge 1.5 ships, the subject of the request that needed the identity, so the
//!   device id when aziot-identityd's request comes first), and the original request is then
//!   sent with the new identity certificate (its whole chain file) as the client certificate,
//!   as is every later request for any of the device's certificates, the Edge CA's included.
//! - `cert/aziot-certd/src/renewal.rs` @ 0a7eb28f6d3adbac0b7ab40efcf1939bff749b65 and a later
//!   revision of lib.rs (`create_est_id`): the EST identity certificate renews itself with
//!   *simpleenroll* (est.rs only knows simpleenroll), its current certificate (the leaf's PEM
//!   alone) as the TLS client certificate, or the bootstrap certificate once it has expired;
//!   the CSR has the old certificate's subject, a new key when `rotate_key`, and the
//!   clientAuth extension request; Basic is added when configured, none in these tests.
//! - IoT Edge's Edge CA (Azure/iotedge, edgelet's workload service, `check_edge_ca`): an
//!   RSA-2048 key, CN `aziot-edge CA <device id>`, requested through aziot-certd as above.
//!
//! **tedge** (thin-edge/thin-edge.io, `tedge cert download c8y` against Cumulocity's EST CA):
//! - `crates/core/tedge/src/cli/certificate/c8y/download.rs` @
//!   07c87f44a3a434f5183ccffe2f681cab982124c0: reqwest, `POST
//!   https://HOST/.well-known/est/simpleenroll` with `.basic_auth(device_id, Some(token))`,
//!   `content-type: application/pkcs10`, no transfer-encoding header, the body a `String`;
//!   reqwest adds its default `accept: */*` after the request's own headers, hyper `host` and
//!   `content-length`. Status 200: `response.text()` is the certificate; any other status is
//!   retried until a timeout.
//! - `crates/core/tedge/src/cli/certificate/c8y/mod.rs` @ the same commit: the body is the CSR
//!   file with the prefix `-----BEGIN CERTIFICATE REQUEST-----\n` and the suffix
//!   `-----END CERTIFICATE REQUEST-----\n` stripped: the base64 lines *with their newlines*,
//!   the last one ended by `\n` (a later revision, `parse_csr_contents`, also takes text before
//!   the BEGIN line and `NEW CERTIFICATE REQUEST` armour; the same body for tedge's own CSR).
//!   `pk7_to_x509` removes `\n` and `\r`, base64-decodes (standard alphabet), decodes a
//!   `ContentInfo` with rasn's BER decoder, its content as a rasn-cms `SignedData`, and writes
//!   *every* certificate of `certificates` as PEM (the `pem` crate: CRLF lines), joined by
//!   `\r\n`, as the device certificate file: whatever simpleenroll sends after the leaf is in
//!   the file, in the order rasn's `SetOf` yields it.
//! - The CSR (`crates/common/certificate/src/lib.rs` @
//!   0460c3099db10525efe0234e2b67aab1d73e1aa4, `create_csr_parameters`): rcgen, P-256 with
//!   SHA-256, subject `CN=<device id>, O=Thin Edge, OU=Test Device`, no extension request; PEM
//!   with LF lines of 64 characters.
//! - `crates/core/tedge/src/cli/certificate/c8y/renew.rs` @
//!   10b601dc24bd46afdd0cd7762e0fa4b4821554c8: `POST .../.well-known/est/simplereenroll` with the
//!   current certificate and key as the TLS identity, `content-type: application/pkcs10`, no
//!   authorization header, the body as above; the answer stored as above.
//!
//! **curl and openssl by hand** (RFC 7030 §4's examples): the CSR's base64 as a file,
//! `curl --data-binary @csr.b64 -H 'Content-Type: application/pkcs10' -u id:secret`, the answer
//! through `base64 -d | openssl pkcs7 -inform DER -print_certs`.
//!
//! The interoperability tests are in `interop`, the guarantees against hostile peers in
//! `guarantees`.

mod guarantees;
mod interop;

use std::path::Path;

use base64::Engine as _;

use crate::support::est::{Response, pem_der};
use crate::support::lot::ca;
use crate::support::{openssl, register_rows, tmp};

/// `/.well-known/est/simpleenroll`.
const SIMPLEENROLL: &str = "/.well-known/est/simpleenroll";
/// `/.well-known/est/simplereenroll`.
const SIMPLEREENROLL: &str = "/.well-known/est/simplereenroll";
/// `/.well-known/est/cacerts`.
const CACERTS: &str = "/.well-known/est/cacerts";

/// A CA directory (an owner CA and an intermediate that issues) in a fresh directory.
fn ca_dir() -> tempfile::TempDir {
    let d = tmp();
    ca(d.path());
    d
}

/// The register's rows of the certificates the EST server issued (path `est:LABEL/CN`).
fn est_rows(cwd: &Path) -> Vec<serde_json::Value> {
    register_rows(cwd, &[])
        .into_iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("est:")))
        .collect()
}

/// aziot-certd's `POST URL/simpleenroll`, as hyper 0.14 writes it.
fn aziot_post(port: u16, path: &str, authorization: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut head = format!("POST {path} HTTP/1.1\r\n");
    if let Some(a) = authorization {
        head.push_str(&format!("authorization: {a}\r\n"));
    }
    head.push_str("content-type: application/pkcs10\r\n");
    head.push_str("content-transfer-encoding: base64\r\n");
    head.push_str(&format!("host: localhost:{port}\r\n"));
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    [head.as_bytes(), body].concat()
}

/// aziot-certd's `GET URL/cacerts`, sent with the same authorization header as its POST.
fn aziot_get(port: u16, path: &str, authorization: Option<&str>) -> Vec<u8> {
    let mut head = format!("GET {path} HTTP/1.1\r\n");
    if let Some(a) = authorization {
        head.push_str(&format!("authorization: {a}\r\n"));
    }
    head.push_str(&format!("host: localhost:{port}\r\n\r\n"));
    head.into_bytes()
}

/// aziot-certd's body: `chunked_base64_encode(DER)`, lines of 64 characters each ended by `\n`.
fn aziot_body(csr_pem: &str) -> Vec<u8> {
    let flat = base64::engine::general_purpose::STANDARD.encode(pem_der(csr_pem));
    flat.as_bytes()
        .chunks(64)
        .flat_map(|c| c.iter().chain(b"\n"))
        .copied()
        .collect()
}

/// What aziot-certd's `get_pkcs7_response` makes of an answer: refused unless 200 with a
/// pkcs7-mime content type, then the body wrapped in PKCS7 armour and read by OpenSSL's PEM
/// reader; the certificates as PEM blocks, in order.
#[track_caller]
fn aziot_certs(cwd: &Path, answer: &Response) -> Vec<String> {
    assert_eq!(answer.status, 200, "{answer}");
    let ct = answer.header("content-type").unwrap_or_default();
    assert!(
        ct == "application/pkcs7-mime" || ct.starts_with("application/pkcs7-mime;"),
        "aziot-certd takes no other content type: {answer}"
    );
    let mut pem = b"-----BEGIN PKCS7-----\n".to_vec();
    pem.extend_from_slice(&answer.body);
    pem.extend_from_slice(b"-----END PKCS7-----\n");
    let file = cwd.join("aziot-answer.p7.pem");
    std::fs::write(&file, pem).unwrap();
    let r = openssl(
        cwd,
        &["pkcs7", "-in", "aziot-answer.p7.pem", "-print_certs"],
    );
    assert_eq!(
        r.code, 0,
        "OpenSSL's PEM reader refuses it: {}\n{answer}",
        r.stderr
    );
    pem_blocks(&r.stdout)
}

/// The `CERTIFICATE` PEM blocks of a text, each as its own text, in order.
fn pem_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line == "-----BEGIN CERTIFICATE-----" {
            current = Some(String::new());
        }
        if let Some(c) = current.as_mut() {
            c.push_str(line);
            c.push('\n');
        }
        if line == "-----END CERTIFICATE-----" {
            out.extend(current.take());
        }
    }
    out
}

/// tedge's `POST .../simpleenroll` (or `simplereenroll`), as reqwest writes it.
fn tedge_post(port: u16, path: &str, authorization: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut head = format!("POST {path} HTTP/1.1\r\n");
    if let Some(a) = authorization {
        head.push_str(&format!("authorization: {a}\r\n"));
    }
    head.push_str("content-type: application/pkcs10\r\n");
    head.push_str("accept: */*\r\n");
    head.push_str(&format!("host: localhost:{port}\r\n"));
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    [head.as_bytes(), body].concat()
}

/// tedge's body: the CSR file with its armour lines stripped (`read_csr_from_file`).
fn tedge_body(csr_pem: &str) -> Vec<u8> {
    let csr = csr_pem
        .strip_prefix("-----BEGIN CERTIFICATE REQUEST-----\n")
        .unwrap_or(csr_pem);
    let csr = csr
        .strip_suffix("-----END CERTIFICATE REQUEST-----\n")
        .unwrap_or(csr);
    assert_ne!(csr, csr_pem, "openssl's CSR has the armour tedge strips");
    csr.as_bytes().to_vec()
}

/// tedge's `pk7_to_x509`: the DER of every certificate, in the order rasn-cms yields them.
#[track_caller]
fn tedge_certs(answer: &Response) -> Vec<Vec<u8>> {
    assert_eq!(answer.status, 200, "{answer}");
    let text = answer.text().replace(['\n', '\r'], "");
    let ber = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_else(|e| panic!("tedge's base64 decoder refuses it ({e}): {answer}"));
    let info: rasn_cms::ContentInfo = rasn::ber::decode(&ber)
        .unwrap_or_else(|e| panic!("rasn's BER decoder refuses the ContentInfo ({e})"));
    let signed: rasn_cms::SignedData = rasn::ber::decode(info.content.as_bytes())
        .unwrap_or_else(|e| panic!("rasn's BER decoder refuses the SignedData ({e})"));
    let certs = signed
        .certificates
        .unwrap_or_else(|| panic!("tedge: no certificate in the PKCS#7"));
    certs
        .to_vec()
        .iter()
        .map(|c| rasn::der::encode(c).expect("rasn re-encodes the certificate"))
        .collect()
}

/// The certificate file tedge writes: each certificate as the `pem` crate encodes it (CRLF
/// lines of 64 characters), joined by `\r\n`.
fn tedge_file(certs: &[Vec<u8>]) -> String {
    certs
        .iter()
        .map(|der| {
            let b64 = base64::engine::general_purpose::STANDARD.encode(der);
            let mut pem = String::from("-----BEGIN CERTIFICATE-----\r\n");
            for line in b64.as_bytes().chunks(64) {
                pem.push_str(std::str::from_utf8(line).unwrap());
                pem.push_str("\r\n");
            }
            pem.push_str("-----END CERTIFICATE-----\r\n");
            pem
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// `openssl x509 -noout ARGS` of the certificate file `cert`: its output, trimmed.
fn x509(cwd: &Path, cert: &str, args: &[&str]) -> String {
    let mut all = vec!["x509", "-in", cert, "-noout"];
    all.extend_from_slice(args);
    openssl(cwd, &all).expect(0).stdout.trim().to_owned()
}

/// The public key of the private key file `key`, as PEM.
fn public_key(cwd: &Path, key: &str) -> String {
    openssl(cwd, &["pkey", "-in", key, "-pubout"])
        .expect(0)
        .stdout
}

/// The upper-case hex serial of the certificate file `cert` (as the register writes it).
fn serial(cwd: &Path, cert: &str) -> String {
    x509(cwd, cert, &["-serial"])
        .trim_start_matches("serial=")
        .to_ascii_uppercase()
}

/// Enrols `id` with a new one-time secret, as aziot-certd posts (no cacerts): its key in
/// `ID.key.pem`, its certificate in `ID.cert.pem`.
fn enrol(p: &Path, port: u16, id: &str) {
    use crate::support::est::{basic, csr, exchange, secret};
    let auth = basic(id, &secret(p, id, &[]));
    let csr = csr(p, &format!("{id}.key.pem"), &format!("/CN={id}"), &[]);
    let answer = exchange(
        p,
        port,
        &[],
        &aziot_post(port, SIMPLEENROLL, Some(&auth), &aziot_body(&csr)),
    );
    let certs = aziot_certs(p, &answer);
    std::fs::write(p.join(format!("{id}.cert.pem")), &certs[0]).unwrap();
}

/// `id` asks to re-enrol over `path` with its certificate `ID.cert.pem` as the TLS client
/// certificate and a new key's CSR: the answer.
fn reenrol(p: &Path, port: u16, id: &str, path: &str) -> Response {
    use crate::support::est::{csr, exchange};
    let csr = csr(p, &format!("{id}.next.key.pem"), &format!("/CN={id}"), &[]);
    exchange(
        p,
        port,
        &[
            "-cert",
            &format!("{id}.cert.pem"),
            "-key",
            &format!("{id}.key.pem"),
        ],
        &aziot_post(port, path, None, &aziot_body(&csr)),
    )
}
