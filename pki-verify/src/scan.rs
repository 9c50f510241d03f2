//! The fleet scan: many gateways checked at once, each exactly as [`crate::check_gateway`]
//! checks one (`pki verify HOST:PORT`), plus the time left on every certificate each presents.
//!
//! The input is a hosts file ([`parse_hosts`]): one `HOST[:PORT]` a line (port 8883, MQTTS, by
//! default; IPv6 as `[ADDR]:PORT`), optionally followed by `servername=NAME` (the SNI sent and
//! the name checked, for a gateway reached by its address) and by `cert=FILE key=FILE` (the
//! device certificate this gateway is shown, where gateways trust different client CAs; a
//! `pkcs11:` URI as the key; paths relative to the hosts file's directory); `#` starts a
//! comment, blank lines are ignored. A host is a host name or an IP address, as a TLS client
//! can name it (`rustls`' `ServerName`), and so is a `servername`; a line is at most
//! [`MAX_HOSTS_LINE`] bytes. [`scan`] checks the hosts with a bounded number of worker threads, each network
//! step bounded by the timeout, and hands each [`HostReport`] to the caller in the file's order
//! as soon as it and every host before it are done.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use pki_x509::{NameStyle, Summary, Threshold};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{
    Check, CheckStatus, Client, ClientAuth, Error, GatewayReport, GatewayRequest, OpensslVerdict,
    WebpkiVerdict, check_gateway,
};

/// The port of a host given without one: the gateway's MQTTS port.
pub const DEFAULT_PORT: u16 = 8883;

/// The longest line of a hosts file, in bytes: room for a host, a servername and two paths of
/// the longest a system allows, and a bound on what a line can cost.
pub const MAX_HOSTS_LINE: usize = 8 * 1024;

/// The most characters of a hosts file's word that an error quotes.
const QUOTED: usize = 80;

/// `word` quoted for an error line (as `{:?}`), cut to [`QUOTED`] characters.
fn quoted(word: &str) -> String {
    if word.chars().count() <= QUOTED {
        return format!("{word:?}");
    }
    let cut: String = word.chars().take(QUOTED).collect();
    format!("{cut:?}… ({} characters)", word.chars().count())
}

/// Whether `name` is one a TLS client can connect to and check: a DNS name (labels of letters,
/// digits, `-` and `_`, at most 63 each and 253 in all) or an IP address.
fn is_host_name(name: &str) -> bool {
    rustls_pki_types::ServerName::try_from(name).is_ok()
}

/// Splits `HOST[:PORT]` (an IPv6 address as `[ADDR]:PORT`, `[ADDR]` or bare) into the host and
/// the port, `default_port` when none is given; `None` when it is not of that form.
pub fn split_host_port(target: &str, default_port: u16) -> Option<(String, u16)> {
    if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return (!host.is_empty()).then(|| (host.to_owned(), port));
    }
    if target.parse::<Ipv6Addr>().is_ok() {
        return Some((target.to_owned(), default_port));
    }
    match target.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => Some((h.to_owned(), p.parse().ok()?)),
        Some(_) => None,
        None if !target.is_empty() => Some((target.to_owned(), default_port)),
        None => None,
    }
}

/// The device certificate and key a hosts file's line names (`cert=FILE key=FILE`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ClientFiles {
    /// The certificate file (with its chain after it, when it holds one).
    pub cert: PathBuf,
    /// The key file, or the `pkcs11:` URI of a key on a token.
    pub key: PathBuf,
}

/// One gateway of a hosts file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanTarget {
    /// The host to connect to (a name or an IP address).
    pub host: String,
    /// The port.
    pub port: u16,
    /// The SNI to send and the name to check, when not the host.
    pub servername: Option<String>,
    /// The device certificate to present to this gateway, when the line names its own.
    pub client: Option<ClientFiles>,
    /// The line of the hosts file (1-based).
    pub line: usize,
}

impl ScanTarget {
    /// `host:port`, an IPv6 address in brackets.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Reads a hosts file's text (see the module documentation); `input` names the file in errors,
/// `base` is the directory a relative `cert=` or `key=` path is read from (the hosts file's).
/// A line that is not a gateway refuses the whole file, naming the line: a scan of half a
/// fleet would report the other half as fine.
pub fn parse_hosts(text: &str, input: &str, base: &Path) -> Result<Vec<ScanTarget>, Error> {
    let mut targets = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let bad = |reason: String| Error::HostsFile {
            input: input.to_owned(),
            line,
            reason,
        };
        if raw.len() > MAX_HOSTS_LINE {
            return Err(bad(format!(
                "longer than {MAX_HOSTS_LINE} bytes ({} bytes): a line is one HOST[:PORT] and at most servername=NAME, cert=FILE and key=FILE",
                raw.len()
            )));
        }
        let content = raw.split_once('#').map_or(raw, |(before, _)| before);
        let mut words = content.split_whitespace();
        let Some(first) = words.next() else {
            continue;
        };
        let (host, port) = split_host_port(first, DEFAULT_PORT).ok_or_else(|| {
            bad(format!(
                "{} is not HOST[:PORT] (for example gw.contoso.com:8883 or [fd00::4]:8883)",
                quoted(first)
            ))
        })?;
        if !is_host_name(&host) {
            return Err(bad(format!(
                "{} is neither a host name nor an IP address (letters, digits, '-' and '_' in labels of at most 63, 253 in all)",
                quoted(&host)
            )));
        }
        let (mut servername, mut cert, mut key) = (None, None, None);
        for word in words {
            let (slot, value) = match word.split_once('=') {
                Some(("servername", v)) => (&mut servername, v),
                Some(("cert", v)) => (&mut cert, v),
                Some(("key", v)) => (&mut key, v),
                _ => {
                    return Err(bad(format!(
                        "{}: only servername=NAME, cert=FILE and key=FILE may follow the host",
                        quoted(word)
                    )));
                }
            };
            if value.is_empty() || slot.is_some() {
                let name = word.split_once('=').map_or(word, |(n, _)| n);
                let (what, noun) = if name == "servername" {
                    ("NAME", "name")
                } else {
                    ("FILE", "file")
                };
                return Err(bad(format!(
                    "{}: give one {name}={what} with a {noun}",
                    quoted(word)
                )));
            }
            *slot = Some(value.to_owned());
        }
        if let Some(name) = &servername
            && !is_host_name(name)
        {
            return Err(bad(format!(
                "servername {} is not a host name (the name a gateway's certificate is checked for)",
                quoted(name)
            )));
        }
        let client = match (cert, key) {
            (Some(cert), Some(key)) => Some(ClientFiles {
                cert: base.join(cert),
                // A token's key is a URI (RFC 7512), not a path.
                key: if key.starts_with("pkcs11:") {
                    PathBuf::from(key)
                } else {
                    base.join(key)
                },
            }),
            (None, None) => None,
            (Some(_), None) => return Err(bad("cert=FILE needs key=FILE on the same line".into())),
            (None, Some(_)) => return Err(bad("key=FILE needs cert=FILE on the same line".into())),
        };
        targets.push(ScanTarget {
            host,
            port,
            servername,
            client,
            line,
        });
    }
    if targets.is_empty() {
        return Err(Error::NoHosts {
            input: input.to_owned(),
        });
    }
    Ok(targets)
}

/// How every host of a scan is checked.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// The devices' trust anchors, DER.
    pub anchors: Vec<Vec<u8>>,
    /// Where the anchors came from, for the reports.
    pub anchors_label: String,
    /// Bound of each network step of each host.
    pub timeout: Duration,
    /// The instant of the check.
    pub at: OffsetDateTime,
    /// A certificate that reaches this threshold at `at` is reported as expiring.
    pub warn: Threshold,
    /// How many hosts are checked at the same time (at least one).
    pub jobs: usize,
    /// The device certificate presented to a gateway whose line names none.
    pub client_auth: Option<ClientAuth>,
    /// The device certificates the hosts file's lines name, each read once however many lines
    /// share it. A line whose files are missing here is reported failed.
    pub line_client_auth: BTreeMap<ClientFiles, ClientAuth>,
}

/// How a host stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostStatus {
    /// A device accepts the gateway and no certificate it presents reaches the warning.
    Ok,
    /// A device accepts the gateway, but a certificate it presents reaches the warning.
    Expiring,
    /// A device would not accept the gateway (or its chain could not be judged).
    Failed,
    /// The gateway could not be checked: its name does not resolve, its port refuses, it stays
    /// silent or speaks no TLS.
    Unreachable,
}

/// One certificate a gateway presented.
#[derive(Debug, Clone, Serialize)]
pub struct PresentedCertificate {
    /// Its place in what the gateway sent (0: the gateway's own certificate).
    pub depth: usize,
    /// The subject (`CN=gw, O=Contoso`).
    pub subject: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whole days from the check to notAfter, rounded toward zero (negative once expired).
    pub days_left: i64,
    /// It has reached the warning threshold (or expired).
    pub expiring: bool,
    /// Its serial, upper-case hex.
    pub serial: String,
    /// SHA-256 of its DER, upper-case hex (what the register knows it by).
    pub sha256: String,
    /// The certificate, as sent.
    #[serde(skip)]
    pub certificate: pki_x509::Certificate,
}

/// What the scan says of one host.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    /// `host:port`.
    pub target: String,
    /// The SNI sent and the name checked, when not the host.
    pub servername: Option<String>,
    /// The device certificate file presented, if any.
    pub client_certificate: Option<String>,
    /// The line of the hosts file.
    pub line: usize,
    /// The instant of the check.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// How the host stands.
    pub status: HostStatus,
    /// Whether a device (OpenSSL-based and rustls alike) accepts the gateway, as `pki verify`
    /// decides it.
    pub accepted: bool,
    /// What OpenSSL-based devices say of the chain (none when nothing was presented).
    pub openssl: Option<OpensslVerdict>,
    /// What rustls clients say of the chain.
    pub rustls: Option<WebpkiVerdict>,
    /// Every certificate the gateway presented, with the time left on each.
    pub certificates: Vec<PresentedCertificate>,
    /// The soonest notAfter of them.
    #[serde(with = "time::serde::rfc3339::option")]
    pub soonest_not_after: Option<OffsetDateTime>,
    /// Whole days left until the soonest notAfter.
    pub days_left: Option<i64>,
    /// Why the host is not ok, in a few words (empty when it is).
    pub reason: String,
    /// The fix the failed check points to, where it is the caller's input (the check's
    /// [`crate::Fix`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<crate::gateway::Fix>,
    /// Every check of `pki verify`, in order (none when the host could not be checked).
    pub checks: Vec<Check>,
}

impl HostReport {
    /// The report of a host whose check ended in `report` (or could not run).
    fn new(
        target: &ScanTarget,
        opts: &ScanOptions,
        client_certificate: Option<String>,
        report: Result<GatewayReport, Error>,
    ) -> HostReport {
        let mut host = HostReport {
            target: target.address(),
            servername: target.servername.clone(),
            client_certificate,
            line: target.line,
            at: opts.at,
            status: HostStatus::Unreachable,
            accepted: false,
            openssl: None,
            rustls: None,
            certificates: Vec::new(),
            soonest_not_after: None,
            days_left: None,
            reason: String::new(),
            fix: None,
            checks: Vec::new(),
        };
        let report = match report {
            Ok(r) => r,
            Err(e @ Error::Probe(_)) => {
                host.reason = e.to_string();
                return host;
            }
            Err(e) => {
                host.status = HostStatus::Failed;
                host.reason = e.to_string();
                return host;
            }
        };
        host.certificates = presented(&report.presented, opts);
        let soonest = host.certificates.iter().min_by_key(|c| c.not_after);
        host.soonest_not_after = soonest.map(|c| c.not_after);
        host.days_left = soonest.map(|c| c.days_left);
        let expiring = host
            .certificates
            .iter()
            .filter(|c| c.expiring)
            .min_by_key(|c| c.not_after);
        host.accepted = report.accepted;
        host.status = match (report.accepted, expiring) {
            (false, _) => HostStatus::Failed,
            (true, Some(_)) => HostStatus::Expiring,
            (true, None) => HostStatus::Ok,
        };
        if host.status == HostStatus::Failed {
            host.fix = first_failure(&report.checks).and_then(|c| c.fix.clone());
        }
        host.reason = match (host.status, expiring) {
            (HostStatus::Failed, _) => first_failure(&report.checks)
                .map_or("a device would not accept the gateway".to_owned(), |c| {
                    format!("{}: {}", c.step.name(), c.detail)
                }),
            (_, Some(c)) if c.days_left < 0 || c.not_after < opts.at => {
                format!("{} expired {} days ago", c.subject, -c.days_left)
            }
            (_, Some(c)) => format!("{} expires in {} days", c.subject, c.days_left),
            _ => String::new(),
        };
        if let Some(v) = report.verification {
            host.openssl = Some(v.openssl);
            host.rustls = Some(v.webpki);
        }
        host.checks = report.checks;
        host
    }
}

/// The check that says why a host failed: the first that failed, but for a handshake the
/// server aborted over the client certificate (TLS 1.2), the client certificate's, which says
/// why.
fn first_failure(checks: &[Check]) -> Option<&Check> {
    let failed = |step| {
        checks
            .iter()
            .find(|c| c.step == step && c.status == CheckStatus::Fail)
    };
    match checks.iter().find(|c| c.status == CheckStatus::Fail) {
        Some(c) if c.step == crate::CheckStep::Handshake => {
            failed(crate::CheckStep::ClientCertificate).or(Some(c))
        }
        first => first,
    }
}

/// The certificates a gateway presented, with the time left on each (those that do not parse,
/// which the verdicts already judge, are left out).
fn presented(chain: &[Vec<u8>], opts: &ScanOptions) -> Vec<PresentedCertificate> {
    chain
        .iter()
        .enumerate()
        .filter_map(|(depth, der)| {
            let cert = pki_x509::Certificate::from_der(der.clone(), "certificate").ok()?;
            let s = Summary::of(&cert);
            let judged = pki_x509::check_renewal(s.not_before, s.not_after, opts.warn, opts.at);
            Some(PresentedCertificate {
                depth,
                subject: s.subject.text(NameStyle::Compact).to_owned(),
                not_before: s.not_before,
                not_after: s.not_after,
                days_left: judged.remaining.whole_days(),
                expiring: judged.needs_renewal,
                serial: s.serial.hex.clone(),
                sha256: s.sha256,
                certificate: cert,
            })
        })
        .collect()
}

/// Checks one host as `pki verify HOST:PORT --ca-file ...` does, and the time left on what it
/// presents. Whatever happens is in the report: a host that cannot be reached is
/// [`HostStatus::Unreachable`], not an error.
pub fn check_host(target: &ScanTarget, opts: &ScanOptions) -> HostReport {
    let client_auth = match &target.client {
        Some(files) => match opts.line_client_auth.get(files) {
            Some(auth) => Some(auth.clone()),
            None => {
                let missing = Error::HostsFile {
                    input: "the hosts file".into(),
                    line: target.line,
                    reason: format!(
                        "cert={} key={} were not read",
                        files.cert.display(),
                        files.key.display()
                    ),
                };
                let cert = Some(files.cert.display().to_string());
                return HostReport::new(target, opts, cert, Err(missing));
            }
        },
        None => opts.client_auth.clone(),
    };
    let cert = client_auth.as_ref().map(|a| a.cert_file().to_owned());
    let req = GatewayRequest {
        host: target.host.clone(),
        port: target.port,
        servername: target.servername.clone(),
        expected_name: None,
        alpn: Vec::new(),
        client_auth,
        timeout: opts.timeout,
        anchors: opts.anchors.clone(),
        anchors_label: opts.anchors_label.clone(),
        at: opts.at,
        auth_level: None,
        purpose: None,
        client: Client::Both,
        connection_string: None,
        revocation: None,
    };
    HostReport::new(target, opts, cert, check_gateway(&req))
}

/// Checks every target with at most `opts.jobs` hosts at a time, and gives each report to
/// `on_host` in the targets' order, on the calling thread, as soon as it and every report
/// before it are done. When `on_host` fails, no further host is started and its error is
/// returned once the hosts under way have finished (each within its timeouts).
pub fn scan<E>(
    targets: &[ScanTarget],
    opts: &ScanOptions,
    mut on_host: impl FnMut(HostReport) -> Result<(), E>,
) -> Result<(), E> {
    let jobs = opts.jobs.clamp(1, targets.len().max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            let (tx, next, stop) = (tx.clone(), &next, &stop);
            s.spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(target) = targets.get(i) else {
                        break;
                    };
                    if tx.send((i, check_host(target, opts))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut done = BTreeMap::new();
        let mut due = 0;
        for (i, report) in rx {
            done.insert(i, report);
            while let Some(report) = done.remove(&due) {
                due += 1;
                if let Err(e) = on_host(report) {
                    stop.store(true, Ordering::SeqCst);
                    return Err(e);
                }
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn targets_split_into_host_and_port() {
        let split = |t| split_host_port(t, DEFAULT_PORT);
        assert_eq!(
            split("gw.contoso.com:1883"),
            Some(("gw.contoso.com".into(), 1883))
        );
        assert_eq!(
            split("gw.contoso.com"),
            Some(("gw.contoso.com".into(), 8883))
        );
        assert_eq!(split("[fd00::4]:5671"), Some(("fd00::4".into(), 5671)));
        assert_eq!(split("[fd00::4]"), Some(("fd00::4".into(), 8883)));
        assert_eq!(split("fd00::4"), Some(("fd00::4".into(), 8883)));
        assert_eq!(split("127.0.0.1:443"), Some(("127.0.0.1".into(), 443)));
        for bad in ["gw:port", ":8883", "", "[]:1", "[fd00::4]x", "gw:70000"] {
            assert_eq!(split(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_hosts_file_is_hosts_comments_and_blank_lines() {
        let text = "# the fleet\n\ngw1.contoso.com\n  10.0.0.4:8884 servername=gw2.contoso.com # lab\n[fd00::4]:443\n";
        let t = parse_hosts(text, "hosts.txt", Path::new("/etc/pki")).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(
            (t[0].address(), t[0].line),
            ("gw1.contoso.com:8883".into(), 3)
        );
        assert_eq!(t[1].address(), "10.0.0.4:8884");
        assert_eq!(t[1].servername.as_deref(), Some("gw2.contoso.com"));
        assert_eq!((t[2].address(), t[2].line), ("[fd00::4]:443".into(), 5));
    }

    #[test]
    fn a_line_may_name_its_own_client_certificate_relative_to_the_hosts_file() {
        let text = "gw1.contoso.com\n\
                    gw2.contoso.com cert=certs/d-full-chain.pem key=private/d.key.pem\n\
                    gw3.contoso.com key=/abs/d.key.pem servername=gw3 cert=/abs/d.pem\n\
                    gw4.contoso.com cert=d.pem key=pkcs11:token=pki;object=d?pin-source=file:pin\n";
        let t = parse_hosts(text, "hosts.txt", Path::new("/etc/pki")).unwrap();
        assert_eq!(t[0].client, None);
        assert_eq!(
            t[1].client,
            Some(ClientFiles {
                cert: "/etc/pki/certs/d-full-chain.pem".into(),
                key: "/etc/pki/private/d.key.pem".into(),
            })
        );
        assert_eq!(
            t[2].client.as_ref().map(|c| (&c.cert, &c.key)),
            Some((&"/abs/d.pem".into(), &"/abs/d.key.pem".into()))
        );
        assert_eq!(t[2].servername.as_deref(), Some("gw3"));
        let token = t[3].client.as_ref().unwrap();
        assert_eq!(token.cert, PathBuf::from("/etc/pki/d.pem"));
        assert_eq!(
            token.key,
            PathBuf::from("pkcs11:token=pki;object=d?pin-source=file:pin")
        );
        let msg = |text: &str| {
            parse_hosts(text, "hosts.txt", Path::new("."))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            msg("gw1 cert=d.pem\n"),
            "hosts.txt line 1: cert=FILE needs key=FILE on the same line"
        );
        assert_eq!(
            msg("gw1\ngw2 key=d.key\n"),
            "hosts.txt line 2: key=FILE needs cert=FILE on the same line"
        );
        assert_eq!(
            msg("gw1 cert=a.pem cert=b.pem key=k\n"),
            "hosts.txt line 1: \"cert=b.pem\": give one cert=FILE with a file"
        );
        assert_eq!(
            msg("gw1 cert= key=k\n"),
            "hosts.txt line 1: \"cert=\": give one cert=FILE with a file"
        );
    }

    #[test]
    fn a_handshake_aborted_over_the_client_certificate_is_reported_by_that_check() {
        use crate::CheckStep as S;
        let check = |step, status, detail: &str| Check {
            step,
            status,
            detail: detail.into(),
            fix: None,
        };
        let tls12 = [
            check(S::Handshake, CheckStatus::Fail, "alert unknown ca"),
            check(S::Chain, CheckStatus::Ok, "ok"),
            check(S::ClientCertificate, CheckStatus::Fail, "only the leaf"),
        ];
        assert_eq!(first_failure(&tls12).unwrap().detail, "only the leaf");
        let other = [
            check(S::Handshake, CheckStatus::Fail, "no common version"),
            check(S::ClientCertificate, CheckStatus::Skip, "-"),
        ];
        assert_eq!(first_failure(&other).unwrap().detail, "no common version");
        let chain_first = [
            check(S::Chain, CheckStatus::Fail, "untrusted"),
            check(S::ClientCertificate, CheckStatus::Fail, "rejected"),
        ];
        assert_eq!(first_failure(&chain_first).unwrap().detail, "untrusted");
    }

    #[test]
    fn a_bad_line_or_no_host_refuses_the_file_naming_the_line() {
        let msg = |text: &str| {
            parse_hosts(text, "hosts.txt", Path::new("."))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            msg("gw1\ngw2:http\n"),
            "hosts.txt line 2: \"gw2:http\" is not HOST[:PORT] (for example gw.contoso.com:8883 or [fd00::4]:8883)"
        );
        assert_eq!(
            msg("gw1 sni=gw\n"),
            "hosts.txt line 1: \"sni=gw\": only servername=NAME, cert=FILE and key=FILE may follow the host"
        );
        assert_eq!(
            msg("gw1 servername=\n"),
            "hosts.txt line 1: \"servername=\": give one servername=NAME with a name"
        );
        assert!(matches!(
            parse_hosts("# nothing\n\n", "hosts.txt", Path::new(".")),
            Err(Error::NoHosts { .. })
        ));
    }

    #[test]
    fn a_line_that_names_no_host_or_is_too_long_is_refused_quoting_a_bounded_piece() {
        let msg = |text: &str| {
            parse_hosts(text, "hosts.txt", Path::new("."))
                .unwrap_err()
                .to_string()
        };
        for bad in [
            "gw$(id).test",
            "a..b",
            "-gw.test",
            "gw.test-",
            "g w",
            "gw\u{1b}[2J",
            "[fd00::zz]:8883",
        ] {
            let host = bad.split(' ').next().unwrap();
            let m = msg(&format!("{bad}\n"));
            assert!(
                m.contains("is neither a host name nor an IP address")
                    || m.contains("only servername=NAME"),
                "{bad}: {m}"
            );
            assert!(m.starts_with("hosts.txt line 1: "), "{host}: {m}");
        }
        let long = "g".repeat(70_000);
        assert!(
            msg(&format!("gw1\n{long}\n"))
                .starts_with("hosts.txt line 2: longer than 8192 bytes (70000 bytes)")
        );
        let label = "g".repeat(64);
        let m = msg(&format!("{label}.test\n"));
        assert!(m.contains("is neither a host name"), "{m}");
        let host = format!("{}.test", "g.".repeat(200));
        let m = msg(&format!("{host}\n"));
        assert!(m.contains("… (405 characters)"), "{m}");
        assert!(m.len() < 300, "{m}");
        assert_eq!(
            msg("gw1 servername=a..b\n"),
            "hosts.txt line 1: servername \"a..b\" is not a host name (the name a gateway's certificate is checked for)"
        );
        // Names a TLS client accepts: one label, underscores, a trailing dot, addresses.
        let ok = "gw1\ngw_2.lab.\n10.0.0.4:1\n[fd00::4]\nfd00::5\ngw3 servername=10.0.0.9\n";
        assert_eq!(
            parse_hosts(ok, "hosts.txt", Path::new(".")).unwrap().len(),
            6
        );
    }

    #[test]
    fn reports_come_in_the_files_order_and_a_closed_port_is_unreachable() {
        // Ports where nothing listens: bound, read back, released.
        let closed: Vec<u16> = (0..5)
            .map(|_| {
                TcpListener::bind("127.0.0.1:0")
                    .and_then(|l| l.local_addr())
                    .unwrap()
                    .port()
            })
            .collect();
        let targets: Vec<ScanTarget> = closed
            .iter()
            .enumerate()
            .map(|(i, port)| ScanTarget {
                host: "127.0.0.1".into(),
                port: *port,
                servername: None,
                client: None,
                line: i + 1,
            })
            .collect();
        let opts = ScanOptions {
            anchors: Vec::new(),
            anchors_label: "none".into(),
            timeout: Duration::from_secs(2),
            at: OffsetDateTime::UNIX_EPOCH,
            warn: Threshold::default(),
            jobs: 3,
            client_auth: None,
            line_client_auth: BTreeMap::new(),
        };
        let mut seen = Vec::new();
        scan(&targets, &opts, |r| {
            seen.push((r.line, r.status));
            Ok::<(), ()>(())
        })
        .unwrap();
        let lines: Vec<usize> = seen.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![1, 2, 3, 4, 5]);
        assert!(seen.iter().all(|(_, s)| *s == HostStatus::Unreachable));
        // A caller that stops early gets its error back.
        let mut n = 0;
        let stopped = scan(&targets, &opts, |_| {
            n += 1;
            if n == 2 { Err("enough") } else { Ok(()) }
        });
        assert_eq!(stopped, Err("enough"));
        assert_eq!(n, 2);
    }
}
