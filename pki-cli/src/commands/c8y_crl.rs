//! `pki c8y crl push|status`, and the push `pki revoke --c8y` makes: the register's revoked
//! certificates against a Cumulocity tenant's offline revocation list, through `pki-c8y`.
//!
//! The register decides what is revoked: only serials it shows revoked are ever sent, only
//! those the tenant lacks (serials compared as [`Serial`]s), and only after the user said yes,
//! since the tenant cannot remove an entry. `status` says what the tenant holds against the
//! register: revoked in both, revoked but missing at the tenant (drift, exit 1), and at the
//! tenant but not revoked in the register (an unknown serial, or a certificate in service: the
//! cloud refuses a device pki keeps in service, drift too).

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, IsTerminal, Read, Write};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use pki_c8y::{Revocation, Serial, Tenant, TenantCrl};
use pki_core::CaDir;
use pki_core::register::{Query, Record, State, Status};
use serde::Serialize;
use time::OffsetDateTime;

use super::GlobalContext;
use super::c8y::{C8yConn, connect};
use crate::args::IssuerSpec;
use crate::env;
use crate::hints;
use crate::messages;
use crate::output::{Outcome, Output, escape_line};

/// `pki c8y crl ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum C8yCrlCommand {
    /// Add the register's revoked certificates to the tenant's offline revocation list
    /// (permanent: the tenant cannot remove an entry).
    #[command(after_long_help = concat!(
        "Sends the serials of the certificates the directory's CAs issued (--issuer: one CA, named as\n",
        "`pki crl` names it) that the register shows revoked and the tenant's list lacks (PUT\n",
        "/tenant/trusted-certificates/settings/crl, 1,000 a request). Nothing else is ever sent; a second\n",
        "push sends nothing. Entries cannot be removed at the tenant: pki asks before it adds any, and\n",
        "without a terminal (or with --json) it needs --yes. --dry-run shows what would be added.\n\n",
        "EXAMPLES:\n",
        "  C8Y_PASSWORD=... pki c8y crl push --url https://t123.eu-latest.cumulocity.com --user admin\n",
        "  pki c8y crl push --issuer intermediate --dry-run\n",
        "  pki --json c8y crl push --yes\n\n",
        "EXIT CODES:\n  0  pushed (or nothing to push, or a dry run)\n",
        "  2  could not run (no --yes without a terminal, HTTP error, unreachable tenant)"))]
    Push(C8yCrlPushArgs),
    /// Compare the tenant's offline revocation list with the register.
    #[command(after_long_help = concat!(
        "Reads the tenant's list (GET /tenant/trusted-certificates/settings/crl) and says which revoked\n",
        "certificates of the directory's CAs (--issuer: one CA) it holds, which it lacks (run `pki c8y crl\n",
        "push`), and which serials it holds that the register does not show revoked (unknown to the\n",
        "register, or a certificate in service: the tenant refuses it).\n\n",
        "EXAMPLES:\n  pki c8y crl status --url https://t123.cumulocity.com --user admin\n",
        "  pki --json c8y crl status --issuer intermediate\n\n",
        "EXIT CODES:\n  0  the tenant holds every revoked certificate and refuses none in service\n",
        "  1  drift: a revoked certificate is missing at the tenant, or the tenant lists one the\n",
        "     register has in service (it refuses that device; entries cannot be removed: reissue it)\n",
        "  2  could not run"))]
    Status(C8yCrlStatusArgs),
}

/// `pki c8y crl push`.
#[derive(Debug, Args)]
pub(crate) struct C8yCrlPushArgs {
    /// Only what this CA issued: root, intermediate, edge-ca:NAME, or a CA certificate file.
    #[arg(long, value_name = "CA", value_parser = IssuerSpec::parse)]
    pub(crate) issuer: Option<IssuerSpec>,
    /// Say what would be added; send nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Add the entries without asking (needed without a terminal, and with --json).
    #[arg(long, conflicts_with = "dry_run")]
    pub(crate) yes: bool,
    #[command(flatten)]
    pub(crate) conn: C8yConn,
}

/// `pki c8y crl status`.
#[derive(Debug, Args)]
pub(crate) struct C8yCrlStatusArgs {
    /// Only what this CA issued: root, intermediate, edge-ca:NAME, or a CA certificate file.
    #[arg(long, value_name = "CA", value_parser = IssuerSpec::parse)]
    pub(crate) issuer: Option<IssuerSpec>,
    #[command(flatten)]
    pub(crate) conn: C8yConn,
}

/// `pki revoke --c8y`: the tenant whose offline revocation list gets what was revoked, reached
/// as `pki c8y crl push` reaches it.
#[derive(Debug, Args)]
pub(crate) struct RevokeC8yArgs {
    /// Then add what was revoked to the tenant's offline revocation list (permanent: the
    /// tenant cannot remove an entry), as `pki c8y crl push` does; the revocation is recorded
    /// whatever the tenant answers.
    #[arg(long, requires_all = ["url", "user"])]
    pub(crate) c8y: bool,
    /// The tenant's URL, e.g. https://mytenant.eu-latest.cumulocity.com.
    // Its value is never shown in the help: a URL may carry a password (it is refused).
    #[arg(long, env = env::C8Y_URL, value_name = "URL", hide_env_values = true)]
    pub(crate) url: Option<String>,
    /// The user (as given, or tenant/user).
    #[arg(long, env = env::C8Y_USER, value_name = "USER")]
    pub(crate) user: Option<String>,
    /// The tenant id (looked up with GET /tenant/currentTenant when not given).
    #[arg(long, env = env::C8Y_TENANT, value_name = "ID")]
    pub(crate) tenant: Option<String>,
    /// Read the tenant password from this file (first line); else C8Y_PASSWORD, else a prompt.
    #[arg(long, value_name = "FILE", requires = "c8y")]
    pub(crate) password_file: Option<std::path::PathBuf>,
    /// Trust this CA for the tenant's TLS (a private tenant); TLS is always verified.
    #[arg(long, value_name = "FILE", requires = "c8y")]
    pub(crate) ca_file: Option<std::path::PathBuf>,
}

impl RevokeC8yArgs {
    /// How `--c8y` reaches the tenant (clap requires --url and --user with it).
    pub(crate) fn conn(&self) -> Option<C8yConn> {
        self.c8y.then(|| C8yConn {
            url: self.url.clone().unwrap_or_default(),
            user: self.user.clone().unwrap_or_default(),
            tenant: self.tenant.clone(),
            password_file: self.password_file.clone(),
            ca_file: self.ca_file.clone(),
            timeout: std::time::Duration::from_secs(120),
        })
    }
}

/// `pki c8y crl ...`.
pub(crate) fn run(ctx: &GlobalContext, c: C8yCrlCommand, out: &Output) -> Result<Outcome> {
    match c {
        C8yCrlCommand::Push(a) => push(ctx, a, out),
        C8yCrlCommand::Status(a) => status(ctx, a, out),
    }
}

/// A revoked certificate of the register, as these commands report it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Revoked {
    /// The serial, as the tenant is sent it.
    serial: Serial,
    subject: String,
    profile: String,
    #[serde(with = "time::serde::rfc3339")]
    revoked_at: OffsetDateTime,
}

impl Revoked {
    /// The register's revoked row `r`; an error for a serial that is not hex (never sent).
    fn of(r: &Record) -> Result<Revoked> {
        let Some(serial) = Serial::parse(&r.serial) else {
            bail!(
                "the register's certificate {} has the serial {:?}, which is not hex: it cannot be sent to a tenant",
                r.subject,
                r.serial
            );
        };
        Ok(Revoked {
            serial,
            subject: r.subject.clone(),
            profile: r.profile.clone(),
            // `pki revoke` always records when; a row without it is dated by its notBefore,
            // the earliest it can have been revoked.
            revoked_at: r.revoked_at.unwrap_or(r.not_before),
        })
    }

    fn entry(&self) -> Revocation {
        Revocation {
            serial: self.serial.clone(),
            revoked_at: self.revoked_at,
        }
    }

    fn line(&self) -> String {
        escape_line(&format!(
            "  {}  {} certificate {}, revoked {}",
            self.serial,
            self.profile,
            self.subject,
            rfc3339(self.revoked_at)
        ))
        .into_owned()
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Which CAs' certificates: every CA of the directory (and the previous certificates of renewed
/// ones), or the one `--issuer` names; by the SHA-256 the register keys issuers by.
struct Scope {
    /// `every CA of DIR`, `the intermediate CA`, `CA FILE`.
    label: String,
    cas: Vec<String>,
}

fn scope(ca: &CaDir, issuer: Option<&IssuerSpec>) -> Result<Scope> {
    let sha = |path: &std::path::Path| -> Result<String> {
        Ok(pki_core::read_first_cert(path)
            .with_context(|| format!("cannot read the CA certificate {}", path.display()))?
            .sha256_hex())
    };
    Ok(match issuer {
        Some(IssuerSpec::Role(role)) => {
            if !ca.has(role) {
                bail!(
                    "{} has no {role}; name one of its CAs (root, intermediate, edge-ca:NAME) or a CA certificate file",
                    ca.path().display()
                );
            }
            Scope {
                label: format!("the {role}"),
                cas: vec![sha(&ca.cert_path(&role.prefix()))?],
            }
        }
        Some(IssuerSpec::File(file)) => Scope {
            label: format!("CA {}", file.display()),
            cas: vec![sha(file)?],
        },
        None => {
            let mut cas = Vec::new();
            for role in ca.ca_roles()?.into_iter().filter(|r| ca.has(r)) {
                cas.push(sha(&ca.cert_path(&role.prefix()))?);
            }
            for kept in ca.kept_cas()? {
                cas.push(sha(&kept.cert)?);
            }
            if cas.is_empty() {
                bail!(
                    "{}: no CA; run `pki create-owner-ca` first",
                    ca.path().display()
                );
            }
            Scope {
                label: format!("the CAs of {}", ca.path().display()),
                cas,
            }
        }
    })
}

/// The register's revoked certificates that the CAs of `scope` issued, one per serial.
fn revoked(ca: &CaDir, scope: &Scope) -> Result<Vec<Revoked>> {
    let mut register = ca.register()?;
    let mut by_serial = BTreeMap::new();
    for sha in &scope.cas {
        let query = Query {
            issuer_sha256: Some(sha.clone()),
            status: Some(Status::Revoked),
            ..Query::default()
        };
        for r in register.records(&query)? {
            let rv = Revoked::of(&r)?;
            by_serial.entry(rv.serial.clone()).or_insert(rv);
        }
    }
    Ok(by_serial.into_values().collect())
}

/// The tenant's list, read.
fn tenant_list(tenant: &Tenant) -> Result<TenantCrl> {
    let what = format!(
        "cannot read the offline revocation list of tenant {}",
        tenant.id()
    );
    tenant.revocations().map_err(|e| hints::c8y(e, &what))
}

/// What a push did (or, with `--dry-run`, would do).
#[derive(Debug, Serialize)]
pub(crate) struct PushReport {
    tenant: String,
    url: String,
    /// Which CAs' revoked certificates.
    scope: String,
    dry_run: bool,
    /// Revoked certificates in scope.
    total: usize,
    /// Of those, already on the tenant's list.
    already: usize,
    /// Added now (with `--dry-run`: none).
    pushed: usize,
    /// What was added (with `--dry-run`: what would be).
    certificates: Vec<Revoked>,
}

fn push(ctx: &GlobalContext, a: C8yCrlPushArgs, out: &Output) -> Result<Outcome> {
    // Everything local first: nothing is asked of the tenant for a register that cannot be read.
    let ca = super::open_ca(ctx)?;
    let scope = scope(&ca, a.issuer.as_ref())?;
    let revoked = revoked(&ca, &scope)?;
    let tenant = connect(&a.conn)?;
    let have: HashSet<Serial> = tenant_list(&tenant)?
        .entries
        .into_iter()
        .map(|e| e.serial)
        .collect();
    let total = revoked.len();
    let missing: Vec<Revoked> = revoked
        .into_iter()
        .filter(|r| !have.contains(&r.serial))
        .collect();
    let mut report = PushReport {
        tenant: tenant.id().to_owned(),
        url: tenant.url().to_owned(),
        scope: scope.label,
        dry_run: a.dry_run,
        total,
        already: total - missing.len(),
        pushed: 0,
        certificates: missing,
    };
    if !report.certificates.is_empty() && !a.dry_run {
        confirm(&report, a.yes, out)?;
        report.pushed = add(&tenant, &report.certificates, "")?;
    }
    out.emit(&report, || push_text(&report))?;
    Ok(Outcome::Success)
}

/// Adds `certs` to the tenant's list; how many were added. An error says how many went before
/// it and to push again (`done` is what the user already has recorded, for the error).
fn add(tenant: &Tenant, certs: &[Revoked], done: &str) -> Result<usize> {
    let entries: Vec<Revocation> = certs.iter().map(Revoked::entry).collect();
    let added = std::cell::Cell::new(0usize);
    tenant
        .add_revocations(&entries, &mut |n| added.set(added.get() + n))
        .map_err(|e| {
            let what = format!(
                "{done}cannot add to the offline revocation list of tenant {} ({} of {} entries added); run `pki c8y crl push` again once the tenant answers",
                tenant.id(),
                added.get(),
                entries.len()
            );
            hints::c8y_doing(e, &what)
        })?;
    Ok(added.get())
}

/// Says that entries are permanent, and asks (on a terminal), or requires `--yes`.
fn confirm(r: &PushReport, yes: bool, out: &Output) -> Result<()> {
    let n = r.certificates.len();
    let said = format!(
        "adding {n} serial(s) to the offline revocation list of tenant {}: the tenant cannot remove an entry, and will refuse these certificates for good",
        r.tenant
    );
    if yes {
        if !out.json {
            messages::warning(&said);
        }
        return Ok(());
    }
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if out.json || !terminal {
        bail!(
            "not pushed: {n} serial(s) would be added to the offline revocation list of tenant {}, for good (the tenant cannot remove an entry); run again with --yes to add them (--dry-run lists them)",
            r.tenant
        );
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", escape_line(&said));
    for c in &r.certificates {
        let _ = writeln!(err, "{}", c.line());
    }
    let _ = write!(err, "Add them? [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .take(64)
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        bail!("not pushed: nothing was added to tenant {}", r.tenant)
    }
}

fn push_text(r: &PushReport) -> String {
    let tenant = escape_line(&r.tenant);
    if r.certificates.is_empty() {
        return format!(
            "nothing to push: the offline revocation list of tenant {tenant} holds all {} revoked certificate(s) of {}\n",
            r.total, r.scope
        );
    }
    let mut s = if r.dry_run {
        format!(
            "would add {} serial(s) to the offline revocation list of tenant {tenant} ({} of {} revoked certificate(s) of {} there already; nothing sent):\n",
            r.certificates.len(),
            r.already,
            r.total,
            r.scope
        )
    } else {
        format!(
            "added {} serial(s) to the offline revocation list of tenant {tenant} ({} of {} revoked certificate(s) of {} there already):\n",
            r.pushed, r.already, r.total, r.scope
        )
    };
    for c in &r.certificates {
        s += &c.line();
        s.push('\n');
    }
    s
}

/// What `pki revoke --c8y` reports of the tenant.
#[derive(Debug, Serialize)]
pub(crate) struct RevokePush {
    tenant: String,
    /// Serials added now.
    pushed: Vec<Serial>,
    /// Serials the tenant had already.
    already: Vec<Serial>,
}

impl RevokePush {
    /// The lines `pki revoke` prints.
    pub(crate) fn text(&self) -> String {
        let tenant = escape_line(&self.tenant);
        let list = |v: &[Serial]| v.iter().map(Serial::as_str).collect::<Vec<_>>().join(", ");
        let mut s = String::new();
        if !self.pushed.is_empty() {
            s += &format!(
                "added to the offline revocation list of tenant {tenant} (for good: the tenant cannot remove an entry): {}\n",
                list(&self.pushed)
            );
        }
        if !self.already.is_empty() {
            s += &format!(
                "already on the offline revocation list of tenant {tenant}: {}\n",
                list(&self.already)
            );
        }
        s
    }
}

/// `pki revoke --c8y`: adds the revoked certificates `records` (those the tenant lacks) to the
/// tenant's list. `recorded` words what the register now holds, for an error.
pub(crate) fn push_revoked(
    conn: &C8yConn,
    records: &[&Record],
    recorded: &str,
) -> Result<RevokePush> {
    let untold = |e: anyhow::Error| {
        e.context(format!(
            "{recorded}, but the tenant was not told; run `pki c8y crl push` once it answers"
        ))
    };
    let certs = records
        .iter()
        .map(|r| Revoked::of(r))
        .collect::<Result<Vec<_>>>()
        .map_err(untold)?;
    let tenant = connect(conn).map_err(untold)?;
    let have: HashSet<Serial> = tenant_list(&tenant)
        .map_err(untold)?
        .entries
        .into_iter()
        .map(|e| e.serial)
        .collect();
    let (already, missing): (Vec<Revoked>, Vec<Revoked>) =
        certs.into_iter().partition(|c| have.contains(&c.serial));
    add(&tenant, &missing, &format!("{recorded}, but "))?;
    Ok(RevokePush {
        tenant: tenant.id().to_owned(),
        pushed: missing.into_iter().map(|c| c.serial).collect(),
        already: already.into_iter().map(|c| c.serial).collect(),
    })
}

/// What the register says of a serial the tenant lists that it does not show revoked (in the
/// scope asked about).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Standing {
    /// No certificate of the register has this serial.
    Unknown,
    /// A certificate in service (valid or expiring): the tenant refuses it.
    InService,
    /// An expired certificate.
    Expired,
    /// A certificate replaced by a renewal.
    Superseded,
    /// Revoked, by a CA outside the scope asked about.
    RevokedElsewhere,
}

impl Standing {
    fn words(self) -> &'static str {
        match self {
            Standing::Unknown => "unknown serial: no certificate of the register has it",
            Standing::InService => {
                "in service: the tenant refuses a certificate pki did not revoke"
            }
            Standing::Expired => "expired, not revoked",
            Standing::Superseded => "superseded by a renewal, not revoked",
            Standing::RevokedElsewhere => "revoked, issued by a CA outside the scope asked about",
        }
    }
}

/// A serial at the tenant that the register does not show revoked.
#[derive(Debug, Serialize)]
struct Extra {
    serial: Serial,
    /// The tenant's revocation date.
    #[serde(with = "time::serde::rfc3339")]
    revoked_at: OffsetDateTime,
    register: Standing,
    /// The register's certificate with that serial, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
}

/// What `pki c8y crl status` reports.
#[derive(Debug, Serialize)]
struct StatusReport {
    tenant: String,
    url: String,
    scope: String,
    /// Revoked certificates in scope.
    revoked: usize,
    /// Revoked in the register and on the tenant's list.
    at_tenant: Vec<Revoked>,
    /// Revoked in the register, missing at the tenant: drift.
    missing: Vec<Revoked>,
    /// On the tenant's list, not revoked in the register (in scope).
    not_revoked: Vec<Extra>,
    /// Any revoked certificate missing at the tenant, or any in service on its list.
    drift: bool,
}

fn status(ctx: &GlobalContext, a: C8yCrlStatusArgs, out: &Output) -> Result<Outcome> {
    let ca = super::open_ca(ctx)?;
    let scope = scope(&ca, a.issuer.as_ref())?;
    let revoked = revoked(&ca, &scope)?;
    let tenant = connect(&a.conn)?;
    let list = tenant_list(&tenant)?;
    let mut at_tenant_dates: BTreeMap<Serial, OffsetDateTime> = BTreeMap::new();
    for e in list.entries {
        at_tenant_dates.entry(e.serial).or_insert(e.revoked_at);
    }
    let ours: HashSet<Serial> = revoked.iter().map(|r| r.serial.clone()).collect();
    let (at_tenant, missing): (Vec<Revoked>, Vec<Revoked>) = revoked
        .into_iter()
        .partition(|r| at_tenant_dates.contains_key(&r.serial));
    let mut register = ca.register()?;
    let now = super::now();
    let mut not_revoked = Vec::new();
    for (serial, revoked_at) in at_tenant_dates {
        if ours.contains(&serial) {
            continue;
        }
        let query = Query {
            serial: Some(serial.as_str().to_owned()),
            ..Query::default()
        };
        let rows = register.records(&query)?;
        // The worst news first: a certificate in service that the tenant refuses.
        let row = rows
            .iter()
            .min_by_key(|r| standing(r, now) as u8)
            .map(|r| (standing(r, now), r.subject.clone()));
        let (register, subject) = match row {
            Some((s, subject)) => (s, Some(subject)),
            None => (Standing::Unknown, None),
        };
        not_revoked.push(Extra {
            serial,
            revoked_at,
            register,
            subject,
        });
    }
    let report = StatusReport {
        tenant: tenant.id().to_owned(),
        url: tenant.url().to_owned(),
        scope: scope.label,
        revoked: at_tenant.len() + missing.len(),
        drift: !missing.is_empty()
            || not_revoked
                .iter()
                .any(|e| e.register == Standing::InService),
        at_tenant,
        missing,
        not_revoked,
    };
    out.emit(&report, || status_text(&report))?;
    Ok(if report.drift {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}

/// A register row's standing (rows of a serial the tenant lists but the scope does not show
/// revoked): its state at `now` (`pki list`'s), with no expiry window.
fn standing(r: &Record, now: OffsetDateTime) -> Standing {
    match r.state(now, time::Duration::ZERO) {
        State::Revoked => Standing::RevokedElsewhere,
        State::Superseded => Standing::Superseded,
        State::Expired => Standing::Expired,
        State::Expiring | State::Valid => Standing::InService,
    }
}

fn status_text(r: &StatusReport) -> String {
    let tenant = escape_line(&r.tenant);
    let mut s = format!(
        "tenant {tenant}: its offline revocation list holds {} of {} revoked certificate(s) of {}\n",
        r.at_tenant.len(),
        r.revoked,
        r.scope
    );
    if !r.missing.is_empty() {
        s += &format!(
            "missing at the tenant ({}): it still accepts them; run `pki c8y crl push`\n",
            r.missing.len()
        );
        for c in &r.missing {
            s += &c.line();
            s.push('\n');
        }
    }
    if !r.not_revoked.is_empty() {
        s += &format!(
            "on the tenant's list, not revoked in the register ({}):\n",
            r.not_revoked.len()
        );
        for e in &r.not_revoked {
            let who = e
                .subject
                .as_deref()
                .map(|sub| format!(" ({sub})"))
                .unwrap_or_default();
            s += &escape_line(&format!(
                "  {}  {}{who}, listed {}",
                e.serial,
                e.register.words(),
                rfc3339(e.revoked_at)
            ));
            s.push('\n');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn record(status: Status, not_after: OffsetDateTime) -> Record {
        Record {
            serial: "0A1B".into(),
            subject: "CN = d".into(),
            common_name: "d".into(),
            issuer: "CN = ca".into(),
            issuer_sha256: None,
            profile: "device".into(),
            not_before: datetime!(2026-01-01 0:00 UTC),
            not_after,
            sha256: "AB".into(),
            path: "certs/d.cert.pem".into(),
            status,
            superseded_by: None,
            revoked_at: None,
            revocation_reason: None,
        }
    }

    #[test]
    fn a_serial_at_the_tenant_is_said_for_what_the_register_shows() {
        let now = datetime!(2026-12-07 10:00 UTC);
        let later = datetime!(2027-12-07 0:00 UTC);
        assert_eq!(
            standing(&record(Status::Issued, later), now),
            Standing::InService
        );
        assert_eq!(
            standing(&record(Status::Issued, now), now),
            Standing::Expired
        );
        assert_eq!(
            standing(&record(Status::Superseded, later), now),
            Standing::Superseded
        );
        assert_eq!(
            standing(&record(Status::Revoked, later), now),
            Standing::RevokedElsewhere
        );
        // The worst news sorts first.
        assert!((Standing::InService as u8) < (Standing::Expired as u8));
    }

    #[test]
    fn a_row_without_a_revocation_time_is_dated_by_its_not_before_and_bad_serials_stop() {
        let r = record(Status::Revoked, datetime!(2027-01-01 0:00 UTC));
        let rv = Revoked::of(&r).unwrap();
        assert_eq!(rv.revoked_at, r.not_before);
        assert_eq!(rv.serial.as_str(), "0A1B");
        let mut bad = r.clone();
        bad.serial = "zz".into();
        let e = Revoked::of(&bad).unwrap_err().to_string();
        assert!(e.contains("\"zz\", which is not hex"), "{e}");
    }
}
