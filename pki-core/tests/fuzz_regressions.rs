//! The fuzz targets `certificate`, `private_key` and `csr` on stable: every seed and every former
//! crash input (fuzz/seeds/, fuzz/regressions/) through the same harness the fuzzer runs
//! (fuzz/harness/core.rs). `scripts/fuzz.sh` runs the fuzzers themselves.

#[path = "../../fuzz/harness/core.rs"]
mod harness;
#[path = "../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn certificate_inputs_never_panic() {
    replay::replay("certificate", harness::certificates);
}

#[test]
fn private_key_inputs_never_panic() {
    replay::replay("private_key", harness::private_key);
}

#[test]
fn csr_inputs_never_panic() {
    replay::replay("csr", harness::csr);
}
