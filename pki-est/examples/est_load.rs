//! The load generator of `bench/est.sh`: CLIENTS concurrent EST clients against `pki est
//! serve`, each over one keep-alive TLS connection authenticated with its bootstrap client
//! certificate (DIR/bench-I.cert.pem and .key.pem, CN=bench-I), each POSTing its own P-256 CSR
//! (CN=bench-I, made before the clock starts) to `/simpleenroll` until REQUESTS enrolments are
//! done between them. Every answer must be 200 with a certs-only PKCS#7; one in 64 is decoded
//! (RustCrypto's cms) and must hold one certificate; `--sample FILE` writes the last answer's
//! body there (for openssl).
//!
//! Prints one line: `requests seconds enrolments/s p50_ms p99_ms errors` (the clock runs from
//! when every client has its connection until the last answer). With `--rss-pid PID` it also
//! prints, every `--rss-every` enrolments, `rss ENROLMENTS KIB` (that process's VmRSS).
//!
//! Usage: est_load URL ROOT_PEM DIR CLIENTS REQUESTS [--sample FILE] [--rss-pid PID]
//! [--rss-every N]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

type Failure = Box<dyn std::error::Error + Send + Sync>;

struct Options {
    url: String,
    root: String,
    dir: std::path::PathBuf,
    clients: usize,
    requests: u64,
    sample: Option<std::path::PathBuf>,
    rss_pid: Option<u32>,
    rss_every: u64,
}

fn options() -> Result<Options, Failure> {
    let mut args = std::env::args().skip(1);
    let mut next = |what: &str| args.next().ok_or_else(|| format!("missing {what}"));
    let mut o = Options {
        url: next("URL")?,
        root: next("ROOT_PEM")?,
        dir: next("DIR")?.into(),
        clients: next("CLIENTS")?.parse()?,
        requests: next("REQUESTS")?.parse()?,
        sample: None,
        rss_pid: None,
        rss_every: 10_000,
    };
    while let Ok(flag) = next("a flag") {
        let value = next(&flag)?;
        match flag.as_str() {
            "--sample" => o.sample = Some(value.into()),
            "--rss-pid" => o.rss_pid = Some(value.parse()?),
            "--rss-every" => o.rss_every = value.parse()?,
            _ => return Err(format!("unknown flag {flag}").into()),
        }
    }
    Ok(o)
}

/// A client: its TLS configuration (bootstrap certificate) and its CSR's base64 body.
struct Client {
    tls: Arc<rustls::ClientConfig>,
    csr: Bytes,
}

fn client(o: &Options, roots: &rustls::RootCertStore, i: usize) -> Result<Client, Failure> {
    let name = format!("bench-{i}");
    let cert_file = o.dir.join(format!("{name}.cert.pem"));
    let chain = CertificateDer::pem_file_iter(&cert_file)
        .map_err(|e| format!("{}: {e}", cert_file.display()))?
        .collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(o.dir.join(format!("{name}.key.pem")))?;
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots.clone())
    .with_client_auth_cert(chain, key)?;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let der = params.serialize_request(&key)?.der().to_vec();
    // As aziot-certd sends it: base64 in 64-character lines.
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut body = String::new();
    for line in b64.as_bytes().chunks(64) {
        body.push_str(std::str::from_utf8(line)?);
        body.push('\n');
    }
    Ok(Client {
        tls: Arc::new(tls),
        csr: Bytes::from(body),
    })
}

/// What the clients share while they run.
struct Shared {
    url: hyper::Uri,
    claimed: AtomicU64,
    done: AtomicU64,
    requests: u64,
    rss_pid: Option<u32>,
    rss_every: u64,
}

/// One client's tally.
#[derive(Default)]
struct Tally {
    micros: Vec<u64>,
    errors: u64,
    last: Option<Bytes>,
}

async fn connect(
    addr: &str,
    host: &str,
    tls: Arc<rustls::ClientConfig>,
) -> Result<SendRequest<Full<Bytes>>, Failure> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let name = ServerName::try_from(host.to_owned())?;
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await?;
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(send)
}

/// Checks a 200's body: base64 of a certs-only PKCS#7 holding one certificate.
fn check_pkcs7(body: &[u8]) -> Result<(), Failure> {
    use cms::content_info::ContentInfo;
    use cms::signed_data::SignedData;
    use der::Decode as _;
    let text: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(text)?;
    let info = ContentInfo::from_der(&der)?;
    let signed: SignedData = info.content.decode_as()?;
    let n = signed.certificates.map_or(0, |c| c.0.len());
    if n != 1 {
        return Err(format!("the PKCS#7 holds {n} certificates, not 1").into());
    }
    Ok(())
}

fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn run_client(
    shared: Arc<Shared>,
    mut send: SendRequest<Full<Bytes>>,
    csr: Bytes,
    start: Arc<tokio::sync::Barrier>,
) -> Tally {
    let mut tally = Tally::default();
    start.wait().await;
    while shared.claimed.fetch_add(1, Ordering::Relaxed) < shared.requests {
        let req = Request::post(shared.url.clone())
            .header("host", shared.url.authority().map_or("", |a| a.as_str()))
            .header("content-type", "application/pkcs10")
            .header("content-transfer-encoding", "base64")
            .body(Full::new(csr.clone()));
        let t0 = Instant::now();
        let answer = async {
            let req = req?;
            send.ready().await?;
            let resp = send.send_request(req).await?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            Ok::<_, Failure>((status, body))
        }
        .await;
        let micros = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX);
        let n = shared.done.fetch_add(1, Ordering::Relaxed) + 1;
        match answer {
            Ok((StatusCode::OK, body)) => {
                if n.is_multiple_of(64)
                    && let Err(e) = check_pkcs7(&body)
                {
                    eprintln!("est_load: answer {n}: {e}");
                    tally.errors += 1;
                    continue;
                }
                tally.micros.push(micros);
                tally.last = Some(body);
            }
            Ok((status, body)) => {
                if tally.errors == 0 {
                    eprintln!(
                        "est_load: {status}: {}",
                        String::from_utf8_lossy(&body).trim()
                    );
                }
                tally.errors += 1;
            }
            Err(e) => {
                eprintln!("est_load: the connection failed: {e}");
                tally.errors += 1;
                break;
            }
        }
        if let Some(pid) = shared.rss_pid
            && n.is_multiple_of(shared.rss_every)
        {
            println!("rss {n} {}", vm_rss_kib(pid).unwrap_or(0));
        }
    }
    tally
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

async fn main_async(o: Options) -> Result<(), Failure> {
    let url: hyper::Uri = format!("{}/simpleenroll", o.url.trim_end_matches('/')).parse()?;
    let host = url.host().ok_or("the URL has no host")?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addr = format!(
        "{}:{}",
        url.host().unwrap_or_default(),
        url.port_u16().unwrap_or(443)
    );
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&o.root)? {
        roots.add(c?)?;
    }
    let clients = (0..o.clients)
        .map(|i| client(&o, &roots, i))
        .collect::<Result<Vec<_>, _>>()?;
    // Every connection made and tried (GET /cacerts) before the clock starts.
    let cacerts: hyper::Uri = format!("{}/cacerts", o.url.trim_end_matches('/')).parse()?;
    let mut senders = Vec::new();
    for c in &clients {
        let mut send = connect(&addr, &host, c.tls.clone()).await?;
        let req = Request::get(cacerts.clone())
            .header("host", cacerts.authority().map_or("", |a| a.as_str()))
            .body(Full::new(Bytes::new()))?;
        let resp = send.send_request(req).await?;
        if resp.status() != StatusCode::OK {
            return Err(format!("GET /cacerts: {}", resp.status()).into());
        }
        resp.into_body().collect().await?;
        senders.push(send);
    }
    let shared = Arc::new(Shared {
        url,
        claimed: AtomicU64::new(0),
        done: AtomicU64::new(0),
        requests: o.requests,
        rss_pid: o.rss_pid,
        rss_every: o.rss_every.max(1),
    });
    if let Some(pid) = o.rss_pid {
        println!("rss 0 {}", vm_rss_kib(pid).unwrap_or(0));
    }
    let start = Arc::new(tokio::sync::Barrier::new(o.clients + 1));
    let mut tasks = Vec::new();
    for (send, c) in senders.into_iter().zip(&clients) {
        tasks.push(tokio::spawn(run_client(
            shared.clone(),
            send,
            c.csr.clone(),
            start.clone(),
        )));
    }
    start.wait().await;
    let t0 = Instant::now();
    let mut micros = Vec::new();
    let mut errors = 0;
    let mut last = None;
    for t in tasks {
        let tally = t.await?;
        micros.extend(tally.micros);
        errors += tally.errors;
        last = tally.last.or(last);
    }
    let secs = t0
        .elapsed()
        .as_secs_f64()
        .max(Duration::from_micros(1).as_secs_f64());
    micros.sort_unstable();
    if let (Some(path), Some(body)) = (&o.sample, &last) {
        std::fs::write(path, body)?;
    }
    let ok = micros.len() as u64;
    println!(
        "{} {secs:.3} {:.0} {:.1} {:.1} {errors}",
        ok + errors,
        ok as f64 / secs,
        percentile(&micros, 0.50),
        percentile(&micros, 0.99),
    );
    Ok(())
}

fn main() {
    let result = options().and_then(|o| {
        // One thread: the clients' work is small beside the server's, and the two share the
        // machine's cores.
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(main_async(o))
    });
    if let Err(e) = result {
        eprintln!("est_load: {e}");
        std::process::exit(2);
    }
}
