//! `pki scan`: many gateways at once. Parses the hosts file and the flags, calls
//! `pki_verify::scan` (each host checked as `pki verify HOST:PORT` checks it, with bounded
//! concurrency and the per-step timeout), and renders: a table at the end, or with `--json` one
//! JSON line per host as soon as it is known (JSON Lines, the exception to one document per run).

use crate::args::ClientCertOpts;
use crate::args::PasswordOpts;
use crate::args::instant;
use crate::args::step_timeout;
use crate::args::warn;
use clap::Args;
use pki_core::Threshold;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use time::OffsetDateTime;

use anyhow::{Context, Result};
use pki_verify::{HostReport, HostStatus, ScanOptions};

use super::GlobalContext;
use super::client_cert::Loader;
use super::instant_or_now;
use super::verify::trust_anchors;
use crate::output::{Outcome, Output, table};

/// `pki scan`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "HOSTS_FILE holds one gateway a line: HOST[:PORT] (port 8883 by default; IPv6 as [ADDR]:PORT),\n",
    "optionally followed by servername=NAME, the SNI sent and the name checked when the gateway is\n",
    "reached by another name or address, and by cert=FILE key=FILE, the device certificate shown to a\n",
    "gateway that requires one and trusts another CA than --cert's (key= may be a pkcs11: URI; paths\n",
    "are relative to HOSTS_FILE's directory). '#' starts a comment; blank lines are ignored.\n",
    "--cert/--key (and each line's files) are read once before the first connection, the key checked\n",
    "to be the certificate's, however many gateways share them.\n\n",
    "Each host is checked as `pki verify HOST:PORT` checks it (same trust anchors for all), with at\n",
    "most --jobs hosts at a time and --timeout on each network step, so a silent gateway costs its\n",
    "timeout and no more. Every certificate a host presents (leaf and chain) is judged against\n",
    "--warn. With --json, stdout is JSON Lines: one object per host, in the file's order, each\n",
    "printed as soon as it is known (the exception to one document per run: a monitoring job reads\n",
    "a fleet's hosts as they come).\n\n",
    "EXAMPLES:\n",
    "  pki scan gateways.txt --ca-file pki/certs/azure-iot-test-only.root.ca.cert.pem\n",
    "  pki scan gateways.txt --os-store --jobs 32 --timeout 3 --warn 45d\n",
    "  pki scan gateways.txt --ca-file root.pem \\\n",
    "      --cert pki/certs/iot-device-probe-full-chain.cert.pem --key pki/private/iot-device-probe.key.pem\n",
    "  pki scan gateways.txt --ca-file root.pem --json | jq -c 'select(.status != \"ok\")'\n\n",
    "EXIT CODES:\n  0  every gateway verified and no certificate expires within --warn\n",
    "  1  a gateway failed (not verified, unreachable) or a certificate expires within --warn\n",
    "  2  could not run (the hosts file is missing, empty or has a bad line; a bad CA file; a client\n",
    "     certificate that cannot be read or whose key is not its own)"))]
pub(crate) struct ScanArgs {
    /// The gateways: one HOST[:PORT] [servername=NAME] [cert=FILE key=FILE] a line; '#' comments.
    #[arg(value_name = "HOSTS_FILE")]
    pub(crate) hosts_file: PathBuf,
    /// Trust anchors (PEM files, bundles allowed); repeatable.
    #[arg(long = "ca-file", value_name = "FILE")]
    pub(crate) ca_files: Vec<PathBuf>,
    /// Trust the operating system's store (the default without --ca-file).
    #[arg(long, conflicts_with = "ca_files")]
    pub(crate) os_store: bool,
    /// How many gateways are checked at the same time (1 to 256).
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) jobs: u16,
    /// Seconds each network step of each gateway may take.
    #[arg(long, default_value = "5", value_name = "SECONDS", value_parser = step_timeout)]
    pub(crate) timeout: Duration,
    /// Flag a certificate with this much time left or less (30d, 12h), or once this share of
    /// its lifetime has passed (66%).
    #[arg(long, default_value = "30d", value_name = "TIME|PERCENT", value_parser = warn)]
    pub(crate) warn: Threshold,
    /// Judge validity at this instant (RFC 3339, or a date: its midnight UTC) instead of now.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub(crate) at: Option<OffsetDateTime>,
    /// The device certificate presented to every gateway whose line names none of its own.
    #[command(flatten)]
    pub(crate) client_cert: ClientCertOpts,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// `pki scan`.
pub(crate) fn run(ctx: &GlobalContext, a: ScanArgs, out: &Output) -> Result<Outcome> {
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
    let mut loader = Loader::new(ctx, &a.password);
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
