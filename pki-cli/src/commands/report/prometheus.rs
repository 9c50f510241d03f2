//! The fleet in Prometheus's text exposition format, for node_exporter's textfile collector:
//! `pki_certificates{state,profile,issuer}`, `pki_certificate_next_expiry_seconds{issuer,
//! profile}` and, with a scan, per-gateway gauges. Series are bounded by the register's groups
//! (states × profiles × issuers) and the scan's gateways, never by the number of certificates.
//! Label values are escaped as the format says (`\\`, `\"`, `\n`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::fleet::{Fleet, STATES};
use super::scan::{Drift, Gateway, Status};

/// The exposition of `fleet` (and of the scan's `gateways`).
pub(super) fn render(fleet: &Fleet, gateways: Option<&[Gateway]>) -> String {
    let mut s = String::new();
    // Rows of two CAs of one CN (a renewed CA) are one series: the label is the CN.
    let mut counts: BTreeMap<(String, String), [u64; 5]> = BTreeMap::new();
    for c in &fleet.counts {
        let key = (
            c.profile.clone(),
            fleet.issuer_name(&c.issuer_sha256).to_owned(),
        );
        let slot = STATES.iter().position(|s| *s == c.state).unwrap_or(0);
        counts.entry(key).or_default()[slot] += c.count;
    }
    header(
        &mut s,
        "pki_certificates",
        "Certificates in the register by state (valid, expiring, expired, superseded, revoked), profile and issuer (the issuing CA's CN).",
    );
    for ((profile, issuer), n) in &counts {
        for (state, count) in STATES.iter().zip(n) {
            let _ = writeln!(
                s,
                "pki_certificates{{state=\"{}\",profile=\"{}\",issuer=\"{}\"}} {count}",
                state.as_str(),
                label(profile),
                label(issuer)
            );
        }
    }
    let mut next: BTreeMap<(String, String), i64> = BTreeMap::new();
    for n in &fleet.next {
        let key = (
            fleet.issuer_name(&n.issuer_sha256).to_owned(),
            n.profile.clone(),
        );
        let t = n.not_after.unix_timestamp();
        let e = next.entry(key).or_insert(t);
        *e = (*e).min(t);
    }
    header(
        &mut s,
        "pki_certificate_next_expiry_seconds",
        "The soonest notAfter (unix time) of the certificates in service of an issuer and a profile.",
    );
    for ((issuer, profile), t) in &next {
        let _ = writeln!(
            s,
            "pki_certificate_next_expiry_seconds{{issuer=\"{}\",profile=\"{}\"}} {t}",
            label(issuer),
            label(profile)
        );
    }
    header(
        &mut s,
        "pki_report_timestamp_seconds",
        "The instant (unix time) the states were judged at.",
    );
    let _ = writeln!(
        s,
        "pki_report_timestamp_seconds {}",
        fleet.window.at.unix_timestamp()
    );
    if let Some(gateways) = gateways {
        gateway_gauges(&mut s, gateways);
    }
    s
}

/// The per-gateway gauges of a scan.
fn gateway_gauges(s: &mut String, gateways: &[Gateway]) {
    header(
        s,
        "pki_gateway_verified",
        "1 when the gateway verified at the last scan (ok or expiring), else 0.",
    );
    for g in gateways {
        let up = matches!(g.status, Status::Ok | Status::Expiring);
        let _ = writeln!(
            s,
            "pki_gateway_verified{{gateway=\"{}\"}} {}",
            label(&g.target),
            u8::from(up)
        );
    }
    header(
        s,
        "pki_gateway_days_left",
        "Whole days left on the soonest certificate the gateway served at the last scan.",
    );
    for g in gateways {
        if let Some(d) = g.days_left {
            let _ = writeln!(
                s,
                "pki_gateway_days_left{{gateway=\"{}\"}} {d}",
                label(&g.target)
            );
        }
    }
    header(
        s,
        "pki_gateway_drift",
        "1 for what the gateway served at the last scan against the register (in_service, superseded, revoked, not_issued, foreign_ca), 0 for the others; all 0 when no certificate was seen.",
    );
    for g in gateways {
        for d in Drift::ALL {
            let _ = writeln!(
                s,
                "pki_gateway_drift{{gateway=\"{}\",drift=\"{}\"}} {}",
                label(&g.target),
                d.as_str(),
                u8::from(g.drift == Some(d))
            );
        }
    }
}

/// The HELP and TYPE lines of a gauge.
fn header(s: &mut String, name: &str, help: &str) {
    let _ = writeln!(s, "# HELP {name} {}", help_text(help));
    let _ = writeln!(s, "# TYPE {name} gauge");
}

/// A label value as the format writes it: backslash, double quote and line feed escaped.
pub(super) fn label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text: backslash and line feed escaped.
fn help_text(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_as_the_format_says() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(label("<script>"), "<script>");
        assert_eq!(help_text("a\\b\nc"), "a\\\\b\\nc");
    }
}
