//! One HTTP request: the path routed, the body read within its bound and its time, the
//! credentials taken from the Authorization header and the TLS session, the authority asked,
//! the answer written as RFC 7030 wants it, and the audit line written.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use super::Shared;
use super::audit::RequestLine;
use super::authority::{AuthKind, Credentials, Denied};
use crate::{Label, MAX_CSR_BODY, Operation};

/// What a connection knows of its client.
pub(super) struct Peer {
    pub(super) address: std::net::SocketAddr,
    /// The TLS client certificate chain, leaf first (empty when none was presented).
    pub(super) chain: Vec<Vec<u8>>,
    /// Requests of this connection being answered.
    pub(super) in_flight: std::sync::atomic::AtomicUsize,
}

/// The media type of a certs-only PKCS#7 (RFC 7030 §4.1.3, §4.2.3).
pub const PKCS7_CERTS_ONLY: &str = "application/pkcs7-mime; smime-type=certs-only";
/// The realm of the HTTP Basic challenge.
pub const REALM: &str = "Basic realm=\"pki est\"";

/// An answer under construction, with what the audit line says of it.
struct Answer {
    status: StatusCode,
    content_type: &'static str,
    base64: bool,
    body: Bytes,
    reason: Option<String>,
    serial: Option<String>,
    retry_after: Option<u64>,
    allow: Option<&'static str>,
}

impl Answer {
    fn ok(content_type: &'static str, body: String) -> Answer {
        Answer {
            status: StatusCode::OK,
            content_type,
            base64: true,
            body: Bytes::from(body),
            reason: None,
            serial: None,
            retry_after: None,
            allow: None,
        }
    }

    /// A refusal: `reason` is the plain-text body and the audit line's reason.
    fn refuse(status: StatusCode, reason: String) -> Answer {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            base64: false,
            body: Bytes::from(format!("{reason}\n")),
            reason: Some(reason),
            serial: None,
            retry_after: None,
            allow: None,
        }
    }
}

/// Serves one request.
pub(super) async fn handle(
    shared: Arc<Shared>,
    peer: Arc<Peer>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let _in_flight = shared.in_flight(&peer);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut line = RequestLine {
        event: "request",
        time: String::new(),
        peer: peer.address.to_string(),
        method: method.to_string(),
        path: req
            .uri()
            .path_and_query()
            .map_or_else(|| path.clone(), |p| p.as_str().to_owned()),
        label: None,
        operation: None,
        auth: AuthKind::None,
        who: None,
        status: 0,
        serial: None,
        reason: None,
        ms: 0,
    };
    let answer = answer(&shared, &peer, req, &mut line).await;
    line.status = answer.status.as_u16();
    line.reason = answer.reason.clone();
    line.serial = answer.serial.clone();
    line.time = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    line.ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    shared.audit.write(&line);
    Ok(response(answer))
}

fn response(a: Answer) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(a.body));
    *r.status_mut() = a.status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    if a.base64 {
        h.insert(
            "content-transfer-encoding",
            HeaderValue::from_static("base64"),
        );
    }
    if a.status == StatusCode::UNAUTHORIZED {
        h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(REALM));
    }
    if let Some(s) = a.retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    if let Some(allow) = a.allow {
        h.insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    r
}

async fn answer(
    shared: &Arc<Shared>,
    peer: &Arc<Peer>,
    req: Request<Incoming>,
    line: &mut RequestLine,
) -> Answer {
    if req.uri().query().is_some() {
        return Answer::refuse(
            StatusCode::NOT_FOUND,
            "EST paths take no query string".into(),
        );
    }
    let (label, op) = match crate::route(req.uri().path()) {
        Ok(r) => r,
        Err(e) => return Answer::refuse(StatusCode::NOT_FOUND, e.to_string()),
    };
    let label = label.unwrap_or_else(|| shared.authority.default_label());
    line.label = Some(label.to_string());
    line.operation = Some(op.to_string());
    let want = match op {
        Operation::CaCerts | Operation::CsrAttrs => Method::GET,
        _ => Method::POST,
    };
    if req.method() != want {
        let mut a = Answer::refuse(StatusCode::METHOD_NOT_ALLOWED, format!("{op} takes {want}"));
        a.allow = Some(if want == Method::GET { "GET" } else { "POST" });
        return a;
    }
    match op {
        Operation::CaCerts => match shared.authority.ca_certs(label) {
            Some(certs) => match crate::certs_only_base64(certs) {
                Ok(body) => Answer::ok(PKCS7_CERTS_ONLY, body),
                Err(e) => Answer::refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            },
            None => not_served(label),
        },
        Operation::CsrAttrs => {
            let Some(key_type) = shared.authority.policy().key_types.first().copied() else {
                return Answer::refuse(StatusCode::NO_CONTENT, "no key type is accepted".into());
            };
            match crate::csr_attrs_base64(key_type) {
                Ok(body) => Answer::ok("application/csrattrs", body),
                Err(e) => Answer::refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            }
        }
        Operation::ServerKeyGen => Answer::refuse(
            StatusCode::NOT_IMPLEMENTED,
            "serverkeygen is not offered: make the key on the device and send its CSR to \
             simpleenroll"
                .into(),
        ),
        Operation::SimpleEnroll | Operation::SimpleReenroll => {
            enroll(shared, peer, label, op, req, line).await
        }
    }
}

fn not_served(label: Label) -> Answer {
    Answer::refuse(
        StatusCode::NOT_FOUND,
        format!("this server does not issue under the label {label}"),
    )
}

async fn enroll(
    shared: &Arc<Shared>,
    peer: &Arc<Peer>,
    label: Label,
    op: Operation,
    req: Request<Incoming>,
    line: &mut RequestLine,
) -> Answer {
    let too_large = || {
        Answer::refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is more than the {MAX_CSR_BODY} bytes a CSR may take"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let basic = match basic_credentials(req.headers()) {
        Ok(b) => b,
        Err(reason) => return Answer::refuse(StatusCode::UNAUTHORIZED, reason),
    };
    // Who the request says it is, for the audit line of a refusal that comes before the
    // authority is asked (a body too large or too slow); the authority's verdict replaces it.
    line.who = basic.as_ref().map(|(user, _)| user.clone());
    if declared.is_some_and(|n| n > MAX_CSR_BODY as u64) {
        return too_large();
    }
    let cte = req
        .headers()
        .get("content-transfer-encoding")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = Limited::new(req.into_body(), MAX_CSR_BODY);
    let body = match tokio::time::timeout(shared.limits.body_timeout, body.collect()).await {
        Err(_) => {
            return Answer::refuse(
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive in time".into(),
            );
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return too_large(),
        Ok(Err(e)) => {
            return Answer::refuse(
                StatusCode::BAD_REQUEST,
                format!("the request body could not be read: {e}"),
            );
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let creds = Credentials {
        basic,
        client_chain: peer.chain.clone(),
        peer: peer.address.ip(),
        reenroll: op == Operation::SimpleReenroll,
    };
    let authority = shared.authority.clone();
    let now = (shared.clock)();
    let verdict = match tokio::task::spawn_blocking(move || {
        authority.enroll(label, &body, cte.as_deref(), creds, now)
    })
    .await
    {
        Ok(v) => v,
        Err(e) => {
            return Answer::refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the enrolment failed: {e}"),
            );
        }
    };
    line.who = verdict.who;
    line.auth = verdict.auth;
    match verdict.outcome {
        Ok(cert) => match crate::certs_only_base64(std::slice::from_ref(&cert)) {
            Ok(body) => {
                let mut a = Answer::ok(PKCS7_CERTS_ONLY, body);
                a.serial = Some(pki_core::Summary::of(&cert).serial.hex);
                a
            }
            Err(e) => Answer::refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        },
        Err(denied) => denial(denied),
    }
}

/// The answer to a refused enrolment. A 401's body says only that authentication failed (the
/// audit line has why: a guesser learns nothing of which secrets exist); a 500's says the
/// server failed (the audit line has the error).
fn denial(d: Denied) -> Answer {
    match d {
        Denied::Unauthenticated(reason) => {
            let mut a = Answer::refuse(
                StatusCode::UNAUTHORIZED,
                "authentication failed: send HTTP Basic DEVICE_ID:SECRET with an unused \
                 enrolment secret, or a client certificate this server accepts"
                    .into(),
            );
            a.reason = Some(reason);
            a
        }
        Denied::RateLimited(secs) => {
            let mut a = Answer::refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "too many failed attempts for this device or address: try again later".into(),
            );
            a.retry_after = Some(secs);
            a
        }
        Denied::Forbidden(reason) => Answer::refuse(StatusCode::FORBIDDEN, reason),
        Denied::BadRequest(reason) => Answer::refuse(StatusCode::BAD_REQUEST, reason),
        Denied::Internal(reason) => {
            let mut a = Answer::refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the server could not issue the certificate; its operator has the reason in \
                 the audit log"
                    .into(),
            );
            a.reason = Some(reason);
            a
        }
    }
}

/// HTTP Basic user and password, when the Authorization header carries them; an error for an
/// Authorization header that is not readable Basic.
fn basic_credentials(
    headers: &hyper::HeaderMap,
) -> Result<Option<(String, Zeroizing<String>)>, String> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || "the Authorization header is not HTTP Basic DEVICE_ID:SECRET".to_owned();
    let value = value.to_str().map_err(|_| bad())?;
    let (scheme, rest) = value.trim().split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .map_err(|_| bad())?,
    );
    let text = std::str::from_utf8(&decoded).map_err(|_| bad())?;
    let (user, password) = text.split_once(':').ok_or_else(bad)?;
    Ok(Some((user.to_owned(), Zeroizing::new(password.to_owned()))))
}
