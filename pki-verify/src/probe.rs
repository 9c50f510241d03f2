//! The TLS probe: resolve, connect, and handshake with a gateway as a device would, recording
//! exactly the chain the server sent, the negotiated parameters, and whether the server asks
//! for (or, after the handshake, demands) a client certificate. Every step has a deadline.

use std::io::{ErrorKind, Read};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::ResolvesClientCert;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use serde::Serialize;

use crate::ClientAuth;

/// What to probe, and how.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Host name or IP address to connect to.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The name sent as SNI (default: `host`, unless it is an IP address).
    pub servername: Option<String>,
    /// ALPN protocols to offer, in order.
    pub alpn: Vec<String>,
    /// A client certificate chain and its key, for mutual TLS.
    pub client_auth: Option<ClientAuth>,
    /// The deadline of each network step.
    pub timeout: Duration,
}

/// Which step of the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Name resolution.
    Resolve,
    /// TCP connection.
    Connect,
    /// The TLS handshake.
    Handshake,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Resolve => "name resolution",
            Step::Connect => "TCP connection",
            Step::Handshake => "TLS handshake",
        })
    }
}

/// Why the probe could not reach a TLS conversation at all. The messages name no gateway: the
/// caller says which one (`cannot verify HOST:PORT: ...`, a scan's row), so that the address is
/// said once; an address is named only when it is not the gateway's own (a name's addresses).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The host name does not resolve.
    #[error("the name does not resolve ({reason})")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's reason.
        reason: String,
    },
    /// No address accepted a TCP connection.
    #[error(
        "connection refused or unreachable{} ({reason})",
        addresses_tried(host, *port, addresses)
    )]
    Connect {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The addresses tried, comma-separated.
        addresses: String,
        /// The last reason (with its address when several were tried).
        reason: String,
    },
    /// A step did not finish in time.
    #[error(
        "no answer within {secs:.1} s during the {step} (is something listening that speaks TLS?)"
    )]
    Timeout {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The step that timed out.
        step: Step,
        /// The deadline in seconds.
        secs: f64,
    },
    /// The server answered with something that is not TLS.
    #[error("the server does not speak TLS ({detail})")]
    NotTls {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// What was seen.
        detail: String,
    },
    /// The client certificate or key could not be used.
    #[error("the client certificate or key cannot be used: {0}")]
    ClientAuth(String),
    /// The server name is not valid for SNI.
    #[error("{0:?} is not a valid server name")]
    ServerName(String),
}

/// ` on ADDRESSES` when the addresses tried are not just the gateway's own address (a name's
/// addresses).
fn addresses_tried(host: &str, port: u16, addresses: &str) -> String {
    let own = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, port).to_string(),
        Err(_) => format!("{host}:{port}"),
    };
    if addresses == own {
        String::new()
    } else {
        format!(" on {addresses}")
    }
}

/// What happened after the handshake, in the first read with a short timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum AfterHandshake {
    /// The server said nothing (it waits for the client, as MQTT and AMQP brokers do).
    Quiet,
    /// The server rejected the connection for lack of a client certificate (TLS 1.3
    /// `certificate_required` alert, sent after the client's Finished).
    ClientCertificateRequired,
    /// The server sent another alert.
    Alert(TlsAlert),
    /// Our TLS stack refused what the server sent (rustls's reason).
    Refused(String),
    /// The server closed the connection.
    Closed,
    /// The server sent application data.
    Data,
}

/// A TLS alert, named as OpenSSL prints it (`handshake failure`, `certificate required`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsAlert(pub rustls::AlertDescription);

impl TlsAlert {
    /// Whether the alert is about a certificate (`bad certificate`, `certificate required`,
    /// `unknown ca`...), the client's proof of its key (`decrypt error`), a refusal of the
    /// client (`access denied`) or the generic `handshake failure` a server sends for a missing
    /// one.
    pub fn may_concern_the_client_certificate(self) -> bool {
        use rustls::AlertDescription as A;
        matches!(
            self.0,
            A::HandshakeFailure
                | A::UnknownCA
                | A::DecryptError
                | A::AccessDenied
                | A::BadCertificate
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::CertificateUnknown
                | A::CertificateRequired
                | A::CertificateUnobtainable
                | A::BadCertificateStatusResponse
                | A::BadCertificateHashValue
        )
    }
}

impl std::fmt::Display for TlsAlert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // CamelCase to OpenSSL's spaced lower case (`certificate required`), acronyms kept
        // whole (`UnknownCA` is `unknown ca`, `UnknownPSKIdentity` `unknown psk identity`).
        let name: Vec<char> = format!("{:?}", self.0).chars().collect();
        for (i, &c) in name.iter().enumerate() {
            let prev_lower = i > 0 && name[i - 1].is_ascii_lowercase();
            let acronym_ends = i > 0
                && name[i - 1].is_ascii_uppercase()
                && name.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if c.is_ascii_uppercase() && (prev_lower || acronym_ends) {
                f.write_str(" ")?;
            }
            write!(f, "{}", c.to_ascii_lowercase())?;
        }
        Ok(())
    }
}

impl Serialize for TlsAlert {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Why a TLS handshake that began did not complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum HandshakeFailure {
    /// The server sent a fatal alert.
    Alert {
        /// The alert.
        alert: TlsAlert,
    },
    /// The server closed the connection after it had begun its part of the handshake.
    Closed,
    /// The server's certificate chain is over the 64 KiB a handshake message may carry.
    ChainTooLarge,
    /// Our TLS stack refused what the server sent (rustls's reason, e.g. no common version).
    Refused {
        /// rustls's reason.
        reason: String,
    },
}

impl HandshakeFailure {
    /// The server refused with `no application protocol`: it wants an ALPN protocol offered.
    pub fn wants_alpn(&self) -> bool {
        matches!(
            self,
            HandshakeFailure::Alert {
                alert: TlsAlert(rustls::AlertDescription::NoApplicationProtocol)
            }
        )
    }

    /// The failure may be the server's refusal of a missing or unwanted client certificate.
    pub fn may_concern_the_client_certificate(&self) -> bool {
        match self {
            HandshakeFailure::Alert { alert } => alert.may_concern_the_client_certificate(),
            HandshakeFailure::Refused { .. }
            | HandshakeFailure::Closed
            | HandshakeFailure::ChainTooLarge => false,
        }
    }
}

impl std::fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandshakeFailure::Alert { alert } => write!(f, "the server sent the alert {alert}"),
            HandshakeFailure::Closed => {
                f.write_str("the server closed the connection during the handshake")
            }
            HandshakeFailure::ChainTooLarge => f.write_str(
                "the server's certificate chain is larger than 64 KiB, more than rustls (and many device TLS stacks) accept: serve the server certificate and its intermediates only, not a whole bundle",
            ),
            HandshakeFailure::Refused { reason } => f.write_str(reason),
        }
    }
}

/// What the probe saw.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    /// The host as given.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The addresses the name resolved to.
    pub addresses: Vec<IpAddr>,
    /// The address that accepted the connection.
    pub connected_to: SocketAddr,
    /// The SNI sent, if any (none for an IP address).
    pub sni: Option<String>,
    /// The handshake's outcome: `None` when it completed, else what went wrong (an alert from
    /// the server, or our own refusal).
    pub handshake_error: Option<HandshakeFailure>,
    /// The negotiated protocol version (`TLSv1.3`).
    pub tls_version: Option<String>,
    /// The negotiated cipher suite.
    pub cipher_suite: Option<String>,
    /// The negotiated ALPN protocol.
    pub alpn: Option<String>,
    /// Exactly the certificates the server sent, DER, in its order.
    #[serde(skip)]
    pub chain: Vec<Vec<u8>>,
    /// The server sent a CertificateRequest.
    pub client_certificate_requested: bool,
    /// The CAs the server's CertificateRequest names as acceptable issuers of a client
    /// certificate, in OpenSSL's one-line form (`CN = IoT Owner Root CA`), as `openssl s_client`
    /// prints them under "Acceptable client certificate CA names"; empty when it named none,
    /// `None` when it asked for no certificate.
    pub client_ca_names: Option<Vec<String>>,
    /// The same names, DER.
    #[serde(skip)]
    pub client_ca_names_der: Option<Vec<Vec<u8>>>,
    /// The first read after a TLS 1.3 handshake in which the server asked for a client
    /// certificate (`None` when there was nothing to learn that way).
    pub after_handshake: Option<AfterHandshake>,
}

/// Connects and handshakes. A server that cannot be reached, is silent, or speaks no TLS is a
/// [`ProbeError`]; a handshake the server (or we) aborted is a report with `handshake_error`.
pub fn probe(opts: &ProbeOptions) -> Result<ProbeReport, ProbeError> {
    let addresses = resolve(&opts.host, opts.port, opts.timeout)?;
    let started = Instant::now();
    let (sock, connected_to) = connect(opts, &addresses)?;
    let connect_time = started.elapsed();
    let sni = match &opts.servername {
        Some(s) => Some(s.clone()),
        None if opts.host.parse::<IpAddr>().is_ok() => None,
        None => Some(opts.host.clone()),
    };
    let server_name: ServerName<'static> = match &sni {
        Some(s) => {
            ServerName::try_from(s.clone()).map_err(|_| ProbeError::ServerName(s.clone()))?
        }
        None => ServerName::IpAddress(
            opts.host
                .trim_matches(['[', ']'])
                .parse::<IpAddr>()
                .map_err(|_| ProbeError::ServerName(opts.host.clone()))?
                .into(),
        ),
    };
    let recorder = Arc::new(Recorder::default());
    let requested = Arc::new(AtomicBool::new(false));
    let hints: Arc<Mutex<Option<Vec<Vec<u8>>>>> = Arc::default();
    let config = client_config(opts, recorder.clone(), requested.clone(), hints.clone())?;
    let mut conn = ClientConnection::new(Arc::new(config), server_name)
        .map_err(|e| ProbeError::ClientAuth(e.to_string()))?;
    let mut sock = sock;
    let deadline = Instant::now() + opts.timeout;
    let handshake = drive_handshake(&mut conn, &mut sock, deadline);
    let err = |step: Step| ProbeError::Timeout {
        host: opts.host.clone(),
        port: opts.port,
        step,
        secs: opts.timeout.as_secs_f64(),
    };
    let chain = recorder.chain();
    let client_ca_names = hints.lock().ok().and_then(|h| h.clone());
    let handshake_error = match handshake {
        Ok(()) => None,
        Err(HsError::Timeout) => return Err(err(Step::Handshake)),
        Err(HsError::NotTls(detail)) => {
            return Err(ProbeError::NotTls {
                host: opts.host.clone(),
                port: opts.port,
                detail,
            });
        }
        Err(HsError::Closed) if chain.is_empty() => {
            return Err(ProbeError::NotTls {
                host: opts.host.clone(),
                port: opts.port,
                detail: "the server closed the connection without a TLS answer".into(),
            });
        }
        Err(HsError::Closed) => Some(HandshakeFailure::Closed),
        Err(HsError::Tls(e)) => Some(e),
    };
    // A server can only reject a missing or unwanted client certificate after the handshake in
    // TLS 1.3, and only if it asked for one: then read once, for a few round trips.
    let tls13 = conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3);
    let after_handshake = if handshake_error.is_none() && tls13 && requested.load(Ordering::SeqCst)
    {
        let wait = (connect_time * 4)
            .clamp(Duration::from_millis(250), Duration::from_millis(1500))
            .min(opts.timeout);
        Some(first_read(&mut conn, &mut sock, wait))
    } else {
        None
    };
    Ok(ProbeReport {
        host: opts.host.clone(),
        port: opts.port,
        addresses: addresses.iter().map(SocketAddr::ip).collect(),
        connected_to,
        sni,
        handshake_error,
        tls_version: conn.protocol_version().map(|v| match v {
            rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
            rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
            other => format!("{other:?}"),
        }),
        cipher_suite: conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite())),
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        chain,
        client_certificate_requested: requested.load(Ordering::SeqCst),
        client_ca_names: client_ca_names.as_ref().map(|names| {
            names
                .iter()
                .map(|der| {
                    pki_x509::Name::from_der(der).map_or_else(
                        || format!("(not a distinguished name: {})", pki_x509::hex_upper(der)),
                        |n| n.text(pki_x509::NameStyle::OpenSslOneline).to_owned(),
                    )
                })
                .collect()
        }),
        client_ca_names_der: client_ca_names,
        after_handshake,
    })
}

fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, ProbeError> {
    let bare = host.trim_matches(['[', ']']);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    // The system resolver has no deadline of its own: run it on a thread and stop waiting.
    let (tx, rx) = std::sync::mpsc::channel();
    let target = (bare.to_owned(), port);
    std::thread::spawn(move || {
        let _ = tx.send(target.to_socket_addrs().map(Iterator::collect::<Vec<_>>));
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(ProbeError::Resolve {
            host: host.to_owned(),
            reason: "no addresses".into(),
        }),
        Ok(Err(e)) => Err(ProbeError::Resolve {
            host: host.to_owned(),
            reason: e.to_string(),
        }),
        Err(_) => Err(ProbeError::Timeout {
            host: host.to_owned(),
            port,
            step: Step::Resolve,
            secs: timeout.as_secs_f64(),
        }),
    }
}

fn connect(
    opts: &ProbeOptions,
    addrs: &[SocketAddr],
) -> Result<(TcpStream, SocketAddr), ProbeError> {
    let mut last = String::new();
    let mut timed_out = false;
    // The reason names its address only when there were several to tell apart.
    let at = |addr: &SocketAddr| {
        if addrs.len() > 1 {
            format!("{addr}: ")
        } else {
            String::new()
        }
    };
    for addr in addrs {
        match TcpStream::connect_timeout(addr, opts.timeout) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok((s, *addr));
            }
            Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::WouldBlock => {
                timed_out = true;
                last = format!("{}timed out", at(addr));
            }
            Err(e) => last = format!("{}{e}", at(addr)),
        }
    }
    if timed_out && addrs.len() == 1 {
        return Err(ProbeError::Timeout {
            host: opts.host.clone(),
            port: opts.port,
            step: Step::Connect,
            secs: opts.timeout.as_secs_f64(),
        });
    }
    Err(ProbeError::Connect {
        host: opts.host.clone(),
        port: opts.port,
        addresses: addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        reason: last,
    })
}

enum HsError {
    Timeout,
    NotTls(String),
    Closed,
    Tls(HandshakeFailure),
}

fn drive_handshake(
    conn: &mut ClientConnection,
    sock: &mut TcpStream,
    deadline: Instant,
) -> Result<(), HsError> {
    while conn.is_handshaking() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(HsError::Timeout);
        }
        let _ = sock.set_read_timeout(Some(left));
        let _ = sock.set_write_timeout(Some(left));
        while conn.wants_write() {
            match conn.write_tls(sock) {
                Ok(_) => {}
                Err(e) if is_timeout(&e) => return Err(HsError::Timeout),
                Err(_) => return Err(HsError::Closed),
            }
        }
        if !conn.is_handshaking() {
            break;
        }
        match conn.read_tls(sock) {
            Ok(0) => return Err(HsError::Closed),
            Ok(_) => {}
            Err(e) if is_timeout(&e) => return Err(HsError::Timeout),
            Err(_) => return Err(HsError::Closed),
        }
        if let Err(e) = conn.process_new_packets() {
            // Tell the server why, as a real client would, then report.
            while conn.wants_write() {
                if conn.write_tls(sock).is_err() {
                    break;
                }
            }
            return Err(classify(e));
        }
    }
    // Flush the client's Finished.
    while conn.wants_write() {
        if conn.write_tls(sock).is_err() {
            break;
        }
    }
    Ok(())
}

fn classify(e: rustls::Error) -> HsError {
    use rustls::Error as E;
    match e {
        // rustls refuses a handshake message (in practice, the certificate chain) over 64 KiB:
        // that is TLS, just too much of it.
        E::InvalidMessage(
            rustls::InvalidMessage::CertificatePayloadTooLarge
            | rustls::InvalidMessage::HandshakePayloadTooLarge,
        ) => HsError::Tls(HandshakeFailure::ChainTooLarge),
        E::InvalidMessage(m) => HsError::NotTls(format!(
            "it answered with something that is not a TLS record ({m:?})"
        )),
        E::AlertReceived(a) => HsError::Tls(HandshakeFailure::Alert { alert: TlsAlert(a) }),
        other => HsError::Tls(HandshakeFailure::Refused {
            reason: other.to_string(),
        }),
    }
}

fn first_read(conn: &mut ClientConnection, sock: &mut TcpStream, wait: Duration) -> AfterHandshake {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return AfterHandshake::Quiet;
        }
        let _ = sock.set_read_timeout(Some(left));
        match conn.read_tls(sock) {
            Ok(0) => return AfterHandshake::Closed,
            Ok(_) => {}
            Err(e) if is_timeout(&e) => return AfterHandshake::Quiet,
            Err(_) => return AfterHandshake::Closed,
        }
        match conn.process_new_packets() {
            Err(rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired)) => {
                return AfterHandshake::ClientCertificateRequired;
            }
            Err(rustls::Error::AlertReceived(a)) => return AfterHandshake::Alert(TlsAlert(a)),
            Err(e) => return AfterHandshake::Refused(e.to_string()),
            Ok(state) => {
                if state.plaintext_bytes_to_read() > 0 {
                    let mut buf = [0u8; 64];
                    let _ = conn.reader().read(&mut buf);
                    return AfterHandshake::Data;
                }
                if state.peer_has_closed() {
                    return AfterHandshake::Closed;
                }
                // A NewSessionTicket or similar: keep reading until the deadline.
            }
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn client_config(
    opts: &ProbeOptions,
    recorder: Arc<Recorder>,
    requested: Arc<AtomicBool>,
    hints: Arc<Mutex<Option<Vec<Vec<u8>>>>>,
) -> Result<ClientConfig, ProbeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ProbeError::ClientAuth(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordingVerifier {
            recorder,
            provider: provider.clone(),
        }));
    let cert = match &opts.client_auth {
        Some(auth) => Some(
            auth.certified_key(&provider)
                .map_err(ProbeError::ClientAuth)?,
        ),
        None => None,
    };
    let mut config = builder.with_client_cert_resolver(Arc::new(ClientCert {
        cert,
        requested,
        hints,
    }));
    config.alpn_protocols = opts.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Ok(config)
}

/// Keeps the chain the server sent.
#[derive(Debug, Default)]
struct Recorder {
    chain: Mutex<Vec<Vec<u8>>>,
}

impl Recorder {
    fn chain(&self) -> Vec<Vec<u8>> {
        self.chain.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// Accepts any chain (pki judges it afterwards, both ways) but records it; handshake
/// signatures are still checked, so the server proves it holds the leaf's key.
#[derive(Debug)]
struct RecordingVerifier {
    recorder: Arc<Recorder>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut c) = self.recorder.chain.lock() {
            *c = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|d| d.as_ref().to_vec())
                .collect();
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // Ed448 and RSA-PSS keys (rsassaPss), which OpenSSL servers use and ring does not
        // verify: checked here, so that the chain they present can be judged.
        let scheme = u16::from(dss.scheme);
        if crate::signature::TLS13_EXTRA_SCHEMES.contains(&scheme) {
            let parsed = x509_parser::parse_x509_certificate(cert.as_ref()).map_err(|_| {
                rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding)
            })?;
            return match crate::signature::tls13_handshake(
                scheme,
                parsed.1.public_key(),
                message,
                dss.signature(),
            ) {
                Some(true) => Ok(HandshakeSignatureValid::assertion()),
                _ => Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::BadSignature,
                )),
            };
        }
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let mut schemes = self
            .provider
            .signature_verification_algorithms
            .supported_schemes();
        schemes.extend(
            crate::signature::TLS13_EXTRA_SCHEMES
                .iter()
                .map(|&s| SignatureScheme::from(s)),
        );
        schemes
    }
}

/// Presents the client certificate if there is one, and notes that the server asked and
/// which CAs it named.
#[derive(Debug)]
struct ClientCert {
    cert: Option<Arc<rustls::sign::CertifiedKey>>,
    requested: Arc<AtomicBool>,
    hints: Arc<Mutex<Option<Vec<Vec<u8>>>>>,
}

impl ResolvesClientCert for ClientCert {
    fn resolve(
        &self,
        hints: &[&[u8]],
        _schemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.requested.store(true, Ordering::SeqCst);
        if let Ok(mut h) = self.hints.lock() {
            *h = Some(hints.iter().map(|n| n.to_vec()).collect());
        }
        self.cert.clone()
    }

    fn has_certs(&self) -> bool {
        // Always answer a CertificateRequest through `resolve`, so that it is noticed.
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::AlertDescription as A;

    #[test]
    fn alerts_are_named_as_openssl_names_them() {
        assert_eq!(
            TlsAlert(A::CertificateRequired).to_string(),
            "certificate required"
        );
        assert_eq!(
            TlsAlert(A::HandshakeFailure).to_string(),
            "handshake failure"
        );
        assert_eq!(
            TlsAlert(A::UnknownPSKIdentity).to_string(),
            "unknown psk identity"
        );
        let f = HandshakeFailure::Alert {
            alert: TlsAlert(A::NoApplicationProtocol),
        };
        assert_eq!(
            f.to_string(),
            "the server sent the alert no application protocol"
        );
        assert!(f.wants_alpn());
        assert!(!f.may_concern_the_client_certificate());
    }

    #[test]
    fn which_failures_may_be_about_the_client_certificate() {
        let alert = |a| HandshakeFailure::Alert { alert: TlsAlert(a) };
        for a in [
            A::HandshakeFailure,
            A::BadCertificate,
            A::CertificateRequired,
            A::UnknownCA,
            A::DecryptError,
        ] {
            assert!(alert(a).may_concern_the_client_certificate(), "{a:?}");
        }
        for f in [
            alert(A::ProtocolVersion),
            alert(A::InternalError),
            HandshakeFailure::Closed,
            HandshakeFailure::ChainTooLarge,
            HandshakeFailure::Refused {
                reason: "peer sent no certificates".into(),
            },
        ] {
            assert!(!f.may_concern_the_client_certificate(), "{f:?}");
            assert!(!f.wants_alpn(), "{f:?}");
        }
    }

    #[test]
    fn failures_serialise_as_data() {
        let f = HandshakeFailure::Alert {
            alert: TlsAlert(A::BadCertificate),
        };
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            serde_json::json!({"kind": "alert", "alert": "bad certificate"})
        );
        assert_eq!(
            serde_json::to_value(AfterHandshake::Alert(TlsAlert(A::UnknownCA))).unwrap(),
            serde_json::json!({"kind": "alert", "detail": "unknown ca"})
        );
    }
}
