//! The fuzz harness of a Cumulocity tenant's JSON answers, read with pki-c8y's document types as
//! its client reads them (pki-c8y/src/model.rs), and the proof-of-possession signature over the
//! verification code a tenant sends (pki-c8y/src/pop.rs).
//!
//! Compiled into the cargo-fuzz target and, by `#[path]`, into the stable regression test
//! `pki-c8y/tests/fuzz_regressions.rs`.

use std::sync::OnceLock;

use pki_c8y::{CaKey, CurrentTenant, ErrorBody, Signer, TrustedCert, VerificationCode};
use serde_json::Value;

/// One answer body. The client decodes the text lossily and keeps `Null` for what is not JSON;
/// a session reads the tenant id, the error document, a trusted certificate, a page of them,
/// and signs a verification code. Accepted: the body is JSON.
pub(crate) fn c8y_json(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let _ = serde_json::from_value::<CurrentTenant>(body.clone());
    let error: ErrorBody = serde_json::from_value(body.clone()).unwrap_or_default();
    let _ = (error.error, error.message);
    let mut answers = vec![TrustedCert::from_answer(body.clone())];
    if let Some(Value::Array(page)) = body.get("certificates") {
        answers.extend(page.iter().cloned().map(TrustedCert::from_answer));
    }
    for c in answers {
        let _ = c.status.map(|s| s.to_string());
        // `--json` prints the answer unchanged.
        let shown = serde_json::to_value(&c).expect("a trusted certificate serialises");
        assert_eq!(
            &shown,
            c.raw(),
            "a trusted certificate serialises as the answer"
        );
    }
    if let Some(code) = VerificationCode::of(&body) {
        // The session signs only a code that is one; the signer must sign any bytes.
        let _ = pki_core::is_verification_code(&code);
        let (key, public) = pop_key();
        let signer = CaKey::new(key, "key").expect("a P-256 key proves possession");
        let signature = signer
            .sign_sha256(code.as_bytes())
            .expect("P-256 signs any code");
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, public)
            .verify(code.as_bytes(), &signature)
            .expect("the signature verifies over the code's bytes");
    }
    serde_json::to_string(&body).expect("a JSON value serialises");
    !body.is_null()
}

/// The key that proves possession, made once, and its public key.
fn pop_key() -> &'static (pki_core::PrivateKey, Vec<u8>) {
    static KEY: OnceLock<(pki_core::PrivateKey, Vec<u8>)> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = pki_core::PrivateKey::generate(pki_core::KeyType::EcP256).expect("P-256 key");
        let public = key.public_key_raw().expect("public key");
        (key, public)
    })
}
