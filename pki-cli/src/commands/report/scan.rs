//! The gateways of a scan: the JSON Lines of `pki scan --json` (with `--drift`, each line's
//! `drift` and `register`), read tolerantly (fields pki does not know are ignored, so that a
//! newer scan's file still reads) but strictly where the report relies on a value: a line that
//! is not such an object, or has an unknown status or drift, stops the report (exit 2) naming
//! the file and the line.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use pki_core::files::Input;
use serde::Deserialize;

/// How a gateway stood at the scan (`pki scan`'s status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Status {
    /// Verified, nothing expiring.
    Ok,
    /// Verified, a certificate expiring within the scan's --warn.
    Expiring,
    /// Not verified.
    Failed,
    /// Not reached.
    Unreachable,
}

impl Status {
    /// The name `pki scan` prints.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Expiring => "expiring",
            Status::Failed => "failed",
            Status::Unreachable => "unreachable",
        }
    }
}

/// What a gateway serves, against the register (`pki scan --drift`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Drift {
    /// The certificate the register has in service.
    InService,
    /// One a renewal replaced.
    Superseded,
    /// A revoked one.
    Revoked,
    /// One the register does not hold.
    NotIssued,
    /// One from a CA that is not the directory's.
    ForeignCa,
}

impl Drift {
    /// Every drift, in the order a report shows them.
    pub(super) const ALL: [Drift; 5] = [
        Drift::InService,
        Drift::Superseded,
        Drift::Revoked,
        Drift::NotIssued,
        Drift::ForeignCa,
    ];

    /// The name `pki scan --drift` prints.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Drift::InService => "in_service",
            Drift::Superseded => "superseded",
            Drift::Revoked => "revoked",
            Drift::NotIssued => "not_issued",
            Drift::ForeignCa => "foreign_ca",
        }
    }

    /// Whether the gateway serves something other than what the register has in service.
    pub(super) fn is_drift(self) -> bool {
        self != Drift::InService
    }
}

/// The register's row a gateway's certificate matched.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct RegisterRow {
    /// Its serial.
    #[serde(default)]
    pub(super) serial: Option<String>,
    /// Its status in the register.
    #[serde(default)]
    pub(super) status: Option<String>,
    /// The serial of the certificate that replaced it.
    #[serde(default)]
    pub(super) superseded_by_serial: Option<String>,
}

/// One gateway of the scan.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Gateway {
    /// `host:port`.
    pub(super) target: String,
    /// How it stood.
    pub(super) status: Status,
    /// Whole days left on its soonest certificate.
    #[serde(default)]
    pub(super) days_left: Option<i64>,
    /// Its soonest notAfter (RFC 3339, as printed).
    #[serde(default)]
    pub(super) soonest_not_after: Option<String>,
    /// Why it is not ok.
    #[serde(default)]
    pub(super) reason: String,
    /// What it serves against the register: none without `--drift`, or when no certificate
    /// was seen.
    #[serde(default)]
    pub(super) drift: Option<Drift>,
    /// The register's row its certificate matched.
    #[serde(default)]
    pub(super) register: Option<RegisterRow>,
}

/// The gateways of the scan file `path`, one per target (a target scanned twice: its last
/// line), in the file's order.
pub(super) fn read(path: &Path) -> Result<Vec<Gateway>> {
    let bytes = pki_core::files::read_input(path, Input::Document)
        .with_context(|| format!("cannot read the scan file {}", path.display()))?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        bail!(
            "the scan file {} is not UTF-8 text: give the JSON Lines of `pki scan --json --drift`",
            path.display()
        );
    };
    let mut gateways: Vec<Gateway> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let gateway: Gateway = serde_json::from_str(line).map_err(|e| {
            anyhow::anyhow!(
                "the scan file {} line {}: not a line of `pki scan --json --drift` ({e}): \
                 give the file that command wrote",
                path.display(),
                n + 1
            )
        })?;
        match seen.get(&gateway.target) {
            Some(&i) => gateways[i] = gateway,
            None => {
                seen.insert(gateway.target.clone(), gateways.len());
                gateways.push(gateway);
            }
        }
    }
    Ok(gateways)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> serde_json::Result<Gateway> {
        serde_json::from_str(line)
    }

    #[test]
    fn lines_are_read_tolerantly_but_values_strictly() {
        let g = parse(
            r#"{"target":"gw:8883","status":"ok","days_left":12,"soonest_not_after":"2027-01-01T00:00:00Z","reason":"","drift":"superseded","register":{"serial":"0A","status":"superseded","path":"certs/x","superseded_by_serial":"0B"},"checks":[],"future":1}"#,
        )
        .unwrap();
        assert_eq!(
            (g.status, g.days_left, g.drift),
            (Status::Ok, Some(12), Some(Drift::Superseded))
        );
        assert_eq!(
            g.register.unwrap().superseded_by_serial.as_deref(),
            Some("0B")
        );
        // A scan without --drift, and a gateway with no certificate seen.
        let g = parse(r#"{"target":"gw:8883","status":"unreachable","days_left":null,"reason":"refused","drift":null,"register":null}"#).unwrap();
        assert_eq!((g.drift, g.days_left), (None, None));
        assert!(parse(r#"{"target":"gw","status":"fine"}"#).is_err());
        assert!(parse(r#"{"target":"gw","status":"ok","drift":"elsewhere"}"#).is_err());
        assert!(parse(r#"{"status":"ok"}"#).is_err());
    }
}
