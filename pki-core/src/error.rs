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
        reason: DeviceIdFault,
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
        /// Why it is not this directory's.
        reason: Foreign,
    },
    /// A certificate to renew is not in the register.
    #[error("{input}: not in the register (SHA-256 {sha256})")]
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
        reason: Unrecorded,
    },
    /// A CRL could not be made for this CA.
    #[error("cannot write the CRL of the {ca}: {reason}")]
    Crl {
        /// Which CA (`intermediate CA`, `edge CA "gw"`).
        ca: String,
        /// Why.
        reason: CrlFault,
    },
    /// A CRL distribution point URL that cannot go into a certificate.
    #[error("CRL URL {url:?}: {reason}")]
    BadCrlUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: CrlUrlFault,
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
    /// A validity that would end after 9999-12-31, the last date a certificate can hold.
    TooManyDays {
        /// The days of validity asked for.
        days: u32,
    },
    /// A certificate that signs itself was asked for from a CSR: it needs its private key.
    SelfSignedFromCsr {
        /// The profile asked for.
        profile: crate::Profile,
    },
    /// A certificate that a CA signs was asked for without an issuer.
    NeedsIssuer {
        /// The profile asked for.
        profile: crate::Profile,
    },
    /// A certificate of the register whose profile pki does not renew.
    ProfileNotRenewed {
        /// Its subject.
        subject: String,
        /// The profile the register records.
        profile: String,
    },
    /// A proof-of-possession (verification) certificate, which is made anew, never renewed.
    VerificationNotRenewed {
        /// Its subject.
        subject: String,
    },
    /// A certificate a device enrolled for over EST: its key and file are on the device, which
    /// renews it itself.
    EnrolledOverEst {
        /// Its subject.
        subject: String,
    },
    /// A certificate whose key is of a type pki cannot make again.
    KeyNotRenewable {
        /// Its subject.
        subject: String,
        /// The key reader's words.
        reason: String,
    },
    /// A certificate to adopt whose extensions match none of pki's profiles.
    NoProfileMatches {
        /// The certificate file.
        input: String,
    },
    /// A part of a certificate to renew that pki cannot issue again.
    NotReproducible {
        /// The certificate's subject.
        subject: String,
        /// Where: the subject or the subject alternative names.
        part: CertPart,
        /// What it holds.
        what: Unreproducible,
    },
    /// The CA that issued a certificate to renew is no CA of the directory any more.
    IssuerGone {
        /// The certificate's subject.
        subject: String,
        /// Its issuer.
        issuer: String,
        /// The CA directory.
        dir: PathBuf,
    },
    /// Several CAs of the directory have the issuer's name: which one signed is not known.
    IssuerAmbiguous {
        /// The certificate's subject.
        subject: String,
        /// Its issuer.
        issuer: String,
        /// The CA directory.
        dir: PathBuf,
        /// The prefixes of the CAs of that name.
        prefixes: Vec<String>,
    },
    /// The issuing CA's key was not given to the renewal.
    IssuerKeyNotGiven {
        /// The key's file (its PEM or its URI's record).
        key: PathBuf,
    },
    /// The certificate's own key, to be reused, was not given to the renewal.
    OwnKeyNotGiven {
        /// The key's file.
        key: PathBuf,
    },
    /// A renewal with a fresh key of a certificate whose key is on a token, without the key
    /// made there.
    FreshKeyOnToken {
        /// The certificate's subject.
        subject: String,
        /// The key's URI record.
        record: PathBuf,
    },
    /// A renewed certificate would differ from the original.
    DiffersFromOriginal {
        /// The original's subject.
        subject: String,
        /// Where it would differ.
        difference: Difference,
    },
    /// The file at a renewal's standard path is another certificate than the one renewed.
    AnotherAtStandardPath {
        /// The standard path.
        path: PathBuf,
        /// The serial of the certificate there.
        found_serial: String,
        /// The serial of the certificate renewed.
        renewed_serial: String,
    },
    /// The certificate renewed left service while it was being renewed (another pki renewed or
    /// revoked it).
    NoLongerInService {
        /// Its subject.
        subject: String,
        /// Its serial.
        serial: String,
    },
    /// Whoever had to trust the new certificate first (a tenant) did not: nothing was renewed.
    NotPublished {
        /// The caller's words for what failed.
        reason: String,
    },
}

/// The rule of Azure IoT Hub's (and pki's) a device id breaks ([`Error::BadDeviceId`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceIdFault {
    /// It is empty.
    Empty,
    /// It is longer than 128 characters.
    TooLong,
    /// It holds a character outside Azure's set.
    Character(char),
    /// It starts with a dot.
    LeadingDot,
    /// It starts with a dash.
    LeadingDash,
}

impl std::fmt::Display for DeviceIdFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceIdFault::Empty => f.write_str("it is empty"),
            DeviceIdFault::TooLong => f.write_str("it is longer than 128 characters"),
            DeviceIdFault::Character(c) => write!(
                f,
                "{c:?} is not allowed (letters, digits and -.%_*?!(),:=@$' only)"
            ),
            DeviceIdFault::LeadingDot => f.write_str(
                "it cannot start with a dot (it becomes a file name: `.`, `..`, a hidden file)",
            ),
            DeviceIdFault::LeadingDash => f.write_str(
                "it cannot start with a dash (it would read as a flag in the commands pki prints)",
            ),
        }
    }
}

/// Why a CA's CRL cannot be made ([`Error::Crl`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrlFault {
    /// The CA's keyUsage lacks cRLSign.
    NoCrlSign,
    /// The register holds a serial that is not hex.
    SerialNotHex {
        /// The serial as recorded.
        serial: String,
    },
    /// Signing failed.
    Sign {
        /// The signer's words.
        reason: String,
    },
}

impl std::fmt::Display for CrlFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CrlFault::NoCrlSign => f.write_str(
                "its keyUsage has no cRLSign (an edge CA made by an earlier pki, or an adopted \
                 CA); revoke it in its issuer's CRL to withdraw what it issued",
            ),
            CrlFault::SerialNotHex { serial } => {
                write!(f, "the register holds serial {serial:?}, which is not hex")
            }
            CrlFault::Sign { reason } => f.write_str(reason),
        }
    }
}

/// What is wrong with a CRL distribution point URL ([`Error::BadCrlUrl`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrlUrlFault {
    /// Not `http://`, `https://` nor `ldap://`.
    Scheme,
    /// No host.
    NoHost,
    /// Not ASCII, or with spaces or control characters.
    NotAscii,
}

impl std::fmt::Display for CrlUrlFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CrlUrlFault::Scheme => "give an http://, https:// or ldap:// URL",
            CrlUrlFault::NoHost => "the URL names no host",
            CrlUrlFault::NotAscii => {
                "a URL in a certificate is ASCII without spaces (percent-encode the rest)"
            }
        })
    }
}

/// Why a register is not the CA directory's own ([`Error::ForeignRegister`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Foreign {
    /// `register.sqlite3` is a symbolic link.
    SymbolicLink,
    /// It serves another CA directory.
    ServesAnother {
        /// That directory, as the register records it.
        other: String,
    },
    /// The directory's id file holds no id pki wrote.
    BadDirectoryId {
        /// The id file.
        path: PathBuf,
    },
}

impl std::fmt::Display for Foreign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Foreign::SymbolicLink => f.write_str(
                "a symbolic link; a CA directory's register.sqlite3 is its own file: put the file \
                 itself there, or name a register several directories share",
            ),
            Foreign::ServesAnother { other } => write!(
                f,
                "it serves another CA directory ({other}), copied or restored from there; put \
                 this directory's own register back (from a backup), or name a register several \
                 directories share"
            ),
            Foreign::BadDirectoryId { path } => write!(
                f,
                "{} is not an id pki wrote (32 hex digits); put it back from a backup",
                path.display()
            ),
        }
    }
}

/// Why what was given to revoke names no certificate, or several ([`Error::NotRecorded`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unrecorded {
    /// A batch file's line longer than pki reads.
    LineTooLong {
        /// The most bytes a line may have.
        max: usize,
    },
    /// A batch file's line that is not UTF-8.
    NotUtf8,
    /// A batch file's line with a control character.
    ControlCharacter,
    /// The file given cannot be read as certificates.
    Unreadable {
        /// The reader's words.
        reason: String,
    },
    /// The file given holds no certificate.
    NoCertificate,
    /// The certificate given is not in the register.
    NotInRegister,
    /// A serial several CAs issued.
    SeveralIssuers {
        /// The serial.
        serial: String,
        /// The issuers' subjects.
        issuers: Vec<String>,
    },
    /// No certificate has this serial or device id.
    NoMatch,
    /// It left the register while being revoked.
    NoLongerInRegister,
}

impl std::fmt::Display for Unrecorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const A_LINE: &str = "give one certificate file, serial or device id a line";
        match self {
            Unrecorded::LineTooLong { max } => {
                write!(f, "a line longer than {max} bytes: {A_LINE}")
            }
            Unrecorded::NotUtf8 => write!(f, "not UTF-8 text: {A_LINE}"),
            Unrecorded::ControlCharacter => write!(f, "holds a control character: {A_LINE}"),
            Unrecorded::Unreadable { reason } => f.write_str(reason),
            Unrecorded::NoCertificate => f.write_str("holds no certificate"),
            Unrecorded::NotInRegister => f.write_str(
                "this certificate is not in the register (issued elsewhere, or recorded in \
                 another register)",
            ),
            Unrecorded::SeveralIssuers { serial, issuers } => write!(
                f,
                "serial {serial} was issued by several CAs ({}): give the certificate file",
                issuers.join("; ")
            ),
            Unrecorded::NoMatch => f.write_str(
                "no certificate in the register has this serial or device id (CN); `pki list` \
                 shows what is there",
            ),
            Unrecorded::NoLongerInRegister => f.write_str("no longer in the register"),
        }
    }
}

/// A part of a certificate ([`Refusal::NotReproducible`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertPart {
    /// The subject.
    Subject,
    /// The subject alternative names.
    SubjectAltNames,
}

/// What a certificate holds that pki cannot issue again ([`Refusal::NotReproducible`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unreproducible {
    /// A subject value that is not text.
    NotText,
    /// A subject attribute other than one CN, O and OU.
    Attribute {
        /// Its OID, dotted.
        oid: String,
    },
    /// No CN.
    NoCommonName,
    /// An IP address SAN of neither 4 nor 16 bytes.
    OddIpAddress,
    /// A SAN of another kind than a DNS name or an IP address.
    OtherName {
        /// The name as the parser shows it.
        name: String,
    },
}

impl std::fmt::Display for Unreproducible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreproducible::NotText => f.write_str("a value that is not text"),
            Unreproducible::Attribute { oid } => write!(f, "the attribute {oid}"),
            Unreproducible::NoCommonName => f.write_str("no CN"),
            Unreproducible::OddIpAddress => f.write_str("an IP address of odd length"),
            Unreproducible::OtherName { name } => f.write_str(name),
        }
    }
}

/// Where a renewed certificate would differ from the original ([`Refusal::DiffersFromOriginal`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// Its subject, as the new certificate would have it.
    Subject(String),
    /// An extension, by OID.
    Extension(String),
    /// The order of the extensions.
    ExtensionOrder,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Subject(s) => write!(f, "its subject ({s})"),
            Difference::Extension(oid) => write!(f, "the extension {oid}"),
            Difference::ExtensionOrder => f.write_str("the order of its extensions"),
        }
    }
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
            Refusal::TooManyDays { days } => write!(
                f,
                "{days} days of validity would end after the year 9999, the last date a certificate can hold; give fewer days"
            ),
            Refusal::SelfSignedFromCsr { profile } => write!(
                f,
                "a {profile} certificate signs itself and needs its private key, not a CSR"
            ),
            Refusal::NeedsIssuer { profile } => {
                write!(f, "a {profile} certificate needs an issuer")
            }
            Refusal::ProfileNotRenewed { subject, profile } => write!(
                f,
                "{subject}: pki does not renew certificates of the profile {profile:?}"
            ),
            Refusal::VerificationNotRenewed { subject } => write!(
                f,
                "{subject}: a proof-of-possession certificate is not renewed; make a new one with `pki create-verification-cert`"
            ),
            Refusal::EnrolledOverEst { subject } => write!(
                f,
                "{subject}: enrolled over EST, its key on the device: the device re-enrols itself (simplereenroll, or `pki est reenroll` on the device)"
            ),
            Refusal::KeyNotRenewable { subject, reason } => write!(f, "{subject}: {reason}"),
            Refusal::NoProfileMatches { input } => write!(
                f,
                "{input}: its extensions match no profile pki renews (root, intermediate, edge CA, server, device)"
            ),
            Refusal::NotReproducible {
                subject,
                part,
                what,
            } => {
                let part = match part {
                    CertPart::Subject => "the subject holds",
                    CertPart::SubjectAltNames => "the subject alternative names hold",
                };
                write!(f, "{subject}: {part} {what}, which pki cannot reproduce")
            }
            Refusal::IssuerGone {
                subject,
                issuer,
                dir,
            } => write!(
                f,
                "{subject}: its issuer ({issuer}) is no CA of {} any more; it cannot be renewed here",
                dir.display()
            ),
            Refusal::IssuerAmbiguous {
                subject,
                issuer,
                dir,
                prefixes,
            } => write!(
                f,
                "{subject}: several CAs of {} are named {issuer} ({}); which one signed is not known",
                dir.display(),
                prefixes.join(", ")
            ),
            Refusal::IssuerKeyNotGiven { key } => write!(
                f,
                "the key of the issuing CA ({}) was not given",
                key.display()
            ),
            Refusal::OwnKeyNotGiven { key } => {
                write!(f, "the key {} was not given", key.display())
            }
            Refusal::FreshKeyOnToken { subject, record } => write!(
                f,
                "{subject}: the key is on a token ({}): its fresh key must be made there",
                record.display()
            ),
            Refusal::DiffersFromOriginal {
                subject,
                difference,
            } => write!(
                f,
                "{subject}: the renewed certificate would differ from the original in {difference}; renew it by issuing anew"
            ),
            Refusal::AnotherAtStandardPath {
                path,
                found_serial,
                renewed_serial,
            } => write!(
                f,
                "{} holds another certificate (serial {found_serial}) than the one renewed (serial {renewed_serial})",
                path.display()
            ),
            Refusal::NoLongerInService { subject, serial } => write!(
                f,
                "{subject} (serial {serial}) is no longer in service in the register: another pki renewed or revoked it"
            ),
            Refusal::NotPublished { reason } => write!(f, "{reason}; nothing was renewed"),
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
    /// The path is not a directory.
    NotADirectory,
    /// The path exists and is not a directory (where one is to be made).
    ExistsNotADirectory,
    /// A directory without `certs/` and `private/`.
    NoCertsOrPrivate,
    /// `private/` cannot be opened (a link, or not a directory).
    PrivateUnusable {
        /// The operating system's words.
        reason: String,
    },
}

impl std::fmt::Display for NotCaDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotCaDir::Missing => f.write_str("no CA directory here"),
            NotCaDir::OwnedByOther { owner, me } => write!(
                f,
                "owned by uid {owner}, not by this user (uid {me}); the keys in it are not yours to use"
            ),
            NotCaDir::NotADirectory => f.write_str("not a directory"),
            NotCaDir::ExistsNotADirectory => f.write_str("exists and is not a directory"),
            NotCaDir::NoCertsOrPrivate => f.write_str(
                "not a CA directory (no certs/ and private/); create one with `pki create-owner-ca`",
            ),
            NotCaDir::PrivateUnusable { reason } => f.write_str(reason),
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
