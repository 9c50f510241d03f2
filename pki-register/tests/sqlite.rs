//! The SQLite register: the shared behaviour, files that are not registers, and writers in
//! parallel.
// Tests start the programs they check against (openssl, peers, pki itself) directly, with
// environments of their own; pki itself makes children only through `pki_core::child_command`.
#![allow(clippy::disallowed_methods)]

mod common;

use pki_register::{Error, Location, Query, Register};

#[test]
fn sqlite_behaves_as_a_register() {
    let dir = tempfile::tempdir().unwrap();
    common::behaves_as_a_register(Location::in_ca_dir(dir.path()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("register.sqlite3"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
    }
}

#[test]
fn sqlite_revokes_as_a_register() {
    let dir = tempfile::tempdir().unwrap();
    common::revokes_as_a_register(Location::in_ca_dir(dir.path()));
}

#[test]
fn sqlite_numbers_crls_and_upgrades_a_version_1_register() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.sqlite3");
    common::numbers_crls_and_upgrades(Location::in_ca_dir(dir.path()), &|| {
        edit_with_python(&file, common::DOWNGRADE_TO_V1)
    });
}

#[test]
fn files_that_are_not_registers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("text.sqlite3");
    std::fs::write(&text, "serial,subject\n".repeat(300)).unwrap();
    let err = Register::open(Location::Sqlite(text.clone())).unwrap_err();
    assert!(matches!(err, Error::NotARegister { .. }), "{err}");
    assert!(err.to_string().contains("text.sqlite3"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&text).unwrap(),
        "serial,subject\n".repeat(300),
        "left as it was"
    );

    let other = dir.path().join("other.db");
    rusqlite_like_other_app(&other);
    let err = Register::open(Location::Sqlite(other)).unwrap_err();
    assert!(matches!(err, Error::NotARegister { .. }), "{err}");

    let missing = dir.path().join("no/such/dir/register.sqlite3");
    let err = Register::open(Location::Sqlite(missing)).unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
}

/// A SQLite database of another application: a register with its marker table dropped and
/// another table added, which is what a foreign database looks like to `open`.
fn rusqlite_like_other_app(path: &std::path::Path) {
    drop(Register::open(Location::Sqlite(path.to_owned())).unwrap());
    edit_with_python(
        path,
        "DROP TABLE pki_register; CREATE TABLE customers (id INTEGER);",
    );
}

/// Runs `sql` on the SQLite file at `path` with Python's sqlite3 module (the test crate has no
/// SQLite of its own).
fn edit_with_python(path: &std::path::Path, sql: &str) {
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()",
        ])
        .arg(path)
        .arg(sql)
        .status()
        .expect("python3 (with its sqlite3 module) edits the test database");
    assert!(status.success());
}

#[test]
fn parallel_writers_lose_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::in_ca_dir(dir.path());
    drop(Register::open(location.clone()).unwrap());
    common::write_from_threads(&location);
    let mut reg = Register::open(location).unwrap();
    assert_eq!(reg.count(&Query::default()).unwrap(), 4 * 10 * 50);
}

#[test]
fn sqlite_summaries_equal_a_count_row_by_row() {
    let dir = tempfile::tempdir().unwrap();
    common::summary::summarises_as_a_register(Location::in_ca_dir(dir.path()));
}

#[test]
fn sqlite_uses_secrets_once_and_keeps_only_their_hash() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::in_ca_dir(dir.path());
    common::secrets::uses_secrets_once(location.clone());
    let mut reg = Register::open(location).unwrap();
    let s = reg
        .create_secret(
            "dev-dump",
            None,
            time::Duration::hours(1),
            common::secrets::NOW,
        )
        .unwrap();
    drop(reg);
    let dump = dump_with_python(&dir.path().join("register.sqlite3"));
    assert!(dump.contains("dev-dump"), "the dump has the rows");
    assert!(
        !dump.contains(s.expose()),
        "the secret is not in the register"
    );
}

#[test]
fn sqlite_grants_a_secret_once_to_connections_racing() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::in_ca_dir(dir.path());
    let (grants, used) = common::secrets::race_on_secrets(&location, 20, 6);
    assert_eq!((grants, used), (20, 20 * 5));
}

#[test]
fn sqlite_counts_failures() {
    let dir = tempfile::tempdir().unwrap();
    common::secrets::counts_failures(Location::in_ca_dir(dir.path()));
}

/// A register written by main's pki before enrolment secrets (testdata/README.md), opened by
/// this build: upgraded to version 3 in place, its five certificates kept.
#[test]
fn sqlite_upgrades_a_version_2_register_written_by_mains_pki() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.sqlite3");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/register-v2-main.sqlite3"
        ),
        &file,
    )
    .unwrap();
    assert_eq!(sqlite_version(&file), "2");
    common::secrets::upgrades_a_version_2_register(Location::Sqlite(file.clone()), 5);
    assert_eq!(
        sqlite_version(&file),
        pki_register::SCHEMA_VERSION.to_string()
    );
    // And one of this build taken back to version 2 and up again.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.sqlite3");
    let location = Location::Sqlite(file.clone());
    let mut reg = Register::open(location.clone()).unwrap();
    let mut tx = reg.transaction().unwrap();
    tx.insert(&[common::row(1, 10), common::row(2, 10)])
        .unwrap();
    tx.commit().unwrap();
    drop(reg);
    edit_with_python(&file, common::DOWNGRADE_TO_V2);
    assert_eq!(sqlite_version(&file), "2");
    common::secrets::upgrades_a_version_2_register(location, 2);
}

/// The schema version written in the SQLite register at `path`, read with Python's sqlite3.
fn sqlite_version(path: &std::path::Path) -> String {
    python_sqlite(
        path,
        "print(c.execute(\"SELECT value FROM pki_register WHERE key = 'version'\").fetchone()[0])",
    )
    .trim()
    .to_owned()
}

/// Every statement that would rebuild the SQLite database at `path` (its rows included).
fn dump_with_python(path: &std::path::Path) -> String {
    python_sqlite(path, "print('\\n'.join(c.iterdump()))")
}

/// Runs `code` with `c` a Python sqlite3 connection to `path`; its standard output.
fn python_sqlite(path: &std::path::Path, code: &str) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            &format!("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); {code}"),
        ])
        .arg(path)
        .output()
        .expect("python3 (with its sqlite3 module) reads the test database");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
