//! The register: build agents sharing one CA through a real PostgreSQL, `pki list` and its
//! filters, and registers that cannot be used (unreachable, not a register).

use std::collections::HashSet;
use std::process::Stdio;

use crate::support::lot::{ca, manifest};
use crate::support::programs;
use crate::support::{
    Postgres, fails_cleanly, pki, pki_env, register_lines, register_rows, tmp, tree,
};

#[test]
fn two_agents_issue_from_one_ca_into_one_postgres_register_at_once() {
    let pg = Postgres::start();
    let url = pg.url();
    let d = tmp();
    let (a, b) = (d.path().join("agent-a"), d.path().join("agent-b"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    pki_env(&a, &["create-owner-ca"], &[("PKI_REGISTER", &url)]).expect(0);
    pki(&a, &["--register", &url, "create-intermediate-ca"]).expect(0);
    // The second agent has a copy of the CA directory (its keys), and the same register.
    let copied = programs::command("cp")
        .arg("-a")
        .arg(a.join("pki"))
        .arg(&b)
        .status()
        .unwrap();
    assert!(copied.success());
    const N: usize = 300;
    for (dir, tag) in [(&a, "a"), (&b, "b")] {
        let ids: Vec<String> = (0..N).map(|i| format!("{tag}-{i:05}")).collect();
        std::fs::write(dir.join("lot.txt"), ids.join("\n") + "\n").unwrap();
    }
    // Both batches, and single issues on the side, at the same time.
    let batches: Vec<_> = [&a, &b]
        .iter()
        .map(|dir| {
            programs::built(env!("CARGO_BIN_EXE_pki"))
                .current_dir(dir)
                .args(["--register", &url, "issue", "device", "--batch", "lot.txt"])
                .env_remove("PKI_DIR")
                .env_remove("PKI_REGISTER")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for i in 0..10 {
        let dir = if i % 2 == 0 { &a } else { &b };
        pki(
            dir,
            &[
                "--register",
                &url,
                "issue",
                "device",
                &format!("single-{i}"),
            ],
        )
        .expect(0);
    }
    for c in batches {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Every certificate of both agents is there once, and no serial twice.
    let all = register_rows(&a, &["--register", &url]);
    assert_eq!(all.len(), 2 + 2 * N + 10);
    let serials: HashSet<&str> = all.iter().map(|r| r["serial"].as_str().unwrap()).collect();
    assert_eq!(serials.len(), all.len(), "a serial twice");
    for dir in [&a, &b] {
        for line in manifest(&dir.join("pki/manifest.jsonl")) {
            assert!(serials.contains(line["serial"].as_str().unwrap()), "{line}");
        }
    }
    // Each agent sees the other's rows; neither made a SQLite register.
    assert_eq!(register_rows(&b, &["--register", &url]).len(), all.len());
    assert!(!a.join("pki/register.sqlite3").exists());
    assert!(!b.join("pki/register.sqlite3").exists());
}

#[test]
fn an_unreachable_register_is_one_line_without_its_password_and_nothing_is_written() {
    let d = tmp();
    let p = d.path();
    ca(p);
    let url = Postgres::stopped_url();
    let password = url
        .split_once("://")
        .and_then(|(_, r)| r.split_once('@'))
        .and_then(|(u, _)| u.split_once(':'))
        .map(|(_, pw)| pw.to_owned())
        .unwrap();
    let state = || tree(&p.join("pki"));
    let r = fails_cleanly(
        p,
        &["--register", &url, "issue", "device", "d1"],
        "cannot open it",
        state,
    );
    assert!(!r.stderr.contains(&password), "{}", r.stderr);
    assert!(r.stderr.contains("127.0.0.1"), "{}", r.stderr);
    assert!(
        r.stderr.contains("--register"),
        "the hint names the flag: {}",
        r.stderr
    );
    // From the environment too, and in --json the error document hides it as well.
    let r = pki_env(
        p,
        &["--json", "issue", "device", "d1"],
        &[("PKI_REGISTER", &url)],
    )
    .expect(2);
    assert!(!r.stdout.contains(&password) && !r.stderr.contains(&password));
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("cannot open it")
    );
}

#[test]
fn a_file_that_is_not_a_register_is_refused_and_left_alone() {
    let d = tmp();
    let p = d.path();
    ca(p);
    let register = p.join("pki/register.sqlite3");
    std::fs::write(&register, "serial,subject\n".repeat(200)).unwrap();
    let state = || tree(&p.join("pki"));
    fails_cleanly(p, &["issue", "device", "d1"], "not a pki register", state);
    fails_cleanly(p, &["list"], "not a pki register", state);
}

#[test]
fn list_filters_by_expiry_profile_issuer_and_cn() {
    let d = tmp();
    let p = d.path();
    ca(p);
    pki(p, &["create-edge-ca", "gw"]).expect(0);
    for (id, days) in [("line-1-a", "10"), ("line-1-b", "40"), ("line-2-a", "20")] {
        pki(p, &["issue", "device", id, "--days", days]).expect(0);
    }
    pki(
        p,
        &[
            "issue",
            "server",
            "gw.example.com",
            "--issuer",
            "edge-ca:gw",
            "--days",
            "15",
        ],
    )
    .expect(0);
    let cns = |args: &[&str]| -> Vec<String> {
        register_rows(p, args)
            .iter()
            .map(|r| r["common_name"].as_str().unwrap().to_owned())
            .collect()
    };
    // Rows come by notAfter.
    assert_eq!(
        cns(&["--expiring", "30d"])[..],
        ["line-1-a", "gw.example.com", "line-2-a"]
    );
    assert_eq!(
        cns(&["--profile", "device", "--cn", "line-1-*"]),
        ["line-1-a", "line-1-b"]
    );
    assert_eq!(cns(&["--issuer", "edge-ca:gw"]), ["gw.example.com"]);
    // Later, two have expired.
    let later = (time::OffsetDateTime::now_utc() + time::Duration::days(18))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert_eq!(
        cns(&["--expired", "--at", &later]),
        ["line-1-a", "gw.example.com"]
    );
    let states: Vec<String> = register_rows(p, &["--cn", "line-*", "--at", &later])
        .iter()
        .map(|r| r["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["expired", "expiring", "expiring"]);
    // The text table: a header, one row each, states first.
    let text = pki(p, &["list", "--profile", "device"]).expect(0).stdout;
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(
        text.lines()
            .skip(1)
            .all(|l| l.starts_with("expiring") || l.starts_with("valid")),
        "{text}"
    );
    // A share of the lifetime is not a time left.
    let r = pki(p, &["list", "--expiring", "66%"]).expect(2);
    assert!(r.stderr.contains("--expiring"), "{}", r.stderr);
    // A whole export has every certificate once.
    assert_eq!(register_lines(p).lines().count(), 2 + 1 + 3 + 1);
}

#[test]
fn needs_renewal_judges_every_certificate_in_service_in_the_register() {
    let d = tmp();
    let p = d.path();
    ca(p);
    pki(p, &["issue", "device", "soon", "--days", "10"]).expect(0);
    pki(p, &["issue", "device", "later", "--days", "400"]).expect(0);
    // Superseded certificates are not in service: not judged.
    pki(p, &["issue", "device", "soon", "--days", "10", "--force"]).expect(0);
    let r = pki(
        p,
        &[
            "--json",
            "needs-renewal",
            "--register",
            "--expires-in",
            "30d",
        ],
    )
    .expect(0);
    let j = r.json();
    let due: Vec<&str> = j["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["needs_renewal"] == true)
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    assert_eq!(due, ["CN = soon"], "{j}");
    assert_eq!(
        j["certificates"].as_array().unwrap().len(),
        2 + 2,
        "root, intermediate, soon, later"
    );
    // Nothing due within 5 days: exit 1, as step and tedge answer.
    pki(p, &["needs-renewal", "--expires-in", "5d"]).expect(1);
    // The text names each certificate's file in the CA directory.
    let text = pki(p, &["needs-renewal", "--register", "--expires-in", "30d"])
        .expect(0)
        .stdout;
    assert!(
        text.contains("iot-device-soon.cert.pem") && text.contains("needs renewal"),
        "{text}"
    );
}
