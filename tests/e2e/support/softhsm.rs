//! A SoftHSM2 token of a test's own: its configuration under the test's directory, one token
//! labelled `pki`, and Debian's module (found through tests/programs.txt).

use std::path::{Path, PathBuf};

use super::programs;

/// Debian's SoftHSM2 PKCS#11 module.
pub(crate) fn module() -> PathBuf {
    programs::path("libsofthsm2.so")
}

/// Initialises a token labelled `pki` (user PIN `pin`, SO PIN `so_pin`) in a SoftHSM2 whose
/// tokens live in `dir/tokens`: the path of its configuration file, for `SOFTHSM2_CONF`.
pub(crate) fn init_token(dir: &Path, pin: &str, so_pin: &str) -> PathBuf {
    let tokens = dir.join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let out = programs::command("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args(["--init-token", "--free", "--label", "pki", "--pin", pin])
        .args(["--so-pin", so_pin])
        .output()
        .expect("softhsm2-util is required for these tests");
    assert!(out.status.success(), "{out:?}");
    conf
}
