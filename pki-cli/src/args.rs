//! The flag groups several commands share (key options, the issuing CA, passwords, a client
//! certificate) and the value parsers that turn a flag's string into its domain value, once,
//! at the edge.

use clap::Args;
use pki_core::CaRole;
use pki_core::KeyType;
use pki_core::Threshold;
use std::path::PathBuf;
use std::time::Duration;
use time::OffsetDateTime;

/// Options every command that creates a key and certificate takes.
#[derive(Debug, Args, Clone)]
pub(crate) struct KeyOpts {
    /// Key type: ec-p256, ec-p384, ed25519, rsa-2048, rsa-3072 or rsa-4096.
    #[arg(long, default_value = "ec-p256", value_name = "TYPE", value_parser = key_type)]
    pub(crate) key_type: KeyType,
    /// Validity in days (default depends on the certificate kind).
    #[arg(long)]
    pub(crate) days: Option<u32>,
    /// Overwrite existing certificate and key files.
    #[arg(long)]
    pub(crate) force: bool,
}

/// Where the issuing CA's key password comes from.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct PasswordOpts {
    /// Read the password of an encrypted key (a CA's, or --key's) from this file (first line).
    #[arg(long, value_name = "FILE")]
    pub(crate) key_password_file: Option<PathBuf>,
}

/// The device certificate and key presented for mutual TLS (`verify`, `scan`, `renew --verify`).
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct ClientCertOpts {
    /// Present this device certificate for mutual TLS (a gateway with require_certificate): a
    /// PEM file, with its chain after it when it holds one (send the -full-chain file).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub(crate) cert: Option<PathBuf>,
    /// The private key of --cert: a key file (encrypted: --key-password-file or
    /// PKI_KEY_PASSWORD), or the `pkcs11:` URI of a key on a token.
    #[arg(long, value_name = "FILE|URI", requires = "cert")]
    pub(crate) key: Option<PathBuf>,
}

/// Which CA signs.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct IssuerOpts {
    /// The issuing CA: root, intermediate, edge-ca:NAME, or the path of a CA certificate
    /// (then --issuer-key names its key).
    #[arg(long, value_name = "CA", value_parser = IssuerSpec::parse)]
    pub(crate) issuer: Option<IssuerSpec>,
    /// The key of an --issuer given as a path (a file, or a `pkcs11:` URI).
    #[arg(long, value_name = "KEY", requires = "issuer")]
    pub(crate) issuer_key: Option<PathBuf>,
    /// Where clients fetch the issuing CA's CRL: the certificate's CRL distribution point
    /// (default: what `pki crl-url` set for the directory). `{ca}` becomes the issuing CA's
    /// file prefix.
    #[arg(long, value_name = "URL", value_parser = crl_url)]
    pub(crate) crl_url: Option<String>,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// A `pkcs11:` URI (RFC 7512); a PIN in it (`pin-value`) is refused.
pub(crate) fn pkcs11_uri(s: &str) -> Result<pki_pkcs11::Pkcs11Uri, BadValue> {
    pki_pkcs11::Pkcs11Uri::parse(s).map_err(|e| BadValue(anyhow::Error::new(e)))
}

/// A flag's value that pki refused, in pki's words: `main` prints it as the one error line (and
/// its hint) that a command's error gets, not as clap's usage error. The value parsers below
/// return it for what pki itself judges; a value clap's own parsers refuse stays clap's error.
#[derive(Debug)]
pub(crate) struct BadValue(pub(crate) anyhow::Error);

impl std::fmt::Display for BadValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for BadValue {}

/// `--c8y-url`: a Cumulocity tenant's URL or host name, https only, never with a password in it.
pub(crate) fn tenant_url(s: &str) -> Result<pki_c8y::TenantUrl, BadValue> {
    pki_c8y::TenantUrl::parse(s).map_err(|e| BadValue(anyhow::anyhow!("{e} (--c8y-url)")))
}

/// `--key-type`: one of pki-core's key types, by name.
pub(crate) fn key_type(s: &str) -> Result<KeyType, BadValue> {
    s.parse()
        .map_err(|e: pki_core::x509::Error| BadValue(e.into()))
}

/// `--at`: an RFC 3339 instant, or a bare date (`2028-01-01`) meaning its midnight UTC.
pub(crate) fn instant(s: &str) -> Result<OffsetDateTime, BadValue> {
    let rfc3339 = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339);
    let date = || {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(s, &format).map(|d| d.midnight().assume_utc())
    };
    // time's parse errors repeat their reason as their source: the reason is said once here,
    // as text (that of the form the value looks like), never chained.
    rfc3339.or_else(|full| {
        date().map_err(|bare| {
            let reason = if s.contains('T') || s.contains('t') || s.len() > 10 {
                full.to_string()
            } else {
                bare.to_string()
            };
            BadValue(anyhow::anyhow!(
                "--at {s:?} is not a date such as 2028-01-01 (midnight UTC) or an RFC 3339 time \
                 such as 2026-11-22T10:00:00Z: {reason}"
            ))
        })
    })
}

/// `pki revoke --reason`: an RFC 5280 reason, by name.
pub(crate) fn reason(s: &str) -> Result<pki_core::register::Reason, BadValue> {
    pki_core::register::Reason::parse(s).ok_or_else(|| {
        let names: Vec<&str> = pki_core::register::Reason::ALL
            .iter()
            .map(|r| r.as_str())
            .collect();
        BadValue(anyhow::anyhow!(
            "--reason {s:?} is not a revocation reason: use {}",
            names.join(", ")
        ))
    })
}

/// `--crl-url`: an http://, https:// or ldap:// URL.
pub(crate) fn crl_url(s: &str) -> Result<String, BadValue> {
    pki_core::check_crl_url(s)
        .map(|()| s.to_owned())
        .map_err(|e| BadValue(e.into()))
}

/// `pki verify --timeout`: seconds (a fraction allowed), more than 0 and at most an hour, which
/// is far beyond any network step (beyond it a timeout is a typo, and 1e30 s is not a time the
/// system can wait for). What is not a number is clap's error, as for any number.
pub(crate) fn step_timeout(s: &str) -> Result<Duration, Box<dyn std::error::Error + Send + Sync>> {
    let seconds: f64 = s.parse()?;
    let refused = || {
        BadValue(anyhow::anyhow!(
            "--timeout {seconds}: give a number of seconds greater than 0 and at most 3600"
        ))
    };
    if !(seconds > 0.0 && seconds <= 3600.0) {
        return Err(refused().into());
    }
    Ok(Duration::try_from_secs_f64(seconds).map_err(|_| refused())?)
}

/// `--expiring`: a time left (`30d`), not a share of the lifetime.
pub(crate) fn expiring(s: &str) -> Result<time::Duration, BadValue> {
    match threshold("--expiring", s)? {
        Threshold::Remaining(d) => Ok(d),
        Threshold::Elapsed(_) => Err(BadValue(anyhow::anyhow!(
            "--expiring {s:?} is a share of the lifetime: give a time left such as 30d or 12h"
        ))),
    }
}

/// `pki needs-renewal --expires-in`: a [`threshold`].
pub(crate) fn expires_in(s: &str) -> Result<Threshold, BadValue> {
    threshold("--expires-in", s)
}

/// `pki scan --warn`: a [`threshold`].
pub(crate) fn warn(s: &str) -> Result<Threshold, BadValue> {
    threshold("--warn", s)
}

/// When a certificate needs renewing: a time left (`30d`, `12h`, `1d12h`, `90m`, `45s`, `2w`;
/// at most 100 years) or a share of its lifetime (`66%`, `66.5%`; 0 to 100).
pub(crate) fn threshold(flag: &str, s: &str) -> Result<Threshold, BadValue> {
    let refused = || {
        BadValue(anyhow::anyhow!(
            "{flag} {s:?}: give a time left such as 30d, 12h or 1d12h, or a share of the lifetime such as 66%"
        ))
    };
    if let Some(percent) = s.strip_suffix('%') {
        let (whole, decimals) = percent.split_once('.').unwrap_or((percent, ""));
        let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || whole.len() > 3
            || decimals.len() > 3
            || !digits(whole)
            || !digits(decimals)
        {
            return Err(refused());
        }
        let scale = 10u32.pow(decimals.len() as u32);
        let parts = whole.parse::<u32>().ok().zip(if decimals.is_empty() {
            Some(0)
        } else {
            decimals.parse::<u32>().ok()
        });
        return parts
            .and_then(|(w, d)| pki_core::Fraction::new(w * scale + d, 100 * scale))
            .map(Threshold::Elapsed)
            .ok_or_else(refused);
    }
    const MAX_SECONDS: i64 = 100 * 366 * 86_400;
    let (mut total, mut number) = (0i64, String::new());
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'w' => 7 * 86_400,
            'd' => 86_400,
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(refused()),
        };
        let n: i64 = number.parse().map_err(|_| refused())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .filter(|t| *t <= MAX_SECONDS)
            .ok_or_else(refused)?;
        number.clear();
    }
    if s.is_empty() || !number.is_empty() {
        return Err(refused());
    }
    Ok(Threshold::Remaining(time::Duration::seconds(total)))
}

/// `--issuer`: a CA of the CA directory by its role, or a CA certificate file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IssuerSpec {
    /// `root` (`owner`, `owner-ca`, `root-ca`), `intermediate` (`intermediate-ca`) or
    /// `edge-ca:NAME` (`edge:NAME`).
    Role(CaRole),
    /// Anything else: the path of a CA certificate, whose key `--issuer-key` names.
    File(PathBuf),
}

impl IssuerSpec {
    /// Reads `--issuer`'s value; every string is one or the other.
    pub(crate) fn parse(spec: &str) -> Result<IssuerSpec, std::convert::Infallible> {
        let role = match spec {
            "root" | "owner" | "owner-ca" | "root-ca" => Some(CaRole::Root),
            "intermediate" | "intermediate-ca" => Some(CaRole::Intermediate),
            _ => spec
                .strip_prefix("edge-ca:")
                .or_else(|| spec.strip_prefix("edge:"))
                .map(|n| CaRole::EdgeCa(n.to_owned())),
        };
        Ok(role.map_or_else(|| IssuerSpec::File(PathBuf::from(spec)), IssuerSpec::Role))
    }
}
