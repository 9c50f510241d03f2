//! Offline chain verification (OpenSSL model, webpki, diagnosis, name check) of fuzzed DER.
#![no_main]

#[allow(dead_code)]
#[path = "../harness/verify.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::verify_chain(data);
});
