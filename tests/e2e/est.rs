//! EST enrolment, the operator's side: `pki est secret` makes a one-time enrolment secret in
//! the register, prints it once (text or JSON), and leaves only its salted hash in the
//! register; device ids HTTP Basic cannot carry and bad lifetimes are refused in one line.

use std::path::Path;

use crate::support::lot::ca;
use crate::support::{fails_cleanly, pki, programs, tmp};

/// The rows of the enrolment secrets in the CA directory's SQLite register, and its schema
/// version, as Python's sqlite3 reads them: one line each.
fn register_dump(dir: &Path) -> String {
    let out = programs::command("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); \
             print(c.execute(\"SELECT value FROM pki_register WHERE key='version'\").fetchone()[0]); \
             [print(r) for r in c.execute('SELECT * FROM enrolment_secrets ORDER BY id')]",
        ])
        .arg(dir.join("pki/register.sqlite3"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn est_secret_prints_a_secret_once_and_the_register_keeps_its_hash() {
    let d = tmp();
    ca(d.path());
    let text = pki(
        d.path(),
        &[
            "est",
            "secret",
            "line-7-dev-42",
            "--label",
            "device",
            "--ttl",
            "7d",
        ],
    )
    .expect(0);
    let secret = text
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("secret:"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| panic!("{}", text.stdout));
    assert_eq!(secret.len(), 22, "{secret}");
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{secret}"
    );
    assert!(text.stdout.contains("line-7-dev-42"), "{}", text.stdout);
    assert!(!text.stderr.contains(&secret), "the secret only on stdout");

    let json = pki(d.path(), &["est", "secret", "gw-3", "--json"]).expect(0);
    let v = json.json();
    let other = v["secret"].as_str().unwrap().to_owned();
    assert_eq!(other.len(), 22);
    assert_ne!(other, secret);
    assert_eq!(v["device_id"], "gw-3");
    assert_eq!(v["label"], serde_json::Value::Null);
    assert_eq!(v["used_at"], serde_json::Value::Null);
    let created = time::OffsetDateTime::parse(
        v["created_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expires = time::OffsetDateTime::parse(
        v["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(
        expires - created,
        time::Duration::hours(24),
        "--ttl 24h by default"
    );

    let dump = register_dump(d.path());
    assert!(dump.starts_with("4\n"), "schema version 4: {dump}");
    assert!(dump.contains("'line-7-dev-42', 'device'"), "{dump}");
    assert!(dump.contains("'gw-3', None"), "{dump}");
    assert!(
        !dump.contains(&secret) && !dump.contains(&other),
        "no secret: {dump}"
    );
}

#[test]
fn est_secret_refuses_what_cannot_be_a_secret_in_one_line() {
    let d = tmp();
    ca(d.path());
    let rows = || register_dump(d.path());
    fails_cleanly(d.path(), &["est", "secret", "a:b"], "':'", rows);
    fails_cleanly(
        d.path(),
        &["est", "secret", "a\nb"],
        "control characters",
        rows,
    );
    fails_cleanly(
        d.path(),
        &["est", "secret", "dev", "--label", "../x"],
        "is not an EST label",
        rows,
    );
    fails_cleanly(
        d.path(),
        &["est", "secret", "dev", "--ttl", "0s"],
        "--ttl",
        rows,
    );
    fails_cleanly(
        d.path(),
        &["est", "secret", "dev", "--ttl", "66%"],
        "--ttl",
        rows,
    );
}
