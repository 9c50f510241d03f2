//! Files the user names are read with a bound (issue 23, finding 3): a FIFO, a device such as
//! `/dev/zero`, a directory or a file larger than its kind's limit, given to any command that
//! reads a certificate, CRL, CSR, hosts file, key, password or PIN, is refused in one line
//! naming it, within seconds and without growing pki's memory.

#![cfg(unix)] // FIFOs, devices and `ulimit`

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::softhsm;
use crate::support::{
    Run, openssl, pki, pki_in_shell, programs, refused_in_one_line, run_bounded, tmp,
};

const DEV_CERT: &str = "pki/certs/iot-device-dev-1.cert.pem";
const DEV_KEY: &str = "pki/private/iot-device-dev-1.key.pem";
const ROOT: &str = "pki/certs/azure-iot-test-only.root.ca.cert.pem";
/// The token's PIN (SoftHSM2).
const PIN: &str = "1234";

/// The bad inputs, made in `p`: what each is, its name (relative to `p`, as given to pki), and
/// the words of the refusal.
fn bad_inputs(p: &Path) -> Vec<(&'static str, &'static str, &'static str)> {
    let fifo = p.join("fifo");
    let made = programs::command("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo {fifo:?}");
    // 20 MiB of valid certificates: read whole, it would be taken.
    let cert = std::fs::read(p.join(DEV_CERT)).unwrap();
    let big = cert.repeat((20 << 20) / cert.len() + 1);
    std::fs::write(p.join("big.pem"), big).unwrap();
    vec![
        ("a device", "/dev/zero", "not a regular file"),
        ("a FIFO nobody writes to", "fifo", "not a regular file"),
        ("a directory", "pki", "not a regular file"),
        ("a 20 MiB file", "big.pem", "larger than"),
    ]
}

/// `pki ARGS` in `cwd` with its address space capped (1 GiB) and a deadline (20 s), with
/// `env` set.
fn pki_bounded(cwd: &Path, args: &[&str], env: &[(&str, &Path)]) -> (Run, Duration) {
    let mut cmd = pki_in_shell(cwd, "ulimit -v 1048576", args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let run = run_bounded(cmd, b"", Duration::from_secs(20)).unwrap_or(Run {
        code: -1,
        stdout: String::new(),
        stderr: format!("pki {args:?} still ran after 20 s"),
    });
    (run, start.elapsed())
}

#[test]
fn every_named_input_that_is_a_fifo_a_device_a_directory_or_huge_is_refused_in_one_line() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    pki(p, &["issue", "device", "dev-1"]).expect(0);
    std::fs::write(p.join("pw.txt"), "store-password\n").unwrap();
    std::fs::write(p.join("cacerts"), b"").unwrap();
    // A CA certificate with an encrypted key, to import (its password from a file).
    openssl(
        p,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-keyout",
            "enc.key",
            "-passout",
            "pass:secret",
            "-subj",
            "/CN=Imported Root",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            "imp.pem",
        ],
    )
    .expect(0);
    let conf = softhsm::init_token(p, PIN, "5555999911");
    let module = softhsm::module();
    let hsm_env = [
        ("SOFTHSM2_CONF", conf.as_path()),
        ("PKI_PKCS11_MODULE", &module),
    ];
    let tenant = ["--url", "https://127.0.0.1:1", "--user", "u"];
    let bad = "BAD";
    // Each command, with BAD where the bad input goes.
    let cases: Vec<Vec<&str>> = vec![
        // Certificates, CRLs, CSRs, hosts files.
        vec!["show", bad],
        vec!["verify", "--chain", bad],
        vec!["verify", "--chain", DEV_CERT, "--ca-file", bad],
        vec!["verify", "--chain", DEV_CERT, "--untrusted", bad],
        vec!["verify", "--chain", DEV_CERT, "--crl", bad],
        vec!["verify", "127.0.0.1:1", "--cert", bad, "--key", DEV_KEY],
        vec!["needs-renewal", bad],
        vec!["renew", bad],
        vec!["export", bad, "--pem", "out.pem"],
        vec!["scan", bad],
        vec!["csr", "sign", bad, "--profile", "device"],
        vec![
            "create-owner-ca",
            "--dir",
            "imported",
            "--import",
            bad,
            "--key",
            "enc.key",
        ],
        [
            &["c8y", "upload", bad][..],
            &tenant,
            &["--password-file", "pw.txt"],
        ]
        .concat(),
        vec!["install-ca", bad, "--os-store", "--dry-run"],
        // Keys.
        vec!["verify", "127.0.0.1:1", "--cert", DEV_CERT, "--key", bad],
        vec!["show", DEV_CERT, "--key", bad],
        vec![
            "export",
            DEV_CERT,
            "--p12",
            "o.p12",
            "--key",
            bad,
            "--no-password",
        ],
        vec![
            "create-owner-ca",
            "--dir",
            "imported",
            "--import",
            "imp.pem",
            "--key",
            bad,
        ],
        // Passwords and PINs.
        [
            &["c8y", "upload", DEV_CERT][..],
            &tenant,
            &["--password-file", bad],
        ]
        .concat(),
        vec!["export", DEV_CERT, "--p12", "o.p12", "--password-file", bad],
        vec![
            "install-ca",
            ROOT,
            "--java",
            "--cacerts",
            "cacerts",
            "--storepass-file",
            bad,
        ],
        vec![
            "create-owner-ca",
            "--dir",
            "imported",
            "--import",
            "imp.pem",
            "--key",
            "enc.key",
            "--key-password-file",
            bad,
        ],
        vec![
            "create-owner-ca",
            "--dir",
            "tok",
            "--key-on",
            "pkcs11:token=pki;object=root?pin-source=file:BAD",
        ],
    ];
    let mut failures = Vec::new();
    for (what, input, says) in bad_inputs(p) {
        for case in &cases {
            let args: Vec<String> = case.iter().map(|a| a.replace(bad, input)).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let env: &[(&str, &Path)] = if args[1] == "--dir" && args[2] == "tok" {
                &hsm_env
            } else {
                &[]
            };
            let (r, took) = pki_bounded(p, &args, env);
            let check = std::panic::catch_unwind(|| {
                refused_in_one_line(&r, &args, says);
                let mut lines = r.stderr.lines();
                let first = lines.next().unwrap_or_default();
                assert!(
                    first.contains(input),
                    "{args:?}: {first:?} does not name {input}"
                );
                for more in lines {
                    assert!(
                        more.starts_with("hint: "),
                        "{args:?}: a second line: {}",
                        r.stderr
                    );
                }
                assert!(took < Duration::from_secs(10), "{args:?} took {took:?}");
            });
            if check.is_err() {
                failures.push(format!(
                    "{what}: {args:?}: exit {}: {}",
                    r.code,
                    r.stderr.trim()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
