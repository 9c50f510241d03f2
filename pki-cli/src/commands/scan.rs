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
use pki_core::{Drift, DriftJudge, DriftKind, DriftRow, Threshold};
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
    "--drift joins each gateway's chain with the CA directory's register (by SHA-256) and says how\n",
    "what it serves stands: in_service; superseded (a renewal that did not take: the files were\n",
    "written but the broker not reloaded); revoked; not_issued (signed by one of the directory's CAs\n",
    "but not in its register); foreign_ca (another CA's). An Azure IoT Edge gateway's own server\n",
    "certificate, which its Edge CA issues, is judged by that Edge CA. Without --ca-file/--os-store,\n",
    "--drift trusts the directory's owner CA. With --json each line has `drift` and `register` (the\n",
    "row judged by: serial, status, path, superseded_by_serial).\n\n",
    "EXAMPLES:\n",
    "  pki scan gateways.txt --ca-file pki/certs/azure-iot-test-only.root.ca.cert.pem\n",
    "  pki scan gateways.txt --os-store --jobs 32 --timeout 3 --warn 45d\n",
    "  pki scan gateways.txt --ca-file root.pem \\\n",
    "      --cert pki/certs/iot-device-probe-full-chain.cert.pem --key pki/private/iot-device-probe.key.pem\n",
    "  pki scan gateways.txt --ca-file root.pem --json | jq -c 'select(.status != \"ok\")'\n",
    "  pki scan gateways.txt --drift --json | jq -c 'select(.drift != \"in_service\")'\n\n",
    "EXIT CODES:\n  0  every gateway verified and no certificate expires within --warn (and, with --drift,\n",
    "     each serves the certificate in service)\n",
    "  1  a gateway failed (not verified, unreachable), a certificate expires within --warn, or\n",
    "     (--drift) a gateway serves anything but the certificate in service\n",
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
    #[arg(long, value_name = "N", default_value_t = 64,
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
    /// Join each gateway's chain with the register: in service, superseded, revoked, not issued
    /// or from a foreign CA (exit 1 on any drift).
    #[arg(long)]
    pub(crate) drift: bool,
}

/// A host's JSON line with `--drift`.
#[derive(serde::Serialize)]
struct DriftLine<'a> {
    #[serde(flatten)]
    host: &'a HostReport,
    /// How what it serves stands against the register (none: nothing was served).
    drift: Option<DriftKind>,
    /// The register's row the verdict is about.
    register: Option<&'a DriftRow>,
}

/// The register, and the directory's CAs, that `--drift` judges chains against.
struct DriftCheck {
    judge: DriftJudge,
    register: pki_core::register::Register,
}

impl DriftCheck {
    /// The verdict on what `host` served.
    fn judge(&mut self, host: &HostReport) -> Result<Option<Drift>> {
        let chain: Vec<pki_core::Certificate> = host
            .certificates
            .iter()
            .map(|c| c.certificate.clone())
            .collect();
        Ok(self.judge.judge(&mut self.register, &chain)?)
    }
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
    let mut ca_files = a.ca_files.clone();
    let mut drift = None;
    if a.drift {
        let ca = super::open_ca(ctx)?;
        if ca_files.is_empty() && !a.os_store {
            ca_files.push(ca.cert_path(pki_core::ROOT_PREFIX));
        }
        drift = Some(DriftCheck {
            judge: ca.drift_judge(),
            register: ca.register()?,
        });
    }
    let (anchors, anchors_label) = trust_anchors(&ca_files)?;
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
        let verdict = match &mut drift {
            Some(check) => Some(check.judge(&r)?),
            None => None,
        };
        if let Some(d) = verdict.as_ref().and_then(Option::as_ref) {
            all_ok &= !d.drift.is_drift();
        }
        if out.json {
            match &verdict {
                Some(v) => out.json_line(&DriftLine {
                    host: &r,
                    drift: v.as_ref().map(|d| d.drift),
                    register: v.as_ref().and_then(|d| d.register.as_ref()),
                }),
                None => out.json_line(&r),
            }
        } else {
            reports.push((r, verdict));
            Ok(())
        }
    })?;
    if !out.json {
        out.emit(&(), || scan_text(&reports, a.drift))?;
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

/// The DRIFT cell: how what a gateway serves stands against the register.
fn drift_cell(d: Option<&Drift>) -> String {
    let Some(d) = d else {
        return "-".to_owned();
    };
    let row = d.register.as_ref();
    match d.drift {
        DriftKind::InService => "in service".to_owned(),
        DriftKind::Superseded => match row.and_then(|r| r.superseded_by_serial.as_deref()) {
            Some(by) => format!("SUPERSEDED by {by}"),
            None => "SUPERSEDED".to_owned(),
        },
        DriftKind::Revoked => "REVOKED".to_owned(),
        DriftKind::NotIssued => "NOT IN REGISTER".to_owned(),
        DriftKind::ForeignCa => "FOREIGN CA".to_owned(),
    }
}

/// The hosts as a table ([`table`]: every cell escaped and bounded, so that nothing a gateway
/// sent can break a row or make a column unbounded), with a DRIFT column after `--drift`,
/// then a count of each status (and drift).
fn scan_text(reports: &[(HostReport, Option<Option<Drift>>)], with_drift: bool) -> String {
    let dash = || "-".to_owned();
    let rows: Vec<[String; 8]> = reports
        .iter()
        .map(|(r, d)| {
            [
                r.target.clone(),
                status(r.status).to_owned(),
                drift_cell(d.as_ref().and_then(Option::as_ref)),
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
    let mut s = if with_drift {
        let head = [
            "HOST",
            "STATUS",
            "DRIFT",
            "OPENSSL",
            "RUSTLS",
            "NOT AFTER",
            "DAYS",
            "REASON",
        ];
        table(head, &rows)
    } else {
        let head = [
            "HOST",
            "STATUS",
            "OPENSSL",
            "RUSTLS",
            "NOT AFTER",
            "DAYS",
            "REASON",
        ];
        let rows: Vec<[String; 7]> = rows
            .into_iter()
            .map(|[h, st, _, o, r, n, d, why]| [h, st, o, r, n, d, why])
            .collect();
        table(head, &rows)
    };
    let count = |st| reports.iter().filter(|(r, _)| r.status == st).count();
    s += &format!(
        "{} gateway(s): {} ok, {} expiring, {} failed, {} unreachable\n",
        reports.len(),
        count(HostStatus::Ok),
        count(HostStatus::Expiring),
        count(HostStatus::Failed),
        count(HostStatus::Unreachable)
    );
    if with_drift {
        let drift = |k| {
            reports
                .iter()
                .filter(|(_, d)| {
                    d.as_ref()
                        .and_then(Option::as_ref)
                        .is_some_and(|d| d.drift == k)
                })
                .count()
        };
        s += &format!(
            "drift: {} in service, {} superseded, {} revoked, {} not in the register, {} from a foreign CA\n",
            drift(DriftKind::InService),
            drift(DriftKind::Superseded),
            drift(DriftKind::Revoked),
            drift(DriftKind::NotIssued),
            drift(DriftKind::ForeignCa)
        );
    }
    s
}
