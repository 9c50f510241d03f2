//! The fuzz target `c8y_json` on stable: every seed and every former crash input (fuzz/seeds/,
//! fuzz/regressions/) through the same harness the fuzzer runs (fuzz/harness/c8y.rs).
//! `scripts/fuzz.sh` runs the fuzzer itself.

#[path = "../../fuzz/harness/c8y.rs"]
mod harness;
#[path = "../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn c8y_json_inputs_never_panic() {
    replay::replay("c8y_json", harness::c8y_json);
}
