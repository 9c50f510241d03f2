//! The one error type of `pki-verify`: a check that could not run.
//!
//! A certificate that fails verification is not an error: it is a [`crate::Report`] with a
//! negative verdict. `Error` means the input could not be read or parsed, or asks for something
//! this crate cannot check.

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

    /// A signature in the chain uses an algorithm this crate cannot check (for example ECDSA
    /// with SHA-1 or SHA-512, DSA), so the OpenSSL verdict cannot be computed.
    #[error("cannot check the signature of {subject}: unsupported signature algorithm {algorithm}")]
    UnsupportedSignature {
        /// Subject of the certificate whose signature could not be checked.
        subject: String,
        /// The signature algorithm's OID, dotted.
        algorithm: String,
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

    /// The gateway could not be checked: its name does not resolve, its port refuses, it stays
    /// silent or speaks no TLS, or the client certificate cannot be used.
    #[error(transparent)]
    Probe(#[from] crate::probe::ProbeError),
}
