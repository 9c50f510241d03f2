//! `pki verify`: will a downstream device accept this gateway? Online (HOST:PORT) it probes the
//! gateway step by step and judges the chain it sent as OpenSSL and rustls clients do; offline
//! (--chain) it judges files as `openssl verify` does. Both diagnose in plain words.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use pki_verify::{
    AfterHandshake, ChainInput, ConnectionString, NameCheck, NameToCheck, ProbeOptions,
    ProbeReport, Purpose, Report, VerifyOptions, WebpkiVerdict,
};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use super::{now, read_key};
use crate::cli::{ClientKind, PurposeArg, VerifyArgs};
use crate::output::{Outcome, Output};

/// One check and how it went.
#[derive(Debug, Serialize)]
struct Check {
    step: &'static str,
    status: Status,
    detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

impl Status {
    fn tag(self) -> &'static str {
        match self {
            Status::Ok => "[ok]  ",
            Status::Warn => "[warn]",
            Status::Fail => "[FAIL]",
            Status::Skip => "[skip]",
        }
    }
}

/// The whole answer.
#[derive(Debug, Serialize)]
struct VerifyReport {
    target: String,
    mode: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    at: time::OffsetDateTime,
    trust_anchors: String,
    checks: Vec<Check>,
    tls: Option<ProbeReport>,
    verification: Option<Report>,
    name: Option<NameCheck>,
    connection_string: Option<ConnectionString>,
    /// Whose verdict decided `accepted`.
    client: &'static str,
    accepted: bool,
    verdict: String,
    #[serde(skip)]
    presented: Vec<Vec<u8>>,
    #[serde(skip)]
    showcerts: bool,
}

/// `pki verify`.
pub(crate) fn run(a: VerifyArgs, out: &Output) -> Result<Outcome> {
    let at = match &a.at {
        Some(t) => time::OffsetDateTime::parse(t, &Rfc3339).with_context(|| {
            format!("--at {t:?} is not an RFC 3339 time such as 2026-11-22T10:00:00Z")
        })?,
        None => now().replace_nanosecond(0).unwrap_or_else(|_| now()),
    };
    let (anchors, anchors_label) = trust_anchors(&a)?;
    let connection_string = match &a.connection_string {
        Some(s) => Some(
            s.parse::<ConnectionString>()
                .map_err(|e| anyhow::anyhow!("the connection string is malformed: {e}"))?,
        ),
        None => None,
    };
    let report = match &a.target {
        Some(target) => online(&a, target, at, anchors, anchors_label, connection_string)?,
        None => offline(&a, at, anchors, anchors_label)?,
    };
    let accepted = report.accepted;
    out.emit(&report, || text(&report))?;
    Ok(if accepted {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

fn trust_anchors(a: &VerifyArgs) -> Result<(Vec<Vec<u8>>, String)> {
    if !a.ca_files.is_empty() {
        let mut ders = Vec::new();
        for f in &a.ca_files {
            ders.extend(pki_core::read_certs(f)?.iter().map(|c| c.der().to_vec()));
        }
        let names = a
            .ca_files
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
        std::env::var_os("SSL_CERT_FILE"),
        std::env::var_os("SSL_CERT_DIR"),
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
fn split_target(t: &str) -> Result<(String, u16)> {
    let bad = || {
        anyhow::anyhow!(
            "{t:?} is not HOST:PORT (for example gw.contoso.com:8883 or [fd00::4]:8883)"
        )
    };
    if let Some(rest) = t.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if after.is_empty() => 8883,
            None => return Err(bad()),
        };
        return Ok((host.to_owned(), port));
    }
    if t.parse::<IpAddr>().is_ok() {
        return Ok((t.to_owned(), 8883));
    }
    match t.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => Ok((h.to_owned(), p.parse().map_err(|_| bad())?)),
        Some(_) => Err(bad()),
        None if !t.is_empty() => Ok((t.to_owned(), 8883)),
        None => Err(bad()),
    }
}

fn decide(client: ClientKind, v: &Report) -> bool {
    match client {
        ClientKind::Openssl => v.openssl.is_ok(),
        ClientKind::Rustls => v.webpki.is_ok(),
        ClientKind::Both => v.openssl.is_ok() && v.webpki.is_ok(),
    }
}

fn client_name(c: ClientKind) -> &'static str {
    match c {
        ClientKind::Openssl => "openssl",
        ClientKind::Rustls => "rustls",
        ClientKind::Both => "both",
    }
}

fn online(
    a: &VerifyArgs,
    target: &str,
    at: time::OffsetDateTime,
    anchors: Vec<Vec<u8>>,
    anchors_label: String,
    connection_string: Option<ConnectionString>,
) -> Result<VerifyReport> {
    let (host, port) = split_target(target)?;
    // An hour is far beyond any network step; beyond it a timeout is a typo (and 1e30 s is
    // not a time the system can wait for).
    if !(a.timeout > 0.0 && a.timeout <= 3600.0) {
        bail!(
            "--timeout {}: give a number of seconds greater than 0 and at most 3600",
            a.timeout
        );
    }
    let mut client_cn = None;
    let client_auth = match (&a.cert, &a.key) {
        (Some(c), Some(k)) => {
            let certs = pki_core::read_certs(c)?;
            client_cn = Some(certs[0].common_name().unwrap_or_default());
            let chain = certs.iter().map(|c| c.der().to_vec()).collect::<Vec<_>>();
            let key = read_key(k, &a.password)?;
            Some((chain, key.pkcs8_der().to_vec()))
        }
        _ => None,
    };
    let opts = ProbeOptions {
        host: host.clone(),
        port,
        servername: a.servername.clone(),
        alpn: a.alpn.clone(),
        client_auth,
        timeout: Duration::try_from_secs_f64(a.timeout)
            .context("--timeout: not a number of seconds")?,
    };
    let probe = pki_verify::probe(&opts).with_context(|| format!("cannot verify {target}"))?;
    let mut checks = vec![
        Check {
            step: "resolve",
            status: Status::Ok,
            detail: if host.parse::<IpAddr>().is_ok() {
                format!("{host} is an IP address")
            } else {
                format!(
                    "{host} resolves to {}",
                    probe
                        .addresses
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        },
        Check {
            step: "connect",
            status: Status::Ok,
            detail: format!("port {port} accepts a connection ({})", probe.connected_to),
        },
    ];
    let sni = probe
        .sni
        .clone()
        .map_or("no SNI (IP address)".to_owned(), |s| format!("SNI {s}"));
    let name_to_check = NameToCheck::parse(a.servername.as_deref().unwrap_or(&host));
    let mut accepted;
    match &probe.handshake_error {
        None => checks.push(Check {
            step: "handshake",
            status: Status::Ok,
            detail: format!(
                "{}, {}{}; {sni}",
                probe.tls_version.as_deref().unwrap_or("?"),
                probe.cipher_suite.as_deref().unwrap_or("?"),
                probe
                    .alpn
                    .as_ref()
                    .map(|p| format!(", ALPN {p}"))
                    .unwrap_or_default()
            ),
        }),
        Some(e) => checks.push(Check {
            step: "handshake",
            status: Status::Fail,
            detail: format!("{e}; {sni}{}", handshake_hint(e, &probe, a)),
        }),
    }
    accepted = probe.handshake_error.is_none();

    let mut verification = None;
    let mut name = None;
    if probe.chain.is_empty() {
        checks.push(Check {
            step: "chain",
            status: Status::Skip,
            detail: "the server sent no certificate".into(),
        });
        accepted = false;
    } else {
        let input = ChainInput::from_presented(probe.chain.clone(), anchors)?;
        let mut vopts = VerifyOptions::tls_client(name_to_check.clone(), at);
        if let Some(l) = a.auth_level {
            vopts = vopts.with_auth_level(l);
        }
        if let Some(p) = a.purpose {
            vopts = vopts.with_purpose(purpose(p));
        }
        let v = pki_verify::verify(&input, &vopts)?;
        checks.push(chain_check(&v, probe.chain.len(), a.client));
        let n = pki_verify::check_name(&probe.chain[0], &name_to_check)?;
        checks.push(name_step(&n));
        checks.push(clock_check(&probe.chain, at));
        accepted &= decide(a.client, &v);
        verification = Some(v);
        name = Some(n);
    }
    checks.push(client_cert_check(&probe, a.cert.is_some()));
    if matches!(
        probe.after_handshake,
        Some(AfterHandshake::ClientCertificateRequired | AfterHandshake::Alert(_))
    ) {
        accepted = false;
    }
    if let Some(cs) = &connection_string {
        let (check, ok) = connection_string_check(
            cs,
            &host,
            a.servername.as_deref(),
            probe.chain.first(),
            client_cn.as_deref(),
        );
        checks.push(check);
        accepted &= ok;
    }
    let verdict = if accepted {
        "verified OK".to_owned()
    } else {
        "NOT verified".to_owned()
    };
    Ok(VerifyReport {
        target: format!("{host}:{port}"),
        mode: "online",
        at,
        trust_anchors: anchors_label,
        checks,
        tls: Some(probe.clone()),
        verification,
        name,
        connection_string,
        client: client_name(a.client),
        accepted,
        verdict,
        presented: probe.chain,
        showcerts: a.showcerts,
    })
}

fn offline(
    a: &VerifyArgs,
    at: time::OffsetDateTime,
    anchors: Vec<Vec<u8>>,
    anchors_label: String,
) -> Result<VerifyReport> {
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
    let input = ChainInput::from_presented(certs.clone(), anchors)?;
    let mut vopts = VerifyOptions::new(at).with_auth_level(a.auth_level.unwrap_or(0));
    if let Some(p) = a.purpose {
        vopts = vopts.with_purpose(purpose(p));
    }
    let name_to_check = a.hostname.as_deref().map(NameToCheck::parse);
    if let Some(n) = &name_to_check {
        vopts = vopts.with_name(n.clone());
    }
    let v = pki_verify::verify(&input, &vopts)?;
    let mut checks = vec![chain_check(&v, certs.len(), a.client)];
    let name = match &name_to_check {
        Some(n) => {
            let c = pki_verify::check_name(&certs[0], n)?;
            checks.push(name_step(&c));
            Some(c)
        }
        None => None,
    };
    checks.push(clock_check(&certs, at));
    let accepted = decide(a.client, &v);
    Ok(VerifyReport {
        target: leaf_path.display().to_string(),
        mode: "offline",
        at,
        trust_anchors: anchors_label,
        checks,
        tls: None,
        verification: Some(v),
        name,
        connection_string: None,
        client: client_name(a.client),
        accepted,
        verdict: if accepted {
            "verified OK".into()
        } else {
            "NOT verified".into()
        },
        presented: certs,
        showcerts: a.showcerts,
    })
}

fn purpose(p: PurposeArg) -> Purpose {
    match p {
        PurposeArg::Server => Purpose::Server,
        PurposeArg::Client => Purpose::Client,
        PurposeArg::Any => Purpose::Any,
    }
}

fn chain_check(v: &Report, sent: usize, client: ClientKind) -> Check {
    let ok = decide(client, v);
    let status = if ok {
        if v.agree { Status::Ok } else { Status::Warn }
    } else {
        Status::Fail
    };
    let top = v
        .chain
        .last()
        .map(|c| c.subject.clone())
        .unwrap_or_default();
    let detail = if v.openssl.is_ok() && v.webpki.is_ok() {
        format!("{sent} certificate(s) sent; the path ends at the trusted {top}")
    } else {
        v.diagnosis.explain()
    };
    Check {
        step: "chain",
        status,
        detail,
    }
}

fn name_step(n: &NameCheck) -> Check {
    let carries = if n.names.is_empty() {
        format!("no subjectAltName; CN {}", n.common_names.join(", "))
    } else {
        n.names.join(", ")
    };
    let (status, detail) = match (n.openssl, n.webpki) {
        (true, true) => (
            Status::Ok,
            format!("{} is in the certificate ({carries})", n.name),
        ),
        (true, false) => (
            Status::Warn,
            format!(
                "{} is only in the CN: OpenSSL clients accept it, rustls clients do not; reissue with a SAN (pki issue server {})",
                n.name, n.name
            ),
        ),
        (false, _) => (
            Status::Fail,
            format!(
                "{} is not in the certificate, which carries {carries}; connect with one of those names or reissue with --san {}",
                n.name, n.name
            ),
        ),
    };
    Check {
        step: "name",
        status,
        detail,
    }
}

fn clock_check(chain: &[Vec<u8>], at: time::OffsetDateTime) -> Check {
    let mut problems = Vec::new();
    for (depth, der) in chain.iter().enumerate() {
        let Ok(c) = pki_core::Certificate::from_der(der.clone(), "certificate") else {
            continue;
        };
        let info = pki_core::inspect(&c, at, time::Duration::days(30));
        match info.status {
            pki_core::Status::Expired => problems.push(format!(
                "depth {depth} {} expired {}",
                info.subject,
                date(info.not_after)
            )),
            pki_core::Status::NotValidYet => problems.push(format!(
                "depth {depth} {} is valid only from {}",
                info.subject,
                date(info.not_before)
            )),
            _ => {}
        }
    }
    if problems.is_empty() {
        Check {
            step: "clock",
            status: Status::Ok,
            detail: format!(
                "{} is within the validity of every certificate sent",
                date(at)
            ),
        }
    } else {
        Check {
            step: "clock",
            status: Status::Fail,
            detail: format!(
                "at {}: {} (if the certificates are right, check the device's clock)",
                date(at),
                problems.join("; ")
            ),
        }
    }
}

fn date(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn client_cert_check(p: &ProbeReport, presented: bool) -> Check {
    let (status, detail) = match (&p.after_handshake, p.client_certificate_requested, presented) {
        (Some(AfterHandshake::ClientCertificateRequired), _, _) => (
            Status::Fail,
            "the server demands a client certificate and rejected the connection without one; give --cert and --key".to_owned(),
        ),
        (Some(AfterHandshake::Alert(a)), _, true) => {
            (Status::Fail, format!("the server rejected the client certificate after the handshake ({a})"))
        }
        (Some(AfterHandshake::Alert(a)), _, false) => (Status::Fail, format!("the server closed the session with an alert ({a})")),
        (_, true, true) => (Status::Ok, "the server asked for a client certificate and accepted the one presented".to_owned()),
        (_, true, false) => (Status::Warn, "the server asks for a client certificate (optional: it went on without one)".to_owned()),
        (_, false, true) => (Status::Warn, "the server did not ask for the client certificate given".to_owned()),
        (_, false, false) => (Status::Ok, "not requested".to_owned()),
    };
    let status = if p.handshake_error.is_some() && status == Status::Ok {
        Status::Skip
    } else {
        status
    };
    Check {
        step: "client certificate",
        status,
        detail,
    }
}

fn handshake_hint(e: &str, p: &ProbeReport, a: &VerifyArgs) -> String {
    if p.client_certificate_requested
        && a.cert.is_none()
        && (e.contains("certificate") || e.contains("handshake failure"))
    {
        "; the server asked for a client certificate: give --cert and --key".to_owned()
    } else if e.contains("no application protocol") {
        format!(
            "; the server wants ALPN; offered: {}",
            if a.alpn.is_empty() {
                "none".into()
            } else {
                a.alpn.join(", ")
            }
        )
    } else {
        String::new()
    }
}

fn connection_string_check(
    cs: &ConnectionString,
    host: &str,
    servername: Option<&str>,
    leaf: Option<&Vec<u8>>,
    client_cn: Option<&str>,
) -> (Check, bool) {
    let fail = |detail: String| {
        (
            Check {
                step: "connection string",
                status: Status::Fail,
                detail,
            },
            false,
        )
    };
    let Some(gw) = &cs.gateway_host_name else {
        return fail(format!(
            "it has no GatewayHostName, so device {} connects to {} directly, not through this gateway; add ;GatewayHostName={}",
            cs.device_id,
            cs.host_name,
            servername.unwrap_or(host)
        ));
    };
    let verified = servername.unwrap_or(host);
    if !gw.eq_ignore_ascii_case(verified) && !gw.eq_ignore_ascii_case(host) {
        return fail(format!(
            "GatewayHostName={gw}, but the host verified is {verified}: the device will connect to {gw}"
        ));
    }
    if let Some(leaf) = leaf {
        match pki_verify::check_name(leaf, &NameToCheck::parse(gw)) {
            Ok(n) if n.openssl && n.webpki => {}
            Ok(n) => {
                return fail(format!(
                    "GatewayHostName={gw} is not in the gateway certificate ({}); reissue it with that name",
                    if n.names.is_empty() {
                        "no SAN".into()
                    } else {
                        n.names.join(", ")
                    }
                ));
            }
            Err(e) => return fail(e.to_string()),
        }
    }
    if cs.x509
        && let Some(cn) = client_cn
        && cn != cs.device_id
    {
        return fail(format!(
            "the device certificate's CN is {cn:?}, but DeviceId={}: Azure requires them equal",
            cs.device_id
        ));
    }
    (
        Check {
            step: "connection string",
            status: Status::Ok,
            detail: format!(
                "device {} connects through GatewayHostName={gw}, which the certificate names",
                cs.device_id
            ),
        },
        true,
    )
}

fn webpki_text(v: &WebpkiVerdict) -> String {
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
        other => format!("{other:?}"),
    }
}

fn text(r: &VerifyReport) -> String {
    let mut s = format!(
        "pki verify {} ({}; trusting {})\n",
        r.target, r.mode, r.trust_anchors
    );
    for c in &r.checks {
        s += &format!("  {} {:<18} {}\n", c.status.tag(), c.step, c.detail);
    }
    if r.showcerts && !r.presented.is_empty() {
        s += &showcerts(&r.presented);
    }
    if let Some(v) = &r.verification {
        if r.mode == "online" {
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
        if !(v.openssl.is_ok() && v.webpki.is_ok()) {
            s += &format!("diagnosis: {}\n", v.diagnosis.explain());
        }
    }
    s += &r.verdict;
    s.push('\n');
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_into_host_and_port() {
        assert_eq!(
            split_target("gw.contoso.com:8883").unwrap(),
            ("gw.contoso.com".into(), 8883)
        );
        assert_eq!(
            split_target("gw.contoso.com").unwrap(),
            ("gw.contoso.com".into(), 8883)
        );
        assert_eq!(
            split_target("[fd00::4]:5671").unwrap(),
            ("fd00::4".into(), 5671)
        );
        assert_eq!(split_target("fd00::4").unwrap(), ("fd00::4".into(), 8883));
        assert_eq!(
            split_target("127.0.0.1:443").unwrap(),
            ("127.0.0.1".into(), 443)
        );
        assert!(split_target("gw:port").is_err());
        assert!(split_target(":8883").is_err());
        assert!(split_target("").is_err());
    }
}
