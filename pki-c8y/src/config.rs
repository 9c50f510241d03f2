//! What a session with a tenant needs, resolved by the caller: the URL, the user, the tenant id
//! when known, the password, the certificates to trust, the time it may take, and whether
//! proxies come from the environment. The library reads no environment variable of its own.

use std::time::Duration;

use pki_core::Certificate;
use zeroize::Zeroizing;

use crate::url::TenantUrl;

/// How a session reaches a tenant, and as whom.
pub struct Config {
    /// The tenant's URL.
    pub url: TenantUrl,
    /// The user, as given (`user`) or with its tenant (`tenant/user`).
    pub user: String,
    /// The tenant id, when known: then Basic auth sends `tenant/user` and the id is not looked
    /// up (`GET /tenant/currentTenant`).
    pub tenant: Option<String>,
    /// The password, wiped from memory when dropped; never shown, and redacted from everything
    /// the tenant answers.
    pub password: Zeroizing<String>,
    /// The certificates that verify the tenant's TLS.
    pub trust: Trust,
    /// The time every request, retry and read of the session shares.
    pub timeout: Duration,
    /// Where proxies come from.
    pub proxies: Proxies,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("url", &self.url.as_str())
            .field("user", &self.user)
            .field("tenant", &self.tenant)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The certificates a tenant's TLS certificate must chain to. TLS is always verified.
#[derive(Debug, Clone)]
pub enum Trust {
    /// Only these (a private tenant's CA): each must be usable as a trust anchor.
    Only(Vec<Certificate>),
    /// The operating system's roots, DER-encoded (as `rustls-native-certs` loads them); those
    /// rustls cannot use are skipped, and at least one must remain.
    System(Vec<Vec<u8>>),
}

/// Where a session's proxies come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proxies {
    /// `HTTPS_PROXY`/`https_proxy`, `ALL_PROXY`/`all_proxy` and `NO_PROXY`/`no_proxy`, as
    /// reqwest reads them.
    Environment,
    /// None: connect to the tenant directly.
    None,
}

/// The user as Basic auth sends it: `tenant/user` when the tenant id is known and `user` does
/// not already name one, otherwise `user` as given.
pub fn login_name(user: &str, tenant: Option<&str>) -> String {
    match tenant {
        Some(t) if !user.contains('/') => format!("{t}/{user}"),
        _ => user.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_prefixes_a_bare_user_only() {
        assert_eq!(login_name("admin", None), "admin");
        assert_eq!(login_name("admin", Some("t1")), "t1/admin");
        assert_eq!(login_name("t1/admin", Some("t9")), "t1/admin");
    }
}
