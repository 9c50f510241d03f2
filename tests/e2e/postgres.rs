//! The PostgreSQL harness's own tests (`support::Postgres`, shared with the library crates'
//! tests): two servers run at once, each a cluster of its own that the role `pki` reaches by
//! password over 127.0.0.1 with `psql` and the URL; a wrong password is refused; a dropped
//! server closes its port and leaves no directory, also when the test that started it panics;
//! and the URL of a stopped server is refused.

use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::{Postgres, loopback};

/// Starts a server and says on stderr how long it took (`cargo test -- --nocapture` shows it).
fn started() -> Postgres {
    let t = Instant::now();
    let pg = Postgres::start();
    eprintln!(
        "PostgreSQL on 127.0.0.1:{} ready in {:?} (initdb, start, role and database)",
        pg.port(),
        t.elapsed()
    );
    pg
}

/// Whether something accepts connections on 127.0.0.1:`port`.
fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(&loopback(port), Duration::from_secs(1)).is_ok()
}

#[test]
fn two_servers_at_once_each_with_its_own_table_then_one_stopped() {
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(started);
        let b = s.spawn(started);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_ne!(a.port(), b.port());
    assert_ne!(a.dir(), b.dir());
    for (pg, rows) in [(&a, "(1, 'a1'), (2, 'a2')"), (&b, "(1, 'b1')")] {
        assert_eq!(
            pg.url(),
            format!(
                "postgres://pki:{}@127.0.0.1:{}/pki",
                pg.password(),
                pg.port()
            )
        );
        assert_eq!(pg.password().len(), 32, "a random password");
        let url = pg.url();
        assert_eq!(
            Postgres::psql(&url, "SELECT current_user, current_database()"),
            "pki|pki\n"
        );
        assert_eq!(Postgres::psql(&url, "SHOW listen_addresses"), "127.0.0.1\n");
        Postgres::psql(
            &url,
            "CREATE TABLE certs (n integer PRIMARY KEY, cn text NOT NULL)",
        );
        Postgres::psql(&url, &format!("INSERT INTO certs VALUES {rows}"));
    }
    assert_ne!(a.password(), b.password());
    // Each server holds its own rows only.
    assert_eq!(
        Postgres::psql(&a.url(), "SELECT n, cn FROM certs ORDER BY n"),
        "1|a1\n2|a2\n"
    );
    assert_eq!(
        Postgres::psql(&b.url(), "SELECT n, cn FROM certs ORDER BY n"),
        "1|b1\n"
    );

    // The role logs in by password (SCRAM) only.
    let wrong = format!("postgres://pki:wrong@127.0.0.1:{}/pki", a.port());
    let refused = Postgres::try_psql(&wrong, "SELECT 1").unwrap_err();
    assert!(
        refused.contains("password authentication failed for user \"pki\""),
        "{refused}"
    );
    let method = Postgres::psql(
        &a.superuser_url(),
        "SELECT auth_method FROM pg_hba_file_rules WHERE error IS NULL",
    );
    assert_eq!(method, "scram-sha-256\n");

    let (port, dir) = (a.port(), a.dir().to_path_buf());
    assert!(listening(port) && dir.join("data/PG_VERSION").is_file());
    drop(a);
    assert!(
        !listening(port),
        "127.0.0.1:{port} still accepts connections"
    );
    assert!(!dir.exists(), "{} is still there", dir.display());
    // The other one is untouched.
    assert_eq!(
        Postgres::psql(&b.url(), "SELECT count(*) FROM certs"),
        "1\n"
    );
}

#[test]
fn a_test_that_panics_still_stops_its_server() {
    let seen = std::sync::Mutex::new(None::<(u16, PathBuf)>);
    let outcome = std::panic::catch_unwind(|| {
        let pg = started();
        *seen.lock().unwrap() = Some((pg.port(), pg.dir().to_path_buf()));
        panic!("the test fails while its server runs");
    });
    assert!(outcome.is_err());
    let (port, dir) = seen.lock().unwrap().take().expect("the server had started");
    assert!(
        !listening(port),
        "127.0.0.1:{port} still accepts connections"
    );
    assert!(!dir.exists(), "{} is still there", dir.display());
}

#[test]
fn the_url_of_a_stopped_server_is_refused() {
    let url = Postgres::stopped_url();
    assert!(
        url.starts_with("postgres://pki:") && url.ends_with("/pki"),
        "{url}"
    );
    let refused = Postgres::try_psql(&url, "SELECT 1").unwrap_err();
    assert!(refused.contains("Connection refused"), "{refused}");
}
