//! `pki est enroll` and `pki est reenroll`: the device's side of EST, for devices that have no
//! EST client of their own. The key is made here and never leaves the device; pki-est's client
//! sends its CSR, reads the answer and checks it; only then are the files written, atomically,
//! the key 0600. A re-enrolment renews the files in place as `pki renew` renews a placed
//! certificate: the old ones kept beside, `--exec` run, everything put back if the hook fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use clap::builder::TypedValueParser;
use pki_core::renew::{InPlaceFile, RenewalResult};
use pki_core::{Certificate, KeyType, PrivateKey, SanEntry, Threshold};
use pki_est::{Auth, ClientConfig, Enrolled, Identity, Operation, ServerUrl, Trust};
use zeroize::Zeroizing;

use super::est_report::{Ended, EnrolReport, Files, ReenrolReport, Reenrolled};
use super::{first_line_of, now, read_key};
use crate::args::{PasswordOpts, expires_in, key_type, step_timeout};
use crate::hook::ShellHook;
use crate::output::{Outcome, Output};

/// Where the EST server is and how it is trusted: what both commands share.
#[derive(Debug, Args)]
pub(crate) struct ServerOpts {
    /// The EST server's base URL, such as https://est.example:8443/.well-known/est
    /// (/.well-known/est is added to a URL with no path).
    #[arg(long, value_name = "URL")]
    pub(crate) server: String,
    /// The EST label appended to the URL: the profile pki's server issues (device, server,
    /// edge-ca; default: the server's).
    #[arg(long, value_name = "LABEL")]
    pub(crate) label: Option<String>,
    /// Trust this CA for the server's TLS (for pki's server: the CA directory's root
    /// certificate) instead of the operating system's store.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Seconds each request to the server may take.
    #[arg(long, default_value = "30", value_name = "SECONDS", value_parser = step_timeout)]
    pub(crate) timeout: Duration,
}

/// `--exec` and its timeout, as `pki renew` takes them.
#[derive(Debug, Args)]
pub(crate) struct HookOpts {
    /// Run this command (through sh -c) once the new files are in place: reload the service
    /// that uses them.
    #[arg(long, value_name = "CMD")]
    pub(crate) exec: Option<String>,
    /// Seconds the hook may run before it is killed (and fails).
    #[arg(long, default_value = "60", value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=3600).map(Duration::from_secs))]
    pub(crate) exec_timeout: Duration,
}

impl HookOpts {
    fn hook(&self) -> Option<ShellHook> {
        self.exec.as_ref().map(|c| ShellHook {
            command: c.clone(),
            timeout: self.exec_timeout,
        })
    }
}

/// `pki est enroll`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("credentials").required(true).args(["secret_file", "cert"])))]
#[command(after_long_help = concat!(
    "Makes a key here (it never leaves the device), sends its certificate signing request (CN =\n",
    "ID, and the --san names) to the EST server's /simpleenroll, and writes the certificate,\n",
    "the key (0600) and, with --out-chain, the certificate followed by the server's CA\n",
    "certificates (/cacerts). What the server answers is checked first: a certificate for this\n",
    "key and this ID, signed by one of the server's CAs; nothing is written otherwise, and\n",
    "nothing is ever overwritten without --force.\n\n",
    "The device proves who it is with a one-time enrolment secret (HTTP Basic ID:SECRET; the\n",
    "operator makes it with `pki est secret ID` on the CA and it works once), read from\n",
    "--secret-file and never from the command line or the environment; or with a bootstrap\n",
    "(factory) certificate over mutual TLS, --cert and --key, from a CA the server accepts\n",
    "(`pki est serve --bootstrap-ca`). --exec runs after the files are written; if it fails,\n",
    "the files stay (the secret is spent) and pki exits 1.\n\n",
    "EXAMPLES:\n",
    "  pki est enroll dev-42 --server https://est.example:8443 --ca-file root.cert.pem \\\n",
    "      --secret-file /run/secrets/est --out-cert /etc/dev/cert.pem --out-key /etc/dev/key.pem\n",
    "  pki est enroll gw-3 --server https://est.example:8443 --label server --san gw-3.local \\\n",
    "      --cert /factory/boot.pem --key /factory/boot.key --out-cert gw.pem --out-key gw.key \\\n",
    "      --out-chain gw-full-chain.pem --exec 'systemctl reload mosquitto'\n\n",
    "EXIT CODES:\n  0  enrolled, the files written\n",
    "  1  enrolled and written, but the --exec hook failed\n",
    "  2  could not run: the server unreachable or untrusted, the secret refused (401), the\n",
    "     request refused (403, 400, 429), an answer that is not a certificate for this key:\n",
    "     nothing written"))]
pub(crate) struct EnrollArgs {
    /// The device id: the certificate's common name, and HTTP Basic's user with --secret-file.
    #[arg(value_name = "ID")]
    pub(crate) id: String,
    #[command(flatten)]
    pub(crate) server: ServerOpts,
    /// Read the one-time enrolment secret from this file (its first line).
    #[arg(long, value_name = "FILE")]
    pub(crate) secret_file: Option<PathBuf>,
    /// Enrol with this bootstrap certificate over mutual TLS (a PEM file, with its chain after
    /// it when it holds one).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub(crate) cert: Option<PathBuf>,
    /// The key of --cert (encrypted: --key-password-file or PKI_KEY_PASSWORD).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub(crate) key: Option<PathBuf>,
    /// Type of the new key: ec-p256, ec-p384, ed25519, rsa-2048, rsa-3072 or rsa-4096 (the
    /// server must accept it).
    #[arg(long, default_value = "ec-p256", value_name = "TYPE", value_parser = key_type)]
    pub(crate) key_type: KeyType,
    /// A subject alternative name to ask for (a DNS name or an IP address); repeatable.
    #[arg(long = "san", value_name = "NAME", value_parser = san)]
    pub(crate) sans: Vec<SanEntry>,
    /// Write the certificate here.
    #[arg(long, value_name = "FILE")]
    pub(crate) out_cert: PathBuf,
    /// Write the new private key here (0600).
    #[arg(long, value_name = "FILE")]
    pub(crate) out_key: PathBuf,
    /// Write the certificate and the server's CA certificates here, in chain order.
    #[arg(long, value_name = "FILE")]
    pub(crate) out_chain: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) hook: HookOpts,
    /// Overwrite existing files.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// `pki est reenroll`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "Renews the certificate --cert over mutual TLS with itself (RFC 7030 /simplereenroll): the\n",
    "same common name and SANs, a fresh key of the same type (--reuse-key keeps the key). The\n",
    "new files replace the old ones in place, with their mode and owner; the old ones are kept\n",
    "beside them as NAME.OLDSERIAL.EXT (as `pki renew` keeps a placed certificate). A --cert\n",
    "file that holds a chain gets the new chain; --out-chain writes (and keeps) one more.\n",
    "--exec CMD runs once the new files are in place; if it fails, every file is put back as it\n",
    "was, the hook runs again, and pki exits 1 saying so. The server has then already replaced\n",
    "the old certificate in its register: the new certificate and key are kept beside the old\n",
    "ones as NAME.NEWSERIAL.EXT, to move in place once the hook is fixed.\n\n",
    "With --expires-in, nothing is done until the certificate is due (as `pki needs-renewal`\n",
    "judges it): a timer can run it often (docs/systemd/pki-est-reenroll@.timer).\n\n",
    "EXAMPLES:\n",
    "  pki est reenroll --server https://est.example:8443 --ca-file root.cert.pem \\\n",
    "      --cert /etc/dev/cert.pem --key /etc/dev/key.pem --expires-in 66% \\\n",
    "      --exec 'systemctl restart my-agent'\n",
    "  pki est reenroll --server https://est.example:8443/.well-known/est --label server \\\n",
    "      --cert gw.pem --key gw.key --reuse-key --out-chain gw-full-chain.pem --json\n\n",
    "EXIT CODES:\n  0  re-enrolled, or not due yet (--expires-in)\n",
    "  1  rolled back: the --exec hook failed, the old files are back\n",
    "  2  could not run: the server unreachable or untrusted, the certificate refused (401,\n",
    "     403: revoked, superseded, expired), an answer that is not a certificate for this key,\n",
    "     a kept file's name taken (--force): nothing changed"))]
pub(crate) struct ReenrollArgs {
    #[command(flatten)]
    pub(crate) server: ServerOpts,
    /// The current certificate: presented to the server, and renewed in place (a PEM file; a
    /// chain after it is renewed too).
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: PathBuf,
    /// Its key (encrypted: --key-password-file or PKI_KEY_PASSWORD); replaced by the fresh key.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// Keep the key instead of making a fresh one.
    #[arg(long)]
    pub(crate) reuse_key: bool,
    /// Re-enrol only when this much time is left (30d, 12h) or this share of the lifetime has
    /// passed (66%); before that, do nothing and exit 0.
    #[arg(long, value_name = "TIME|PERCENT", value_parser = expires_in)]
    pub(crate) expires_in: Option<Threshold>,
    /// Also write the certificate and the server's CA certificates here, in chain order.
    #[arg(long, value_name = "FILE")]
    pub(crate) out_chain: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) hook: HookOpts,
    /// Replace kept files of the same name.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// `--san`: a DNS name or an IP address.
fn san(s: &str) -> Result<SanEntry, crate::args::BadValue> {
    s.parse()
        .map_err(|e: pki_core::Error| crate::args::BadValue(anyhow::anyhow!("--san {s:?}: {e}")))
}

/// `pki est enroll`.
pub(crate) fn enroll(a: EnrollArgs, out: &Output) -> Result<Outcome> {
    pki_core::validate_device_id(&a.id)?;
    let mut targets = vec![&a.out_cert, &a.out_key];
    targets.extend(a.out_chain.as_ref());
    distinct(&targets)?;
    // Before the server is asked: a secret is spent once the server answers.
    pki_core::CaDir::check_free(
        &targets.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
        a.force,
    )?;
    let url = server_url(&a.server)?;
    let trust = trust(a.server.ca_file.as_deref())?;
    let secret = match &a.secret_file {
        Some(file) => Some(secret(file)?),
        None => None,
    };
    let bootstrap = match (&a.cert, &a.key) {
        (Some(cert), Some(key)) => Some(client_identity(cert, key, &a.password)?),
        // clap: --secret-file, or --cert with --key.
        _ => None,
    };
    let auth = match (&secret, &bootstrap) {
        (Some(secret), _) => Auth::Secret {
            device_id: &a.id,
            secret,
        },
        (None, Some((chain, key))) => Auth::Certificate { chain, key },
        (None, None) => bail!("give --secret-file FILE, or --cert FILE and --key FILE"),
    };
    let kind = auth.kind();
    let client = client(
        url,
        trust,
        auth,
        a.server.timeout,
        a.server.ca_file.as_deref(),
    )?;
    let key = PrivateKey::generate(a.key_type)?;
    let identity = Identity {
        common_name: a.id.clone(),
        sans: a.sans.clone(),
    };
    let enrolled = pki_est::enrol(&client, Operation::SimpleEnroll, &key, &identity)
        .map_err(|e| crate::hints::est(e, a.server.ca_file.as_deref()))?;
    let key_pem = key.to_pem();
    let cert_pem = enrolled.certificate.to_pem();
    let chain_pem = pki_core::pem_bundle(&enrolled.chain);
    for (p, mode) in [
        (&a.out_cert, 0o755),
        (&a.out_key, 0o700),
        (a.out_chain.as_ref().unwrap_or(&a.out_cert), 0o755),
    ] {
        if let Some(parent) = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty() && !d.exists())
        {
            pki_core::files::create_dir_all(parent, mode)
                .with_context(|| format!("cannot create the directory {}", parent.display()))?;
        }
    }
    let mut set: Vec<(&Path, &[u8], u32)> = vec![
        (&a.out_key, key_pem.as_bytes(), 0o600),
        (&a.out_cert, cert_pem.as_bytes(), 0o644),
    ];
    if let Some(chain) = &a.out_chain {
        set.push((chain, chain_pem.as_bytes(), 0o644));
    }
    pki_core::write_files(&set, a.force)?;
    let hook = a.hook.hook().map(|h| {
        use pki_core::renew::{Hook, HookCall, HookPhase};
        let serial = pki_core::Facts::of(&enrolled.certificate).serial;
        h.run(&HookCall {
            phase: HookPhase::Renew,
            cert: &a.out_cert,
            old_serial: "",
            new_serial: &serial,
        })
    });
    let report = EnrolReport::new(
        &a.id,
        &client,
        kind,
        &enrolled,
        a.key_type,
        Files {
            cert: a.out_cert.clone(),
            key: Some(a.out_key.clone()),
            chain: a.out_chain.clone(),
        },
        hook,
    );
    out.emit(&report, || report.text())?;
    Ok(if report.hook.as_ref().is_none_or(|h| h.ok) {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// `pki est reenroll`.
pub(crate) fn reenroll(a: ReenrollArgs, out: &Output) -> Result<Outcome> {
    let mut targets = vec![&a.cert, &a.key];
    targets.extend(a.out_chain.as_ref());
    distinct(&targets)?;
    let (chain, key) = client_identity(&a.cert, &a.key, &a.password)?;
    let current = chain[0].clone();
    let now = now();
    if let Some(threshold) = a.expires_in {
        let s = pki_core::Summary::of(&current);
        let check = pki_core::check_renewal(s.not_before, s.not_after, threshold, now);
        if !check.needs_renewal {
            let report = ReenrolReport::not_due(&a.cert, &current, threshold, &check);
            out.emit(&report, || report.text())?;
            return Ok(Outcome::Success);
        }
    }
    let identity = Identity::of(&current).map_err(|e| crate::hints::est(e, None))?;
    let old_serial = pki_core::Facts::of(&current).serial;
    // The names the replaced files are kept under, free before the server is asked (it
    // replaces the old certificate in its register when it answers).
    let mut renewed: Vec<&Path> = vec![&a.cert];
    if !a.reuse_key {
        renewed.push(&a.key);
    }
    renewed.extend(a.out_chain.as_deref());
    let kept: Vec<PathBuf> = renewed
        .iter()
        .filter(|p| p.exists())
        .map(|p| pki_core::renew::kept_beside(p, &old_serial))
        .collect();
    pki_core::CaDir::check_free(
        &kept.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
        a.force,
    )?;
    let url = server_url(&a.server)?;
    let trust = trust(a.server.ca_file.as_deref())?;
    let auth = Auth::Certificate {
        chain: &chain,
        key: &key,
    };
    let client = client(
        url,
        trust,
        auth,
        a.server.timeout,
        a.server.ca_file.as_deref(),
    )?;
    let fresh = if a.reuse_key {
        None
    } else {
        Some(PrivateKey::generate(key.key_type())?)
    };
    let new_key = fresh.as_ref().unwrap_or(&key);
    let enrolled = pki_est::enrol(&client, Operation::SimpleReenroll, new_key, &identity)
        .map_err(|e| crate::hints::est(e, a.server.ca_file.as_deref()))?;
    let done = put_in_place(&a, &chain, fresh.as_ref(), &enrolled, &old_serial)?;
    let report = ReenrolReport::done(&client, &current, &enrolled, fresh.is_some(), done);
    for p in &report.not_restored {
        crate::messages::warning(&format!(
            "{} is not as it was before the re-enrolment (missing or changed since the rollback, by the hook?): restore it now",
            p.display()
        ));
    }
    out.emit(&report, || report.text())?;
    Ok(match report.result {
        Ended::RolledBack => Outcome::Negative,
        Ended::Reenrolled | Ended::NotDue => Outcome::Success,
    })
}

/// The transaction of a re-enrolment: the new files in place (a --cert file that held a chain
/// gets the new chain), the old ones kept, the hook; after a rollback, the new certificate and
/// key set aside under the new serial.
fn put_in_place(
    a: &ReenrollArgs,
    old_chain: &[Certificate],
    fresh: Option<&PrivateKey>,
    enrolled: &Enrolled,
    old_serial: &str,
) -> Result<Reenrolled> {
    let new_serial = pki_core::Facts::of(&enrolled.certificate).serial;
    let cert_pem = if old_chain.len() > 1 {
        pki_core::pem_bundle(&enrolled.chain)
    } else {
        enrolled.certificate.to_pem()
    };
    let chain_pem = pki_core::pem_bundle(&enrolled.chain);
    let key_pem = fresh.map(PrivateKey::to_pem);
    let mut set = vec![InPlaceFile {
        path: &a.cert,
        data: cert_pem.as_bytes(),
        key: false,
    }];
    if let Some(pem) = &key_pem {
        set.push(InPlaceFile {
            path: &a.key,
            data: pem.as_bytes(),
            key: true,
        });
    }
    if let Some(chain) = &a.out_chain {
        set.push(InPlaceFile {
            path: chain,
            data: chain_pem.as_bytes(),
            key: false,
        });
    }
    let hook = a.hook.hook();
    let done = pki_core::renew::renew_in_place(
        &set,
        old_serial,
        &new_serial,
        hook.as_ref().map(|h| h as &dyn pki_core::renew::Hook),
        a.force,
    )?;
    let mut set_aside = None;
    if done.result == RenewalResult::RolledBack {
        // Beside the old files, with the mode a new file of its kind gets.
        let cert = pki_core::renew::kept_beside(&a.cert, &new_serial);
        let key = key_pem
            .as_ref()
            .map(|_| pki_core::renew::kept_beside(&a.key, &new_serial));
        let mut files: Vec<(&Path, &[u8], u32)> = vec![(&cert, cert_pem.as_bytes(), 0o644)];
        if let (Some(k), Some(pem)) = (&key, &key_pem) {
            files.push((k, pem.as_bytes(), 0o600));
        }
        set_aside = Some(match pki_core::write_files(&files, false) {
            Ok(()) => Ok(Files {
                cert,
                key,
                chain: None,
            }),
            Err(e) => Err(crate::hints::error_line(&e.into())),
        });
    }
    Ok(Reenrolled { done, set_aside })
}

/// The files named are distinct.
fn distinct(paths: &[&PathBuf]) -> Result<()> {
    let abs: Vec<PathBuf> = paths
        .iter()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
        .collect();
    for (i, p) in abs.iter().enumerate() {
        if abs[..i].contains(p) {
            bail!(
                "{} is named twice: the certificate, the key and the chain need a file each",
                p.display()
            );
        }
    }
    Ok(())
}

/// The server's URL, with the label.
fn server_url(s: &ServerOpts) -> Result<ServerUrl> {
    ServerUrl::parse(&s.server, s.label.as_deref()).map_err(|e| crate::hints::est(e, None))
}

/// The one-time secret: the first line of its file, wiped from memory when dropped.
fn secret(file: &Path) -> Result<Zeroizing<String>> {
    let first = first_line_of(file, "secret file")?;
    let trimmed = Zeroizing::new(first.trim().to_owned());
    if trimmed.is_empty() {
        bail!(
            "the secret file {} is empty: write the secret `pki est secret` printed in it",
            file.display()
        );
    }
    Ok(trimmed)
}

/// A client certificate (with the chain its file holds) and its key, checked to belong
/// together.
fn client_identity(
    cert: &Path,
    key: &Path,
    pw: &PasswordOpts,
) -> Result<(Vec<Certificate>, PrivateKey)> {
    let chain = pki_core::read_certs(cert)?;
    let key_read = read_key(key, pw)?;
    if key_read.public_key_raw()? != chain[0].public_key_raw() {
        return Err(pki_core::Error::KeyMismatch {
            key: key.display().to_string(),
            cert: cert.display().to_string(),
        }
        .into());
    }
    Ok((chain, key_read))
}

/// The certificates the server's TLS must chain to: `--ca-file` only, or the OS store
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
        bail!("{}", crate::hints::no_os_roots(&why));
    }
    Ok(Trust::System(
        found
            .certs
            .into_iter()
            .map(|c| c.as_ref().to_vec())
            .collect(),
    ))
}

/// The client, set up.
fn client(
    url: ServerUrl,
    trust: Trust,
    auth: Auth<'_>,
    timeout: Duration,
    ca_file: Option<&Path>,
) -> Result<pki_est::Client> {
    pki_est::Client::new(ClientConfig {
        url,
        trust,
        auth,
        timeout,
        env_proxies: true,
    })
    .map_err(|e| crate::hints::est(e, ca_file))
}
