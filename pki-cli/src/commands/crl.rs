//! `pki crl` and `pki crl-url`: which CAs sign (one, or every CA that may), their keys loaded,
//! the CRLs written by the library, and the result rendered; the directory's CRL distribution
//! point shown or set.

use crate::args::IssuerOpts;
use crate::args::IssuerSpec;
use crate::args::PasswordOpts;
use crate::args::crl_url;
use clap::Args;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use pki_core::{CaDir, CaRole, CrlCa, KeptCa, KeyRecord, WrittenCrls};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use super::{ChosenIssuer, GlobalContext};
use crate::messages;
use crate::output::{Outcome, Output, fields};

/// `pki crl`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "Lists every certificate of the register the CA issued and `pki revoke` revoked, with its\n",
    "revocation date and reason; version 2, signed with the CA's key, a CRL number one more than the\n",
    "last (kept in the register), valid --days from now (nextUpdate: write a new one before then).\n",
    "Files: crl/<CA prefix>.crl.pem and .crl.der, replaced atomically. --all writes the CRL of every\n",
    "CA that may sign one (an IoT Edge device CA has no cRLSign) and crl/all.crl.pem, all of them in\n",
    "one file: point mosquitto's `crlfile` (or `openssl verify -crl_check -CRLfile`) at it, since\n",
    "mosquitto checks every certificate of a client's chain. Default CA: the intermediate, else root.\n\n",
    "EXAMPLES:\n",
    "  pki crl --all && sudo systemctl reload mosquitto\n",
    "  pki crl --issuer root --days 30\n",
    "  openssl crl -in pki/crl/azure-iot-test-only.intermediate.crl.pem -noout -text\n\n",
    "EXIT CODES:\n  0  written\n  2  could not run (no such CA, its key missing or encrypted without a password)"))]
pub(crate) struct CrlArgs {
    /// The CA whose CRL to write: root, intermediate, edge-ca:NAME, or a CA certificate file
    /// (a previous certificate of a renewed CA, `certs/<prefix>.<SERIAL>.cert.pem`, signs with
    /// its kept key; any other with --issuer-key).
    #[arg(long, value_name = "CA", value_parser = IssuerSpec::parse, conflicts_with = "all")]
    pub(crate) issuer: Option<IssuerSpec>,
    /// The key of an --issuer given as a file that is not one of the directory's CAs.
    #[arg(long, value_name = "KEY", requires = "issuer")]
    pub(crate) issuer_key: Option<PathBuf>,
    /// Days until nextUpdate.
    #[arg(long, value_name = "N", default_value_t = pki_core::DEFAULT_CRL_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub(crate) days: u32,
    /// Every CA's CRL, and all of them in crl/all.crl.pem.
    #[arg(long)]
    pub(crate) all: bool,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// `pki crl-url`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "Certificates issued afterwards (issue, csr sign, create-intermediate-ca, create-edge-ca,\n",
    "batches) carry it unless --crl-url says otherwise. `{ca}` becomes the issuing CA's file prefix,\n",
    "so that serving pki/crl/ over HTTP serves every CA's CRL.\n\n",
    "EXAMPLES:\n",
    "  pki crl-url 'http://pki.contoso.com/crl/{ca}.crl.der'\n",
    "  pki crl-url\n",
    "  pki crl-url --unset\n\n",
    "EXIT CODES:\n  0  shown or set\n  2  could not run (a URL that is not http://, https:// or ldap://)"))]
pub(crate) struct CrlUrlArgs {
    /// The URL to set (none: show the one set).
    #[arg(value_name = "URL", value_parser = crl_url)]
    pub(crate) url: Option<String>,
    /// Remove the setting: certificates carry no CRL distribution point.
    #[arg(long, conflicts_with = "url")]
    pub(crate) unset: bool,
}

/// What `pki crl` reports.
#[derive(Serialize)]
struct Report {
    #[serde(flatten)]
    written: WrittenCrls,
    /// CAs of the directory that cannot sign a CRL, and why.
    skipped: Vec<String>,
}

pub(crate) fn run(ctx: &GlobalContext, a: CrlArgs, out: &Output) -> Result<Outcome> {
    let ca = super::open_ca(ctx)?;
    let now = super::now();
    let mut skipped = Vec::new();
    let signers: Vec<(CrlCa, ChosenIssuer)> = if a.all {
        let mut able = Vec::new();
        for role in ca.ca_roles()?.into_iter().filter(|r| ca.has(r)) {
            let cert = pki_core::read_certs(&ca.cert_path(&role.prefix()))?;
            if cert.first().is_some_and(pki_core::can_sign_crls) {
                able.push((CrlCa::Current(role.clone()), signer(ctx, &ca, &role, &a)?));
            } else {
                skipped.push(format!(
                    "the {role}: its keyUsage has no cRLSign, so it cannot sign a CRL"
                ));
            }
        }
        if able.is_empty() {
            bail!(
                "{}: no CA that can sign a CRL; run `pki create-owner-ca` first",
                ca.path().display()
            );
        }
        // A CA renewed with a new key: what its previous key issued is valid until it expires,
        // and a client that checks revocation needs that issuer's CRL too (without it, OpenSSL
        // refuses every such certificate: "unable to get certificate CRL").
        for kept in ca.kept_cas()? {
            let cert = pki_core::read_first_cert(&kept.cert)?;
            let crl_ca = CrlCa::from(&kept);
            if cert.not_after() <= now {
                continue;
            }
            if !pki_core::can_sign_crls(&cert) {
                skipped.push(format!(
                    "the {crl_ca}: its keyUsage has no cRLSign, so it cannot sign a CRL"
                ));
                continue;
            }
            able.push((crl_ca, kept_signer(ctx, &kept, &a)?));
        }
        able
    } else {
        let role = match a.issuer.clone() {
            Some(IssuerSpec::Role(role)) => role,
            Some(IssuerSpec::File(file)) => return one_file(ctx, &ca, &file, &a, now, out),
            None => ca
                .default_issuer(pki_core::Profile::Device)
                .context("no CA to write a CRL for")?,
        };
        let s = signer(ctx, &ca, &role, &a)?;
        vec![(CrlCa::Current(role), s)]
    };
    write(&ca, &signers, skipped, &a, now, out)
}

/// `pki crl --issuer FILE`: one of the directory's CAs, or a previous certificate of one kept
/// with its key, found by its SHA-256; any other CA certificate with `--issuer-key`.
fn one_file(
    ctx: &GlobalContext,
    ca: &CaDir,
    file: &Path,
    a: &CrlArgs,
    now: time::OffsetDateTime,
    out: &Output,
) -> Result<Outcome> {
    let cert = pki_core::read_first_cert(file)
        .with_context(|| format!("cannot read the CA certificate {}", file.display()))?;
    let sha = cert.sha256_hex();
    let same = |p: &Path| pki_core::read_first_cert(p).is_ok_and(|c| c.sha256_hex() == sha);
    let found = ca
        .ca_roles()?
        .into_iter()
        .find(|r| same(&ca.cert_path(&r.prefix())));
    let signers = if let Some(role) = found {
        let s = signer(ctx, ca, &role, a)?;
        vec![(CrlCa::Current(role), s)]
    } else if let Some(kept) = ca.kept_cas()?.into_iter().find(|k| same(&k.cert)) {
        let s = kept_signer(ctx, &kept, a)?;
        vec![(CrlCa::from(&kept), s)]
    } else {
        let Some(key) = a.issuer_key.clone() else {
            bail!(
                "{} is none of the CAs of {} (nor a previous one kept with its key): name its key with --issuer-key",
                file.display(),
                ca.path().display()
            );
        };
        let spec = file.display().to_string();
        let s = super::with_key(ctx, vec![cert], file, &key, spec.clone(), &a.password)?;
        // Its CRL files are named after the certificate's file.
        let stem = file
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.trim_end_matches(".pem").trim_end_matches(".cert"))
            .unwrap_or("issuer")
            .to_owned();
        vec![(
            CrlCa::File {
                label: spec,
                prefix: stem,
            },
            s,
        )]
    };
    write(ca, &signers, Vec::new(), a, now, out)
}

/// Writes the CRLs of `signers` and reports them.
fn write(
    ca: &CaDir,
    signers: &[(CrlCa, ChosenIssuer)],
    skipped: Vec<String>,
    a: &CrlArgs,
    now: time::OffsetDateTime,
    out: &Output,
) -> Result<Outcome> {
    let pairs: Vec<(CrlCa, &pki_core::Issuer)> = signers
        .iter()
        .map(|(c, s)| (c.clone(), &s.issuer))
        .collect();
    let written = pki_core::write_crls(ca, &pairs, now, a.days, a.all)?;
    for s in &skipped {
        messages::warning(&format!("skipped {s}"));
    }
    let report = Report { written, skipped };
    out.emit(&report, || text(&report))?;
    Ok(Outcome::Success)
}

/// The CA of `role` with its key, to sign its CRL.
fn signer(ctx: &GlobalContext, ca: &CaDir, role: &CaRole, a: &CrlArgs) -> Result<ChosenIssuer> {
    let opts = IssuerOpts {
        issuer: Some(IssuerSpec::Role(role.clone())),
        issuer_key: None,
        crl_url: None,
        password: a.password.clone(),
    };
    super::ca_issuer(ctx, ca, role, &opts)
        .with_context(|| format!("the {role}'s key signs its CRL"))
}

/// A previous certificate of a CA with its kept key, to sign the CRL of what it issued.
fn kept_signer(ctx: &GlobalContext, kept: &KeptCa, a: &CrlArgs) -> Result<ChosenIssuer> {
    let key = match kept.key {
        KeyRecord::File(ref p) => p.clone(),
        KeyRecord::Token(ref record) => PathBuf::from(
            std::fs::read_to_string(record)
                .with_context(|| format!("cannot read the key's URI record {}", record.display()))?
                .trim(),
        ),
    };
    let label = CrlCa::from(kept).to_string();
    super::with_key(
        ctx,
        pki_core::read_certs(&kept.cert)?,
        &kept.cert,
        &key,
        label.clone(),
        &a.password,
    )
    .with_context(|| format!("the {label}'s key signs its CRL"))
}

fn text(report: &Report) -> String {
    let mut s = String::new();
    for c in &report.written.crls {
        s += &format!("wrote the CRL of the {}: {}\n", c.ca, c.issuer);
        s += &fields(&[
            ("  CRL number", c.number.to_string()),
            ("  revoked", c.revoked.to_string()),
            (
                "  next update",
                c.next_update.format(&Rfc3339).unwrap_or_default(),
            ),
            ("  PEM", c.pem.display().to_string()),
            ("  DER", c.der.display().to_string()),
        ]);
    }
    if let Some(all) = &report.written.combined {
        s += &format!(
            "all CRLs in one file: {}\n  (mosquitto: crlfile {}, then reload mosquitto)\n",
            all.display(),
            all.display()
        );
    }
    s
}

/// What `pki crl-url` reports.
#[derive(Serialize)]
struct UrlReport {
    crl_url: Option<String>,
}

/// `pki crl-url`.
pub(crate) fn url(ctx: &GlobalContext, a: CrlUrlArgs, out: &Output) -> Result<Outcome> {
    let ca = super::open_ca(ctx)?;
    if a.unset {
        ca.set_crl_url(None)?;
    } else if let Some(url) = &a.url {
        ca.set_crl_url(Some(url))?;
    }
    let report = UrlReport {
        crl_url: ca.crl_url()?,
    };
    out.emit(&report, || match &report.crl_url {
        Some(u) => format!("CRL distribution point: {u}\n"),
        None => "no CRL distribution point: certificates carry none\n".to_owned(),
    })?;
    Ok(Outcome::Success)
}
