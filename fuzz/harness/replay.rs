//! Replays a fuzz target's committed inputs through its harness, on stable, in the normal test
//! run: compiled by `#[path]` into the `fuzz_regressions` test of pki-core, pki-verify, pki-c8y,
//! pki-batch and pki-cli.

use std::path::{Path, PathBuf};

/// Runs every file of `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/` through `run`.
/// None may panic. A seed must be accepted, unless its name starts with `bad-`: then it must be
/// refused (so a seed that silently stops reaching the code it was made for fails the test).
/// A regression input (a former crash, timeout or OOM) may be either.
pub(crate) fn replay(target: &str, run: fn(&[u8]) -> bool) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let seeds = files(&fuzz.join("seeds").join(target));
    assert!(
        seeds.len() >= 3,
        "{target}: too few seeds in fuzz/seeds/{target}"
    );
    let regressions = files(&fuzz.join("regressions").join(target));
    let mut failures = Vec::new();
    for (path, is_seed) in seeds
        .iter()
        .map(|p| (p, true))
        .chain(regressions.iter().map(|p| (p, false)))
    {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        match std::panic::catch_unwind(|| run(&data)) {
            Err(_) => failures.push(format!("{}: panicked", path.display())),
            Ok(accepted) if is_seed && accepted == name.starts_with("bad-") => {
                failures.push(format!(
                    "{}: {} (a seed named bad-* must be refused, any other accepted)",
                    path.display(),
                    if accepted { "accepted" } else { "refused" }
                ))
            }
            Ok(_) => {}
        }
    }
    assert!(failures.is_empty(), "{target}:\n{}", failures.join("\n"));
}

/// The files of a directory, sorted (none when it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.is_file());
    v.sort();
    v
}
