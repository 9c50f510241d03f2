//! What the unit tests share: certificate chains, CSRs, and OpenSSL as the oracle.

use pki_core::{Certificate, KeyType, PrivateKey, SanEntry, Subject};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A chain of `n` certificates, leaf first, its root last (`n == 1`: a self-signed leaf).
pub(crate) fn chain(n: usize) -> Vec<Certificate> {
    let params = |cn: &str, ca: bool| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        if ca {
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        p
    };
    let root_key = KeyPair::generate().unwrap();
    let root_params = params(&format!("root of {n}"), n > 1);
    let mut certs = vec![root_params.self_signed(&root_key).unwrap()];
    let mut issuer = Issuer::new(root_params, root_key);
    for i in 1..n {
        let key = KeyPair::generate().unwrap();
        let p = params(&format!("level {i} of {n}"), i + 1 < n);
        certs.push(p.signed_by(&key, &issuer).unwrap());
        issuer = Issuer::new(p, key);
    }
    certs
        .iter()
        .rev()
        .map(|c| Certificate::from_der(c.der().to_vec(), "rcgen").unwrap())
        .collect()
}

/// A CSR's DER for a new key of `key_type` asking for this CN and these SANs.
pub(crate) fn csr_der(key_type: KeyType, cn: &str, sans: &[&str]) -> Vec<u8> {
    let key = PrivateKey::generate(key_type).unwrap();
    let sans: Vec<SanEntry> = sans.iter().map(|s| s.parse().unwrap()).collect();
    let pem = pki_core::create_csr(&Subject::cn(cn), &sans, &key).unwrap();
    pem_contents(&pem)
}

/// The contents of the one PEM block of `pem`.
fn pem_contents(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    crate::body::decode(body.as_bytes()).unwrap()
}

/// Runs `openssl ARGS` with `stdin` on its standard input; asserts it succeeds, returns stdout.
#[cfg(unix)] // openssl: see the tests that call it
pub(crate) fn openssl_out(args: &[&str], stdin: &[u8]) -> String {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = pki_testkit::programs::command("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
