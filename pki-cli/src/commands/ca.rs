//! `pki create-owner-ca`, `pki create-intermediate-ca` and `pki create-edge-ca`: create (or adopt)
//! the CAs of the gateway PKI.

use crate::args::IssuerOpts;
use crate::args::KeyOpts;
use crate::args::PasswordOpts;
use crate::args::pkcs11_uri;
use clap::Args;
use std::path::Path;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use pki_core::{CaDir, CaRole, Issued, Issuer, Profile, Subject};

use super::GlobalContext;
use super::{ChosenIssuer, choose_issuer, issue_with_new_key, read_cert, read_key, request};
use crate::messages;
use crate::output::{Outcome, Output};

/// `pki create-owner-ca`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "Writes certs/azure-iot-test-only.root.ca.cert.pem and private/azure-iot-test-only.root.ca.key.pem.\n\n",
    "EXAMPLES:\n",
    "  pki create-owner-ca --cn \"Contoso Owner CA\" --days 3650\n",
    "  pki create-owner-ca --key-type rsa-4096 --pathlen 2\n",
    "  pki create-owner-ca --import root.pem --key root.key.pem --key-password-file pw.txt\n\n",
    "EXIT CODES:\n  0  success\n  1  negative verdict (for example a key that does not match)\n  2  could not run (bad usage, unreadable input, an existing file without --force)"))]
pub(crate) struct OwnerCaArgs {
    /// Common name of the CA.
    #[arg(long, default_value = "IoT Owner Root CA")]
    pub(crate) cn: String,
    /// Path length constraint (none by default; 2 leaves room for intermediate and edge CA).
    #[arg(long)]
    pub(crate) pathlen: Option<u8>,
    /// Adopt an existing CA certificate instead of creating one.
    #[arg(long, value_name = "CERT", requires = "key", conflicts_with_all = ["pathlen", "days"])]
    pub(crate) import: Option<PathBuf>,
    /// The private key of the --import certificate (PKCS#8, SEC1, PKCS#1, or encrypted PKCS#8),
    /// or the `pkcs11:` URI of a key on a token.
    #[arg(long, value_name = "KEY", requires = "import")]
    pub(crate) key: Option<PathBuf>,
    /// Generate the key on a PKCS#11 token instead of in a file: `pkcs11:token=T;object=LABEL`
    /// (PIN from the URI's pin-source=file:PATH, PKI_PKCS11_PIN, or a prompt). The CA directory
    /// records the URI; the key never leaves the token.
    #[arg(long, value_name = "URI", value_parser = pkcs11_uri, conflicts_with = "import")]
    pub(crate) key_on: Option<pki_pkcs11::Pkcs11Uri>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// `pki create-intermediate-ca`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "Writes certs/azure-iot-test-only.intermediate.cert.pem, its -full-chain file and its key.\n\n",
    "EXAMPLES:\n",
    "  pki create-intermediate-ca\n",
    "  pki create-intermediate-ca --cn \"Contoso Intermediate\" --pathlen 1\n",
    "  pki create-intermediate-ca --import inter.pem --key inter.key.pem\n\n",
    "EXIT CODES:\n  0  success\n  2  could not run"))]
pub(crate) struct IntermediateCaArgs {
    /// Common name of the CA.
    #[arg(long, default_value = "IoT Intermediate CA")]
    pub(crate) cn: String,
    /// Path length constraint.
    #[arg(long, default_value_t = 1)]
    pub(crate) pathlen: u8,
    /// Adopt an existing intermediate CA certificate instead of creating one.
    #[arg(long, value_name = "CERT", requires = "key")]
    pub(crate) import: Option<PathBuf>,
    /// The private key of the --import certificate, or the `pkcs11:` URI of a key on a token.
    #[arg(long, value_name = "KEY", requires = "import")]
    pub(crate) key: Option<PathBuf>,
    /// Generate the key on a PKCS#11 token instead of in a file: `pkcs11:token=T;object=LABEL`
    /// (PIN from the URI's pin-source=file:PATH, PKI_PKCS11_PIN, or a prompt). The CA directory
    /// records the URI; the key never leaves the token.
    #[arg(long, value_name = "URI", value_parser = pkcs11_uri, conflicts_with = "import")]
    pub(crate) key_on: Option<pki_pkcs11::Pkcs11Uri>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) issuer: IssuerOpts,
}

/// `pki create-edge-ca`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "Signed by the intermediate CA when there is one, else by the owner CA. The CN is NAME.ca and\n",
    "must differ from the gateway's hostname and from every device id (IoT Edge requires it).\n",
    "Point config.toml's [edge_ca] cert at certs/iot-edge-device-ca-NAME-full-chain.cert.pem\n",
    "and pk at private/iot-edge-device-ca-NAME.key.pem.\n\n",
    "EXAMPLES:\n",
    "  pki create-edge-ca gateway1\n",
    "  pki create-edge-ca gateway1 --key-type rsa-2048 --days 90\n\n",
    "EXIT CODES:\n  0  success\n  2  could not run"))]
pub(crate) struct EdgeCaArgs {
    /// The edge CA's name; its CN becomes NAME.ca.
    pub(crate) name: String,
    /// Generate the key on a PKCS#11 token instead of in a file: `pkcs11:token=T;object=LABEL`
    /// (PIN from the URI's pin-source=file:PATH, PKI_PKCS11_PIN, or a prompt). The CA directory
    /// records the URI; the key never leaves the token.
    #[arg(long, value_name = "URI", value_parser = pkcs11_uri)]
    pub(crate) key_on: Option<pki_pkcs11::Pkcs11Uri>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) issuer: IssuerOpts,
}

/// `pki create-owner-ca`.
pub(crate) fn owner(ctx: &GlobalContext, a: OwnerCaArgs, out: &Output) -> Result<Outcome> {
    let prefix = CaRole::Root.prefix();
    if let (Some(cert), Some(key)) = (&a.import, &a.key) {
        return import(
            ctx,
            &prefix,
            Profile::RootCa { pathlen: None },
            cert,
            key,
            None,
            &a.password,
            a.key_opts.force,
            out,
        );
    }
    let profile = Profile::RootCa { pathlen: a.pathlen };
    let req = request(profile, Subject::cn(a.cn), &a.key_opts);
    // Checked before the directory is made: a refused request leaves nothing behind.
    req.not_after()?;
    if let Some(uri) = &a.key_on {
        super::hsm::check(ctx, uri)?;
    }
    let ca = super::create_ca(ctx)?;
    issue_with_new_key(
        ctx,
        &ca,
        &prefix,
        req,
        &a.key_opts,
        a.key_on.as_ref(),
        None,
        out,
    )
}

/// `pki create-intermediate-ca`.
pub(crate) fn intermediate(
    ctx: &GlobalContext,
    a: IntermediateCaArgs,
    out: &Output,
) -> Result<Outcome> {
    let ca = super::open_ca(ctx)?;
    let prefix = CaRole::Intermediate.prefix();
    let profile = Profile::IntermediateCa {
        pathlen: Some(a.pathlen),
    };
    let chosen = choose_issuer(ctx, &ca, &a.issuer, profile)?;
    if let (Some(cert), Some(key)) = (&a.import, &a.key) {
        return import(
            ctx,
            &prefix,
            profile,
            cert,
            key,
            Some(&chosen),
            &a.issuer.password,
            a.key_opts.force,
            out,
        );
    }
    let req = request(profile, Subject::cn(a.cn), &a.key_opts);
    issue_with_new_key(
        ctx,
        &ca,
        &prefix,
        req,
        &a.key_opts,
        a.key_on.as_ref(),
        Some(&chosen),
        out,
    )
}

/// `pki create-edge-ca`.
pub(crate) fn edge(ctx: &GlobalContext, a: EdgeCaArgs, out: &Output) -> Result<Outcome> {
    pki_core::validate_device_id(&a.name).context("invalid edge CA name")?;
    let ca = super::open_ca(ctx)?;
    let cn = pki_core::edge_ca_cn(&a.name);
    ca.check_name_free(&cn, Profile::EdgeCa)?;
    let chosen = choose_issuer(ctx, &ca, &a.issuer, Profile::EdgeCa)?;
    let req = request(Profile::EdgeCa, Subject::cn(cn), &a.key_opts);
    if (req.now + time::Duration::days(i64::from(req.days))).year() >= 2050 {
        messages::warning(
            "this edge CA expires in or after 2050, which IoT Edge 1.1 cannot handle",
        );
    }
    let prefix = CaRole::EdgeCa(a.name).prefix();
    issue_with_new_key(
        ctx,
        &ca,
        &prefix,
        req,
        &a.key_opts,
        a.key_on.as_ref(),
        Some(&chosen),
        out,
    )
}

/// Adopts an existing CA: the certificate must be a CA, the key must match it, and an
/// intermediate must be signed by the chosen issuer. The key file is kept as it is (an
/// encrypted key stays encrypted); a key on a token (`--key pkcs11:...`) stays there, and the
/// directory records its URI.
#[allow(clippy::too_many_arguments)]
fn import(
    ctx: &GlobalContext,
    prefix: &str,
    profile: Profile,
    cert_path: &Path,
    key_path: &Path,
    parent: Option<&ChosenIssuer>,
    pw: &PasswordOpts,
    force: bool,
    out: &Output,
) -> Result<Outcome> {
    let certs = read_cert(cert_path)?;
    let token = super::hsm::uri_of(key_path)?;
    let cert = certs[0].clone();
    // An adopted owner CA may come with the chain above it (a corporate PKI); keep it.
    let mut chain = if parent.is_none() {
        certs.clone()
    } else {
        vec![cert.clone()]
    };
    if let Some(parent) = parent {
        let links = pki_core::chain_links(&[cert.clone(), parent.issuer.certificate().clone()]);
        if links[0] != Some(true) {
            bail!(
                "{}: not issued by the {} ({}); import the matching chain or create a new intermediate",
                cert_path.display(),
                parent.label,
                parent.issuer.certificate().subject()
            );
        }
        chain.extend(parent.issuer.chain().iter().cloned());
    }
    // Checks the key against the certificate and that it is a CA.
    let cert_name = cert_path.display().to_string();
    let key_uri = match &token {
        Some(uri) => {
            let key = super::hsm::open_key(ctx, uri)?;
            Issuer::with_signer(chain.clone(), key.clone(), &cert_name, key.uri())?;
            Some(key.uri().to_owned())
        }
        None => {
            let key = read_key(key_path, pw)?;
            Issuer::new(
                chain.clone(),
                &key,
                &cert_name,
                &key_path.display().to_string(),
            )?;
            None
        }
    };
    let issued = Issued::existing(cert, chain);
    // Everything is checked: only now may the directory be created.
    let ca = &super::create_ca(ctx)?;
    CaDir::check_free(
        &[
            &ca.cert_path(prefix),
            &ca.key_path(prefix),
            &ca.key_uri_path(prefix),
        ],
        force,
    )?;
    let key_bytes = match &key_uri {
        Some(_) => zeroize::Zeroizing::new(Vec::new()),
        None => super::read_secret_file(key_path, pki_core::files::Input::Key)
            .with_context(|| format!("cannot read the key {}", key_path.display()))?,
    };
    let stored = match &key_uri {
        Some(uri) => pki_core::StoredKey::Uri(uri),
        None => pki_core::StoredKey::Pem(&key_bytes),
    };
    // The key and the certificate go in together, or neither does.
    let (files, _) = ca.write_issued_with(prefix, &issued, stored, profile, force)?;
    let report = super::IssueReport::new(profile, &issued, "imported", files);
    out.emit(&report, || report.text().replacen("created", "imported", 1))?;
    Ok(Outcome::Success)
}
