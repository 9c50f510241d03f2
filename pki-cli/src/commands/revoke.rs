//! `pki revoke`: names (a file, a serial, a device id, or a batch file of them) turned into the
//! library's targets, revoked in the register, and the result rendered: each certificate, and
//! what hangs below a revoked CA; with `--c8y`, what a Cumulocity tenant's offline revocation
//! list was given (`c8y_crl.rs`).

use crate::args::instant;
use crate::args::reason;
use anyhow::{Context, Result};
use clap::Args;
use pki_core::{Given, Record, RevokeReport, Target};
use serde::Serialize;
use std::path::PathBuf;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::GlobalContext;
use super::c8y_crl::{RevokeC8yArgs, RevokePush, push_revoked};
use crate::messages;
use crate::output::{Outcome, Output, escape_line};

/// `pki revoke`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "Names a certificate by its file, its serial (hex, with or without colons) or its device id\n",
    "(every certificate with that CN: a renewed device has several). --batch FILE revokes a recalled\n",
    "lot, one certificate file, serial or device id a line ('#' comments), in one transaction: an\n",
    "unknown line changes nothing. Rows are never deleted; revoking again says when it was done.\n",
    "Revoking a CA lists every certificate below it. The gateway refuses a revoked certificate once\n",
    "it reads a new CRL: run `pki crl --all` and reload it. --c8y then adds the serials to a\n",
    "Cumulocity tenant's offline revocation list (as `pki c8y crl push`; for good: the tenant cannot\n",
    "remove an entry); if the tenant fails, the revocation stays recorded: run `pki c8y crl push`.\n\n",
    "REASONS:\n  unspecified (default), keyCompromise, cACompromise, affiliationChanged, superseded,\n",
    "  cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise\n\n",
    "EXAMPLES:\n",
    "  pki revoke sensor-0042 --reason keyCompromise\n",
    "  pki revoke 4A:3F:9C:...:01 --reason superseded\n",
    "  pki revoke pki/certs/iot-device-sensor-0042.cert.pem\n",
    "  pki revoke --batch recalled-lot-7.txt --reason cessationOfOperation && pki crl --all\n",
    "  C8Y_PASSWORD=... pki revoke sensor-0042 --c8y --url https://t123.cumulocity.com --user admin\n\n",
    "EXIT CODES:\n  0  revoked (or already revoked)\n",
    "  2  could not run (an unknown serial or device id, a bad --batch line: nothing is revoked;\n",
    "     with --c8y, a tenant that failed: the revocation is recorded)"))]
pub(crate) struct RevokeArgs {
    /// The certificate: its file, its serial (hex, colons optional) or the device id (CN).
    #[arg(
        value_name = "FILE|SERIAL|DEVICE_ID",
        required_unless_present = "batch",
        conflicts_with = "batch"
    )]
    pub(crate) target: Option<String>,
    /// Revoke every certificate FILE names, one file, serial or device id a line.
    #[arg(long, value_name = "FILE")]
    pub(crate) batch: Option<PathBuf>,
    /// Why (an RFC 5280 reason; its code goes into the CRL).
    #[arg(long, default_value = "unspecified", value_name = "REASON", value_parser = reason)]
    pub(crate) reason: pki_core::register::Reason,
    /// When it was revoked: a date (midnight UTC) or an RFC 3339 time, default now; never in
    /// the future, nor before the certificate's notBefore.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub(crate) at: Option<OffsetDateTime>,
    #[command(flatten, next_help_heading = "Cumulocity (--c8y)")]
    pub(crate) c8y: RevokeC8yArgs,
}

/// The largest --batch file read (a recalled lot of a million serials is about 40 MB).
const MAX_BATCH: u64 = 1 << 30;

/// What `pki revoke` reports.
#[derive(Serialize)]
struct Report {
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    reason: &'static str,
    revoked: usize,
    already_revoked: usize,
    #[serde(flatten)]
    result: RevokeReport,
    /// `--c8y`: what the tenant's offline revocation list was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    c8y: Option<RevokePush>,
}

pub(crate) fn run(ctx: &GlobalContext, a: RevokeArgs, out: &Output) -> Result<Outcome> {
    let ca = super::open_ca(ctx)?;
    let given = match (&a.batch, &a.target) {
        (Some(path), _) => {
            let input = open_batch_file(path)?;
            pki_core::read_batch(path, input)?
        }
        (None, Some(target)) => vec![Given {
            target: Target::parse(target),
            file: None,
            line: None,
        }],
        (None, None) => {
            anyhow::bail!("give a certificate file, serial or device id, or --batch FILE")
        }
    };
    let now = super::instant_or_now(None);
    let at = a.at.unwrap_or(now);
    let result = pki_core::revoke(&ca, &given, at, now, a.reason)?;
    let already = result
        .certificates
        .iter()
        .filter(|c| c.already_revoked)
        .count();
    let revoked = result.certificates.len() - already;
    let c8y = match a.c8y.conn() {
        Some(conn) => {
            let records: Vec<&Record> = result.certificates.iter().map(|c| &c.record).collect();
            let recorded = format!(
                "revoked {revoked} certificate(s) in the register ({already} already), recorded"
            );
            Some(push_revoked(&conn, &records, &recorded)?)
        }
        None => None,
    };
    let report = Report {
        at,
        reason: a.reason.as_str(),
        revoked,
        already_revoked: already,
        result,
        c8y,
    };
    out.emit(&report, || text(&report))?;
    if report.revoked > 0 {
        messages::warning(
            "gateways refuse it once they read a new CRL: run `pki crl --all` and reload them \
             (mosquitto: systemctl reload mosquitto, or kill -HUP)",
        );
    }
    Ok(Outcome::Success)
}

/// The batch file, opened as every user-named input is (a regular file, never a FIFO or a
/// device) and read as a stream of at most [`MAX_BATCH`] bytes, line by bounded line.
fn open_batch_file(path: &std::path::Path) -> Result<impl std::io::BufRead> {
    use std::io::Read;
    let f = pki_core::files::open_input(path)
        .with_context(|| format!("cannot read the batch file {}", path.display()))?;
    let len = f
        .metadata()
        .with_context(|| format!("cannot read the batch file {}", path.display()))?
        .len();
    if len > MAX_BATCH {
        anyhow::bail!(
            "the batch file {} is larger than {MAX_BATCH} bytes: split the lot",
            path.display()
        );
    }
    Ok(std::io::BufReader::new(f.take(MAX_BATCH)))
}

fn when(t: Option<OffsetDateTime>) -> String {
    t.and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "an unknown time".into())
}

fn described(r: &Record) -> String {
    format!(
        "{} certificate {} (serial {})",
        r.profile, r.subject, r.serial
    )
}

fn text(report: &Report) -> String {
    let mut s = String::new();
    for c in &report.result.certificates {
        let r = &c.record;
        let reason = r.revocation_reason.as_deref().unwrap_or("unspecified");
        let line = if c.already_revoked {
            format!(
                "already revoked: {} since {} ({reason}); nothing changed",
                described(r),
                when(r.revoked_at)
            )
        } else {
            format!(
                "revoked {} at {} ({reason})",
                described(r),
                when(r.revoked_at)
            )
        };
        s += &escape_line(&line);
        s.push('\n');
    }
    if let Some(c8y) = &report.c8y {
        s += &c8y.text();
    }
    if !report.result.below.is_empty() {
        s += &format!(
            "below the revoked CA: {} certificate(s), whose chains now end at a revoked CA; a \
             gateway that checks only a client's own certificate against CRLs (mosquitto does) \
             still accepts them: revoke them too or re-issue them under another CA, and write \
             every CRL again (pki crl --all):\n",
            report.result.below.len()
        );
        let now = OffsetDateTime::now_utc();
        for r in &report.result.below {
            s += &escape_line(&format!(
                "  {:<11} {}",
                r.state(now, time::Duration::ZERO).as_str(),
                described(r)
            ));
            s.push('\n');
        }
    }
    s
}
