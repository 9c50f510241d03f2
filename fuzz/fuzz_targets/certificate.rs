//! Certificates and bundles, PEM or DER, inspected as `pki show` does.
#![no_main]

#[allow(dead_code)]
#[path = "../harness/core.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::certificates(data);
});
