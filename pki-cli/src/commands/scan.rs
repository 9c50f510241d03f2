//! `pki scan`: many gateways at once. Parses the hosts file and the flags, calls
//! `pki_verify::scan` (each host checked as `pki verify HOST:PORT` checks it, with bounded
//! concurrency and the per-step timeout), and renders: a table at the end, or with `--json` one
//! JSON line per host as soon as it is known (JSON Lines, the exception to one document per run).

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use pki_verify::{HostReport, HostStatus, ScanOptions};

use super::client_cert::Loader;
use super::instant_or_now;
use super::verify::trust_anchors;
use crate::cli::ScanArgs;
use crate::output::{Outcome, Output, table};

/// `pki scan`.
pub(crate) fn run(a: ScanArgs, out: &Output) -> Result<Outcome> {
    let name = a.hosts_file.display().to_string();
    let bytes = pki_core::files::read_input(&a.hosts_file, pki_core::files::Input::Document)
        .with_context(|| format!("cannot read the hosts file {name}"))?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("the hosts file {name} is not UTF-8 text"))?;
    let base = a
        .hosts_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let targets = pki_verify::parse_hosts(text, &name, base)?;
    let (anchors, anchors_label) = trust_anchors(&a.ca_files)?;
    // Every certificate and key before the first connection, each file once: a key shared by
    // a hundred gateways asks for its password (or its token's PIN) once.
    let mut loader = Loader::new(&a.password);
    let client_auth = match (&a.client_cert.cert, &a.client_cert.key) {
        (Some(cert), Some(key)) => Some(loader.client_auth(cert, key)?),
        _ => None,
    };
    let mut line_client_auth = BTreeMap::new();
    for t in &targets {
        if let Some(files) = &t.client
            && !line_client_auth.contains_key(files)
        {
            let auth = loader
                .client_auth(&files.cert, &files.key)
                .with_context(|| format!("{name} line {}", t.line))?;
            line_client_auth.insert(files.clone(), auth);
        }
    }
    let opts = ScanOptions {
        anchors,
        anchors_label,
        timeout: a.timeout,
        at: instant_or_now(a.at),
        warn: a.warn,
        jobs: usize::from(a.jobs),
        client_auth,
        line_client_auth,
    };
    let mut reports = Vec::with_capacity(targets.len());
    let mut all_ok = true;
    pki_verify::scan(&targets, &opts, |r| {
        all_ok &= r.status == HostStatus::Ok;
        if out.json {
            out.json_line(&r)
        } else {
            reports.push(r);
            Ok(())
        }
    })?;
    if !out.json {
        out.emit(&(), || scan_text(&reports))?;
    }
    Ok(if all_ok {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

fn status(s: HostStatus) -> &'static str {
    match s {
        HostStatus::Ok => "ok",
        HostStatus::Expiring => "expiring",
        HostStatus::Failed => "FAILED",
        HostStatus::Unreachable => "unreachable",
    }
}

/// The hosts as a table ([`table`]: every cell escaped and bounded, so that nothing a gateway
/// sent can break a row or make a column unbounded),
/// then a count of each status.
fn scan_text(reports: &[HostReport]) -> String {
    let dash = || "-".to_owned();
    let head = [
        "HOST",
        "STATUS",
        "OPENSSL",
        "RUSTLS",
        "NOT AFTER",
        "DAYS",
        "REASON",
    ];
    let rows: Vec<[String; 7]> = reports
        .iter()
        .map(|r| {
            [
                r.target.clone(),
                status(r.status).to_owned(),
                r.openssl
                    .as_ref()
                    .map_or_else(dash, |v| format!("{} ({})", v.code, v.text)),
                r.rustls.as_ref().map_or_else(dash, |v| v.name().to_owned()),
                r.soonest_not_after
                    .map_or_else(dash, |t| t.date().to_string()),
                r.days_left.map_or_else(dash, |d| d.to_string()),
                format!(
                    "{}{}",
                    r.reason,
                    r.fix
                        .as_ref()
                        .map(crate::hints::fix_words)
                        .unwrap_or_default()
                ),
            ]
        })
        .collect();
    let mut s = table(head, &rows);
    let count = |st| reports.iter().filter(|r| r.status == st).count();
    s += &format!(
        "{} gateway(s): {} ok, {} expiring, {} failed, {} unreachable\n",
        reports.len(),
        count(HostStatus::Ok),
        count(HostStatus::Expiring),
        count(HostStatus::Failed),
        count(HostStatus::Unreachable)
    );
    s
}
