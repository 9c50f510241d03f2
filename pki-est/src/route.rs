//! Labels and routes: the path of an EST request, `/.well-known/est/[LABEL/]OPERATION` (RFC 7030
//! §3.2.2), read into a [`Label`] (which profile issues) and an [`Operation`]. Nothing is
//! decoded or normalised: a path is accepted only as one of the canonical strings
//! [`path`] writes, so that `..`, `%2e`, `//` and the like never reach a handler.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, PathFault, Result};

/// Where EST lives (RFC 7030 §3.2.2, RFC 8615).
pub const WELL_KNOWN: &str = "/.well-known/est/";

/// The longest path read (longer ones are refused before looking at them).
pub const MAX_PATH: usize = 256;

/// The certificate profile a request is for, from the path's label segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    /// A device certificate (client authentication).
    Device,
    /// A gateway's server certificate.
    Server,
    /// An Azure IoT Edge device CA (CA:TRUE, pathlen 0, `NAME.ca` naming).
    EdgeCa,
}

impl Label {
    /// Every label, in the order the help lists them.
    pub const ALL: [Label; 3] = [Label::Device, Label::Server, Label::EdgeCa];

    /// The path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Device => "device",
            Label::Server => "server",
            Label::EdgeCa => "edge-ca",
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Label {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Label::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| Error::UnknownLabel {
                label: s.to_owned(),
            })
    }
}

/// An EST operation (RFC 7030 §3.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `GET cacerts`: the CA certificates (§4.1).
    CaCerts,
    /// `POST simpleenroll`: a first certificate (§4.2.1).
    SimpleEnroll,
    /// `POST simplereenroll`: a certificate renewed (§4.2.2).
    SimpleReenroll,
    /// `GET csrattrs`: what a CSR should hold (§4.5).
    CsrAttrs,
    /// `POST serverkeygen`: a key made by the server (§4.4).
    ServerKeyGen,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 5] = [
        Operation::CaCerts,
        Operation::SimpleEnroll,
        Operation::SimpleReenroll,
        Operation::CsrAttrs,
        Operation::ServerKeyGen,
    ];

    /// The path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::CaCerts => "cacerts",
            Operation::SimpleEnroll => "simpleenroll",
            Operation::SimpleReenroll => "simplereenroll",
            Operation::CsrAttrs => "csrattrs",
            Operation::ServerKeyGen => "serverkeygen",
        }
    }

    /// The HTTP method it is asked with.
    pub fn method(self) -> &'static str {
        match self {
            Operation::CaCerts | Operation::CsrAttrs => "GET",
            Operation::SimpleEnroll | Operation::SimpleReenroll | Operation::ServerKeyGen => "POST",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Operation::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| Error::UnknownOperation {
                operation: s.to_owned(),
            })
    }
}

/// The path of `operation` under `label` (or under no label).
pub fn path(label: Option<Label>, operation: Operation) -> String {
    match label {
        Some(l) => format!("{WELL_KNOWN}{l}/{operation}"),
        None => format!("{WELL_KNOWN}{operation}"),
    }
}

/// Reads a request's path (without its query; a `?` is refused) into its label and operation.
pub fn route(path: &str) -> Result<(Option<Label>, Operation)> {
    if path.len() > MAX_PATH {
        return Err(Error::PathTooLong {
            len: path.len(),
            max: MAX_PATH,
        });
    }
    let bad = |fault| Error::BadPath {
        path: path.to_owned(),
        fault,
    };
    // RFC 3986's unreserved characters and `/`: nothing else appears in a canonical path.
    if let Some(c) = path
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '/')))
    {
        return Err(bad(PathFault::Character(c)));
    }
    let rest = path.strip_prefix(WELL_KNOWN).ok_or_else(|| Error::NotEst {
        path: path.to_owned(),
    })?;
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(bad(PathFault::EmptySegment));
    }
    if segments.iter().any(|s| matches!(*s, "." | "..")) {
        return Err(bad(PathFault::DotSegment));
    }
    match segments[..] {
        [operation] => Ok((None, operation.parse()?)),
        [label, operation] => Ok((Some(label.parse()?), operation.parse()?)),
        _ => Err(bad(PathFault::TooManySegments)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path `route` accepts, with what it reads.
    fn canonical() -> Vec<(String, (Option<Label>, Operation))> {
        let labels = std::iter::once(None).chain(Label::ALL.into_iter().map(Some));
        labels
            .flat_map(|l| {
                Operation::ALL
                    .into_iter()
                    .map(move |o| (path(l, o), (l, o)))
            })
            .collect()
    }

    #[test]
    fn every_label_and_operation_routes() {
        let all = canonical();
        assert_eq!(all.len(), 20);
        for (p, expected) in all {
            assert_eq!(route(&p), Ok(expected), "{p}");
        }
        assert_eq!(
            route("/.well-known/est/edge-ca/simplereenroll"),
            Ok((Some(Label::EdgeCa), Operation::SimpleReenroll))
        );
    }

    #[test]
    fn odd_paths_get_their_errors() {
        let fault = |p: &str| match route(p) {
            Err(Error::BadPath { fault, .. }) => Some(fault),
            _ => None,
        };
        assert_eq!(
            fault("/.well-known/est/%2e%2e/cacerts"),
            Some(PathFault::Character('%'))
        );
        assert_eq!(
            fault("/.well-known/est/cacerts?x=1"),
            Some(PathFault::Character('?'))
        );
        assert_eq!(
            fault("/.well-known/est/device\\cacerts"),
            Some(PathFault::Character('\\'))
        );
        assert_eq!(
            fault("/.well-known/est/\u{0}cacerts"),
            Some(PathFault::Character('\0'))
        );
        assert_eq!(
            fault("/.well-known/est//cacerts"),
            Some(PathFault::EmptySegment)
        );
        assert_eq!(
            fault("/.well-known/est/cacerts/"),
            Some(PathFault::EmptySegment)
        );
        assert_eq!(fault("/.well-known/est/"), Some(PathFault::EmptySegment));
        assert_eq!(
            fault("/.well-known/est/../cacerts"),
            Some(PathFault::DotSegment)
        );
        assert_eq!(
            fault("/.well-known/est/./cacerts"),
            Some(PathFault::DotSegment)
        );
        assert_eq!(
            fault("/.well-known/est/device/x/cacerts"),
            Some(PathFault::TooManySegments)
        );
        assert!(matches!(
            route("/.well-known/est"),
            Err(Error::NotEst { .. })
        ));
        assert!(matches!(
            route("/.well-known/estx/cacerts"),
            Err(Error::NotEst { .. })
        ));
        assert!(matches!(
            route("//.well-known/est/cacerts"),
            Err(Error::NotEst { .. })
        ));
        assert!(matches!(
            route("/.well-known/est/CACERTS"),
            Err(Error::UnknownOperation { .. })
        ));
        assert!(matches!(
            route("/.well-known/est/fullcmc"),
            Err(Error::UnknownOperation { .. })
        ));
        assert!(matches!(
            route("/.well-known/est/gateway/cacerts"),
            Err(Error::UnknownLabel { .. })
        ));
        let long = format!("{WELL_KNOWN}{}", "a".repeat(MAX_PATH));
        assert_eq!(
            route(&long),
            Err(Error::PathTooLong {
                len: long.len(),
                max: MAX_PATH
            })
        );
    }

    #[test]
    fn error_messages_escape_what_came_from_the_network() {
        let err = route("/.well-known/est/\u{1b}[2J").unwrap_err();
        assert!(!err.to_string().chars().any(char::is_control), "{err}");
    }

    /// A small deterministic generator (xorshift64*): the property test needs no new crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    /// Property: over 200,000 paths assembled from EST's own segments and odd ones (`..`, `.`,
    /// `%2e`, `%2F`, empty segments, `\`, `?`, NUL, non-ASCII, upper case, overlong repeats),
    /// `route` never panics, accepts exactly the canonical paths with what they name, and refuses
    /// every other path with an error whose text holds no control character.
    #[test]
    fn only_canonical_paths_are_accepted() {
        let canonical = canonical();
        let pieces = [
            "/",
            "/",
            "/",
            ".well-known",
            "est",
            "/.well-known/est/",
            "/.well-known/est",
            "device",
            "server",
            "edge-ca",
            "cacerts",
            "simpleenroll",
            "simplereenroll",
            "csrattrs",
            "serverkeygen",
            ".",
            "..",
            "%2e",
            "%2E%2E",
            "%2F",
            "//",
            "\\",
            "?",
            "#",
            ";",
            "\0",
            "\u{1b}",
            "é",
            "\u{202e}",
            "CACERTS",
            "Device",
            "a",
            "~",
            "_",
            "-",
            "edge_ca",
            " ",
            "\t",
            "%00",
            "0123456789abcdef0123456789abcdef0123456789abcdef",
        ];
        let mut rng = Rng(0x0005_eed0_fe57);
        let mut accepted = 0;
        for _ in 0..200_000 {
            let mut p = String::new();
            // Half start from the well-known prefix, so that the label/operation logic is reached.
            if rng.next().is_multiple_of(2) {
                p.push_str(WELL_KNOWN);
            }
            let n = 1 + rng.next() % 8;
            for _ in 0..n {
                let piece = rng.pick(&pieces);
                // Now and then a piece repeated far beyond the bound.
                let times = if rng.next().is_multiple_of(64) { 40 } else { 1 };
                p.push_str(&piece.repeat(times));
            }
            match route(&p) {
                Ok(found) => {
                    accepted += 1;
                    assert!(
                        canonical.contains(&(p.clone(), found)),
                        "accepted {p:?} as {found:?}"
                    );
                }
                Err(e) => {
                    assert!(
                        !canonical.iter().any(|(c, _)| *c == p),
                        "refused canonical {p:?}: {e}"
                    );
                    assert!(!e.to_string().chars().any(char::is_control), "{p:?}: {e}");
                }
            }
        }
        // The generator does reach accepted paths (the property is not vacuous).
        assert!(accepted > 100, "only {accepted} accepted");
    }
}
