//! The one error type of `pki-core`: every way an operation can fail to run, naming the input at fault.

use std::path::PathBuf;

/// Why a `pki-core` operation could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key, certificate, CRL or file could not be read, parsed or used (pki-x509's error).
    #[error(transparent)]
    X509(#[from] pki_x509::Error),
    /// The private key does not belong to the certificate.
    #[error("{key}: the private key does not match the certificate {cert}")]
    KeyMismatch {
        /// The key file.
        key: String,
        /// The certificate file.
        cert: String,
    },
    /// A PKCS#12 file could not be built from the key and certificates given.
    #[error("{output}: cannot write the PKCS#12 file ({reason})")]
    Pkcs12 {
        /// The PKCS#12 file being written.
        output: String,
        /// Why the writer refused.
        reason: String,
    },
    /// The CSR does not parse or its self-signature is wrong.
    #[error("{input}: not a valid certificate signing request ({reason})")]
    BadCsr {
        /// The CSR file.
        input: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A name is neither a valid DNS name nor an IP address.
    #[error("{0:?} is not a valid DNS name or IP address")]
    BadHostName(String),
    /// A device id breaks Azure IoT Hub's rules for device ids.
    #[error("{id:?} is not a valid device id: {reason} (a device id is {rule})", rule = crate::profile::DEVICE_ID_RULE)]
    BadDeviceId {
        /// The device id as given.
        id: String,
        /// The rule it breaks.
        reason: String,
    },
    /// A profile parameter is not acceptable (for example an edge CA name equal to a gateway host name).
    #[error("{0}")]
    Refused(Refusal),
    /// The directory is not a CA directory, or lacks the CA asked for.
    #[error("{dir}: {reason}")]
    NotACaDir {
        /// The CA directory.
        dir: PathBuf,
        /// What is missing.
        reason: NotCaDir,
    },
    /// A file exists and overwriting it was not asked for.
    #[error("{0}: already exists")]
    Exists(PathBuf),
    /// The issuer certificate cannot issue certificates.
    #[error("{subject}: this certificate is not a CA and cannot issue certificates")]
    IssuerNotCa {
        /// The issuer's subject.
        subject: String,
    },
    /// The register could not be opened, read or written.
    #[error(transparent)]
    Register(#[from] pki_register::Error),
    /// The CA directory's own register is missing or empty while the directory has issued
    /// certificates: taking it would forget every revocation and CRL number.
    #[error(
        "register {}: {what} while this CA directory has issued certificates (its revocations would be forgotten); restore it from a backup",
        path.display()
    )]
    RegisterLost {
        /// The register file.
        path: PathBuf,
        /// What is wrong with it: missing, or empty.
        what: &'static str,
    },
    /// The register is not this directory's: a link to a file elsewhere, or a register that
    /// serves another CA directory.
    #[error("register {register}: {reason}")]
    ForeignRegister {
        /// The register.
        register: String,
        /// Why it is not this directory's, and what to do.
        reason: String,
    },
    /// A certificate to renew is not in the register.
    #[error(
        "{input}: not in the register (SHA-256 {sha256}); give --adopt to record it (if a CA of this directory issued it) and renew it"
    )]
    NotRegistered {
        /// The certificate file.
        input: String,
        /// Its SHA-256, upper-case hex.
        sha256: String,
    },
    /// No certificate in service has this CN (a device id, a gateway host name).
    #[error("no certificate in service has the CN {name:?} in the register {register}")]
    UnknownName {
        /// The CN asked for.
        name: String,
        /// The register looked in.
        register: String,
    },
    /// A certificate to adopt was not signed by any CA of the directory.
    #[error(
        "{input}: no CA of {dir} issued it (no CA's signature matches), so it cannot be adopted"
    )]
    NotIssuedHere {
        /// The certificate file.
        input: String,
        /// The CA directory.
        dir: PathBuf,
    },
    /// A certificate to renew is no longer in service (superseded or revoked).
    #[error("{subject} (serial {serial}) is {status}{}; renew the certificate in service", superseded_by.as_ref().map(|s| format!(" by the certificate with SHA-256 {s}")).unwrap_or_default())]
    NotInService {
        /// Its subject.
        subject: String,
        /// Its serial.
        serial: String,
        /// Its status in the register.
        status: &'static str,
        /// Its successor's SHA-256, when superseded by a renewal.
        superseded_by: Option<String>,
    },
    /// What was given to revoke is not a certificate of the register.
    #[error("{}{}: {reason}", line_prefix(.file, *.line), shown(.given))]
    NotRecorded {
        /// The file, serial or device id as given.
        given: String,
        /// The `--batch` file it came from, when it did.
        file: Option<PathBuf>,
        /// Its 1-based line in that file.
        line: Option<usize>,
        /// Why it names no certificate (or several).
        reason: String,
    },
    /// A CRL could not be made for this CA.
    #[error("cannot write the CRL of the {ca}: {reason}")]
    Crl {
        /// Which CA (`intermediate CA`, `edge CA "gw"`).
        ca: String,
        /// Why.
        reason: String,
    },
    /// A CRL distribution point URL that cannot go into a certificate.
    #[error("CRL URL {url:?}: {reason}")]
    BadCrlUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The index of issued certificates holds a line that does not parse.
    #[error("{path}:{line}: corrupt index line ({reason})")]
    BadIndex {
        /// The index file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What was wrong with it.
        reason: String,
    },
}

/// Why a request was refused ([`Error::Refused`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// A path length constraint of a CA above the issuer allows no certificate of this kind
    /// at this depth.
    PathLength {
        /// The subject of the CA whose constraint it is.
        subject: String,
        /// Its path length constraint.
        limit: u32,
        /// The kind of certificate refused (a [`crate::Profile`] name).
        profile: &'static str,
    },
    /// A server certificate's issuer was not named and the directory holds several edge CAs.
    SeveralEdgeCas {
        /// The CA directory.
        dir: PathBuf,
        /// The edge CAs' names.
        names: Vec<String>,
    },
    /// No CA of the directory may issue the certificate asked for.
    NoIssuer {
        /// The CA directory.
        dir: PathBuf,
        /// The CAs looked for, in order.
        looked_for: Vec<String>,
    },
    /// An IoT Edge device CA's CN would equal a gateway host name or a device id.
    NameClash {
        /// The name asked for.
        name: String,
        /// The profile asked for.
        profile: &'static str,
        /// The profile of the certificate in service that holds the name.
        other_profile: String,
        /// Its file (as the register records it).
        other_path: String,
    },
    /// A revocation dated after the present.
    FutureRevocation {
        /// The revocation time asked for.
        at: time::OffsetDateTime,
        /// The present.
        now: time::OffsetDateTime,
    },
    /// A revocation dated before the certificate was issued (its notBefore).
    RevocationBeforeIssue {
        /// The revocation time asked for.
        at: time::OffsetDateTime,
        /// The certificate's subject.
        subject: String,
        /// Its serial.
        serial: String,
        /// Its notBefore.
        not_before: time::OffsetDateTime,
    },
    /// A revocation dated before 1950, where a CRL's UTCTime begins (RFC 5280, 4.1.2.5): no
    /// certificate of pki's was revoked then.
    RevocationTooEarly {
        /// The revocation time asked for.
        at: time::OffsetDateTime,
    },
    /// A renewal whose CA expires no later than the certificate renewed: it would gain
    /// nothing until the CA is renewed.
    RenewalGainsNothing {
        /// The certificate's subject.
        subject: String,
        /// The CA (`edge CA "gw"`, or its subject).
        ca: String,
        /// The CA's role in the directory, when it is one of its CAs.
        role: Option<crate::CaRole>,
        /// The CA's notAfter.
        ca_not_after: time::OffsetDateTime,
    },
    /// Another refusal, in words.
    Other(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::PathLength {
                subject,
                limit,
                profile,
            } => write!(
                f,
                "{subject} has pathlen:{limit}, which allows no {profile} at this depth"
            ),
            Refusal::SeveralEdgeCas { dir, names } => write!(
                f,
                "{} holds several edge CAs ({})",
                dir.display(),
                names.join(", ")
            ),
            Refusal::NoIssuer { dir, looked_for } => write!(
                f,
                "{}: no CA to sign with (looked for {})",
                dir.display(),
                looked_for.join(", ")
            ),
            Refusal::NameClash {
                name,
                profile,
                other_profile,
                other_path,
            } => write!(
                f,
                "{name:?} is already the CN of a {other_profile} certificate ({other_path}); a {profile} certificate cannot have it: an IoT Edge device CA's CN must differ from the gateway hostname and every device id"
            ),
            Refusal::FutureRevocation { at, now } => write!(
                f,
                "a revocation at {} is in the future (it is {} now): revoke when it happens, and date a compromise in the past",
                rfc3339(*at),
                rfc3339(*now)
            ),
            Refusal::RevocationBeforeIssue {
                at,
                subject,
                serial,
                not_before,
            } => write!(
                f,
                "a revocation at {} is before the certificate was issued: {subject} (serial {serial}) is valid from {}; date the revocation at or after it",
                rfc3339(*at),
                rfc3339(*not_before)
            ),
            Refusal::RevocationTooEarly { at } => write!(
                f,
                "a revocation at {} is before 1950, where a CRL's dates begin: give the time it happened",
                rfc3339(*at)
            ),
            Refusal::RenewalGainsNothing {
                subject,
                ca,
                ca_not_after,
                ..
            } => write!(
                f,
                "{subject}: renewing it would gain nothing: its {ca} expires at {}, no later than the certificate does; renew the CA first",
                rfc3339(*ca_not_after)
            ),
            Refusal::Other(reason) => f.write_str(reason),
        }
    }
}

/// `t` as RFC 3339.
fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// Why a directory is not a CA directory that can be used ([`Error::NotACaDir`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotCaDir {
    /// Nothing is there.
    Missing,
    /// `private/` belongs to another user: the keys in it are not this user's to use.
    OwnedByOther {
        /// The owner's uid.
        owner: u32,
        /// This process's effective uid.
        me: u32,
    },
    /// Another reason, in words.
    Other(String),
}

impl std::fmt::Display for NotCaDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotCaDir::Missing => f.write_str("no CA directory here"),
            NotCaDir::OwnedByOther { owner, me } => write!(
                f,
                "owned by uid {owner}, not by this user (uid {me}); the keys in it are not yours to use"
            ),
            NotCaDir::Other(reason) => f.write_str(reason),
        }
    }
}

/// `FILE:LINE: ` of a batch file's line, or nothing.
/// Characters of a given value (a batch line, an argument) an error shows.
const SHOWN_CHARS: usize = 64;

/// A value as an error shows it: quoted and escaped, its first [`SHOWN_CHARS`] characters and
/// `…` when there is more (a 100 kB argument is never echoed whole).
fn shown(s: &str) -> String {
    match s.char_indices().nth(SHOWN_CHARS) {
        None => format!("{s:?}"),
        Some((end, _)) => format!("{:?}", format!("{}…", &s[..end])),
    }
}

fn line_prefix(file: &Option<PathBuf>, line: Option<usize>) -> String {
    match (file, line) {
        (Some(f), Some(l)) => format!("{}:{l}: ", f.display()),
        (None, Some(l)) => format!("line {l}: "),
        _ => String::new(),
    }
}

/// The result type of `pki-core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::X509(pki_x509::Error::io(path, source))
    }
}

/// The certificate at `input` is not one pki can use: `reason`.
pub(crate) fn bad_cert(input: &str, reason: &str) -> Error {
    Error::X509(pki_x509::bad_cert(input, reason))
}
