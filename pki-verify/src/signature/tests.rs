//! The signature checks against OpenSSL: signatures `openssl` made verify, a changed byte fails,
//! and what OpenSSL cannot verify is a failed signature.
#![allow(clippy::disallowed_methods)] // openssl, the oracle, run directly

use super::der::{bit_length, der_signature};
use super::ec::{Curve, named_curve};
use super::*;

/// `openssl pkeyutl -sign` of `message` with the case's leaf key and `opts`.
#[cfg(unix)]
fn openssl_sign(case: &str, message: &[u8], opts: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let msg = dir.path().join("msg");
    std::fs::write(&msg, message).unwrap();
    let key = format!("../testdata/verify-conformance/{case}/leaf.key.pem");
    let out = std::process::Command::new("openssl")
        .args(["pkeyutl", "-sign", "-inkey", &key, "-in"])
        .arg(&msg)
        .args(opts)
        .output()
        .expect("openssl signs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
#[cfg(unix)] // it runs the openssl command, which a Windows test run does not have
fn tls13_signatures_rustls_cannot_check_are_checked_as_openssl_made_them() {
    let message = b"TLS 1.3, server CertificateVerify\x00 transcript hash";
    for (case, scheme, opts) in [
        ("sig-ed448-leaf-key", 0x0808, &["-rawin"][..]),
        (
            "sig-rsa-pss-leaf-key",
            0x0809,
            &[
                "-rawin",
                "-digest",
                "sha256",
                "-pkeyopt",
                "rsa_padding_mode:pss",
                "-pkeyopt",
                "rsa_pss_saltlen:digest",
            ][..],
        ),
    ] {
        let sig = openssl_sign(case, message, opts);
        let der = key_of(case, "leaf.pem");
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let spki = cert.public_key();
        assert_eq!(
            tls13_handshake(scheme, spki, message, &sig),
            Some(true),
            "{case}"
        );
        let mut bad = sig.clone();
        bad[7] ^= 1;
        assert_eq!(
            tls13_handshake(scheme, spki, message, &bad),
            Some(false),
            "{case}"
        );
        assert_eq!(
            tls13_handshake(scheme, spki, b"another", &sig),
            Some(false),
            "{case}"
        );
    }
    let der = key_of("sig-ed448-leaf-key", "leaf.pem");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert_eq!(tls13_handshake(0x0804, cert.public_key(), b"", b""), None);
}

fn key_of(case: &str, file: &str) -> Vec<u8> {
    let path = format!("../testdata/verify-conformance/{case}/{file}");
    let pem = std::fs::read(path).unwrap();
    x509_parser::pem::parse_x509_pem(&pem).unwrap().1.contents
}

/// The leaf of a case and its intermediate's key (the first certificate of chain.pem).
fn leaf_and_issuer(case: &str) -> (Vec<u8>, Vec<u8>) {
    (key_of(case, "leaf.pem"), key_of(case, "chain.pem"))
}

/// Whether the intermediate's key verifies the leaf's signature (made by openssl or
/// Python's cryptography), and no longer does when one signed byte changes.
fn verifies_and_detects_a_change(case: &str) {
    let (leaf, issuer) = leaf_and_issuer(case);
    let (_, issuer) = x509_parser::parse_x509_certificate(&issuer).unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&leaf).unwrap();
    assert!(
        check(&cert, issuer.public_key()),
        "{case}: a good signature fails"
    );
    let tbs = cert.tbs_certificate.as_ref();
    let mut changed = tbs.to_vec();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    let sig = cert.signature_value.data.as_ref();
    let alg = &cert.signature_algorithm;
    assert!(
        !check_parts(alg, &changed, sig, issuer.public_key()),
        "{case}: a changed certificate verifies"
    );
}

#[test]
fn the_generic_verifier_agrees_with_openssl_on_a_prime_field_curve() {
    verifies_and_detects_a_change("sig-ecdsa-secp160r1");
    verifies_and_detects_a_change("sig-ecdsa-prime239v1");
    verifies_and_detects_a_change("sig-ecdsa-brainpoolp512r1-sha512");
    verifies_and_detects_a_change("sig-ecdsa-brainpoolp320t1");
}

#[test]
fn the_generic_verifier_agrees_with_openssl_on_binary_field_curves() {
    // Trinomial, pentanomial and an even degree (176).
    verifies_and_detects_a_change("sig-ecdsa-sect233k1");
    verifies_and_detects_a_change("sig-ecdsa-sect163r2");
    verifies_and_detects_a_change("sig-ecdsa-c2pnb176v1");
}

#[test]
fn the_generic_verifier_agrees_with_openssl_on_explicit_parameters() {
    verifies_and_detects_a_change("sig-ec-explicit-unnamed");
    verifies_and_detects_a_change("sig-ec-explicit-binary");
}

#[test]
fn sm2_pss_md5_sha3_and_dsa_agree_with_openssl() {
    for case in [
        "sig-sm2",
        "sig-rsa-pss-1024",
        "sig-rsa-pss-sha1-salt20",
        "sig-rsa-pss-sha256-salt0",
        "sig-rsa-pss-mgf-sha1",
        "sig-rsa-pss-spki",
        "sig-rsa-md5",
        "sig-rsa-sha3-256",
        "sig-dsa-2048-sha256",
    ] {
        verifies_and_detects_a_change(case);
    }
}

#[test]
fn what_openssl_cannot_verify_is_a_failed_signature() {
    for case in [
        "sig-rsa-md4",
        "sig-unknown-oid",
        "sig-ecdsa-sha3-384",
        "sig-dsa-sha512",
    ] {
        let (leaf, issuer) = leaf_and_issuer(case);
        let (_, issuer) = x509_parser::parse_x509_certificate(&issuer).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&leaf).unwrap();
        assert!(!check(&cert, issuer.public_key()), "{case}");
    }
}

#[test]
fn ecdsa_signatures_must_be_exactly_der() {
    assert!(der_signature(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]).is_some());
    // A needless leading zero, a negative r, trailing bytes.
    assert!(der_signature(&[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02]).is_none());
    assert!(der_signature(&[0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x02]).is_none());
    assert!(der_signature(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00]).is_none());
}

#[test]
fn digest_security_bits_follow_openssl() {
    let bits = |case: &str| {
        let der = key_of(case, "leaf.pem");
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        digest_security_bits(&cert.signature_algorithm)
    };
    assert_eq!(bits("sig-rsa-md5"), Some(39));
    assert_eq!(bits("sig-rsa-md4"), Some(64));
    assert_eq!(bits("sig-rsa-pss-sha1-salt20"), Some(63));
    assert_eq!(bits("sig-rsa-pss-spki"), Some(256));
    assert_eq!(bits("sig-rsa-sha3-256"), Some(128));
    assert_eq!(bits("sig-sm2"), Some(128));
    assert_eq!(bits("sig-unknown-oid"), None);
}

#[test]
fn explicit_p256_parameters_are_recognised_as_p256() {
    let der = key_of("sig-ec-explicit-issuer", "chain.pem");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert!(has_explicit_curve(cert.public_key()));
    assert_eq!(named_curve(cert.public_key()), Some(Curve::P256));
    assert_eq!(explicit_order_bits(cert.public_key()), Some(256));
}

#[test]
fn dsa_sizes_are_read_from_the_parameters() {
    let der = key_of("sig-dsa-1024-sha1", "chain.pem");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert_eq!(dsa_bits(cert.public_key()), Some((1024, 160)));
}

#[test]
fn digest_info_prefixes_are_rfc_8017s() {
    let sha1 = [
        0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
    ];
    assert_eq!(Hash::Sha1.digest_info_prefix(20), sha1);
    let sha512 = [
        0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
        0x05, 0x00, 0x04, 0x40,
    ];
    assert_eq!(Hash::Sha512.digest_info_prefix(64), sha512);
}

#[test]
fn bit_lengths_ignore_the_sign_byte() {
    assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
    assert_eq!(bit_length(&[0x01, 0xff]), 9);
    assert_eq!(bit_length(&[]), 0);
}

#[test]
fn a_named_curve_is_not_explicit() {
    let der = key_of("sig-ecdsa-p192-sha256", "chain.pem");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert!(!has_explicit_curve(cert.public_key()));
    assert_eq!(named_curve(cert.public_key()), Some(Curve::P192));
}
