//! Private keys: PKCS#8, SEC1, PKCS#1, encrypted PKCS#8 (fixed password), PEM or DER.
#![no_main]

#[allow(dead_code)]
#[path = "../harness/core.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::private_key(data);
});
