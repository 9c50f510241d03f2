//! `pki list`: the register as an inventory. Parses the filters into a register query, streams
//! the rows it selects, and renders each as a table row or a JSON line.

use crate::args::IssuerSpec;
use crate::args::expiring;
use crate::args::instant;
use anyhow::Result;
use clap::Args;
use pki_core::register::{Query, State, Status};
use pki_core::{CaDir, Record};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::GlobalContext;
use crate::output::{Outcome, Output, escape_line, json_safe, write_stdout};

/// `pki list`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "States: valid, expiring (in service, notAfter within --expiring, 30 days by default),\n",
    "expired, superseded (replaced by a renewal or a new PKI), revoked. Rows come by notAfter.\n",
    "With --json: JSON Lines, one certificate a line (the register's fields and its state),\n",
    "the export of what index.jsonl held.\n\n",
    "EXAMPLES:\n",
    "  pki list --expiring 30d\n",
    "  pki list --profile device --cn 'line-7-*' --json > lot.jsonl\n",
    "  pki list --issuer edge-ca:gw --expired\n",
    "  pki --register postgres://pki@db.example/pki list --superseded\n\n",
    "EXIT CODES:\n  0  listed (also when nothing matched)\n  2  could not run (no CA directory, an unreachable or foreign register)"))]
pub(crate) struct ListArgs {
    /// Only this profile: root-ca, intermediate-ca, edge-ca, server, device, self-signed-device,
    /// verification.
    #[arg(long, value_name = "PROFILE")]
    pub(crate) profile: Option<String>,
    /// Only certificates in service that expire within this time (30d, 12h, 2w).
    #[arg(long, value_name = "TIME", value_parser = expiring)]
    pub(crate) expiring: Option<time::Duration>,
    /// Only certificates in service that have expired.
    #[arg(long, conflicts_with = "expiring")]
    pub(crate) expired: bool,
    /// Only revoked certificates.
    #[arg(long, conflicts_with_all = ["expiring", "expired", "superseded"])]
    pub(crate) revoked: bool,
    /// Only superseded certificates (replaced by a renewal or a new PKI).
    #[arg(long, conflicts_with_all = ["expiring", "expired"])]
    pub(crate) superseded: bool,
    /// Only certificates signed by this CA: root, intermediate, edge-ca:NAME, or a CA
    /// certificate file (an old CA's, to see what still hangs from it).
    #[arg(long, value_name = "CA", value_parser = IssuerSpec::parse)]
    pub(crate) issuer: Option<IssuerSpec>,
    /// Only CNs (device ids, host names) matching this pattern: `*` any run, `?` one character.
    #[arg(long, value_name = "PATTERN")]
    pub(crate) cn: Option<String>,
    /// Judge states at this instant (RFC 3339, or a date: its midnight UTC) instead of now.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub(crate) at: Option<OffsetDateTime>,
}

/// The window in which a certificate counts as expiring unless `--expiring` gives another.
const DEFAULT_WINDOW: time::Duration = time::Duration::days(30);
/// Output is written in blocks of about this size.
const BLOCK: usize = 256 * 1024;

/// A JSON line: the register's row and its state.
#[derive(Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    record: &'a Record,
    state: State,
}

pub(crate) fn run(ctx: &GlobalContext, a: ListArgs, out: &Output) -> Result<Outcome> {
    let ca = super::open_ca(ctx)?;
    let at = a.at.unwrap_or_else(super::now);
    let window = a.expiring.unwrap_or(DEFAULT_WINDOW);
    let mut query = Query {
        profile: a.profile,
        common_name: a.cn,
        ..Query::default()
    };
    // Expiry views show what is in service: a proof-of-possession certificate is a
    // throwaway that nobody renews.
    let in_service = || {
        pki_core::THROWAWAY_PROFILES
            .iter()
            .map(|p| p.to_string())
            .collect()
    };
    if let Some(w) = a.expiring {
        query.status = Some(Status::Issued);
        query.expires_after = Some(at);
        query.expires_by = Some(at + w);
        query.not_profiles = in_service();
    }
    if a.expired {
        query.status = Some(Status::Issued);
        query.expires_by = Some(at);
        query.not_profiles = in_service();
    }
    if a.revoked {
        query.status = Some(Status::Revoked);
    }
    if a.superseded {
        query.status = Some(Status::Superseded);
    }
    if let Some(spec) = &a.issuer {
        query.issuer_sha256 = Some(issuer_sha256(&ca, spec)?);
    }
    let mut register = ca.register()?;
    let mut buf = String::with_capacity(BLOCK + 4096);
    if !out.json {
        buf += "STATE       NOT AFTER             PROFILE             SERIAL                                     SUBJECT  (ISSUER)\n";
    }
    let mut failed = None;
    register.for_each(&query, &mut |record| {
        let state = record.state(at, window);
        if out.json {
            match serde_json::to_string(&Line {
                record: &record,
                state,
            }) {
                Ok(line) => buf += &json_safe(&line),
                Err(e) => {
                    failed = Some(anyhow::Error::new(e));
                    return false;
                }
            }
        } else {
            buf += &escape_line(&format!(
                "{:<11} {:<21} {:<19} {:<42} {}  ({})",
                state.as_str(),
                record.not_after.format(&Rfc3339).unwrap_or_default(),
                record.profile,
                record.serial,
                record.subject,
                record.issuer,
            ));
        }
        buf.push('\n');
        if buf.len() >= BLOCK {
            if let Err(e) = write_stdout(buf.as_bytes()) {
                failed = Some(e);
                return false;
            }
            buf.clear();
        }
        true
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    write_stdout(buf.as_bytes())?;
    Ok(Outcome::Success)
}

/// The SHA-256 of the CA certificate `--issuer` names.
fn issuer_sha256(ca: &CaDir, spec: &IssuerSpec) -> Result<String> {
    let path = match spec {
        IssuerSpec::Role(role) => ca.cert_path(&role.prefix()),
        IssuerSpec::File(path) => path.clone(),
    };
    Ok(pki_core::read_first_cert(&path)?.sha256_hex())
}
