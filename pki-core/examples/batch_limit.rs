//! The limit of batch issuing on this machine, for `bench/batch.sh`: a minimal in-process loop
//! on every core that generates each key with ring, signs each certificate with rcgen, and
//! writes its key and certificate PEM, nothing else (no validation, no manifest, no register, no
//! crash safety). With `--chain` it also writes each device's full chain (its certificate and
//! the CA's), the three files `pki issue device --batch` writes: the limit for the same output.
//!
//! Usage: cargo run --release -p pki-core --example batch_limit -- COUNT DIR [--chain]

use rayon::prelude::*;
use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "limit-out".into()));
    let chain = args.next().as_deref() == Some("--chain");
    std::fs::create_dir_all(&dir).expect("output directory");

    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "limit CA");
    let ca_pem = ca.self_signed(&ca_key).expect("CA certificate").pem();
    let issuer = Issuer::new(ca, ca_key);

    let start = std::time::Instant::now();
    (0..count).into_par_iter().for_each(|i| {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        p.distinguished_name
            .push(DnType::CommonName, format!("dev-{i}"));
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = p.signed_by(&key, &issuer).expect("sign");
        std::fs::write(dir.join(format!("dev-{i}.key.pem")), key.serialize_pem())
            .expect("write key");
        let cert_pem = cert.pem();
        std::fs::write(dir.join(format!("dev-{i}.cert.pem")), &cert_pem).expect("write cert");
        if chain {
            std::fs::write(
                dir.join(format!("dev-{i}.full-chain.cert.pem")),
                format!("{cert_pem}{ca_pem}"),
            )
            .expect("write chain");
        }
    });
    let secs = start.elapsed().as_secs_f64();
    println!("{count} {secs:.3} {:.0}", count as f64 / secs);
}
