//! Inspecting certificates: everything `tedge cert show` prints and more (fingerprints, key,
//! signature algorithm, extensions, chain links), as a serialisable [`CertInfo`].

use crate::oid;
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry as oids;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::key::KeyType;
use crate::oid::{curve_name, ext_name, key_alg_name};
use crate::pem::Certificate;
use crate::summary::{Serial, Summary};
use crate::text::{NameStyle, hex_colons, ip_from_bytes, name_text};

/// How much validity is left, in `tedge cert show`'s four states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Valid, and for longer than the "soon" threshold.
    Valid,
    /// Valid, but it expires within the threshold.
    ExpiresSoon,
    /// not_after has passed.
    Expired,
    /// not_before lies in the future.
    NotValidYet,
}

/// The subject public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicKeyInfo {
    /// `pki`'s name for the key type (`ec-p256`, `rsa-2048`, ...), when it is one pki knows.
    pub key_type: Option<String>,
    /// The algorithm as OpenSSL names it (`id-ecPublicKey`, `rsaEncryption`, `ED25519`).
    pub algorithm: String,
    /// The curve, for EC keys (`prime256v1`, `secp384r1`).
    pub curve: Option<String>,
    /// Size in bits.
    pub bits: usize,
}

/// basicConstraints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BasicConstraintsInfo {
    /// Marked critical.
    pub critical: bool,
    /// CA:TRUE.
    pub ca: bool,
    /// pathLenConstraint.
    pub pathlen: Option<u32>,
}

/// keyUsage or extendedKeyUsage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageInfo {
    /// Marked critical.
    pub critical: bool,
    /// The usages by their RFC 5280 names (`digitalSignature`, `serverAuth`, ...).
    pub usages: Vec<String>,
}

/// One extension, named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtensionInfo {
    /// Dotted OID.
    pub oid: String,
    /// OpenSSL's name (`X509v3 Basic Constraints`), or the OID.
    pub name: String,
    /// Marked critical.
    pub critical: bool,
}

/// Everything `pki show` tells about one certificate.
#[derive(Debug, Clone, Serialize)]
pub struct CertInfo {
    /// X.509 version (1 or 3).
    pub version: u32,
    /// Subject, one-line OpenSSL form.
    pub subject: String,
    /// Issuer, one-line OpenSSL form.
    pub issuer: String,
    /// Subject CN.
    pub common_name: Option<String>,
    /// Serial number.
    pub serial: Serial,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Validity at the time of inspection.
    pub status: Status,
    /// `tedge cert show`'s status line, e.g. `VALID (expires in: 364d 8h 42m 43s)`.
    pub status_text: String,
    /// SHA-1 of the DER, upper-case hex (Azure's and tedge's "thumbprint").
    pub sha1: String,
    /// SHA-256 of the DER, upper-case hex.
    pub sha256: String,
    /// Subject public key.
    pub public_key: PublicKeyInfo,
    /// Signature algorithm, as OpenSSL names it.
    pub signature_algorithm: String,
    /// Subject equals issuer and the signature verifies with its own key.
    pub self_signed: bool,
    /// basicConstraints, if present.
    pub basic_constraints: Option<BasicConstraintsInfo>,
    /// keyUsage, if present.
    pub key_usage: Option<UsageInfo>,
    /// extendedKeyUsage, if present.
    pub extended_key_usage: Option<UsageInfo>,
    /// Subject alternative names (`DNS:x`, `IP:1.2.3.4`, `email:..`, `URI:..`).
    pub subject_alt_names: Vec<String>,
    /// Subject key identifier, colon-separated upper-case hex as OpenSSL prints it.
    pub subject_key_id: Option<String>,
    /// Authority key identifier (keyid), same form.
    pub authority_key_id: Option<String>,
    /// Every extension, in order.
    pub extensions: Vec<ExtensionInfo>,
}

/// Inspects a certificate at instant `now`; `soon` is the remaining validity below which the
/// status is [`Status::ExpiresSoon`].
pub fn inspect(cert: &Certificate, now: OffsetDateTime, soon: Duration) -> CertInfo {
    let s = Summary::of(cert);
    let x = cert.x509();
    let (status, status_text) = status(s.not_before, s.not_after, now, soon);
    let mut info = CertInfo {
        version: s.version,
        subject: s.subject.text(NameStyle::OpenSslOneline).to_owned(),
        issuer: s.issuer.text(NameStyle::OpenSslOneline).to_owned(),
        common_name: s.common_name,
        serial: s.serial,
        not_before: s.not_before,
        not_after: s.not_after,
        status,
        status_text,
        sha1: s.sha1,
        sha256: s.sha256,
        public_key: public_key_info(x.public_key()),
        signature_algorithm: s.signature_algorithm,
        self_signed: s.self_issued && x.verify_signature(None).is_ok(),
        basic_constraints: None,
        key_usage: None,
        extended_key_usage: None,
        subject_alt_names: Vec::new(),
        subject_key_id: None,
        authority_key_id: None,
        extensions: Vec::new(),
    };
    for ext in x.extensions() {
        let oid = ext.oid.to_id_string();
        info.extensions.push(ExtensionInfo {
            name: ext_name(&oid).unwrap_or(&oid).to_owned(),
            oid,
            critical: ext.critical,
        });
        match ext.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) => {
                info.basic_constraints = Some(BasicConstraintsInfo {
                    critical: ext.critical,
                    ca: bc.ca,
                    pathlen: bc.path_len_constraint,
                })
            }
            ParsedExtension::KeyUsage(ku) => {
                let names = [
                    (ku.digital_signature(), "digitalSignature"),
                    (ku.non_repudiation(), "nonRepudiation"),
                    (ku.key_encipherment(), "keyEncipherment"),
                    (ku.data_encipherment(), "dataEncipherment"),
                    (ku.key_agreement(), "keyAgreement"),
                    (ku.key_cert_sign(), "keyCertSign"),
                    (ku.crl_sign(), "cRLSign"),
                    (ku.encipher_only(), "encipherOnly"),
                    (ku.decipher_only(), "decipherOnly"),
                ];
                info.key_usage = Some(UsageInfo {
                    critical: ext.critical,
                    usages: names
                        .iter()
                        .filter(|(on, _)| *on)
                        .map(|(_, n)| (*n).to_owned())
                        .collect(),
                })
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                let mut usages: Vec<String> = [
                    (eku.server_auth, "serverAuth"),
                    (eku.client_auth, "clientAuth"),
                    (eku.code_signing, "codeSigning"),
                    (eku.email_protection, "emailProtection"),
                    (eku.time_stamping, "timeStamping"),
                    (eku.ocsp_signing, "OCSPSigning"),
                    (eku.any, "anyExtendedKeyUsage"),
                ]
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, n)| (*n).to_owned())
                .collect();
                usages.extend(eku.other.iter().map(|o| o.to_id_string()));
                info.extended_key_usage = Some(UsageInfo {
                    critical: ext.critical,
                    usages,
                })
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                info.subject_alt_names = san.general_names.iter().map(general_name).collect();
            }
            ParsedExtension::SubjectKeyIdentifier(kid) => {
                info.subject_key_id = Some(hex_colons(kid.0))
            }
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                info.authority_key_id = aki.key_identifier.as_ref().map(|k| hex_colons(k.0))
            }
            _ => {}
        }
    }
    info
}

/// For a bundle: whether each certificate's signature verifies with the next one's key
/// (`None` for the last).
pub fn chain_links(certs: &[Certificate]) -> Vec<Option<bool>> {
    (0..certs.len())
        .map(|i| {
            certs.get(i + 1).map(|next| {
                let (c, n) = (certs[i].x509(), next.x509());
                c.issuer().as_raw() == n.subject().as_raw()
                    && c.verify_signature(Some(n.public_key())).is_ok()
            })
        })
        .collect()
}

/// True when `key` (a file key or a token's) is the private key of `cert`.
pub fn key_matches(cert: &Certificate, key: &dyn crate::CaSigner) -> crate::Result<bool> {
    Ok(cert.public_key_raw() == key.public_key_raw()?)
}

fn status(
    nb: OffsetDateTime,
    na: OffsetDateTime,
    now: OffsetDateTime,
    soon: Duration,
) -> (Status, String) {
    if now < nb {
        (
            Status::NotValidYet,
            format!("NOT VALID YET (will be in: {})", human(nb - now)),
        )
    } else if now > na {
        (
            Status::Expired,
            format!("EXPIRED (since: {})", human(now - na)),
        )
    } else if na - now < soon {
        (
            Status::ExpiresSoon,
            format!("EXPIRES SOON (expires in: {})", human(na - now)),
        )
    } else {
        (
            Status::Valid,
            format!("VALID (expires in: {})", human(na - now)),
        )
    }
}

/// `364d 8h 42m 43s`, as `tedge cert show` prints a duration.
pub fn human(d: Duration) -> String {
    let s = d.whole_seconds().max(0);
    let (days, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if days > 0 {
        format!("{days}d {h}h {m}m {sec}s")
    } else if h > 0 {
        format!("{h}h {m}m {sec}s")
    } else if m > 0 {
        format!("{m}m {sec}s")
    } else {
        format!("{sec}s")
    }
}

fn general_name(g: &GeneralName<'_>) -> String {
    match g {
        GeneralName::DNSName(d) => format!("DNS:{d}"),
        GeneralName::IPAddress(b) => match ip_from_bytes(b) {
            Some(ip) => format!("IP:{ip}"),
            None => format!("IP:<{} bytes>", b.len()),
        },
        GeneralName::RFC822Name(e) => format!("email:{e}"),
        GeneralName::URI(u) => format!("URI:{u}"),
        GeneralName::DirectoryName(n) => {
            format!("DirName:{}", name_text(n, NameStyle::OpenSslOneline))
        }
        other => format!("{other}"),
    }
}

fn public_key_info(spki: &SubjectPublicKeyInfo<'_>) -> PublicKeyInfo {
    let alg = spki.algorithm.algorithm.to_id_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| {
            let oid = o.to_id_string();
            curve_name(&oid).map_or(oid, str::to_owned)
        });
    let bits = match alg.as_str() {
        oid::ED25519 => 256,
        _ => spki.parsed().map(|k| k.key_size()).unwrap_or(0),
    };
    PublicKeyInfo {
        key_type: key_type_of_spki(spki).ok().map(|k| k.to_string()),
        algorithm: key_alg_name(&alg).map_or(alg, str::to_owned),
        curve: if spki.algorithm.algorithm == oids::OID_KEY_TYPE_EC_PUBLIC_KEY {
            curve
        } else {
            None
        },
        bits,
    }
}

/// The [`KeyType`] of a subject public key, or why pki cannot use it.
pub fn key_type_of_spki(spki: &SubjectPublicKeyInfo<'_>) -> Result<KeyType, String> {
    let alg = spki.algorithm.algorithm.to_id_string();
    match alg.as_str() {
        oid::ED25519 => Ok(KeyType::Ed25519),
        oid::EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            match curve.as_deref() {
                Some(oid::PRIME256V1) => Ok(KeyType::EcP256),
                Some(oid::SECP384R1) => Ok(KeyType::EcP384),
                other => Err(format!(
                    "EC curve {} is not supported",
                    other.unwrap_or("(none)")
                )),
            }
        }
        oid::RSA_ENCRYPTION => {
            let bits = spki.parsed().map(|k| k.key_size()).unwrap_or(0) as u32;
            if bits < 2048 {
                Err(format!("RSA-{bits} is too short"))
            } else {
                Ok(KeyType::Rsa(bits))
            }
        }
        other => Err(format!("public key algorithm {other} is not supported")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn status_follows_tedge() {
        let nb = datetime!(2026-01-01 0:00 UTC);
        let na = datetime!(2027-01-01 0:00 UTC);
        let soon = Duration::days(30);
        assert_eq!(
            status(nb, na, datetime!(2025-12-31 23:00 UTC), soon).0,
            Status::NotValidYet
        );
        let (s, t) = status(nb, na, datetime!(2026-01-01 15:17:16 UTC), soon);
        assert_eq!(s, Status::Valid);
        assert_eq!(t, "VALID (expires in: 364d 8h 42m 44s)");
        assert_eq!(
            status(nb, na, datetime!(2026-12-20 0:00 UTC), soon).0,
            Status::ExpiresSoon
        );
        assert_eq!(
            status(nb, na, datetime!(2027-01-02 0:00 UTC), soon).1,
            "EXPIRED (since: 1d 0h 0m 0s)"
        );
    }
}
