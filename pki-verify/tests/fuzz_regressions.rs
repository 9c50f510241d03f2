//! The fuzz targets `connection_string`, `hosts_file`, `verify_chain` and `signature` on stable: every seed
//! and every former crash input (fuzz/seeds/, fuzz/regressions/) through the same harness the
//! fuzzer runs (fuzz/harness/verify.rs). `scripts/fuzz.sh` runs the fuzzers themselves.

#[path = "../../fuzz/harness/verify.rs"]
mod harness;
#[path = "../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn connection_string_inputs_never_panic() {
    replay::replay("connection_string", harness::connection_string);
}

#[test]
fn hosts_file_inputs_never_panic() {
    replay::replay("hosts_file", harness::hosts_file);
}

#[test]
fn verify_chain_inputs_never_panic() {
    replay::replay("verify_chain", harness::verify_chain);
}

#[test]
fn signature_inputs_never_panic() {
    replay::replay("signature", harness::signature);
}
