//! The Cumulocity tenant's JSON answers, read as the `pki c8y` commands read them.
#![no_main]

#[allow(dead_code)]
#[path = "../harness/c8y.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../../pki-cli/src/c8y/model.rs"]
mod model;
#[allow(dead_code)]
#[path = "../../pki-cli/src/c8y/pop.rs"]
mod pop;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::c8y_json(data);
});
