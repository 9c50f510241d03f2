//! `pki needs-renewal`: does any of these certificates need renewing? Exit 0 when one does, 1
//! when none does, as `step certificate needs-renewal` and `tedge cert needs-renewal` answer, so
//! a systemd unit's `ExecCondition=` runs the renewal only when it is due. Every file is read
//! before anything is judged: a file that cannot be read ends the run (exit 2) with nothing on
//! stdout but, with `--json`, the error.

use crate::args::expires_in;
use crate::args::instant;
use clap::Args;
use pki_core::Threshold;
use std::path::PathBuf;

use anyhow::Result;
use pki_core::{NameStyle, RenewalCheck, Summary};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{GlobalContext, instant_or_now};
use crate::output::{Outcome, Output, escape_line};

/// `pki needs-renewal`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "Judges the first certificate of each file (the leaf of a full-chain file), as\n",
    "`step certificate needs-renewal` does without --bundle. By default a certificate needs renewal\n",
    "once two thirds of its lifetime (notAfter - notBefore) have passed; --expires-in 30d renews when\n",
    "30 days or less are left, --expires-in 75% when three quarters have passed. The instant of the\n",
    "threshold counts; an expired certificate always needs renewal. The exit codes are step's and\n",
    "tedge's, so a systemd unit's ExecCondition= runs the renewal only when it is due.\n\n",
    "EXAMPLES:\n",
    "  pki needs-renewal pki/certs/iot-edge-server-gw.contoso.com.cert.pem && pki renew ...\n",
    "  pki needs-renewal /etc/mosquitto/certs/*.pem --expires-in 30d\n",
    "  pki needs-renewal device.pem --expires-in 12h --at 2027-03-01T00:00:00Z --json\n\n",
    "EXIT CODES:\n  0  at least one certificate needs renewal (or has expired)\n",
    "  1  none does\n",
    "  2  could not run (a missing, unreadable or invalid file: nothing is judged)"))]
pub(crate) struct NeedsRenewalArgs {
    /// Certificate files (PEM, PEM bundles, DER); the first certificate of each is judged.
    /// Without files, every certificate in service in the register (`--register`).
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// Renew when this much time is left (30d, 12h, 1d12h, 90m) or this share of the lifetime
    /// has passed (66%) [default: two thirds of the lifetime].
    #[arg(long, value_name = "TIME|PERCENT", value_parser = expires_in)]
    pub(crate) expires_in: Option<Threshold>,
    /// Judge at this instant (RFC 3339, or a date: its midnight UTC) instead of now.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub(crate) at: Option<OffsetDateTime>,
}

/// How one certificate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Verdict {
    /// The threshold is not reached.
    Ok,
    /// The threshold is reached: renew.
    NeedsRenewal,
    /// Past notAfter: renew (and whatever uses it has stopped working).
    Expired,
}

impl Verdict {
    fn of(c: &RenewalCheck) -> Verdict {
        match (c.expired, c.needs_renewal) {
            (true, _) => Verdict::Expired,
            (false, true) => Verdict::NeedsRenewal,
            (false, false) => Verdict::Ok,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::NeedsRenewal => "needs renewal",
            Verdict::Expired => "expired",
        }
    }
}

/// One file's certificate, judged.
#[derive(Debug, Serialize)]
struct Judged {
    file: PathBuf,
    subject: String,
    serial: String,
    #[serde(with = "time::serde::rfc3339")]
    not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
    /// From this instant on it needs renewal.
    #[serde(with = "time::serde::rfc3339")]
    renew_from: OffsetDateTime,
    /// notAfter − the instant, in seconds (negative once expired).
    remaining_seconds: i64,
    lifetime_seconds: i64,
    status: Verdict,
    needs_renewal: bool,
    expired: bool,
}

impl Judged {
    fn new(
        file: PathBuf,
        subject: String,
        serial: String,
        c: &RenewalCheck,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Judged {
        Judged {
            file,
            subject,
            serial,
            not_before,
            not_after,
            renew_from: c.renew_from,
            remaining_seconds: c.remaining.whole_seconds(),
            lifetime_seconds: c.lifetime.whole_seconds(),
            status: Verdict::of(c),
            needs_renewal: c.needs_renewal,
            expired: c.expired,
        }
    }
}

/// The run's report.
#[derive(Debug, Serialize)]
struct Report {
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    /// The threshold as given (`30d`, `66.67%`).
    threshold: String,
    /// Whether any certificate needs renewal: exit 0.
    needs_renewal: bool,
    certificates: Vec<Judged>,
}

/// `pki needs-renewal`.
pub(crate) fn run(ctx: &GlobalContext, a: NeedsRenewalArgs, out: &Output) -> Result<Outcome> {
    let at = instant_or_now(a.at);
    let threshold = a.expires_in.unwrap_or_default();
    let mut certificates = Vec::with_capacity(a.files.len());
    if a.files.is_empty() {
        // The register: every certificate in service, judged from its row.
        let ca = super::open_ca(ctx)?;
        let in_service = pki_core::register::Query {
            status: Some(pki_core::register::Status::Issued),
            ..Default::default()
        };
        for r in ca.records(&in_service)? {
            let c = pki_core::check_renewal(r.not_before, r.not_after, threshold, at);
            let file = ca.file_of(&r.path);
            certificates.push(Judged::new(
                file,
                r.subject,
                r.serial,
                &c,
                r.not_before,
                r.not_after,
            ));
        }
    }
    for file in a.files {
        // The leaf: the first certificate, as step judges a bundle without --bundle.
        let leaf = pki_core::read_first_cert(&file)?;
        let s = Summary::of(&leaf);
        let c = pki_core::check_renewal(s.not_before, s.not_after, threshold, at);
        let subject = s.subject.text(NameStyle::Compact).to_owned();
        certificates.push(Judged::new(
            file,
            subject,
            s.serial.hex,
            &c,
            s.not_before,
            s.not_after,
        ));
    }
    let report = Report {
        at,
        threshold: threshold.to_string(),
        needs_renewal: certificates.iter().any(|c| c.needs_renewal),
        certificates,
    };
    out.emit(&report, || text(&report))?;
    Ok(if report.needs_renewal {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// One line per file: `PATH: SUBJECT, notAfter TIME, LEFT: VERDICT`.
fn text(r: &Report) -> String {
    let mut s = String::new();
    for c in &r.certificates {
        let remaining = time::Duration::seconds(c.remaining_seconds);
        let left = if !remaining.is_negative() {
            format!("{} left", pki_core::human_duration(remaining))
        } else {
            format!("expired {} ago", pki_core::human_duration(-remaining))
        };
        s += &format!(
            "{}: {}, notAfter {}, {left}: {}\n",
            escape_line(&c.file.display().to_string()),
            escape_line(&c.subject),
            c.not_after.format(&Rfc3339).unwrap_or_default(),
            c.status.text()
        );
    }
    s
}
