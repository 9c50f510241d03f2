//! The fuzz targets `batch_input` and `c8y_json` on stable: every seed and every former crash
//! input (fuzz/seeds/, fuzz/regressions/) through the same harness the fuzzer runs
//! (fuzz/harness/batch.rs, fuzz/harness/c8y.rs). pki-cli is a binary crate, so the modules under
//! test are compiled in by path, exactly as in the fuzz targets.

#[allow(dead_code)]
#[path = "../src/batch/input.rs"]
mod input;
#[allow(dead_code)]
#[path = "../src/c8y/model.rs"]
mod model;
#[allow(dead_code)]
#[path = "../src/c8y/pop.rs"]
mod pop;

#[path = "../../fuzz/harness/batch.rs"]
mod batch;
#[path = "../../fuzz/harness/c8y.rs"]
mod c8y;
#[path = "../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn batch_input_inputs_never_panic() {
    replay::replay("batch_input", batch::batch_input);
}

#[test]
fn c8y_json_inputs_never_panic() {
    replay::replay("c8y_json", c8y::c8y_json);
}
