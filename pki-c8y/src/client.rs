//! The HTTPS transport to a tenant: rustls on the ring provider, verified against the anchors
//! given; Basic auth; bounded retries with backoff for connection failures and 5xx answers,
//! each told to the caller's [`Events`]; and one typed [`Error`] for each way it fails.
//!
//! A tenant is not trusted to be well-behaved: redirects are followed only to `https://`, each
//! answer is read streamed up to [`MAX_BODY`] (and all answers of a session up to [`MAX_TOTAL`]),
//! an answer cut off is an error, every request and retry of a session shares one deadline, and
//! every answer is redacted ([`Redactor`]) before anything of it reaches a caller. What the
//! answers mean is `tenant.rs`'s business: here a 4xx is returned as it came.

use std::cell::Cell;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::blocking::{Client as Http, Response};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, StatusCode, redirect};
use serde::Serialize;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::config::{Proxies, Trust};
use crate::error::{Answer, Error, MIB};
use crate::events::{Events, Retry};
use crate::model::ErrorBody;
use crate::redact::{Redactor, strip_userinfo};
use crate::url::TenantUrl;

/// The pause before each retry: three retries, four attempts in all.
const BACKOFF: [Duration; 3] = [
    Duration::from_millis(200),
    Duration::from_millis(400),
    Duration::from_millis(800),
];
/// How long a TCP connection (and TLS handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The most one answer may hold. A page of 100 trusted certificates is about 300 KiB.
pub const MAX_BODY: u64 = 4 * MIB;
/// The most all the answers of one session may hold together (about 10,000 certificates).
pub const MAX_TOTAL: u64 = 32 * MIB;
/// What most requests accept.
const JSON: &str = "application/json";
/// How many redirects (all to `https://`) one request may follow.
const MAX_REDIRECTS: usize = 5;

/// A tenant's answer: its status and its body (JSON, or `Null` when empty or not JSON), both
/// redacted.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    text: String,
    /// The bytes as they came, for an answer that is not JSON (a DER CRL): parsed, never shown.
    pub(crate) bytes: Vec<u8>,
}

impl Reply {
    /// The tenant's own message: `message` (and `error`) of its error document, else the text.
    pub(crate) fn message(&self) -> String {
        let doc: ErrorBody = serde_json::from_value(self.body.clone()).unwrap_or_default();
        let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        match (doc.message, doc.error) {
            (Some(m), Some(e)) => format!("{} ({e})", one_line(&m)),
            (Some(m), None) => one_line(&m),
            (None, Some(e)) => e,
            (None, None) => {
                let t = one_line(&self.text);
                if t.is_empty() {
                    "no message".to_owned()
                } else {
                    t.chars().take(300).collect()
                }
            }
        }
    }

    /// The status and the tenant's message, for an error.
    pub(crate) fn answer(&self) -> Answer {
        Answer {
            status: self.status.as_u16(),
            message: self.message(),
        }
    }
}

/// A connection to one tenant, as one user.
pub(crate) struct Client {
    http: Http,
    base: TenantUrl,
    user: String,
    /// `Basic base64(user:password)`, marked sensitive; built once from the password.
    auth: HeaderValue,
    /// The password and its Basic forms, to keep them out of everything shown.
    redact: Redactor,
    /// When the session must be done, requests, retries and reading included.
    deadline: Instant,
    /// The time the deadline comes from, to name it.
    timeout: Duration,
    /// The bytes of all answers read so far.
    received: Cell<u64>,
    /// Who is told about retries.
    events: Box<dyn Events>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `base`, authenticating as `user` (already in its final form, `user` or
    /// `tenant/user`), trusting `trust`, with `timeout` for everything it will do from now on.
    pub(crate) fn new(
        base: TenantUrl,
        user: &str,
        password: &Zeroizing<String>,
        trust: &Trust,
        timeout: Duration,
        proxies: Proxies,
        events: Box<dyn Events>,
    ) -> Result<Self, Error> {
        let tls = tls_config(trust)?;
        let mut builder = Http::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(https_redirects_only())
            .user_agent(concat!("pki/", env!("CARGO_PKG_VERSION")));
        if proxies == Proxies::None {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| Error::Setup {
            reason: innermost(&e),
        })?;
        Ok(Client {
            http,
            base,
            user: user.to_owned(),
            auth: basic_auth(user, password)?,
            redact: Redactor::new(user, password),
            deadline: Instant::now() + timeout,
            timeout,
            received: Cell::new(0),
            events,
        })
    }

    /// The tenant id is known: its `tenant/user` Basic form is redacted too.
    pub(crate) fn learn_tenant(&mut self, tenant: &str) {
        self.redact.add_tenant(tenant, &self.user);
    }

    /// The tenant's URL as the user gave it, normalised (`https://host[:port]`).
    pub(crate) fn base(&self) -> &str {
        self.base.as_str()
    }

    /// The host (and port), to name the tenant before its id is known.
    pub(crate) fn host(&self) -> String {
        self.base.host()
    }

    /// The user as sent in Basic auth.
    pub(crate) fn user(&self) -> &str {
        &self.user
    }

    /// `GET path`.
    pub(crate) fn get(&self, path: &str) -> Result<Reply, Error> {
        self.send(Method::GET, path, None::<&()>, JSON)
    }

    /// `GET path`, asking for `accept` (`application/pkix-crl`) rather than JSON.
    pub(crate) fn get_as(&self, path: &str, accept: &'static str) -> Result<Reply, Error> {
        self.send(Method::GET, path, None::<&()>, accept)
    }

    /// `POST path` with a JSON body.
    pub(crate) fn post<T: Serialize>(&self, path: &str, body: &T) -> Result<Reply, Error> {
        self.send(Method::POST, path, Some(body), JSON)
    }

    /// `PUT path` with a JSON body.
    pub(crate) fn put<T: Serialize>(&self, path: &str, body: &T) -> Result<Reply, Error> {
        self.send(Method::PUT, path, Some(body), JSON)
    }

    /// `POST path` with no body.
    pub(crate) fn post_empty(&self, path: &str) -> Result<Reply, Error> {
        self.send(Method::POST, path, None::<&()>, JSON)
    }

    /// `DELETE path`.
    pub(crate) fn delete(&self, path: &str) -> Result<Reply, Error> {
        self.send(Method::DELETE, path, None::<&()>, JSON)
    }

    /// Sends one request, retrying connection failures and 5xx answers with backoff; any other
    /// answer (2xx, 4xx) is returned for the caller to judge.
    fn send<T: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&T>,
        accept: &'static str,
    ) -> Result<Reply, Error> {
        let url = format!("{}{path}", self.base());
        let attempts = BACKOFF.len() + 1;
        let mut attempt = 1;
        loop {
            let left = self
                .left()
                .ok_or_else(|| self.overdue(format!("before {method} {path} was sent")))?;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header(AUTHORIZATION, self.auth.clone())
                .header(reqwest::header::ACCEPT, accept)
                .timeout(left.min(REQUEST_TIMEOUT));
            if let Some(b) = body {
                req = req.json(b);
            }
            let failure = match req.send() {
                Ok(mut resp) => {
                    let status = resp.status();
                    let bytes = self.read_body(&mut resp, &method, path)?;
                    let reply = self.reply(status, &bytes);
                    if !status.is_server_error() {
                        return Ok(reply);
                    }
                    Failure::Status(reply)
                }
                Err(e) if e.is_redirect() => return Err(self.redirect_error(&e, &method, path)),
                // A request that was sent and not answered in time may have been carried out:
                // say so rather than send it again.
                Err(e) if e.is_timeout() && !e.is_connect() => {
                    if left <= REQUEST_TIMEOUT {
                        return Err(self
                            .overdue(format!("while waiting for the answer to {method} {path}")));
                    }
                    return Err(Error::NoAnswer {
                        method: method.to_string(),
                        url,
                        within: REQUEST_TIMEOUT,
                    });
                }
                Err(e) => match classify(&e) {
                    Net::Tls(reason) => return Err(self.tls_error(&reason)),
                    Net::Other(reason) => Failure::Net(self.redact.text(&reason)),
                },
            };
            let said = match &failure {
                Failure::Status(r) => r.answer().to_string(),
                Failure::Net(reason) => reason.clone(),
            };
            let Some(pause) = BACKOFF.get(attempt - 1) else {
                return Err(match failure {
                    Failure::Status(r) => Error::Unavailable {
                        method: method.to_string(),
                        url,
                        answer: r.answer(),
                        attempts,
                    },
                    Failure::Net(reason) => Error::Unreachable {
                        url: self.base().to_owned(),
                        reason,
                        attempts,
                    },
                });
            };
            if self.left().is_none_or(|left| left <= *pause) {
                return Err(self.overdue(format!(
                    "retrying {method} {path} after {attempt} attempt(s): {said}"
                )));
            }
            attempt += 1;
            self.events.retrying(&Retry {
                method: method.to_string(),
                path: self.redact.text(path),
                pause: *pause,
                attempt,
                attempts,
                reason: said,
            });
            std::thread::sleep(*pause);
        }
    }

    /// The time left before the deadline, if any.
    fn left(&self) -> Option<Duration> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// The error for a session that ran out of time `during` something.
    fn overdue(&self, during: String) -> Error {
        Error::Timeout {
            url: self.base().to_owned(),
            timeout: self.timeout,
            during: self.redact.text(&during),
        }
    }

    /// The body of an answer, read streamed: at most [`MAX_BODY`] bytes (and [`MAX_TOTAL`] for
    /// the whole session), before the deadline, to its end; an answer cut off is an error.
    fn read_body(
        &self,
        resp: &mut Response,
        method: &Method,
        path: &str,
    ) -> Result<Vec<u8>, Error> {
        let too_large = || Error::TooLarge {
            url: self.base().to_owned(),
            method: method.to_string(),
            path: path.to_owned(),
            limit: MAX_BODY,
        };
        let expected = resp.content_length();
        if expected.is_some_and(|n| n > MAX_BODY) {
            return Err(too_large());
        }
        let capacity = expected.unwrap_or(8 * 1024).min(MAX_BODY);
        let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        let mut buf = [0u8; 16 * 1024];
        loop {
            if self.left().is_none() {
                return Err(self.overdue(format!("while reading the answer to {method} {path}")));
            }
            let n = match resp.read(&mut buf) {
                Ok(0) => return Ok(body),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) if self.left().is_none() => {
                    return Err(
                        self.overdue(format!("while reading the answer to {method} {path}"))
                    );
                }
                Err(e) if is_timeout(&e) => {
                    return Err(Error::SlowAnswer {
                        url: self.base().to_owned(),
                        method: method.to_string(),
                        path: path.to_owned(),
                        within: REQUEST_TIMEOUT,
                        received: body.len(),
                    });
                }
                Err(e) => {
                    return Err(Error::BrokenOff {
                        url: self.base().to_owned(),
                        method: method.to_string(),
                        path: path.to_owned(),
                        received: body.len(),
                        expected,
                        reason: self.redact.text(&innermost(&e)),
                    });
                }
            };
            if body.len() + n > usize::try_from(MAX_BODY).unwrap_or(usize::MAX) {
                return Err(too_large());
            }
            let total = self.received.get() + n as u64;
            if total > MAX_TOTAL {
                return Err(Error::TooMuchInAll {
                    url: self.base().to_owned(),
                    method: method.to_string(),
                    path: path.to_owned(),
                    limit: MAX_TOTAL,
                });
            }
            self.received.set(total);
            body.extend_from_slice(&buf[..n]);
        }
    }

    /// The answer as JSON (or `Null`) and text, both redacted.
    fn reply(&self, status: StatusCode, bytes: &[u8]) -> Reply {
        let raw = String::from_utf8_lossy(bytes);
        let mut body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        self.redact.value(&mut body);
        let text = self.redact.text(&raw);
        Reply {
            status,
            body,
            text,
            bytes: bytes.to_vec(),
        }
    }

    /// The error for a redirect that is not followed.
    fn redirect_error(&self, e: &reqwest::Error, method: &Method, path: &str) -> Error {
        let url = self.base().to_owned();
        let (method, path) = (method.to_string(), path.to_owned());
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = cur {
            if let Some(r) = err.downcast_ref::<RedirectRefused>() {
                return match r {
                    RedirectRefused::NotHttps(to) => Error::NotHttpsRedirect {
                        url,
                        method,
                        path,
                        to: self.redact.text(to),
                    },
                    RedirectRefused::TooMany(to) => Error::TooManyRedirects {
                        url,
                        method,
                        path,
                        to: self.redact.text(to),
                        limit: MAX_REDIRECTS,
                    },
                };
            }
            cur = err.source();
        }
        Error::Redirect {
            url,
            method,
            path,
            reason: self.redact.text(&innermost(e)),
        }
    }

    /// The error for a TLS failure: not retried, it will not heal.
    fn tls_error(&self, err: &rustls::Error) -> Error {
        use rustls::Error as E;
        let url = self.base().to_owned();
        match err {
            E::InvalidMessage(_) => Error::NotTls {
                url,
                reason: self.redact.text(&err.to_string()),
            },
            E::InvalidCertificate(cert) => Error::Untrusted {
                url,
                reason: format!("{cert:?}"),
            },
            _ => Error::Tls {
                url,
                reason: self.redact.text(&err.to_string()),
            },
        }
    }
}

/// A redirect refused by [`https_redirects_only`], with the target (userinfo stripped).
#[derive(Debug)]
enum RedirectRefused {
    NotHttps(String),
    TooMany(String),
}

impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedirectRefused::NotHttps(to) => write!(f, "redirect to {to} is not https://"),
            RedirectRefused::TooMany(to) => write!(f, "too many redirects (last to {to})"),
        }
    }
}

impl std::error::Error for RedirectRefused {}

/// Follows redirects to `https://` only (a tenant read over cleartext could be anyone's), at
/// most [`MAX_REDIRECTS`]. reqwest drops the Authorization header on a redirect to another host
/// or port.
fn https_redirects_only() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        let to = strip_userinfo(attempt.url().as_str());
        if attempt.url().scheme() != "https" {
            attempt.error(RedirectRefused::NotHttps(to))
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(RedirectRefused::TooMany(to))
        } else {
            attempt.follow()
        }
    })
}

/// `Basic base64(user:password)`, marked sensitive, every intermediate copy wiped.
fn basic_auth(user: &str, password: &Zeroizing<String>) -> Result<HeaderValue, Error> {
    let mut plain = Zeroizing::new(String::with_capacity(user.len() + 1 + password.len()));
    plain.push_str(user);
    plain.push(':');
    plain.push_str(password);
    let encoded = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*plain));
    let mut header = Zeroizing::new(String::with_capacity(6 + encoded.len()));
    header.push_str("Basic ");
    header.push_str(&encoded);
    let mut value = HeaderValue::from_str(&header).map_err(|_| Error::BadUser {
        user: user.to_owned(),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Whether reading a body failed because its time ran out.
fn is_timeout(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout)
}

/// The innermost message of an error chain (the cause, without reqwest's wrapping).
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Why an attempt failed.
enum Failure {
    Status(Reply),
    Net(String),
}

/// A transport error: TLS (not retried: it will not heal) or anything else.
enum Net {
    Tls(rustls::Error),
    Other(String),
}

/// rustls on ring, trusting only the certificates of `trust`.
fn tls_config(trust: &Trust) -> Result<rustls::ClientConfig, Error> {
    let mut roots = rustls::RootCertStore::empty();
    match trust {
        Trust::Only(certs) => {
            for c in certs {
                roots
                    .add(rustls_pki_types::CertificateDer::from(c.der().to_vec()))
                    .map_err(|e| Error::BadAnchor {
                        subject: c.subject(),
                        reason: e.to_string(),
                    })?;
            }
        }
        Trust::System(ders) => {
            let ders = ders
                .iter()
                .map(|d| rustls_pki_types::CertificateDer::from(d.as_slice()));
            roots.add_parsable_certificates(ders);
        }
    }
    if roots.is_empty() {
        return Err(Error::NoAnchors);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Setup {
            reason: format!("TLS: {e}"),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Finds the cause of a reqwest error: a rustls error anywhere in the chain (also inside an
/// `io::Error`, whose `source()` skips the error it wraps), else the innermost message.
fn classify(err: &reqwest::Error) -> Net {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut innermost = err.to_string();
    let mut dns = false;
    while let Some(e) = cur {
        if let Some(t) = rustls_error(e) {
            return Net::Tls(t.clone());
        }
        dns |= e.to_string().starts_with("dns error");
        innermost = match e.downcast_ref::<std::io::Error>().map(std::io::Error::kind) {
            Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".to_owned(),
            _ => e.to_string(),
        };
        cur = e.source();
    }
    if dns {
        innermost = format!("the host name does not resolve ({innermost})");
    } else if err.is_timeout() {
        innermost = format!("timed out ({innermost})");
    }
    Net::Other(innermost)
}

/// The rustls error that `e` is, or that the `io::Error`s it is wrap (however deep).
fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(t) = e.downcast_ref::<rustls::Error>() {
        return Some(t);
    }
    let inner = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    rustls_error(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_message_is_one_line() {
        let r = Reply {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: serde_json::json!({"error": "core/Unprocessable", "message": "not\n a CA"}),
            text: String::new(),
            bytes: Vec::new(),
        };
        assert_eq!(r.message(), "not a CA (core/Unprocessable)");
        let r = Reply {
            status: StatusCode::BAD_GATEWAY,
            body: Value::Null,
            text: "<html>\nbad gateway</html>".into(),
            bytes: Vec::new(),
        };
        assert_eq!(
            r.answer().to_string(),
            "502 Bad Gateway: <html> bad gateway</html>"
        );
    }

    #[test]
    fn no_anchor_is_no_tls() {
        let e = tls_config(&Trust::Only(Vec::new())).unwrap_err();
        assert!(matches!(e, Error::NoAnchors), "{e}");
        let e = tls_config(&Trust::System(vec![b"not DER".to_vec()])).unwrap_err();
        assert!(matches!(e, Error::NoAnchors), "{e}");
    }
}
