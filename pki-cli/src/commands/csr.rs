//! `pki csr create` and `pki csr sign`: keys that never leave the device, signed by the CA
//! under a profile that decides the extensions.

use crate::args::IssuerOpts;
use crate::args::KeyOpts;
use crate::args::PasswordOpts;
use crate::args::pkcs11_uri;
use anyhow::{Context, Result};
use clap::Args;
use clap::Subcommand;
use clap::ValueEnum;
use pki_core::{CaDir, CaRole, CaSigner, Csr, PrivateKey, Profile, Subject, SubjectKey};
use serde::Serialize;
use std::path::PathBuf;

use super::GlobalContext;
use super::issue::server_sans;
use super::{choose_issuer, read_key, request, write_issued};
use crate::output::{Outcome, Output, fields};

/// `pki csr ...`.
#[derive(Debug, Subcommand)]
// Parsed once per run: the size of --key-on's URI in one variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum CsrCommand {
    /// Create a key (or use --key) and a CSR for it.
    #[command(after_long_help = concat!(
        "Writes csr/<prefix>.csr.pem and, for a new key, private/<prefix>.key.pem; the prefix follows\n",
        "the profile (iot-device-ID for device, iot-edge-server-HOST for server, ...).\n\n",
        "EXAMPLES:\n",
        "  pki csr create sensor-0001\n",
        "  pki csr create gw.contoso.com --profile server --san 10.0.0.4\n",
        "  pki csr create sensor-0001 --key existing.key.pem --out sensor.csr\n\n",
        "EXIT CODES:\n  0  success\n  2  could not run"))]
    Create(CsrCreateArgs),
    /// Sign a CSR under a profile (the CSR's own signature is checked first).
    #[command(after_long_help = concat!(
        "The profile, not the CSR, decides the extensions; the CSR gives the subject, the public key\n",
        "and (for server) extra SANs.\n\n",
        "EXAMPLES:\n",
        "  pki csr sign sensor-0001.csr --profile device\n",
        "  pki csr sign gw.csr --profile server --san 10.0.0.4 --issuer edge-ca:gateway1\n\n",
        "EXIT CODES:\n  0  success\n  2  could not run (for example a CSR whose signature does not verify)"))]
    Sign(CsrSignArgs),
}

/// Profiles a CSR can be signed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CsrProfile {
    /// Gateway server certificate.
    Server,
    /// Downstream device certificate.
    Device,
    /// IoT Edge device CA.
    EdgeCa,
    /// Intermediate CA.
    IntermediateCa,
    /// Proof-of-possession certificate.
    Verification,
}

/// `pki csr create`.
#[derive(Debug, Args)]
pub(crate) struct CsrCreateArgs {
    /// The common name (device id or host name).
    pub(crate) cn: String,
    /// What the certificate is for (decides the file prefix and the checks on CN).
    #[arg(long, value_enum, default_value = "device")]
    pub(crate) profile: CsrProfile,
    /// Subject alternative names to request.
    #[arg(long = "san", value_name = "NAME")]
    pub(crate) sans: Vec<String>,
    /// Organization (O).
    #[arg(long)]
    pub(crate) org: Option<String>,
    /// Organizational unit (OU).
    #[arg(long)]
    pub(crate) unit: Option<String>,
    /// Use this existing key instead of creating one.
    #[arg(long, value_name = "KEY")]
    pub(crate) key: Option<PathBuf>,
    /// Generate the device's key on a PKCS#11 token (a TPM's, a secure element's) and sign
    /// the CSR there: `pkcs11:token=T;object=LABEL`.
    #[arg(long, value_name = "URI", value_parser = pkcs11_uri, conflicts_with = "key")]
    pub(crate) key_on: Option<pki_pkcs11::Pkcs11Uri>,
    /// Write the CSR here instead of the CA directory's csr/.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// `pki csr sign`.
#[derive(Debug, Args)]
pub(crate) struct CsrSignArgs {
    /// The CSR file (PEM or DER).
    pub(crate) csr: PathBuf,
    /// The profile to sign under.
    #[arg(long, value_enum)]
    pub(crate) profile: CsrProfile,
    /// More SANs for a server certificate.
    #[arg(long = "san", value_name = "NAME")]
    pub(crate) sans: Vec<String>,
    /// Validity in days.
    #[arg(long)]
    pub(crate) days: Option<u32>,
    /// Overwrite existing files.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) issuer: IssuerOpts,
}

impl CsrProfile {
    fn profile(self) -> Profile {
        match self {
            CsrProfile::Server => Profile::Server,
            CsrProfile::Device => Profile::Device,
            CsrProfile::EdgeCa => Profile::EdgeCa,
            CsrProfile::IntermediateCa => Profile::IntermediateCa { pathlen: Some(1) },
            CsrProfile::Verification => Profile::Verification,
        }
    }

    /// The file prefix for a certificate of this profile with this CN.
    fn prefix(self, cn: &str) -> Result<String> {
        Ok(match self {
            CsrProfile::Server => {
                server_sans(cn, &[])?;
                pki_core::server_prefix(&cn.to_ascii_lowercase())
            }
            CsrProfile::Device => {
                pki_core::validate_device_id(cn)?;
                pki_core::device_prefix(cn)
            }
            CsrProfile::EdgeCa => {
                let name = pki_core::edge_ca_name(cn);
                pki_core::validate_device_id(name).context("invalid edge CA name")?;
                pki_core::edge_ca_prefix(name)
            }
            CsrProfile::IntermediateCa => CaRole::Intermediate.prefix(),
            CsrProfile::Verification => pki_core::VERIFICATION_PREFIX.to_owned(),
        })
    }
}

#[derive(Serialize)]
struct CsrReport {
    subject: String,
    subject_alt_names: Vec<String>,
    key_type: String,
    csr: String,
    key: Option<String>,
}

/// `pki csr create`.
pub(crate) fn create(ctx: &GlobalContext, a: CsrCreateArgs, out: &Output) -> Result<Outcome> {
    let cn = match a.profile {
        CsrProfile::EdgeCa if !a.cn.ends_with(pki_core::EDGE_CA_CN_SUFFIX) => {
            pki_core::edge_ca_cn(&a.cn)
        }
        _ => a.cn.clone(),
    };
    let prefix = a.profile.prefix(&cn)?;
    let sans = match a.profile {
        CsrProfile::Server => server_sans(&cn, &a.sans)?,
        _ => a
            .sans
            .iter()
            .map(|s| s.parse())
            .collect::<pki_core::Result<Vec<_>>>()?,
    };
    let subject = Subject {
        common_name: cn,
        organization: a.org.clone(),
        organizational_unit: a.unit.clone(),
    };
    let ca = if a.out.is_some() && a.key.is_some() {
        None
    } else {
        Some(super::create_ca(ctx)?)
    };
    let csr_path = match (&a.out, &ca) {
        (Some(p), _) => p.clone(),
        (None, Some(ca)) => ca.csr_path(&prefix),
        // Invariant: `ca` is None only when --out and --key are both given (just above).
        (None, None) => unreachable!("a CA directory is opened whenever --out is missing"),
    };
    // The key signs the CSR: a file key (given, or new in the CA directory), or a new key on a
    // token, recorded by its URI (private/<prefix>.key.uri) when there is a CA directory.
    let (key, new_key_path, key_text): (std::sync::Arc<dyn CaSigner>, _, _) =
        match (&a.key, &a.key_on, &ca) {
            (Some(path), _, _) => match super::hsm::uri_of(path)? {
                Some(uri) => (super::hsm::open_key(ctx, &uri)?, None, None),
                None => (
                    std::sync::Arc::new(read_key(path, &a.password)?),
                    None,
                    None,
                ),
            },
            (None, Some(uri), ca) => {
                CaDir::check_free(&[csr_path.as_path()], a.key_opts.force)?;
                let key = super::hsm::generate(ctx, uri, a.key_opts.key_type)?;
                let text = zeroize::Zeroizing::new(format!("{}\n", key.uri()));
                (
                    key,
                    ca.as_ref().map(|c| c.key_uri_path(&prefix)),
                    Some(text),
                )
            }
            (None, None, Some(ca)) => {
                let key = PrivateKey::generate(a.key_opts.key_type)?;
                let pem = key.to_pem();
                (
                    std::sync::Arc::new(key),
                    Some(ca.key_path(&prefix)),
                    Some(pem),
                )
            }
            (None, None, None) => {
                // Invariant: `ca` is None only when --out and --key are both given.
                unreachable!("a CA directory is opened whenever --key is missing")
            }
        };
    let mut targets = vec![csr_path.as_path()];
    if let Some(k) = &new_key_path {
        targets.push(k);
    }
    CaDir::check_free(&targets, a.key_opts.force)?;
    let pem = pki_core::create_csr(&subject, &sans, key.as_ref())?;
    let mut set: Vec<(&std::path::Path, &[u8], u32)> = Vec::new();
    if let (Some(k), Some(text)) = (&new_key_path, &key_text) {
        set.push((k, text.as_bytes(), 0o600));
    }
    set.push((&csr_path, pem.as_bytes(), 0o644));
    pki_core::write_files(&set, a.key_opts.force)?;
    let report = CsrReport {
        subject: format!("CN = {}", subject.common_name),
        subject_alt_names: sans.iter().map(ToString::to_string).collect(),
        key_type: key.key_type().to_string(),
        csr: csr_path.display().to_string(),
        key: new_key_path.map(|p| p.display().to_string()),
    };
    out.emit(&report, || {
        format!("created certificate signing request: {}\n", report.subject)
            + &fields(&[
                ("  SANs", report.subject_alt_names.join(", ")),
                ("  key type", report.key_type.clone()),
                ("  request", report.csr.clone()),
                ("  private key", report.key.clone().unwrap_or_default()),
            ])
    })?;
    Ok(Outcome::Success)
}

/// `pki csr sign`.
pub(crate) fn sign(ctx: &GlobalContext, a: CsrSignArgs, out: &Output) -> Result<Outcome> {
    let bytes = pki_core::files::read_input(&a.csr, pki_core::files::Input::Document)
        .with_context(|| format!("cannot read the CSR {}", a.csr.display()))?;
    let csr = Csr::parse(&bytes, &a.csr.display().to_string())?;
    let ca = super::open_ca(ctx)?;
    let profile = a.profile.profile();
    let cn = csr.subject.common_name.clone();
    let prefix = a.profile.prefix(&cn)?;
    if matches!(
        a.profile,
        CsrProfile::Server | CsrProfile::Device | CsrProfile::EdgeCa
    ) {
        ca.check_name_free(&cn, profile)?;
    }
    let chosen = choose_issuer(ctx, &ca, &a.issuer, profile)?;
    let key_opts = KeyOpts {
        key_type: csr.key_type,
        days: a.days,
        force: a.force,
    };
    let mut req = request(profile, csr.subject.clone(), &key_opts);
    req.crl_url = chosen.crl_url.clone();
    req.sans = match a.profile {
        CsrProfile::Server => {
            let mut extra: Vec<String> = csr.sans.iter().map(|s| s.value()).collect();
            extra.extend(a.sans.iter().cloned());
            server_sans(&cn, &extra)?
        }
        _ => csr.sans.clone(),
    };
    CaDir::check_free(
        &[&ca.cert_path(&prefix), &ca.full_chain_path(&prefix)],
        a.force,
    )?;
    let key = SubjectKey::Public {
        raw: csr.public_key.clone(),
        key_type: csr.key_type,
    };
    let issued = pki_core::issue(&req, &key, Some(&chosen.issuer))?;
    let report = write_issued(&ca, &prefix, profile, &issued, None, &chosen.label, a.force)?;
    report.emit(out)?;
    Ok(Outcome::Success)
}
