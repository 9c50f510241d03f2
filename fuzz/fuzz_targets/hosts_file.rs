//! `pki scan` hosts files (pki-verify's `parse_hosts`).
#![no_main]

#[allow(dead_code)]
#[path = "../harness/verify.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::hosts_file(data);
});
