//! `pki est ...`: EST enrolment (RFC 7030). The operator's side: `pki est secret DEVICE_ID`
//! makes a one-time enrolment secret in the register and prints it, once: the register keeps
//! only its salted hash, and the EST server accepts it once, whichever server sharing the
//! register the device reaches. The device's side, `pki est enroll` and `pki est reenroll`, is
//! in `est_client.rs`.

use anyhow::Result;
use clap::{Args, Subcommand};
use pki_core::register::SecretInfo;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use super::GlobalContext;
use super::est_client::{self, EnrollArgs, ReenrollArgs};
use crate::args::{BadValue, threshold};
use crate::output::{Outcome, Output, escape_line, fields};
use pki_core::Threshold;

/// `pki est ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum EstCommand {
    /// Make a one-time enrolment secret for a device and print it, once.
    #[command(after_long_help = concat!(
        "The device enrols over EST with HTTP Basic DEVICE_ID:SECRET (as tedge and Cumulocity's\n",
        "CA do), once, before the secret expires. The register keeps a salted hash of the secret,\n",
        "never the secret: it is printed here and nowhere else. Any number of secrets may be\n",
        "made for one device; each works once.\n\n",
        "EXAMPLES:\n",
        "  pki est secret line-7-dev-42\n",
        "  pki est secret gw-3 --label edge-ca --ttl 7d\n",
        "  pki --register postgres://pki@db.example/pki est secret dev-1 --json | jq -r .secret\n\n",
        "EXIT CODES:\n  0  made and printed\n  2  could not run (a device id HTTP Basic cannot carry, an unreachable register)"))]
    Secret(EstSecretArgs),
    /// Serve EST (RFC 7030) on this directory's CAs and register.
    #[command(after_long_help = concat!(
        "Serves /.well-known/est[/LABEL]/{cacerts,simpleenroll,simplereenroll,csrattrs}. A device\n",
        "enrols with HTTP Basic DEVICE_ID:SECRET (pki est secret), a bootstrap certificate\n",
        "(--bootstrap-ca), or re-enrols over mutual TLS with the certificate it has. stdout is the\n",
        "audit log (JSON Lines: the first line says where it listens, then one line per request).\n",
        "SIGTERM or Ctrl-C stops accepting, lets requests in flight finish, and exits.\n\n",
        "EXAMPLES:\n",
        "  pki est serve --listen 0.0.0.0:8443 --name est.contoso.com\n",
        "  pki est serve --label edge-ca --bootstrap-ca factory-ca.pem --reenroll-grace 30d\n",
        "  pki --register postgres://pki@db/pki est serve --tls-cert est.pem --tls-key est.key\n\n",
        "EXIT CODES:\n  0  stopped by a signal, every request answered\n  2  could not run (no CA to issue, the address in use, a bad TLS certificate)"))]
    Serve(Box<super::est_serve::EstServeArgs>),
    /// Enrol this device with an EST server: a key made here, the certificate the server issues.
    Enroll(EnrollArgs),
    /// Renew this device's certificate with the EST server that issued it, in place.
    Reenroll(ReenrollArgs),
}

/// `pki est secret`.
#[derive(Debug, Args)]
pub(crate) struct EstSecretArgs {
    /// The device id: the HTTP Basic user the device enrols as, and the CN it may ask for.
    #[arg(value_name = "DEVICE_ID")]
    pub(crate) device_id: String,
    /// The EST label (profile) the device enrols under: device, server, edge-ca (the
    /// server's default label when absent).
    #[arg(long, value_name = "LABEL")]
    pub(crate) label: Option<String>,
    /// How long the secret is accepted (24h, 7d, 90m).
    #[arg(long, value_name = "TIME", default_value = "24h", value_parser = ttl)]
    pub(crate) ttl: time::Duration,
}

/// `--ttl`: a time such as 24h or 7d.
fn ttl(s: &str) -> Result<time::Duration, BadValue> {
    match threshold("--ttl", s)? {
        Threshold::Remaining(d) if d.is_positive() => Ok(d),
        _ => Err(BadValue(anyhow::anyhow!(
            "--ttl {s:?}: give how long the secret is accepted, such as 24h, 7d or 90m"
        ))),
    }
}

/// What `pki est secret` prints: the secret (once) and the register's row.
#[derive(Serialize)]
struct Made<'a> {
    secret: &'a str,
    #[serde(flatten)]
    info: &'a SecretInfo,
}

pub(crate) fn run(ctx: &GlobalContext, c: EstCommand, out: &Output) -> Result<Outcome> {
    match c {
        EstCommand::Secret(a) => secret(ctx, a, out),
        EstCommand::Serve(a) => super::est_serve::serve(ctx, *a, out),
        EstCommand::Enroll(a) => est_client::enroll(a, out),
        EstCommand::Reenroll(a) => est_client::reenroll(a, out),
    }
}

fn secret(ctx: &GlobalContext, a: EstSecretArgs, out: &Output) -> Result<Outcome> {
    let ca = super::open_ca(ctx)?;
    let mut register = ca.register()?;
    // The register's error names the device and what is wrong with it.
    let made = register.create_secret(&a.device_id, a.label.as_deref(), a.ttl, super::now())?;
    let info = made.info();
    let expires = info
        .expires_at
        .format(&Rfc3339)
        .unwrap_or_else(|_| info.expires_at.to_string());
    out.emit(
        &Made {
            secret: made.expose(),
            info,
        },
        || {
            fields(&[
                ("secret", made.expose().to_owned()),
                ("device id", escape_line(&info.device_id).into_owned()),
                (
                    "label",
                    info.label
                        .as_deref()
                        .map_or("(the server's default)".into(), |l| {
                            escape_line(l).into_owned()
                        }),
                ),
                ("expires", expires.clone()),
                (
                    "note",
                    "shown once: the register keeps only its hash; the device enrols once with \
                     HTTP Basic DEVICE_ID:SECRET"
                        .into(),
                ),
            ])
        },
    )?;
    Ok(Outcome::Success)
}
