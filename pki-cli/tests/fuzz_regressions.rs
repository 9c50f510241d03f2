//! The fuzz target `guide_quote` on stable: every seed and every former crash input
//! (fuzz/seeds/, fuzz/regressions/) through the same harness the fuzzer runs
//! (fuzz/harness/guide.rs), against the same escapers, compiled in by path as the fuzz target
//! does (pki-cli is a binary, with no library to link): the shipped source (src/quote.rs)
//! includes nothing of the fuzz harness, only this test reaches it. `scripts/fuzz.sh` runs the
//! fuzzer itself.

// The escapers the harness calls; `pki guide` uses the others.
#[allow(dead_code)]
#[path = "../src/quote.rs"]
mod quote;

#[path = "../../fuzz/harness/guide.rs"]
mod harness;
#[path = "../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn guide_quote_fuzz_inputs_read_back_in_every_language() {
    replay::replay("guide_quote", harness::guide_quote);
}
