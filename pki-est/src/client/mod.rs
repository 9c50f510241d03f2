//! The device's side of EST (RFC 7030): an HTTPS client for a server's `/cacerts`,
//! `/simpleenroll` and `/simplereenroll`, for devices that have no EST client of their own.
//!
//! - TLS is rustls on the ring provider, always verified: against the certificates given, or the
//!   operating system's roots the caller read ([`Trust`]).
//! - The client authenticates with HTTP Basic (a device id and a one-time secret, held in memory
//!   that is wiped, sent in a header marked sensitive) or with a client certificate over mutual
//!   TLS ([`Auth`]).
//! - The CSR goes as RFC 7030 §4.2.1 has it: `Content-Type: application/pkcs10`,
//!   `Content-Transfer-Encoding: base64`, the DER's base64 in 64-character lines. The answer is
//!   read as a certs-only PKCS#7 ([`crate::read_certs_only_base64`]).
//! - Every answer is bounded ([`MAX_ANSWER`]), every request has a deadline, redirects are not
//!   followed, and nothing is retried: an enrolment the server may have carried out is never sent
//!   twice (a one-time secret works once). Each failure is one [`ClientError`] variant.
//!
//! [`enrol`] does a whole enrolment: the CSR for a key the caller made, the request, `/cacerts`,
//! and the checks of what came back (the key, the common name, the issuer) before the caller
//! writes anything.

mod error;
mod issued;
mod url;

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use pki_core::{Certificate, PrivateKey};
use reqwest::blocking::{Client as Http, Response};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, redirect};
use zeroize::Zeroizing;

pub use error::{AuthKind, ClientError, Mismatch, UrlFault};
pub use issued::{Enrolled, Identity, enrol};
pub use url::ServerUrl;

use crate::route::Operation;

/// The most bytes of an answer read (256 KiB): a chain of a few certificates is a few KiB.
pub const MAX_ANSWER: u64 = 256 * 1024;
/// How long a TCP connection and its TLS handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most characters of a server's reason shown.
const MAX_REASON: usize = 300;

/// The certificates the server's TLS certificate must chain to.
#[derive(Debug, Clone)]
pub enum Trust {
    /// Only these (the CA directory's root, a private CA).
    Only(Vec<Certificate>),
    /// The operating system's roots, DER-encoded, as the caller read them; those rustls cannot
    /// use are skipped, and at least one must remain.
    System(Vec<Vec<u8>>),
}

/// How the client proves who it is.
pub enum Auth<'a> {
    /// HTTP Basic `DEVICE_ID:SECRET`, a one-time enrolment secret.
    Secret {
        /// The device id (the Basic user).
        device_id: &'a str,
        /// The secret.
        secret: &'a Zeroizing<String>,
    },
    /// A client certificate over mutual TLS: a bootstrap certificate, or the current one.
    Certificate {
        /// The certificate, with the chain its file holds after it.
        chain: &'a [Certificate],
        /// Its key.
        key: &'a PrivateKey,
    },
}

impl Auth<'_> {
    /// Which kind it is.
    pub fn kind(&self) -> AuthKind {
        match self {
            Auth::Secret { .. } => AuthKind::Secret,
            Auth::Certificate { .. } => AuthKind::Certificate,
        }
    }
}

/// How a client reaches its server.
pub struct ClientConfig<'a> {
    /// The server, and the label.
    pub url: ServerUrl,
    /// The certificates its TLS must chain to.
    pub trust: Trust,
    /// The credentials.
    pub auth: Auth<'a>,
    /// How long each request may take, the answer read included.
    pub timeout: Duration,
    /// Take proxies from the environment (`HTTPS_PROXY`, `NO_PROXY`), as reqwest reads them;
    /// else connect directly.
    pub env_proxies: bool,
}

/// A client of one EST server, with one set of credentials.
pub struct Client {
    http: Http,
    url: ServerUrl,
    /// `Basic ...`, marked sensitive, for a secret.
    basic: Option<HeaderValue>,
    kind: AuthKind,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.url.as_str())
            .field("auth", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `config`: TLS set up, credentials made ready; nothing is sent yet.
    pub fn new(config: ClientConfig<'_>) -> Result<Client, ClientError> {
        let tls = tls_config(&config.trust, &config.auth)?;
        let mut builder = Http::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(CONNECT_TIMEOUT.min(config.timeout))
            .timeout(config.timeout)
            .redirect(redirect::Policy::none())
            .user_agent(concat!("pki/", env!("CARGO_PKG_VERSION")));
        if !config.env_proxies {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| ClientError::Setup {
            reason: innermost(&e),
        })?;
        let basic = match &config.auth {
            Auth::Secret { device_id, secret } => Some(basic_auth(device_id, secret)?),
            Auth::Certificate { .. } => None,
        };
        Ok(Client {
            http,
            url: config.url,
            basic,
            kind: config.auth.kind(),
            timeout: config.timeout,
        })
    }

    /// The server's URL, with its label.
    pub fn url(&self) -> &ServerUrl {
        &self.url
    }

    /// `GET /cacerts`: the CA certificates, in the server's order.
    pub fn ca_certs(&self) -> Result<Vec<Certificate>, ClientError> {
        let url = self.url.of(Operation::CaCerts);
        let req = self.http.get(&url).header(ACCEPT, "application/pkcs7-mime");
        self.certificates(&url, req)
    }

    /// `POST /simpleenroll` or `/simplereenroll` (`operation`) with the CSR `csr_der`: the
    /// certificates the server answered with.
    pub fn enroll(
        &self,
        operation: Operation,
        csr_der: &[u8],
    ) -> Result<Vec<Certificate>, ClientError> {
        let url = self.url.of(operation);
        let mut req = self
            .http
            .post(&url)
            .header(CONTENT_TYPE, "application/pkcs10")
            .header("Content-Transfer-Encoding", "base64")
            .header(ACCEPT, "application/pkcs7-mime")
            .body(crate::body::encode_lines(csr_der));
        if let Some(b) = &self.basic {
            req = req.header(AUTHORIZATION, b.clone());
        }
        self.certificates(&url, req)
    }

    /// Sends `req` and reads its answer as a certs-only PKCS#7.
    fn certificates(
        &self,
        url: &str,
        req: reqwest::blocking::RequestBuilder,
    ) -> Result<Vec<Certificate>, ClientError> {
        let mut resp = req.send().map_err(|e| self.transport(url, &e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = self.read_body(url, &mut resp)?;
        let url = url.to_owned();
        let retry_after = || {
            headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let reason = || reason_of(&body);
        match status {
            StatusCode::OK => {}
            StatusCode::ACCEPTED => {
                return Err(ClientError::Pending {
                    url,
                    retry_after: retry_after(),
                });
            }
            StatusCode::UNAUTHORIZED => {
                return Err(ClientError::Unauthorized {
                    url,
                    auth: self.kind,
                    reason: reason(),
                });
            }
            StatusCode::FORBIDDEN => {
                return Err(ClientError::Forbidden {
                    url,
                    reason: reason(),
                });
            }
            StatusCode::BAD_REQUEST => {
                return Err(ClientError::BadRequest {
                    url,
                    reason: reason(),
                });
            }
            StatusCode::NOT_FOUND => {
                return Err(ClientError::NotFound {
                    url,
                    reason: reason(),
                });
            }
            StatusCode::TOO_MANY_REQUESTS => {
                return Err(ClientError::RateLimited {
                    url,
                    retry_after: retry_after(),
                });
            }
            other => {
                return Err(ClientError::Status {
                    url,
                    status: other.to_string(),
                    reason: reason(),
                });
            }
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let media = content_type.split(';').next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case("application/pkcs7-mime") {
            return Err(ClientError::NotPkcs7 {
                url,
                content_type: content_type.chars().take(MAX_REASON).collect(),
            });
        }
        crate::read_certs_only_base64(&body).map_err(|error| ClientError::BadAnswer { url, error })
    }

    /// The body of an answer: at most [`MAX_ANSWER`] bytes, to its end.
    fn read_body(&self, url: &str, resp: &mut Response) -> Result<Vec<u8>, ClientError> {
        let too_large = || ClientError::TooLarge {
            url: url.to_owned(),
            limit: MAX_ANSWER,
        };
        if resp.content_length().is_some_and(|n| n > MAX_ANSWER) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        let read = resp.take(MAX_ANSWER + 1).read_to_end(&mut body);
        match read {
            Ok(_) if body.len() as u64 > MAX_ANSWER => Err(too_large()),
            Ok(_) => Ok(body),
            Err(e) if is_timeout(&e) => Err(ClientError::Timeout {
                url: url.to_owned(),
                within: self.timeout,
            }),
            Err(e) => Err(ClientError::BrokenOff {
                url: url.to_owned(),
                received: body.len(),
                reason: innermost(&e),
            }),
        }
    }

    /// The error of a request that got no answer.
    fn transport(&self, url: &str, e: &reqwest::Error) -> ClientError {
        let url = url.to_owned();
        if let Some(t) = find_rustls(e) {
            return match t {
                rustls::Error::InvalidCertificate(c) => ClientError::Untrusted {
                    url,
                    reason: format!("{c:?}"),
                },
                other => ClientError::Tls {
                    url,
                    reason: other.to_string(),
                },
            };
        }
        if e.is_timeout() {
            return ClientError::Timeout {
                url,
                within: self.timeout,
            };
        }
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
        let mut reason = e.to_string();
        let mut dns = false;
        while let Some(err) = cur {
            dns |= err.to_string().starts_with("dns error");
            reason = match err
                .downcast_ref::<std::io::Error>()
                .map(std::io::Error::kind)
            {
                Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".to_owned(),
                _ => err.to_string(),
            };
            cur = err.source();
        }
        if dns {
            ClientError::Resolve { url, reason }
        } else {
            ClientError::Unreachable { url, reason }
        }
    }
}

/// rustls on ring, TLS 1.2 and 1.3, trusting `trust`, presenting the client certificate of
/// `auth` when it has one.
fn tls_config(trust: &Trust, auth: &Auth<'_>) -> Result<rustls::ClientConfig, ClientError> {
    let mut roots = rustls::RootCertStore::empty();
    match trust {
        Trust::Only(certs) => {
            for c in certs {
                roots
                    .add(rustls_pki_types::CertificateDer::from(c.der().to_vec()))
                    .map_err(|e| ClientError::BadAnchor {
                        subject: c.subject(),
                        reason: e.to_string(),
                    })?;
            }
        }
        Trust::System(ders) => {
            roots.add_parsable_certificates(
                ders.iter()
                    .map(|d| rustls_pki_types::CertificateDer::from(d.as_slice())),
            );
        }
    }
    if roots.is_empty() {
        return Err(ClientError::NoAnchors);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Setup {
            reason: format!("TLS: {e}"),
        })?
        .with_root_certificates(roots);
    match auth {
        Auth::Secret { .. } => Ok(builder.with_no_client_auth()),
        Auth::Certificate { chain, key } => {
            let certs = chain
                .iter()
                .map(|c| rustls_pki_types::CertificateDer::from(c.der().to_vec()))
                .collect();
            let key = rustls_pki_types::PrivateKeyDer::try_from(key.pkcs8_der().to_vec()).map_err(
                |e| ClientError::ClientCertificate {
                    reason: e.to_string(),
                },
            )?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| ClientError::ClientCertificate {
                    reason: e.to_string(),
                })
        }
    }
}

/// `Basic base64(id:secret)`, marked sensitive, every intermediate copy wiped.
fn basic_auth(id: &str, secret: &Zeroizing<String>) -> Result<HeaderValue, ClientError> {
    if id.is_empty() || id.contains(':') || id.chars().any(char::is_control) {
        return Err(ClientError::BadDeviceId { id: id.to_owned() });
    }
    let mut plain = Zeroizing::new(String::with_capacity(id.len() + 1 + secret.len()));
    plain.push_str(id);
    plain.push(':');
    plain.push_str(secret);
    let encoded = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*plain));
    let mut header = Zeroizing::new(String::with_capacity(6 + encoded.len()));
    header.push_str("Basic ");
    header.push_str(&encoded);
    let mut value = HeaderValue::from_str(&header)
        .map_err(|_| ClientError::BadDeviceId { id: id.to_owned() })?;
    value.set_sensitive(true);
    Ok(value)
}

/// What a server said in a refusal's body: one line, white space collapsed, at most
/// [`MAX_REASON`] characters.
fn reason_of(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(MAX_REASON).collect();
    if one_line.chars().count() > MAX_REASON {
        cut.push('…');
    }
    cut
}

/// A rustls error anywhere in the chain of `e` (also inside an `io::Error`, whose `source()`
/// skips the error it wraps).
fn find_rustls<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(t) = rustls_in(err) {
            return Some(t);
        }
        cur = err.source();
    }
    None
}

fn rustls_in<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(t) = e.downcast_ref::<rustls::Error>() {
        return Some(t);
    }
    let inner = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    rustls_in(inner)
}

/// Whether reading a body failed because its time ran out.
fn is_timeout(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout)
}

/// The innermost message of an error chain.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusals_reason_is_one_bounded_line() {
        assert_eq!(
            reason_of(b"secret\r\n  already used\n"),
            "secret already used"
        );
        assert_eq!(reason_of(b""), "");
        let long = reason_of(&[b'x'; 1000]);
        assert_eq!(long.chars().count(), MAX_REASON + 1);
        assert!(long.ends_with('…'));
        // Control characters other than white space stay, for `{:?}` to escape.
        assert_eq!(reason_of(b"a\x1b[2Jb"), "a\u{1b}[2Jb");
    }

    #[test]
    fn basic_auth_refuses_ids_it_cannot_carry_and_hides_the_value() {
        let secret = Zeroizing::new("s3cret".to_owned());
        for id in ["", "a:b", "a\nb"] {
            assert!(
                matches!(
                    basic_auth(id, &secret),
                    Err(ClientError::BadDeviceId { .. })
                ),
                "{id:?}"
            );
        }
        let v = basic_auth("dev-1", &secret).unwrap();
        assert!(v.is_sensitive());
        assert_eq!(v.to_str().unwrap(), "Basic ZGV2LTE6czNjcmV0");
        assert!(!format!("{v:?}").contains("ZGV2"));
    }

    #[test]
    fn no_anchor_is_no_tls() {
        let secret = Zeroizing::new(String::new());
        let auth = Auth::Secret {
            device_id: "d",
            secret: &secret,
        };
        assert!(matches!(
            tls_config(&Trust::Only(Vec::new()), &auth),
            Err(ClientError::NoAnchors)
        ));
        assert!(matches!(
            tls_config(&Trust::System(vec![b"not DER".to_vec()]), &auth),
            Err(ClientError::NoAnchors)
        ));
    }
}
