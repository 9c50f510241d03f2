//! The fuzz target `batch_input` on stable: every seed and every former crash input
//! (fuzz/seeds/, fuzz/regressions/) through the same harness the fuzzer runs
//! (fuzz/harness/batch.rs).

#[path = "../../fuzz/harness/batch.rs"]
mod batch;
#[path = "../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn batch_input_inputs_never_panic() {
    replay::replay("batch_input", batch::batch_input);
}
