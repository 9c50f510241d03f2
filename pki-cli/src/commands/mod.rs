//! Command dispatch, and the helpers the commands share: reading keys (with passwords),
//! choosing the issuing CA, and writing an issued certificate with its report.

mod app_store;
mod batch;
pub(crate) mod c8y;
pub(crate) mod c8y_crl;
pub(crate) mod ca;
mod client_cert;
pub(crate) mod completions;
pub(crate) mod crl;
pub(crate) mod csr;
pub(crate) mod est;
pub(crate) mod est_client;
mod est_report;
mod est_serve;
pub(crate) mod export;
pub(crate) mod guide;
pub(crate) mod hsm;
pub(crate) mod issue;
pub(crate) mod list;
pub(crate) mod manpages;
pub(crate) mod needs_renewal;
mod prove;
pub(crate) mod quickstart;
pub(crate) mod renew;
pub(crate) mod report;
pub(crate) mod revoke;
pub(crate) mod scan;
pub(crate) mod show;
pub(crate) mod trust;
pub(crate) mod verify;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use pki_core::register::Location as RegisterLocation;

use anyhow::{Context, Result, bail};
use pki_core::files::Input;
use pki_core::{
    CaDir, CaRole, Certificate, Issued, Issuer, PrivateKey, Profile, Request, Subject, SubjectKey,
    Written,
};
use serde::Serialize;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::args::{IssuerOpts, IssuerSpec, KeyOpts, PasswordOpts};
use crate::cli::{Cli, Command};
use crate::commands::csr::CsrCommand;
use crate::commands::issue::IssueCommand;
use crate::env;
use crate::messages;
use crate::output::{Outcome, Output, fields};

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli, out: &Output) -> Result<Outcome> {
    // A pki that a `pki renew` hook runs: the renewal holds the register until the hook returns.
    pki_core::register::set_in_renew_hook(std::env::var_os(env::PKI_RENEW_PHASE).is_some());
    let ctx = GlobalContext {
        dir: cli.dir,
        register: match cli.register {
            Some(crate::cli::RegisterArg::At(location)) => Some(location),
            Some(crate::cli::RegisterArg::Default) | None => None,
        },
        pkcs11_module: cli.pkcs11_module,
    };
    match cli.command {
        Command::CreateOwnerCa(a) => ca::owner(&ctx, a, out),
        Command::CreateIntermediateCa(a) => ca::intermediate(&ctx, a, out),
        Command::CreateEdgeCa(a) => ca::edge(&ctx, a, out),
        Command::Issue(IssueCommand::Server(a)) => issue::server(&ctx, a, out),
        Command::Issue(IssueCommand::Device(a)) => issue::device(&ctx, a, out),
        Command::CreateVerificationCert(a) => issue::verification(&ctx, a, out),
        Command::SelfSigned(a) => issue::self_signed(&ctx, a, out),
        Command::Csr(CsrCommand::Create(a)) => csr::create(&ctx, a, out),
        Command::Csr(CsrCommand::Sign(a)) => csr::sign(&ctx, a, out),
        Command::Show(a) => show::run(&ctx, a, out),
        Command::Verify(a) => verify::run(&ctx, a, out),
        Command::List(a) => list::run(&ctx, a, out),
        Command::Report(a) => report::run(&ctx, a, out),
        Command::Renew(a) => renew::run(&ctx, a, out),
        Command::Revoke(a) => revoke::run(&ctx, a, out),
        Command::Crl(a) => crl::run(&ctx, a, out),
        Command::CrlUrl(a) => crl::url(&ctx, a, out),
        Command::NeedsRenewal(a) => needs_renewal::run(&ctx, a, out),
        Command::Scan(a) => scan::run(&ctx, a, out),
        Command::InstallCa(a) => trust::install(a, out),
        Command::UninstallCa(a) => trust::uninstall(a, out),
        Command::ListCa(a) => trust::list(a, out),
        Command::C8y(c) => c8y::run(&ctx, c, out),
        Command::Quickstart(a) => quickstart::run(&ctx, a, out),
        Command::Hsm(c) => hsm::run(&ctx, c, out),
        Command::Est(c) => est::run(&ctx, c, out),
        Command::Export(a) => export::run(&ctx, a, out),
        Command::Guide(a) => guide::run(&ctx, a, out),
        Command::Completions(a) => completions::run(a),
        Command::Manpages(a) => manpages::run(&a.out, out),
    }
}

/// The current time.
pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// `--at`, else the current time to the second: the instant a check judges at, as its report
/// prints it.
pub(crate) fn instant_or_now(at: Option<OffsetDateTime>) -> OffsetDateTime {
    at.unwrap_or_else(|| now().replace_nanosecond(0).unwrap_or_else(|_| now()))
}

/// Reads a private key, asking for its password only when it is encrypted: from
/// `--key-password-file`, `PKI_KEY_PASSWORD`, or a prompt on the terminal.
pub(crate) fn read_key(path: &Path, pw: &PasswordOpts) -> Result<PrivateKey> {
    let bytes = read_secret_file(path, Input::Key)
        .with_context(|| format!("cannot read the key {}", path.display()))?;
    let name = path.display().to_string();
    match PrivateKey::parse(&bytes, &name, None) {
        Err(pki_core::x509::Error::KeyPasswordNeeded { .. }) => {
            let password = password(path, pw)?;
            Ok(PrivateKey::parse(&bytes, &name, Some(&password))?)
        }
        other => Ok(other?),
    }
}

/// A file holding a secret (a key, a password, a PIN), read whole into memory that is wiped
/// when dropped, through the one bounded reader of user-named inputs
/// ([`pki_core::files::read_input`]: regular files only, at most `kind`'s limit).
pub(crate) fn read_secret_file(path: &Path, kind: Input) -> std::io::Result<Zeroizing<Vec<u8>>> {
    pki_core::files::read_input(path, kind)
}

/// The first line of a password or PIN file (`what`: "password file", "PIN file"), held in
/// memory that is wiped when dropped.
pub(crate) fn first_line_of(path: &Path, what: &str) -> Result<Zeroizing<String>> {
    let bytes = read_secret_file(path, Input::Password)
        .with_context(|| format!("cannot read the {what} {}", path.display()))?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("the {what} {} is not UTF-8 text", path.display()))?;
    Ok(Zeroizing::new(text.lines().next().unwrap_or("").to_owned()))
}

fn password(key: &Path, pw: &PasswordOpts) -> Result<Zeroizing<String>> {
    if let Some(file) = &pw.key_password_file {
        return first_line_of(file, "password file");
    }
    if let Ok(p) = std::env::var(env::PKI_KEY_PASSWORD) {
        return Ok(Zeroizing::new(p));
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        return Ok(Zeroizing::new(rpassword::prompt_password(format!(
            "Password for {}: ",
            key.display()
        ))?));
    }
    Err(pki_core::x509::Error::KeyPasswordNeeded {
        input: key.display().to_string(),
    }
    .into())
}

/// Reads one certificate file.
pub(crate) fn read_cert(path: &Path) -> Result<Vec<Certificate>> {
    Ok(pki_core::read_certs(path)?)
}

/// The chosen issuer, with a label that says which CA it is, and the CRL distribution point
/// of what it issues.
pub(crate) struct ChosenIssuer {
    pub(crate) issuer: Issuer,
    pub(crate) label: String,
    pub(crate) crl_url: Option<String>,
}

/// Resolves `--issuer` (or, when it is not given, the CA policy's default issuer of
/// `profile`) to a CA that can sign.
pub(crate) fn choose_issuer(
    ctx: &GlobalContext,
    ca: &CaDir,
    opts: &IssuerOpts,
    profile: Profile,
) -> Result<ChosenIssuer> {
    // A CA of the directory (its chain from its full-chain file), or a certificate file given
    // with its key (its chain: the rest of that file).
    let role = match &opts.issuer {
        Some(IssuerSpec::Role(role)) => role.clone(),
        Some(IssuerSpec::File(cert)) => {
            let spec = cert.display().to_string();
            let Some(key) = opts.issuer_key.clone() else {
                bail!("--issuer {spec} is a certificate file: name its key with --issuer-key");
            };
            let crl_url = crl_url(ca, opts, None)?;
            let chosen = with_key(ctx, read_cert(cert)?, cert, &key, spec, &opts.password)?;
            return Ok(ChosenIssuer { crl_url, ..chosen });
        }
        None => ca.default_issuer(profile)?,
    };
    ca_issuer(ctx, ca, &role, opts)
}

/// The CA of the directory in `role`, its key loaded, as an issuer.
pub(crate) fn ca_issuer(
    ctx: &GlobalContext,
    ca: &CaDir,
    role: &CaRole,
    opts: &IssuerOpts,
) -> Result<ChosenIssuer> {
    if !ca.has(role) {
        bail!("the {role} does not exist in {}", ca.path().display())
    }
    let p = role.prefix();
    let crl_url = crl_url(ca, opts, Some(&p))?;
    // A CA whose key is on a token has its URI recorded instead of a key file.
    let key = match ca.key_uri(&p)? {
        Some(uri) => PathBuf::from(uri),
        None => ca.key_path(&p),
    };
    let chosen = with_key(
        ctx,
        ca.chain_of(&p)?,
        &ca.cert_path(&p),
        &key,
        role.to_string(),
        &opts.password,
    )?;
    Ok(ChosenIssuer { crl_url, ..chosen })
}

/// The CRL distribution point of a certificate `opts`' issuer signs: `--crl-url`, else the
/// directory's default, with `{ca}` the issuing CA's file prefix (none for a CA given as a
/// file).
fn crl_url(ca: &CaDir, opts: &IssuerOpts, prefix: Option<&str>) -> Result<Option<String>> {
    let Some(template) = opts
        .crl_url
        .clone()
        .map_or_else(|| ca.crl_url(), |u| Ok(Some(u)))?
    else {
        return Ok(None);
    };
    match prefix {
        Some(p) => Ok(Some(pki_core::crl_url_for(&template, p))),
        None if template.contains(pki_core::CRL_URL_CA) => bail!(
            "the CRL URL {template:?} holds {}, and an issuer given as a file has no CA prefix: give --crl-url in full",
            pki_core::CRL_URL_CA
        ),
        None => Ok(Some(template)),
    }
}

/// The issuer whose certificate (and chain above it) is `chain`, read from `cert_path`, with
/// the key at `key_path` (a file, or a `pkcs11:` URI: the key signs on its token).
pub(crate) fn with_key(
    ctx: &GlobalContext,
    chain: Vec<Certificate>,
    cert_path: &Path,
    key_path: &Path,
    label: String,
    password: &PasswordOpts,
) -> Result<ChosenIssuer> {
    let cert_name = cert_path.display().to_string();
    let issuer = match hsm::uri_of(key_path)? {
        Some(uri) => Issuer::with_signer(
            chain,
            hsm::open_key(ctx, &uri)?,
            &cert_name,
            &uri.to_string(),
        )?,
        None => Issuer::new(
            chain,
            &read_key(key_path, password)?,
            &cert_name,
            &key_path.display().to_string(),
        )?,
    };
    Ok(ChosenIssuer {
        issuer,
        label,
        crl_url: None,
    })
}

/// What an issuing command reports.
#[derive(Debug, Serialize)]
pub(crate) struct IssueReport {
    pub(crate) profile: &'static str,
    pub(crate) subject: String,
    pub(crate) issuer: String,
    pub(crate) issued_by: String,
    pub(crate) serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) not_after: OffsetDateTime,
    pub(crate) key_type: String,
    pub(crate) subject_alt_names: Vec<String>,
    pub sha1: String,
    pub sha256: String,
    pub(crate) files: Written,
    pub(crate) warnings: Vec<String>,
    /// For a device: the `pki guide` command that prints its SDK snippets (thin-edge's for a
    /// self-signed device).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) guide: Option<String>,
}

impl IssueReport {
    pub(crate) fn new(profile: Profile, issued: &Issued, issued_by: &str, files: Written) -> Self {
        let info = pki_core::inspect(&issued.certificate, now(), time::Duration::ZERO);
        IssueReport {
            profile: profile.name(),
            subject: info.subject,
            issuer: info.issuer,
            issued_by: issued_by.to_owned(),
            serial: info.serial.hex,
            not_before: info.not_before,
            not_after: info.not_after,
            key_type: info
                .public_key
                .key_type
                .unwrap_or(info.public_key.algorithm),
            subject_alt_names: info.subject_alt_names,
            sha1: info.sha1,
            sha256: info.sha256,
            files,
            warnings: issued.warnings.clone(),
            guide: match profile {
                Profile::Device => issued
                    .certificate
                    .common_name()
                    .map(|id| guide::command(&id)),
                // thin-edge.io's own kind of certificate.
                Profile::SelfSignedDevice => issued
                    .certificate
                    .common_name()
                    .map(|id| guide::tedge_command(&id)),
                _ => None,
            },
        }
    }

    /// Prints the warnings to stderr and the report to stdout.
    pub(crate) fn emit(&self, out: &Output) -> Result<()> {
        for w in &self.warnings {
            messages::warning(w);
        }
        out.emit(self, || self.text())
    }

    pub(crate) fn text(&self) -> String {
        let mut s = format!("created {} certificate: {}\n", self.profile, self.subject);
        let path = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        s += &fields(&[
            (
                "  issued by",
                format!("{} ({})", self.issuer, self.issued_by),
            ),
            ("  key type", self.key_type.clone()),
            ("  serial", self.serial.clone()),
            ("  valid until", self.not_after.date().to_string()),
            ("  SANs", self.subject_alt_names.join(", ")),
            ("  thumbprint", self.sha1.clone()),
            ("  certificate", self.files.cert.display().to_string()),
            ("  full chain", path(&self.files.full_chain)),
            ("  private key", path(&self.files.key)),
            ("  SDK snippets", self.guide.clone().unwrap_or_default()),
        ]);
        s
    }
}

/// What every command runs with, from the global options: the CA directory it works in
/// (`--dir`), its register when `--register` or `PKI_REGISTER` names one (else
/// `register.sqlite3` in the directory), and the PKCS#11 module that serves `pkcs11:` keys
/// (`--pkcs11-module` or `PKI_PKCS11_MODULE`; a URI's module-path= overrides it).
#[derive(Debug, Clone, Default)]
pub(crate) struct GlobalContext {
    pub(crate) dir: PathBuf,
    pub(crate) register: Option<RegisterLocation>,
    pub(crate) pkcs11_module: Option<PathBuf>,
}

impl std::ops::Deref for GlobalContext {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.dir
    }
}

impl GlobalContext {
    fn with_register(&self, ca: CaDir) -> CaDir {
        match &self.register {
            Some(location) => ca.with_register(location.clone()),
            None => ca,
        }
    }
}

/// Opens the CA directory, saying what opening it corrected.
pub(crate) fn open_ca(ctx: &GlobalContext) -> Result<CaDir> {
    let ca = ctx.with_register(CaDir::open(ctx)?);
    for n in ca.notes() {
        messages::warning(n);
    }
    Ok(ca)
}

/// Opens the CA directory, creating what is missing, saying what opening it corrected.
pub(crate) fn create_ca(ctx: &GlobalContext) -> Result<CaDir> {
    let ca = ctx.with_register(CaDir::create(ctx)?);
    for n in ca.notes() {
        messages::warning(n);
    }
    Ok(ca)
}

/// Writes an issued certificate (and key) under `prefix`, records it in the index, and returns
/// the report.
pub(crate) fn write_issued(
    ca: &CaDir,
    prefix: &str,
    profile: Profile,
    issued: &Issued,
    key: Option<&PrivateKey>,
    issued_by: &str,
    force: bool,
) -> Result<IssueReport> {
    let pem = key.map(|k| zeroize::Zeroizing::new(k.to_pem()));
    let (files, _) = ca.write_issued(
        prefix,
        issued,
        pem.as_ref().map(|p| p.as_bytes()),
        profile,
        force,
    )?;
    Ok(IssueReport::new(profile, issued, issued_by, files))
}

/// A request of `profile` for `subject`, with `--days` when given.
pub(crate) fn request(profile: Profile, subject: Subject, k: &KeyOpts) -> Request {
    let mut req = Request::new(profile, subject, now());
    if let Some(d) = k.days {
        req.days = d;
    }
    req
}

/// Generates a key (in memory, or on the token `key_on` names), issues (self-signed when
/// `chosen` is `None`), writes and reports: the common path of every command that creates a
/// certificate with a new key in the CA directory. A token's key is recorded by its URI.
// Each argument is one of its callers' own (the context, the directory, the request, the key
// flags, the token, the issuer, the output): a struct of them would only be rebuilt at each call.
#[allow(clippy::too_many_arguments)]
pub(crate) fn issue_with_new_key(
    ctx: &GlobalContext,
    ca: &CaDir,
    prefix: &str,
    req: Request,
    k: &KeyOpts,
    key_on: Option<&pki_pkcs11::Pkcs11Uri>,
    chosen: Option<&ChosenIssuer>,
    out: &Output,
) -> Result<Outcome> {
    CaDir::check_free(
        &[
            &ca.cert_path(prefix),
            &ca.key_path(prefix),
            &ca.key_uri_path(prefix),
            &ca.full_chain_path(prefix),
        ],
        k.force,
    )?;
    let mut req = req;
    req.crl_url = chosen.and_then(|c| c.crl_url.clone());
    let issuer = chosen.map(|c| &c.issuer);
    let label = chosen.map_or("self-signed", |c| c.label.as_str());
    let report = match key_on {
        Some(uri) => {
            let key = hsm::generate(ctx, uri, k.key_type)?;
            let issued = pki_core::issue(&req, &SubjectKey::Signer(key.as_ref()), issuer)?;
            let (files, _) = ca.write_issued_with(
                prefix,
                &issued,
                pki_core::StoredKey::Uri(key.uri()),
                req.profile,
                k.force,
            )?;
            IssueReport::new(req.profile, &issued, label, files)
        }
        None => {
            let key = PrivateKey::generate(k.key_type)?;
            let issued = pki_core::issue(&req, &SubjectKey::Private(&key), issuer)?;
            write_issued(ca, prefix, req.profile, &issued, Some(&key), label, k.force)?
        }
    };
    report.emit(out)?;
    Ok(Outcome::Success)
}
