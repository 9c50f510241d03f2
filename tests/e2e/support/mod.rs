//! The end-to-end tests' harness, apart from the tests: running pki and openssl, fixtures, the
//! real peers (openssl s_server and s_client, mosquitto, PostgreSQL, silent and plain-text
//! servers, the fake Cumulocity tenants, Debian images), the assertions every refusal shares,
//! and the filters of the insta snapshots. The harness's own tests are in `harness.rs` (the
//! PostgreSQL server's in `postgres.rs`).
//!
//! What every test uses is here at the top (`use crate::support::{pki, tmp, ...}`); what one
//! subject uses stays in its module (`support::tenant`, `support::image`, `support::lot`,
//! `support::quickstart`, `support::snapshot`).

mod asserts;
pub(crate) mod clock;
#[cfg(unix)] // `pki est serve` stopped with SIGTERM
pub(crate) mod est;
mod fixtures;
#[cfg(unix)] // a Debian image, and Debian's own refresh tool run on it
pub(crate) mod image;
pub(crate) mod lot;
mod mosquitto;
mod openssl;
// Shared with the library crates' tests through the pki-testkit crate (a dev-dependency): a
// real PostgreSQL, and the one list of the external programs the tests run (tests/programs.txt),
// through which every program a test starts is found and made.
use pki_testkit::postgres;
pub(crate) use pki_testkit::programs;
pub(crate) mod quickstart;
mod run;
mod servers;
pub(crate) mod snapshot;
pub(crate) mod softhsm;
pub(crate) mod tenant;

pub(crate) use asserts::{
    assert_root, fails_cleanly, one_error_line, refused_in_one_line, retries,
};
// What only the trust-store tests (Unix) use.
#[cfg(unix)]
pub(crate) use asserts::is_root;
#[cfg(unix)]
pub(crate) use fixtures::openssl_ca;
pub(crate) use fixtures::{
    openssl_self_signed, openssl_text, pem_certificates, sha1_fingerprint, sha256_fingerprint,
    testdata, tmp, tree,
};
pub(crate) use mosquitto::{MQTT_CONNACK_OK, MQTT_CONNECT_DISCONNECT, Mosquitto};
pub(crate) use openssl::{Handshake, SClient, s_client};
pub(crate) use postgres::Postgres;
#[cfg(unix)]
pub(crate) use run::pki_in_shell;
pub(crate) use run::{
    Run, crl_distribution_points, openssl, pki, pki_command, pki_env, pki_variables,
    register_lines, register_rows, run_bounded,
};
pub(crate) use servers::{
    OpensslServer, PLAIN_TEXT_ANSWER, PlainTextServer, Server, SilentServer, closed_port, loopback,
};
