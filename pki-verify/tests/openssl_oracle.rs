//! The OpenSSL verdict against the real `openssl verify`, on every fixture in testdata/verify/.
//!
//! For each case the test runs `openssl verify -CAfile ca.pem -untrusted chain.pem -attime T
//! [options] leaf.pem`, parses every `error N at D depth lookup: TEXT` line, and asserts that our
//! verdict has the same first code, depth and wording and the same list of printed errors. Each
//! case is also run a second time the way a TLS client checks a gateway (purpose sslserver,
//! security level 1, the gateway's host name). It fails, never skips, when `openssl` is missing.
//!
//! The rustls/webpki verdict of each case is asserted against the table in REFERENCE.md.
// Tests start the programs they check against (openssl, peers, pki itself) directly, with
// environments of their own; pki itself makes children only through `pki_x509::child_command`.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::options;
use pki_verify::{ChainInput, NameToCheck, Purpose, VerifyOptions, WebpkiVerdict, verify};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/verify")
}

fn cases() -> Vec<String> {
    common::case_names(&fixtures())
}

fn read_case(name: &str) -> BTreeMap<String, String> {
    common::read_case(&fixtures().join(name))
}

fn input(name: &str) -> ChainInput {
    common::input(&fixtures().join(name))
}

fn check_against_openssl(name: &str, opts: &VerifyOptions, args: &[String]) -> Result<(), String> {
    common::check_against_openssl(name, &fixtures().join(name), opts, args)
}

#[test]
fn openssl_verdict_matches_openssl_verify_on_every_fixture() {
    let names = cases();
    assert!(names.len() >= 24, "fixtures missing: {names:?}");
    let failures: Vec<String> = names
        .iter()
        .filter_map(|name| {
            let (opts, args) = options(&read_case(name));
            check_against_openssl(name, &opts, &args).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn openssl_verdict_matches_as_a_tls_client_checks_on_every_fixture() {
    // What s_client -verify_return_error -verify_hostname checks: purpose sslserver, security
    // level 1 (OpenSSL 3.0's default), the name.
    let failures: Vec<String> = cases()
        .iter()
        .filter_map(|name| {
            let case = read_case(name);
            let (mut opts, mut args) = options(&case);
            if opts.purpose.is_none() {
                opts.purpose = Some(Purpose::Server);
                args.extend(["-purpose".to_owned(), "sslserver".to_owned()]);
            }
            if !case.contains_key("auth_level") {
                opts.auth_level = 1;
                args.extend(["-auth_level".to_owned(), "1".to_owned()]);
            }
            if opts.name.is_none() {
                opts.name = Some(NameToCheck::Dns("gateway.example.com".to_owned()));
                args.extend([
                    "-verify_hostname".to_owned(),
                    "gateway.example.com".to_owned(),
                ]);
            }
            check_against_openssl(name, &opts, &args).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// REFERENCE.md's rustls-webpki column.
fn expected_webpki(name: &str, v: &WebpkiVerdict) -> bool {
    use WebpkiVerdict as W;
    match name {
        "ok" | "expired-anchor" | "issuer-no-keycertsign" => matches!(v, W::Ok),
        "wrong-ca" | "missing-intermediate" | "self-signed-leaf" | "untrusted-root" => {
            matches!(v, W::UnknownIssuer)
        }
        "expired-leaf" | "expired-intermediate" => matches!(v, W::CertExpired { .. }),
        "not-yet-valid" => matches!(v, W::CertNotValidYet { .. }),
        "hostname-mismatch" => matches!(
            v,
            W::CertNotValidForName { expected, presented }
                if expected == "other.example.com" && presented == &["gateway.example.com".to_owned()]
        ),
        "ip-mismatch" => matches!(
            v,
            W::CertNotValidForName { expected, presented }
                if expected == "192.0.2.99" && presented == &["192.0.2.10".to_owned()]
        ),
        "leaf-no-serverauth" | "intermediate-clientauth-only" => {
            matches!(v, W::RequiredEkuNotFound)
        }
        "issuer-ca-false" | "issuer-no-basic-constraints" => matches!(v, W::EndEntityUsedAsCa),
        "pathlen-exceeded" => matches!(v, W::PathLenConstraintViolated),
        "bad-signature" => matches!(v, W::InvalidSignatureForPublicKey),
        "unknown-critical-extension" => matches!(v, W::UnsupportedCriticalExtension),
        "name-constraints" => matches!(v, W::NameConstraintViolation),
        "leaf-is-ca" => matches!(v, W::CaUsedAsEndEntity),
        "cn-only" => matches!(
            v,
            W::CertNotValidForName { presented, .. } if presented.is_empty()
        ),
        "sha1-signature" => matches!(v, W::UnsupportedSignatureAlgorithm),
        "v1-leaf" => matches!(v, W::UnsupportedCertVersion),
        other => panic!("no webpki expectation for fixture {other}"),
    }
}

#[test]
fn webpki_verdict_matches_the_reference_table() {
    let failures: Vec<String> = cases()
        .iter()
        .filter_map(|name| {
            let (opts, _) = options(&read_case(name));
            let report = verify(&input(name), &opts).unwrap();
            (!expected_webpki(name, &report.webpki))
                .then(|| format!("{name}: webpki says {:?}", report.webpki))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn report_serialises_to_json() {
    let (opts, _) = options(&read_case("expired-leaf"));
    let report = verify(&input("expired-leaf"), &opts).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["openssl"]["code"], 10);
    assert_eq!(json["openssl"]["text"], "certificate has expired");
    assert_eq!(json["webpki"]["result"], "cert_expired");
    assert_eq!(json["diagnosis"]["finding"], "expired");
    assert_eq!(json["chain"][0]["not_after"], "2026-01-01T00:00:00Z");
    assert!(!report.agree || !report.is_ok());
}

/// A chain put together from the fixtures' files: (name, leaf, sent, anchors, options).
type Combination = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

const COMBINATIONS: &[Combination] = &[
    (
        "anchor is the intermediate",
        "ok/leaf.pem",
        &[],
        &["ok/chain.pem"],
        &[],
    ),
    (
        "sent root is also trusted",
        "ok/leaf.pem",
        &["untrusted-root/chain.pem"],
        &["ok/ca.pem"],
        &[],
    ),
    (
        "sent in reverse order",
        "ok/leaf.pem",
        &["ok/ca.pem", "ok/chain.pem"],
        &["ok/ca.pem"],
        &[],
    ),
    (
        "unrelated certificates sent",
        "ok/leaf.pem",
        &[
            "wrong-ca/ca.pem",
            "expired-anchor/chain.pem",
            "ok/chain.pem",
        ],
        &["ok/ca.pem"],
        &[],
    ),
    (
        "two anchors",
        "ok/leaf.pem",
        &["ok/chain.pem"],
        &["wrong-ca/ca.pem", "ok/ca.pem"],
        &[],
    ),
    (
        "CA:FALSE issuer, server purpose",
        "issuer-ca-false/leaf.pem",
        &["issuer-ca-false/chain.pem"],
        &["ok/ca.pem"],
        &[("purpose", "sslserver")],
    ),
    (
        "no basicConstraints issuer, client purpose",
        "issuer-no-basic-constraints/leaf.pem",
        &["issuer-no-basic-constraints/chain.pem"],
        &["ok/ca.pem"],
        &[("purpose", "sslclient")],
    ),
    (
        "self-signed leaf trusted",
        "self-signed-leaf/leaf.pem",
        &[],
        &["self-signed-leaf/leaf.pem"],
        &[
            ("purpose", "sslserver"),
            ("hostname", "gateway.example.com"),
        ],
    ),
    (
        "self-signed leaf, client purpose",
        "self-signed-leaf/leaf.pem",
        &[],
        &["ok/ca.pem"],
        &[("purpose", "sslclient")],
    ),
    (
        "self-signed leaf, expired",
        "self-signed-leaf/leaf.pem",
        &[],
        &["ok/ca.pem"],
        &[("attime", "2366841600")],
    ),
    (
        "expired leaf, wrong name",
        "expired-leaf/leaf.pem",
        &["expired-leaf/chain.pem"],
        &["ok/ca.pem"],
        &[("hostname", "other.example.com")],
    ),
    (
        "expired anchor, before expiry",
        "expired-anchor/leaf.pem",
        &["expired-anchor/chain.pem"],
        &["expired-anchor/ca.pem"],
        &[("attime", "1748736000")],
    ),
    (
        "everything expired",
        "ok/leaf.pem",
        &["ok/chain.pem"],
        &["ok/ca.pem"],
        &[("attime", "2366841600")],
    ),
    (
        "nothing valid yet",
        "ok/leaf.pem",
        &["ok/chain.pem"],
        &["ok/ca.pem"],
        &[("attime", "1704067200")],
    ),
    (
        "leaf as its own anchor",
        "ok/leaf.pem",
        &[],
        &["ok/leaf.pem"],
        &[],
    ),
    ("no anchors", "ok/leaf.pem", &["ok/chain.pem"], &[], &[]),
    (
        "pathlen, server purpose",
        "pathlen-exceeded/leaf.pem",
        &["pathlen-exceeded/chain.pem"],
        &["ok/ca.pem"],
        &[("purpose", "sslserver")],
    ),
    (
        "unknown critical extension, expired",
        "unknown-critical-extension/leaf.pem",
        &["unknown-critical-extension/chain.pem"],
        &["ok/ca.pem"],
        &[("attime", "2366841600")],
    ),
    (
        "name constraints, name checked",
        "name-constraints/leaf.pem",
        &["name-constraints/chain.pem"],
        &["ok/ca.pem"],
        &[("hostname", "gateway.example.com")],
    ),
    (
        "name constraints, everything expired",
        "name-constraints/leaf.pem",
        &["name-constraints/chain.pem"],
        &["ok/ca.pem"],
        &[("attime", "2366841600")],
    ),
    (
        "missing intermediate, not yet valid",
        "missing-intermediate/leaf.pem",
        &[],
        &["ok/ca.pem"],
        &[("attime", "1704067200")],
    ),
    (
        "intermediate clientAuth, client purpose",
        "intermediate-clientauth-only/leaf.pem",
        &["intermediate-clientauth-only/chain.pem"],
        &["ok/ca.pem"],
        &[("purpose", "sslclient")],
    ),
    (
        "leaf CA, server purpose, level 2",
        "leaf-is-ca/leaf.pem",
        &["leaf-is-ca/chain.pem"],
        &["ok/ca.pem"],
        &[("purpose", "sslserver"), ("auth_level", "2")],
    ),
    (
        "sha1 at level 2",
        "sha1-signature/leaf.pem",
        &["sha1-signature/chain.pem"],
        &["ok/ca.pem"],
        &[("auth_level", "2")],
    ),
    (
        "ip checked as host name",
        "ip-mismatch/leaf.pem",
        &["ip-mismatch/chain.pem"],
        &["ok/ca.pem"],
        &[("hostname", "192.0.2.10")],
    ),
    (
        "ip matches",
        "ip-mismatch/leaf.pem",
        &["ip-mismatch/chain.pem"],
        &["ok/ca.pem"],
        &[("ip", "192.0.2.10")],
    ),
];

#[test]
fn openssl_verdict_matches_openssl_verify_on_combined_chains() {
    let tmp = std::env::temp_dir().join(format!("pki-verify-oracle-{}", std::process::id()));
    let mut failures = Vec::new();
    for (i, (label, leaf, sent, anchors, extra)) in COMBINATIONS.iter().enumerate() {
        let dir = tmp.join(format!("combo-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let concat = |files: &[&str]| -> Vec<u8> {
            files
                .iter()
                .flat_map(|f| std::fs::read(fixtures().join(f)).unwrap())
                .collect()
        };
        std::fs::write(dir.join("leaf.pem"), concat(&[leaf])).unwrap();
        std::fs::write(dir.join("chain.pem"), concat(sent)).unwrap();
        std::fs::write(dir.join("ca.pem"), concat(anchors)).unwrap();
        let mut case = BTreeMap::from([("attime".to_owned(), "1893456000".to_owned())]);
        for (k, v) in *extra {
            case.insert((*k).to_owned(), (*v).to_owned());
        }
        let (opts, args) = options(&case);
        let name = dir.to_string_lossy().into_owned();
        if let Err(e) = check_against_openssl(&name, &opts, &args) {
            failures.push(format!("{label}: {e}"));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
