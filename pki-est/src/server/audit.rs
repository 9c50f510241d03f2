//! The audit log: one JSON line per request (who, what, the answer, the serial issued), and
//! the server's own events, written whole and flushed, to stdout or a file. Secrets are never
//! in it: the request's credentials reach it only as the device id or certificate subject.

use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;

use super::authority::AuthKind;

/// Where audit lines go.
pub struct Audit {
    out: Mutex<Box<dyn Write + Send>>,
}

/// One request, as the audit line records it.
#[derive(Debug, Serialize)]
pub struct RequestLine {
    /// Always `request`.
    pub event: &'static str,
    /// When it was answered (RFC 3339).
    pub time: String,
    /// The client's address and port.
    pub peer: String,
    /// The HTTP method.
    pub method: String,
    /// The path (escaped by JSON; never decoded).
    pub path: String,
    /// The label served, when the path was an EST one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The operation, when the path was an EST one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// How the client proved who it is.
    pub auth: AuthKind,
    /// Who it is (device id or certificate subject), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// The serial of the certificate issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// Why the request was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Milliseconds from the request's head to its answer.
    pub ms: u64,
}

impl Audit {
    /// Audit lines written to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Audit {
        Audit {
            out: Mutex::new(out),
        }
    }

    /// Writes `line` as one JSON line; a failure to write is ignored (the server goes on
    /// serving: the log is not the service).
    pub fn write<T: Serialize>(&self, line: &T) {
        let Ok(mut text) = serde_json::to_vec(line) else {
            return;
        };
        text.push(b'\n');
        if let Ok(mut out) = self.out.lock() {
            let _ = out.write_all(&text);
            let _ = out.flush();
        }
    }
}
