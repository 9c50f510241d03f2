//! `--register` URLs: the password is never shown (pki-register's `Location`).
#![no_main]

#[allow(dead_code)]
#[path = "../harness/core.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::register_url(data);
});
