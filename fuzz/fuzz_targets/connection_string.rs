//! Azure IoT connection strings (`pki verify --connection-string`).
#![no_main]

#[allow(dead_code)]
#[path = "../harness/verify.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::connection_string(data);
});
