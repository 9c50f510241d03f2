//! The PostgreSQL register against a real PostgreSQL the test starts (Debian's `postgresql`
//! package; scripts/test.sh installs it): the behaviour every backend shares, writers on
//! several connections at once, a database of another application, and an unreachable server.
// Tests start the programs they check against (openssl, peers, pki itself) directly, with
// environments of their own; pki itself makes children only through `pki_core::child_command`.
#![allow(clippy::disallowed_methods)]

mod common;

use pki_register::{Error, Location, Query, Register};
use pki_testkit::postgres::Postgres;

#[test]
fn postgres_behaves_as_a_register() {
    let pg = Postgres::start();
    common::behaves_as_a_register(Location::parse(&pg.url()).unwrap());
}

#[test]
fn postgres_revokes_as_a_register() {
    let pg = Postgres::start();
    common::revokes_as_a_register(Location::parse(&pg.url()).unwrap());
}

#[test]
fn postgres_numbers_crls_and_upgrades_a_version_1_register() {
    let pg = Postgres::start();
    let url = pg.url();
    common::numbers_crls_and_upgrades(Location::parse(&url).unwrap(), &|| {
        Postgres::psql(&url, common::DOWNGRADE_TO_V1);
    });
}

#[test]
fn writers_on_many_connections_lose_no_row_and_never_share_a_serial() {
    let pg = Postgres::start();
    let location = Location::parse(&pg.url()).unwrap();
    // Every connection opens an empty database at once: the schema is created once.
    common::write_from_threads(&location);
    let mut reg = Register::open(location.clone()).unwrap();
    assert_eq!(reg.count(&Query::default()).unwrap(), 4 * 10 * 50);
    // The same serial from the same issuer on another connection is refused by the database.
    let mut other = Register::open(location).unwrap();
    let mut dup = common::row(999_999, 1);
    dup.serial = common::row(3, 1).serial;
    let mut tx = other.transaction().unwrap();
    let err = tx.insert(&[dup]).unwrap_err();
    assert!(matches!(err, Error::DuplicateSerial { .. }), "{err}");
}

#[test]
fn a_database_of_another_application_is_refused() {
    let pg = Postgres::start();
    Postgres::psql(&pg.url(), "CREATE TABLE certificates (id integer)");
    let err = Register::open(Location::parse(&pg.url()).unwrap()).unwrap_err();
    assert!(matches!(err, Error::NotARegister { .. }), "{err}");
    assert!(!err.to_string().contains(pg.password()), "{err}");
}

#[test]
fn an_unreachable_server_is_one_line_without_the_password() {
    let url = Postgres::stopped_url();
    let location = Location::parse(&url).unwrap();
    let started = std::time::Instant::now();
    let err = Register::open(location).unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
    let message = err.to_string();
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains("127.0.0.1"), "{message}");
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(user_info, _)| user_info.split_once(':'))
        .map(|(_, pw)| pw.to_owned())
        .unwrap_or_default();
    assert!(!password.is_empty(), "the URL carries a password: {url}");
    assert!(!message.contains(&password), "{message}");
}

#[test]
fn a_wrong_password_is_refused_without_showing_it() {
    let pg = Postgres::start();
    let url = pg.url().replace(pg.password(), "not-the-password-42");
    let err = Register::open(Location::parse(&url).unwrap()).unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
    assert!(!err.to_string().contains("not-the-password-42"), "{err}");
    assert!(err.to_string().contains("password"), "{err}");
}

#[test]
fn postgres_summaries_equal_a_count_row_by_row() {
    let pg = Postgres::start();
    common::summary::summarises_as_a_register(Location::parse(&pg.url()).unwrap());
}

#[test]
fn postgres_uses_secrets_once_and_keeps_only_their_hash() {
    let pg = Postgres::start();
    let url = pg.url();
    let location = Location::parse(&url).unwrap();
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
    let rows = Postgres::psql(&url, "SELECT * FROM enrolment_secrets");
    assert!(rows.contains("dev-dump"), "{rows}");
    assert!(
        !rows.contains(s.expose()),
        "the secret is not in the register"
    );
}

/// Eight servers' connections present each of 30 secrets at the same instant: PostgreSQL's row
/// lock lets exactly one `UPDATE ... WHERE used_at IS NULL` through; the others wait for its
/// commit and find the secret used.
#[test]
fn postgres_grants_a_secret_once_to_connections_racing() {
    let pg = Postgres::start();
    let location = Location::parse(&pg.url()).unwrap();
    let (grants, used) = common::secrets::race_on_secrets(&location, 30, 8);
    assert_eq!((grants, used), (30, 30 * 7));
}

#[test]
fn postgres_counts_failures() {
    let pg = Postgres::start();
    common::secrets::counts_failures(Location::parse(&pg.url()).unwrap());
}

#[test]
fn postgres_upgrades_a_version_2_register() {
    let pg = Postgres::start();
    let url = pg.url();
    let location = Location::parse(&url).unwrap();
    let mut reg = Register::open(location.clone()).unwrap();
    let mut tx = reg.transaction().unwrap();
    tx.insert(&[common::row(1, 10), common::row(2, 10)])
        .unwrap();
    tx.commit().unwrap();
    drop(reg);
    Postgres::psql(&url, common::DOWNGRADE_TO_V2);
    let version = |url: &str| {
        Postgres::psql(url, "SELECT value FROM pki_register WHERE key = 'version'")
            .trim()
            .to_owned()
    };
    assert_eq!(version(&url), "2");
    common::secrets::upgrades_a_version_2_register(location, 2);
    assert_eq!(version(&url), pki_register::SCHEMA_VERSION.to_string());
}
