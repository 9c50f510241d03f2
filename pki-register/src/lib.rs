//! The register: every certificate a CA directory issued, in a real database.
//!
//! SQLite by default, one file in the CA directory (`register.sqlite3`), so that nothing needs
//! setting up; PostgreSQL when several build agents issue from one CA
//! (`postgres://user:password@host:port/db`), so that each sees the others' serials, renewals
//! and revocations. Both hold the same rows ([`Record`]) under the same schema, and both are
//! written in transactions ([`Transaction`]) that the CA directory commits together with the
//! certificate files, and a batch chunk by chunk.
//!
//! A row is never deleted: a renewed certificate is marked superseded (by its successor's
//! SHA-256), a revoked one revoked. What a user sees as the state of a certificate (valid,
//! expiring, expired, revoked, superseded) is computed from the row at a given instant
//! ([`Record::state`]).
//!
//! It also keeps the one-time enrolment secrets of EST enrolment ([`Register::create_secret`],
//! used once by [`Transaction::consume_secret`] across every server sharing the register),
//! hashed, and counts failed attempts to use them ([`Register::record_failure`]) for a
//! server's rate limit.
//!
//! Queries ([`Query`]) filter by profile, issuer, CN pattern, expiry window and status through
//! indexes, and stream their rows: listing what expires within 30 days among a million rows
//! reads only those rows.

mod backend;
mod enrolment;
mod error;
mod location;
mod query;
mod record;
mod secret;

pub use backend::{Register, Transaction, set_in_renew_hook};
pub use enrolment::{FAILURE_RETENTION, MAX_FAILURE_ROWS};
pub use error::{Error, Result};
pub use location::{Location, PostgresUrl};
pub use query::Query;
pub use record::{Reason, Record, Revocation, State, Status};
pub use secret::{FailureKey, Secret, SecretGrant, SecretInfo, SecretRefusal, SecretState};

/// The file name of the SQLite register in a CA directory.
pub const SQLITE_FILE: &str = "register.sqlite3";

/// The schema version this build writes and reads. Version 2 added the last CRL number of each
/// CA, version 3 the one-time enrolment secrets and the failed attempts to use them, version 4
/// the status in the CN index; an older
/// register is upgraded in place when opened.
pub const SCHEMA_VERSION: u32 = 4;
