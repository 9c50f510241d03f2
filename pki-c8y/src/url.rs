//! The tenant's URL: `https://` only, and never with credentials in it.
//!
//! A URL is checked once, at the edge, into a [`TenantUrl`]; no message ever shows the userinfo
//! of what was given, also of one that does not parse.

use reqwest::Url;

use crate::error::Error;
use crate::redact::strip_userinfo;

/// A tenant's base URL: `https://host[:port][/path]`, with a host and without userinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantUrl(Url);

impl TenantUrl {
    /// Accepts `https://host[:port][/path]` or a bare `host[:port]`; refuses `http://`, and a URL
    /// with credentials in it (`https://user:password@host`: a password does not belong on a
    /// command line or in a variable that is printed). No error shows the userinfo.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let url = url.trim();
        let shown = strip_userinfo(url);
        let with_scheme = if url.contains("://") {
            url.to_owned()
        } else {
            format!("https://{url}")
        };
        let parsed = Url::parse(&with_scheme).map_err(|e| Error::BadUrl {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
        if parsed.scheme() != "https" {
            return Err(Error::NotHttps { url: shown });
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(Error::NoHost { url: shown });
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Error::Credentials { url: shown });
        }
        Ok(TenantUrl(parsed))
    }

    /// The URL, normalised, without a trailing `/` (`https://host[:port]`).
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    /// The host (and port), to name the tenant before its id is known.
    pub fn host(&self) -> String {
        match (self.0.host_str(), self.0.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => self.as_str().to_owned(),
        }
    }

    /// The port, when the URL names one.
    pub fn port(&self) -> Option<u16> {
        self.0.port()
    }
}

impl std::fmt::Display for TenantUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_only() {
        assert_eq!(
            TenantUrl::parse("t1.cumulocity.com").unwrap().0.as_str(),
            "https://t1.cumulocity.com/"
        );
        assert_eq!(
            TenantUrl::parse("t1.cumulocity.com").unwrap().as_str(),
            "https://t1.cumulocity.com"
        );
        assert_eq!(
            TenantUrl::parse("https://localhost:8443/").unwrap().port(),
            Some(8443)
        );
        let e = TenantUrl::parse("http://t1.cumulocity.com").unwrap_err();
        assert!(matches!(e, Error::NotHttps { .. }), "{e}");
        assert!(e.to_string().contains("not an https:// URL"), "{e}");
        let e = TenantUrl::parse("https://u:p@t1.cumulocity.com").unwrap_err();
        assert!(matches!(e, Error::Credentials { .. }), "{e}");
        let e = e.to_string();
        assert!(
            e.contains("must not carry credentials") && !e.contains(":p@"),
            "{e}"
        );
        let e = TenantUrl::parse("https://u:p@localhost:99999").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"https://localhost:99999\" is not a URL (invalid port number)"
        );
    }
}
