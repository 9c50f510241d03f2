//! The batch input reader (`pki issue device --batch FILE`): device ids or CSV.
#![no_main]

#[allow(dead_code)]
#[path = "../harness/batch.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../../pki-cli/src/batch/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::batch_input(data);
});
