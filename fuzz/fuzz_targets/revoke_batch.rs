//! `pki revoke --batch` files (pki-core's `read_batch`).
#![no_main]

#[allow(dead_code)]
#[path = "../harness/core.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::revoke_batch(data);
});
