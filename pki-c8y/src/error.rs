//! The one error type of `pki-c8y`: every way a conversation with a tenant can fail, as data
//! (the URL, the request, the status, the tenant's own message), one line each.
//!
//! Nothing here names a flag of the `pki` command line: the binary adds its own advice ("check
//! --url") when it shows an error. Every text a tenant sent, and every reason that may quote it,
//! has been through the session's redactor before it is put in an error.

use std::time::Duration;

use pki_core::{KeyType, VERIFICATION_CODE_RULE};

/// One MiB, the unit the size limits are named in.
pub(crate) const MIB: u64 = 1024 * 1024;

/// A tenant's answer that was not the one wanted: its HTTP status and its own message.
///
/// Shown as `503 Service Unavailable: the tenant's message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The tenant's message on one line: `message (error)` of its error document, else the
    /// start of the text it sent, else `no message`. Redacted.
    pub message: String,
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reason = reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("<unknown status code>");
        write!(f, "{} {reason}: {}", self.status, self.message)
    }
}

/// Why a call to a tenant could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The tenant URL does not parse.
    #[error("{url:?} is not a URL ({reason})")]
    BadUrl {
        /// The URL as given, without its userinfo.
        url: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The tenant URL is not `https://`: a tenant is only spoken to over verified TLS.
    #[error("{url} is not an https:// URL: pki talks to a tenant over verified TLS only")]
    NotHttps {
        /// The URL as given, without its userinfo.
        url: String,
    },
    /// The tenant URL names no host.
    #[error("{url} names no host")]
    NoHost {
        /// The URL as given, without its userinfo.
        url: String,
    },
    /// The tenant URL carries a user or password (`https://user:password@host`): refused, since
    /// a password does not belong in a URL that sits on a command line or in a variable.
    #[error("{url}: the URL must not carry credentials")]
    Credentials {
        /// The URL without its userinfo.
        url: String,
    },
    /// The user name cannot be sent in an HTTP header.
    #[error("the user {user:?} cannot be sent in an HTTP header")]
    BadUser {
        /// The user as it would be sent (`user` or `tenant/user`).
        user: String,
    },
    /// A certificate given as a trust anchor cannot be one.
    #[error("{subject}: a certificate cannot be a trust anchor: {reason}")]
    BadAnchor {
        /// The subject of the certificate.
        subject: String,
        /// rustls's reason.
        reason: String,
    },
    /// No certificate to verify the tenant's TLS with: none given, or none usable.
    #[error("no trusted CA certificates to verify the tenant with")]
    NoAnchors,
    /// The HTTPS client could not be set up.
    #[error("cannot set up the HTTPS client: {reason}")]
    Setup {
        /// What failed.
        reason: String,
    },
    /// The tenant could not be reached (connection refused, no such host, a proxy that does not
    /// answer), every attempt.
    #[error("cannot reach the tenant at {url}: {reason} ({attempts} attempts)")]
    Unreachable {
        /// The tenant URL.
        url: String,
        /// The last attempt's reason.
        reason: String,
        /// How many attempts were made.
        attempts: usize,
    },
    /// The tenant answered every attempt with a server error (5xx).
    #[error("{method} {url}: the tenant answered {answer} ({attempts} attempts)")]
    Unavailable {
        /// The request's method.
        method: String,
        /// The request's URL.
        url: String,
        /// The last answer.
        answer: Answer,
        /// How many attempts were made.
        attempts: usize,
    },
    /// A request was sent and not answered in time. It is not sent again: it may have been
    /// carried out.
    #[error("{method} {url}: the tenant did not answer within {} s", .within.as_secs())]
    NoAnswer {
        /// The request's method.
        method: String,
        /// The request's URL.
        url: String,
        /// How long one request may take.
        within: Duration,
    },
    /// The command's deadline ([`Config::timeout`](crate::Config::timeout)) passed: every request
    /// and retry of one session shares it.
    #[error("the tenant at {url} did not finish within {} s, {during}", .timeout.as_secs())]
    Timeout {
        /// The tenant URL.
        url: String,
        /// The session's whole time.
        timeout: Duration,
        /// What was going on (`while reading the answer to GET /tenant/currentTenant`).
        during: String,
    },
    /// An answer that started did not finish within the time one request may take.
    #[error(
        "the tenant at {url} did not finish its answer to {method} {path} within {} s ({received} bytes so far)",
        .within.as_secs()
    )]
    SlowAnswer {
        /// The tenant URL.
        url: String,
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// How long one request may take.
        within: Duration,
        /// The bytes received.
        received: usize,
    },
    /// An answer was cut off before its end: an error, never read as a shorter answer.
    #[error(
        "the tenant at {url} broke off its answer to {method} {path} after {received}{} bytes ({reason})",
        .expected.map(|n| format!(" of {n}")).unwrap_or_default()
    )]
    BrokenOff {
        /// The tenant URL.
        url: String,
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// The bytes received.
        received: usize,
        /// The length the tenant announced, if it did.
        expected: Option<u64>,
        /// Why reading stopped.
        reason: String,
    },
    /// One answer was larger than the most read of one answer.
    #[error(
        "the tenant at {url} sent more than {} MiB in answer to {method} {path}, the most pki reads of one answer; is it a Cumulocity tenant?",
        .limit / MIB
    )]
    TooLarge {
        /// The tenant URL.
        url: String,
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// The most bytes read of one answer.
        limit: u64,
    },
    /// All the answers of one session together were larger than the most read in one session.
    #[error(
        "the tenant at {url} sent more than {} MiB in all (the last in answer to {method} {path}), the most pki reads in one command; is it a Cumulocity tenant?",
        .limit / MIB
    )]
    TooMuchInAll {
        /// The tenant URL.
        url: String,
        /// The last request's method.
        method: String,
        /// The last request's path.
        path: String,
        /// The most bytes read in one session.
        limit: u64,
    },
    /// The tenant redirected to a URL that is not `https://`; it was not followed.
    #[error(
        "the tenant at {url} redirected {method} {path} to {to}, which is not https://; pki follows https:// redirects only"
    )]
    NotHttpsRedirect {
        /// The tenant URL.
        url: String,
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// Where it redirected to, without userinfo.
        to: String,
    },
    /// The tenant redirected more times than are followed.
    #[error(
        "the tenant at {url} redirected {method} {path} more than {limit} times (last to {to})"
    )]
    TooManyRedirects {
        /// The tenant URL.
        url: String,
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// The last target, without userinfo.
        to: String,
        /// How many redirects are followed.
        limit: usize,
    },
    /// Another redirect that cannot be followed.
    #[error(
        "the tenant at {url} answered {method} {path} with a redirect pki cannot follow ({reason})"
    )]
    Redirect {
        /// The tenant URL.
        url: String,
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// Why.
        reason: String,
    },
    /// The server does not speak TLS (an `http://` server, or the wrong port). Not retried.
    #[error(
        "{url} does not speak TLS (the answer is not a TLS handshake: {reason}); is it an http:// server or the wrong port?"
    )]
    NotTls {
        /// The tenant URL.
        url: String,
        /// rustls's reason.
        reason: String,
    },
    /// The tenant's certificate is not trusted by the anchors given. Not retried.
    #[error("TLS to {url} failed: the tenant's certificate is not trusted ({reason})")]
    Untrusted {
        /// The tenant URL.
        url: String,
        /// rustls's reason (`UnknownIssuer`, `Expired`, ...).
        reason: String,
    },
    /// Another TLS failure. Not retried.
    #[error("TLS to {url} failed: {reason}")]
    Tls {
        /// The tenant URL.
        url: String,
        /// rustls's reason.
        reason: String,
    },
    /// 401: the tenant refused the user and password.
    #[error("wrong user or password for {tenant}: {url} refused user {user:?} ({answer})")]
    Unauthorized {
        /// The tenant id, or its host while the id is not known.
        tenant: String,
        /// The tenant URL.
        url: String,
        /// The user as sent.
        user: String,
        /// The answer.
        answer: Answer,
    },
    /// 403: the user lacks the role that manages trusted certificates.
    #[error(
        "user {user:?} lacks the tenant management admin role ({role}) in tenant {tenant}; the tenant said {answer}; ask an administrator to grant it (Administration > Roles)"
    )]
    Forbidden {
        /// The user as sent.
        user: String,
        /// The role needed ([`ADMIN_ROLE`](crate::ADMIN_ROLE)).
        role: &'static str,
        /// The tenant id, or its host while the id is not known.
        tenant: String,
        /// The answer.
        answer: Answer,
    },
    /// 422: the tenant rejected the certificate (not X.509 v3, not a CA, expired, ...).
    #[error("the tenant rejected the certificate: {message}")]
    Invalid {
        /// The tenant's message.
        message: String,
    },
    /// Another status than the call expects.
    #[error("the tenant answered {answer}")]
    Status {
        /// The answer.
        answer: Answer,
    },
    /// `GET /tenant/currentTenant` answered without a tenant id.
    #[error(
        "{url}/tenant/currentTenant answered without a tenant id (no \"name\"): is {url} a Cumulocity tenant?"
    )]
    NoTenantId {
        /// The tenant URL.
        url: String,
    },
    /// The listing of trusted certificates did not end within the most pages read.
    #[error(
        "the listing did not end after {pages} pages of {page_size} certificates, the most pki reads; is it a Cumulocity tenant?"
    )]
    EndlessListing {
        /// The pages read.
        pages: usize,
        /// The certificates asked for per page.
        page_size: usize,
    },
    /// A page of the listing has no `certificates` list.
    #[error("the answer has no \"certificates\" list")]
    NotAListing,
    /// The verification-code answer carries no code.
    #[error("the answer carries no proofOfPossessionUnsignedVerificationCode")]
    NoVerificationCode,
    /// The tenant handed out a verification code that is not one
    /// ([`pki_core::is_verification_code`]): nothing was signed, nothing was sent.
    #[error(
        "the tenant at {url} handed out a verification code that is not one ({VERIFICATION_CODE_RULE}): {code_shown:?}{}; nothing was signed",
        if *.cut { "..." } else { "" }
    )]
    BadVerificationCode {
        /// The tenant URL.
        url: String,
        /// The code, its first 80 characters.
        code_shown: String,
        /// The code was longer than what is shown.
        cut: bool,
    },
    /// The tenant's offline revocation list is not a CRL.
    #[error(
        "the tenant at {url} answered GET {path} with what is not a CRL ({reason}); is it a Cumulocity tenant?",
        path = crate::revocation::CRL_PATH
    )]
    BadCrl {
        /// The tenant URL.
        url: String,
        /// Why it does not read as one.
        reason: String,
    },
    /// 400/422: the tenant refused entries for its offline revocation list.
    #[error("the tenant refused the revocation entries: {answer}")]
    RevocationsRefused {
        /// The answer.
        answer: Answer,
    },
    /// The key cannot make the SHA-256 signature Cumulocity checks (EC P-384, Ed25519).
    #[error(
        "cannot prove possession of {key} ({key_type}): Cumulocity checks a SHA-256 signature, which pki signs with EC P-256 and RSA keys only; sign the code by hand with `openssl dgst -sha256 -sign {key} code.txt | openssl base64 -A` in the tenant's trusted-certificates page"
    )]
    UnsupportedKey {
        /// The key, as named by the caller (its path).
        key: String,
        /// Its type.
        key_type: KeyType,
    },
    /// Signing the verification code failed.
    #[error("cannot sign with {key}: {reason}")]
    Sign {
        /// The key, as named by the caller.
        key: String,
        /// Why.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reads_as_the_status_line_and_the_message() {
        let a = Answer {
            status: 503,
            message: "down".into(),
        };
        assert_eq!(a.to_string(), "503 Service Unavailable: down");
        let a = Answer {
            status: 599,
            message: "odd".into(),
        };
        assert_eq!(a.to_string(), "599 <unknown status code>: odd");
    }

    #[test]
    fn limits_are_named_in_mib_and_cut_codes_end_in_dots() {
        let e = Error::TooLarge {
            url: "https://t".into(),
            method: "GET".into(),
            path: "/x".into(),
            limit: 4 * MIB,
        };
        assert!(
            e.to_string()
                .contains("more than 4 MiB in answer to GET /x")
        );
        let e = Error::BadVerificationCode {
            url: "https://t".into(),
            code_shown: "a.b".into(),
            cut: true,
        };
        assert!(
            e.to_string().contains("\"a.b\"...; nothing was signed"),
            "{e}"
        );
    }
}
