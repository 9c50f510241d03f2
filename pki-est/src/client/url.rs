//! Where an EST server is: its base URL (`https://HOST[:PORT]/.well-known/est`, the well-known
//! path added when only the host is given) and the label a request goes to, checked once, so that
//! every request's URL is the base, the label and the operation joined, and nothing else.

use reqwest::Url;

use crate::client::error::{ClientError, UrlFault};
use crate::route::Operation;

/// RFC 7030's path (RFC 8615), without its trailing slash.
const WELL_KNOWN: &str = "/.well-known/est";

/// The longest label accepted (RFC 7030 §3.2.2 leaves it to the server; pki's are short).
const MAX_LABEL: usize = 64;

/// An EST server's base URL, with the label requests go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// `https://host[:port]/path[/label]`, no trailing slash.
    base: String,
}

impl ServerUrl {
    /// Reads `url` (https only, a host, no user or password, no query or fragment; the path
    /// `/.well-known/est` when none is given) and appends `label` when given (a segment of
    /// letters, digits, `-`, `_`, `.` and `~`, not `.` or `..`).
    pub fn parse(url: &str, label: Option<&str>) -> Result<ServerUrl, ClientError> {
        let bad = |fault| ClientError::BadUrl {
            url: url.to_owned(),
            fault,
        };
        let parsed = Url::parse(url).map_err(|e| bad(UrlFault::Syntax(e.to_string())))?;
        if parsed.scheme() != "https" {
            return Err(bad(UrlFault::NotHttps));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(bad(UrlFault::NoHost));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(bad(UrlFault::Credentials));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(bad(UrlFault::QueryOrFragment));
        }
        let mut base = parsed.as_str().trim_end_matches('/').to_owned();
        if parsed.path().trim_end_matches('/').is_empty() {
            base.push_str(WELL_KNOWN);
        }
        if let Some(label) = label {
            check_label(label)?;
            base.push('/');
            base.push_str(label);
        }
        Ok(ServerUrl { base })
    }

    /// The base URL, with the label when one was given.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// The URL of `operation`.
    pub fn of(&self, operation: Operation) -> String {
        format!("{}/{}", self.base, operation.as_str())
    }
}

impl std::fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.base)
    }
}

/// A label is one path segment of RFC 3986's unreserved characters, not a dot segment.
fn check_label(label: &str) -> Result<(), ClientError> {
    let ok = !label.is_empty()
        && label.len() <= MAX_LABEL
        && label != "."
        && label != ".."
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
    if ok {
        Ok(())
    } else {
        Err(ClientError::BadLabel {
            label: label.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(url: &str) -> UrlFault {
        match ServerUrl::parse(url, None) {
            Err(ClientError::BadUrl { fault, .. }) => fault,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn the_well_known_path_is_added_to_a_bare_host_and_the_label_appended() {
        let u = |url, label| ServerUrl::parse(url, label).unwrap().to_string();
        assert_eq!(
            u("https://est.example:8443", None),
            "https://est.example:8443/.well-known/est"
        );
        assert_eq!(
            u("https://est.example:8443/", Some("edge-ca")),
            "https://est.example:8443/.well-known/est/edge-ca"
        );
        assert_eq!(
            u("https://127.0.0.1:9/.well-known/est/", Some("device")),
            "https://127.0.0.1:9/.well-known/est/device"
        );
        assert_eq!(
            u("https://[::1]:9/est-base", None),
            "https://[::1]:9/est-base"
        );
        let s = ServerUrl::parse("https://h/.well-known/est", Some("server")).unwrap();
        assert_eq!(
            s.of(Operation::SimpleEnroll),
            "https://h/.well-known/est/server/simpleenroll"
        );
    }

    #[test]
    fn what_is_not_an_https_base_or_a_label_is_refused() {
        assert_eq!(fault("http://h/.well-known/est"), UrlFault::NotHttps);
        assert!(matches!(fault("est.example:8443"), UrlFault::NotHttps));
        assert!(matches!(fault("not a url"), UrlFault::Syntax(_)));
        assert_eq!(fault("https://u:p@h/"), UrlFault::Credentials);
        assert_eq!(fault("https://u@h/"), UrlFault::Credentials);
        assert_eq!(fault("https://h/est?x=1"), UrlFault::QueryOrFragment);
        assert_eq!(fault("https://h/est#x"), UrlFault::QueryOrFragment);
        for label in ["", ".", "..", "a/b", "a b", "é", "%2e", &"x".repeat(65)] {
            assert!(
                matches!(
                    ServerUrl::parse("https://h", Some(label)),
                    Err(ClientError::BadLabel { .. })
                ),
                "{label:?}"
            );
        }
    }
}
