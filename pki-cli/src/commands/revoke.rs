//! `pki revoke`: names (a file, a serial, a device id, or a batch file of them) turned into the
//! library's targets, revoked in the register, and the result rendered: each certificate, and
//! what hangs below a revoked CA.

use anyhow::{Context, Result};
use pki_core::{Given, Record, RevokeReport, Target};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Home;
use crate::cli::RevokeArgs;
use crate::messages;
use crate::output::{Outcome, Output, escape_line};

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
}

pub(crate) fn run(dir: &Home, a: RevokeArgs, out: &Output) -> Result<Outcome> {
    let ca = super::open_ca(dir)?;
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
    let report = Report {
        at,
        reason: a.reason.as_str(),
        revoked: result.certificates.len() - already,
        already_revoked: already,
        result,
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
