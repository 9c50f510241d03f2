//! `pki renew`: turns the arguments into a selection and options, reads the keys each renewal
//! needs (asking for passwords), lends pki-core's engine the gateway check of `pki verify`, and
//! renders the report: one block per certificate, or one JSON document.

use crate::args::ClientCertOpts;
use crate::args::PasswordOpts;
use crate::args::expiring;
use crate::args::step_timeout;
use crate::commands::c8y::C8yConn;
use crate::env;
use clap::Args;
use clap::builder::TypedValueParser;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use pki_core::renew::{
    self, Confirm, GatewayCheck, GivenKey, Hook, Keys, Options, Outcome as Renewed, Publish,
    RenewalResult, Selection, Skipped, Verify,
};
use pki_core::{CaDir, Issued, KeyRecord};
use pki_pkcs11::Pkcs11Uri;
use pki_verify::{Client, ClientAuth, GatewayRequest};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use super::c8y::{Registration, Trusted, Trusting};
use super::verify::{split_target, webpki_text};
use super::{GlobalContext, client_cert, hsm, now, read_key};
use crate::hook::ShellHook;
use crate::output::{Outcome, Output, escape_line, fields};

/// `pki renew`.
#[derive(Debug, Args)]
#[command(mut_arg("cert", |a| a.requires("verify")))]
#[command(after_long_help = concat!(
    "Re-issues with the same subject, SANs, profile, extensions and issuer, a new random serial,\n",
    "a fresh key of the same type (--reuse-key keeps the old one) and the original's lifetime\n",
    "starting now (--days to change it; never beyond the issuer). The new files go to the\n",
    "standard paths, so a gateway's configuration keeps working; the replaced ones are kept as\n",
    "certs/PREFIX.OLDSERIAL.cert.pem, certs/PREFIX.OLDSERIAL-full-chain.cert.pem and\n",
    "private/PREFIX.OLDSERIAL.key.pem (0600). The register marks the old certificate superseded\n",
    "by the new one. All of it is one transaction: --exec CMD runs (sh -c) once the new files are\n",
    "in place; --verify HOST:PORT then checks that the gateway serves the NEW certificate and that\n",
    "a device (OpenSSL and rustls) accepts it, trusting the directory's root (and presenting --cert\n",
    "and --key, to a gateway that requires a client certificate). If the hook or the check fails,\n",
    "the old files are put back, the hook runs again so the gateway serves them, and the register\n",
    "is left as it was; the files are then read back, and any the hook removed or changed is named.\n",
    "The renewal holds the register's write lock until the hook and the check confirm it: a hook\n",
    "may read the register (pki list, pki show) but a pki in it that writes the register (pki crl,\n",
    "issue, revoke) fails at once, naming the lock; run those after pki renew returns.\n\n",
    "FILE is a certificate file; DEVICE_ID a device id or gateway host name (its certificate in\n",
    "service; of several, the one expiring last); root, intermediate or edge-ca:NAME a CA of the\n",
    "directory. Renewing a CA gives it a new key under the same parent; what it signed keeps\n",
    "verifying with its full-chain files (pki list --issuer OLD_CA_FILE shows what still hangs from\n",
    "the old one). Renewing the root is a rollover: a new root and certs/PREFIX.transition.pem\n",
    "with both roots, to install on every device before re-issuing what the report lists.\n",
    "A CA whose key is on a PKCS#11 token gets its fresh key on the same token (labelled\n",
    "LABEL-RENEWED-AT), or keeps its token key with --reuse-key; what it signs is signed there.\n",
    "The PIN comes from PKI_PKCS11_PIN or a prompt, and never reaches --exec's environment.\n",
    "A self-signed device written elsewhere (pki self-signed --out-cert FILE --out-key FILE) is\n",
    "renewed there, in place: FILE.OLDSERIAL.pem and its key kept beside them, owner and mode\n",
    "kept. A Cumulocity tenant trusts the old certificate, not the new one: --c8y-upload (with\n",
    "--url, --user as `pki c8y upload`) registers it before it is put in place; the old one\n",
    "stays trusted until you remove it.\n\n",
    "EXAMPLES:\n",
    "  pki renew pki/certs/iot-edge-server-gw.contoso.com.cert.pem \\\n",
    "      --exec 'systemctl reload mosquitto' --verify gw.contoso.com:8883\n",
    "  pki renew gw.contoso.com --exec 'systemctl reload mosquitto' --verify gw.contoso.com:8883 \\\n",
    "      --cert pki/certs/iot-device-probe-full-chain.cert.pem --key pki/private/iot-device-probe.key.pem\n",
    "  pki renew sensor-17 --reuse-key\n",
    "  pki renew --expiring 30d --json\n",
    "  pki renew old-device.pem --adopt\n",
    "  C8Y_PASSWORD=... pki renew /etc/tedge/device-certs/tedge-certificate.pem --c8y-upload \\\n",
    "      --url https://t123.eu-latest.cumulocity.com --user admin --exec 'tedge reconnect c8y'\n\n",
    "EXIT CODES:\n  0  every certificate renewed\n",
    "  1  a renewal was rolled back (the hook or the gateway check failed) or failed\n",
    "  2  could not run (unknown device id, a certificate not in the register, a bad file, a\n",
    "     tenant that did not take the new certificate with --c8y-upload: nothing renewed)"))]
pub(crate) struct RenewArgs {
    /// The certificate: a certificate file, a device id or gateway host name, or root,
    /// intermediate, edge-ca:NAME.
    #[arg(value_name = "FILE|DEVICE_ID", required_unless_present = "expiring")]
    pub(crate) target: Option<String>,
    /// Renew every certificate in service that expires within this time (30d, 12h), expired
    /// ones included; each in its own transaction.
    #[arg(long, value_name = "TIME", value_parser = expiring, conflicts_with = "target")]
    pub(crate) expiring: Option<time::Duration>,
    /// Keep the certificate's key instead of generating a fresh one.
    #[arg(long)]
    pub(crate) reuse_key: bool,
    /// Run this command (through sh -c) once the new files are in place, and again after a
    /// rollback: reload the gateway.
    #[arg(long, value_name = "CMD")]
    pub(crate) exec: Option<String>,
    /// Seconds the hook may run before it is killed (and fails).
    #[arg(long, default_value = "60", value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=3600).map(Duration::from_secs))]
    pub(crate) exec_timeout: Duration,
    /// After the hook, check that the gateway at HOST:PORT serves the new certificate and that
    /// a device accepts it; roll back if not.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "expiring")]
    pub(crate) verify: Option<String>,
    /// With --verify: the SNI to send and the name to check (default: HOST).
    #[arg(long, requires = "verify")]
    pub(crate) servername: Option<String>,
    /// With --verify: the device certificate to present, for a gateway that requires one.
    #[command(flatten)]
    pub(crate) client_cert: ClientCertOpts,
    /// With --verify: seconds each network step may take.
    #[arg(long, default_value = "5", value_name = "SECONDS", value_parser = step_timeout)]
    pub(crate) timeout: Duration,
    /// With --verify: seconds to keep asking while the gateway still serves the old
    /// certificate or does not answer (it may be reloading).
    #[arg(long, default_value = "10", value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(0..=3600).map(Duration::from_secs))]
    pub(crate) verify_wait: Duration,
    /// Record a certificate the register does not know (when a CA of this directory signed
    /// it, checked by signature), then renew it.
    #[arg(long)]
    pub(crate) adopt: bool,
    /// Validity in days (default: the original's lifetime).
    #[arg(long, value_name = "N")]
    pub(crate) days: Option<u32>,
    /// Renew even when the files at the standard paths are not the certificate renewed, and
    /// replace kept files of the same name.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
    #[command(flatten, next_help_heading = "Cumulocity (--c8y-upload)")]
    pub(crate) c8y: RenewC8yArgs,
}

/// `pki renew --c8y-upload`: the Cumulocity tenant that must trust a renewed self-signed
/// device (or CA), reached as `pki c8y upload` reaches it.
#[derive(Debug, Args)]
pub(crate) struct RenewC8yArgs {
    /// Register each renewed self-signed device certificate (and CA certificate) with the
    /// tenant's trusted certificates BEFORE it is put in place, as `pki c8y upload` does (already
    /// registered counts); if the tenant does not take it, nothing is renewed. The old
    /// certificate stays trusted until you remove it (`pki c8y remove`).
    #[arg(long, requires_all = ["url", "user"])]
    pub(crate) c8y_upload: bool,
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
    #[arg(long, value_name = "FILE", requires = "c8y_upload")]
    pub(crate) password_file: Option<PathBuf>,
    /// Trust this CA for the tenant's TLS (a private tenant); TLS is always verified.
    #[arg(long, value_name = "FILE", requires = "c8y_upload")]
    pub(crate) ca_file: Option<PathBuf>,
}

/// The whole run's report.
#[derive(Debug, Serialize)]
struct Report {
    /// How many certificates were renewed.
    renewed: usize,
    /// How many were rolled back or failed (skipped included).
    failed: usize,
    /// One report per certificate, in the order renewed.
    renewals: Vec<Entry>,
    /// Certificates `--expiring` selected that cannot be renewed.
    skipped: Vec<Skipped>,
}

/// One certificate's report: the renewal, and what a Cumulocity tenant was told or needs.
#[derive(Debug, Serialize)]
struct Entry {
    #[serde(flatten)]
    renewal: Renewed,
    /// `--c8y-upload`: the tenant registered the new certificate before it was put in place.
    #[serde(skip_serializing_if = "Option::is_none")]
    c8y_upload: Option<Trusted>,
    /// What the tenant holds now and what is left to do, in plain words: for a renewed
    /// self-signed device (whose certificate a tenant trusts itself), and with `--c8y-upload`.
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<String>,
}

impl Entry {
    fn of(
        renewal: Renewed,
        r: &renew::Renewal,
        trusted: Option<Trusted>,
        uploading: bool,
    ) -> Entry {
        let renewed = renewal.result == RenewalResult::Renewed;
        let old_sha1 = r.old_cert.sha1_hex().to_ascii_lowercase();
        // The tenant keeps the old certificate: the device may still present it until it has
        // reconnected with the new one. Removing it is the operator's step.
        let remove =
            format!("the old one stays trusted until you remove it (`pki c8y remove {old_sha1}`)");
        let file = renewal
            .files
            .as_ref()
            .map(|f| f.cert.display().to_string())
            .unwrap_or_default();
        let tenant = match (&trusted, renewed) {
            // Registered, then the hook or the check failed: the files are the old ones.
            (Some(t), false) => Some(format!(
                "registered with tenant {} (sha1 {}) before the renewal was undone: the tenant trusts this certificate too, which is in service nowhere",
                t.tenant, t.sha1
            )),
            (None, false) => None,
            (Some(t), true) => Some(format!(
                "{} tenant {} before the files were replaced (sha1 {}); {remove}",
                match t.result {
                    Registration::Created => "registered with",
                    Registration::AlreadyRegistered => "already registered with",
                },
                t.tenant,
                t.sha1
            )),
            (None, true) if uploading => Some(
                "not registered with the tenant: a tenant trusts the CA that signed it".to_owned(),
            ),
            (None, true) if r.profile == pki_core::Profile::SelfSignedDevice => Some(format!(
                "a Cumulocity tenant trusts the old certificate, not this one: upload it with `pki c8y upload {file}` (or renew with --c8y-upload); {remove}"
            )),
            (None, true) => None,
        };
        Entry {
            renewal,
            c8y_upload: trusted,
            tenant,
        }
    }
}

/// How `--c8y-upload` reaches the tenant, as `pki c8y upload` would (clap requires --url and
/// --user with it).
fn c8y_conn(a: &RenewC8yArgs) -> Option<C8yConn> {
    if !a.c8y_upload {
        return None;
    }
    Some(C8yConn {
        url: a.url.clone().unwrap_or_default(),
        user: a.user.clone().unwrap_or_default(),
        tenant: a.tenant.clone(),
        password_file: a.password_file.clone(),
        ca_file: a.ca_file.clone(),
        timeout: C8Y_TIMEOUT,
    })
}

/// How long the tenant may take for each certificate registered (`pki c8y upload`'s default).
const C8Y_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// `pki renew`.
pub(crate) fn run(ctx: &GlobalContext, a: RenewArgs, out: &Output) -> Result<Outcome> {
    let ca = super::open_ca(ctx)?;
    let now = now();
    let selection = match (&a.target, a.expiring) {
        (_, Some(within)) => Selection::Expiring(within),
        (Some(t), None) => selection(&ca, t),
        (None, None) => anyhow::bail!("give FILE|DEVICE_ID, or --expiring TIME"),
    };
    let batch = matches!(selection, Selection::Expiring(_));
    let opts = Options {
        reuse_key: a.reuse_key,
        days: a.days,
        adopt: a.adopt,
        force: a.force,
        now,
    };
    let plan = renew::plan(&ca, &selection, &opts)?;
    let target = match &a.verify {
        Some(t) => Some((t.clone(), split_target(t)?)),
        None => None,
    };
    // The device certificate for --verify, read (its password asked) once for every renewal.
    let client_auth = client_cert::from_flags(ctx, &a.client_cert, &a.password)?;
    let check = |issued: &Issued| -> GatewayCheck {
        match &target {
            Some((label, (host, port))) => check_until(a.verify_wait, || {
                gateway_check(&a, label, host, *port, client_auth.as_ref(), issued)
            }),
            None => unreachable_check(),
        }
    };
    let hook = a.exec.as_ref().map(|c| ShellHook {
        command: c.clone(),
        timeout: a.exec_timeout,
    });
    let trusting = c8y_conn(&a.c8y).map(Trusting::new);
    let mut renewals = Vec::new();
    for r in &plan.renewals {
        let trusted = std::cell::RefCell::new(None);
        let file = match &r.placement {
            Some(p) => p.cert.clone(),
            None => ca.cert_path(&r.prefix),
        };
        let upload = |issued: &Issued| -> std::result::Result<(), String> {
            let Some(t) = &trusting else { return Ok(()) };
            // A tenant trusts CAs and self-signed devices; what a CA signed, through its CA.
            if !issued.certificate.is_ca() {
                return Ok(());
            }
            let done = t
                .upload(&issued.certificate, &file.display().to_string())
                .map_err(|e| format!("{e:#}"))?;
            *trusted.borrow_mut() = Some(done);
            Ok(())
        };
        let confirm = Confirm {
            publish: trusting.as_ref().map(|_| Publish { run: &upload }),
            hook: hook.as_ref().map(|h| h as &dyn Hook),
            verify: target.as_ref().map(|_| Verify { check: &check }),
        };
        let done = keys(ctx, r, &a.password, now)
            .and_then(|k| Ok(renew::execute(&ca, r, &k, &confirm, now)?));
        let uploaded = trusted.into_inner();
        let entry = match done {
            Ok(o) => Entry::of(o, r, uploaded, trusting.is_some()),
            Err(e) if batch => Entry::of(
                Renewed::failed(r, crate::hints::error_line(&e)),
                r,
                uploaded,
                trusting.is_some(),
            ),
            Err(e) => return Err(e),
        };
        renewals.push(entry);
    }
    for o in &renewals {
        if let Some(c) = &o.renewal.capped {
            crate::messages::warning(&capped_warning(&o.renewal.subject, c));
        }
    }
    let renewed = renewals
        .iter()
        .filter(|o| o.renewal.result == RenewalResult::Renewed)
        .count();
    let report = Report {
        renewed,
        failed: renewals.len() - renewed + plan.skipped.len(),
        renewals,
        skipped: plan.skipped,
    };
    out.emit(&report, || text(&report, batch))?;
    Ok(if report.failed == 0 {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// How often the gateway is asked again while it reloads.
const RECHECK: std::time::Duration = std::time::Duration::from_millis(500);

/// Asks the gateway (`check`) until it serves the new certificate, or `wait` has passed; the
/// check says how many times it asked.
fn check_until(wait: std::time::Duration, check: impl Fn() -> GatewayCheck) -> GatewayCheck {
    let deadline = std::time::Instant::now() + wait;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut c = check();
        c.attempts = attempts;
        if c.passed || c.new_served || std::time::Instant::now() >= deadline {
            return c;
        }
        std::thread::sleep(RECHECK);
    }
}

/// What a renewal cut short by its CA says: which CA to renew, and how.
fn capped_warning(subject: &str, c: &renew::Capped) -> String {
    let how = c.role.as_ref().map_or_else(
        || "renew that CA first".to_owned(),
        |role| {
            format!(
                "renew it first (pki renew {}), then this certificate again",
                crate::hints::renew_target(role)
            )
        },
    );
    format!(
        "{subject}: renewed only until {}, {} day(s) short, because its {} expires then: {how}",
        c.ca_not_after.format(&Rfc3339).unwrap_or_default(),
        c.days_lost,
        c.ca
    )
}

/// A file when one is there (or the argument looks like a path), else a CA's role, else a CN.
fn selection(ca: &CaDir, t: &str) -> Selection {
    let path = Path::new(t);
    if path.exists() || t.contains('/') || t.ends_with(".pem") || t.ends_with(".crt") {
        return Selection::File(path.to_owned());
    }
    let role = match t {
        "root" | "owner" | "owner-ca" | "root-ca" => Some(pki_core::CaRole::Root),
        "intermediate" | "intermediate-ca" => Some(pki_core::CaRole::Intermediate),
        _ => t
            .strip_prefix("edge-ca:")
            .map(|n| pki_core::CaRole::EdgeCa(n.to_owned())),
    };
    match role {
        Some(role) => Selection::File(ca.cert_path(&role.prefix())),
        None => Selection::CommonName(t.to_owned()),
    }
}

/// The keys a renewal needs, read (with their passwords, or their tokens' PINs) where it says;
/// a CA whose key is on a token gets its fresh key made there.
fn keys(
    ctx: &GlobalContext,
    r: &renew::Renewal,
    pw: &PasswordOpts,
    now: time::OffsetDateTime,
) -> Result<Keys> {
    let fresh = match (&r.key, r.reuse_key) {
        (KeyRecord::Token(record), false) => {
            Some(fresh_on_token(ctx, &recorded_uri(record)?, r, now)?)
        }
        _ => None,
    };
    Ok(Keys {
        issuer: r
            .issuer_key
            .as_ref()
            .map(|k| given(ctx, k, pw))
            .transpose()?,
        own: if r.reuse_key {
            Some(given(ctx, &r.key, pw)?)
        } else {
            None
        },
        fresh,
    })
}

/// The key a record names: its file read, or its token's key opened.
fn given(ctx: &GlobalContext, k: &KeyRecord, pw: &PasswordOpts) -> Result<GivenKey> {
    Ok(match k {
        KeyRecord::File(p) => GivenKey::File(Box::new(read_key(p, pw)?)),
        KeyRecord::Token(record) => {
            let uri = recorded_uri(record)?;
            let key = hsm::open_key(ctx, &uri)?;
            GivenKey::Token {
                uri: key.uri().to_owned(),
                signer: key,
            }
        }
    })
}

/// The URI in a `private/<prefix>.key.uri` record.
fn recorded_uri(record: &Path) -> Result<Pkcs11Uri> {
    let text = std::fs::read_to_string(record)
        .with_context(|| format!("cannot read the key's URI record {}", record.display()))?;
    Pkcs11Uri::parse(text.trim())
        .with_context(|| format!("{}: not a pkcs11: URI", record.display()))
}

/// A fresh key of the renewal's type on the token of `old`, labelled `LABEL-RENEWED-AT`
/// (a token refuses a second key of the same label).
fn fresh_on_token(
    ctx: &GlobalContext,
    old: &Pkcs11Uri,
    r: &renew::Renewal,
    now: time::OffsetDateTime,
) -> Result<GivenKey> {
    let label = old.object.clone().unwrap_or_else(|| r.prefix.clone());
    let at = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let uri = Pkcs11Uri {
        object: Some(format!("{label}-renewed-{at}")),
        id: None,
        ..old.clone()
    };
    let key = hsm::generate(ctx, &uri, r.key_type)?;
    Ok(GivenKey::Token {
        uri: key.uri().to_owned(),
        signer: key,
    })
}

/// No --verify: never asked.
fn unreachable_check() -> GatewayCheck {
    GatewayCheck {
        target: String::new(),
        passed: false,
        new_served: false,
        served_sha256: None,
        served_serial: None,
        openssl: None,
        rustls: None,
        detail: "no gateway to check".into(),
        attempts: 0,
    }
}

/// `pki verify HOST:PORT` as a device trusting the new chain's root would run it, and whether
/// the gateway serves the new certificate.
fn gateway_check(
    a: &RenewArgs,
    label: &str,
    host: &str,
    port: u16,
    client_auth: Option<&ClientAuth>,
    issued: &Issued,
) -> GatewayCheck {
    let root = issued.chain.last().unwrap_or(&issued.certificate);
    let req = GatewayRequest {
        host: host.to_owned(),
        port,
        servername: a.servername.clone(),
        expected_name: None,
        alpn: Vec::new(),
        client_auth: client_auth.cloned(),
        timeout: a.timeout,
        anchors: vec![root.der().to_vec()],
        anchors_label: format!("the CA directory's root ({})", root.subject()),
        at: now(),
        auth_level: None,
        purpose: None,
        client: Client::Both,
        connection_string: None,
        revocation: None,
    };
    let new_sha = issued.certificate.sha256_hex();
    let mut c = GatewayCheck {
        target: label.to_owned(),
        ..unreachable_check()
    };
    let report = match pki_verify::check_gateway(&req) {
        Ok(r) => r,
        Err(e) => {
            c.detail = format!("cannot verify {label}: {e}");
            return c;
        }
    };
    let served = report
        .presented
        .first()
        .and_then(|d| pki_core::Certificate::from_der_prefix(d.clone(), label).ok());
    c.served_sha256 = served.as_ref().map(pki_core::Certificate::sha256_hex);
    c.served_serial = served.as_ref().map(|s| pki_core::Facts::of(s).serial);
    c.new_served = c.served_sha256.as_deref() == Some(new_sha.as_str());
    if let Some(v) = &report.verification {
        c.openssl = Some(format!("{} ({})", v.openssl.code, v.openssl.text));
        c.rustls = Some(webpki_text(&v.webpki));
    }
    c.passed = c.new_served && report.accepted;
    c.detail = if !c.new_served {
        format!(
            "{label} still serves another certificate (serial {}), not the new one (serial {})",
            c.served_serial.as_deref().unwrap_or("?"),
            issued.facts.serial
        )
    } else if !report.accepted {
        let failed: Vec<String> = report
            .checks
            .iter()
            .filter(|c| c.status == pki_verify::CheckStatus::Fail)
            .map(crate::hints::check_detail)
            .collect();
        format!(
            "{label} serves the new certificate but a device would not accept it: {}",
            failed.join("; ")
        )
    } else {
        format!("{label} serves the new certificate and a device accepts it")
    };
    c
}

fn date(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn path(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

fn text(report: &Report, batch: bool) -> String {
    let mut s = String::new();
    for e in &report.renewals {
        s += &block(e);
    }
    for k in &report.skipped {
        s += &format!(
            "NOT RENEWED {} (serial {}, {}): {}\n",
            k.subject, k.serial, k.path, k.reason
        );
    }
    if batch {
        s += &format!(
            "{} renewed, {} not renewed\n",
            report.renewed, report.failed
        );
    }
    s
}

/// One certificate's block.
fn block(e: &Entry) -> String {
    let o = &e.renewal;
    let head = match o.result {
        RenewalResult::Renewed => "renewed",
        RenewalResult::RolledBack => "ROLLED BACK",
        RenewalResult::Failed => "NOT RENEWED",
    };
    let mut s = format!("{head} {} certificate: {}\n", o.profile, o.subject);
    let new = o.new.as_ref().map_or_else(String::new, |n| {
        format!("serial {}, valid until {}", n.serial, date(n.not_after))
    });
    let issuer = if o.issuer_renewed {
        format!("{} (renewed since: signed with its new key)", o.issuer)
    } else {
        o.issuer.clone()
    };
    let hook = |h: &Option<renew::HookRun>| {
        h.as_ref().map_or_else(String::new, |h| {
            format!(
                "{} ({}): {}",
                if h.ok { "ok" } else { "FAILED" },
                h.describe(),
                h.command
            )
        })
    };
    let check = o.verification.as_ref().map_or_else(String::new, |c| {
        format!(
            "{}: {} (OpenSSL {}, rustls {}; {} attempt(s))",
            if c.passed { "ok" } else { "FAILED" },
            c.detail,
            c.openssl.as_deref().unwrap_or("-"),
            c.rustls.as_deref().unwrap_or("-"),
            c.attempts
        )
    });
    let files = o.files.as_ref();
    let kept = [&o.kept.cert, &o.kept.full_chain, &o.kept.key]
        .into_iter()
        .map(path)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let mut rows = vec![
        (
            "  old",
            format!(
                "serial {}, valid until {}",
                o.old.serial,
                date(o.old.not_after)
            ),
        ),
        ("  new", new),
        ("  issued by", issuer),
        (
            "  key",
            if o.key_reused {
                "the same key (--reuse-key)".into()
            } else if o.new.is_some() {
                "a fresh key".into()
            } else {
                String::new()
            },
        ),
        (
            "  certificate",
            files.map_or_else(String::new, |f| f.cert.display().to_string()),
        ),
        (
            "  full chain",
            files.map_or_else(String::new, |f| path(&f.full_chain)),
        ),
        (
            "  private key",
            files.map_or_else(String::new, |f| path(&f.key)),
        ),
        ("  kept", kept),
        ("  hook", hook(&o.hook)),
        ("  verification", check),
        ("  rollback hook", hook(&o.rollback_hook)),
        ("  error", o.error.clone().unwrap_or_default()),
        ("  tenant", e.tenant.clone().unwrap_or_default()),
    ];
    if let Some(n) = o.still_under_old {
        rows.push((
            "  still under old",
            format!(
                "{n} certificate(s) in service signed by the old CA (they keep verifying with their full chains; pki list --issuer {} shows them)",
                path(&o.kept.cert)
            ),
        ));
    }
    for n in &o.notes {
        rows.push(("  note", n.clone()));
    }
    s += &fields(&rows);
    // What the rollback left is read back, never assumed: a rollback hook may have removed or
    // changed the files.
    for f in &o.not_restored {
        s += &format!(
            "  WARNING: {} is not as it was before the renewal (missing or changed since the rollback, by the hook?): the gateway may have nothing to serve; restore it now\n",
            escape_line(&f.display().to_string())
        );
    }
    if let Some(h) = &o.rollback_hook
        && !h.ok
    {
        s += if o.not_restored.is_empty() {
            "  WARNING: the hook failed on the rollback too: the old files are back, but the gateway may not serve them; check it now\n"
        } else {
            "  WARNING: the hook failed on the rollback too: the gateway may not serve the old files; check it now\n"
        };
    }
    if let Some(r) = &o.rollover {
        s += &format!(
            "  rollover: install {} (both roots) on every device FIRST, then re-issue these {} certificate(s) under the new root:\n",
            r.transition_bundle.display(),
            r.to_reissue.len()
        );
        for c in &r.to_reissue {
            s += &format!(
                "    {:<16} {}  serial {}  ({})\n",
                c.profile, c.subject, c.serial, c.path
            );
        }
    }
    s
}
