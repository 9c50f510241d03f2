//! One certificate signature checked with an issuer's key (`signature::check`, every algorithm
//! OpenSSL 3.0 verifies): arbitrary DER, or a fixture with its key parameters, point,
//! signature or algorithm parameters overwritten (fuzz/harness/verify.rs, `signature`).
#![no_main]

#[allow(dead_code)]
#[path = "../harness/verify.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::signature(data);
});
