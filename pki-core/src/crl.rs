//! Certificate revocation lists: a CA's CRL made from the register's revoked rows of that CA
//! (version 2, a CRL number, the authority key identifier, one entry per revoked certificate
//! with its revocation date and reason), signed with the CA's key by rcgen and written as PEM
//! and DER into the CA directory's `crl/`, in the same transaction as the number it takes; and
//! the CRL distribution point that certificates can carry.

use std::path::PathBuf;

use pki_register::{Query, Reason, Record, Status};
use rcgen::{
    CertificateRevocationListParams, KeyIdMethod, RevocationReason, RevokedCertParams, SerialNumber,
};
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use x509_parser::extensions::ParsedExtension;

use crate::error::{CrlFault, CrlUrlFault, Error, Result};
use crate::issue::Issuer;
use crate::store::{CRL_DIR, CaDir, CaRole, KeptCa, kept_prefix};
use pki_x509::Certificate;
use pki_x509::files;

/// The file, in `crl/`, holding every CA's CRL in PEM (mosquitto's `crlfile`, `openssl
/// -CRLfile`).
pub const COMBINED_CRL: &str = "all.crl.pem";
/// How long a CRL is valid (its nextUpdate after thisUpdate) unless told otherwise.
pub const DEFAULT_CRL_DAYS: u32 = 7;
/// The file, in the CA directory, holding the default CRL distribution point URL.
const CRL_URL_FILE: &str = "crl-url";
/// The place in a CRL URL that becomes the issuing CA's file prefix.
pub const CRL_URL_CA: &str = "{ca}";

/// One CRL written.
#[derive(Debug, Clone, Serialize)]
pub struct WrittenCrl {
    /// Which CA signed it (`intermediate CA`).
    pub ca: String,
    /// The CA's subject, one-line form.
    pub issuer: String,
    /// Its CRL number.
    pub number: u64,
    /// How many certificates it lists.
    pub revoked: usize,
    /// thisUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub this_update: OffsetDateTime,
    /// nextUpdate: by then a new CRL must be written.
    #[serde(with = "time::serde::rfc3339")]
    pub next_update: OffsetDateTime,
    /// The PEM file.
    pub pem: PathBuf,
    /// The DER file.
    pub der: PathBuf,
}

/// A CA whose CRL [`write_crls`] writes: one of the directory's CAs, or a previous certificate
/// of one that a renewal kept with its key (what it issued stays valid until it expires, and
/// a client that checks revocation wants a CRL from every issuer of a chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrlCa {
    /// A CA in service.
    Current(CaRole),
    /// The previous certificate of a CA, by its serial.
    Kept {
        /// The CA it was.
        role: CaRole,
        /// Its serial (upper-case hex).
        serial: String,
    },
    /// A CA certificate given as a file that is none of the directory's CAs.
    File {
        /// How it is named in reports (the path given).
        label: String,
        /// The prefix of its CRL's files (the certificate file's name without `.cert.pem`).
        prefix: String,
    },
}

impl CrlCa {
    /// The prefix of the CRL's files in `crl/`: the CA's file prefix (`<prefix>.<SERIAL>` for
    /// a kept certificate).
    pub fn prefix(&self) -> String {
        match self {
            CrlCa::Current(role) => role.prefix(),
            CrlCa::Kept { role, serial } => kept_prefix(&role.prefix(), serial),
            CrlCa::File { prefix, .. } => prefix.clone(),
        }
    }
}

impl From<CaRole> for CrlCa {
    fn from(role: CaRole) -> Self {
        CrlCa::Current(role)
    }
}

impl From<&KeptCa> for CrlCa {
    fn from(k: &KeptCa) -> Self {
        CrlCa::Kept {
            role: k.role.clone(),
            serial: k.serial.clone(),
        }
    }
}

impl std::fmt::Display for CrlCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CrlCa::Current(role) => write!(f, "{role}"),
            CrlCa::Kept { role, serial } => write!(f, "previous {role} (serial {serial})"),
            CrlCa::File { label, .. } => write!(f, "CA {label}"),
        }
    }
}

/// What [`write_crls`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct WrittenCrls {
    /// Each CA's CRL.
    pub crls: Vec<WrittenCrl>,
    /// The file holding all of them in PEM, when asked for.
    pub combined: Option<PathBuf>,
}

/// True when `cert`'s key may sign CRLs: it has no keyUsage, or one with cRLSign (every CA
/// profile of pki has it; an edge CA made by an earlier pki, or an adopted CA, may not).
pub fn can_sign_crls(cert: &Certificate) -> bool {
    match cert.x509().key_usage() {
        Ok(Some(ku)) => ku.value.crl_sign(),
        Ok(None) => true,
        Err(_) => false,
    }
}

/// Writes the CRL of each CA of `signers` (its role and its issuer, key loaded) into `crl/`:
/// `<prefix>.crl.pem` and `<prefix>.crl.der`, valid from `now` for `days`, each with the next
/// CRL number of its CA; with `combined`, also `crl/all.crl.pem` holding all of them. The files
/// and the numbers they take are one transaction: all are written, or none and no number is
/// taken.
pub fn write_crls(
    ca: &CaDir,
    signers: &[(CrlCa, &Issuer)],
    now: OffsetDateTime,
    days: u32,
    combined: bool,
) -> Result<WrittenCrls> {
    // Every CA is checked before anything is created.
    if let Some((role, _)) = signers
        .iter()
        .find(|(_, issuer)| !can_sign_crls(issuer.certificate()))
    {
        return Err(Error::Crl {
            ca: role.to_string(),
            reason: CrlFault::NoCrlSign,
        });
    }
    let this_update = now.replace_nanosecond(0).unwrap_or(now);
    let next_update = this_update + Duration::days(i64::from(days.max(1)));
    let dir_path = ca.path().join(CRL_DIR);
    let dir = files::Dir::open(ca.path())
        .and_then(|d| d.subdir(CRL_DIR, Some(0o755)))
        .map_err(|e| Error::io(&dir_path, e))?;
    let mut register = ca.register()?;
    let mut tx = register.transaction()?;
    let mut staged = files::Transaction::default();
    let mut written = Vec::with_capacity(signers.len());
    let mut all_pem = String::new();
    for (role, issuer) in signers {
        let label = role.to_string();
        let cert = issuer.certificate();
        let sha256 = cert.sha256_hex();
        let prefix = role.prefix();
        // A number above the published CRL's, whatever the register remembers.
        let number = tx.next_crl_number(&sha256, published_number(&dir, &prefix) + 1)?;
        let query = Query {
            issuer_sha256: Some(sha256),
            status: Some(Status::Revoked),
            ..Query::default()
        };
        let mut entries = Vec::new();
        let mut bad = None;
        tx.for_each(&query, &mut |r| match entry(&r, this_update) {
            Some(e) => {
                entries.push(e);
                true
            }
            None => {
                bad = Some(r.serial);
                false
            }
        })?;
        if let Some(serial) = bad {
            return Err(Error::Crl {
                ca: label,
                reason: CrlFault::SerialNotHex {
                    serial: serial.clone(),
                },
            });
        }
        let revoked = entries.len();
        let params = CertificateRevocationListParams {
            this_update,
            next_update,
            crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs: entries,
            key_identifier_method: match subject_key_id(cert) {
                Some(id) => KeyIdMethod::PreSpecified(id),
                None => KeyIdMethod::Sha256,
            },
        };
        let crl = params.signed_by(issuer.signer()).map_err(|e| Error::Crl {
            ca: label.clone(),
            reason: CrlFault::Sign {
                reason: issuer.sign_error(e).to_string(),
            },
        })?;
        let der = crl.der().to_vec();
        let pem = pki_x509::pem_encode("X509 CRL", &der);
        all_pem += &pem;
        let (pem_name, der_name) = (format!("{prefix}.crl.pem"), format!("{prefix}.crl.der"));
        staged.add(
            dir.stage(&pem_name, pem.as_bytes(), 0o644)
                .map_err(|e| Error::io(dir_path.join(&pem_name), e))?,
        );
        staged.add(
            dir.stage(&der_name, &der, 0o644)
                .map_err(|e| Error::io(dir_path.join(&der_name), e))?,
        );
        written.push(WrittenCrl {
            ca: label,
            issuer: cert.subject(),
            number,
            revoked,
            this_update,
            next_update,
            pem: dir_path.join(pem_name),
            der: dir_path.join(der_name),
        });
    }
    let combined = if combined {
        staged.add(
            dir.stage(COMBINED_CRL, all_pem.as_bytes(), 0o644)
                .map_err(|e| Error::io(dir_path.join(COMBINED_CRL), e))?,
        );
        Some(dir_path.join(COMBINED_CRL))
    } else {
        None
    };
    staged
        .commit_then(true, || tx.commit())
        .map_err(|e| match e {
            files::Failed::Files(e) => Error::io(&dir_path, e),
            files::Failed::Then(e) => Error::from(e),
        })?;
    Ok(WrittenCrls {
        crls: written,
        combined,
    })
}

/// The highest CRL number of the CRL `prefix` already in `dir` (its DER and PEM files), 0
/// when there is none or it cannot be read.
fn published_number(dir: &files::Dir, prefix: &str) -> u64 {
    use x509_parser::prelude::FromDer as _;
    let mut highest = 0;
    for name in [format!("{prefix}.crl.der"), format!("{prefix}.crl.pem")] {
        let Ok(bytes) = dir.read_bounded(&name, PUBLISHED_CRL_MAX) else {
            continue;
        };
        for der in pki_x509::read_crls(&bytes, &name).unwrap_or_default() {
            let number = x509_parser::revocation_list::CertificateRevocationList::from_der(&der)
                .ok()
                .and_then(|(_, crl)| {
                    crl.crl_number()
                        .map(|n| u64::try_from(n).unwrap_or(u64::MAX - 1))
                });
            highest = highest.max(number.unwrap_or(0));
        }
    }
    highest
}

/// The largest published CRL file read for its number.
const PUBLISHED_CRL_MAX: u64 = 64 << 20;

/// A revoked row as a CRL entry (`None` when its serial is not hex). The reason code is left
/// out for `unspecified`, as RFC 5280 asks.
fn entry(r: &Record, this_update: OffsetDateTime) -> Option<RevokedCertParams> {
    let serial = hex_bytes(&r.serial)?;
    let reason = r
        .revocation_reason
        .as_deref()
        .and_then(Reason::parse)
        .and_then(rcgen_reason);
    Some(RevokedCertParams {
        serial_number: SerialNumber::from_slice(&serial),
        revocation_time: r.revoked_at.unwrap_or(this_update),
        reason_code: reason,
        invalidity_date: None,
    })
}

fn rcgen_reason(r: Reason) -> Option<RevocationReason> {
    Some(match r {
        Reason::Unspecified => return None,
        Reason::KeyCompromise => RevocationReason::KeyCompromise,
        Reason::CaCompromise => RevocationReason::CaCompromise,
        Reason::AffiliationChanged => RevocationReason::AffiliationChanged,
        Reason::Superseded => RevocationReason::Superseded,
        Reason::CessationOfOperation => RevocationReason::CessationOfOperation,
        Reason::CertificateHold => RevocationReason::CertificateHold,
        Reason::PrivilegeWithdrawn => RevocationReason::PrivilegeWithdrawn,
        Reason::AaCompromise => RevocationReason::AaCompromise,
    })
}

/// The CA certificate's subjectKeyIdentifier, which its CRL's authorityKeyIdentifier repeats
/// (whatever method made it: a CA imported from elsewhere may use SHA-1).
fn subject_key_id(cert: &Certificate) -> Option<Vec<u8>> {
    cert.x509()
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
            _ => None,
        })
}

/// Upper-case or lower-case hex as bytes (an odd number of digits takes a leading zero).
fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let padded = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&padded[i..i + 2], 16).ok())
        .collect()
}

/// Refuses a CRL distribution point URL a certificate cannot carry or a client cannot fetch:
/// it must be `http://`, `https://` or `ldap://`, ASCII, without spaces.
pub fn check_crl_url(url: &str) -> Result<()> {
    let bad = |reason| Error::BadCrlUrl {
        url: url.to_owned(),
        reason,
    };
    let lower = url.to_ascii_lowercase();
    let rest = ["http://", "https://", "ldap://"]
        .iter()
        .find_map(|s| lower.strip_prefix(s))
        .ok_or_else(|| bad(CrlUrlFault::Scheme))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad(CrlUrlFault::NoHost));
    }
    if !url.is_ascii() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(CrlUrlFault::NotAscii));
    }
    Ok(())
}

/// The CRL URL of a certificate issued by the CA whose file prefix is `prefix`: `template` with
/// `{ca}` replaced by the prefix, so that one setting serves every CA of the directory.
pub fn crl_url_for(template: &str, prefix: &str) -> String {
    template.replace(CRL_URL_CA, prefix)
}

impl CaDir {
    /// The CA directory's default CRL distribution point (a URL, perhaps with `{ca}`), when set.
    pub fn crl_url(&self) -> Result<Option<String>> {
        let path = self.path().join(CRL_URL_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let url = text.trim().to_owned();
                if url.is_empty() {
                    return Ok(None);
                }
                check_crl_url(&url)?;
                Ok(Some(url))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Sets (or, with `None`, removes) the CA directory's default CRL distribution point.
    pub fn set_crl_url(&self, url: Option<&str>) -> Result<()> {
        let path = self.path().join(CRL_URL_FILE);
        match url {
            Some(url) => {
                check_crl_url(url)?;
                crate::store::write_atomic(&path, format!("{url}\n").as_bytes(), 0o644, true)
            }
            None => match std::fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(Error::io(path, e)),
            },
        }
    }
}

/// The URI of a certificate's CRL distribution point (the first full-name URI), if it has one:
/// what a renewal carries over.
pub(crate) fn distribution_point_of(cert: &crate::Certificate) -> Option<String> {
    use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
    cert.x509()
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(points) => {
                points
                    .points
                    .iter()
                    .find_map(|p| match &p.distribution_point {
                        Some(DistributionPointName::FullName(names)) => {
                            names.iter().find_map(|n| match n {
                                GeneralName::URI(uri) => Some((*uri).to_owned()),
                                _ => None,
                            })
                        }
                        _ => None,
                    })
            }
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyType, PrivateKey, Profile, Request, Subject, SubjectKey};
    use pki_register::Reason;
    use time::macros::datetime;
    use x509_parser::prelude::FromDer;
    use x509_parser::revocation_list::CertificateRevocationList;

    const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

    /// A root CA's key and certificate.
    fn root() -> (PrivateKey, crate::Issued) {
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let root = crate::issue(
            &Request::new(Profile::RootCa { pathlen: None }, Subject::cn("R"), NOW),
            &SubjectKey::Private(&key),
            None,
        )
        .unwrap();
        (key, root)
    }

    #[test]
    fn urls_are_checked_and_take_the_ca_prefix() {
        assert!(check_crl_url("http://pki.example/crl/{ca}.crl.der").is_ok());
        for bad in [
            "ftp://x/",
            "http://",
            "http:///x",
            "https://a b/",
            "https://é/",
        ] {
            assert!(
                matches!(check_crl_url(bad), Err(Error::BadCrlUrl { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            crl_url_for("http://h/{ca}.crl.der", "azure-iot-test-only.intermediate"),
            "http://h/azure-iot-test-only.intermediate.crl.der"
        );
        assert_eq!(hex_bytes("0A1"), Some(vec![0x00, 0xA1]));
        assert_eq!(hex_bytes("4aFF"), Some(vec![0x4A, 0xFF]));
        assert_eq!(hex_bytes("4G"), None);
    }

    #[test]
    fn a_request_with_a_crl_url_carries_the_distribution_point() {
        let (key, root) = root();
        let issuer = Issuer::new(root.chain, &key, "r", "k").unwrap();
        let mut req = Request::new(Profile::Device, Subject::cn("d"), NOW);
        req.crl_url = Some("http://pki.example/crl/root.crl.der".into());
        let issued = crate::issue(&req, &SubjectKey::Private(&key), Some(&issuer)).unwrap();
        let uris: Vec<String> = issued
            .certificate
            .x509()
            .iter_extensions()
            .filter_map(|e| match e.parsed_extension() {
                ParsedExtension::CRLDistributionPoints(points) => Some(points),
                _ => None,
            })
            .flat_map(|points| points.points.iter())
            .filter_map(|p| match &p.distribution_point {
                Some(x509_parser::extensions::DistributionPointName::FullName(names)) => {
                    Some(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                }
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(uris, ["URI(http://pki.example/crl/root.crl.der)"]);
        req.crl_url = Some("file:///x".into());
        assert!(matches!(
            crate::issue(&req, &SubjectKey::Private(&key), Some(&issuer)),
            Err(Error::BadCrlUrl { .. })
        ));
    }

    #[test]
    fn a_ca_without_crl_sign_is_refused_and_nothing_is_written() {
        let d = tempfile::tempdir().unwrap();
        let ca = CaDir::create(&d.path().join("pki")).unwrap();
        // CA:TRUE with keyUsage digitalSignature and keyCertSign only (no cRLSign).
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let req = Request::new(Profile::SelfSignedDevice, Subject::cn("no-crl-sign"), NOW);
        let cert = crate::issue(&req, &SubjectKey::Private(&key), None).unwrap();
        assert!(!can_sign_crls(&cert.certificate));
        let issuer = Issuer::new(cert.chain, &key, "c", "k").unwrap();
        let err = write_crls(&ca, &[(CaRole::Root.into(), &issuer)], NOW, 7, true).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Crl {
                    reason: CrlFault::NoCrlSign,
                    ..
                }
            ),
            "{err}"
        );
        assert!(!ca.path().join("crl").exists());
        let (_, root) = root();
        assert!(can_sign_crls(&root.certificate));
    }

    #[test]
    fn a_crl_lists_the_revoked_rows_of_its_ca_with_reasons_and_numbers() {
        let d = tempfile::tempdir().unwrap();
        let ca = CaDir::create(&d.path().join("pki")).unwrap();
        let (key, root) = root();
        ca.write_issued(
            &CaRole::Root.prefix(),
            &root,
            None,
            Profile::RootCa { pathlen: None },
            false,
        )
        .unwrap();
        let issuer = Issuer::new(root.chain.clone(), &key, "r", "k").unwrap();
        let mut serials = Vec::new();
        for (i, reason) in [Reason::KeyCompromise, Reason::Unspecified]
            .into_iter()
            .enumerate()
        {
            let k = PrivateKey::generate(KeyType::EcP256).unwrap();
            let req = Request::new(Profile::Device, Subject::cn(format!("d{i}")), NOW);
            let issued = crate::issue(&req, &SubjectKey::Private(&k), Some(&issuer)).unwrap();
            let (_, rec) = ca
                .write_issued(&format!("d{i}"), &issued, None, Profile::Device, false)
                .unwrap();
            let mut reg = ca.register().unwrap();
            let mut tx = reg.transaction().unwrap();
            tx.revoke(&rec.sha256, NOW, reason).unwrap();
            tx.commit().unwrap();
            serials.push(hex_bytes(&rec.serial).unwrap());
        }
        let first = write_crls(&ca, &[(CaRole::Root.into(), &issuer)], NOW, 7, true).unwrap();
        let second = write_crls(&ca, &[(CaRole::Root.into(), &issuer)], NOW, 7, false).unwrap();
        assert_eq!((first.crls[0].number, second.crls[0].number), (1, 2));
        assert_eq!(first.crls[0].revoked, 2);
        let der = std::fs::read(&second.crls[0].der).unwrap();
        let (_, crl) = CertificateRevocationList::from_der(&der).unwrap();
        assert_eq!(crl.version().map(|v| v.0), Some(1));
        assert_eq!(crl.crl_number().map(|n| n.to_string()), Some("2".into()));
        assert_eq!(
            crl.next_update().map(|t| t.to_datetime()),
            Some(NOW + Duration::days(7))
        );
        let got: Vec<(Vec<u8>, Option<u8>)> = crl
            .iter_revoked_certificates()
            .map(|r| (r.raw_serial().to_vec(), r.reason_code().map(|(_, c)| c.0)))
            .collect();
        assert_eq!(
            got,
            [(serials[0].clone(), Some(1)), (serials[1].clone(), None)]
        );
        assert!(
            crl.verify_signature(issuer.certificate().x509().public_key())
                .is_ok()
        );
        assert!(first.combined.unwrap().is_file());
    }
}
