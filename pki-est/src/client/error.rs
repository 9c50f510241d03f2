//! What can go wrong when a device enrols, as data: [`ClientError`], one variant for each way
//! (a URL that is not one, a server that cannot be reached or is not trusted, each refusal the
//! server answers with, an answer that is not a certs-only PKCS#7, a certificate that is not the
//! one asked for). What a server said is shown with `{:?}`, so control characters are escaped;
//! the command line adds which flag or command fixes it.

use std::time::Duration;

/// Why an enrolment could not be done. Nothing was written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server's URL is not one an EST client can use.
    #[error("{url:?} is not an EST server's URL: {fault}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        fault: UrlFault,
    },
    /// The label is not one path segment.
    #[error(
        "{label:?} is not an EST label: one path segment of letters, digits, '-', '_', '.' or '~'"
    )]
    BadLabel {
        /// The label as given.
        label: String,
    },
    /// A device id that HTTP Basic cannot carry (a `:`, a control character) or that is empty.
    #[error(
        "the device id {id:?} cannot be sent as HTTP Basic's user: it must be non-empty, without ':' or control characters"
    )]
    BadDeviceId {
        /// The id.
        id: String,
    },
    /// A certificate to trust cannot be a trust anchor.
    #[error("the certificate {subject} cannot be a trust anchor: {reason}")]
    BadAnchor {
        /// Its subject.
        subject: String,
        /// What rustls said.
        reason: String,
    },
    /// No certificate to trust the server with.
    #[error("no certificate to trust the server's TLS with")]
    NoAnchors,
    /// The client certificate and key cannot be presented.
    #[error("the client certificate cannot be presented: {reason}")]
    ClientCertificate {
        /// What rustls said.
        reason: String,
    },
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTPS client: {reason}")]
    Setup {
        /// What failed.
        reason: String,
    },
    /// The CSR could not be made.
    #[error("cannot make the certificate signing request: {reason}")]
    Csr {
        /// What failed.
        reason: String,
    },
    /// The server's host name does not resolve.
    #[error("{url}: the host name does not resolve ({reason})")]
    Resolve {
        /// The URL asked.
        url: String,
        /// What the resolver said.
        reason: String,
    },
    /// The server cannot be reached (refused, unreachable network, reset).
    #[error("{url}: the server cannot be reached: {reason}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The server did not answer in time.
    #[error("{url}: no answer within {} s", within.as_secs_f64())]
    Timeout {
        /// The URL asked.
        url: String,
        /// How long it was given.
        within: Duration,
    },
    /// The server's certificate is not trusted (or not for its name).
    #[error("{url}: the server's TLS certificate is not trusted: {reason}")]
    Untrusted {
        /// The URL asked.
        url: String,
        /// What rustls said.
        reason: String,
    },
    /// The TLS connection failed otherwise (not TLS, no common version, the server refused the
    /// client certificate with an alert).
    #[error("{url}: the TLS connection failed: {reason}")]
    Tls {
        /// The URL asked.
        url: String,
        /// What rustls said.
        reason: String,
    },
    /// 401: the server did not accept the credentials.
    #[error(
        "{url}: the server refused the credentials (401 Unauthorized){}",
        said(reason)
    )]
    Unauthorized {
        /// The URL asked.
        url: String,
        /// How the client authenticated.
        auth: AuthKind,
        /// What the server said, one line.
        reason: String,
    },
    /// 403: the credentials do not allow what was asked.
    #[error(
        "{url}: the server refused the request (403 Forbidden){}",
        said(reason)
    )]
    Forbidden {
        /// The URL asked.
        url: String,
        /// What the server said, one line.
        reason: String,
    },
    /// 400: the server could not use the request.
    #[error(
        "{url}: the server could not use the request (400 Bad Request){}",
        said(reason)
    )]
    BadRequest {
        /// The URL asked.
        url: String,
        /// What the server said, one line.
        reason: String,
    },
    /// 404: no EST service at this URL (or not this label).
    #[error("{url}: no such EST operation here (404 Not Found){}", said(reason))]
    NotFound {
        /// The URL asked.
        url: String,
        /// What the server said, one line.
        reason: String,
    },
    /// 429: too many attempts; try again later.
    #[error("{url}: the server refuses for now: too many attempts (429 Too Many Requests){}", after(*retry_after))]
    RateLimited {
        /// The URL asked.
        url: String,
        /// The seconds the server asked to wait (`Retry-After`).
        retry_after: Option<u64>,
    },
    /// 202: the server holds the request for an operator's approval (RFC 7030 §4.2.3).
    #[error("{url}: the server holds the request for approval (202 Accepted){}", after(*retry_after))]
    Pending {
        /// The URL asked.
        url: String,
        /// The seconds the server asked to wait (`Retry-After`).
        retry_after: Option<u64>,
    },
    /// Another status.
    #[error("{url}: the server answered {status}{}", said(reason))]
    Status {
        /// The URL asked.
        url: String,
        /// The status, with its reason phrase.
        status: String,
        /// What the server said, one line.
        reason: String,
    },
    /// The answer is larger than the client reads.
    #[error("{url}: the answer is larger than the {limit} bytes read")]
    TooLarge {
        /// The URL asked.
        url: String,
        /// The bound.
        limit: u64,
    },
    /// The connection broke while the answer was read.
    #[error("{url}: the answer was cut off after {received} bytes: {reason}")]
    BrokenOff {
        /// The URL asked.
        url: String,
        /// The bytes received.
        received: usize,
        /// What failed.
        reason: String,
    },
    /// A 200 that is not `application/pkcs7-mime`.
    #[error("{url}: the answer is {content_type:?}, not application/pkcs7-mime")]
    NotPkcs7 {
        /// The URL asked.
        url: String,
        /// The Content-Type sent (empty when none).
        content_type: String,
    },
    /// A 200 whose body is not a certs-only PKCS#7.
    #[error("{url}: {error}")]
    BadAnswer {
        /// The URL asked.
        url: String,
        /// What is wrong with it.
        error: crate::Error,
    },
    /// The certificate issued is not the one asked for.
    #[error(
        "{url}: the server answered with a certificate that is not the one asked for: {mismatch}"
    )]
    Mismatch {
        /// The URL asked.
        url: String,
        /// How it differs.
        mismatch: Mismatch,
    },
    /// The current certificate holds a name the request cannot carry over.
    #[error("the certificate {subject} cannot be re-enrolled: {reason}")]
    Unrenewable {
        /// Its subject.
        subject: String,
        /// Why.
        reason: String,
    },
}

/// What makes a URL unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlFault {
    /// It does not parse.
    Syntax(String),
    /// Not `https://`: EST runs over TLS only.
    NotHttps,
    /// No host.
    NoHost,
    /// A user or password in it (credentials go in files).
    Credentials,
    /// A query or a fragment.
    QueryOrFragment,
}

impl std::fmt::Display for UrlFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UrlFault::Syntax(e) => write!(f, "{e}"),
            UrlFault::NotHttps => f.write_str("it must start with https:// (EST runs over TLS)"),
            UrlFault::NoHost => f.write_str("it names no host"),
            UrlFault::Credentials => {
                f.write_str("it holds a user or password; credentials are never part of the URL")
            }
            UrlFault::QueryOrFragment => f.write_str("it has a query or a fragment"),
        }
    }
}

/// How the client authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// HTTP Basic with a device id and a one-time secret.
    Secret,
    /// A client certificate over mutual TLS.
    Certificate,
}

/// How an issued certificate differs from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// No certificate of the answer carries the request's public key.
    PublicKey {
        /// How many certificates the answer held.
        certificates: usize,
    },
    /// Its common name is not the one asked for.
    CommonName {
        /// The CN asked for.
        asked: String,
        /// The CN issued (empty when none).
        issued: String,
    },
    /// No CA certificate of the server signed it.
    Issuer {
        /// Its issuer.
        issuer: String,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::PublicKey { certificates } => write!(
                f,
                "none of its {certificates} certificate(s) carries the public key of the request"
            ),
            Mismatch::CommonName { asked, issued } => {
                write!(f, "its common name is {issued:?}, not {asked:?}")
            }
            Mismatch::Issuer { issuer } => write!(
                f,
                "its issuer {issuer:?} is none of the CA certificates the server sends (/cacerts)"
            ),
        }
    }
}

/// `: "what the server said"`, or nothing when it said nothing.
fn said(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason:?}")
    }
}

/// `; try again in N s`, when the server said when.
fn after(retry_after: Option<u64>) -> String {
    retry_after.map_or_else(String::new, |s| format!("; try again in {s} s"))
}
