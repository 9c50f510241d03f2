//! `pki issue server`, `pki issue device`, `pki create-verification-cert` and `pki self-signed`:
//! the end-entity certificates of the gateway PKI.

use crate::args::IssuerOpts;
use crate::args::KeyOpts;
use anyhow::{Context, Result, bail};
use clap::Args;
use clap::Subcommand;
use pki_core::{
    CaDir, Placement, PrivateKey, Profile, SanEntry, Subject, SubjectKey, VERIFICATION_CODE_RULE,
    is_verification_code,
};
use std::path::PathBuf;

use super::GlobalContext;
use super::{IssueReport, choose_issuer, issue_with_new_key, request};
use crate::output::{Outcome, Output};

/// `pki issue ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum IssueCommand {
    /// Issue a gateway server certificate (serverAuth; SAN always carries HOST).
    #[command(after_long_help = concat!(
        "Signed by the edge CA when the directory has exactly one, else by the intermediate, else the owner CA.\n",
        "Downstream devices must connect with exactly HOST (or one of the --san names).\n\n",
        "EXAMPLES:\n",
        "  pki issue server gw.contoso.com\n",
        "  pki issue server gw.contoso.com --san gw --san 10.0.0.4 --issuer edge-ca:gateway1\n\n",
        "EXIT CODES:\n  0  success\n  2  could not run (for example HOST is not a valid DNS name or IP)"))]
    Server(ServerArgs),
    /// Issue a downstream device certificate (clientAuth; CN = device id).
    #[command(after_long_help = concat!(
        "Signed by the intermediate CA when there is one, else by the owner CA.\n\n",
        "EXAMPLES:\n",
        "  pki issue device sensor-0001\n",
        "  pki issue device sensor-0001 --key-type rsa-2048 --days 730\n",
        "  pki issue device --batch lot-42.csv                 (resumable; manifest in pki/manifest.jsonl)\n",
        "  seq -f 'sensor-%06.0f' 1 100000 | pki issue device --batch - --out /srv/lot-42\n\n",
        "EXIT CODES:\n  0  success (every device of a batch issued or already done)\n",
        "  1  a batch had rejected lines (bad input, or a key or certificate it did not create\n",
        "     in the way, kept unless --force); the rest was issued\n",
        "  2  could not run (for example an invalid device id)"))]
    Device(DeviceArgs),
}

/// `pki issue server`.
#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// The gateway's host name or IP address, as downstream devices connect to it.
    pub(crate) host: String,
    /// More subject alternative names (DNS names or IP addresses).
    #[arg(long = "san", value_name = "NAME")]
    pub(crate) sans: Vec<String>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) issuer: IssuerOpts,
}

/// `pki issue device`.
#[derive(Debug, Args)]
pub(crate) struct DeviceArgs {
    /// The device id (becomes the CN; Azure requires CN = device id).
    #[arg(required_unless_present = "batch")]
    pub(crate) device_id: Option<String>,
    /// Issue for every device of FILE ('-' for stdin): one device id a line, or CSV with a
    /// header naming `device_id` (optional columns: `sans`, `days`). Resumable: run it again
    /// after an interruption and it finishes the lot. A key or certificate it did not create
    /// is a rejected line, replaced only with --force.
    #[arg(long, value_name = "FILE", conflicts_with = "device_id")]
    pub(crate) batch: Option<PathBuf>,
    /// With --batch: one folder per device under DIR (cert.pem, key.pem, full-chain.pem)
    /// instead of the CA directory's certs/ and private/.
    #[arg(long, value_name = "DIR", requires = "batch")]
    pub(crate) out: Option<PathBuf>,
    /// With --batch: the manifest (one JSON line per device; default manifest.jsonl in the
    /// output directory).
    #[arg(long, value_name = "FILE", requires = "batch")]
    pub(crate) manifest: Option<PathBuf>,
    /// With --batch: stop at the first bad input line instead of reporting it and going on.
    #[arg(long, requires = "batch")]
    pub(crate) strict: bool,
    /// With --batch: worker threads, 1 to 1024 (default: every core).
    #[arg(long, value_name = "N", requires = "batch",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) jobs: Option<u16>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) issuer: IssuerOpts,
}

/// `pki create-verification-cert`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "Signed by the CA being proven (the owner CA unless --issuer says otherwise). Upload\n",
    "certs/iot-device-verification-code.cert.pem to IoT Hub or Cumulocity to prove you hold the CA key.\n\n",
    "EXAMPLES:\n",
    "  pki create-verification-cert 5D2E8A0B7C...\n",
    "  pki create-verification-cert 5D2E8A0B7C... --issuer intermediate --force\n\n",
    "EXIT CODES:\n  0  success\n  2  could not run"))]
pub(crate) struct VerificationArgs {
    /// The verification code from IoT Hub or Cumulocity.
    pub(crate) code: String,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) issuer: IssuerOpts,
}

/// `pki self-signed`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "CA:TRUE pathlen:0 with clientAuth, as Cumulocity requires of a trusted device certificate.\n",
    "Written to certs/iot-device-ID.cert.pem and its key, or where --out-cert and --out-key say;\n",
    "either way recorded in the CA directory's register (with the absolute path it was written\n",
    "to), so that `pki renew ID` renews it where it is. `pki guide ID --sdk tedge` prints the\n",
    "thin-edge.io set-up for Cumulocity.\n\n",
    "EXAMPLES:\n",
    "  pki self-signed my-device-0001\n",
    "  pki self-signed my-device-0001 --org \"Thin Edge\" --unit Device \\\n",
    "      --out-cert /etc/tedge/device-certs/tedge-certificate.pem \\\n",
    "      --out-key /etc/tedge/device-certs/tedge-private-key.pem\n\n",
    "EXIT CODES:\n  0  success\n  2  could not run"))]
pub(crate) struct SelfSignedArgs {
    /// The device id (CN; at most 64 characters).
    pub(crate) device_id: String,
    /// Organization (O).
    #[arg(long, default_value = "Thin Edge")]
    pub(crate) org: String,
    /// Organizational unit (OU).
    #[arg(long, default_value = "Device")]
    pub(crate) unit: String,
    /// Write the certificate here instead of the CA directory.
    #[arg(long, value_name = "FILE", requires = "out_key")]
    pub(crate) out_cert: Option<PathBuf>,
    /// Write the private key here instead of the CA directory.
    #[arg(long, value_name = "FILE", requires = "out_cert")]
    pub(crate) out_key: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
}

/// The SANs of a server certificate: HOST first, then every --san, without repeats.
pub(crate) fn server_sans(host: &str, extra: &[String]) -> Result<Vec<SanEntry>> {
    let mut sans: Vec<SanEntry> = Vec::new();
    for name in std::iter::once(host).chain(extra.iter().map(String::as_str)) {
        let san: SanEntry = name.parse()?;
        if !sans.contains(&san) {
            sans.push(san);
        }
    }
    Ok(sans)
}

/// `pki issue server`.
pub(crate) fn server(ctx: &GlobalContext, a: ServerArgs, out: &Output) -> Result<Outcome> {
    let sans = server_sans(&a.host, &a.sans)?;
    let host = sans[0].value();
    let ca = super::open_ca(ctx)?;
    ca.check_name_free(&host, Profile::Server)?;
    let chosen = choose_issuer(ctx, &ca, &a.issuer, Profile::Server)?;
    let mut req = request(Profile::Server, Subject::cn(&host), &a.key_opts);
    req.sans = sans;
    let prefix = pki_core::server_prefix(&host);
    issue_with_new_key(
        ctx,
        &ca,
        &prefix,
        req,
        &a.key_opts,
        None,
        Some(&chosen),
        out,
    )
}

/// `pki issue device`.
pub(crate) fn device(ctx: &GlobalContext, a: DeviceArgs, out: &Output) -> Result<Outcome> {
    let Some(device_id) = a.device_id.clone() else {
        return super::batch::run(ctx, a, out);
    };
    pki_core::validate_device_id(&device_id)?;
    let ca = super::open_ca(ctx)?;
    ca.check_name_free(&device_id, Profile::Device)?;
    let chosen = choose_issuer(ctx, &ca, &a.issuer, Profile::Device)?;
    let req = request(Profile::Device, Subject::cn(&device_id), &a.key_opts);
    let prefix = pki_core::device_prefix(&device_id);
    issue_with_new_key(
        ctx,
        &ca,
        &prefix,
        req,
        &a.key_opts,
        None,
        Some(&chosen),
        out,
    )
}

/// `pki create-verification-cert`.
pub(crate) fn verification(
    ctx: &GlobalContext,
    a: VerificationArgs,
    out: &Output,
) -> Result<Outcome> {
    let code = a.code.trim();
    if !is_verification_code(code) {
        bail!("{code:?} is not a verification code: expected {VERIFICATION_CODE_RULE}");
    }
    let ca = super::open_ca(ctx)?;
    let chosen = choose_issuer(ctx, &ca, &a.issuer, Profile::Verification)?;
    let req = request(Profile::Verification, Subject::cn(code), &a.key_opts);
    issue_with_new_key(
        ctx,
        &ca,
        pki_core::VERIFICATION_PREFIX,
        req,
        &a.key_opts,
        None,
        Some(&chosen),
        out,
    )
}

/// `pki self-signed`.
pub(crate) fn self_signed(ctx: &GlobalContext, a: SelfSignedArgs, out: &Output) -> Result<Outcome> {
    pki_core::validate_device_id(&a.device_id)?;
    if a.device_id.len() > 64 {
        bail!(
            "{:?} is longer than 64 characters, the most a certificate CN can hold",
            a.device_id
        );
    }
    let subject = Subject {
        common_name: a.device_id.clone(),
        organization: Some(a.org).filter(|s| !s.is_empty()),
        organizational_unit: Some(a.unit).filter(|s| !s.is_empty()),
    };
    let req = request(Profile::SelfSignedDevice, subject, &a.key_opts);
    if let (Some(cert_path), Some(key_path)) = (&a.out_cert, &a.out_key) {
        // Recorded in the CA directory's register at the absolute path written (renewed there,
        // in place), with where its key is.
        let at = Placement {
            cert: std::path::absolute(cert_path).unwrap_or_else(|_| cert_path.clone()),
            key: std::path::absolute(key_path).unwrap_or_else(|_| key_path.clone()),
        };
        if at.cert == at.key {
            bail!(
                "--out-cert and --out-key name the same file ({}): the key needs a file of its own",
                at.cert.display()
            );
        }
        CaDir::check_free(&[&at.cert, &at.key], a.key_opts.force)?;
        let ca = super::create_ca(ctx)?;
        let key = PrivateKey::generate(a.key_opts.key_type)?;
        let issued = pki_core::issue(&req, &SubjectKey::Private(&key), None)?;
        for p in [&at.cert, &at.key] {
            if let Some(parent) = p.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
        }
        let key_pem = zeroize::Zeroizing::new(key.to_pem());
        let (files, _) = ca.write_placed(
            &issued,
            key_pem.as_bytes(),
            &at,
            Profile::SelfSignedDevice,
            a.key_opts.force,
        )?;
        let report = IssueReport::new(Profile::SelfSignedDevice, &issued, "self-signed", files);
        report.emit(out)?;
        return Ok(Outcome::Success);
    }
    let ca = super::create_ca(ctx)?;
    let prefix = pki_core::device_prefix(&a.device_id);
    issue_with_new_key(ctx, &ca, &prefix, req, &a.key_opts, None, None, out)
}
