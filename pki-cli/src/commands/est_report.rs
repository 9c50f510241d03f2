//! What `pki est enroll` and `pki est reenroll` report, as JSON (`--json`) or text: the
//! certificate issued and where its files went, the hook's run; for a re-enrolment the old
//! certificate and where it is kept, a rollback in one line, or that nothing was due.

use std::path::{Path, PathBuf};

use pki_core::renew::{HookRun, InPlace, RenewalResult};
use pki_core::{Certificate, KeyType, NameStyle, RenewalCheck, Summary, Threshold};
use pki_est::{AuthKind, Client, Enrolled};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::output::{escape_line, fields};

/// Where the files went.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Files {
    /// The certificate.
    pub(crate) cert: PathBuf,
    /// The private key (none when it was kept as it was).
    pub(crate) key: Option<PathBuf>,
    /// The certificate and the CA certificates.
    pub(crate) chain: Option<PathBuf>,
}

/// A certificate, as the reports name it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Brief {
    subject: String,
    issuer: String,
    serial: String,
    sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
}

impl Brief {
    fn of(cert: &Certificate) -> Brief {
        let s = Summary::of(cert);
        Brief {
            subject: s.subject.text(NameStyle::Compact).to_owned(),
            issuer: s.issuer.text(NameStyle::Compact).to_owned(),
            serial: s.serial.hex,
            sha256: s.sha256,
            not_before: s.not_before,
            not_after: s.not_after,
        }
    }
}

fn date(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn path(p: &Path) -> String {
    escape_line(&p.display().to_string()).into_owned()
}

fn auth_name(kind: AuthKind) -> &'static str {
    match kind {
        AuthKind::Secret => "secret",
        AuthKind::Certificate => "certificate",
    }
}

/// A hook's run in a few words.
fn hook_text(h: &HookRun) -> String {
    format!(
        "{} ({}): {}",
        if h.ok { "ok" } else { "FAILED" },
        h.describe(),
        h.command
    )
}

/// `pki est enroll`'s report.
#[derive(Debug, Serialize)]
pub(crate) struct EnrolReport {
    result: &'static str,
    device_id: String,
    server: String,
    /// `secret` or `certificate`.
    auth: &'static str,
    certificate: Brief,
    key_type: String,
    /// The subjects of the chain written, the certificate first.
    chain: Vec<String>,
    files: Files,
    pub(crate) hook: Option<HookRun>,
}

impl EnrolReport {
    pub(crate) fn new(
        id: &str,
        client: &Client,
        auth: AuthKind,
        enrolled: &Enrolled,
        key_type: KeyType,
        files: Files,
        hook: Option<HookRun>,
    ) -> EnrolReport {
        EnrolReport {
            result: "enrolled",
            device_id: id.to_owned(),
            server: client.url().to_string(),
            auth: auth_name(auth),
            certificate: Brief::of(&enrolled.certificate),
            key_type: key_type.to_string(),
            chain: enrolled.chain.iter().map(Certificate::subject).collect(),
            files,
            hook,
        }
    }

    pub(crate) fn text(&self) -> String {
        let c = &self.certificate;
        let mut s = format!(
            "enrolled {} at {}: serial {}, valid until {}\n",
            escape_line(&self.device_id),
            self.server,
            c.serial,
            date(c.not_after)
        );
        s += &fields(&[
            ("  issued by", c.issuer.clone()),
            (
                "  authenticated",
                match self.auth {
                    "secret" => "with a one-time secret (HTTP Basic)".into(),
                    _ => "with a client certificate (mutual TLS)".into(),
                },
            ),
            ("  key", format!("a new {} key, made here", self.key_type)),
            ("  certificate", path(&self.files.cert)),
            (
                "  private key",
                self.files.key.as_deref().map(path).unwrap_or_default(),
            ),
            (
                "  chain",
                self.files
                    .chain
                    .as_deref()
                    .map(|p| format!("{} ({} certificates)", path(p), self.chain.len()))
                    .unwrap_or_default(),
            ),
            (
                "  hook",
                self.hook.as_ref().map(hook_text).unwrap_or_default(),
            ),
        ]);
        if self.hook.as_ref().is_some_and(|h| !h.ok) {
            s += "  WARNING: the hook failed; the new files are in place (the enrolment is done): fix the hook and run it by hand\n";
        }
        s
    }
}

/// How a re-enrolment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Ended {
    /// The new files are in place.
    Reenrolled,
    /// The hook failed: the old files are back.
    RolledBack,
    /// `--expires-in`: not due yet, nothing done.
    NotDue,
}

/// What the transaction of a re-enrolment did, and where a rolled-back certificate was set
/// aside (or why it could not be).
pub(crate) struct Reenrolled {
    pub(crate) done: InPlace,
    pub(crate) set_aside: Option<Result<Files, String>>,
}

/// `pki est reenroll`'s report.
#[derive(Debug, Serialize)]
pub(crate) struct ReenrolReport {
    pub(crate) result: Ended,
    device_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<String>,
    old: Brief,
    new: Option<Brief>,
    /// `fresh` or `reused`.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'static str>,
    files: Option<Files>,
    kept: Vec<PathBuf>,
    hook: Option<HookRun>,
    rollback_hook: Option<HookRun>,
    pub(crate) not_restored: Vec<PathBuf>,
    /// After a rollback: the new certificate (and key), beside the old ones.
    set_aside: Option<Files>,
    #[serde(skip_serializing_if = "Option::is_none")]
    set_aside_error: Option<String>,
    /// `--expires-in`, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<String>,
    /// `--expires-in`: from when it is due.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    renew_from: Option<OffsetDateTime>,
}

impl ReenrolReport {
    /// Not due yet: nothing done.
    pub(crate) fn not_due(
        cert: &Path,
        current: &Certificate,
        threshold: Threshold,
        check: &RenewalCheck,
    ) -> ReenrolReport {
        ReenrolReport {
            result: Ended::NotDue,
            device_id: current.common_name().unwrap_or_default(),
            server: None,
            old: Brief::of(current),
            new: None,
            key: None,
            files: Some(Files {
                cert: cert.to_owned(),
                key: None,
                chain: None,
            }),
            kept: Vec::new(),
            hook: None,
            rollback_hook: None,
            not_restored: Vec::new(),
            set_aside: None,
            set_aside_error: None,
            threshold: Some(threshold.to_string()),
            renew_from: Some(check.renew_from),
        }
    }

    /// Re-enrolled, or rolled back.
    pub(crate) fn done(
        client: &Client,
        current: &Certificate,
        enrolled: &Enrolled,
        fresh_key: bool,
        r: Reenrolled,
    ) -> ReenrolReport {
        let renewed = r.done.result == RenewalResult::Renewed;
        let written = |i: usize| r.done.written.get(i).cloned();
        // The order put_in_place gives: the certificate, the key when fresh, the chain.
        let files = renewed.then(|| Files {
            cert: written(0).unwrap_or_default(),
            key: if fresh_key { written(1) } else { None },
            chain: written(if fresh_key { 2 } else { 1 }),
        });
        let (set_aside, set_aside_error) = match r.set_aside {
            Some(Ok(f)) => (Some(f), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        ReenrolReport {
            result: if renewed {
                Ended::Reenrolled
            } else {
                Ended::RolledBack
            },
            device_id: current.common_name().unwrap_or_default(),
            server: Some(client.url().to_string()),
            old: Brief::of(current),
            new: Some(Brief::of(&enrolled.certificate)),
            key: Some(if fresh_key { "fresh" } else { "reused" }),
            files,
            kept: r.done.kept,
            hook: r.done.hook,
            rollback_hook: r.done.rollback_hook,
            not_restored: r.done.not_restored,
            set_aside,
            set_aside_error,
            threshold: None,
            renew_from: None,
        }
    }

    pub(crate) fn text(&self) -> String {
        let id = escape_line(&self.device_id);
        let old = &self.old;
        match self.result {
            Ended::NotDue => format!(
                "not due: {id} (serial {}, valid until {}) is re-enrolled from {} ({}); nothing done\n",
                old.serial,
                date(old.not_after),
                self.renew_from.map(date).unwrap_or_default(),
                self.threshold.as_deref().unwrap_or_default()
            ),
            Ended::RolledBack => self.rolled_back(&id),
            Ended::Reenrolled => self.reenrolled(&id),
        }
    }

    /// One line: what failed, that the old files are back, where the new ones are.
    fn rolled_back(&self, id: &str) -> String {
        let new_serial = self.new.as_ref().map(|n| n.serial.as_str()).unwrap_or("");
        let why = self.hook.as_ref().map_or_else(
            || "the hook failed".to_owned(),
            |h| format!("the hook failed ({})", h.describe()),
        );
        let aside = match (&self.set_aside, &self.set_aside_error) {
            (Some(f), _) => format!(
                "the server has already replaced serial {} with {new_serial}, kept as {}{}: move it in place once the hook works",
                self.old.serial,
                path(&f.cert),
                f.key
                    .as_deref()
                    .map(|k| format!(" with its key {}", path(k)))
                    .unwrap_or_default()
            ),
            (None, Some(e)) => format!(
                "the server has already replaced serial {} with {new_serial}, which could not be kept: {e}",
                self.old.serial
            ),
            (None, None) => String::new(),
        };
        let mut s = format!("ROLLED BACK {id}: {why}; the old files are back; {aside}\n");
        if self.rollback_hook.as_ref().is_some_and(|h| !h.ok) {
            s += "  WARNING: the hook failed on the rollback too: the service may not use the old files; check it now\n";
        }
        s
    }

    fn reenrolled(&self, id: &str) -> String {
        let new = self.new.as_ref();
        let mut s = format!(
            "re-enrolled {id} at {}: serial {}, valid until {}\n",
            self.server.as_deref().unwrap_or_default(),
            new.map(|n| n.serial.as_str()).unwrap_or_default(),
            new.map(|n| date(n.not_after)).unwrap_or_default()
        );
        let files = self.files.as_ref();
        s += &fields(&[
            (
                "  old",
                format!(
                    "serial {}, valid until {}",
                    self.old.serial,
                    date(self.old.not_after)
                ),
            ),
            (
                "  key",
                match self.key {
                    Some("fresh") => "a fresh key, made here".into(),
                    _ => "the same key (--reuse-key)".into(),
                },
            ),
            (
                "  certificate",
                files.map(|f| path(&f.cert)).unwrap_or_default(),
            ),
            (
                "  private key",
                files
                    .and_then(|f| f.key.as_deref())
                    .map(path)
                    .unwrap_or_default(),
            ),
            (
                "  chain",
                files
                    .and_then(|f| f.chain.as_deref())
                    .map(path)
                    .unwrap_or_default(),
            ),
            (
                "  kept",
                self.kept
                    .iter()
                    .map(|p| path(p))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "  hook",
                self.hook.as_ref().map(hook_text).unwrap_or_default(),
            ),
        ]);
        s
    }
}
