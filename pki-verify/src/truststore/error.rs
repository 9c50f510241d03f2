//! Why a trust-store operation could not be planned: a bad certificate, an unknown system, a
//! missing refresh tool, a name already taken.

use std::path::PathBuf;

/// Why installing, removing or listing could not be planned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustStoreError {
    /// The certificate file holds no readable X.509 certificate.
    #[error(
        "{input}: not a certificate ({reason}); give one X.509 certificate in PEM or DER (`openssl x509 -in FILE -noout -text` should read it)"
    )]
    BadCertificate {
        /// The file, as the user named it.
        input: String,
        /// What the parser said.
        reason: String,
    },

    /// The file holds several certificates: which one to trust would be a guess.
    #[error(
        "{input}: holds {count} certificates; give a file with only the CA certificate to trust"
    )]
    SeveralCertificates {
        /// The file.
        input: String,
        /// How many it holds.
        count: usize,
    },

    /// The certificate is not a CA (basicConstraints CA:FALSE or absent).
    #[error(
        "{input}: {subject} is not a CA certificate; trust stores hold CAs (give the root or intermediate CA), or pass --allow-leaf to pin this certificate itself"
    )]
    NotCa {
        /// The file.
        input: String,
        /// Its subject.
        subject: String,
    },

    /// /etc/os-release (or /usr/lib/os-release) is missing under the root.
    #[error(
        "cannot tell which system {root} is: neither {root}etc/os-release nor {root}usr/lib/os-release can be read"
    )]
    NoOsRelease {
        /// The root looked at, ending in `/`.
        root: String,
    },

    /// The system named by os-release has no known trust store layout.
    #[error(
        "unknown system ID={id} (ID_LIKE={id_like}): pki knows Debian, Ubuntu, Alpine, RHEL, Fedora, CentOS, Azure Linux, openSUSE, SLES and Arch; install the certificate by hand"
    )]
    UnknownSystem {
        /// os-release ID.
        id: String,
        /// os-release ID_LIKE, space-separated (empty when absent).
        id_like: String,
    },

    /// The refresh tool is not installed.
    #[error(
        "{tool} not found (looked in {looked}); install the {package} package{where_}, then run pki again"
    )]
    MissingTool {
        /// The tool's name.
        tool: &'static str,
        /// The places looked in, comma-separated.
        looked: String,
        /// The package that provides it.
        package: &'static str,
        /// " in the image" with --root, else empty.
        where_: &'static str,
    },

    /// A different certificate already has the file name asked for.
    #[error(
        "{path} already holds a different certificate (SHA-256 {other_sha256}); choose another --name"
    )]
    NameTaken {
        /// The file.
        path: PathBuf,
        /// The fingerprint of the certificate in it.
        other_sha256: String,
    },

    /// A name that cannot be a file name.
    #[error("--name {name:?}: use letters, digits, '.', '-' and '_' only")]
    BadName {
        /// The name given.
        name: String,
    },

    /// Reading the store failed.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },

    /// A store's file that pki does not read: not a regular file (a device, a FIFO, a
    /// directory), or larger than a trust store's file can sensibly be.
    #[error(
        "cannot read {path}: {reason}; pki reads only regular files of sane size there (a bundle at most 64 MiB, any other file 1 MiB): replace it with a regular file (a bundle is what the store's refresh tool writes), or remove it"
    )]
    Refused {
        /// The file, as the store names it (on this machine's path).
        path: PathBuf,
        /// Why, naming the file it resolved to.
        reason: String,
    },

    /// Writing the store failed (building a device image's bundle).
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },

    /// Listing the whole store is not supported on this system.
    #[error(
        "listing the whole {system} store is not supported; use {command} (pki lists what it installed without --all)"
    )]
    ListUnsupported {
        /// The system.
        system: &'static str,
        /// The system's own command for it.
        command: &'static str,
    },
}

pub(crate) fn io(path: &std::path::Path, reason: std::io::Error) -> TrustStoreError {
    TrustStoreError::Io {
        path: path.to_owned(),
        reason,
    }
}

pub(crate) fn write(path: &std::path::Path, reason: std::io::Error) -> TrustStoreError {
    TrustStoreError::Write {
        path: path.to_owned(),
        reason,
    }
}
