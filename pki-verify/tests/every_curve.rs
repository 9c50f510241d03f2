//! pki's OpenSSL verdict equals `openssl verify`'s for a CA key on every curve the installed
//! OpenSSL names (`openssl ecparam -list_curves`: prime and binary fields, SM2, the Oakley
//! curves), with its parameters named and explicit: a self-signed CA on the curve signs a P-256
//! leaf with ECDSA SHA-256, all made by `openssl` at test time in a temporary directory, and the
//! two verdicts are compared at the default level and at `-auth_level 1` and `2` (curve sizes).
//! Where openssl refuses to make a key or certificate on a curve, the curve is left out; most
//! must be compared.
// Tests start the programs they check against (openssl, peers, pki itself) directly, with
// environments of their own; pki itself makes children only through `pki_x509::child_command`.
#![allow(clippy::disallowed_methods)]

#[allow(dead_code)] // case_names: the fixture suites use it, this test makes its own cases.
mod common;

use std::path::Path;
use std::process::Command;

/// The curve names `openssl ecparam -list_curves` prints.
fn curve_names() -> Vec<String> {
    let out = Command::new("openssl")
        .args(["ecparam", "-list_curves"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(':'))
        .filter_map(|l| l.split(':').next())
        .map(|n| n.trim().to_owned())
        .collect()
}

/// Runs openssl in `dir`; whether it succeeded.
fn openssl(dir: &Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Writes a case (CA on `curve`, P-256 leaf) into `dir`; `false` when openssl refuses a step.
fn make_case(dir: &Path, curve: &str, explicit: bool, attime: i64) -> bool {
    let param = format!("ec_paramgen_curve:{curve}");
    // An SM2 key is made as one (genpkey refuses the SM2 curve for an EC key).
    let keygen: &[&str] = match curve {
        "SM2" => &["genpkey", "-algorithm", "SM2", "-out", "named.key"],
        _ => &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            &param,
            "-out",
            "named.key",
        ],
    };
    let encoding = if explicit { "explicit" } else { "named_curve" };
    let made = openssl(dir, keygen)
        && openssl(
            dir,
            &[
                "pkey",
                "-in",
                "named.key",
                "-ec_param_enc",
                encoding,
                "-out",
                "ca.key",
            ],
        )
        && openssl(
            dir,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-subj",
                "/CN=Curve CA",
                "-sha256",
                "-days",
                "3650",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
                "-out",
                "ca.pem",
            ],
        )
        && openssl(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "leaf.key",
            ],
        )
        && openssl(
            dir,
            &[
                "req", "-new", "-key", "leaf.key", "-subj", "/CN=leaf", "-out", "leaf.csr",
            ],
        )
        && openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-sha256",
                "-days",
                "365",
                "-set_serial",
                "2",
                "-out",
                "leaf.pem",
            ],
        ); // fmt: skip
    made && std::fs::write(dir.join("chain.pem"), "").is_ok()
        && std::fs::write(dir.join("case.txt"), format!("attime={attime}\n")).is_ok()
}

#[test]
fn pki_and_openssl_verify_agree_on_a_ca_key_on_every_curve_openssl_names() {
    let curves = curve_names();
    assert!(curves.len() >= 80, "openssl lists only {curves:?}");
    let tmp = tempfile::tempdir().unwrap();
    let attime = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let jobs: Vec<(String, bool)> = curves
        .iter()
        .flat_map(|c| [(c.clone(), false), (c.clone(), true)])
        .collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let chunk = jobs.len().div_ceil(threads);
    let results: Vec<(usize, Vec<String>, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| {
                let root = tmp.path();
                s.spawn(move || {
                    let (mut compared, mut refused, mut failures) = (0, Vec::new(), Vec::new());
                    for (curve, explicit) in part {
                        let name =
                            format!("{curve}-{}", if *explicit { "explicit" } else { "named" });
                        let dir = root.join(&name);
                        std::fs::create_dir(&dir).unwrap();
                        if !make_case(&dir, curve, *explicit, attime) {
                            refused.push(name);
                            continue;
                        }
                        compared += 1;
                        for level in [None, Some(1), Some(2)] {
                            let mut options = common::read_case(&dir);
                            if let Some(level) = level {
                                options.insert("auth_level".to_owned(), format!("{level}"));
                            }
                            let (opts, args) = common::options(&options);
                            if let Err(e) = common::check_against_openssl(&name, &dir, &opts, &args)
                            {
                                failures.push(e);
                            }
                        }
                    }
                    (compared, refused, failures)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let compared: usize = results.iter().map(|r| r.0).sum();
    let refused: Vec<&String> = results.iter().flat_map(|r| &r.1).collect();
    let failures: Vec<&String> = results.iter().flat_map(|r| &r.2).collect();
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    ); // fmt: skip
    assert!(
        compared >= jobs.len() * 3 / 4,
        "only {compared} of {} compared; openssl refused {refused:?}",
        jobs.len()
    );
}
