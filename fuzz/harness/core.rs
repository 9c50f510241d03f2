//! The fuzz harness of pki-core's parsers: certificates and bundles (what `pki show` does with
//! each), private keys in every accepted format, and CSRs (what `pki csr sign` does with one).
//!
//! The same file is compiled into the cargo-fuzz targets (`fuzz/fuzz_targets/`) and into the
//! stable regression test `pki-core/tests/fuzz_regressions.rs` (both with `#[path]`), so the
//! test replays every seed and every crash input through exactly the code the fuzzer ran.
//!
//! Each function takes the raw input, must never panic on it, returns whether the input was
//! accepted, and asserts the invariants that hold for an accepted input (a failed assertion is
//! a finding, as a panic in the library is).

use std::sync::OnceLock;

use pki_core::{
    Certificate, Csr, Issuer, KeyType, PrivateKey, Profile, Request, Subject, SubjectKey,
    x509::Error,
};
use time::{Duration, OffsetDateTime};

/// The password an `ENCRYPTED PRIVATE KEY` is decrypted with (that of testdata/show/rsa-root).
pub(crate) const PASSWORD: &str = "1234";

/// The fixed "now" of every time-dependent step.
pub(crate) fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-06-01 12:00 UTC)
}

/// `pki show FILE`: every certificate of a PEM bundle or DER file, inspected as `show` does
/// (JSON report, chain links), and the accessors the other commands use.
pub(crate) fn certificates(data: &[u8]) -> bool {
    let Ok(certs) = Certificate::parse_all(data, "fuzz") else {
        return false;
    };
    assert!(
        !certs.is_empty(),
        "parse_all accepted an input without certificates"
    );
    let links = pki_core::chain_links(&certs);
    assert_eq!(links.len(), certs.len(), "one chain link per certificate");
    assert_eq!(
        links.last(),
        Some(&None),
        "the last certificate has no next one"
    );
    let first = Certificate::parse_one(data, "fuzz").expect("parse_one after parse_all");
    assert_eq!(first, certs[0], "parse_one is the first of parse_all");
    for cert in &certs {
        let info = pki_core::inspect(cert, now(), Duration::days(30));
        serde_json::to_string(&info).expect("a CertInfo serialises");
        assert_eq!(info.sha256.len(), 64);
        assert_eq!(info.sha1.len(), 40);
        assert_eq!(info.serial.negative, info.serial.decimal.starts_with('-'));
        assert!(!info.serial.hex.is_empty());
        assert!(!info.status_text.is_empty());
        assert_eq!(info.subject, cert.subject());
        let _ = (cert.common_name(), cert.is_ca(), cert.is_self_issued());
        let _ = (cert.public_key_raw(), format!("{cert:?}"));
        // The DER is kept as read: it wraps again, and its PEM reads back to the same.
        let again = Certificate::from_der(cert.der().to_vec(), "der").expect("DER re-reads");
        assert_eq!(&again, cert);
        let pem = Certificate::parse_all(cert.to_pem().as_bytes(), "pem").expect("PEM re-reads");
        assert_eq!(pem.as_slice(), std::slice::from_ref(cert));
    }
    true
}

/// A private key read as `read_key` does (without a password first, with [`PASSWORD`] when it is
/// encrypted); an accepted key writes back as PKCS#8 that reads to the same key, and signs.
pub(crate) fn private_key(data: &[u8]) -> bool {
    let key = match PrivateKey::parse(data, "fuzz", None) {
        Err(Error::KeyPasswordNeeded { .. }) => PrivateKey::parse(data, "fuzz", Some(PASSWORD)),
        other => other,
    };
    let Ok(key) = key else {
        return false;
    };
    let public = key
        .public_key_raw()
        .expect("an accepted key has a public key");
    let back = PrivateKey::parse(key.to_pem().as_bytes(), "pem", None).expect("PKCS#8 re-reads");
    assert_eq!(back.key_type(), key.key_type());
    assert_eq!(back.pkcs8_der(), key.pkcs8_der());
    assert_eq!(back.public_key_raw().expect("public key"), public);
    // The key signs: a CSR made with it checks with its own public key.
    let csr = pki_core::create_csr(&Subject::cn("fuzz"), &[], &key).expect("an accepted key signs");
    let csr = Csr::parse(csr.as_bytes(), "csr").expect("its CSR reads back");
    assert_eq!(csr.public_key, public);
    assert_eq!(csr.key_type, key.key_type());
    true
}

/// `pki csr sign`: a CSR read and its signature checked, then signed as a device certificate
/// by a fixed CA; what is issued carries the CSR's key and subject.
pub(crate) fn csr(data: &[u8]) -> bool {
    let Ok(csr) = Csr::parse(data, "fuzz") else {
        return false;
    };
    let mut req = Request::new(Profile::Device, csr.subject.clone(), now());
    req.sans = csr.sans.clone();
    let key = SubjectKey::Public {
        raw: csr.public_key.clone(),
        key_type: csr.key_type,
    };
    if let Ok(issued) = pki_core::issue(&req, &key, Some(ca())) {
        assert_eq!(issued.certificate.public_key_raw(), csr.public_key);
        assert_eq!(
            issued.certificate.common_name().as_deref(),
            Some(csr.subject.common_name.as_str())
        );
        let pem = issued.certificate.to_pem();
        Certificate::parse_all(pem.as_bytes(), "issued").expect("an issued certificate reads");
    }
    true
}

/// The CA that signs the fuzzed CSRs, made once.
fn ca() -> &'static Issuer {
    static CA: OnceLock<Issuer> = OnceLock::new();
    CA.get_or_init(|| {
        let key = PrivateKey::generate(KeyType::EcP256).expect("CA key");
        let req = Request::new(
            Profile::RootCa { pathlen: None },
            Subject::cn("Fuzz CA"),
            now(),
        );
        let root = pki_core::issue(&req, &SubjectKey::Private(&key), None).expect("CA");
        Issuer::new(root.chain, &key, "ca", "ca key").expect("CA issuer")
    })
}

/// `pki revoke --batch FILE`: every accepted line names one certificate, with its line number
/// within the file; a refusal is one bounded message naming the file (never the whole line).
pub(crate) fn revoke_batch(data: &[u8]) -> bool {
    let path = std::path::Path::new("batch.txt");
    match pki_core::read_batch(path, data) {
        Ok(given) => {
            let lines = data.split(|b| *b == b'\n').count();
            for g in &given {
                let line = g.line.expect("a batch line has its number");
                assert!((1..=lines).contains(&line), "line {line} of {lines}");
                assert_eq!(g.file.as_deref(), Some(path));
            }
            !given.is_empty()
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("batch.txt"), "{msg}");
            assert!(msg.len() < 1024, "an error of {} bytes", msg.len());
            false
        }
    }
}

/// `--register URL` (`PKI_REGISTER`): the input is a password, a NUL byte, and the rest of a
/// URL: `postgres://pki:PASSWORD@REST`. Whether the driver's parser takes it or not, what pki
/// shows of it (the location, or the error) never holds the password.
pub(crate) fn register_url(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Some((password, rest)) = text.split_once('\0') else {
        // A plain location: never a panic.
        return match pki_core::register::Location::parse(text) {
            Ok(l) => {
                let _ = l.to_string();
                true
            }
            Err(e) => {
                let _ = e.to_string();
                false
            }
        };
    };
    let url = format!("postgres://pki:{password}@{rest}");
    let shown = match pki_core::register::Location::parse(&url) {
        Ok(l) => Ok(l.to_string()),
        Err(e) => Err(e.to_string()),
    };
    // A password that also stands in what may be shown (the host, the user) proves nothing.
    let telling = password.len() >= 6
        && !rest.contains(password)
        && !"postgres://pki:***@ sqlite PostgreSQL URL".contains(password);
    if telling {
        let said = shown.as_ref().unwrap_or_else(|e| e);
        assert!(!said.contains(password), "the password shown in {said:?}");
    }
    shown.is_ok()
}
