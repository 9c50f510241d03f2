//! Unit tests of the diagnosis, on the fixtures of `testdata/`.

use super::*;
use crate::{ChainInput, verify};
use time::macros::datetime;

fn case(name: &str) -> ChainInput {
    crate::chain::test_case(name)
}

fn diag(name: &str, opts: &VerifyOptions) -> Diagnosis {
    verify(&case(name), opts).unwrap().diagnosis
}

fn at() -> VerifyOptions {
    VerifyOptions::new(datetime!(2030-01-01 00:00 UTC))
}

#[test]
fn unknown_issuer_is_told_apart() {
    assert!(matches!(
        diag("missing-intermediate", &at()),
        Diagnosis::ServerSendsNoIntermediate { ref leaf_issuer } if leaf_issuer == "CN=Test Intermediate CA"
    ));
    assert!(matches!(
        diag("wrong-ca", &at()),
        Diagnosis::WrongCaFile { ref expected_issuer, ref anchors }
            if expected_issuer == "CN=Test Root CA" && anchors == &["CN=Other Root CA".to_owned()]
    ));
    assert!(matches!(
        diag("untrusted-root", &at()),
        Diagnosis::UntrustedRoot { ref subject } if subject == "CN=Test Root CA"
    ));
    assert!(matches!(
        diag("self-signed-leaf", &at()),
        Diagnosis::SelfSignedLeaf { ref subject } if subject == "CN=gateway.example.com"
    ));
}

#[test]
fn expired_anchor_is_named_as_the_trust_anchor() {
    let d = diag("expired-anchor", &at());
    assert!(matches!(
        d,
        Diagnosis::Expired { depth: 2, trust_anchor: true, not_after, .. }
            if not_after == datetime!(2026-01-01 00:00 UTC)
    ));
    assert!(d.explain().contains("2026-01-01"));
}

#[test]
fn rustls_only_findings() {
    let host = crate::NameToCheck::Dns("gateway.example.com".into());
    assert!(matches!(
        diag("cn-only", &at().with_name(host.clone())),
        Diagnosis::NameOnlyInCommonName { .. }
    ));
    assert!(matches!(
        diag("leaf-is-ca", &at()),
        Diagnosis::LeafIsCa { .. }
    ));
    assert!(matches!(
        diag("v1-leaf", &at()),
        Diagnosis::UnsupportedVersion { .. }
    ));
    assert!(matches!(
        diag("sha1-signature", &at()),
        Diagnosis::WeakSignature { depth: 0, ref algorithm, .. } if algorithm == "sha1WithRSAEncryption"
    ));
}

#[test]
fn issuer_not_ca_reasons() {
    assert!(matches!(
        diag("issuer-ca-false", &at()),
        Diagnosis::IssuerNotCa {
            depth: 1,
            reason: NotCaReason::CaFalse,
            ..
        }
    ));
    assert!(matches!(
        diag("issuer-no-basic-constraints", &at()),
        Diagnosis::IssuerNotCa {
            reason: NotCaReason::NoBasicConstraints,
            ..
        }
    ));
    assert!(matches!(
        diag("issuer-no-keycertsign", &at()),
        Diagnosis::IssuerNotCa {
            reason: NotCaReason::NoKeyCertSign,
            ..
        }
    ));
}

#[test]
fn name_mismatch_lists_names() {
    let d = diag(
        "hostname-mismatch",
        &at().with_name(crate::NameToCheck::Dns("other.example.com".into())),
    );
    assert!(matches!(
        d,
        Diagnosis::NameMismatch { ref expected, ref names }
            if expected == "other.example.com" && names == &["gateway.example.com".to_owned()]
    ));
    assert!(d.explain().contains("\"gateway.example.com\""));
}

#[test]
fn ok_explains_itself() {
    assert_eq!(diag("ok", &at()), Diagnosis::Ok);
    assert!(Diagnosis::Ok.explain().contains("valid"));
}
