//! The one error type of `pki-x509`: every way reading, parsing or using a key, a certificate,
//! a CRL or a file can fail, naming the input at fault.

use std::path::PathBuf;

/// Why a `pki-x509` operation could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read, written, or created.
    #[error("{path}: {reason}")]
    Io {
        /// The file or directory at fault.
        path: PathBuf,
        /// The operating system's reason (shown in the message, so not a `source`).
        reason: std::io::Error,
    },
    /// The input holds no certificate, or one that does not parse.
    #[error("{input}: not a valid certificate ({reason})")]
    BadCertificate {
        /// The file (or other input) at fault.
        input: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The input holds no certificate revocation list, or one that does not parse.
    #[error("{input}: not a valid CRL ({reason})")]
    BadCrl {
        /// The file (or other input) at fault.
        input: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The input holds no private key, or one that does not parse.
    #[error("{input}: not a valid private key ({reason})")]
    BadKey {
        /// The file (or other input) at fault.
        input: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The private key is encrypted and no password was supplied.
    #[error("{input}: the private key is encrypted and no password was given")]
    KeyPasswordNeeded {
        /// The key file.
        input: String,
    },
    /// The password did not decrypt the private key.
    #[error("{input}: wrong password for the encrypted private key")]
    WrongKeyPassword {
        /// The key file.
        input: String,
    },
    /// The key type is not one `pki` can generate or use.
    #[error(
        "unknown key type {0:?}: use ec-p256, ec-p384, ed25519, rsa-2048, rsa-3072 or rsa-4096"
    )]
    UnknownKeyType(String),
    /// The certificate library failed to build or sign a certificate.
    #[error("could not sign the certificate: {0}")]
    Sign(String),
}

/// The result type of `pki-x509`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A failed read or write of `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            reason: source,
        }
    }
}
