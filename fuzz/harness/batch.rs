//! The fuzz harness of the batch input reader (`pki issue device --batch FILE`,
//! pki-batch's input reader): one device id a line, or CSV with a `device_id` header.
//!
//! The reader is pki-batch's public `Reader`; this file is compiled into the cargo-fuzz target
//! and into the stable regression test `pki-batch/tests/fuzz_regressions.rs`.

use std::collections::HashSet;

use pki_batch::{Item, Reader};

/// Reads every item as the batch engine does (a line that is not UTF-8, or longer than the
/// line bound, is a rejected line; only an I/O error stops the batch). Every device it yields is one the engine may issue: a valid, unique id,
/// valid SANs, a positive validity; line numbers rise. Accepted: read to the end.
pub(crate) fn batch_input(data: &[u8]) -> bool {
    let lines = data.split(|b| *b == b'\n').count() - usize::from(data.ends_with(b"\n"));
    let mut reader = Reader::new(data);
    let mut last_line = 0;
    let mut ids = HashSet::new();
    loop {
        let line = match reader.next_item() {
            Err(_) => return false,
            Ok(None) => break,
            Ok(Some(Item::Device(e))) => {
                pki_core::validate_device_id(&e.device_id).expect("a yielded id is valid");
                assert!(
                    ids.insert(e.device_id.clone()),
                    "{:?} yielded twice",
                    e.device_id
                );
                for san in &e.sans {
                    san.parse::<pki_core::SanEntry>()
                        .expect("a yielded SAN is valid");
                }
                assert_ne!(e.days, Some(0), "zero days yielded");
                e.line
            }
            Ok(Some(Item::Rejected(r))) => {
                assert!(!r.reason.to_string().is_empty(), "a rejection says why");
                assert!(
                    r.device_id.chars().count() <= 65,
                    "a rejected id is shown whole: {} chars",
                    r.device_id.chars().count()
                );
                r.line
            }
        };
        assert!(line > last_line, "line {line} after line {last_line}");
        last_line = line;
    }
    assert!(last_line <= lines, "line {last_line} of {lines}");
    true
}
