//! The one error type of `pki-verify`: a check that could not run.
//!
//! A certificate that fails verification is not an error: it is a [`crate::Report`] with a
//! negative verdict. `Error` means the input could not be read or parsed, or a gateway could not be
//! reached.

/// Why a verification could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The PEM text of an input could not be decoded.
    #[error("cannot read PEM in {input}: {reason}")]
    Pem {
        /// Which input: `leaf`, `chain`, `trust anchors`, or a caller-supplied name.
        input: String,
        /// What the PEM decoder said.
        reason: String,
    },

    /// An input that must hold a certificate holds none.
    #[error("no certificate in {input}")]
    NoCertificate {
        /// Which input.
        input: String,
    },

    /// A certificate's DER could not be parsed as X.509.
    #[error("cannot parse {input} as an X.509 certificate: {reason}")]
    Parse {
        /// Which certificate: `leaf`, `intermediate #2`, `trust anchor #1` (1-based, in input order).
        input: String,
        /// What the parser said.
        reason: String,
    },

    /// A line of a hosts file (`pki scan`) is not a gateway.
    #[error("{input} line {line}: {reason}")]
    HostsFile {
        /// The hosts file.
        input: String,
        /// The line (1-based).
        line: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// A hosts file names no gateway (only comments and blank lines, or nothing).
    #[error("{input} names no gateway: give one HOST[:PORT] a line")]
    NoHosts {
        /// The hosts file.
        input: String,
    },

    /// The key given for a client certificate is not that certificate's: a server would
    /// refuse the handshake with `decrypt error`, so nothing is sent.
    #[error("the key {key} does not belong to the certificate {cert} (their public keys differ)")]
    ClientKeyMismatch {
        /// The certificate file.
        cert: String,
        /// The key file, or the token key's URI.
        key: String,
    },

    /// The key given for a client certificate cannot be used (its public half cannot be read).
    #[error("the client key {key} cannot be used: {reason}")]
    ClientKey {
        /// The key file, or the token key's URI.
        key: String,
        /// Why.
        reason: String,
    },

    /// The gateway could not be checked: its name does not resolve, its port refuses, it stays
    /// silent or speaks no TLS, or the client certificate cannot be used.
    #[error(transparent)]
    Probe(#[from] crate::probe::ProbeError),
}
