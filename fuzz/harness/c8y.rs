//! The fuzz harness of the Cumulocity tenant's JSON answers (pki-cli/src/c8y/model.rs), read as
//! the client and the `pki c8y` commands read them, and the proof-of-possession signature over
//! the verification code a tenant sends (pki-cli/src/c8y/pop.rs).
//!
//! pki-cli is a binary crate, so its modules are compiled in by path (`#[path] mod model;` and
//! `mod pop;` beside this module) both in the cargo-fuzz target and in the stable regression
//! test `pki-cli/tests/fuzz_regressions.rs`; this file is compiled into both too.

use std::sync::OnceLock;

use base64::Engine;
use serde_json::Value;

use crate::model::{CurrentTenant, ErrorBody, TrustedCertificate};

/// One answer body. The client decodes the text lossily and keeps `Null` for what is not JSON;
/// the commands read the tenant id, the error document, a trusted certificate, a page of them,
/// and sign a verification code. Accepted: the body is JSON.
pub(crate) fn c8y_json(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let _ = serde_json::from_value::<CurrentTenant>(body.clone());
    let error: ErrorBody = serde_json::from_value(body.clone()).unwrap_or_default();
    let _ = (error.error, error.message);
    let mut answers = vec![TrustedCertificate::of(&body)];
    if let Some(Value::Array(page)) = body.get("certificates") {
        answers.extend(page.iter().map(TrustedCertificate::of));
    }
    for c in answers {
        let _ = c.status.map(|s| s.to_string());
        if let Some(code) = c
            .proof_of_possession_unsigned_verification_code
            .filter(|c| !c.is_empty())
        {
            let (key, public) = pop_key();
            let signed = crate::pop::sign_code(key, &code, "key").expect("P-256 signs any code");
            let signature = base64::engine::general_purpose::STANDARD
                .decode(signed)
                .expect("the signature is base64");
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_ASN1,
                public,
            )
            .verify(code.as_bytes(), &signature)
            .expect("the signature verifies over the code's bytes");
        }
    }
    // `--json` prints the answer unchanged.
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
