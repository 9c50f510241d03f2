//! `pki verify`: will a downstream device accept this gateway? Online (HOST:PORT) it probes the
//! gateway step by step and judges the chain it sent as OpenSSL and rustls clients do; offline
//! (--chain) it judges files as `openssl verify` does. Both diagnose in plain words.

use crate::args::ClientCertOpts;
use crate::args::PasswordOpts;
use crate::args::instant;
use crate::args::step_timeout;
use crate::env;
use clap::Args;
use clap::ValueEnum;
use std::path::PathBuf;
use std::time::Duration;
use time::OffsetDateTime;

use anyhow::{Result, bail};
use pki_verify::{
    CheckStatus, Client, ConnectionString, CrlScope, FilesRequest, GatewayReport, GatewayRequest,
    Mode, NameToCheck, Purpose, Revocation, RevocationReport, WebpkiVerdict,
};
use time::format_description::well_known::Rfc3339;

use super::{GlobalContext, client_cert, instant_or_now, now};
use crate::output::{Outcome, Output, escape_line};

/// Which clients' verdict decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ClientKind {
    /// Devices built on OpenSSL (Azure C SDK, Python, mosquitto clients).
    Openssl,
    /// Rust clients on rustls/webpki (thin-edge).
    Rustls,
    /// Both must accept.
    Both,
}

/// The purpose a certificate is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PurposeArg {
    /// TLS server (`-purpose sslserver`).
    Server,
    /// TLS client (`-purpose sslclient`).
    Client,
    /// Any purpose.
    Any,
}

/// `pki verify`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "Online, it resolves the name, connects, handshakes (SNI = HOST), records exactly the chain the\n",
    "server sent, and judges it twice: as OpenSSL-based devices do (the same code and depth as\n",
    "`openssl s_client -verify_return_error -verify_hostname HOST`), and as rustls clients do. It checks\n",
    "the name, the clock, whether the server demands a client certificate, and a connection string's\n",
    "GatewayHostName, and says in plain words what to change. Offline (--chain), it gives the verdicts\n",
    "of `openssl verify` for files.\n\n",
    "EXAMPLES:\n",
    "  pki verify gw.contoso.com:8883 --ca-file pki/certs/azure-iot-test-only.root.ca.cert.pem\n",
    "  pki verify 10.0.0.4:8883 --servername gw.contoso.com --os-store --showcerts\n",
    "  pki verify gw.contoso.com:8883 --ca-file root.pem \\\n",
    "      --connection-string 'HostName=hub.azure-devices.net;DeviceId=d1;x509=true;GatewayHostName=gw.contoso.com' \\\n",
    "      --cert pki/certs/iot-device-d1-full-chain.cert.pem --key pki/private/iot-device-d1.key.pem\n",
    "  pki verify --chain leaf.pem --untrusted chain.pem --ca-file root.pem --purpose server --hostname gw\n",
    "  pki verify --chain leaf.pem --untrusted chain.pem --ca-file root.pem --crl intermediate.crl.pem\n",
    "  pki verify gw.contoso.com:8883 --ca-file root.pem --crl all.crl.pem --crl-check-all\n\n",
    "EXIT CODES:\n  0  the device would accept the gateway (verified OK)\n  1  it would not\n",
    "  2  the check could not run (bad input, name does not resolve, connection refused, timeout)"))]
pub(crate) struct VerifyArgs {
    /// The gateway, HOST:PORT (the port defaults to 8883, MQTTS).
    #[arg(required_unless_present = "chain", conflicts_with = "chain")]
    pub(crate) target: Option<String>,
    /// Offline: the leaf certificate file (a bundle's first certificate; the rest count as untrusted).
    #[arg(long, value_name = "LEAF", conflicts_with = "cert")]
    pub(crate) chain: Option<PathBuf>,
    /// Offline: untrusted intermediates.
    #[arg(long, value_name = "FILE", requires = "chain")]
    pub(crate) untrusted: Vec<PathBuf>,
    /// Trust anchors (PEM files, bundles allowed); repeatable.
    #[arg(long = "ca-file", value_name = "FILE")]
    pub(crate) ca_files: Vec<PathBuf>,
    /// Trust the operating system's store (honours SSL_CERT_FILE and SSL_CERT_DIR).
    #[arg(long, conflicts_with = "ca_files")]
    pub(crate) os_store: bool,
    /// Check the leaf for this purpose (online: server).
    #[arg(long, value_enum)]
    pub(crate) purpose: Option<PurposeArg>,
    /// Offline: check the leaf for this host name or IP.
    #[arg(long, requires = "chain")]
    pub(crate) hostname: Option<String>,
    /// Online: the SNI to send and the name to check (default: HOST).
    #[arg(long, conflicts_with = "chain")]
    pub(crate) servername: Option<String>,
    /// Online: offer these ALPN protocols.
    #[arg(long, conflicts_with = "chain")]
    pub(crate) alpn: Vec<String>,
    #[command(flatten)]
    pub(crate) client_cert: ClientCertOpts,
    /// Check a device's connection string: its GatewayHostName must be the host verified, and
    /// named by the certificate. The key in it is never printed.
    #[arg(
        long,
        env = env::IOTHUB_DEVICE_CONNECTION_STRING,
        hide_env_values = true,
        value_name = "STRING"
    )]
    pub(crate) connection_string: Option<String>,
    /// Print the chain as `openssl s_client -showcerts` does.
    #[arg(long)]
    pub(crate) showcerts: bool,
    /// Judge validity at this instant (RFC 3339, or a date: its midnight UTC) instead of now.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub(crate) at: Option<OffsetDateTime>,
    /// Seconds each network step may take.
    #[arg(long, default_value = "5", value_name = "SECONDS", value_parser = step_timeout)]
    pub(crate) timeout: Duration,
    /// Whose verdict decides the exit code.
    #[arg(long, value_enum, default_value = "both")]
    pub(crate) client: ClientKind,
    /// OpenSSL security level. Online the default is 2, what Debian's, Ubuntu's and RHEL's
    /// OpenSSL use (no SHA-1, no RSA below 2048 bits, no EC below 224 bits); 1 is upstream
    /// OpenSSL's (Yocto, Buildroot); offline the default is 0, as `openssl verify`.
    #[arg(long, value_name = "N")]
    pub(crate) auth_level: Option<u8>,
    /// Check revocation against the CRLs of this file (PEM, several CRLs allowed, or DER);
    /// repeatable. OpenSSL's verdict is then that of `-crl_check` (the leaf only), rustls' that
    /// of a client given the same CRLs.
    #[arg(long = "crl", value_name = "FILE")]
    pub(crate) crls: Vec<PathBuf>,
    /// With --crl: check every certificate of the chain (OpenSSL's `-crl_check_all`), not only
    /// the leaf.
    #[arg(long, requires = "crls")]
    pub(crate) crl_check_all: bool,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// The report, and how to render it.
struct Shown {
    report: GatewayReport,
    showcerts: bool,
}

fn tag(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Ok => "[ok]  ",
        CheckStatus::Warn => "[warn]",
        CheckStatus::Fail => "[FAIL]",
        CheckStatus::Skip => "[skip]",
    }
}

/// `pki verify`.
pub(crate) fn run(ctx: &GlobalContext, a: VerifyArgs, out: &Output) -> Result<Outcome> {
    let at = instant_or_now(a.at);
    let (anchors, anchors_label) = trust_anchors(&a.ca_files)?;
    let connection_string = match &a.connection_string {
        Some(s) => Some(
            s.parse::<ConnectionString>()
                .map_err(|e| anyhow::anyhow!("the connection string is malformed: {e}"))?,
        ),
        None => None,
    };
    let report = match &a.target {
        Some(target) => online(
            ctx,
            &a,
            target,
            at,
            anchors,
            anchors_label,
            connection_string,
        )?,
        None => offline(&a, at, anchors, anchors_label)?,
    };
    let accepted = report.accepted;
    let shown = Shown {
        report,
        showcerts: a.showcerts,
    };
    out.emit(&shown.report, || text(&shown))?;
    Ok(if accepted {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// The trust anchors of `--ca-file` (every certificate of every file), else of the operating
/// system's store, and where they came from.
pub(crate) fn trust_anchors(ca_files: &[PathBuf]) -> Result<(Vec<Vec<u8>>, String)> {
    if !ca_files.is_empty() {
        let mut ders = Vec::new();
        for f in ca_files {
            ders.extend(pki_core::read_certs(f)?.iter().map(|c| c.der().to_vec()));
        }
        let names = ca_files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return Ok((ders, names));
    }
    // --os-store, and the default: what the system's TLS clients trust.
    let loaded = rustls_native_certs::load_native_certs();
    if loaded.certs.is_empty() {
        let why = loaded
            .errors
            .first()
            .map(ToString::to_string)
            .unwrap_or_else(|| "no certificates".into());
        bail!("the operating system's trust store could not be read ({why}); give --ca-file");
    }
    let n = loaded.certs.len();
    let source = match (
        std::env::var_os(env::system::SSL_CERT_FILE),
        std::env::var_os(env::system::SSL_CERT_DIR),
    ) {
        (Some(f), _) => format!(
            "the OS store ({n} certificates, SSL_CERT_FILE={})",
            f.to_string_lossy()
        ),
        (None, Some(d)) => format!(
            "the OS store ({n} certificates, SSL_CERT_DIR={})",
            d.to_string_lossy()
        ),
        _ => format!("the OS store ({n} certificates)"),
    };
    Ok((
        loaded
            .certs
            .into_iter()
            .map(|c| c.as_ref().to_vec())
            .collect(),
        source,
    ))
}

/// Splits HOST[:PORT] (IPv6 as [addr]:port or bare).
pub(crate) fn split_target(t: &str) -> Result<(String, u16)> {
    pki_verify::split_host_port(t, pki_verify::DEFAULT_PORT).ok_or_else(|| {
        anyhow::anyhow!(
            "{t:?} is not HOST:PORT (for example gw.contoso.com:8883 or [fd00::4]:8883)"
        )
    })
}

fn client(c: ClientKind) -> Client {
    match c {
        ClientKind::Openssl => Client::Openssl,
        ClientKind::Rustls => Client::Rustls,
        ClientKind::Both => Client::Both,
    }
}

fn online(
    ctx: &GlobalContext,
    a: &VerifyArgs,
    target: &str,
    at: time::OffsetDateTime,
    anchors: Vec<Vec<u8>>,
    anchors_label: String,
    connection_string: Option<ConnectionString>,
) -> Result<GatewayReport> {
    let (host, port) = split_target(target)?;
    let client_auth = client_cert::from_flags(ctx, &a.client_cert, &a.password)?;
    let req = GatewayRequest {
        host,
        port,
        servername: a.servername.clone(),
        expected_name: None,
        alpn: a.alpn.clone(),
        client_auth,
        timeout: a.timeout,
        anchors,
        anchors_label,
        at,
        auth_level: a.auth_level,
        purpose: a.purpose.map(purpose),
        client: client(a.client),
        connection_string,
        revocation: revocation(a)?,
    };
    match pki_verify::check_gateway(&req) {
        Ok(r) => Ok(r),
        Err(e @ pki_verify::Error::Probe(_)) => {
            Err(anyhow::Error::new(e).context(format!("cannot verify {target}")))
        }
        Err(e) => Err(e.into()),
    }
}

fn offline(
    a: &VerifyArgs,
    at: time::OffsetDateTime,
    anchors: Vec<Vec<u8>>,
    anchors_label: String,
) -> Result<GatewayReport> {
    let Some(leaf_path) = &a.chain else {
        bail!("give HOST:PORT or --chain LEAF")
    };
    let mut certs: Vec<Vec<u8>> = pki_core::read_certs(leaf_path)?
        .iter()
        .map(|c| c.der().to_vec())
        .collect();
    for f in &a.untrusted {
        certs.extend(pki_core::read_certs(f)?.iter().map(|c| c.der().to_vec()));
    }
    Ok(pki_verify::check_files(&FilesRequest {
        target: leaf_path.display().to_string(),
        chain: certs,
        anchors,
        anchors_label,
        at,
        auth_level: a.auth_level.unwrap_or(0),
        purpose: a.purpose.map(purpose),
        hostname: a.hostname.as_deref().map(NameToCheck::parse),
        client: client(a.client),
        revocation: revocation(a)?,
    })?)
}

/// The CRLs of `--crl` (every CRL of every file), and which certificates to check.
fn revocation(a: &VerifyArgs) -> Result<Option<Revocation>> {
    if a.crls.is_empty() {
        return Ok(None);
    }
    let mut crls = Vec::new();
    for f in &a.crls {
        crls.extend(pki_core::read_crl_file(f)?);
    }
    Ok(Some(Revocation {
        crls,
        scope: if a.crl_check_all {
            CrlScope::Chain
        } else {
            CrlScope::Leaf
        },
    }))
}

fn purpose(p: PurposeArg) -> Purpose {
    match p {
        PurposeArg::Server => Purpose::Server,
        PurposeArg::Client => Purpose::Client,
        PurposeArg::Any => Purpose::Any,
    }
}

fn date(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

pub(crate) fn webpki_text(v: &WebpkiVerdict) -> String {
    match v {
        WebpkiVerdict::Ok => "OK".into(),
        WebpkiVerdict::CertExpired { not_after, .. } => {
            format!("CertExpired (notAfter {})", date(*not_after))
        }
        WebpkiVerdict::CertNotValidYet { not_before, .. } => {
            format!("CertNotValidYet (notBefore {})", date(*not_before))
        }
        WebpkiVerdict::CertNotValidForName {
            expected,
            presented,
        } => {
            format!(
                "CertNotValidForName (expected {expected}, presented [{}])",
                presented.join(", ")
            )
        }
        WebpkiVerdict::CrlExpired { next_update, .. } => {
            format!("CrlExpired (nextUpdate {})", date(*next_update))
        }
        WebpkiVerdict::UnusableCrl { crl, error } => {
            format!("UnusableCrl (CRL #{crl}: {error})")
        }
        other => other.name().to_owned(),
    }
}

/// The revocation lines: what was checked against which CRLs, and each revoked certificate.
fn revocation_text(r: &RevocationReport) -> String {
    let what = match r.scope {
        CrlScope::Leaf => "the leaf",
        CrlScope::Chain => "every certificate of the chain",
    };
    let issuers = r
        .crls
        .iter()
        .map(|c| escape_line(&c.issuer))
        .collect::<Vec<_>>()
        .join("; ");
    let n = r.crls.len();
    let mut s = format!(
        "revocation: {what} checked against {n} CRL{} ({issuers})\n",
        if n == 1 { "" } else { "s" }
    );
    for c in &r.revoked {
        let reason = c
            .reason
            .as_deref()
            .map_or_else(String::new, |r| format!(", reason {r}"));
        s += &format!(
            "revoked:   depth {} {} (serial {}) at {}{reason}, by the CRL of {}\n",
            c.depth,
            escape_line(&c.subject),
            c.serial,
            date(c.revoked_at),
            escape_line(&c.crl_issuer)
        );
    }
    s
}

fn text(shown: &Shown) -> String {
    let r = &shown.report;
    let mode = match r.mode {
        Mode::Online => "online",
        Mode::Offline => "offline",
    };
    let mut s = format!(
        "pki verify {} ({mode}; trusting {})\n",
        r.target, r.trust_anchors
    );
    for c in &r.checks {
        // A check's detail quotes subjects and names from the certificates: one line always.
        s += &format!(
            "  {} {:<18} {}\n",
            tag(c.status),
            c.step.name(),
            escape_line(&crate::hints::check_detail(c))
        );
    }
    s += &client_text(r);
    if shown.showcerts && !r.presented.is_empty() {
        s += &showcerts(&r.presented);
    }
    if let Some(v) = &r.verification {
        if r.mode == Mode::Online {
            for e in &v.openssl.errors {
                s += &format!("depth={} verify error:num={}:{}\n", e.depth, e.code, e.text);
            }
            s += &format!(
                "OpenSSL:   Verify return code: {} ({})\n",
                v.openssl.code, v.openssl.text
            );
        } else if v.openssl.is_ok() {
            s += &format!("OpenSSL:   {}: OK\n", r.target);
        } else {
            for e in v.openssl.verify_command_errors() {
                s += &format!(
                    "OpenSSL:   error {} at {} depth lookup: {}\n",
                    e.code, e.depth, e.text
                );
            }
        }
        s += &format!("rustls:    {}\n", webpki_text(&v.webpki));
        if let Some(r) = &v.revocation {
            s += &revocation_text(r);
        }
        if !v.agree {
            s += &format!(
                "note:      OpenSSL and rustls clients disagree: {} accept this chain, {} do not\n",
                if v.openssl.is_ok() {
                    "OpenSSL-based devices"
                } else {
                    "rustls clients"
                },
                if v.openssl.is_ok() {
                    "rustls clients"
                } else {
                    "OpenSSL-based devices"
                }
            );
        }
        // A finding about the name is the name check's line already: said once.
        let said = r.name.is_some() && v.diagnosis.is_about_the_name();
        if !v.is_ok() && !said {
            s += &format!(
                "diagnosis: {}{}\n",
                v.diagnosis.explain_for(r.purpose),
                v.diagnosis
                    .fix()
                    .as_ref()
                    .map(crate::hints::fix_words)
                    .unwrap_or_default()
            );
        }
    }
    s += if r.accepted {
        "verified OK\n"
    } else {
        "NOT verified\n"
    };
    s
}

/// The client certificate presented, and the CAs the server named as acceptable issuers of
/// one (`openssl s_client`'s "Acceptable client certificate CA names").
fn client_text(r: &GatewayReport) -> String {
    let mut s = String::new();
    if let Some(c) = &r.client_certificate {
        s += &format!(
            "client cert: {} ({})\n",
            escape_line(&c.file),
            escape_line(&c.path())
        );
    }
    if let Some(names) = r.tls.as_ref().and_then(|t| t.client_ca_names.as_ref()) {
        if names.is_empty() {
            s += "client CAs: the server sent no acceptable client certificate CA names\n";
        } else {
            s += "client CAs: the server's acceptable client certificate CA names:\n";
            for n in names {
                s += &format!("  {}\n", escape_line(n));
            }
        }
    }
    s
}

/// The chain as `openssl s_client -showcerts` prints it.
fn showcerts(chain: &[Vec<u8>]) -> String {
    let fmt = time::macros::format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
    );
    let mut s = String::from("---\nCertificate chain\n");
    for (i, der) in chain.iter().enumerate() {
        let Ok(c) = pki_core::Certificate::from_der(der.clone(), "certificate") else {
            continue;
        };
        let info = pki_core::inspect(&c, now(), time::Duration::ZERO);
        s += &format!(" {i} s:{}\n   i:{}\n", info.subject, info.issuer);
        s += &format!(
            "   a:PKEY: {}, {} (bit); sigalg: {}\n",
            info.public_key.algorithm, info.public_key.bits, info.signature_algorithm
        );
        s += &format!(
            "   v:NotBefore: {}; NotAfter: {}\n",
            info.not_before.format(&fmt).unwrap_or_default(),
            info.not_after.format(&fmt).unwrap_or_default()
        );
        s += &c.to_pem();
    }
    s += "---\n";
    s
}
