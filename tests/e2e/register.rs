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
            crate::support::pki_command(std::path::Path::new("."), &[])
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

/// What a run printed, stdout and stderr together.
fn printed(r: &crate::support::Run) -> String {
    format!("{}{}", r.stdout, r.stderr)
}

#[test]
fn a_postgres_password_with_url_characters_works_and_is_never_printed() {
    let pg = Postgres::start();
    // What `openssl rand -base64` gives and more: / ? # @ : in the password. In the URL its @ is
    // %40 (the driver reads the user information up to the first @); the rest as they are.
    const PIECES: [&str; 6] = ["Kq7x", "Vb2m", "Zr9p", "Lt4n", "Hc8w", "Jy3d"];
    Postgres::psql(
        &pg.superuser_url(),
        "ALTER ROLE pki PASSWORD 'Kq7x/Vb2m?Zr9p#Lt4n@Hc8w:Jy3d'",
    );
    let in_url = "Kq7x/Vb2m?Zr9p#Lt4n%40Hc8w:Jy3d";
    let url = format!("postgres://pki:{in_url}@127.0.0.1:{}/pki", pg.port());
    let never_printed = |r: &crate::support::Run| {
        for piece in PIECES {
            assert!(
                !printed(r).contains(piece),
                "{piece} printed:\n{}",
                printed(r)
            );
        }
    };
    let d = tmp();
    let p = d.path();
    never_printed(&pki_env(p, &["create-owner-ca"], &[("PKI_REGISTER", &url)]).expect(0));
    assert_eq!(register_rows(p, &["--register", &url]).len(), 1, "it works");
    // Connection refused: one line naming the server, never the password.
    let stopped = Postgres::stopped_url();
    let port = stopped
        .rsplit_once(':')
        .and_then(|(_, r)| r.split_once('/'))
        .map(|(port, _)| port.to_owned())
        .unwrap();
    let refused = format!("postgres://pki:{in_url}@127.0.0.1:{port}/pki");
    for args in [
        &["--register", &refused, "list"][..],
        &["--json", "--register", &refused, "list"],
        &["--register", &refused, "issue", "device", "d1"],
    ] {
        let r = pki(p, args).expect(2);
        never_printed(&r);
        assert!(r.stderr.contains("127.0.0.1"), "{}", r.stderr);
    }
    let r = pki_env(p, &["list"], &[("PKI_REGISTER", &refused)]).expect(2);
    never_printed(&r);
    // A typo in the scheme: refused in one line, the URL never echoed (by clap neither).
    let typo = format!("postgress://pki:{in_url}@127.0.0.1:{}/pki", pg.port());
    for r in [
        pki_env(p, &["list"], &[("PKI_REGISTER", &typo)]),
        pki_env(p, &["--json", "list"], &[("PKI_REGISTER", &typo)]),
        pki(p, &["--register", &typo, "list"]),
        pki(
            p,
            &[
                "--register",
                &format!("postgres://pki:{in_url}@127.0.0.1:x/pki"),
                "list",
            ],
        ),
    ] {
        let r = r.expect(2);
        never_printed(&r);
        assert!(r.stderr.starts_with("pki: error: "), "{}", r.stderr);
    }
}

/// The CRL number of the CRL file `crl` (relative to `dir`), as OpenSSL reads it.
fn crl_number(dir: &std::path::Path, crl: &str) -> String {
    let r = crate::support::openssl(dir, &["crl", "-in", crl, "-noout", "-crlnumber"]).expect(0);
    let n = r.stdout.trim().trim_start_matches("crlNumber=");
    match n.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap().to_string(),
        None => n.to_owned(),
    }
}

const INTERMEDIATE_CRL: &str = "pki/crl/azure-iot-test-only.intermediate.crl.pem";

#[test]
fn an_emptied_or_missing_register_is_refused_and_nothing_is_unrevoked() {
    let d = tmp();
    let p = d.path();
    ca(p);
    pki(p, &["issue", "device", "stolen"]).expect(0);
    pki(p, &["revoke", "stolen"]).expect(0);
    pki(p, &["crl", "--all"]).expect(0);
    pki(p, &["crl", "--all"]).expect(0);
    assert_eq!(crl_number(p, INTERMEDIATE_CRL), "2");
    let register = p.join("pki/register.sqlite3");
    let kept = std::fs::read(&register).unwrap();
    let state = || tree(&p.join("pki"));
    // Emptied (`: > register.sqlite3`): refused, the CRL as it was.
    std::fs::write(&register, "").unwrap();
    for args in [&["crl", "--all"][..], &["list"], &["issue", "device", "d2"]] {
        let r = fails_cleanly(p, args, "register.sqlite3", state);
        assert!(r.stderr.contains("backup"), "{}", r.stderr);
        assert!(r.stderr.contains("--register"), "{}", r.stderr);
    }
    assert_eq!(crl_number(p, INTERMEDIATE_CRL), "2");
    // Missing: refused, and not made anew.
    std::fs::remove_file(&register).unwrap();
    fails_cleanly(p, &["crl", "--all"], "register.sqlite3", state);
    fails_cleanly(p, &["list"], "register.sqlite3", state);
    assert!(!register.exists());
    // Put back, it works again.
    std::fs::write(&register, &kept).unwrap();
    pki(p, &["crl", "--all"]).expect(0);
    assert_eq!(crl_number(p, INTERMEDIATE_CRL), "3");
}

#[test]
fn a_crl_number_never_goes_back_even_when_the_register_lost_it() {
    let d = tmp();
    let p = d.path();
    ca(p);
    pki(p, &["issue", "device", "stolen"]).expect(0);
    pki(p, &["revoke", "stolen"]).expect(0);
    // A backup taken before any CRL, put back after two.
    let register = p.join("pki/register.sqlite3");
    let backup = std::fs::read(&register).unwrap();
    pki(p, &["crl", "--all"]).expect(0);
    pki(p, &["crl", "--all"]).expect(0);
    assert_eq!(crl_number(p, INTERMEDIATE_CRL), "2");
    std::fs::write(&register, &backup).unwrap();
    pki(p, &["crl", "--all"]).expect(0);
    assert_eq!(crl_number(p, INTERMEDIATE_CRL), "3");
    pki(p, &["crl", "--all"]).expect(0);
    assert_eq!(crl_number(p, INTERMEDIATE_CRL), "4");
}

#[test]
#[cfg(unix)] // a symbolic link
fn a_register_linked_or_copied_from_another_ca_directory_is_refused() {
    let d = tmp();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    for dir in [&a, &b] {
        std::fs::create_dir(dir).unwrap();
        ca(dir);
        pki(dir, &["issue", "device", "same-id"]).expect(0);
    }
    let (a_reg, b_reg) = (
        a.join("pki/register.sqlite3"),
        b.join("pki/register.sqlite3"),
    );
    let b_own = std::fs::read(&b_reg).unwrap();
    let state = || (tree(&a.join("pki")), std::fs::read(&a_reg).unwrap());
    // A link to A's register is refused, never followed.
    std::fs::remove_file(&b_reg).unwrap();
    std::os::unix::fs::symlink(&a_reg, &b_reg).unwrap();
    fails_cleanly(&b, &["revoke", "same-id"], "link", state);
    fails_cleanly(&b, &["list"], "link", state);
    // A copy of A's register is refused.
    std::fs::remove_file(&b_reg).unwrap();
    std::fs::copy(&a_reg, &b_reg).unwrap();
    let b_state = || tree(&b.join("pki"));
    fails_cleanly(&b, &["revoke", "same-id"], "another CA directory", b_state);
    fails_cleanly(&b, &["list"], "another CA directory", b_state);
    // Its own register back, B works.
    std::fs::write(&b_reg, &b_own).unwrap();
    pki(&b, &["revoke", "same-id"]).expect(0);
    assert!(
        register_rows(&a, &[])
            .iter()
            .all(|r| r["status"] != "revoked"),
        "A's certificates untouched"
    );
}

#[test]
fn a_register_written_before_the_binding_gets_it_on_first_open() {
    let d = tmp();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    for dir in [&a, &b] {
        std::fs::create_dir(dir).unwrap();
        ca(dir);
    }
    // A register as an earlier pki wrote it: no binding rows in pki_register.
    let a_reg = a.join("pki/register.sqlite3");
    let script = "import sqlite3, sys\n\
                  c = sqlite3.connect(sys.argv[1])\n\
                  c.execute(\"DELETE FROM pki_register WHERE key NOT IN ('format', 'version')\")\n\
                  c.commit()\n";
    let ok = programs::command("python3")
        .args(["-c", script])
        .arg(&a_reg)
        .status()
        .unwrap();
    assert!(ok.success());
    // Taken, and bound: A issues; a copy of it in B is then refused.
    pki(&a, &["issue", "device", "d1"]).expect(0);
    assert_eq!(register_rows(&a, &[]).len(), 3);
    std::fs::copy(&a_reg, b.join("pki/register.sqlite3")).unwrap();
    let b_state = || tree(&b.join("pki"));
    fails_cleanly(&b, &["list"], "another CA directory", b_state);
}

#[test]
fn a_shared_register_serves_several_directories_and_revoke_by_id_stays_in_its_own() {
    let d = tmp();
    let shared = d.path().join("shared.sqlite3");
    let shared = shared.to_str().unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    for dir in [&a, &b] {
        std::fs::create_dir(dir).unwrap();
        for args in [
            &["create-owner-ca"][..],
            &["create-intermediate-ca"],
            &["issue", "device", "same-id"],
        ] {
            pki(dir, &[&["--register", shared], args].concat()).expect(0);
        }
    }
    pki(&b, &["--register", shared, "revoke", "same-id"]).expect(0);
    let rows = register_rows(&a, &["--register", shared]);
    let same: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| r["common_name"] == "same-id")
        .collect();
    assert_eq!(same.len(), 2, "{rows:?}");
    let revoked = same.iter().filter(|r| r["status"] == "revoked").count();
    assert_eq!(revoked, 1, "B revoked A's same-id too: {same:?}");
    // B's own CRL lists it; A's does not.
    pki(&a, &["--register", shared, "crl", "--all"]).expect(0);
    pki(&b, &["--register", shared, "crl", "--all"]).expect(0);
    let listed = |dir: &std::path::Path| {
        crate::support::openssl(dir, &["crl", "-in", INTERMEDIATE_CRL, "-noout", "-text"])
            .expect(0)
            .stdout
            .contains("Serial Number")
    };
    assert!(!listed(&a) && listed(&b));
}
