//! The OpenSSL verdict with CRLs against the real `openssl verify -crl_check[_all] -CRLfile`,
//! on every fixture in testdata/verify-crl/ (its README says what each case is for and what
//! OpenSSL says of it), and the rustls-webpki verdict of each with the same CRLs.
//!
//! For each case the test runs `openssl verify -CAfile ca.pem -untrusted chain.pem -crl_check
//! (or -crl_check_all) -CRLfile crls.pem -attime T leaf.pem`, parses every `error N at D depth
//! lookup: TEXT` line, and asserts that pki's verdict has the same first code, depth and wording
//! and the same list of printed errors. It fails, never skips, when `openssl` is missing.
// Tests start the programs they check against (openssl, peers, pki itself) directly, with
// environments of their own; pki itself makes children only through `pki_x509::child_command`.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::{Path, PathBuf};

use common::options;
use pki_verify::{Diagnosis, WebpkiVerdict, verify};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/verify-crl")
}

#[test]
fn openssl_verdict_with_crls_matches_openssl_verify_on_every_fixture() {
    let names = common::case_names(&fixtures());
    assert!(names.len() >= 30, "fixtures missing: {names:?}");
    let failures: Vec<String> = names
        .iter()
        .filter_map(|name| {
            let dir = fixtures().join(name);
            let (opts, args) = options(&common::read_case(&dir));
            common::check_against_openssl(name, &dir, &opts, &args).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What a rustls client given the same CRLs says (unknown status denied, as rustls' default;
/// the depth following crl_check_all; a CRL's nextUpdate ignored, as rustls' default).
fn expected_webpki(name: &str, v: &WebpkiVerdict) -> bool {
    use WebpkiVerdict as W;
    match name {
        "ok-not-revoked"
        | "ok-check-all"
        | "revoked-intermediate-leaf-only"
        | "crl-expired"
        | "crl-not-yet-valid"
        // rustls does not check the trust anchor, and ignores nextUpdate.
        | "crl-expired-check-all" => matches!(v, W::Ok),
        "revoked-leaf"
        | "revoked-leaf-check-all"
        | "revoked-intermediate"
        | "revoked-leaf-and-intermediate"
        | "revoked-no-reason"
        | "crl-expired-and-revoked"
        | "two-crls-newer-revokes"
        | "crl-matching-scope"
        // webpki takes the first CRL of the issuer's name, ignoring nextUpdate and lastUpdate
        // (OpenSSL the best-scoring, then the newest)...
        | "two-crls-newer-clears"
        | "valid-crl-beats-expired"
        // ...counts an entry with reason removeFromCRL as a revocation...
        | "revoked-remove-from-crl"
        // ...and takes a CRL whose distribution point the certificate does not name.
        | "crl-different-scope" => matches!(v, W::CertRevoked),
        "no-crl-for-leaf" | "no-crl-for-intermediate" | "crl-wrong-issuer" => {
            matches!(v, W::UnknownRevocationStatus)
        }
        // webpki matches a CRL to its issuer by name only, not by authority key identifier.
        "crl-bad-signature" | "crl-other-key-without-akid" | "crl-other-key-with-akid" => {
            matches!(v, W::InvalidCrlSignatureForPublicKey)
        }
        "issuer-no-crlsign" => matches!(v, W::IssuerNotCrlSigner),
        "crl-critical-extension" | "crl-indirect" | "delta-crl-alone"
        | "issuer-no-crlsign-delta" | "crl-only-ca-certs" => matches!(v, W::UnusableCrl { crl: 1, .. }),
        "untrusted-and-revoked" => matches!(v, W::UnknownIssuer),
        other => panic!("no webpki expectation for fixture {other}"),
    }
}

#[test]
fn webpki_verdict_with_crls_on_every_fixture() {
    let failures: Vec<String> = common::case_names(&fixtures())
        .iter()
        .filter_map(|name| {
            let dir = fixtures().join(name);
            let (opts, _) = options(&common::read_case(&dir));
            let report = verify(&common::input(&dir), &opts).unwrap();
            (!expected_webpki(name, &report.webpki))
                .then(|| format!("{name}: webpki says {:?}", report.webpki))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_revoked_leaf_is_diagnosed_with_date_and_reason() {
    let dir = fixtures().join("revoked-leaf");
    let (opts, _) = options(&common::read_case(&dir));
    let report = verify(&common::input(&dir), &opts).unwrap();
    let revocation = report.revocation.as_ref().unwrap();
    assert_eq!(revocation.revoked.len(), 1);
    assert_eq!(
        revocation.revoked[0].reason.as_deref(),
        Some("keyCompromise")
    );
    assert!(matches!(
        report.diagnosis,
        Diagnosis::Revoked { depth: 0, .. }
    ));
    let text = report.diagnosis.explain();
    assert!(
        text.contains("OpenSSL clients with CRL checking reject it"),
        "{text}"
    );
    assert!(text.contains(", reason keyCompromise"), "{text}");
    assert!(text.contains("rustls clients reject it too"), "{text}");
}

#[test]
fn where_the_clients_part_ways_the_diagnosis_says_so() {
    let dir = fixtures().join("crl-expired");
    let (opts, _) = options(&common::read_case(&dir));
    let report = verify(&common::input(&dir), &opts).unwrap();
    assert_eq!(report.openssl.code, 12);
    assert!(report.webpki.is_ok());
    let text = report.diagnosis.explain();
    assert!(text.contains("has expired"), "{text}");
    assert!(
        text.contains("rustls clients with the same CRLs accept it"),
        "{text}"
    );

    let dir = fixtures().join("delta-crl-alone");
    let (opts, _) = options(&common::read_case(&dir));
    let report = verify(&common::input(&dir), &opts).unwrap();
    let text = report.diagnosis.explain();
    assert!(text.contains("cannot be configured with CRL #1"), "{text}");
}
