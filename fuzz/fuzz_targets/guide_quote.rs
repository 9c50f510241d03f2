//! `pki guide`'s escapers (pki-cli/src/quote.rs): every language's literal of any value reads
//! back as the value.
#![no_main]

#[allow(dead_code)]
#[path = "../../pki-cli/src/quote.rs"]
mod quote;

#[allow(dead_code)]
#[path = "../harness/guide.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::guide_quote(data);
});
