//! Unit tests of the OpenSSL verdict, on the fixtures of `testdata/`.

use super::*;
use crate::ChainInput;
use crate::options::Purpose;
use time::macros::datetime;

fn case(name: &str) -> ChainInput {
    crate::chain::test_case(name)
}

fn run(name: &str, opts: &VerifyOptions) -> OpensslVerdict {
    let input = case(name);
    let parsed = input.parse().unwrap();
    verify(&parsed, opts).unwrap().verdict
}

fn at() -> VerifyOptions {
    VerifyOptions::new(datetime!(2030-01-01 00:00 UTC))
}

#[test]
fn ok_chain_has_three_certificates_and_no_error() {
    let input = case("ok");
    let parsed = input.parse().unwrap();
    let out = verify(&parsed, &at()).unwrap();
    assert!(out.verdict.is_ok());
    assert_eq!(out.verdict.text, "ok");
    assert!(matches!(
        out.chain.as_slice(),
        [CertRef::Leaf, CertRef::Intermediate(0), CertRef::Anchor(0)]
    ));
}

#[test]
fn missing_intermediate_is_20_then_21() {
    let v = run("missing-intermediate", &at());
    assert_eq!((v.code.number(), v.depth), (20, Some(0)));
    let all: Vec<_> = v
        .errors
        .iter()
        .map(|e| (e.code.number(), e.depth))
        .collect();
    assert_eq!(all, vec![(20, 0), (21, 0)]);
    assert_eq!(v.final_code(), 21);
    // `openssl verify` stops at 20.
    assert_eq!(v.verify_command_errors().len(), 1);
}

#[test]
fn no_keycertsign_is_79_then_32() {
    let v = run("issuer-no-keycertsign", &at());
    let all: Vec<_> = v
        .errors
        .iter()
        .map(|e| (e.code.number(), e.depth))
        .collect();
    assert_eq!(all, vec![(79, 1), (32, 1)]);
}

#[test]
fn expired_leaf_depends_on_the_instant() {
    assert_eq!(run("expired-leaf", &at()).code, VerifyCode::CertHasExpired);
    let before = VerifyOptions::new(datetime!(2025-06-01 00:00 UTC));
    assert!(run("expired-leaf", &before).is_ok());
}

#[test]
fn sha1_is_ok_without_auth_level_and_68_at_level_1() {
    assert!(run("sha1-signature", &at()).is_ok());
    let v = run("sha1-signature", &at().with_auth_level(1));
    assert_eq!((v.code, v.depth), (VerifyCode::CaMdTooWeak, Some(0)));
}

#[test]
fn purpose_is_checked_only_when_asked() {
    assert!(run("leaf-no-serverauth", &at()).is_ok());
    let v = run("leaf-no-serverauth", &at().with_purpose(Purpose::Server));
    assert_eq!((v.code, v.depth), (VerifyCode::InvalidPurpose, Some(0)));
    assert!(run("leaf-no-serverauth", &at().with_purpose(Purpose::Client)).is_ok());
}

#[test]
fn cn_only_leaf_matches_by_common_name() {
    let name = NameToCheck::Dns("gateway.example.com".into());
    assert!(run("cn-only", &at().with_name(name)).is_ok());
    let other = NameToCheck::Dns("other.example.com".into());
    assert_eq!(
        run("cn-only", &at().with_name(other)).code,
        VerifyCode::HostnameMismatch
    );
}

#[test]
fn error_strings_are_openssl_3_wording() {
    assert_eq!(error_string(18), "self-signed certificate");
    assert_eq!(error_string(79), "invalid CA certificate");
    assert_eq!(error_string(68), "CA signature digest algorithm too weak");
    assert_eq!(error_string(9999), "unknown certificate verification error");
}

#[test]
fn verify_command_continues_after_expiry_but_not_after_a_signature_failure() {
    assert!(VerifyCode::CertHasExpired.verify_command_continues());
    assert!(VerifyCode::InvalidCa.verify_command_continues());
    assert!(!VerifyCode::CertSignatureFailure.verify_command_continues());
    assert!(!VerifyCode::UnableToGetIssuerCertLocally.verify_command_continues());
}
