//! `pki crl` and `pki crl-url`: which CAs sign (one, or every CA that may), their keys loaded,
//! the CRLs written by the library, and the result rendered; the directory's CRL distribution
//! point shown or set.

use anyhow::{Context, Result, bail};
use pki_core::{CaDir, CaRole, WrittenCrls};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use super::{ChosenIssuer, Home, choose_issuer};
use crate::cli::{CrlArgs, CrlUrlArgs, IssuerOpts, IssuerSpec};
use crate::messages;
use crate::output::{Outcome, Output, fields};

/// What `pki crl` reports.
#[derive(Serialize)]
struct Report {
    #[serde(flatten)]
    written: WrittenCrls,
    /// CAs of the directory that cannot sign a CRL, and why.
    skipped: Vec<String>,
}

pub(crate) fn run(dir: &Home, a: CrlArgs, out: &Output) -> Result<Outcome> {
    let ca = super::open_ca(dir)?;
    let mut skipped = Vec::new();
    let roles = if a.all {
        let mut roles = vec![CaRole::Root, CaRole::Intermediate];
        roles.extend(ca.edge_ca_names()?.into_iter().map(CaRole::EdgeCa));
        let mut able = Vec::new();
        for role in roles.into_iter().filter(|r| ca.has(r)) {
            let cert = pki_core::read_certs(&ca.cert_path(&role.prefix()))?;
            if cert.first().is_some_and(pki_core::can_sign_crls) {
                able.push(role);
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
        able
    } else {
        let role = match a.issuer.clone() {
            Some(role) if ca.has(&role) => role,
            Some(role) => bail!("the {role} does not exist in {}", ca.path().display()),
            None => [CaRole::Intermediate, CaRole::Root]
                .into_iter()
                .find(|r| ca.has(r))
                .with_context(|| {
                    format!(
                        "{}: no CA to write a CRL for; run `pki create-owner-ca` first",
                        ca.path().display()
                    )
                })?,
        };
        vec![role]
    };
    let signers = roles
        .iter()
        .map(|role| signer(&ca, role, &a))
        .collect::<Result<Vec<_>>>()?;
    let pairs: Vec<(CaRole, &pki_core::Issuer)> = roles
        .iter()
        .cloned()
        .zip(signers.iter().map(|s| &s.issuer))
        .collect();
    let written = pki_core::write_crls(&ca, &pairs, super::now(), a.days, a.all)?;
    for s in &skipped {
        messages::warning(&format!("skipped {s}"));
    }
    let report = Report { written, skipped };
    out.emit(&report, || text(&report))?;
    Ok(Outcome::Success)
}

/// The CA of `role` with its key, to sign its CRL.
fn signer(ca: &CaDir, role: &CaRole, a: &CrlArgs) -> Result<ChosenIssuer> {
    let opts = IssuerOpts {
        issuer: Some(IssuerSpec::Role(role.clone())),
        issuer_key: None,
        crl_url: None,
        password: a.password.clone(),
    };
    choose_issuer(ca, &opts, &[]).with_context(|| format!("the {role}'s key signs its CRL"))
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
pub(crate) fn url(dir: &Home, a: CrlUrlArgs, out: &Output) -> Result<Outcome> {
    let ca = super::open_ca(dir)?;
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
