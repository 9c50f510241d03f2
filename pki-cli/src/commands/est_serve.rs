//! `pki est serve`: the EST server (RFC 7030) on the CA directory's CAs and register. The
//! flags become pki-est's [`Policy`], [`Limits`] and issuers; the TLS certificate is the one
//! given, or one pki issues itself (kept in the directory as `pki-est-server`, reused while it
//! names the same hosts and is not near its end). stdout is the audit log (JSON Lines, the
//! first line says where it listens); stderr says the same in words.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use pki_core::{CaDir, Certificate, KeyType, PrivateKey, Profile, Request, SanEntry, Subject};
use pki_est::Label;
use pki_est::server::{Audit, Authority, LabelIssuer, Limits, Policy, label_profile};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;

use super::{GlobalContext, choose_issuer};
use crate::args::{BadValue, IssuerOpts, threshold};
use crate::output::{Outcome, Output, escape_line};

use pki_core::EST_SERVER_PREFIX as SERVER_PREFIX;

/// `pki est serve`.
#[derive(Debug, Args)]
pub(crate) struct EstServeArgs {
    /// Where to listen (an address and port; port 0 picks a free one, printed).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub(crate) listen: SocketAddr,
    /// The server's TLS certificate (with its chain); without it pki issues one for --name.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// A host name or address clients reach the server by, for the certificate pki issues
    /// itself (repeatable; default localhost, 127.0.0.1, ::1 and this host's name).
    #[arg(long = "name", value_name = "HOST", conflicts_with = "tls_cert")]
    pub(crate) names: Vec<String>,
    /// The label of requests whose path names none: device, server or edge-ca.
    #[arg(long, value_name = "LABEL", default_value = "device", value_parser = label)]
    pub(crate) label: Label,
    /// Validity in days of what is issued (default: the profile's).
    #[arg(long)]
    pub(crate) days: Option<u32>,
    /// A CA whose certificates may enrol as bootstrap (factory) identities (repeatable).
    #[arg(long = "bootstrap-ca", value_name = "FILE")]
    pub(crate) bootstrap_ca: Vec<PathBuf>,
    /// How long after it expired a certificate may still re-enrol (30d, 12h; default 0).
    #[arg(long, value_name = "TIME", value_parser = duration)]
    pub(crate) reenroll_grace: Option<time::Duration>,
    /// The key types a CSR may have, comma-separated.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "ec-p256,ec-p384,rsa-2048,rsa-3072,rsa-4096",
        value_parser = crate::args::key_type
    )]
    pub(crate) key_types: Vec<KeyType>,
    /// Connections served at once (more wait).
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub(crate) max_connections: usize,
    /// Time allowed for the TLS handshake and a request's head (10s, 500ms).
    #[arg(long, value_name = "TIME", default_value = "10s", value_parser = std_duration)]
    pub(crate) header_timeout: std::time::Duration,
    /// A connection idle this long is closed.
    #[arg(long, value_name = "TIME", default_value = "30s", value_parser = std_duration)]
    pub(crate) idle_timeout: std::time::Duration,
    /// Failed secret attempts per device id or address in 15 minutes before 429.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub(crate) rate_limit: u64,
    #[command(flatten)]
    pub(crate) issuer: IssuerOpts,
}

/// `--label`.
fn label(s: &str) -> Result<Label, BadValue> {
    s.parse().map_err(|e| BadValue(anyhow::Error::new(e)))
}

/// A time such as 30d, 12h or 90m.
fn duration(s: &str) -> Result<time::Duration, BadValue> {
    match threshold("--reenroll-grace", s)? {
        pki_core::Threshold::Remaining(d) if !d.is_negative() => Ok(d),
        _ => Err(BadValue(anyhow::anyhow!(
            "{s:?} is not a time: give one such as 30d, 12h or 90m"
        ))),
    }
}

/// A short time such as 10s, 500ms or 2m.
fn std_duration(s: &str) -> Result<std::time::Duration, BadValue> {
    let bad = || {
        BadValue(anyhow::anyhow!(
            "{s:?} is not a time: give one such as 10s, 500ms or 2m"
        ))
    };
    let (n, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, ""), |i| s.split_at(i));
    let n: u64 = n.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => std::time::Duration::from_millis(n),
        "s" | "" => std::time::Duration::from_secs(n),
        "m" => std::time::Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(bad()),
    };
    if d.is_zero() {
        return Err(bad());
    }
    Ok(d)
}

/// The first line of the audit log.
#[derive(Serialize)]
struct Listening<'a> {
    event: &'static str,
    address: String,
    url: String,
    labels: Vec<&'a str>,
    default_label: &'a str,
}

/// The last line of the audit log.
#[derive(Serialize)]
struct StoppedLine {
    event: &'static str,
    served: u64,
    cut: usize,
}

pub(crate) fn serve(ctx: &GlobalContext, a: EstServeArgs, _out: &Output) -> Result<Outcome> {
    let ca = super::open_ca(ctx)?;
    let mut issuers = Vec::new();
    let mut skipped = Vec::new();
    for label in Label::ALL {
        match choose_issuer(ctx, &ca, &a.issuer, label_profile(label)) {
            Ok(c) => issuers.push((
                label,
                LabelIssuer {
                    issuer: c.issuer,
                    crl_url: c.crl_url,
                },
            )),
            Err(e) => skipped.push(format!("{label}: {e:#}")),
        }
    }
    if !issuers.iter().any(|(l, _)| *l == a.label) {
        bail!(
            "no CA of {} can issue under the default label {}: {}",
            ca.path().display(),
            a.label,
            skipped.join("; ")
        );
    }
    let mut bootstrap = Vec::new();
    for f in &a.bootstrap_ca {
        bootstrap.extend(super::read_cert(f)?);
    }
    let (chain, key) = match (&a.tls_cert, &a.tls_key) {
        (Some(cert), Some(key)) => {
            let chain = super::read_cert(cert)?;
            let key = super::read_key(key, &a.issuer.password)?;
            (chain, key)
        }
        _ => own_certificate(ctx, &ca, &a)?,
    };
    let mut hints = Vec::new();
    for c in ca.ca_certificates().iter().chain(&bootstrap) {
        hints.push(rustls::DistinguishedName::from(
            c.x509().subject().as_raw().to_vec(),
        ));
    }
    let tls = pki_est::server::tls::server_config(
        chain
            .iter()
            .map(|c| CertificateDer::from(c.der().to_vec()))
            .collect(),
        PrivateKeyDer::try_from(key.pkcs8_der().to_vec())
            .map_err(|e| anyhow::anyhow!("the TLS key cannot be used: {e}"))?,
        hints,
    )
    .context("cannot set up TLS")?;
    drop(key);
    let served: Vec<&str> = issuers.iter().map(|(l, _)| l.as_str()).collect();
    let served: Vec<&'static str> = Label::ALL
        .iter()
        .map(|l| l.as_str())
        .filter(|l| served.contains(l))
        .collect();
    let policy = Policy {
        default_label: a.label,
        days: a.days,
        key_types: a.key_types.clone(),
        bootstrap,
        reenroll_grace: a.reenroll_grace.unwrap_or(time::Duration::ZERO),
        rate_limit: a.rate_limit,
        rate_window: time::Duration::minutes(15),
    };
    let authority = Arc::new(Authority::new(ca, issuers, policy));
    let limits = Limits {
        max_connections: a.max_connections,
        header_timeout: a.header_timeout,
        idle_timeout: a.idle_timeout,
        body_timeout: a.header_timeout.max(std::time::Duration::from_secs(10)),
        drain_timeout: std::time::Duration::from_secs(30),
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        // An enrolment's blocking part mostly waits for the register (a SQLite register's
        // turn, its group commit): one thread per connection, so that a commit can gather
        // every connection's enrolment.
        .max_blocking_threads(a.max_connections.max(cores * 4 + 4))
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    let audit = Arc::new(Audit::new(Box::new(std::io::stdout())));
    let stopped = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("cannot listen on {}", a.listen))?;
        let address = listener.local_addr()?;
        let url = format!("https://{address}/.well-known/est");
        audit.write(&Listening {
            event: "listening",
            address: address.to_string(),
            url: url.clone(),
            labels: served.clone(),
            default_label: a.label.as_str(),
        });
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "pki est: serving {url} (labels {}; default {}); SIGTERM or Ctrl-C stops",
            served.join(", "),
            a.label
        );
        for s in &skipped {
            let _ = writeln!(err, "pki est: not serving {}", escape_line(s));
        }
        drop(err);
        let stopped = pki_est::server::serve(
            listener,
            tls,
            authority,
            audit.clone(),
            limits,
            super::now,
            shutdown_signal(),
        )
        .await;
        audit.write(&StoppedLine {
            event: "stopped",
            served: stopped.served,
            cut: stopped.cut,
        });
        anyhow::Ok(stopped)
    })?;
    if stopped.cut > 0 {
        bail!(
            "stopped with {} connections cut after the drain's 30 seconds",
            stopped.cut
        );
    }
    Ok(Outcome::Success)
}

/// SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The names pki's own TLS certificate is for.
fn names(a: &EstServeArgs) -> Result<Vec<SanEntry>> {
    let mut names: Vec<String> = a.names.clone();
    if names.is_empty() {
        names = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            let h = h.trim().to_ascii_lowercase();
            if !h.is_empty() && h != "localhost" && pki_core::is_valid_dns_name(&h) {
                names.push(h);
            }
        }
    }
    match names.split_first() {
        Some((first, rest)) => super::issue::server_sans(first, rest),
        None => bail!("give the server's host name with --name"),
    }
}

/// The server's own TLS certificate: the one kept in the directory when it names the same
/// hosts and has more than a third of its life (and 7 days) left; else a new one, issued by
/// the server profile's CA and recorded, the old one superseded.
fn own_certificate(
    ctx: &GlobalContext,
    ca: &CaDir,
    a: &EstServeArgs,
) -> Result<(Vec<Certificate>, PrivateKey)> {
    let sans = names(a)?;
    let cert_path = ca.cert_path(SERVER_PREFIX);
    let key_path = ca.key_path(SERVER_PREFIX);
    let now = super::now();
    let mut old = None;
    if cert_path.exists() && key_path.exists() {
        let chain = pki_core::read_certs(&ca.full_chain_path(SERVER_PREFIX))
            .or_else(|_| pki_core::read_certs(&cert_path))?;
        if let Some(leaf) = chain.first() {
            let s = pki_core::Summary::of(leaf);
            let life = s.not_after - s.not_before;
            let left = s.not_after - now;
            let same = pki_core::renew::sans_of(leaf).is_ok_and(|have| {
                have.len() == sans.len() && sans.iter().all(|n| have.contains(n))
            });
            if same && left > life / 3 && left > time::Duration::days(7) {
                let key = super::read_key(&key_path, &a.issuer.password)?;
                return Ok((chain, key));
            }
            old = Some(leaf.sha256_hex());
        }
    }
    let chosen = choose_issuer(ctx, ca, &a.issuer, Profile::Server)
        .context("cannot issue the server's own TLS certificate (or give --tls-cert)")?;
    let mut req = Request::new(Profile::Server, Subject::cn(sans[0].value()), now);
    req.sans = sans;
    req.crl_url = chosen.crl_url.clone();
    let key = PrivateKey::generate(KeyType::EcP256)?;
    let issued = pki_core::issue(
        &req,
        &pki_core::SubjectKey::Private(&key),
        Some(&chosen.issuer),
    )?;
    let pem = key.to_pem();
    ca.write_issued(
        SERVER_PREFIX,
        &issued,
        Some(pem.as_bytes()),
        Profile::Server,
        true,
    )?;
    if let Some(old) = old {
        let mut register = ca.register()?;
        let mut tx = register.transaction()?;
        tx.supersede(&old, Some(&issued.certificate.sha256_hex()))?;
        tx.commit()?;
    }
    Ok((issued.chain, key))
}
