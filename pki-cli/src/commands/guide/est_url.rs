//! `--est-url`: where devices reach `pki est serve`, read once into an [`EstUrl`]:
//! `https://HOST[:PORT][/.well-known/est]`, or a bare `HOST[:PORT]`. The HOST is a DNS name or
//! an IP address (IPv6 in brackets); no credentials, query, fragment, nor any other path: RFC
//! 7030 §3.2.2 puts EST at `/.well-known/est` and `pki est serve` serves it there, and tedge
//! (`tedge cert download c8y --url HOST:PORT`) can name nothing but the host and port. What is
//! left is ASCII letters, digits, `-._:[]` only, so that it goes into a TOML string or a shell
//! word as it is.

use std::net::{Ipv4Addr, Ipv6Addr};

use anyhow::anyhow;

use crate::args::BadValue;

/// RFC 7030's path of every EST server.
pub(crate) const WELL_KNOWN: &str = "/.well-known/est";

/// An EST server's base URL, `https://HOST[:PORT]/.well-known/est`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EstUrl {
    /// The host as a URL writes it: a lower-case DNS name, an IPv4 address, `[IPv6]`.
    host: String,
    port: Option<u16>,
}

impl EstUrl {
    /// `--est-url`'s value parser.
    pub(crate) fn parse(s: &str) -> Result<EstUrl, BadValue> {
        // Never show credentials a URL carried: the message does not repeat the value.
        if s.contains('@') {
            return Err(BadValue(anyhow!(
                "--est-url: a URL with credentials in it (user:password@) is refused: give \
                 https://HOST:PORT; a device's credentials go in its own configuration"
            )));
        }
        parse(s).map_err(|reason| BadValue(anyhow!("--est-url {s:?} {reason}")))
    }

    /// `https://HOST[:PORT]/.well-known/est`: the URL of the server's default label.
    pub(crate) fn base(&self) -> String {
        format!("https://{}{WELL_KNOWN}", self.host_port())
    }

    /// The URL of one label (`edge-ca`): `https://HOST[:PORT]/.well-known/est/LABEL`.
    pub(crate) fn label(&self, label: &str) -> String {
        format!("{}/{label}", self.base())
    }

    /// The host, as `pki est serve --name` takes it (an IPv6 address without its brackets).
    pub(crate) fn host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    /// `HOST[:PORT]`, as tedge's `--url` takes it.
    pub(crate) fn host_port(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }
}

/// Why `s` is no EST URL, in words that follow the value in the error line.
fn parse(s: &str) -> Result<EstUrl, String> {
    const GIVE: &str = "give https://HOST:PORT, the address devices reach `pki est serve` at";
    let rest = match s.find("://") {
        Some(i) if s[..i].eq_ignore_ascii_case("https") => &s[i + 3..],
        Some(_) => return Err(format!("is not an https:// URL: {GIVE}")),
        None => s,
    };
    if rest.contains(['?', '#']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "holds what an EST URL has not (a query, a fragment, a space): {GIVE}"
        ));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let path = path.strip_suffix('/').unwrap_or(path);
    if !(path.is_empty() || path == WELL_KNOWN) {
        return Err(if path.starts_with(&format!("{WELL_KNOWN}/")) {
            format!(
                "names a label or an operation: give the server's base URL, \
                 https://HOST:PORT{WELL_KNOWN} (pki guide adds the labels)"
            )
        } else {
            format!("has the path {path:?}: EST is served at {WELL_KNOWN} (RFC 7030); {GIVE}")
        });
    }
    let (host, port) = split_host_port(authority).ok_or_else(|| {
        format!("has no host name or IP address (with an optional port 1-65535): {GIVE}")
    })?;
    Ok(EstUrl { host, port })
}

/// The host (as a URL writes it) and port of `HOST[:PORT]` / `[V6][:PORT]`.
fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']')?;
        let addr: Ipv6Addr = addr.parse().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{addr}]"), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let host = host.to_ascii_lowercase();
        let ok = host.parse::<Ipv4Addr>().is_ok()
            || (pki_core::is_valid_dns_name(&host) && !host.starts_with("*."));
        if !ok {
            return None;
        }
        (host, port)
    };
    let port = match port {
        None => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return None,
            Ok(n) => Some(n),
        },
        Some(_) => return None,
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> EstUrl {
        EstUrl::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn refused(s: &str) -> String {
        EstUrl::parse(s)
            .map(|u| panic!("{s:?} taken as {u:?}"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_host_and_port_becomes_the_base_url() {
        for s in [
            "est.example.com:8443",
            "https://est.example.com:8443",
            "https://est.example.com:8443/",
            "HTTPS://EST.Example.com:8443/.well-known/est",
            "https://est.example.com:8443/.well-known/est/",
        ] {
            let u = ok(s);
            assert_eq!(
                u.base(),
                "https://est.example.com:8443/.well-known/est",
                "{s}"
            );
            assert_eq!(u.host_port(), "est.example.com:8443", "{s}");
            assert_eq!(
                u.label("edge-ca"),
                "https://est.example.com:8443/.well-known/est/edge-ca"
            );
        }
        assert_eq!(ok("10.0.0.4").base(), "https://10.0.0.4/.well-known/est");
        assert_eq!(ok("https://[::1]:8443").host_port(), "[::1]:8443");
        assert_eq!(
            ok("[2001:DB8::1]").base(),
            "https://[2001:db8::1]/.well-known/est"
        );
    }

    #[test]
    fn anything_else_is_refused_saying_what_to_give() {
        for (s, says) in [
            ("http://est.example.com", "is not an https:// URL"),
            ("ftp://est.example.com", "is not an https:// URL"),
            (
                "https://est.example.com/est",
                "EST is served at /.well-known/est",
            ),
            ("https://e.example/.well-known/est/edge-ca", "names a label"),
            (
                "https://e.example/.well-known/est/simpleenroll",
                "names a label",
            ),
            ("https://e.example:0", "has no host name"),
            ("https://e.example:65536", "has no host name"),
            ("https://e.example:84a", "has no host name"),
            ("https://*.example.com", "has no host name"),
            ("https://a b", "a space"),
            ("https://e.example/?x=1", "a query"),
            ("https://e.example#f", "a fragment"),
            ("https://e\u{1b}[2J.example", "a space"),
            ("", "has no host name"),
            ("https://", "has no host name"),
            ("https://::1", "has no host name"),
            ("https://[::1", "has no host name"),
            ("https://[::1]x", "has no host name"),
        ] {
            let e = refused(s);
            assert!(e.contains(says), "{s:?}: {e}");
            assert!(e.starts_with("--est-url "), "{s:?}: {e}");
            assert!(!e.chars().any(char::is_control), "{s:?}: {e:?}");
        }
    }

    #[test]
    fn credentials_are_refused_and_never_shown() {
        let e = refused("https://dev-1:s3cret@est.example.com");
        assert!(e.contains("credentials"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
    }
}
