//! `pki export`: a certificate (and its key) as a PKCS#12 keystore, a PKCS#12 truststore, DER
//! or PEM, for the clients that want those (Windows and .NET take a PFX for a device identity,
//! Java a keystore and a truststore).

use crate::args::PasswordOpts;
use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use pki_core::{Certificate, Pkcs12Cipher, TrustedEntry};
use serde::Serialize;
use zeroize::Zeroizing;

use super::{GlobalContext, first_line_of, read_cert, read_key};
use crate::output::{Outcome, Output, escape_line, fields};

/// `pki export`: which file to write (exactly one).
#[derive(Debug, Args, Clone)]
#[group(required = true, multiple = false)]
pub(crate) struct ExportTarget {
    /// Write a PKCS#12 keystore (.p12/.pfx): the key and the certificate.
    #[arg(long, value_name = "OUT")]
    pub(crate) p12: Option<PathBuf>,
    /// Write a PKCS#12 truststore: every certificate of FILE as a trusted entry, no key.
    #[arg(long, value_name = "OUT")]
    pub(crate) truststore: Option<PathBuf>,
    /// Write the certificate as DER.
    #[arg(long, value_name = "OUT")]
    pub(crate) der: Option<PathBuf>,
    /// Write the certificate (with --chain, every certificate of FILE) as PEM.
    #[arg(long, value_name = "OUT")]
    pub(crate) pem: Option<PathBuf>,
}

/// `pki export`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "--p12 OUT writes a PKCS#12 keystore (.p12/.pfx) with the key and the certificate (with --chain,\n",
    "the rest of FILE too: give the -full-chain file). The key is --key, else the private/ file of\n",
    "the same name in the CA directory. --truststore OUT writes every certificate of FILE as a trusted\n",
    "entry and no key: a Java truststore (javax.net.ssl.trustStore, keytool) or a .NET one. The\n",
    "default encryption is AES-256-CBC with PBKDF2 and an HMAC-SHA-256 MAC; --legacy writes 3DES with\n",
    "an HMAC-SHA-1 MAC for Windows Server 2016 and older and Java 8. The password comes from\n",
    "--password-file (first line), the environment variable --password-env names, or a prompt; it is\n",
    "never a flag's value. An empty password is refused unless --no-password is given. --der OUT and\n",
    "--pem OUT write the certificate (with --chain and --pem, the whole file) in that encoding.\n\n",
    "EXAMPLES:\n",
    "  pki export pki/certs/iot-device-d1-full-chain.cert.pem --p12 d1.pfx --chain --name d1\n",
    "  PFX_PASSWORD=... pki export pki/certs/iot-device-d1.cert.pem --p12 d1.p12 --password-env PFX_PASSWORD --legacy\n",
    "  pki export pki/certs/azure-iot-test-only.root.ca.cert.pem --truststore truststore.p12 --password-file pw.txt\n",
    "  pki export pki/certs/azure-iot-test-only.root.ca.cert.pem --der root.cer\n\n",
    "EXIT CODES:\n  0  written\n",
    "  2  could not run (a key that does not match, an empty password, an existing OUT without --force)"))]
pub(crate) struct ExportArgs {
    /// The certificate file (PEM or DER), or the id of a device of the CA directory.
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) target: ExportTarget,
    /// The private key for --p12 (default: private/PREFIX.key.pem beside FILE's certs/ folder).
    #[arg(long, value_name = "KEY", requires = "p12")]
    pub(crate) key: Option<PathBuf>,
    /// Include the chain after the certificate: the rest of FILE's certificates, or for a
    /// file of one, the CAs above it in the CA directory.
    #[arg(long, conflicts_with_all = ["truststore", "der"])]
    pub(crate) chain: bool,
    /// The alias (friendlyName) of the entry (default: the certificate's CN).
    #[arg(long, value_name = "ALIAS", conflicts_with_all = ["der", "pem"])]
    pub(crate) name: Option<String>,
    /// 3DES with an HMAC-SHA-1 MAC instead of AES-256 (Windows Server 2016 and older, Java 8).
    #[arg(long, conflicts_with_all = ["der", "pem"])]
    pub(crate) legacy: bool,
    /// Read the PKCS#12 password from this file (first line).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["der", "pem"])]
    pub(crate) password_file: Option<PathBuf>,
    /// Read the PKCS#12 password from this environment variable.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["password_file", "der", "pem"])]
    pub(crate) password_env: Option<String>,
    /// Write the PKCS#12 with an empty password (anyone who has the file has the key).
    #[arg(long, conflicts_with_all = ["password_file", "password_env", "der", "pem"])]
    pub(crate) no_password: bool,
    #[command(flatten)]
    pub(crate) key_password: PasswordOpts,
    /// Overwrite OUT if it exists.
    #[arg(long)]
    pub(crate) force: bool,
}

/// What was written.
#[derive(Serialize)]
struct ExportReport {
    /// `pkcs12`, `truststore`, `der` or `pem`.
    format: &'static str,
    output: PathBuf,
    /// The encryption of a PKCS#12 file: `aes-256-cbc` or `3des` (legacy).
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption: Option<&'static str>,
    /// The aliases of a PKCS#12 file's entries.
    aliases: Vec<String>,
    /// Whether the file holds a private key.
    key: bool,
    /// The SHA-256 of each certificate written, leaf first.
    sha256: Vec<String>,
}

/// `pki export`.
pub(crate) fn run(ctx: &GlobalContext, mut a: ExportArgs, out: &Output) -> Result<Outcome> {
    a.file = certificate_file(ctx, &a.file)?;
    let mut certs = read_cert(&a.file)?;
    if a.chain && certs.len() == 1 && !certs[0].is_self_issued() {
        let above = issuer_chain(ctx, &a.file, &certs[0])?;
        certs.extend(above);
    }
    let t = &a.target;
    let (report, data, mode) = if let Some(p12) = &t.p12 {
        keystore(&a, certs, p12)?
    } else if let Some(ts) = &t.truststore {
        truststore(&a, &certs, ts)?
    } else if let Some(der) = &t.der {
        let leaf = first(&a.file, &certs)?;
        let data = Zeroizing::new(leaf.der().to_vec());
        (
            report("der", der, None, vec![], false, &certs[..1]),
            data,
            0o644,
        )
    } else if let Some(pem) = &t.pem {
        let shown = if a.chain {
            &certs[..]
        } else {
            &certs[..1.min(certs.len())]
        };
        first(&a.file, shown)?;
        let data = Zeroizing::new(pki_core::pem_bundle(shown).into_bytes());
        (report("pem", pem, None, vec![], false, shown), data, 0o644)
    } else {
        bail!("name what to write: --p12, --truststore, --der or --pem");
    };
    pki_core::write_atomic(&report.output, &data, mode, a.force)?;
    out.emit(&report, || text(&report))?;
    Ok(Outcome::Success)
}

/// FILE as given when it exists; otherwise, when it is a device id, that device's certificate
/// in the CA directory (`certs/iot-device-ID.cert.pem`, its key beside it in `private/`), as
/// `renew` and `guide` take ids.
fn certificate_file(ctx: &GlobalContext, file: &Path) -> Result<PathBuf> {
    let id = file
        .to_str()
        .filter(|s| pki_core::validate_device_id(s).is_ok());
    let Some(id) = id.filter(|_| std::fs::symlink_metadata(file).is_err()) else {
        return Ok(file.to_owned());
    };
    let ca = super::open_ca(ctx).with_context(|| {
        format!("{id}: no such file, and no CA directory to find a device {id} in")
    })?;
    let cert = ca.cert_path(&pki_core::device_prefix(id));
    if !cert.is_file() {
        bail!(
            "{id}: no such file, and no device {id} in {} (no {}): give a certificate file or the \
             id of a device issued there",
            ctx.dir.display(),
            cert.display()
        );
    }
    Ok(cert)
}

/// The CAs above `leaf` (the one certificate of `file`) in the CA directory, for `--chain`:
/// as its -full-chain file holds them. Refused when no CA of the directory issued it.
fn issuer_chain(ctx: &GlobalContext, file: &Path, leaf: &Certificate) -> Result<Vec<Certificate>> {
    let refused = || {
        format!(
            "{} holds one certificate and no CA of {} issued it: give the certificate's \
             -full-chain file (or a bundle) for --chain, or leave --chain out",
            file.display(),
            ctx.dir.display()
        )
    };
    let ca = super::open_ca(ctx).with_context(refused)?;
    let chain = ca.issuer_chain(leaf);
    if chain.is_empty() {
        bail!(refused());
    }
    Ok(chain)
}

fn report(
    format: &'static str,
    output: &Path,
    cipher: Option<Pkcs12Cipher>,
    aliases: Vec<String>,
    key: bool,
    certs: &[Certificate],
) -> ExportReport {
    ExportReport {
        format,
        output: output.to_owned(),
        encryption: cipher.map(|c| match c {
            Pkcs12Cipher::Modern => "aes-256-cbc",
            Pkcs12Cipher::Legacy => "3des",
        }),
        aliases,
        key,
        sha256: certs.iter().map(Certificate::sha256_hex).collect(),
    }
}

fn first<'a>(file: &Path, certs: &'a [Certificate]) -> Result<&'a Certificate> {
    certs
        .first()
        .with_context(|| format!("{}: no certificate in the file", file.display()))
}

type Written = (ExportReport, Zeroizing<Vec<u8>>, u32);

fn keystore(a: &ExportArgs, certs: Vec<Certificate>, output: &Path) -> Result<Written> {
    let leaf = first(&a.file, &certs)?;
    let key_path = match &a.key {
        Some(k) => k.clone(),
        None => key_beside(&a.file).with_context(|| {
            format!(
                "{} is not a certificate of a CA directory (certs/NAME.cert.pem): name its key with --key",
                a.file.display()
            )
        })?,
    };
    if a.key.is_none()
        && !key_path.exists()
        && let Some(uri) = token_key(&key_path)
    {
        bail!(
            "the key of {} is on a token ({uri}, recorded in {}): a token's key never leaves it, so no PKCS#12 keystore can hold it; export the certificate (--pem, --der, --truststore) and sign with the key through its URI",
            a.file.display(),
            key_path.with_extension("uri").display()
        );
    }
    let key = read_key(&key_path, &a.key_password)?;
    if !pki_core::key_matches(leaf, &key)? {
        return Err(pki_core::Error::KeyMismatch {
            key: key_path.display().to_string(),
            cert: a.file.display().to_string(),
        }
        .into());
    }
    let chain = if a.chain { &certs[..] } else { &certs[..1] };
    let alias = alias(a, leaf);
    let cipher = cipher(a);
    let password = password(a, output)?;
    let data = pki_core::pkcs12_keystore(
        &key,
        chain,
        &alias,
        &password,
        cipher,
        &output.display().to_string(),
    )?;
    let r = report("pkcs12", output, Some(cipher), vec![alias], true, chain);
    Ok((r, data, 0o600))
}

fn truststore(a: &ExportArgs, certs: &[Certificate], output: &Path) -> Result<Written> {
    first(&a.file, certs)?;
    let entries: Vec<TrustedEntry<'_>> = certs
        .iter()
        .enumerate()
        .map(|(i, c)| TrustedEntry {
            alias: match (&a.name, certs.len()) {
                (Some(n), 1) => n.clone(),
                (Some(n), _) => format!("{n}-{}", i + 1),
                (None, _) => c.common_name().unwrap_or_else(|| c.sha1_hex()),
            },
            certificate: c,
        })
        .collect();
    let cipher = cipher(a);
    let password = password(a, output)?;
    let data =
        pki_core::pkcs12_truststore(&entries, &password, cipher, &output.display().to_string())?;
    let aliases = entries.iter().map(|e| e.alias.clone()).collect();
    let r = report("truststore", output, Some(cipher), aliases, false, certs);
    Ok((r, Zeroizing::new(data), 0o644))
}

fn alias(a: &ExportArgs, leaf: &Certificate) -> String {
    a.name
        .clone()
        .or_else(|| leaf.common_name())
        .unwrap_or_else(|| leaf.sha1_hex())
}

fn cipher(a: &ExportArgs) -> Pkcs12Cipher {
    if a.legacy {
        Pkcs12Cipher::Legacy
    } else {
        Pkcs12Cipher::Modern
    }
}

/// `DIR/certs/PREFIX.cert.pem` or `DIR/certs/PREFIX-full-chain.cert.pem` -> `DIR/private/PREFIX.key.pem`.
fn key_beside(cert: &Path) -> Option<PathBuf> {
    let name = cert.file_name()?.to_str()?;
    let stem = name.strip_suffix(".cert.pem")?;
    let prefix = stem.strip_suffix("-full-chain").unwrap_or(stem);
    let certs = cert.parent()?;
    let dir = certs.parent()?;
    Some(dir.join("private").join(format!("{prefix}.key.pem")))
}

/// The `pkcs11:` URI recorded beside `key_path` (`private/PREFIX.key.uri` for
/// `private/PREFIX.key.pem`), when the key is on a token: its path part (the key's name; no
/// query, where a PIN's source is), cut for an error line.
fn token_key(key_path: &Path) -> Option<String> {
    let uri = super::read_secret_file(
        &key_path.with_extension("uri"),
        pki_core::files::Input::Password,
    )
    .ok()?;
    let text = String::from_utf8_lossy(&uri);
    let line = text.lines().next()?.trim();
    let line = line.split_once('?').map_or(line, |(path, _)| path);
    line.starts_with("pkcs11:")
        .then(|| escape_line(&line.chars().take(256).collect::<String>()).into_owned())
}

/// The PKCS#12 password: `--password-file`, `--password-env`, or a prompt (asked twice); empty
/// only with `--no-password`.
fn password(a: &ExportArgs, output: &Path) -> Result<Zeroizing<String>> {
    if a.no_password {
        return Ok(Zeroizing::new(String::new()));
    }
    let (pw, source) = if let Some(file) = &a.password_file {
        let first = first_line_of(file, "password file")?;
        (first, format!("the password file {}", file.display()))
    } else if let Some(var) = &a.password_env {
        let value = std::env::var(var).map_err(|_| {
            anyhow::anyhow!(
                "the environment variable {var} (--password-env) is not set or not UTF-8"
            )
        })?;
        (
            Zeroizing::new(value),
            format!("the environment variable {var}"),
        )
    } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let prompt = format!("Password for {}: ", output.display());
        let first = Zeroizing::new(rpassword::prompt_password(prompt)?);
        let again = Zeroizing::new(rpassword::prompt_password("Again: ")?);
        if first != again {
            bail!(
                "the two passwords for {} differ; nothing written",
                output.display()
            );
        }
        (first, "the prompt".to_owned())
    } else {
        bail!(
            "{} needs a password: give --password-file FILE or --password-env NAME (or --no-password)",
            output.display()
        );
    };
    if pw.is_empty() {
        bail!(
            "the password from {source} is empty: give one, or --no-password to write {} unprotected",
            output.display()
        );
    }
    Ok(pw)
}

fn text(r: &ExportReport) -> String {
    let what = match (r.format, r.encryption) {
        ("pkcs12", Some("3des")) => "PKCS#12 keystore (legacy: 3DES, HMAC-SHA-1)",
        ("pkcs12", _) => "PKCS#12 keystore (AES-256-CBC, PBKDF2, HMAC-SHA-256)",
        ("truststore", Some("3des")) => "PKCS#12 truststore (legacy: 3DES, HMAC-SHA-1)",
        ("truststore", _) => "PKCS#12 truststore (AES-256-CBC, PBKDF2, HMAC-SHA-256)",
        ("der", _) => "DER certificate",
        _ => "PEM",
    };
    let mut s = format!("wrote {}: {what}\n", r.output.display());
    let mut rows = vec![(
        "  certificates",
        format!(
            "{}{}",
            r.sha256.len(),
            if r.key { " and the private key" } else { "" }
        ),
    )];
    if !r.aliases.is_empty() {
        rows.push(("  aliases", r.aliases.join(", ")));
    }
    s += &fields(&rows);
    s
}
