//! The batch input reader (`pki issue device --batch FILE`): device ids or CSV.
#![no_main]

#[allow(dead_code)]
#[path = "../harness/batch.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::batch_input(data);
});
