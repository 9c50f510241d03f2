//! The repository itself: no private key is committed outside the places that hold keys on
//! purpose. Every file `git ls-files` names is read and refused when it is a private key in any
//! form pki or OpenSSL writes: a PEM block whose label says `PRIVATE KEY` (PKCS#8, encrypted
//! PKCS#8, PKCS#1, SEC1, DSA, OpenSSH, PGP), the same keys in DER, a PKCS#12 (PFX) file, a Java
//! keystore (JKS, JCEKS) or a PuTTY key. (A root `ca.key` was once committed by mistake.)

use std::path::{Path, PathBuf};

use crate::support::{openssl, programs, tmp};

/// Where keys are committed on purpose, with why. Everything else must hold none.
const ALLOWED: [(&str, &str); 3] = [
    (
        "testdata/",
        "the tests' fixtures: throwaway CAs, servers and devices made by the committed scripts \
         beside them (testdata/*/gen.sh), for the tests to load",
    ),
    (
        "fuzz/seeds/private_key/",
        "the seeds of the private_key fuzz target, whose input is a key (fuzz/seeds/gen.sh)",
    ),
    (
        "fuzz/regressions/private_key/",
        "inputs that once broke the private key reader, kept so that they never do again",
    ),
];

/// The repository's root (this file is tests/e2e/repository.rs, run from pki-cli/).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("pki-cli sits in the repository's root")
        .to_path_buf()
}

#[test]
fn no_private_key_is_committed_outside_the_allowed_places() {
    let root = root();
    let out = programs::command("git")
        .current_dir(&root)
        .args(["ls-files", "-z", "--cached"])
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git ls-files in {} failed (the check needs a git checkout): {}",
        root.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<String> = out
        .stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    assert!(files.len() > 100, "git ls-files named only {files:?}");
    let mut found = Vec::new();
    for file in &files {
        if ALLOWED.iter().any(|(dir, _)| file.starts_with(dir)) {
            continue;
        }
        let path = root.join(file);
        // A file deleted in the work tree but not yet in the index, or a symbolic link: no content here.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Some(kind) = private_key_kind(&bytes) {
            found.push(format!("{file} ({kind})"));
        }
    }
    assert!(
        found.is_empty(),
        "private keys are committed outside {:?}: {}\nremove them (git rm), or, when a test needs \
         one, make it in the test or in testdata/ with its generator script",
        ALLOWED.map(|(dir, _)| dir),
        found.join(", ")
    );
}

/// The detector finds every kind of key OpenSSL writes, in PEM and DER, and a PKCS#12 file;
/// it passes certificates, CSRs and the truncated key text the tests quote in their sources.
#[test]
fn the_key_detector_finds_every_kind_of_key_and_passes_certificates() {
    let dir = tmp();
    let p = dir.path();
    let ok = |args: &[&str]| {
        openssl(p, args).expect(0);
    };
    ok(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "p8.pem",
    ]);
    ok(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:1024",
        "-out",
        "rsa.pem",
    ]);
    ok(&["genpkey", "-algorithm", "ED25519", "-out", "ed.pem"]);
    ok(&["pkey", "-in", "p8.pem", "-outform", "DER", "-out", "p8.der"]);
    ok(&["pkey", "-in", "ed.pem", "-outform", "DER", "-out", "ed.der"]);
    ok(&["ec", "-in", "p8.pem", "-outform", "DER", "-out", "sec1.der"]);
    ok(&["ec", "-in", "p8.pem", "-out", "sec1.pem"]);
    ok(&[
        "rsa",
        "-in",
        "rsa.pem",
        "-traditional",
        "-outform",
        "DER",
        "-out",
        "pkcs1.der",
    ]);
    ok(&["rsa", "-in", "rsa.pem", "-traditional", "-out", "pkcs1.pem"]);
    let pass = "pass:secret";
    ok(&[
        "pkcs8",
        "-topk8",
        "-in",
        "p8.pem",
        "-v2",
        "aes-256-cbc",
        "-passout",
        pass,
        "-outform",
        "DER",
        "-out",
        "enc.der",
    ]);
    ok(&[
        "pkcs8",
        "-topk8",
        "-in",
        "p8.pem",
        "-v2",
        "aes-256-cbc",
        "-passout",
        pass,
        "-out",
        "enc.pem",
    ]);
    ok(&[
        "req", "-x509", "-new", "-key", "p8.pem", "-subj", "/CN=k", "-days", "1", "-out",
        "cert.pem",
    ]);
    ok(&[
        "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der",
    ]);
    ok(&[
        "req", "-new", "-key", "p8.pem", "-subj", "/CN=k", "-outform", "DER", "-out", "csr.der",
    ]);
    ok(&[
        "pkcs12", "-export", "-in", "cert.pem", "-inkey", "p8.pem", "-passout", pass, "-out",
        "k.p12",
    ]);
    ok(&[
        "pkcs12",
        "-export",
        "-nokeys",
        "-in",
        "cert.pem",
        "-passout",
        pass,
        "-out",
        "trust.p12",
    ]);
    let keys = [
        "p8.pem",
        "rsa.pem",
        "ed.pem",
        "p8.der",
        "ed.der",
        "sec1.der",
        "sec1.pem",
        "pkcs1.der",
        "pkcs1.pem",
        "enc.der",
        "enc.pem",
        "k.p12",
        "trust.p12",
    ];
    for name in keys {
        let bytes = std::fs::read(p.join(name)).unwrap();
        assert!(
            private_key_kind(&bytes).is_some(),
            "{name} not found to be a key"
        );
    }
    for name in ["cert.pem", "cert.der", "csr.der"] {
        let bytes = std::fs::read(p.join(name)).unwrap();
        assert_eq!(private_key_kind(&bytes), None, "{name} taken for a key");
    }
    let openssh = "-----BEGIN OPENSSH PRIVATE KEY-----\n\
         b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n\
         -----END OPENSSH PRIVATE KEY-----\n";
    assert_eq!(
        private_key_kind(openssh.as_bytes()),
        Some("PEM OPENSSH PRIVATE KEY")
    );
    // What tests quote in their sources: a marker in a string, no key.
    let quoted = r#"let s = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n";"#;
    assert_eq!(private_key_kind(quoted.as_bytes()), None);
    assert_eq!(private_key_kind(b"-----BEGIN PRIVATE KEY-----\nMIGH"), None);
}

/// What kind of private key `bytes` is, or `None` when it holds none.
fn private_key_kind(bytes: &[u8]) -> Option<&'static str> {
    if let Some(kind) = pem_private_key(bytes) {
        return Some(kind);
    }
    if bytes.starts_with(&[0xFE, 0xED, 0xFE, 0xED]) {
        return Some("Java keystore (JKS)");
    }
    if bytes.starts_with(&[0xCE, 0xCE, 0xCE, 0xCE]) {
        return Some("Java keystore (JCEKS)");
    }
    if bytes.starts_with(b"PuTTY-User-Key-File-") {
        return Some("PuTTY key");
    }
    der_private_key(bytes)
}

/// A PEM block whose label ends a `PRIVATE KEY` (or `PGP PRIVATE KEY BLOCK`) and whose body has
/// base64 enough for a key (16 characters or more): its label.
fn pem_private_key(bytes: &[u8]) -> Option<&'static str> {
    const LABELS: [(&str, &str); 8] = [
        ("PRIVATE KEY", "PEM PRIVATE KEY"),
        ("ENCRYPTED PRIVATE KEY", "PEM ENCRYPTED PRIVATE KEY"),
        ("RSA PRIVATE KEY", "PEM RSA PRIVATE KEY"),
        ("EC PRIVATE KEY", "PEM EC PRIVATE KEY"),
        ("DSA PRIVATE KEY", "PEM DSA PRIVATE KEY"),
        ("OPENSSH PRIVATE KEY", "PEM OPENSSH PRIVATE KEY"),
        ("ANY PRIVATE KEY", "PEM ANY PRIVATE KEY"),
        ("PGP PRIVATE KEY BLOCK", "PGP PRIVATE KEY BLOCK"),
    ];
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let Some((_, kind)) = LABELS.iter().find(|(l, _)| *l == label) else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut base64 = 0;
        for body in lines.by_ref() {
            if body == end {
                break;
            }
            // Headers (`Proc-Type: 4,ENCRYPTED`) and blank lines carry no key.
            if body
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
            {
                base64 += body.len();
            }
        }
        if base64 >= 16 {
            return Some(kind);
        }
    }
    None
}

/// One DER element: (tag, content, what follows it).
fn tlv(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The elements of a constructed element's content; `None` when they do not parse.
fn children(mut content: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (tag, value, rest) = tlv(content)?;
        out.push((tag, value));
        content = rest;
    }
    Some(out)
}

/// The whole of `bytes` as one DER private key structure: its kind.
fn der_private_key(bytes: &[u8]) -> Option<&'static str> {
    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const OCTET_STRING: u8 = 0x04;
    const OID: u8 = 0x06;
    // 1.2.840.113549.1.5 (PKCS#5: PBES1, PBES2) and 1.2.840.113549.1.12.1 (PKCS#12 PBE).
    const PKCS5: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05];
    const PKCS12_PBE: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01];
    // 1.2.840.113549.1.7.1 (PKCS#7 data), a PFX's authSafe.
    const PKCS7_DATA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01];

    let (SEQUENCE, content, []) = tlv(bytes)? else {
        return None;
    };
    let items = children(content)?;
    let small_int = |i: usize| match items.get(i) {
        Some((INTEGER, [v])) => Some(*v),
        _ => None,
    };
    let oid_in = |i: usize| match items.get(i) {
        Some((SEQUENCE, alg)) => match children(alg)?.first() {
            Some((OID, oid)) => Some(oid.to_vec()),
            _ => None,
        },
        _ => None,
    };
    let tag = |i: usize| items.get(i).map(|(t, _)| *t);
    match (small_int(0), items.len()) {
        // PrivateKeyInfo / OneAsymmetricKey: version, algorithm, the key.
        (Some(0 | 1), n) if n >= 3 && oid_in(1).is_some() && tag(2) == Some(OCTET_STRING) => {
            Some("DER PKCS#8 private key")
        }
        // ECPrivateKey: version 1, the key, [0] parameters, [1] public key.
        (Some(1), n) if n >= 2 && tag(1) == Some(OCTET_STRING) => Some("DER SEC1 EC private key"),
        // RSAPrivateKey (9 integers) and OpenSSL's DSA key (6): version 0, then integers.
        (Some(0), n) if n >= 6 && items.iter().all(|(t, _)| *t == INTEGER) => {
            Some("DER PKCS#1 RSA or DSA private key")
        }
        // PFX: version 3, authSafe (PKCS#7 data), MAC.
        (Some(3), n) if n >= 2 && tag(1) == Some(SEQUENCE) => {
            let auth_safe = children(items[1].1)?;
            matches!(auth_safe.first(), Some((OID, oid)) if *oid == PKCS7_DATA)
                .then_some("PKCS#12 (PFX)")
        }
        // EncryptedPrivateKeyInfo: a PKCS#5 or PKCS#12 encryption algorithm, the ciphertext.
        (None, 2) if tag(1) == Some(OCTET_STRING) => oid_in(0)
            .filter(|oid| oid.starts_with(PKCS5) || oid.starts_with(PKCS12_PBE))
            .map(|_| "DER encrypted PKCS#8 private key"),
        _ => None,
    }
}
