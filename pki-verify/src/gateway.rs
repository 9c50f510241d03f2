//! The gateway check: "will my device accept this gateway?" as one call. Online it probes the
//! gateway step by step (resolve, connect, handshake), judges the chain it sent as OpenSSL and
//! rustls clients do, checks the name, the clock, whether the gateway demands a client
//! certificate and, given a connection string, its `GatewayHostName`; offline it judges files.
//! Which checks run, what each concludes and whether the device accepts the gateway are decided
//! here, once; the caller renders the typed report.

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{
    AfterHandshake, ChainInput, ClientAuth, ClientChainReport, ConnectionString, Error,
    HandshakeFailure, NameCheck, NameToCheck, ProbeOptions, ProbeReport, Purpose, Report,
    Revocation, VerifyOptions,
};

/// Whose verdict decides whether the device accepts the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    /// Devices built on OpenSSL (the Azure C SDK, Python, mosquitto).
    Openssl,
    /// Rust clients on rustls (thin-edge).
    Rustls,
    /// Both must accept.
    Both,
}

impl Client {
    /// Whether this client accepts the chain `v` judged.
    pub fn accepts(self, v: &Report) -> bool {
        match self {
            Client::Openssl => v.openssl.is_ok(),
            Client::Rustls => v.webpki.is_ok(),
            Client::Both => v.openssl.is_ok() && v.webpki.is_ok(),
        }
    }
}

/// One step of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Step {
    /// The name resolves.
    #[serde(rename = "resolve")]
    Resolve,
    /// The port accepts a connection.
    #[serde(rename = "connect")]
    Connect,
    /// The TLS handshake.
    #[serde(rename = "handshake")]
    Handshake,
    /// The chain, as OpenSSL and rustls judge it.
    #[serde(rename = "chain")]
    Chain,
    /// The name checked is in the certificate.
    #[serde(rename = "name")]
    Name,
    /// "now" is within every certificate's validity.
    #[serde(rename = "clock")]
    Clock,
    /// Whether the gateway demands a client certificate.
    #[serde(rename = "client certificate")]
    ClientCertificate,
    /// The connection string's `GatewayHostName`.
    #[serde(rename = "connection string")]
    ConnectionString,
}

impl Step {
    /// The step's name as reports print it.
    pub fn name(self) -> &'static str {
        match self {
            Step::Resolve => "resolve",
            Step::Connect => "connect",
            Step::Handshake => "handshake",
            Step::Chain => "chain",
            Step::Name => "name",
            Step::Clock => "clock",
            Step::ClientCertificate => "client certificate",
            Step::ConnectionString => "connection string",
        }
    }
}

/// How a step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Fine.
    Ok,
    /// Works, with a caveat.
    Warn,
    /// The device would not accept the gateway because of this.
    Fail,
    /// Not checked (an earlier step failed).
    Skip,
}

/// One check and how it went.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Which step.
    pub step: Step,
    /// How it went.
    pub status: CheckStatus,
    /// What was seen, and what to change, in plain words.
    pub detail: String,
    /// What the caller can give to change the outcome, where the fix is an input of its own
    /// (a client certificate, a CRL, a name to reissue with): the caller says it in its own
    /// terms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

impl Check {
    fn new(step: Step, status: CheckStatus, detail: impl Into<String>) -> Check {
        Check {
            step,
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    fn with_fix(mut self, fix: Option<Fix>) -> Check {
        self.fix = fix;
        self
    }
}

/// A fix a check points to that is the caller's input ([`Check::fix`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum Fix {
    /// Present a client certificate and its key: the server asked for one and none was
    /// given.
    ClientCertificate,
    /// Reissue the certificate with this name among its subject alternative names.
    ReissueWithSan {
        /// The name the device connects with.
        name: String,
    },
    /// Give the CRL of this CA: OpenSSL found none it could use.
    Crl {
        /// The CA whose CRL is needed.
        issuer: String,
    },
}

/// Online or offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A gateway on the network.
    Online,
    /// Certificate files.
    Offline,
}

/// What to check online.
#[derive(Debug, Clone)]
pub struct GatewayRequest {
    /// The host to connect to (a name or an IP address).
    pub host: String,
    /// The port.
    pub port: u16,
    /// SNI and the name checked, when not the host.
    pub servername: Option<String>,
    /// The name checked, when it is neither the servername nor the host (a gateway known by
    /// its IP address, reached on another address).
    pub expected_name: Option<NameToCheck>,
    /// ALPN protocols to offer.
    pub alpn: Vec<String>,
    /// A device certificate to present.
    pub client_auth: Option<ClientAuth>,
    /// Bound of each network step.
    pub timeout: Duration,
    /// The device's trust anchors, DER.
    pub anchors: Vec<Vec<u8>>,
    /// Where the anchors came from, for the report.
    pub anchors_label: String,
    /// The instant of the check.
    pub at: OffsetDateTime,
    /// OpenSSL's auth level (s_client's default when `None`).
    pub auth_level: Option<u8>,
    /// The purpose checked (a TLS server's when `None`).
    pub purpose: Option<Purpose>,
    /// Whose verdict decides.
    pub client: Client,
    /// The device's connection string, to check its `GatewayHostName`.
    pub connection_string: Option<ConnectionString>,
    /// CRLs to check the chain against, if any.
    pub revocation: Option<Revocation>,
}

/// What to check offline: files, as `openssl verify` does.
#[derive(Debug, Clone)]
pub struct FilesRequest {
    /// What the report calls the input (the leaf's file).
    pub target: String,
    /// The leaf, then the untrusted certificates, DER.
    pub chain: Vec<Vec<u8>>,
    /// The trust anchors, DER.
    pub anchors: Vec<Vec<u8>>,
    /// Where the anchors came from, for the report.
    pub anchors_label: String,
    /// The instant of the check.
    pub at: OffsetDateTime,
    /// OpenSSL's auth level (`openssl verify`'s 0 by default).
    pub auth_level: u8,
    /// The purpose checked, if any.
    pub purpose: Option<Purpose>,
    /// The name checked, if any.
    pub hostname: Option<NameToCheck>,
    /// Whose verdict decides.
    pub client: Client,
    /// CRLs to check the chain against, if any.
    pub revocation: Option<Revocation>,
}

/// The whole answer.
#[derive(Debug, Serialize)]
pub struct GatewayReport {
    /// `host:port`, or the leaf's file.
    pub target: String,
    /// Online or offline.
    pub mode: Mode,
    /// The instant of the check.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Where the anchors came from.
    pub trust_anchors: String,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// What the TLS probe saw.
    pub tls: Option<ProbeReport>,
    /// The chain's verdicts.
    pub verification: Option<Report>,
    /// The name check.
    pub name: Option<NameCheck>,
    /// The connection string checked.
    pub connection_string: Option<ConnectionString>,
    /// The client certificate presented, and what can be told of its chain against the CAs
    /// the server named.
    pub client_certificate: Option<ClientChainReport>,
    /// Whose verdict decided `accepted`.
    pub client: Client,
    /// What the chain was judged for: a server's (a gateway's, online always), or a client's
    /// (a device's chain given offline, told by its extendedKeyUsage or `purpose`).
    pub purpose: Purpose,
    /// Whether the device accepts the gateway (offline: whether the chain is accepted).
    pub accepted: bool,
    /// The certificates as presented (the gateway's chain, or the files').
    #[serde(skip)]
    pub presented: Vec<Vec<u8>>,
}

/// Checks a gateway as a device would (see the module documentation). A failed check is a
/// result; an error means the check could not run (a name that does not resolve, a refused
/// port, a silent server: [`Error::Probe`]).
pub fn check_gateway(req: &GatewayRequest) -> Result<GatewayReport, Error> {
    let (host, port) = (&req.host, req.port);
    let probe = crate::probe(&ProbeOptions {
        host: host.clone(),
        port,
        servername: req.servername.clone(),
        alpn: req.alpn.clone(),
        client_auth: req.client_auth.clone(),
        timeout: req.timeout,
    })?;
    let resolved = if host.parse::<IpAddr>().is_ok() {
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
    };
    let mut checks = vec![
        Check::new(Step::Resolve, CheckStatus::Ok, resolved),
        Check::new(
            Step::Connect,
            CheckStatus::Ok,
            format!("port {port} accepts a connection ({})", probe.connected_to),
        ),
    ];
    let sni = probe
        .sni
        .clone()
        .map_or("no SNI (IP address)".to_owned(), |s| format!("SNI {s}"));
    let name_to_check = req
        .expected_name
        .clone()
        .unwrap_or_else(|| NameToCheck::parse(req.servername.as_deref().unwrap_or(host)));
    checks.push(match &probe.handshake_error {
        None => Check::new(
            Step::Handshake,
            CheckStatus::Ok,
            format!(
                "{}, {}{}; {sni}",
                probe.tls_version.as_deref().unwrap_or("?"),
                probe.cipher_suite.as_deref().unwrap_or("?"),
                probe
                    .alpn
                    .as_ref()
                    .map(|p| format!(", ALPN {p}"))
                    .unwrap_or_default()
            ),
        ),
        Some(e) => {
            let (hint, fix) = handshake_hint(e, &probe, req);
            Check::new(
                Step::Handshake,
                CheckStatus::Fail,
                format!("{e}; {sni}{hint}"),
            )
            .with_fix(fix)
        }
    });
    let mut accepted = probe.handshake_error.is_none();

    let mut verification = None;
    let mut name = None;
    if probe.chain.is_empty() {
        checks.push(Check::new(
            Step::Chain,
            CheckStatus::Skip,
            "the server sent no certificate",
        ));
        accepted = false;
    } else {
        let input = ChainInput::from_presented(probe.chain.clone(), req.anchors.clone())?;
        let (input, mut vopts) = with_revocation(
            input,
            VerifyOptions::tls_client(name_to_check.clone(), req.at),
            req.revocation.as_ref(),
        );
        if let Some(l) = req.auth_level {
            vopts = vopts.with_auth_level(l);
        }
        if let Some(p) = req.purpose {
            vopts = vopts.with_purpose(p);
        }
        let v = crate::verify(&input, &vopts)?;
        checks.push(chain_check(
            &v,
            probe.chain.len(),
            req.client,
            true,
            req.purpose.unwrap_or(Purpose::Server),
        ));
        let n = crate::check_name(&probe.chain[0], &name_to_check)?;
        checks.push(name_step(&n));
        checks.push(clock_check(&probe.chain, req.at));
        accepted &= req.client.accepts(&v);
        verification = Some(v);
        name = Some(n);
    }
    let client_certificate = req
        .client_auth
        .as_ref()
        .map(|auth| ClientChainReport::of(auth, probe.client_ca_names_der.as_deref()));
    checks.push(client_cert_check(&probe, client_certificate.as_ref()));
    if matches!(
        probe.after_handshake,
        Some(
            AfterHandshake::ClientCertificateRequired
                | AfterHandshake::Alert(_)
                | AfterHandshake::Refused(_)
        )
    ) {
        accepted = false;
    }
    if let Some(cs) = &req.connection_string {
        let client_cn = req
            .client_auth
            .as_ref()
            .and_then(|c| c.chain().first())
            .and_then(|der| pki_x509::Certificate::from_der(der.clone(), "certificate").ok())
            .map(|c| c.common_name().unwrap_or_default());
        let (check, ok) = connection_string_check(
            cs,
            host,
            req.servername.as_deref(),
            probe.chain.first(),
            client_cn.as_deref(),
        );
        checks.push(check);
        accepted &= ok;
    }
    Ok(GatewayReport {
        target: format!("{host}:{port}"),
        mode: Mode::Online,
        at: req.at,
        trust_anchors: req.anchors_label.clone(),
        checks,
        presented: probe.chain.clone(),
        tls: Some(probe),
        verification,
        name,
        connection_string: req.connection_string.clone(),
        client_certificate,
        client: req.client,
        purpose: req.purpose.unwrap_or(Purpose::Server),
        accepted,
    })
}

/// The input and options with the request's CRLs, if it has any.
fn with_revocation(
    input: ChainInput,
    opts: VerifyOptions,
    revocation: Option<&Revocation>,
) -> (ChainInput, VerifyOptions) {
    match revocation {
        Some(r) => (
            input.with_crls(r.crls.clone()),
            opts.with_crl_scope(r.scope),
        ),
        None => (input, opts),
    }
}

/// Checks files as `openssl verify` (and rustls) would judge them.
pub fn check_files(req: &FilesRequest) -> Result<GatewayReport, Error> {
    let input = ChainInput::from_presented(req.chain.clone(), req.anchors.clone())?;
    let (input, mut vopts) = with_revocation(
        input,
        VerifyOptions::new(req.at).with_auth_level(req.auth_level),
        req.revocation.as_ref(),
    );
    // A device's certificate (clientAuth without serverAuth) is judged as a client's: what a
    // gateway checks of it, and said in those words.
    let purpose = req.purpose.or_else(|| client_only(&req.chain[0]));
    if let Some(p) = purpose {
        vopts = vopts.with_purpose(p);
    }
    if let Some(n) = &req.hostname {
        vopts = vopts.with_name(n.clone());
    }
    let v = crate::verify(&input, &vopts)?;
    let purpose = purpose.unwrap_or(Purpose::Server);
    let mut checks = vec![chain_check(
        &v,
        req.chain.len(),
        req.client,
        req.hostname.is_some(),
        purpose,
    )];
    let name = match &req.hostname {
        Some(n) => {
            let c = crate::check_name(&req.chain[0], n)?;
            checks.push(name_step(&c));
            Some(c)
        }
        None => None,
    };
    checks.push(clock_check(&req.chain, req.at));
    let accepted = req.client.accepts(&v);
    Ok(GatewayReport {
        target: req.target.clone(),
        mode: Mode::Offline,
        at: req.at,
        trust_anchors: req.anchors_label.clone(),
        checks,
        tls: None,
        verification: Some(v),
        name,
        connection_string: None,
        client_certificate: None,
        client: req.client,
        purpose,
        accepted,
        presented: req.chain.clone(),
    })
}

/// `Some(Purpose::Client)` when the leaf's extendedKeyUsage names clientAuth and neither
/// serverAuth nor anyExtendedKeyUsage: a device's certificate.
fn client_only(leaf: &[u8]) -> Option<Purpose> {
    let (_, cert) = x509_parser::parse_x509_certificate(leaf).ok()?;
    let eku = cert.extended_key_usage().ok()??.value;
    (eku.client_auth && !eku.server_auth && !eku.any).then_some(Purpose::Client)
}

/// The chain step. With a name step beside it (`name_checked`), a chain whose only fault is
/// that name is judged as a chain (the name step says what is wrong, once). `purpose` words
/// the diagnosis.
fn chain_check(
    v: &Report,
    sent: usize,
    client: Client,
    name_checked: bool,
    purpose: Purpose,
) -> Check {
    let top = v
        .chain
        .last()
        .map(|c| c.subject.clone())
        .unwrap_or_default();
    let sent_as = if purpose == Purpose::Client {
        "presented"
    } else {
        "sent"
    };
    let path = format!("{sent} certificate(s) {sent_as}; the path ends at the trusted {top}");
    if name_checked && v.only_the_name_fails() {
        return Check::new(Step::Chain, CheckStatus::Ok, path);
    }
    let status = if client.accepts(v) {
        if v.agree {
            CheckStatus::Ok
        } else {
            CheckStatus::Warn
        }
    } else {
        CheckStatus::Fail
    };
    if v.openssl.is_ok() && v.webpki.is_ok() {
        Check::new(Step::Chain, status, path)
    } else {
        Check::new(Step::Chain, status, v.diagnosis.explain_for(purpose))
            .with_fix(v.diagnosis.fix())
    }
}

fn name_step(n: &NameCheck) -> Check {
    let carries = if n.names.is_empty() {
        format!("no subjectAltName; CN {}", n.common_names.join(", "))
    } else {
        n.names.join(", ")
    };
    let mut fix = None;
    let (status, detail) = match (n.openssl, n.webpki) {
        (true, true) => (
            CheckStatus::Ok,
            format!("{} is in the certificate ({carries})", n.name),
        ),
        (true, false) => (
            CheckStatus::Warn,
            format!(
                "{} is only in the CN: OpenSSL clients accept it, rustls clients do not; reissue with a SAN (pki issue server {})",
                n.name, n.name
            ),
        ),
        (false, _) => {
            fix = Some(Fix::ReissueWithSan {
                name: n.name.to_string(),
            });
            (
                CheckStatus::Fail,
                format!(
                    "{} is not in the certificate, which carries {carries}; connect with one of those names",
                    n.name
                ),
            )
        }
    };
    Check::new(Step::Name, status, detail).with_fix(fix)
}

fn date(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// How close to its end a certificate sent gets a warning from the clock step: `pki scan`'s
/// `--warn` default, so that `verify` and `scan` judge one gateway alike.
const EXPIRY_WARNING: time::Duration = time::Duration::days(30);

fn clock_check(chain: &[Vec<u8>], at: OffsetDateTime) -> Check {
    let mut problems = Vec::new();
    let mut soon = Vec::new();
    for (depth, der) in chain.iter().enumerate() {
        let Ok(c) = pki_x509::Certificate::from_der(der.clone(), "certificate") else {
            continue;
        };
        let info = pki_x509::inspect(&c, at, EXPIRY_WARNING);
        match info.status {
            pki_x509::Status::ExpiresSoon => soon.push(format!(
                "depth {depth} {} expires in {} days ({})",
                info.subject,
                (info.not_after - at).whole_days(),
                date(info.not_after)
            )),
            pki_x509::Status::Expired => problems.push(format!(
                "depth {depth} {} expired {}",
                info.subject,
                date(info.not_after)
            )),
            pki_x509::Status::NotValidYet => problems.push(format!(
                "depth {depth} {} is valid only from {}",
                info.subject,
                date(info.not_before)
            )),
            _ => {}
        }
    }
    if problems.is_empty() && !soon.is_empty() {
        Check::new(
            Step::Clock,
            CheckStatus::Warn,
            format!(
                "{} is within the validity of every certificate sent, but {}: renew before then \
                 (pki renew)",
                date(at),
                soon.join("; ")
            ),
        )
    } else if problems.is_empty() {
        Check::new(
            Step::Clock,
            CheckStatus::Ok,
            format!(
                "{} is within the validity of every certificate sent",
                date(at)
            ),
        )
    } else {
        Check::new(
            Step::Clock,
            CheckStatus::Fail,
            format!(
                "at {}: {} (if the certificates are right, check the device's clock)",
                date(at),
                problems.join("; ")
            ),
        )
    }
}

fn client_cert_check(p: &ProbeReport, client: Option<&ClientChainReport>) -> Check {
    let presented = client.is_some();
    let names = p.client_ca_names.as_deref().unwrap_or_default();
    let problem = client.and_then(|c| c.problem(names));
    let explained = |s: String| match &problem {
        Some(why) => format!("{s}: {why}"),
        None => s,
    };
    let refused_in_handshake = match &p.handshake_error {
        Some(e @ HandshakeFailure::Alert { alert })
            if presented
                && p.client_certificate_requested
                && e.may_concern_the_client_certificate() =>
        {
            Some(*alert)
        }
        _ => None,
    };
    let mut fix = None;
    let (status, detail) = match (&p.after_handshake, p.client_certificate_requested, presented) {
        (Some(AfterHandshake::ClientCertificateRequired), _, true) => (
            CheckStatus::Fail,
            "the server demands a client certificate and went on as if none had been sent: the key signs with no signature scheme the server offered".to_owned(),
        ),
        (Some(AfterHandshake::ClientCertificateRequired), _, false) => {
            fix = Some(Fix::ClientCertificate);
            (
                CheckStatus::Fail,
                "the server demands a client certificate and rejected the connection without one"
                    .to_owned(),
            )
        }
        (Some(AfterHandshake::Alert(a)), _, true) => (
            CheckStatus::Fail,
            explained(format!(
                "the server rejected the client certificate after the handshake ({a})"
            )),
        ),
        (Some(AfterHandshake::Refused(why)), _, true) => (
            CheckStatus::Fail,
            explained(format!(
                "the server rejected the client certificate after the handshake ({why})"
            )),
        ),
        (Some(AfterHandshake::Alert(a)), _, false) => (
            CheckStatus::Fail,
            format!("the server closed the session with an alert ({a})"),
        ),
        (Some(AfterHandshake::Refused(why)), _, false) => (
            CheckStatus::Fail,
            format!("the server closed the session with an alert ({why})"),
        ),
        _ if refused_in_handshake.is_some() => (
            CheckStatus::Fail,
            explained(format!(
                "the server rejected the client certificate during the handshake ({})",
                refused_in_handshake
                    .map(|a| a.to_string())
                    .unwrap_or_default()
            )),
        ),
        (_, true, true) => match &problem {
            Some(why) => (
                CheckStatus::Warn,
                format!(
                    "the server asked for a client certificate and accepted the one presented, but {why}"
                ),
            ),
            None => (
                CheckStatus::Ok,
                "the server asked for a client certificate and accepted the one presented"
                    .to_owned(),
            ),
        },
        (_, true, false) => (
            CheckStatus::Warn,
            "the server asks for a client certificate (optional: it went on without one)"
                .to_owned(),
        ),
        (_, false, true) => (
            CheckStatus::Warn,
            "the server did not ask for the client certificate given".to_owned(),
        ),
        (_, false, false) => (CheckStatus::Ok, "not requested".to_owned()),
    };
    if p.handshake_error.is_some() && status != CheckStatus::Fail {
        // The handshake failed for another reason: nothing is known of the certificate.
        let detail = match (p.client_certificate_requested, presented) {
            (false, _) => "not requested before the handshake failed",
            (true, true) => "requested, but the handshake failed before the server judged it",
            (true, false) => "requested; the handshake failed",
        };
        return Check::new(Step::ClientCertificate, CheckStatus::Skip, detail);
    }
    Check::new(Step::ClientCertificate, status, detail).with_fix(fix)
}

/// What a failed handshake's detail adds, and the fix it points to.
fn handshake_hint(
    e: &HandshakeFailure,
    p: &ProbeReport,
    req: &GatewayRequest,
) -> (String, Option<Fix>) {
    let about_client_cert =
        p.client_certificate_requested && e.may_concern_the_client_certificate();
    if about_client_cert && req.client_auth.is_none() {
        return (
            "; the server asked for a client certificate".to_owned(),
            Some(Fix::ClientCertificate),
        );
    }
    let hint = if about_client_cert {
        "; the server asked for a client certificate and refused the one presented (see client certificate)".to_owned()
    } else if e.wants_alpn() {
        format!(
            "; the server wants ALPN; offered: {}",
            if req.alpn.is_empty() {
                "none".into()
            } else {
                req.alpn.join(", ")
            }
        )
    } else {
        String::new()
    };
    (hint, None)
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
            Check::new(Step::ConnectionString, CheckStatus::Fail, detail),
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
        match crate::check_name(leaf, &NameToCheck::parse(gw)) {
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
        Check::new(
            Step::ConnectionString,
            CheckStatus::Ok,
            format!(
                "device {} connects through GatewayHostName={gw}, which the certificate names",
                cs.device_id
            ),
        ),
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn fixture(case: &str, file: &str) -> Vec<Vec<u8>> {
        let path = format!(
            "{}/../testdata/verify/{case}/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        crate::pem_certificates(&path, &bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn files(case: &str, client: Client) -> GatewayReport {
        let mut chain = fixture(case, "leaf.pem");
        chain.extend(fixture(case, "chain.pem"));
        check_files(&FilesRequest {
            target: "leaf.pem".into(),
            chain,
            anchors: fixture(case, "ca.pem"),
            anchors_label: "ca.pem".into(),
            at: datetime!(2030-01-01 00:00 UTC),
            auth_level: 0,
            revocation: None,
            purpose: Some(Purpose::Server),
            hostname: Some(NameToCheck::parse("gateway.example.com")),
            client,
        })
        .unwrap()
    }

    #[test]
    fn files_are_judged_chain_name_clock_and_the_client_decides() {
        let missing = files("missing-intermediate", Client::Both);
        assert!(!missing.accepted);
        assert!(!missing.accepted);
        let steps: Vec<Step> = missing.checks.iter().map(|c| c.step).collect();
        assert_eq!(steps, [Step::Chain, Step::Name, Step::Clock]);
        assert_eq!(missing.checks[0].status, CheckStatus::Fail);
        assert!(
            missing.checks[0]
                .detail
                .contains("only its own certificate")
        );
        let json = serde_json::to_value(&missing).unwrap();
        assert_eq!(json["mode"], "offline");
        assert_eq!(json["client"], "both");
        assert_eq!(json["checks"][0]["step"], "chain");
        assert_eq!(json["checks"][0]["status"], "fail");
    }
}
