//! `pki c8y upload|list|remove`: a Cumulocity tenant's trusted certificates, through `pki-c8y`
//! (`pki c8y crl ...`, the offline revocation list, is `c8y_crl.rs`).
//!
//! This file resolves what the library needs (the URL and user from flags or `C8Y_*`, the
//! password from its file, `C8Y_PASSWORD` or a prompt, the CA key for `--prove`, the OS roots or
//! `--ca-file`), calls the library, renders its outcomes as text or one JSON document, and says
//! its retries on stderr; `hints.rs` turns its errors into one line that names the flag to
//! change.

use crate::args::PasswordOpts;
use crate::env;
use clap::Args;
use clap::Subcommand;
use clap::builder::TypedValueParser;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use pki_c8y::{
    CaKey, Config, Events, Fingerprint, Proof, Proxies, Removed, Retry, Status, Tenant, TenantUrl,
    Trust, TrustedCert, UploadOptions, Uploaded,
};
use serde::Serialize;
use zeroize::Zeroizing;

use super::GlobalContext;
use super::c8y_crl::C8yCrlCommand;
use crate::commands::{first_line_of, read_cert, read_key};
use crate::hints::{self, no_os_roots};
use crate::messages;
use crate::output::{Outcome, Output, escape_line, fields, table};

/// How to reach a Cumulocity tenant.
#[derive(Debug, Args, Clone)]
pub(crate) struct C8yConn {
    /// The tenant's URL, e.g. https://mytenant.eu-latest.cumulocity.com.
    // Its value is never shown in the help: a URL may carry a password (it is refused).
    #[arg(long, env = env::C8Y_URL, value_name = "URL", hide_env_values = true)]
    pub(crate) url: String,
    /// The user (as given, or tenant/user).
    #[arg(long, env = env::C8Y_USER, value_name = "USER")]
    pub(crate) user: String,
    /// The tenant id (looked up with GET /tenant/currentTenant when not given).
    #[arg(long, env = env::C8Y_TENANT, value_name = "ID")]
    pub(crate) tenant: Option<String>,
    /// Read the password from this file (first line); else C8Y_PASSWORD, else a prompt.
    #[arg(long, value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,
    /// Trust this CA for the tenant's TLS (a private tenant); TLS is always verified.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Give up when the tenant has not finished after this many seconds (all requests and
    /// retries of the command together).
    #[arg(long, value_name = "SECONDS", default_value = "120",
          value_parser = clap::value_parser!(u64).range(1..=3600).map(Duration::from_secs))]
    pub(crate) timeout: Duration,
}

/// `pki c8y ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum C8yCommand {
    /// Upload a CA (or a self-signed device) certificate to the tenant's trusted certificates.
    #[command(after_long_help = concat!(
        "Already registered (409) counts as success. --prove runs proof of possession with the CA's key\n",
        "from the CA directory (or --key).\n\n",
        "EXAMPLES:\n",
        "  C8Y_PASSWORD=... pki c8y upload pki/certs/azure-iot-test-only.root.ca.cert.pem \\\n",
        "      --url https://t123.eu-latest.cumulocity.com --user admin@example.com\n",
        "  pki c8y upload root.pem --prove --disabled --name \"Factory A\"\n\n",
        "EXIT CODES:\n  0  uploaded (or already there)\n  2  could not run (bad certificate, HTTP error, unreachable tenant)"))]
    Upload(C8yUploadArgs),
    /// List the tenant's trusted certificates.
    #[command(after_long_help = concat!(
        "EXAMPLES:\n  pki c8y list --url https://t123.cumulocity.com --user admin\n  pki --json c8y list\n\n",
        "EXIT CODES:\n  0  listed\n  2  could not run"))]
    List(C8yListArgs),
    /// Remove a trusted certificate (by file or SHA-1 fingerprint).
    #[command(after_long_help = concat!(
        "EXAMPLES:\n  pki c8y remove root.pem\n  pki c8y remove 0cd89e8ecd40b6f7fbb9f3602baf82ff307f0678\n\n",
        "EXIT CODES:\n  0  removed (or not there)\n  2  could not run"))]
    Remove(C8yRemoveArgs),
    /// The tenant's offline revocation list against the register: `pki c8y crl push`,
    /// `pki c8y crl status`.
    #[command(subcommand)]
    Crl(C8yCrlCommand),
}

/// `pki c8y upload`.
#[derive(Debug, Args)]
pub(crate) struct C8yUploadArgs {
    /// The certificate to register.
    pub(crate) cert: PathBuf,
    /// Its name in the tenant (default: the subject CN).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Do not auto-register devices whose certificates it issued.
    #[arg(long)]
    pub(crate) no_auto_register: bool,
    /// Upload it disabled.
    #[arg(long)]
    pub(crate) disabled: bool,
    /// Prove possession of the CA's private key (verification code, signed proof, upload).
    #[arg(long)]
    pub(crate) prove: bool,
    /// The CA's private key for --prove (default: from the CA directory).
    #[arg(long, value_name = "KEY", requires = "prove")]
    pub(crate) key: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) key_password: PasswordOpts,
    #[command(flatten)]
    pub(crate) conn: C8yConn,
}

/// `pki c8y list`.
#[derive(Debug, Args)]
pub(crate) struct C8yListArgs {
    #[command(flatten)]
    pub(crate) conn: C8yConn,
}

/// `pki c8y remove`.
#[derive(Debug, Args)]
pub(crate) struct C8yRemoveArgs {
    /// The certificate file, or its SHA-1 fingerprint (hex).
    pub(crate) cert: String,
    #[command(flatten)]
    pub(crate) conn: C8yConn,
}

/// `pki c8y ...`.
pub(crate) fn run(ctx: &GlobalContext, c: C8yCommand, out: &Output) -> Result<Outcome> {
    match c {
        C8yCommand::Crl(c) => super::c8y_crl::run(ctx, c, out),
        C8yCommand::Upload(a) => upload(a, out),
        C8yCommand::List(a) => list(a, out),
        C8yCommand::Remove(a) => remove(a, out),
    }
}

/// Says each retry on stderr (`messages::retrying`).
struct RetryNotices;

impl Events for RetryNotices {
    fn retrying(&self, retry: &Retry) {
        messages::retrying(retry);
    }
}

/// Reads the password and the trust anchors, connects, and finds the tenant id (`--tenant`, or
/// `GET /tenant/currentTenant`).
pub(crate) fn connect(conn: &C8yConn) -> Result<Tenant> {
    let url = TenantUrl::parse(&conn.url).map_err(|e| hints::c8y(e, ""))?;
    let user = pki_c8y::login_name(&conn.user, conn.tenant.as_deref());
    let password = password(conn, &user, url.as_str())?;
    let trust = trust(conn.ca_file.as_deref())?;
    let config = Config {
        url,
        user: conn.user.clone(),
        tenant: conn.tenant.clone(),
        password,
        trust,
        timeout: conn.timeout,
        proxies: Proxies::Environment,
    };
    Tenant::connect(config, Box::new(RetryNotices)).map_err(|e| match (&e, &conn.ca_file) {
        (pki_c8y::Error::BadAnchor { reason, .. }, Some(path)) => {
            let line = format!(
                "{}: a certificate cannot be a trust anchor: {reason}",
                path.display()
            );
            crate::codes::worded(line, e)
        }
        _ => hints::c8y(e, "cannot look up the tenant id"),
    })
}

/// The certificates the tenant's TLS must chain to: `--ca-file` only, or the OS store
/// (honouring `SSL_CERT_FILE`/`SSL_CERT_DIR`).
fn trust(ca_file: Option<&Path>) -> Result<Trust> {
    if let Some(path) = ca_file {
        let certs = pki_core::read_certs(path)
            .with_context(|| format!("cannot read the CA file {}", path.display()))?;
        return Ok(Trust::Only(certs));
    }
    let found = rustls_native_certs::load_native_certs();
    if found.certs.is_empty() {
        let why = found
            .errors
            .first()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        bail!("{}", no_os_roots(&why));
    }
    Ok(Trust::System(
        found
            .certs
            .into_iter()
            .map(|c| c.as_ref().to_vec())
            .collect(),
    ))
}

/// The tenant password: `--password-file` (first line), `C8Y_PASSWORD`, or a prompt on the
/// terminal (naming `url`, without userinfo). Never a flag value, never printed; held in memory
/// that is wiped when dropped, from here to the Authorization header.
fn password(conn: &C8yConn, user: &str, url: &str) -> Result<Zeroizing<String>> {
    if let Some(file) = &conn.password_file {
        let first = first_line_of(file, "password file")?;
        if first.is_empty() {
            bail!("the password file {} is empty", file.display());
        }
        return Ok(first);
    }
    if let Some(p) = std::env::var(env::C8Y_PASSWORD)
        .ok()
        .map(Zeroizing::new)
        .filter(|p| !p.is_empty())
    {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let url = url.trim_end_matches('/');
        return Ok(Zeroizing::new(rpassword::prompt_password(format!(
            "Password for {user} at {url}: "
        ))?));
    }
    bail!(
        "no password for {user}: give --password-file FILE or set C8Y_PASSWORD (there is no terminal to ask on)"
    )
}

/// What an upload did, as `pki c8y upload` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum Registration {
    #[serde(rename = "created")]
    Created,
    #[serde(rename = "already registered")]
    AlreadyRegistered,
}

/// Where the proof of possession stands, as `pki c8y upload` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum ProofState {
    #[serde(rename = "valid")]
    Valid,
    #[serde(rename = "invalid")]
    Invalid,
    #[serde(rename = "not attempted")]
    NotAttempted,
}

/// What `pki c8y upload` reports.
#[derive(Debug, Serialize)]
struct UploadReport {
    result: Registration,
    tenant: String,
    url: String,
    file: String,
    subject: String,
    /// The SHA-1 the tenant keys the certificate by (Cumulocity's "fingerprint"), named as
    /// every pki report names it.
    #[serde(rename = "sha1")]
    fingerprint: Fingerprint,
    proof_of_possession: ProofState,
    /// The tenant's answer for the stored certificate, unchanged.
    certificate: TrustedCert,
}

fn upload(a: C8yUploadArgs, out: &Output) -> Result<Outcome> {
    let file = a.cert.display().to_string();
    let certs = read_cert(&a.cert)?;
    if certs.len() > 1 {
        messages::warning(&format!(
            "{file} holds {} certificates; registering the first ({})",
            certs.len(),
            certs[0].subject()
        ));
    }
    let cert = &certs[0];
    let fp = Fingerprint::of(cert);
    let name = match a.name.clone().or_else(|| cert.common_name()) {
        Some(n) => n,
        None => a
            .cert
            .file_stem()
            .map_or_else(|| fp.to_string(), |s| s.to_string_lossy().into_owned()),
    };
    // Everything that can fail locally fails before anything is sent.
    let key = if a.prove {
        let key_path = match &a.key {
            Some(k) => k.clone(),
            None => ca_key_path(&a.cert).with_context(|| {
                format!(
                    "--prove needs the CA's private key: {file} is not in a CA directory (DIR/certs/NAME.cert.pem); name the key with --key"
                )
            })?,
        };
        let key_name = key_path.display().to_string();
        let key = read_key(&key_path, &a.key_password)?;
        CaKey::new(&key, &key_name).map_err(|e| hints::c8y(e, ""))?;
        if !pki_core::key_matches(cert, &key)? {
            bail!(
                "the key {key_name} does not belong to {file} ({})",
                cert.subject()
            );
        }
        Some((key, key_name))
    } else {
        None
    };

    let tenant = connect(&a.conn)?;
    let opts = UploadOptions {
        name,
        auto_registration: !a.no_auto_register,
        status: if a.disabled {
            Status::Disabled
        } else {
            Status::Enabled
        },
    };
    let what = format!("cannot register {file} with tenant {}", tenant.id());
    let uploaded = tenant
        .upload(cert, &opts)
        .map_err(|e| hints::c8y(e, &what))?;
    let result = match &uploaded {
        Uploaded::Created(_) => Registration::Created,
        Uploaded::AlreadyRegistered(have) => {
            if have.differs_from(&opts) {
                messages::warning(&format!(
                    "{file} was already registered with other settings (status {}, auto-registration {}); pki left them as they are",
                    have.status.map_or("?".to_owned(), |st| st.to_string()),
                    on_off(have.auto_registration_enabled)
                ));
            }
            Registration::AlreadyRegistered
        }
    };
    let mut stored = uploaded.into_certificate();

    let mut proof = ProofState::NotAttempted;
    if let Some((key, key_name)) = &key {
        if stored.is_proven() {
            proof = ProofState::Valid;
        } else {
            let what = format!(
                "cannot prove possession of {file}'s key to tenant {}",
                tenant.id()
            );
            let signer = CaKey::new(key, key_name).map_err(|e| hints::c8y(e, &what))?;
            (proof, stored) = match tenant
                .prove(&fp, &signer)
                .map_err(|e| hints::c8y(e, &what))?
            {
                Proof::Accepted(c) => (ProofState::Valid, c),
                Proof::Rejected(c) => (ProofState::Invalid, c),
            };
        }
    }
    // One outcome per run: a proof the tenant did not accept is an error, and then no report
    // (with --json, stdout holds the error document only).
    if proof == ProofState::Invalid {
        bail!(
            "the tenant did not accept the proof of possession for {file} (proofOfPossessionValid is not true); it is registered with tenant {}, not proven",
            tenant.id()
        );
    }
    let report = UploadReport {
        result,
        tenant: tenant.id().to_owned(),
        url: tenant.url().to_owned(),
        file,
        subject: cert.subject(),
        fingerprint: fp,
        proof_of_possession: proof,
        certificate: stored,
    };
    out.emit(&report, || upload_text(&report))?;
    Ok(Outcome::Success)
}

/// A tenant that a run registers certificates with, reached on first use and then reused
/// (`pki renew --expiring 30d --c8y-upload` renews many): what `pki renew --c8y-upload` lends
/// the renewal.
pub(crate) struct Trusting {
    conn: C8yConn,
    /// The tenant once reached; or why it could not be (said again, not tried again: a wrong
    /// password is not asked a hundred times).
    tenant: std::cell::RefCell<Option<std::result::Result<Tenant, String>>>,
}

/// What registering a renewed certificate did (the renewal's report carries it).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Trusted {
    pub(crate) result: Registration,
    pub(crate) tenant: String,
    pub(crate) url: String,
    /// The SHA-1 the tenant keys the certificate by, lower-case as the tenant writes it.
    pub(crate) sha1: Fingerprint,
}

impl Trusting {
    pub(crate) fn new(conn: C8yConn) -> Self {
        Trusting {
            conn,
            tenant: std::cell::RefCell::new(None),
        }
    }

    /// Registers `cert` (the file `file` will hold) with the tenant's trusted certificates as
    /// `pki c8y upload FILE` does: named by its CN, enabled, auto-registration on; already
    /// registered counts.
    pub(crate) fn upload(&self, cert: &pki_core::Certificate, file: &str) -> Result<Trusted> {
        let mut slot = self.tenant.borrow_mut();
        let reached = slot.get_or_insert_with(|| connect(&self.conn).map_err(|e| format!("{e:#}")));
        let tenant = match reached {
            Ok(t) => t,
            Err(why) => bail!("{why}"),
        };
        let fp = Fingerprint::of(cert);
        let opts = UploadOptions {
            name: cert.common_name().unwrap_or_else(|| fp.to_string()),
            auto_registration: true,
            status: Status::Enabled,
        };
        let what = format!("cannot register {file} with tenant {}", tenant.id());
        let result = match tenant
            .upload(cert, &opts)
            .map_err(|e| hints::c8y(e, &what))?
        {
            Uploaded::Created(_) => Registration::Created,
            Uploaded::AlreadyRegistered(_) => Registration::AlreadyRegistered,
        };
        Ok(Trusted {
            result,
            tenant: tenant.id().to_owned(),
            url: tenant.url().to_owned(),
            sha1: fp,
        })
    }
}

fn on_off(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "on",
        Some(false) => "off",
        None => "?",
    }
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

/// A value the tenant sent, for one cell or field of a text report: on one line, no controls.
fn shown(value: Option<&str>) -> String {
    escape_line(value.unwrap_or_default()).into_owned()
}

fn upload_text(r: &UploadReport) -> String {
    let c = &r.certificate;
    let tenant = escape_line(&r.tenant);
    let mut s = match r.result {
        Registration::Created => format!("registered {} with tenant {tenant}\n", r.subject),
        Registration::AlreadyRegistered => format!(
            "already registered: {} is in tenant {tenant}'s trusted certificates (nothing changed)\n",
            r.subject
        ),
    };
    s += &fields(&[
        ("  name", shown(c.name.as_deref())),
        ("  fingerprint", r.fingerprint.to_string()),
        (
            "  status",
            c.status.map(|st| st.to_string()).unwrap_or_default(),
        ),
        (
            "  auto-registration",
            c.auto_registration_enabled
                .map(|b| on_off(Some(b)).to_owned())
                .unwrap_or_default(),
        ),
        ("  not after", shown(c.not_after.as_deref())),
        (
            "  proof of possession",
            match (r.proof_of_possession, c.proof_of_possession_valid) {
                (ProofState::NotAttempted, Some(true)) => "valid".to_owned(),
                (ProofState::NotAttempted, _) => "not proven (run again with --prove)".to_owned(),
                (ProofState::Valid, _) => "valid".to_owned(),
                (ProofState::Invalid, _) => "invalid".to_owned(),
            },
        ),
    ]);
    s
}

/// The key of a certificate in a CA directory: `DIR/certs/P.cert.pem` (or its
/// `P-full-chain.cert.pem`) has its key at `DIR/private/P.key.pem`.
fn ca_key_path(cert: &Path) -> Option<PathBuf> {
    let name = cert.file_name()?.to_str()?;
    let prefix = name.strip_suffix(".cert.pem")?;
    let prefix = prefix.strip_suffix("-full-chain").unwrap_or(prefix);
    let certs = cert.parent()?;
    if certs.file_name()? != "certs" {
        return None;
    }
    let dir = certs.parent()?;
    Some(dir.join("private").join(format!("{prefix}.key.pem")))
}

/// What `pki c8y list` reports.
#[derive(Debug, Serialize)]
struct ListReport {
    tenant: String,
    url: String,
    /// The tenant's certificates, as it answered them.
    certificates: Vec<TrustedCert>,
}

fn list(a: C8yListArgs, out: &Output) -> Result<Outcome> {
    let tenant = connect(&a.conn)?;
    let what = format!(
        "cannot list the trusted certificates of tenant {}",
        tenant.id()
    );
    let certificates = tenant.list().map_err(|e| hints::c8y(e, &what))?;
    let report = ListReport {
        tenant: tenant.id().to_owned(),
        url: tenant.url().to_owned(),
        certificates,
    };
    out.emit(&report, || list_text(&report))?;
    Ok(Outcome::Success)
}

fn list_text(r: &ListReport) -> String {
    let tenant = escape_line(&r.tenant);
    if r.certificates.is_empty() {
        return format!("tenant {tenant} has no trusted certificates\n");
    }
    let rows: Vec<[String; 6]> = r
        .certificates
        .iter()
        .map(|c| {
            [
                shown(c.fingerprint.as_deref()),
                c.status.map(|s| s.to_string()).unwrap_or_default(),
                on_off(c.auto_registration_enabled).to_owned(),
                yes_no(c.proof_of_possession_valid).to_owned(),
                shown(c.not_after.as_deref()),
                format!(
                    "{}{}",
                    shown(c.name.as_deref()),
                    c.subject
                        .as_deref()
                        .map(|s| format!(" ({})", shown(Some(s))))
                        .unwrap_or_default()
                ),
            ]
        })
        .collect();
    let head = [
        "FINGERPRINT",
        "STATUS",
        "AUTO-REG",
        "PROVEN",
        "NOT AFTER",
        "NAME (SUBJECT)",
    ];
    let mut s = format!("tenant {tenant}: {} trusted certificate(s)\n", rows.len());
    s += &table(head, &rows);
    s
}

/// What a removal did, as `pki c8y remove` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Removal {
    #[serde(rename = "removed")]
    Removed,
    #[serde(rename = "not registered")]
    NotRegistered,
}

/// What `pki c8y remove` reports.
#[derive(Debug, Serialize)]
struct RemoveReport {
    result: Removal,
    tenant: String,
    /// As in [`UploadReport`].
    #[serde(rename = "sha1")]
    fingerprint: Fingerprint,
}

fn remove(a: C8yRemoveArgs, out: &Output) -> Result<Outcome> {
    let fp = fingerprint_of(&a.cert)?;
    let tenant = connect(&a.conn)?;
    let what = format!("cannot remove {fp} from tenant {}", tenant.id());
    let result = match tenant.remove(&fp).map_err(|e| hints::c8y(e, &what))? {
        Removed::Removed => Removal::Removed,
        Removed::NotRegistered => Removal::NotRegistered,
    };
    let report = RemoveReport {
        result,
        tenant: tenant.id().to_owned(),
        fingerprint: fp,
    };
    let tenant = escape_line(&report.tenant);
    out.emit(&report, || match report.result {
        Removal::Removed => format!(
            "removed {} from tenant {tenant}'s trusted certificates\n",
            report.fingerprint
        ),
        Removal::NotRegistered => format!(
            "not registered: tenant {tenant} has no trusted certificate {} (nothing to remove)\n",
            report.fingerprint
        ),
    })?;
    Ok(Outcome::Success)
}

/// A certificate file's fingerprint, or a SHA-1 fingerprint given as hex (any case, with or
/// without `:` separators).
fn fingerprint_of(arg: &str) -> Result<Fingerprint> {
    let path = Path::new(arg);
    if path.exists() {
        let certs = read_cert(path)?;
        return Ok(Fingerprint::of(&certs[0]));
    }
    Fingerprint::parse(arg).ok_or_else(|| {
        anyhow!(
            "{arg} is neither a certificate file nor a SHA-1 fingerprint (40 hex digits, as `pki show` prints the thumbprint)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_key_is_found_in_the_ca_directory() {
        assert_eq!(
            ca_key_path(Path::new("pki/certs/azure-iot-test-only.root.ca.cert.pem")),
            Some(PathBuf::from(
                "pki/private/azure-iot-test-only.root.ca.key.pem"
            ))
        );
        assert_eq!(
            ca_key_path(Path::new(
                "/x/pki/certs/azure-iot-test-only.intermediate-full-chain.cert.pem"
            )),
            Some(PathBuf::from(
                "/x/pki/private/azure-iot-test-only.intermediate.key.pem"
            ))
        );
        assert_eq!(ca_key_path(Path::new("root.pem")), None);
        assert_eq!(ca_key_path(Path::new("elsewhere/root.cert.pem")), None);
    }

    #[test]
    fn the_password_is_held_in_memory_that_is_wiped() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw.txt");
        std::fs::write(&file, "s3cret-pw\r\nsecond line\n").unwrap();
        let conn = C8yConn {
            url: "https://t1.example.com".into(),
            user: "admin".into(),
            tenant: None,
            password_file: Some(file.clone()),
            ca_file: None,
            timeout: Duration::from_secs(120),
        };
        // The type is the point: the password is wiped when it is dropped.
        let pw: Zeroizing<String> = password(&conn, "admin", "https://t1.example.com/").unwrap();
        assert_eq!(pw.as_str(), "s3cret-pw");
        std::fs::write(&file, vec![b'x'; 100 * 1024]).unwrap();
        let e = format!("{:#}", password(&conn, "admin", "").unwrap_err());
        assert!(
            e.contains("larger than 64 KiB, the most pki reads of a password"),
            "{e}"
        );
    }

    #[test]
    fn fingerprints_are_normalised() {
        let upper = "0CD89E8ECD40B6F7FBB9F3602BAF82FF307F0678";
        assert_eq!(fingerprint_of(upper).unwrap(), upper.to_ascii_lowercase());
        let colons = "0C:D8:9E:8E:CD:40:B6:F7:FB:B9:F3:60:2B:AF:82:FF:30:7F:06:78";
        assert_eq!(fingerprint_of(colons).unwrap(), upper.to_ascii_lowercase());
        let e = fingerprint_of("nope").unwrap_err().to_string();
        assert!(e.contains("neither a certificate file nor"), "{e}");
    }
}
