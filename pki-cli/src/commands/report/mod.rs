//! `pki report`: a picture of the fleet. Asks the register for its summaries (counted by the
//! database: states, the weekly expiry histogram, next expiries, the first renewals due), reads
//! the directory's CAs and, with `--scan`, the gateways of a `pki scan --json --drift` file,
//! and writes one self-contained HTML page (`html.rs`, `timeline.rs`) and/or the counts for
//! node_exporter's textfile collector (`prometheus.rs`), atomically and together.

mod fleet;
mod html;
mod prometheus;
mod scan;
mod timeline;

use std::path::PathBuf;

use anyhow::Result;
use clap::{ArgGroup, Args};
use pki_core::CaDir;
use pki_core::register::Window;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use self::fleet::{Fleet, STATES};
use super::GlobalContext;
use crate::args::{BadValue, instant, threshold};
use crate::output::{Outcome, Output, fields};

/// `pki report`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("out").required(true).multiple(true).args(["html", "prometheus"])))]
#[command(after_long_help = concat!(
    "The register is counted by its database (SQLite or PostgreSQL), in groups: the report takes\n",
    "the same few seconds and the same memory whether the register holds a thousand certificates\n",
    "or a million. States as `pki list` says them: valid, expiring (in service, notAfter within\n",
    "--warn), expired, superseded, revoked.\n\n",
    "--html writes one page that opens without a network (inline CSS, SVG and script): counts by\n",
    "state and profile, the certificates in service expiring each week for 18 months (stacked by\n",
    "profile, the issuer in each bar's tooltip), the directory's CAs with their own expiry and what\n",
    "each issued, the renewals due within --warn (the first 200 by name, and how many), and with\n",
    "--scan the gateways of a `pki scan --json --drift` file, drift marked.\n",
    "--prometheus writes node_exporter's textfile collector format: pki_certificates{state,profile,\n",
    "issuer}, pki_certificate_next_expiry_seconds{issuer,profile}, and with --scan\n",
    "pki_gateway_verified, pki_gateway_days_left and pki_gateway_drift{gateway,drift}.\n",
    "Both are written atomically (a temporary file renamed in the same directory) and never\n",
    "replace a file without --force (a cron job that refreshes them passes it).\n\n",
    "EXAMPLES:\n",
    "  pki report --html fleet.html\n",
    "  pki scan gateways.txt --ca-file root.pem --json --drift > scan.jsonl\n",
    "  pki report --html fleet.html --scan scan.jsonl --force\n",
    "  pki report --prometheus /var/lib/node_exporter/textfile/pki.prom --scan scan.jsonl --force\n\n",
    "EXIT CODES:\n  0  written\n",
    "  2  could not run (an output that exists without --force, a bad line in the scan file, an\n",
    "     unreachable register)"))]
pub(crate) struct ReportArgs {
    /// Write the report as one self-contained HTML page here.
    #[arg(long, value_name = "OUT.html")]
    pub(crate) html: Option<PathBuf>,
    /// Write the counts here, in node_exporter's textfile collector format (name it *.prom).
    #[arg(long, value_name = "FILE")]
    pub(crate) prometheus: Option<PathBuf>,
    /// The gateways of the last scan: the JSON Lines `pki scan --json --drift` wrote.
    #[arg(long, value_name = "SCAN.jsonl")]
    pub(crate) scan: Option<PathBuf>,
    /// A certificate in service counts as expiring with this much time left or less (30d, 12h).
    #[arg(long, default_value = "30d", value_name = "TIME", value_parser = warn_window)]
    pub(crate) warn: Duration,
    /// Judge states at this instant (RFC 3339, or a date: its midnight UTC) instead of now.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub(crate) at: Option<OffsetDateTime>,
    /// Replace the output files if they exist.
    #[arg(long)]
    pub(crate) force: bool,
}

/// `--warn`: a time left; a share of the lifetime is refused (the register is counted in
/// groups by notAfter alone).
fn warn_window(s: &str) -> Result<Duration, BadValue> {
    match threshold("--warn", s)? {
        pki_core::Threshold::Remaining(d) => Ok(d),
        pki_core::Threshold::Elapsed(_) => Err(BadValue(anyhow::anyhow!(
            "--warn {s:?} is a share of the lifetime, which pki report does not count: give a \
             time left such as 30d or 12h"
        ))),
    }
}

/// What the run wrote and counted.
#[derive(Debug, Serialize)]
struct Report {
    /// The HTML page written.
    html: Option<PathBuf>,
    /// The textfile collector's file written.
    prometheus: Option<PathBuf>,
    /// The instant the states were judged at.
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    /// Certificates by state.
    counts: std::collections::BTreeMap<&'static str, u64>,
    /// Renewals due within --warn.
    due: u64,
    /// Gateways read from the scan file, and how many of them drift.
    gateways: Option<usize>,
    drifting: Option<usize>,
}

pub(crate) fn run(ctx: &GlobalContext, a: ReportArgs, out: &Output) -> Result<Outcome> {
    let targets: Vec<&std::path::Path> = a
        .html
        .iter()
        .chain(&a.prometheus)
        .map(|p| p.as_path())
        .collect();
    if a.html.is_some() && a.html == a.prometheus {
        anyhow::bail!(
            "--html and --prometheus name the same file {}: give each its own",
            targets[0].display()
        );
    }
    // Nothing is written unless every output may be: refused before the register is read.
    CaDir::check_free(&targets, a.force)?;
    let gateways = a.scan.as_deref().map(scan::read).transpose()?;
    let ca = super::open_ca(ctx)?;
    let at = super::instant_or_now(a.at);
    let fleet = Fleet::gather(
        &ca,
        Window {
            at,
            expiring: a.warn,
        },
    )?;
    // Both outputs are put in place together, or neither (pki_core's write_files: each
    // written and synced to a temporary file in its own directory first, then renamed).
    let page = a
        .html
        .as_ref()
        .map(|_| html::render(&fleet, gateways.as_deref()));
    let exposition = a
        .prometheus
        .as_ref()
        .map(|_| prometheus::render(&fleet, gateways.as_deref()));
    let mut set: Vec<(&std::path::Path, &[u8], u32)> = Vec::new();
    if let (Some(path), Some(page)) = (&a.html, &page) {
        set.push((path, page.as_bytes(), 0o644));
    }
    if let (Some(path), Some(exposition)) = (&a.prometheus, &exposition) {
        set.push((path, exposition.as_bytes(), 0o644));
    }
    pki_core::write_files(&set, a.force)?;
    let report = Report {
        html: a.html,
        prometheus: a.prometheus,
        at,
        counts: STATES
            .iter()
            .map(|s| (s.as_str(), fleet.total(*s)))
            .collect(),
        due: fleet.due.total,
        drifting: gateways.as_ref().map(|g| {
            g.iter()
                .filter(|g| g.drift.is_some_and(scan::Drift::is_drift))
                .count()
        }),
        gateways: gateways.as_ref().map(Vec::len),
    };
    out.emit(&report, || text(&report))?;
    Ok(Outcome::Success)
}

/// The report as text.
fn text(r: &Report) -> String {
    let mut rows = Vec::new();
    if let Some(p) = &r.html {
        rows.push(("HTML", p.display().to_string()));
    }
    if let Some(p) = &r.prometheus {
        rows.push(("Prometheus", p.display().to_string()));
    }
    let counts: Vec<String> = r.counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    rows.push(("Certificates", counts.join(", ")));
    rows.push(("Renewals due", r.due.to_string()));
    if let (Some(g), Some(d)) = (r.gateways, r.drifting) {
        rows.push(("Gateways", format!("{g} scanned, {d} drifting")));
    }
    fields(&rows)
}
