//! What the tests that hold pki against the real `openssl verify` share: a fixture case's files
//! and options (testdata/verify/README.md describes the layout), those options as pki's
//! [`VerifyOptions`] and as `openssl verify` arguments, and running `openssl verify` itself.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use pki_verify::{ChainInput, CrlScope, NameToCheck, Purpose, VerifyOptions, verify};
use time::OffsetDateTime;

/// The case directories under `dir` (those holding a case.txt), by name, sorted.
pub(crate) fn case_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("case.txt").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A case's case.txt: `key=value` a line.
pub(crate) fn read_case(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(dir.join("case.txt"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// A case's leaf.pem, chain.pem and ca.pem as pki's input, with the CRLs of its crls.pem
/// where it has one (testdata/verify-crl).
pub(crate) fn input(dir: &Path) -> ChainInput {
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let input =
        ChainInput::from_pem(&read("leaf.pem"), &read("chain.pem"), &read("ca.pem")).unwrap();
    match crls(dir) {
        Some(path) => input.with_crls(pki_x509::read_crls(&read_path(&path), "crls.pem").unwrap()),
        None => input,
    }
}

fn read_path(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// A case's crls.pem, if it has one.
fn crls(dir: &Path) -> Option<std::path::PathBuf> {
    let path = dir.join("crls.pem");
    path.exists().then_some(path)
}

/// The options of a case, as our options and as `openssl verify` arguments. `online` says
/// whether a TLS server can serve the case, not how to verify it, and is skipped.
pub(crate) fn options(case: &BTreeMap<String, String>) -> (VerifyOptions, Vec<String>) {
    let attime: i64 = case["attime"].parse().unwrap();
    let mut opts = VerifyOptions::new(OffsetDateTime::from_unix_timestamp(attime).unwrap());
    let mut args = vec!["-attime".to_owned(), attime.to_string()];
    for (k, v) in case {
        match k.as_str() {
            "attime" | "online" => {}
            "crl_check_all" => opts.crl_scope = CrlScope::Chain,
            "purpose" => {
                opts.purpose = Some(match v.as_str() {
                    "sslserver" => Purpose::Server,
                    "sslclient" => Purpose::Client,
                    "any" => Purpose::Any,
                    other => panic!("unknown purpose {other}"),
                });
                args.extend(["-purpose".to_owned(), v.clone()]);
            }
            "hostname" => {
                opts.name = Some(NameToCheck::Dns(v.clone()));
                args.extend(["-verify_hostname".to_owned(), v.clone()]);
            }
            "ip" => {
                opts.name = Some(NameToCheck::Ip(v.parse::<IpAddr>().unwrap()));
                args.extend(["-verify_ip".to_owned(), v.clone()]);
            }
            "auth_level" => {
                opts.auth_level = v.parse().unwrap();
                args.extend(["-auth_level".to_owned(), v.clone()]);
            }
            other => panic!("unknown case option {other}"),
        }
    }
    (opts, args)
}

/// Whether the case's case.txt says `crl_check_all=yes`.
fn case_has_crl_check_all(dir: &Path) -> bool {
    read_case(dir)
        .get("crl_check_all")
        .is_some_and(|v| v == "yes")
}

/// What `openssl verify` printed for the case in `dir`: every `error N at D depth lookup: TEXT`,
/// in order. `name` names the case in assertion messages.
pub(crate) fn openssl_verify(name: &str, dir: &Path, args: &[String]) -> Vec<(i32, u32, String)> {
    let mut cmd = Command::new("openssl");
    // Only the case's anchors: never the system's default CA file, directory or store.
    cmd.args(["verify", "-no-CApath", "-no-CAstore"]);
    if std::fs::metadata(dir.join("ca.pem")).unwrap().len() > 0 {
        cmd.arg("-CAfile").arg(dir.join("ca.pem"));
    } else {
        cmd.arg("-no-CAfile");
    }
    if std::fs::metadata(dir.join("chain.pem")).unwrap().len() > 0 {
        cmd.arg("-untrusted").arg(dir.join("chain.pem"));
    }
    if let Some(path) = crls(dir) {
        let all = case_has_crl_check_all(dir);
        cmd.arg(if all { "-crl_check_all" } else { "-crl_check" });
        cmd.arg("-CRLfile").arg(path);
    }
    cmd.args(args).arg(dir.join("leaf.pem"));
    let out = cmd
        .output()
        .expect("the `openssl` binary is required for this test (apt-get install openssl)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let errors: Vec<(i32, u32, String)> = text
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("error ")?;
            let (n, rest) = rest.split_once(" at ")?;
            let (d, rest) = rest.split_once(" depth lookup: ")?;
            Some((n.parse().ok()?, d.parse().ok()?, rest.to_owned()))
        })
        .collect();
    if errors.is_empty() {
        assert!(
            out.status.success() && text.contains(": OK"),
            "{name}: openssl verify printed neither OK nor an error:\n{text}"
        );
    } else {
        assert!(!out.status.success(), "{name}: errors but exit 0:\n{text}");
    }
    errors
}

/// Whether pki's OpenSSL verdict on the case in `dir` is what `openssl verify` says with `args`:
/// the same first code, depth and wording, and the same list of printed errors. `Err` says how
/// they differ, or that pki gave no verdict.
pub(crate) fn check_against_openssl(
    name: &str,
    dir: &Path,
    opts: &VerifyOptions,
    args: &[String],
) -> Result<(), String> {
    let expected = openssl_verify(name, dir, args);
    let report = verify(&input(dir), opts).map_err(|e| format!("{name}: {e}"))?;
    let ours: Vec<(i32, u32, String)> = report
        .openssl
        .verify_command_errors()
        .iter()
        .map(|e| (e.code.number(), e.depth, e.text.to_owned()))
        .collect();
    let first = expected.first().map(|(c, d, t)| (*c, Some(*d), t.as_str()));
    let got = (
        report.openssl.code.number(),
        report.openssl.depth,
        report.openssl.text,
    );
    if first.unwrap_or((0, None, "ok")) != got || ours != expected {
        return Err(format!(
            "{name} {args:?}: openssl says {expected:?}, we say {ours:?} (first {got:?})"
        ));
    }
    Ok(())
}
