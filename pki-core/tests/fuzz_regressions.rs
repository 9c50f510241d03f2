//! The fuzz targets `certificate`, `private_key`, `csr`, `revoke_batch` and `register_url` on stable: every seed and every former
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

#[test]
fn revoke_batch_inputs_never_panic() {
    replay::replay("revoke_batch", harness::revoke_batch);
}

#[test]
fn register_url_inputs_never_show_the_password() {
    replay::replay("register_url", harness::register_url);
}
