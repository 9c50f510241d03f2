//! What can go wrong with an EST message, as data: [`Error`] for a message the server cannot read
//! or a path it does not serve (the server answers 400 or 404 with the message as the reason), or
//! an answer the client cannot read ([`Pkcs7Fault`]); and [`Refusal`] for a well-formed request
//! that its credentials do not allow (403). Values that came from the network are shown with
//! `{:?}`, so control characters are escaped.

use pki_core::{KeyType, SanEntry};

/// An EST message the server cannot read, or a path it does not serve.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// The request body is larger than [`crate::MAX_CSR_BODY`]; refused before decoding it.
    #[error("the request body is {len} bytes, more than the {max} bytes a CSR may take")]
    TooLarge {
        /// The body's length.
        len: usize,
        /// The largest body accepted.
        max: usize,
    },
    /// The request body is empty.
    #[error("the request body is empty: send the CSR's DER, base64-encoded")]
    Empty,
    /// The body is PEM-armoured (`-----BEGIN CERTIFICATE REQUEST-----`): RFC 7030 §4.2.1 asks for
    /// the base64 of the DER alone.
    #[error(
        "the request body is PEM-armoured: send the base64 lines without the -----BEGIN/-----END \
         lines (RFC 7030 §4.2.1), e.g. `openssl req -in csr.pem -outform DER | base64`"
    )]
    PemArmour,
    /// The body is not base64.
    #[error("the request body is not base64 ({reason}): send the CSR's DER, base64-encoded")]
    NotBase64 {
        /// What the decoder found.
        reason: String,
    },
    /// The decoded body does not parse as a PKCS#10 certification request.
    #[error("the request body is not a PKCS#10 certificate signing request ({reason})")]
    NotACsr {
        /// What the parser found.
        reason: String,
    },
    /// The CSR's self-signature does not verify (altered, not signed by its own key, or signed
    /// with an algorithm pki does not check).
    #[error(
        "the certificate signing request's signature does not verify: it was altered, or not \
         signed by its own key"
    )]
    BadSignature,
    /// The CSR is well-formed and signed but asks for what pki cannot issue (no common name, a
    /// kind of SAN pki does not issue, a key type it does not know).
    #[error("the certificate signing request cannot be used: {reason}")]
    Unusable {
        /// What pki cannot issue.
        reason: String,
    },
    /// The path is longer than [`crate::MAX_PATH`].
    #[error("the path is {len} bytes long, more than the {max} an EST path may take")]
    PathTooLong {
        /// The path's length.
        len: usize,
        /// The longest path accepted.
        max: usize,
    },
    /// The path is not under `/.well-known/est/`.
    #[error("{path:?} is not an EST path: they start with /.well-known/est/")]
    NotEst {
        /// The path.
        path: String,
    },
    /// The path is malformed (an odd character, an empty or a dot segment, too many segments).
    #[error("{path:?} is not a valid EST path: {fault}")]
    BadPath {
        /// The path.
        path: String,
        /// What is wrong with it.
        fault: PathFault,
    },
    /// The label segment names no label pki serves.
    #[error("{label:?} is not an EST label of this server (device, server, edge-ca)")]
    UnknownLabel {
        /// The segment.
        label: String,
    },
    /// The last segment names no EST operation.
    #[error(
        "{operation:?} is not an EST operation (cacerts, simpleenroll, simplereenroll, csrattrs, \
         serverkeygen)"
    )]
    UnknownOperation {
        /// The segment.
        operation: String,
    },
    /// A message could not be encoded (an input beyond DER's lengths).
    #[error("could not encode the {what}: {reason}")]
    Encoding {
        /// The message being encoded.
        what: &'static str,
        /// The encoder's error.
        reason: String,
    },
    /// A certs-only PKCS#7 (the answer to `/cacerts` or to an enrolment) cannot be read.
    #[error("the answer is not a certs-only PKCS#7: {fault}")]
    BadPkcs7 {
        /// What is wrong with it.
        fault: Pkcs7Fault,
    },
}

/// What makes a certs-only PKCS#7 unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pkcs7Fault {
    /// Larger than the bound; refused before decoding.
    TooLarge {
        /// Its length.
        len: usize,
        /// The largest accepted.
        max: usize,
    },
    /// Nothing (or white space only).
    Empty,
    /// PEM armour (`-----BEGIN PKCS7-----`) around it: EST sends the base64 alone.
    PemArmour,
    /// Not base64.
    NotBase64 {
        /// What the decoder found.
        reason: String,
    },
    /// Not DER, or not the structure of a ContentInfo holding a SignedData (BER's indefinite
    /// lengths included).
    NotDer {
        /// What the decoder found.
        reason: String,
    },
    /// A ContentInfo of another type than SignedData.
    NotSignedData {
        /// Its content type's OID.
        content_type: String,
    },
    /// More certificates than the bound.
    TooManyCertificates {
        /// How many it holds.
        count: usize,
        /// The most accepted.
        max: usize,
    },
    /// No certificate in it.
    NoCertificate,
    /// An entry of its certificates that is not an X.509 certificate.
    NotACertificate {
        /// Its place, from 1.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
}

impl std::fmt::Display for Pkcs7Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pkcs7Fault::TooLarge { len, max } => {
                write!(f, "it is {len} bytes, more than the {max} read")
            }
            Pkcs7Fault::Empty => f.write_str("it is empty"),
            Pkcs7Fault::PemArmour => {
                f.write_str("it is PEM-armoured (-----BEGIN ...), not the base64 of the DER alone")
            }
            Pkcs7Fault::NotBase64 { reason } => write!(f, "it is not base64 ({reason})"),
            Pkcs7Fault::NotDer { reason } => {
                write!(
                    f,
                    "it is not a DER ContentInfo holding a SignedData ({reason})"
                )
            }
            Pkcs7Fault::NotSignedData { content_type } => {
                write!(f, "its content type is {content_type}, not signedData")
            }
            Pkcs7Fault::TooManyCertificates { count, max } => {
                write!(f, "it holds {count} certificates, more than the {max} read")
            }
            Pkcs7Fault::NoCertificate => f.write_str("it holds no certificate"),
            Pkcs7Fault::NotACertificate { index, reason } => {
                write!(
                    f,
                    "its entry {index} is not an X.509 certificate ({reason:?})"
                )
            }
        }
    }
}

/// What makes a path malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathFault {
    /// A character outside RFC 3986's unreserved set and `/`: percent-escapes, queries,
    /// backslashes, control characters and non-ASCII are refused, never decoded.
    Character(char),
    /// An empty segment (`//`, or a trailing `/`).
    EmptySegment,
    /// A `.` or `..` segment.
    DotSegment,
    /// More segments than `[LABEL/]OPERATION`.
    TooManySegments,
}

impl std::fmt::Display for PathFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathFault::Character(c) => write!(f, "it holds the character {c:?}"),
            PathFault::EmptySegment => f.write_str("it has an empty segment"),
            PathFault::DotSegment => f.write_str("it has a . or .. segment"),
            PathFault::TooManySegments => {
                f.write_str("it has more segments than /.well-known/est/[LABEL/]OPERATION")
            }
        }
    }
}

/// Why a well-formed CSR is not allowed to the credentials that sent it.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The CSR asks for another common name than the credentials allow.
    #[error(
        "the request asks for the common name {asked:?}; these credentials allow only {allowed:?}"
    )]
    CommonName {
        /// The CN the CSR asks for.
        asked: String,
        /// The CN the credentials allow.
        allowed: String,
    },
    /// The CSR asks for a SAN the credentials do not allow.
    #[error(
        "the request asks for the subject alternative name {asked}, which these credentials do not allow"
    )]
    SanNotAllowed {
        /// The SAN not allowed.
        asked: SanEntry,
    },
    /// Re-enrolment: the CSR's SANs are not exactly the current certificate's.
    #[error(
        "the request asks for the subject alternative names [{}]; re-enrolment keeps exactly [{}]",
        list(asked),
        list(required)
    )]
    SansDiffer {
        /// The SANs the CSR asks for.
        asked: Vec<SanEntry>,
        /// The SANs it must ask for.
        required: Vec<SanEntry>,
    },
    /// The CSR's key type is not on the allow-list.
    #[error("the request's key is {asked}; this server accepts {}", list(allowed))]
    KeyType {
        /// The CSR's key type.
        asked: KeyType,
        /// The key types accepted.
        allowed: Vec<KeyType>,
    },
}

/// `a, b, c` (SANs' Display escapes nothing, but they were validated as DNS names or IPs).
fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
