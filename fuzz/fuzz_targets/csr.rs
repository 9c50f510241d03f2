//! CSRs: parsed, signature checked, and signed by a CA as `pki csr sign` does.
#![no_main]

#[allow(dead_code)]
#[path = "../harness/core.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::csr(data);
});
