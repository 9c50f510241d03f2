//! The name step on its own: does the leaf name the host a device connects to, as OpenSSL
//! (SANs, falling back to the CN when there is no DNS SAN) and as webpki (SANs only) decide.

use rustls_pki_types::{CertificateDer, ServerName};
use serde::Serialize;

use crate::Error;
use crate::chain::ChainInput;
use crate::openssl::names::{check_host, check_ip};
use crate::options::NameToCheck;

/// The outcome of the name check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameCheck {
    /// The name checked.
    pub name: String,
    /// OpenSSL's `-verify_hostname` / `-verify_ip` accepts it.
    pub openssl: bool,
    /// webpki's `verify_is_valid_for_subject_name` accepts it.
    pub webpki: bool,
    /// The names the certificate carries in its SANs (`DNS:x`, `IP:y`).
    pub names: Vec<String>,
    /// The subject's common names.
    pub common_names: Vec<String>,
}

/// Checks `name` against the leaf certificate `leaf_der`.
pub fn check_name(leaf_der: &[u8], name: &NameToCheck) -> Result<NameCheck, Error> {
    let input = ChainInput::new(leaf_der.to_vec(), Vec::new(), Vec::new());
    let parsed = input.parse()?;
    let leaf = &parsed.leaf;
    let openssl = match name {
        NameToCheck::Dns(d) => check_host(leaf, d),
        NameToCheck::Ip(ip) => check_ip(leaf, *ip),
    };
    let der = CertificateDer::from(leaf_der);
    let webpki = webpki::EndEntityCert::try_from(&der).is_ok_and(|ee| {
        let server_name = match name {
            NameToCheck::Dns(d) => match ServerName::try_from(d.as_str()) {
                Ok(s) => s,
                Err(_) => return false,
            },
            NameToCheck::Ip(ip) => ServerName::from(*ip),
        };
        ee.verify_is_valid_for_subject_name(&server_name).is_ok()
    });
    Ok(NameCheck {
        name: name.to_string(),
        openssl,
        webpki,
        names: leaf.san_names(),
        common_names: leaf.common_names(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(case: &str) -> Vec<u8> {
        let path = format!(
            "{}/../testdata/verify/{case}/leaf.pem",
            env!("CARGO_MANIFEST_DIR")
        );
        crate::pem_certificates(&path, &std::fs::read(&path).unwrap())
            .unwrap()
            .remove(0)
    }

    #[test]
    fn the_good_leaf_names_its_host_and_not_another() {
        let ok = check_name(&leaf("ok"), &NameToCheck::parse("gateway.example.com")).unwrap();
        assert!(ok.openssl && ok.webpki);
        let other = check_name(&leaf("ok"), &NameToCheck::parse("other.example.com")).unwrap();
        assert!(!other.openssl && !other.webpki);
        assert!(
            other
                .names
                .iter()
                .any(|n| n.contains("gateway.example.com")),
            "{:?}",
            other.names
        );
    }

    #[test]
    fn a_cn_only_leaf_passes_openssl_only() {
        let c = check_name(&leaf("cn-only"), &NameToCheck::parse("gateway.example.com")).unwrap();
        assert!(c.openssl && !c.webpki, "{c:?}");
        assert!(c.names.is_empty());
    }
}
