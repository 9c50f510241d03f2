//! Why the register could not be opened, read or written: one line naming the register (a
//! PostgreSQL URL without its password) and what went wrong.

/// A register operation's failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database cannot be reached or opened (a missing directory, a refused connection, a
    /// wrong password).
    #[error("register {location}: cannot open it ({reason})")]
    Unreachable {
        /// The register, its password hidden.
        location: String,
        /// The database's reason.
        reason: String,
    },
    /// The file or database holds something else than a pki register.
    #[error("register {location}: not a pki register ({reason})")]
    NotARegister {
        /// The register.
        location: String,
        /// What was found instead.
        reason: String,
    },
    /// The register was written by a newer pki.
    #[error(
        "register {location}: schema version {found} is newer than this pki reads ({supported})"
    )]
    Newer {
        /// The register.
        location: String,
        /// The version found.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The register already has a certificate with this issuer and serial.
    #[error("register {location}: serial {serial} of {issuer:?} is already recorded")]
    DuplicateSerial {
        /// The register.
        location: String,
        /// The serial, upper-case hex.
        serial: String,
        /// The issuer's name.
        issuer: String,
    },
    /// A query or write failed.
    #[error("register {location}: {reason}")]
    Database {
        /// The register.
        location: String,
        /// The database's reason.
        reason: String,
    },
    /// The location given is not one the register can use.
    #[error("register {given:?}: {reason}")]
    BadLocation {
        /// What was given, its password hidden.
        given: String,
        /// Why it cannot be used.
        reason: String,
    },
}

/// The register's result.
pub type Result<T> = std::result::Result<T, Error>;
