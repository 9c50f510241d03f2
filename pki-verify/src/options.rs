//! What to check: purpose, name, instant and security level of a verification.

use std::net::IpAddr;

use serde::Serialize;
use time::OffsetDateTime;

/// The use the leaf must be fit for (OpenSSL's `-purpose`, webpki's required EKU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A TLS server (`-purpose sslserver`, EKU serverAuth). What a device checks of a gateway.
    Server,
    /// A TLS client (`-purpose sslclient`, EKU clientAuth). What a gateway checks of a device.
    Client,
    /// Any purpose (`-purpose any`): OpenSSL checks nothing; webpki has no such mode and checks
    /// serverAuth.
    Any,
}

impl Purpose {
    /// OpenSSL's name for the purpose (`sslserver`, `sslclient`, `any`).
    pub fn openssl_name(self) -> &'static str {
        match self {
            Purpose::Server => "sslserver",
            Purpose::Client => "sslclient",
            Purpose::Any => "any",
        }
    }
}

/// The name the leaf must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum NameToCheck {
    /// A DNS name (`-verify_hostname`).
    Dns(String),
    /// An IP address (`-verify_ip`).
    Ip(IpAddr),
}

impl NameToCheck {
    /// Parses a host as given by a user: an IP address if it parses as one, else a DNS name.
    pub fn parse(host: &str) -> Self {
        match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(ip) => NameToCheck::Ip(ip),
            Err(_) => NameToCheck::Dns(host.to_owned()),
        }
    }
}

impl std::fmt::Display for NameToCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameToCheck::Dns(d) => f.write_str(d),
            NameToCheck::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// The security level a TLS client's OpenSSL judges a server's chain at: 2, as Debian, Ubuntu
/// (`-DOPENSSL_TLS_SECURITY_LEVEL=2`) and RHEL (its crypto policy) build it, which is what
/// gateways and devices on those systems run; upstream OpenSSL's default is 1 (`--auth-level 1`).
pub const TLS_CLIENT_LEVEL: u8 = 2;

/// Which certificates revocation is checked for, when CRLs are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CrlScope {
    /// The leaf only: OpenSSL's `-crl_check`, webpki's `RevocationCheckDepth::EndEntity`.
    #[default]
    Leaf,
    /// Every certificate of the chain: OpenSSL's `-crl_check_all` (the trust anchor too),
    /// webpki's `RevocationCheckDepth::Chain` (every certificate but the anchor).
    Chain,
}

/// Certificate revocation lists to check a chain against (`pki verify --crl`), and which
/// certificates to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The CRLs, DER (`pki_x509::read_crls` reads them from PEM or DER files).
    pub crls: Vec<Vec<u8>>,
    /// The leaf only, or the whole chain.
    pub scope: CrlScope,
}

/// How to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The purpose to check; `None` checks none in OpenSSL (as `openssl verify` without
    /// `-purpose`) and serverAuth in webpki (as a rustls client).
    pub purpose: Option<Purpose>,
    /// The name to check, if any.
    pub name: Option<NameToCheck>,
    /// The instant to verify at.
    pub at: OffsetDateTime,
    /// OpenSSL's authentication security level (`-auth_level`; a TLS client uses its security
    /// level: 2 in the OpenSSL that Debian, Ubuntu and RHEL ship, 1 in upstream's build). 0
    /// checks no key sizes or digests, as `openssl verify`.
    pub auth_level: u8,
    /// Which certificates revocation is checked for, when the input carries CRLs.
    pub crl_scope: CrlScope,
}

impl VerifyOptions {
    /// `openssl verify -attime AT` semantics: no purpose, no name, auth level 0.
    pub fn new(at: OffsetDateTime) -> Self {
        Self {
            purpose: None,
            name: None,
            at,
            auth_level: 0,
            crl_scope: CrlScope::Leaf,
        }
    }

    /// What an OpenSSL 3.0 TLS client connecting to `host` checks (`openssl s_client
    /// -verify_return_error -verify_hostname HOST`): purpose sslserver, the name, and the
    /// security level of a device's OpenSSL: [`TLS_CLIENT_LEVEL`].
    pub fn tls_client(name: NameToCheck, at: OffsetDateTime) -> Self {
        Self {
            purpose: Some(Purpose::Server),
            name: Some(name),
            at,
            auth_level: TLS_CLIENT_LEVEL,
            crl_scope: CrlScope::Leaf,
        }
    }

    /// Sets the purpose.
    pub fn with_purpose(mut self, purpose: Purpose) -> Self {
        self.purpose = Some(purpose);
        self
    }

    /// Sets the name to check.
    pub fn with_name(mut self, name: NameToCheck) -> Self {
        self.name = Some(name);
        self
    }

    /// Sets which certificates revocation is checked for.
    pub fn with_crl_scope(mut self, scope: CrlScope) -> Self {
        self.crl_scope = scope;
        self
    }

    /// Sets OpenSSL's authentication security level.
    pub fn with_auth_level(mut self, level: u8) -> Self {
        self.auth_level = level;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_tells_ip_from_dns() {
        assert!(matches!(
            NameToCheck::parse("192.0.2.1"),
            NameToCheck::Ip(_)
        ));
        assert!(matches!(NameToCheck::parse("[::1]"), NameToCheck::Ip(_)));
        assert!(
            matches!(NameToCheck::parse("gw.example.com"), NameToCheck::Dns(ref d) if d == "gw.example.com")
        );
    }

    #[test]
    fn tls_client_checks_server_purpose_at_debians_level_2() {
        let o = VerifyOptions::tls_client(NameToCheck::parse("gw"), OffsetDateTime::UNIX_EPOCH);
        assert_eq!(o.purpose, Some(Purpose::Server));
        assert_eq!(o.auth_level, 2);
    }
}
