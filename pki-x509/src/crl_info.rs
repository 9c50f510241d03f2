//! Reading certificate revocation lists: the `X509 CRL` blocks of a PEM text or one DER CRL
//! ([`read_crls`]), and what `pki show` prints of each ([`CrlInfo`]: issuer, CRL number, dates,
//! authority key identifier, every revoked serial with its date and reason).

use crate::oid;
use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::error::{Error, Result};
use crate::oid::sig_alg_name;
use crate::text::{NameStyle, hex_colons, hex_upper, name_text};

/// The PEM label of a CRL.
pub const CRL_PEM_LABEL: &str = "X509 CRL";

/// One revoked certificate of a CRL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevokedInfo {
    /// The serial number, upper-case hex (as `openssl crl -text` prints it, without colons).
    pub serial: String,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339")]
    pub revoked_at: OffsetDateTime,
    /// The reasonCode by its RFC 5280 name (`keyCompromise`, `superseded`, ...), if given.
    pub reason: Option<String>,
}

/// What `pki show` says of one CRL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrlInfo {
    /// The issuer, as `pki show` prints names (`CN = Root CA`).
    pub issuer: String,
    /// 1 or 2.
    pub version: u32,
    /// The cRLNumber, decimal, if present.
    pub crl_number: Option<String>,
    /// For a delta CRL, the number of its base CRL (deltaCRLIndicator).
    pub delta_base: Option<String>,
    /// thisUpdate (OpenSSL's lastUpdate).
    #[serde(with = "time::serde::rfc3339")]
    pub this_update: OffsetDateTime,
    /// nextUpdate, if present.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_update: Option<OffsetDateTime>,
    /// The authorityKeyIdentifier's key identifier, upper-case hex with colons.
    pub authority_key_id: Option<String>,
    /// The signature algorithm, as OpenSSL names it.
    pub signature_algorithm: String,
    /// Every revoked certificate, in the CRL's order.
    pub revoked: Vec<RevokedInfo>,
    /// SHA-256 of the DER, upper-case hex.
    pub sha256: String,
}

/// RFC 5280's name of a CRL reasonCode.
pub fn crl_reason_name(code: u8) -> &'static str {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "unknown",
    }
}

impl CrlInfo {
    /// Reads one DER CRL; `input` names it in the error.
    pub fn from_der(der: &[u8], input: &str) -> Result<Self> {
        let (_, crl) = CertificateRevocationList::from_der(der).map_err(|e| Error::BadCrl {
            input: input.to_owned(),
            reason: format!("DER does not parse as a CRL: {e}"),
        })?;
        let delta_base = crl.extensions().iter().find_map(|e| {
            (e.oid.to_id_string() == oid::DELTA_CRL_INDICATOR)
                .then(|| x509_parser::der_parser::der::parse_der_integer(e.value).ok())
                .flatten()
                .and_then(|(_, i)| i.as_biguint().ok())
                .map(|n| n.to_string())
        });
        let authority_key_id = crl
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    a.key_identifier.as_ref().map(|k| hex_colons(k.0))
                }
                _ => None,
            });
        Ok(Self {
            issuer: name_text(crl.issuer(), NameStyle::OpenSslOneline),
            version: crl.version().map_or(1, |v| v.0 + 1),
            crl_number: crl.crl_number().map(ToString::to_string),
            delta_base,
            this_update: crl.last_update().to_datetime(),
            next_update: crl.next_update().map(|t| t.to_datetime()),
            authority_key_id,
            signature_algorithm: sig_alg_name(&crl.signature_algorithm.algorithm.to_id_string()),
            revoked: crl
                .iter_revoked_certificates()
                .map(|r| RevokedInfo {
                    serial: hex_upper(&r.user_certificate.to_bytes_be()),
                    revoked_at: r.revocation_date.to_datetime(),
                    reason: r
                        .reason_code()
                        .map(|(_, c)| crl_reason_name(c.0).to_owned()),
                })
                .collect(),
            sha256: hex_upper(ring::digest::digest(&ring::digest::SHA256, der).as_ref()),
        })
    }
}

/// Whether a file's bytes hold CRLs rather than certificates: PEM with an `X509 CRL` block, or
/// DER that is not a certificate but parses as a CRL.
pub fn holds_crls(bytes: &[u8]) -> bool {
    if crate::pem::looks_like_pem(bytes) {
        return String::from_utf8_lossy(bytes).contains("-----BEGIN X509 CRL-----");
    }
    x509_parser::parse_x509_certificate(bytes).is_err()
        && CertificateRevocationList::from_der(bytes).is_ok()
}

/// Every CRL of a file, as DER: its `X509 CRL` blocks (other blocks skipped), or the bytes as
/// one DER CRL when they are not PEM. Each is parsed; a truncated or malformed PEM, a block
/// that is not a CRL, or a text with no CRL is an error naming `input`.
pub fn read_crls(bytes: &[u8], input: &str) -> Result<Vec<Vec<u8>>> {
    let bad = |reason: String| Error::BadCrl {
        input: input.to_owned(),
        reason,
    };
    let ders: Vec<Vec<u8>> = if crate::pem::looks_like_pem(bytes) {
        crate::pem::parse_blocks(bytes, input)
            .map_err(|e| match e {
                Error::BadCertificate { reason, .. } => bad(reason),
                other => other,
            })?
            .into_iter()
            .filter(|p| p.tag() == CRL_PEM_LABEL)
            .map(pem::Pem::into_contents)
            .collect()
    } else {
        vec![bytes.to_vec()]
    };
    if ders.is_empty() {
        return Err(bad(format!("no {CRL_PEM_LABEL} block")));
    }
    let many = ders.len() > 1;
    for (i, der) in ders.iter().enumerate() {
        match CertificateRevocationList::from_der(der) {
            Ok(([], _)) => {}
            Ok(_) => return Err(bad(block(many, i, "bytes follow the CRL"))),
            Err(e) => return Err(bad(block(many, i, &format!("not a CRL: {e}")))),
        }
    }
    Ok(ders)
}

/// [`read_crls`] of a file; the errors name the path.
pub fn read_crl_file(path: &std::path::Path) -> Result<Vec<Vec<u8>>> {
    let bytes = crate::files::read_input(path, crate::files::Input::Document)
        .map_err(|e| Error::io(path, e))?;
    read_crls(&bytes, &path.display().to_string())
}

fn block(many: bool, i: usize, what: &str) -> String {
    if many {
        format!("CRL #{}: {what}", i + 1)
    } else {
        what.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../testdata/verify-crl/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn pem_and_der_give_the_same_crl() {
        let pem = read_crls(&fixture("revoked-leaf/crls.pem"), "crls.pem").unwrap();
        let der = read_crls(&fixture("revoked-leaf/crl.der"), "crl.der").unwrap();
        assert_eq!(pem, der);
        let info = CrlInfo::from_der(&der[0], "crl.der").unwrap();
        assert_eq!(info.issuer, "CN = CRL Intermediate CA");
        assert_eq!(info.version, 2);
        assert_eq!(info.revoked.len(), 2);
        // openssl ca lists the entries by serial: the leaf's and another device's, in either order.
        let mut reasons: Vec<_> = info.revoked.iter().map(|r| r.reason.clone()).collect();
        reasons.sort();
        assert_eq!(
            reasons,
            [
                Some("cessationOfOperation".into()),
                Some("keyCompromise".into())
            ]
        );
        assert!(info.authority_key_id.is_some());
        assert!(holds_crls(&fixture("revoked-leaf/crl.der")));
        assert!(!holds_crls(&fixture("revoked-leaf/leaf.pem")));
    }

    #[test]
    fn garbage_and_truncated_input_say_so() {
        let e = read_crls(b"garbage", "x.crl").unwrap_err().to_string();
        assert!(e.starts_with("x.crl: not a valid CRL (not a CRL"), "{e}");
        let pem = fixture("revoked-leaf/crls.pem");
        let cut = &pem[..pem.len() / 2];
        let e = read_crls(cut, "x.crl").unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
        let e = read_crls(&fixture("revoked-leaf/leaf.pem"), "leaf.pem").unwrap_err();
        assert!(e.to_string().contains("no X509 CRL block"), "{e}");
    }

    #[test]
    fn a_delta_crl_names_its_base() {
        let ders = read_crls(&fixture("delta-crl-alone/crls.pem"), "d").unwrap();
        let info = CrlInfo::from_der(&ders[0], "d").unwrap();
        assert_eq!(info.delta_base.as_deref(), Some("4"));
        assert_eq!(info.crl_number.as_deref(), Some("5"));
    }
}
