//! The HTTPS client of a Cumulocity tenant: rustls on the ring provider, verified against the OS
//! roots or `--ca-file`; Basic auth; proxies from `HTTPS_PROXY`/`NO_PROXY`; bounded retries with
//! backoff for connection failures and 5xx answers, each said on stderr; and errors that say in
//! one line what went wrong, with the tenant's own message.
//!
//! A tenant is not trusted to be well-behaved: redirects are followed only to `https://`, each
//! answer is read streamed up to [`MAX_BODY`] (and all answers of a command up to [`MAX_TOTAL`]),
//! an answer cut off is an error, every request and retry of a command shares one deadline
//! (`--timeout`), and every answer is redacted ([`Redactor`]) before anything of it is shown.

use std::cell::Cell;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use reqwest::blocking::{Client as Http, Response};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, StatusCode, Url, redirect};
use serde::Serialize;
use serde_json::Value;
use zeroize::Zeroizing;

use super::model::ErrorBody;
use super::redact::{Redactor, strip_userinfo};
use crate::output::escape_line;

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
pub(crate) const MAX_BODY: u64 = 4 * MIB;
/// The most all the answers of one command may hold together (about 10,000 certificates).
pub(crate) const MAX_TOTAL: u64 = 32 * MIB;
/// How many redirects (all to `https://`) one request may follow.
const MAX_REDIRECTS: usize = 5;
const MIB: u64 = 1024 * 1024;

/// The role a user needs to manage trusted certificates.
pub(crate) const ADMIN_ROLE: &str = "ROLE_TENANT_MANAGEMENT_ADMIN";

/// A tenant's answer: its status and its body (JSON, or `Null` when empty or not JSON).
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    text: String,
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

    /// `503 Service Unavailable: the tenant's message`.
    pub(crate) fn summary(&self) -> String {
        format!("{}: {}", self.status, self.message())
    }
}

/// A connection to one tenant, as one user.
pub(crate) struct Client {
    http: Http,
    base: Url,
    user: String,
    /// `Basic base64(user:password)`, marked sensitive; built once from the password.
    auth: HeaderValue,
    /// The password and its Basic forms, to keep them out of everything shown.
    redact: Redactor,
    /// When the command must be done, requests, retries and reading included.
    deadline: Instant,
    /// The `--timeout` the deadline comes from, to name it.
    timeout: Duration,
    /// The bytes of all answers read so far.
    received: Cell<u64>,
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
    /// A client for `base` (from [`parse_url`]), authenticating as `user` (already in its final
    /// form, `user` or `tenant/user`), trusting `ca_file` or the OS roots, with `timeout` for
    /// everything it will do from now on.
    pub(crate) fn new(
        base: Url,
        user: &str,
        password: &Zeroizing<String>,
        ca_file: Option<&Path>,
        timeout: Duration,
    ) -> Result<Self> {
        let tls = tls_config(ca_file)?;
        let http = Http::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(https_redirects_only())
            .user_agent(concat!("pki/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot set up the HTTPS client")?;
        Ok(Client {
            http,
            base,
            user: user.to_owned(),
            auth: basic_auth(user, password)?,
            redact: Redactor::new(user, password),
            deadline: Instant::now() + timeout,
            timeout,
            received: Cell::new(0),
        })
    }

    /// The tenant id is known: its `tenant/user` Basic form is redacted too.
    pub(crate) fn learn_tenant(&mut self, tenant: &str) {
        self.redact.add_tenant(tenant, &self.user);
    }

    /// The tenant's URL as the user gave it, normalised (`https://host[:port]`).
    pub(crate) fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// The host (and port), to name the tenant before its id is known.
    pub(crate) fn host(&self) -> String {
        match (self.base.host_str(), self.base.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => self.base().to_owned(),
        }
    }

    /// The user as sent in Basic auth.
    pub(crate) fn user(&self) -> &str {
        &self.user
    }

    /// `GET path`.
    pub(crate) fn get(&self, path: &str) -> Result<Reply> {
        self.send(Method::GET, path, None::<&()>)
    }

    /// `POST path` with a JSON body.
    pub(crate) fn post<T: Serialize>(&self, path: &str, body: &T) -> Result<Reply> {
        self.send(Method::POST, path, Some(body))
    }

    /// `POST path` with no body.
    pub(crate) fn post_empty(&self, path: &str) -> Result<Reply> {
        self.send(Method::POST, path, None::<&()>)
    }

    /// `DELETE path`.
    pub(crate) fn delete(&self, path: &str) -> Result<Reply> {
        self.send(Method::DELETE, path, None::<&()>)
    }

    /// Sends one request, retrying connection failures and 5xx answers with backoff; any other
    /// answer (2xx, 4xx) is returned for the caller to judge. Every error is redacted.
    fn send<T: Serialize>(&self, method: Method, path: &str, body: Option<&T>) -> Result<Reply> {
        self.attempts(method, path, body)
            .map_err(|e| anyhow!("{}", self.redact.text(&format!("{e:#}"))))
    }

    fn attempts<T: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&T>,
    ) -> Result<Reply> {
        let url = format!("{}{path}", self.base());
        let attempts = BACKOFF.len() + 1;
        let mut attempt = 1;
        loop {
            let left = self
                .left()
                .ok_or_else(|| self.overdue(&format!("before {method} {path} was sent")))?;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header(AUTHORIZATION, self.auth.clone())
                .header(reqwest::header::ACCEPT, "application/json")
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
                            .overdue(&format!("while waiting for the answer to {method} {path}")));
                    }
                    bail!(
                        "{method} {url}: the tenant did not answer within {} s",
                        REQUEST_TIMEOUT.as_secs()
                    )
                }
                Err(e) => match classify(&e) {
                    Net::Tls(reason) => bail!("{}", tls_message(self.base(), &reason)),
                    Net::Other(reason) => Failure::Net(reason),
                },
            };
            let said = match &failure {
                Failure::Status(r) => r.summary(),
                Failure::Net(reason) => reason.clone(),
            };
            let Some(pause) = BACKOFF.get(attempt - 1) else {
                return Err(match failure {
                    Failure::Status(r) => anyhow!(
                        "{method} {url}: the tenant answered {} ({attempts} attempts)",
                        r.summary()
                    ),
                    Failure::Net(reason) => anyhow!(
                        "cannot reach the tenant at {}: {reason} ({attempts} attempts); check --url / C8Y_URL{}",
                        self.base(),
                        proxy_note()
                    ),
                });
            };
            if self.left().is_none_or(|left| left <= *pause) {
                return Err(self.overdue(&format!(
                    "retrying {method} {path} after {attempt} attempt(s): {said}"
                )));
            }
            attempt += 1;
            crate::output::stderr_line(&escape_line(&self.redact.text(&format!(
                "pki: retrying {method} {path} in {:.1} s (attempt {attempt} of {attempts}): {said}",
                pause.as_secs_f32()
            ))));
            std::thread::sleep(*pause);
        }
    }

    /// The time left before the deadline, if any.
    fn left(&self) -> Option<Duration> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// The error for a command that ran out of time while `doing` something.
    fn overdue(&self, doing: &str) -> anyhow::Error {
        anyhow!(
            "the tenant at {} did not finish within {} s (--timeout), {doing}",
            self.base(),
            self.timeout.as_secs()
        )
    }

    /// The body of an answer, read streamed: at most [`MAX_BODY`] bytes (and [`MAX_TOTAL`] for
    /// the whole command), before the deadline, to its end; an answer cut off is an error.
    fn read_body(&self, resp: &mut Response, method: &Method, path: &str) -> Result<Vec<u8>> {
        let too_large = || {
            anyhow!(
                "the tenant at {} sent more than {} MiB in answer to {method} {path}, the most pki reads of one answer; is it a Cumulocity tenant?",
                self.base(),
                MAX_BODY / MIB
            )
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
                return Err(self.overdue(&format!("while reading the answer to {method} {path}")));
            }
            let n = match resp.read(&mut buf) {
                Ok(0) => return Ok(body),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) if self.left().is_none() => {
                    return Err(
                        self.overdue(&format!("while reading the answer to {method} {path}"))
                    );
                }
                Err(e) if is_timeout(&e) => bail!(
                    "the tenant at {} did not finish its answer to {method} {path} within {} s ({} bytes so far)",
                    self.base(),
                    REQUEST_TIMEOUT.as_secs(),
                    body.len()
                ),
                Err(e) => {
                    let of = expected.map(|n| format!(" of {n}")).unwrap_or_default();
                    bail!(
                        "the tenant at {} broke off its answer to {method} {path} after {}{of} bytes ({})",
                        self.base(),
                        body.len(),
                        innermost(&e)
                    );
                }
            };
            if body.len() + n > usize::try_from(MAX_BODY).unwrap_or(usize::MAX) {
                return Err(too_large());
            }
            let total = self.received.get() + n as u64;
            if total > MAX_TOTAL {
                bail!(
                    "the tenant at {} sent more than {} MiB in all (the last in answer to {method} {path}), the most pki reads in one command; is it a Cumulocity tenant?",
                    self.base(),
                    MAX_TOTAL / MIB
                );
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
        Reply { status, body, text }
    }

    /// The error for a redirect pki would not follow.
    fn redirect_error(&self, e: &reqwest::Error, method: &Method, path: &str) -> anyhow::Error {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = cur {
            if let Some(r) = err.downcast_ref::<RedirectRefused>() {
                return match r {
                    RedirectRefused::NotHttps(to) => anyhow!(
                        "the tenant at {} redirected {method} {path} to {to}, which is not https://; pki follows https:// redirects only (check --url / C8Y_URL)",
                        self.base()
                    ),
                    RedirectRefused::TooMany(to) => anyhow!(
                        "the tenant at {} redirected {method} {path} more than {MAX_REDIRECTS} times (last to {to}); check --url / C8Y_URL",
                        self.base()
                    ),
                };
            }
            cur = err.source();
        }
        anyhow!(
            "the tenant at {} answered {method} {path} with a redirect pki cannot follow ({})",
            self.base(),
            innermost(e)
        )
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
fn basic_auth(user: &str, password: &Zeroizing<String>) -> Result<HeaderValue> {
    let mut plain = Zeroizing::new(String::with_capacity(user.len() + 1 + password.len()));
    plain.push_str(user);
    plain.push(':');
    plain.push_str(password);
    let encoded = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*plain));
    let mut header = Zeroizing::new(String::with_capacity(6 + encoded.len()));
    header.push_str("Basic ");
    header.push_str(&encoded);
    let mut value = HeaderValue::from_str(&header)
        .map_err(|_| anyhow!("the user {user:?} cannot be sent in an HTTP header"))?;
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

/// Accepts `https://host[:port][/path]` or a bare `host[:port]`; refuses `http://`, and a URL
/// with credentials in it (`https://user:password@host`: a password does not belong on a
/// command line or in a variable that is printed). No message shows the userinfo.
pub(crate) fn parse_url(url: &str) -> Result<Url> {
    let url = url.trim();
    let shown = strip_userinfo(url);
    let with_scheme = if url.contains("://") {
        url.to_owned()
    } else {
        format!("https://{url}")
    };
    let parsed = Url::parse(&with_scheme)
        .map_err(|e| anyhow!("{shown:?} is not a URL ({e}) (--url / C8Y_URL)"))?;
    if parsed.scheme() != "https" {
        bail!(
            "{shown} is not an https:// URL: pki talks to a tenant over verified TLS only (--url / C8Y_URL)"
        );
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        bail!("{shown} names no host (--url / C8Y_URL)");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        bail!(
            "{shown}: the URL must not carry credentials: give --user, and the password by --password-file or C8Y_PASSWORD"
        );
    }
    Ok(parsed)
}

/// rustls on ring, trusting the certificates of `ca_file`, or else the OS store.
fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = pki_core::read_certs(path)
                .with_context(|| format!("cannot read the CA file {}", path.display()))?;
            for c in certs {
                roots
                    .add(rustls_pki_types::CertificateDer::from(c.der().to_vec()))
                    .with_context(|| {
                        format!("{}: a certificate cannot be a trust anchor", path.display())
                    })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found
                    .errors
                    .first()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default();
                bail!(
                    "no trusted CA certificates found in the OS store{why}; install the ca-certificates package, set SSL_CERT_FILE, or pass --ca-file"
                );
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS")?
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

fn tls_message(base: &str, err: &rustls::Error) -> String {
    use rustls::Error as E;
    match err {
        E::InvalidMessage(_) => format!(
            "{base} does not speak TLS (the answer is not a TLS handshake: {err}); is it an http:// server or the wrong port?"
        ),
        E::InvalidCertificate(cert) => format!(
            "TLS to {base} failed: the tenant's certificate is not trusted ({cert:?}); for a private tenant pass its CA with --ca-file"
        ),
        _ => format!("TLS to {base} failed: {err}"),
    }
}

fn proxy_note() -> String {
    ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()).map(|_| *v))
        .map(|v| format!(" and the proxy in {v} (NO_PROXY lists hosts that bypass it)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_only() {
        assert_eq!(
            parse_url("t1.cumulocity.com").unwrap().as_str(),
            "https://t1.cumulocity.com/"
        );
        assert_eq!(
            parse_url("https://localhost:8443/").unwrap().port(),
            Some(8443)
        );
        let e = parse_url("http://t1.cumulocity.com")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an https:// URL"), "{e}");
        let e = parse_url("https://u:p@t1.cumulocity.com")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("must not carry credentials") && !e.contains(":p@"),
            "{e}"
        );
    }

    #[test]
    fn the_tenant_message_is_one_line() {
        let r = Reply {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: serde_json::json!({"error": "core/Unprocessable", "message": "not\n a CA"}),
            text: String::new(),
        };
        assert_eq!(r.message(), "not a CA (core/Unprocessable)");
        let r = Reply {
            status: StatusCode::BAD_GATEWAY,
            body: Value::Null,
            text: "<html>\nbad gateway</html>".into(),
        };
        assert_eq!(r.summary(), "502 Bad Gateway: <html> bad gateway</html>");
    }
}
