//! The HTTPS client of a Cumulocity tenant: rustls on the ring provider, verified against the OS
//! roots or `--ca-file`; Basic auth; proxies from `HTTPS_PROXY`/`NO_PROXY`; bounded retries with
//! backoff for connection failures and 5xx answers, each said on stderr; and errors that say in
//! one line what went wrong, with the tenant's own message.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use reqwest::blocking::Client as Http;
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde_json::Value;

use super::model::ErrorBody;

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
    /// Only ever handed to reqwest's Basic auth (a header it marks sensitive); never formatted.
    password: String,
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
    /// A client for `url` (an `https://` URL, or a bare host name), authenticating as `user`
    /// (already in its final form, `user` or `tenant/user`), trusting `ca_file` or the OS roots.
    pub(crate) fn new(
        url: &str,
        user: &str,
        password: String,
        ca_file: Option<&Path>,
    ) -> Result<Self> {
        let base = parse_url(url)?;
        let tls = tls_config(ca_file)?;
        let http = Http::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("pki/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot set up the HTTPS client")?;
        Ok(Client {
            http,
            base,
            user: user.to_owned(),
            password,
        })
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
    /// answer (2xx, 4xx) is returned for the caller to judge.
    fn send<T: Serialize>(&self, method: Method, path: &str, body: Option<&T>) -> Result<Reply> {
        let url = format!("{}{path}", self.base());
        let attempts = BACKOFF.len() + 1;
        let mut attempt = 1;
        loop {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .basic_auth(&self.user, Some(&self.password))
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let failure = match req.send() {
                Ok(resp) => {
                    let status = resp.status();
                    let text = resp.text().unwrap_or_default();
                    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
                    let reply = Reply { status, body, text };
                    if !status.is_server_error() {
                        return Ok(reply);
                    }
                    Failure::Status(reply)
                }
                // A request that was sent and not answered in time may have been carried out:
                // say so rather than send it again.
                Err(e) if e.is_timeout() && !e.is_connect() => bail!(
                    "{method} {url}: the tenant did not answer within {} s",
                    REQUEST_TIMEOUT.as_secs()
                ),
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
            attempt += 1;
            eprintln!(
                "pki: retrying {method} {path} in {:.1} s (attempt {attempt} of {attempts}): {said}",
                pause.as_secs_f32()
            );
            std::thread::sleep(*pause);
        }
    }
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

/// Accepts `https://host[:port][/path]` or a bare `host[:port]`; refuses `http://`.
fn parse_url(url: &str) -> Result<Url> {
    let url = url.trim();
    let with_scheme = if url.contains("://") {
        url.to_owned()
    } else {
        format!("https://{url}")
    };
    let parsed = Url::parse(&with_scheme)
        .with_context(|| format!("{url:?} is not a URL (--url / C8Y_URL)"))?;
    if parsed.scheme() != "https" {
        bail!(
            "{url} is not an https:// URL: pki talks to a tenant over verified TLS only (--url / C8Y_URL)"
        );
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        bail!("{url} names no host (--url / C8Y_URL)");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        bail!(
            "the URL must not carry credentials: give --user, and the password by --password-file or C8Y_PASSWORD"
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
