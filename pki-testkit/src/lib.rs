//! What the tests of several pki crates share, as a crate that is only ever a dev-dependency
//! (`publish = false`; nothing shipped depends on it):
//!
//! - [`programs`]: the one list of the external programs the tests run (`tests/programs.txt`),
//!   through which every test finds and starts them;
//! - [`postgres`]: a real PostgreSQL server of the test's own, on a free port of 127.0.0.1
//!   (the register's tests in `pki-register/tests/postgres.rs`, the end-to-end tests in
//!   `tests/e2e/`).
//!
//! The end-to-end tests' own harness (running pki, fixtures, the other peers) stays in
//! `tests/e2e/support/`: only what more than one test crate needs is here.
//!
//! ```no_run
//! let pg = pki_testkit::postgres::Postgres::start();
//! assert!(pg.url().starts_with("postgres://pki:"));
//! ```

pub mod postgres;
pub mod programs;
