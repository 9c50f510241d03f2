//! The systemd examples of docs/systemd (`pki-renew@.service`, `pki-renew@.timer`, and the
//! device's `pki-est-reenroll@.service`, `pki-est-reenroll@.timer`) pass `systemd-analyze
//! verify`, which needs no running systemd: it loads the units from a root directory holding
//! the system's own units and the built `pki` at /usr/local/bin/pki, where the units call it.
//! Without that binary the same check fails, so it does look. Each service's command line, with
//! its settings substituted as systemd splits it, is one pki parses and runs.

use std::path::{Path, PathBuf};

use crate::support::programs;
use crate::support::{Run, tmp};

/// docs/systemd/FILE.
fn unit(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/systemd")
        .join(file)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let kind = e.file_type().unwrap();
        if kind.is_symlink() {
            let target = std::fs::read_link(&src).unwrap();
            std::os::unix::fs::symlink(target, dst).unwrap();
        } else if kind.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// `systemd-analyze verify --root=ROOT UNITS...`.
fn analyze(root: &Path, units: &[&str]) -> Run {
    let out = programs::command("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root.display()))
        .args(units)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "systemd-analyze is required for this test and could not be run ({e}): \
                 Debian: apt-get install -y systemd (scripts/test.sh does)"
            )
        });
    Run::from(out)
}

#[test]
fn the_renewal_units_pass_systemd_analyze_verify() {
    units_pass_systemd_analyze_verify(
        &["pki-renew@.service", "pki-renew@.timer"],
        &["pki-renew@gateway.service", "pki-renew@gateway.timer"],
    );
}

#[test]
fn the_est_reenrolment_units_pass_systemd_analyze_verify() {
    units_pass_systemd_analyze_verify(
        &["pki-est-reenroll@.service", "pki-est-reenroll@.timer"],
        &[
            "pki-est-reenroll@agent.service",
            "pki-est-reenroll@agent.timer",
        ],
    );
}

/// docs/systemd's `files`, installed in a root with the system's units and pki, pass
/// `systemd-analyze verify` as `instances`; without pki, they fail naming it.
fn units_pass_systemd_analyze_verify(files: &[&str], instances: &[&str]) {
    let root = tmp();
    let r = root.path();
    // The system's units (sysinit.target, timers.target, network-online.target, ...).
    let system = Path::new("/usr/lib/systemd/system");
    assert!(
        system.is_dir(),
        "{} is missing: install systemd",
        system.display()
    );
    copy_dir(system, &r.join("usr/lib/systemd/system"));
    let etc = r.join("etc/systemd/system");
    std::fs::create_dir_all(&etc).unwrap();
    for f in files {
        std::fs::copy(unit(f), etc.join(f)).unwrap();
    }
    let bin = r.join("usr/local/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let pki = Path::new(env!("CARGO_BIN_EXE_pki"));
    if std::fs::hard_link(pki, bin.join("pki")).is_err() {
        std::fs::copy(pki, bin.join("pki")).unwrap();
    }
    let ok = analyze(r, instances);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(ok.stderr.is_empty(), "warnings:\n{}", ok.stderr);
    // Without pki where the units call it, verify fails: it checked the commands.
    std::fs::remove_file(bin.join("pki")).unwrap();
    let missing = analyze(r, instances);
    assert_ne!(missing.code, 0);
    assert!(
        missing
            .stderr
            .contains("/usr/local/bin/pki is not executable"),
        "{}",
        missing.stderr
    );
}

#[test]
fn the_service_renews_only_when_pki_needs_renewal_says_so_and_the_timer_has_jitter() {
    let service = std::fs::read_to_string(unit("pki-renew@.service")).unwrap();
    let timer = std::fs::read_to_string(unit("pki-renew@.timer")).unwrap();
    let lines = |text: &str, key: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with(&format!("{key}=")))
            .map(String::from)
            .collect()
    };
    assert_eq!(
        lines(&service, "ExecCondition"),
        ["ExecCondition=/usr/local/bin/pki needs-renewal ${CERT} --expires-in ${EXPIRES_IN}"]
    );
    assert_eq!(
        lines(&service, "ExecStart"),
        [
            "ExecStart=/usr/local/bin/pki renew ${CERT} --dir ${PKI_DIR} --exec ${EXEC} --verify ${VERIFY}"
        ]
    );
    assert_eq!(lines(&service, "Type"), ["Type=oneshot"]);
    // `%%` is a literal percent sign in a unit file: the default is pki's 66%.
    assert!(service.contains("Environment=EXPIRES_IN=66%%\n"));
    assert_eq!(lines(&timer, "Persistent"), ["Persistent=true"]);
    assert_eq!(lines(&timer, "RandomizedDelaySec").len(), 1);
}

#[test]
fn the_services_renew_line_runs_as_written() {
    // ExecStart= with the settings substituted, word by word as systemd splits it: pki parses
    // it and renews; the gateway does not answer, so it rolls back (exit 1, not a usage error).
    let service = std::fs::read_to_string(unit("pki-renew@.service")).unwrap();
    let line = service
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart=/usr/local/bin/pki "))
        .unwrap();
    let d = crate::support::quickstart::gateway_pki();
    let verify = format!("127.0.0.1:{}", crate::support::closed_port());
    let args: Vec<&str> = line
        .split_whitespace()
        .map(|w| match w {
            "${CERT}" => crate::support::quickstart::SERVER,
            "${PKI_DIR}" => "pki",
            "${EXEC}" => "true",
            "${VERIFY}" => verify.as_str(),
            w => w,
        })
        .collect();
    let r = crate::support::pki(d.path(), &args).expect(1);
    assert!(r.stdout.contains("ROLLED BACK"), "{}", r.stdout);
}

#[test]
fn the_est_service_reenrols_when_due_with_a_timer_that_has_jitter() {
    let service = std::fs::read_to_string(unit("pki-est-reenroll@.service")).unwrap();
    let timer = std::fs::read_to_string(unit("pki-est-reenroll@.timer")).unwrap();
    let lines = |text: &str, key: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with(&format!("{key}=")))
            .map(String::from)
            .collect()
    };
    assert_eq!(
        lines(&service, "ExecStart"),
        [
            "ExecStart=/usr/local/bin/pki est reenroll --server ${SERVER} --ca-file ${CA_FILE} --cert ${CERT} --key ${KEY} --expires-in ${EXPIRES_IN} --exec ${EXEC}"
        ]
    );
    assert_eq!(lines(&service, "Type"), ["Type=oneshot"]);
    assert!(service.contains("Environment=EXPIRES_IN=66%%\n"));
    assert_eq!(
        lines(&service, "EnvironmentFile"),
        ["EnvironmentFile=/etc/pki-est-reenroll/%i.env"]
    );
    assert_eq!(lines(&timer, "Persistent"), ["Persistent=true"]);
    assert_eq!(lines(&timer, "RandomizedDelaySec").len(), 1);
}

#[test]
fn the_est_services_line_runs_as_written() {
    // ExecStart= with the settings substituted, word by word as systemd splits it (`${VAR}` is
    // one word, spaces and all): pki parses it, and with a certificate issued today and 66% it
    // does nothing, exit 0, before it would reach the (closed) server.
    let service = std::fs::read_to_string(unit("pki-est-reenroll@.service")).unwrap();
    let line = service
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart=/usr/local/bin/pki "))
        .unwrap();
    let d = crate::support::quickstart::gateway_pki();
    let server = format!(
        "https://127.0.0.1:{}/.well-known/est/device",
        crate::support::closed_port()
    );
    let args: Vec<&str> = line
        .split_whitespace()
        .map(|w| match w {
            "${SERVER}" => server.as_str(),
            "${CA_FILE}" => crate::support::quickstart::ROOT,
            "${CERT}" => crate::support::quickstart::DEVICE,
            "${KEY}" => crate::support::quickstart::DEVICE_KEY,
            "${EXPIRES_IN}" => "66%",
            "${EXEC}" => "systemctl try-reload-or-restart my-agent.service",
            w => w,
        })
        .collect();
    let r = crate::support::pki(d.path(), &args).expect(0);
    assert!(
        r.stdout.starts_with("not due: downstream-device-1 "),
        "{}",
        r.stdout
    );
    // Due: it asks the server, which is not there: exit 2, one line.
    let due: Vec<&str> = args
        .iter()
        .map(|w| if *w == "66%" { "0%" } else { w })
        .collect();
    let r = crate::support::pki(d.path(), &due);
    crate::support::refused_in_one_line(&r, &due, "cannot be reached");
}
