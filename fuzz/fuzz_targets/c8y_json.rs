//! The Cumulocity tenant's JSON answers, read as pki-c8y's client reads them.
#![no_main]

#[allow(dead_code)]
#[path = "../harness/c8y.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::c8y_json(data);
});
