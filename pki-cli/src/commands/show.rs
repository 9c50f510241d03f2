//! `pki show`: what `tedge cert show` prints (path, subject, issuer, status, validity, serial,
//! thumbprint) and more, for every certificate of every file, as text or JSON; and what a CRL
//! file holds (issuer, number, dates, every revoked serial with its date and reason).

use crate::args::PasswordOpts;
use crate::args::instant;
use anyhow::Result;
use clap::Args;
use pki_core::{CertInfo, Certificate, CrlInfo};
use serde::Serialize;
use std::path::PathBuf;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use super::{GlobalContext, now, read_key};
use crate::output::{Outcome, Output, escape_line, fields};

/// `pki show`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "Reads PEM (bundles too) and DER. Prints what `tedge cert show` prints and more. A CRL (PEM\n",
    "`X509 CRL`, or DER) is shown with its issuer, number, dates, authority key identifier and every\n",
    "revoked serial with its date and reason.\n\n",
    "EXAMPLES:\n",
    "  pki show pki/crl/intermediate.crl.pem\n",
    "  pki show pki/certs/azure-iot-test-only.root.ca.cert.pem\n",
    "  pki show device.pem --key device.key.pem\n",
    "  pki show --json chain.pem | jq -r '.certificates[].sha1'\n\n",
    "EXIT CODES:\n  0  shown (and the key matches, with --key)\n  1  the key does not match the certificate\n  2  could not run (unreadable or invalid input)"))]
pub(crate) struct ShowArgs {
    /// Certificate or CRL files (PEM, PEM bundles, DER).
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// Check that this private key (a file, or a `pkcs11:` URI) belongs to the (first)
    /// certificate.
    #[arg(long, value_name = "KEY")]
    pub(crate) key: Option<PathBuf>,
    /// Status EXPIRES SOON when less than this many days are left.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub(crate) expires_soon: u32,
    /// Judge validity at this instant (RFC 3339, or a date: its midnight UTC) instead of now.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub(crate) at: Option<OffsetDateTime>,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

#[derive(Serialize)]
struct Shown {
    file: String,
    /// 0-based position in its file.
    index: usize,
    /// For a bundle: whether this certificate is signed by the next one in the file.
    signed_by_next: Option<bool>,
    #[serde(flatten)]
    info: CertInfo,
}

#[derive(Serialize)]
struct ShownCrl {
    file: String,
    /// 0-based position in its file.
    index: usize,
    #[serde(flatten)]
    info: CrlInfo,
}

#[derive(Serialize)]
struct KeyCheck {
    key: String,
    certificate: String,
    matches: bool,
}

#[derive(Serialize)]
struct ShowReport {
    #[serde(with = "time::serde::rfc3339")]
    at: time::OffsetDateTime,
    certificates: Vec<Shown>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    crls: Vec<ShownCrl>,
    key_check: Option<KeyCheck>,
}

/// `pki show`.
pub(crate) fn run(ctx: &GlobalContext, a: ShowArgs, out: &Output) -> Result<Outcome> {
    let at = a.at.unwrap_or_else(now);
    let soon = time::Duration::days(i64::from(a.expires_soon));
    let mut shown = Vec::new();
    let mut first: Option<(Certificate, String)> = None;
    let mut crls = Vec::new();
    for file in &a.files {
        let name = file.display().to_string();
        // Read once, through the bounded reader of user-named inputs.
        let bytes =
            pki_core::files::read_input(file, pki_core::files::Input::Document).map_err(|e| {
                pki_core::x509::Error::Io {
                    path: file.clone(),
                    reason: e,
                }
            })?;
        if pki_core::holds_crls(&bytes) {
            for (index, der) in pki_core::read_crls(&bytes, &name)?.iter().enumerate() {
                crls.push(ShownCrl {
                    file: name.clone(),
                    index,
                    info: CrlInfo::from_der(der, &name)?,
                });
            }
            continue;
        }
        let certs = Certificate::parse_all(&bytes, &name)?;
        let links = pki_core::chain_links(&certs);
        if first.is_none() {
            first = Some((certs[0].clone(), name.clone()));
        }
        for (index, (cert, link)) in certs.iter().zip(links).enumerate() {
            shown.push(Shown {
                file: name.clone(),
                index,
                signed_by_next: link,
                info: pki_core::inspect(cert, at, soon),
            });
        }
    }
    let key_check = match (&a.key, first) {
        (Some(key_path), Some((cert, cert_name))) => {
            // A token's key is checked through its public key; it never leaves the token.
            let matches = match super::hsm::uri_of(key_path)? {
                Some(uri) => {
                    pki_core::key_matches(&cert, super::hsm::open_key(ctx, &uri)?.as_ref())?
                }
                None => pki_core::key_matches(&cert, &read_key(key_path, &a.password)?)?,
            };
            Some(KeyCheck {
                key: key_path.display().to_string(),
                certificate: cert_name,
                matches,
            })
        }
        _ => None,
    };
    let negative = key_check.as_ref().is_some_and(|k| !k.matches);
    let report = ShowReport {
        at,
        certificates: shown,
        crls,
        key_check,
    };
    out.emit(&report, || text(&report))?;
    Ok(if negative {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}

fn text(r: &ShowReport) -> String {
    let mut s = String::new();
    // How many certificates each file holds, counted once: linear in the bundle's size.
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for c in &r.certificates {
        *counts.entry(c.file.as_str()).or_default() += 1;
    }
    for (i, c) in r.certificates.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        let n = counts.get(c.file.as_str()).copied().unwrap_or(1);
        let title = if n > 1 {
            format!("{} [{} of {n}]", c.file, c.index + 1)
        } else {
            c.file.clone()
        };
        let chain = match c.signed_by_next {
            Some(true) => format!("signed by certificate {} of this file", c.index + 2),
            Some(false) => format!(
                "NOT signed by certificate {} of this file (the bundle is out of order or incomplete)",
                c.index + 2
            ),
            None => String::new(),
        };
        s += &cert_text(&title, &c.info, chain);
    }
    for (i, c) in r.crls.iter().enumerate() {
        if i > 0 || !r.certificates.is_empty() {
            s.push('\n');
        }
        s += &crl_text(c);
    }
    if let Some(k) = &r.key_check {
        s += &format!(
            "\nPrivate key {} {} the certificate {}\n",
            escape_line(&k.key),
            if k.matches {
                "MATCHES"
            } else {
                "does NOT match"
            },
            escape_line(&k.certificate)
        );
    }
    s
}

fn crl_text(c: &ShownCrl) -> String {
    let date = |t: time::OffsetDateTime| t.format(&Rfc2822).unwrap_or_else(|_| t.to_string());
    let i = &c.info;
    let title = if c.index > 0 {
        format!("{} [CRL {}]", c.file, c.index + 1)
    } else {
        c.file.clone()
    };
    let mut s = fields(&[
        ("CRL", title),
        ("Issuer", i.issuer.clone()),
        ("Version", i.version.to_string()),
        (
            "CRL number",
            i.crl_number.clone().unwrap_or_else(|| "(none)".into()),
        ),
        ("Delta of CRL", i.delta_base.clone().unwrap_or_default()),
        ("This update", date(i.this_update)),
        (
            "Next update",
            i.next_update.map_or_else(|| "(none)".into(), date),
        ),
        (
            "Authority key",
            i.authority_key_id
                .clone()
                .unwrap_or_else(|| "(none)".into()),
        ),
        ("Signature", i.signature_algorithm.clone()),
        ("SHA-256", i.sha256.clone()),
        ("Revoked", i.revoked.len().to_string()),
    ]);
    for r in &i.revoked {
        let reason = r.reason.as_deref().unwrap_or("(no reason given)");
        s += &format!("    {}  {}  {reason}\n", r.serial, date(r.revoked_at));
    }
    s
}

fn cert_text(title: &str, i: &CertInfo, chain: String) -> String {
    let date = |t: time::OffsetDateTime| t.format(&Rfc2822).unwrap_or_else(|_| t.to_string());
    let usage = |u: &Option<pki_core::UsageInfo>, long: fn(&str) -> String| {
        u.as_ref()
            .map(|u| {
                let names = u
                    .usages
                    .iter()
                    .map(|n| long(n))
                    .collect::<Vec<_>>()
                    .join(", ");
                if u.critical {
                    format!("critical, {names}")
                } else {
                    names
                }
            })
            .unwrap_or_default()
    };
    let bc = i
        .basic_constraints
        .as_ref()
        .map(|b| {
            let mut v = if b.critical {
                "critical, ".to_owned()
            } else {
                String::new()
            };
            v += if b.ca { "CA:TRUE" } else { "CA:FALSE" };
            if let Some(p) = b.pathlen {
                v += &format!(", pathlen:{p}");
            }
            v
        })
        .unwrap_or_else(|| "(none)".into());
    let key = {
        let k = &i.public_key;
        let mut v = match &k.curve {
            Some(c) => format!("{} {c} ({} bit)", k.algorithm, k.bits),
            None => format!("{} ({} bit)", k.algorithm, k.bits),
        };
        if let Some(t) = &k.key_type {
            v += &format!(" [{t}]");
        }
        v
    };
    fields(&[
        ("Certificate", title.to_owned()),
        ("Subject", i.subject.clone()),
        ("Issuer", i.issuer.clone()),
        ("Status", i.status_text.clone()),
        ("Valid from", date(i.not_before)),
        ("Valid until", date(i.not_after)),
        (
            "Serial number",
            format!("{} (0x{})", i.serial.decimal, i.serial.hex),
        ),
        ("Thumbprint", i.sha1.clone()),
        ("SHA-256", i.sha256.clone()),
        (
            "Version",
            if i.version == 3 {
                String::new()
            } else {
                format!("{} (not X.509 v3)", i.version)
            },
        ),
        ("Public key", key),
        ("Signature", i.signature_algorithm.clone()),
        (
            "Self-signed",
            if i.self_signed {
                "yes".into()
            } else {
                String::new()
            },
        ),
        ("Basic constraints", bc),
        ("Key usage", usage(&i.key_usage, key_usage_long)),
        ("Extended key usage", usage(&i.extended_key_usage, eku_long)),
        ("Subject alt names", i.subject_alt_names.join(", ")),
        (
            "Subject key id",
            i.subject_key_id.clone().unwrap_or_default(),
        ),
        (
            "Authority key id",
            i.authority_key_id.clone().unwrap_or_default(),
        ),
        ("Chain", chain),
    ])
}

/// OpenSSL's wording of a keyUsage bit.
fn key_usage_long(n: &str) -> String {
    match n {
        "digitalSignature" => "Digital Signature",
        "nonRepudiation" => "Non Repudiation",
        "keyEncipherment" => "Key Encipherment",
        "dataEncipherment" => "Data Encipherment",
        "keyAgreement" => "Key Agreement",
        "keyCertSign" => "Certificate Sign",
        "cRLSign" => "CRL Sign",
        "encipherOnly" => "Encipher Only",
        "decipherOnly" => "Decipher Only",
        other => other,
    }
    .to_owned()
}

/// OpenSSL's wording of an extended key usage.
fn eku_long(n: &str) -> String {
    match n {
        "serverAuth" => "TLS Web Server Authentication",
        "clientAuth" => "TLS Web Client Authentication",
        "codeSigning" => "Code Signing",
        "emailProtection" => "E-mail Protection",
        "timeStamping" => "Time Stamping",
        "OCSPSigning" => "OCSP Signing",
        "anyExtendedKeyUsage" => "Any Extended Key Usage",
        other => other,
    }
    .to_owned()
}
