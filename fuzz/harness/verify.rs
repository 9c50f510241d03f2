//! The fuzz harness of pki-verify's parsers: Azure IoT connection strings, and the offline chain
//! verification (OpenSSL 3.0 model, webpki verdict, diagnosis, name check) of a chain made of
//! fuzzed bytes, as `pki verify` runs it on what a server presented.
//!
//! The same file is compiled into the cargo-fuzz targets (`fuzz/fuzz_targets/`) and into the
//! stable regression test `pki-verify/tests/fuzz_regressions.rs` (both with `#[path]`).
//!
//! Each function takes the raw input, must never panic on it, returns whether the input was
//! accepted, and asserts the invariants that hold for an accepted input.

use pki_verify::{
    ChainInput, ConnectionString, MAX_HOSTS_LINE, NameToCheck, Purpose, VerifyOptions, parse_hosts,
    split_host_port,
};
use time::OffsetDateTime;

/// `pki scan HOSTS`: an accepted file's every host reads back from its address as the same
/// host and port; a refusal is one bounded line naming the file (never the whole input).
pub(crate) fn hosts_file(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    match parse_hosts(text, "hosts.txt", std::path::Path::new("/base")) {
        Ok(targets) => {
            let lines = text.lines().count();
            for t in &targets {
                assert!((1..=lines).contains(&t.line), "{t:?}");
                assert!(t.host.len() <= MAX_HOSTS_LINE, "{t:?}");
                assert_eq!(
                    split_host_port(&t.address(), 1),
                    Some((t.host.clone(), t.port)),
                    "{t:?}"
                );
            }
            true
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("hosts.txt"), "{msg}");
            assert!(msg.len() < 1024, "an error of {} bytes", msg.len());
            false
        }
    }
}

/// `pki verify --connection-string`: a parsed string is rebuilt from its fields and reads back
/// the same.
pub(crate) fn connection_string(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let cs = match text.parse::<ConnectionString>() {
        Ok(cs) => cs,
        Err(e) => {
            let _ = e.to_string();
            return false;
        }
    };
    let mut rebuilt = format!("HostName={};DeviceId={}", cs.host_name, cs.device_id);
    if let Some(m) = &cs.module_id {
        rebuilt += &format!(";ModuleId={m}");
    }
    if let Some(g) = &cs.gateway_host_name {
        rebuilt += &format!(";GatewayHostName={g}");
    }
    rebuilt += if cs.x509 { ";x509=true" } else { ";x509=false" };
    if cs.has_shared_access_key {
        rebuilt += ";SharedAccessKey=k";
    }
    assert_eq!(
        rebuilt.parse::<ConnectionString>().as_ref(),
        Ok(&cs),
        "{rebuilt}"
    );
    true
}

/// The options of a fuzzed verification: the first bytes of the input.
#[derive(Debug, arbitrary::Arbitrary)]
pub(crate) struct ChainHeader {
    /// How many of the certificates, counted from the end, are trust anchors (the first is
    /// always the leaf).
    anchors: u8,
    /// 0: no purpose, 1: sslserver, 2: sslclient, 3: any (modulo 4).
    purpose: u8,
    /// OpenSSL's `-auth_level`, as given (any value).
    auth_level: u8,
    /// An index into [`NAMES`] (modulo its length, plus one for "no name").
    name: u8,
    /// An index into [`instants`] (modulo its length).
    at: u8,
}

/// The names a fuzzed verification checks (those of testdata/verify, and a few more shapes).
const NAMES: [&str; 6] = [
    "gateway.example.com",
    "other.example.com",
    "192.0.2.99",
    "::1",
    "*.example.com",
    "xn--bcher-kva.example",
];

/// The fixed instants a fuzzed verification runs at (2030-01-01, that of testdata/verify, first).
fn instants() -> [OffsetDateTime; 5] {
    use time::macros::datetime;
    [
        datetime!(2030-01-01 0:00 UTC),
        datetime!(2026-06-01 12:00 UTC),
        OffsetDateTime::UNIX_EPOCH,
        datetime!(1949-12-31 23:59:59 UTC),
        datetime!(9999-12-31 23:59:59 UTC),
    ]
}

/// The chain input: a 5-byte [`ChainHeader`], then DER certificates back to back (leaf,
/// untrusted certificates in the order sent, trust anchors). Each certificate is cut at the
/// length its DER header says, so that a seed is the header followed by real DER files; a
/// length past the end takes the rest.
///
/// Runs `pki_verify::verify` (OpenSSL model, webpki, diagnosis) and, with a name, `check_name`.
/// Accepted: the verification could run (whatever its verdict).
pub(crate) fn verify_chain(data: &[u8]) -> bool {
    let mut u = arbitrary::Unstructured::new(data);
    let Ok(header) = u.arbitrary::<ChainHeader>() else {
        return false;
    };
    let mut certs = split_der(u.take_rest()).into_iter();
    let leaf = certs.next().unwrap_or_default();
    let mut rest: Vec<Vec<u8>> = certs.collect();
    let anchors = rest.split_off(rest.len() - usize::from(header.anchors).min(rest.len()));
    let input = ChainInput::new(leaf, rest, anchors);

    let mut opts = VerifyOptions::new(instants()[usize::from(header.at) % instants().len()]);
    opts.auth_level = header.auth_level;
    opts.purpose = match header.purpose % 4 {
        1 => Some(Purpose::Server),
        2 => Some(Purpose::Client),
        3 => Some(Purpose::Any),
        _ => None,
    };
    opts.name = NAMES
        .get(usize::from(header.name) % (NAMES.len() + 1))
        .map(|n| NameToCheck::parse(n));

    let Ok(report) = pki_verify::verify(&input, &opts) else {
        return false;
    };
    assert_eq!(
        report.agree,
        report.openssl.is_ok() == report.webpki.is_ok()
    );
    assert_eq!(report.openssl.is_ok(), report.openssl.code == 0);
    assert_eq!(
        report.is_ok(),
        report.openssl.is_ok() && report.webpki.is_ok()
    );
    if report.openssl.is_ok() {
        assert!(!report.chain.is_empty(), "an accepted chain has its leaf");
        assert!(report.openssl.verify_command_errors().is_empty());
    }
    let _ = report.openssl.final_code();
    let _ = pki_verify::openssl_error_string(report.openssl.code);
    let _ = report.diagnosis.explain();
    serde_json::to_string(&report).expect("a report serialises");
    if let Some(name) = &opts.name {
        let check = pki_verify::check_name(input.leaf_der(), name).expect("the leaf parsed");
        assert_eq!(check.name, name.to_string());
    }
    true
}

/// Cuts concatenated DER into its top-level elements (tag, definite length, contents); the
/// remainder after a malformed or overlong header is one last element.
fn split_der(mut data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let len = der_len(data)
            .filter(|&n| n <= data.len())
            .unwrap_or(data.len());
        let (one, rest) = data.split_at(len);
        out.push(one.to_vec());
        data = rest;
    }
    out
}

/// The total length (header and contents) of the DER element at the start of `data`, if its
/// header is a one-byte tag with a definite length of at most four length bytes.
fn der_len(data: &[u8]) -> Option<usize> {
    let first = *data.get(1)?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let bytes = data.get(2..2 + n)?;
    let len = bytes
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    Some(2 + n + len)
}

/// The (leaf, issuer) certificate pairs the `signature` target's mutated-parameter mode starts
/// from: one per signature family and curve kind of testdata/verify-conformance.
const SIGNATURE_FIXTURES: [(&str, &str); 12] = [
    (
        include_str!("../../testdata/verify-conformance/sig-ecdsa-secp160r1/leaf.pem"),
        include_str!("../../testdata/verify-conformance/sig-ecdsa-secp160r1/chain.pem"),
    ),
    (
        include_str!("../../testdata/verify-conformance/sig-ecdsa-sect163r2/leaf.pem"),
        include_str!("../../testdata/verify-conformance/sig-ecdsa-sect163r2/chain.pem"),
    ),
    (
        include_str!("../../testdata/verify-conformance/sig-ecdsa-c2pnb176v1/leaf.pem"),
        include_str!("../../testdata/verify-conformance/sig-ecdsa-c2pnb176v1/chain.pem"),
    ),
    (
        include_str!("../../testdata/verify-conformance/sig-ec-explicit-unnamed/leaf.pem"),
        include_str!("../../testdata/verify-conformance/sig-ec-explicit-unnamed/chain.pem"),
    ),
    (
        include_str!("../../testdata/verify-conformance/sig-ec-explicit-binary/leaf.pem"),
        include_str!("../../testdata/verify-conformance/sig-ec-explicit-binary/chain.pem"),
    ),
    (
        include_str!("../../testdata/verify-conformance/sig-ec-explicit-issuer/leaf.pem"),
        include_str!("../../testdata/verify-conformance/sig-ec-explicit-issuer/chain.pem"),
    ),
    (
        include_str!("../../testdata/verify-conformance/sig-sm2/leaf.pem"),
        include_str!("../../testdata/verify-conformance/sig-sm2/chain.pem"),
    ),
    (
        include_str!("../../testdata/verify-conformance/sig-rsa-pss-spki/leaf.pem"),
        include_str!("../../testdata/verify-conformance/sig-rsa-pss-spki/chain.pem"),
    ),
    (
        include_str!("../../testdata/verify-conformance/sig-rsa-pss-1024/leaf.pem"),
        include_str!("../../testdata/verify-conformance/sig-rsa-pss-1024/chain.pem"),
    ),
    (
        include_str!("../../testdata/verify-conformance/sig-dsa-1024-sha1/leaf.pem"),
        include_str!("../../testdata/verify-conformance/sig-dsa-1024-sha1/chain.pem"),
    ),
    (
        include_str!("../../testdata/verify-conformance/sig-rsa-md5/leaf.pem"),
        include_str!("../../testdata/verify-conformance/sig-rsa-md5/chain.pem"),
    ),
    (
        include_str!("../../testdata/verify-conformance/sig-ed448/leaf.pem"),
        include_str!("../../testdata/verify-conformance/sig-ed448/chain.pem"),
    ),
];

/// The three elements of a DER Certificate (tbsCertificate, signatureAlgorithm, the signature
/// BIT STRING), each whole, and the SubjectPublicKeyInfo of a certificate (the seventh element of
/// its tbsCertificate, after the optional [0] version).
fn certificate_parts(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let content = der.get(der_header_len(der)?..der_len(der)?)?;
    let parts = split_der(content);
    let [tbs, alg, sig] = parts.as_slice() else {
        return None;
    };
    Some((tbs.clone(), alg.clone(), sig.clone()))
}

fn spki_of(der: &[u8]) -> Option<Vec<u8>> {
    let (tbs, _, _) = certificate_parts(der)?;
    let fields = split_der(tbs.get(der_header_len(&tbs)?..)?);
    let skip = usize::from(fields.first()?.first() == Some(&0xa0));
    fields.get(skip + 5).cloned()
}

/// The length of the DER header (tag and length bytes) at the start of `data`.
fn der_header_len(data: &[u8]) -> Option<usize> {
    let first = *data.get(1)?;
    Some(if first < 0x80 {
        2
    } else {
        2 + usize::from(first & 0x7f)
    })
}

/// The `signature` target: `pki_verify`'s one signature check (`signature::check`) on fuzzed
/// input, in two modes chosen by the first byte.
///
/// - Even: arbitrary DER. The rest is an issuer's SubjectPublicKeyInfo then a certificate, each
///   cut at its DER header's length.
/// - Odd: mutated parameters. The second byte picks one of [`SIGNATURE_FIXTURES`] (a leaf and
///   its issuer), the third which part to overwrite (0: the issuer's SubjectPublicKeyInfo, so
///   its parameters and point; 1: the signature; 2: the signature algorithm and its parameters),
///   the next two a big-endian offset into it (modulo its length); the rest of the input
///   overwrites bytes from there (no further than the part's end).
///
/// Accepted: the signature verifies.
pub(crate) fn signature(data: &[u8]) -> bool {
    let Some((&mode, rest)) = data.split_first() else {
        return false;
    };
    if mode % 2 == 0 {
        let parts = split_der(rest);
        let (Some(spki), Some(cert)) = (parts.first(), parts.get(1)) else {
            return false;
        };
        return pki_verify::check_signature_der(cert, spki) == Some(true);
    }
    let [pick, part, hi, lo, patch @ ..] = rest else {
        return false;
    };
    let (leaf, issuer) = SIGNATURE_FIXTURES[usize::from(*pick) % SIGNATURE_FIXTURES.len()];
    let der = |pem: &str| {
        pki_verify::pem_certificates("fixture", pem.as_bytes())
            .ok()?
            .into_iter()
            .next()
    };
    let (Some(leaf), Some(issuer)) = (der(leaf), der(issuer)) else {
        panic!("a signature fixture does not parse");
    };
    let (Some((tbs, mut alg, sig)), Some(mut spki)) = (certificate_parts(&leaf), spki_of(&issuer))
    else {
        panic!("a signature fixture's parts do not parse");
    };
    // The signature's bytes: the BIT STRING's content after its unused-bits byte.
    let Some(start) = der_header_len(&sig).map(|h| h + 1) else {
        return false;
    };
    let mut sig = sig.get(start..).unwrap_or_default().to_vec();
    let target = match part % 3 {
        0 => &mut spki,
        1 => &mut sig,
        _ => &mut alg,
    };
    if !target.is_empty() {
        let at = usize::from(u16::from_be_bytes([*hi, *lo])) % target.len();
        for (byte, new) in target[at..].iter_mut().zip(patch) {
            *byte = *new;
        }
    }
    pki_verify::check_signature_parts_der(&alg, &tbs, &sig, &spki) == Some(true)
}
