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
    /// Another writer held the register's write lock for longer than a writer waits (a
    /// SQLite register).
    #[error("register {location} {}", locked_by(*in_renew_hook, *waited_secs))]
    Locked {
        /// The register.
        location: String,
        /// This pki runs in the hook of a `pki renew` (`PKI_RENEW_PHASE` is set), which holds
        /// the lock until its hook and its check confirm the renewal.
        in_renew_hook: bool,
        /// How long it waited, in seconds.
        waited_secs: u64,
    },
    /// An enrolment secret cannot be made as asked (a device id HTTP Basic cannot carry, a
    /// lifetime that is not positive).
    #[error("enrolment secret for {device_id:?}: {reason}")]
    BadEnrolmentSecret {
        /// The device id, its control characters escaped.
        device_id: String,
        /// What is wrong.
        reason: String,
    },
    /// The operating system's random generator failed.
    #[error(
        "cannot make an enrolment secret: the operating system's random generator failed ({reason})"
    )]
    NoRandomness {
        /// The generator's reason.
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

fn locked_by(in_renew_hook: bool, waited_secs: u64) -> String {
    if in_renew_hook {
        "is locked by the `pki renew` whose hook runs this pki: the renewal holds it until its \
         hook and check confirm it, so a hook can read the register but not write it; run this \
         after `pki renew` returns"
            .to_owned()
    } else {
        format!(
            "is locked by another pki writing it (waited {waited_secs} s); try again when it is done"
        )
    }
}

/// The register's result.
pub type Result<T> = std::result::Result<T, Error>;
