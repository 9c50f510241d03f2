//! The certificate to trust: read from PEM or DER, identified by its SHA-256 fingerprint (never
//! by serial or name), and named for the store's file; fingerprints as users type them.

use std::path::Path;

use pki_x509::{Certificate, NameStyle, Summary};
use serde::Serialize;
use time::OffsetDateTime;

use crate::access::{MAX_CERT, is_refused, read_user_file};
use crate::error::Error;

/// One certificate as a trust store holds it: built from pki-x509's [`Summary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreCertificate {
    /// The subject, in the compact one-line form (`CN=..., O=...`).
    pub subject: String,
    /// The end of its validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// SHA-256 of the DER, upper-case hex: the identity pki finds it by.
    pub sha256: String,
    /// SHA-1 of the DER, upper-case hex (the Windows/Azure "thumbprint").
    pub sha1: String,
    /// basicConstraints CA:TRUE.
    pub is_ca: bool,
    /// Subject and issuer are the same name (a root, or a self-signed device certificate).
    pub self_issued: bool,
    /// Its common name, when it has one.
    pub common_name: Option<String>,
    #[serde(skip)]
    certificate: Certificate,
}

impl From<Certificate> for StoreCertificate {
    fn from(certificate: Certificate) -> Self {
        let s = Summary::of(&certificate);
        StoreCertificate {
            subject: s.subject.text(NameStyle::Compact).to_owned(),
            // Whole seconds, in UTC, as the stores' listings have always shown it.
            not_after: OffsetDateTime::from_unix_timestamp(s.not_after.unix_timestamp())
                .unwrap_or(s.not_after),
            sha256: s.sha256,
            sha1: s.sha1,
            is_ca: s.is_ca,
            self_issued: s.self_issued,
            common_name: s.common_name,
            certificate,
        }
    }
}

/// pki-x509's refusal of a certificate, as this crate's error.
fn bad_certificate(e: pki_x509::Error, input: &str) -> Error {
    match e {
        pki_x509::Error::BadCertificate { input, reason } => {
            Error::BadCertificate { input, reason }
        }
        other => Error::BadCertificate {
            input: input.to_owned(),
            reason: other.to_string(),
        },
    }
}

impl StoreCertificate {
    /// Parses one certificate from DER (nothing may follow it).
    pub fn from_der(input: &str, der: Vec<u8>) -> Result<Self, Error> {
        Certificate::from_der(der, input)
            .map(Self::from)
            .map_err(|e| bad_certificate(e, input))
    }

    /// Parses the one certificate of a PEM or DER file's bytes, read as every pki command reads
    /// certificates (pki-x509's [`Certificate::parse_all`]). `input` names the file in errors.
    pub fn parse(input: &str, bytes: &[u8]) -> Result<Self, Error> {
        let certs = Certificate::parse_all(bytes, input).map_err(|e| bad_certificate(e, input))?;
        match <[Certificate; 1]>::try_from(certs) {
            Ok([cert]) => Ok(cert.into()),
            Err(certs) => Err(Error::SeveralCertificates {
                input: input.to_owned(),
                count: certs.len(),
            }),
        }
    }

    /// Reads and parses a certificate file (links followed; a regular file of at most 1 MiB:
    /// a device, a FIFO or a huge file is refused unread).
    pub fn read(path: &Path) -> Result<Self, Error> {
        let bytes = read_user_file(path, MAX_CERT).map_err(|reason| {
            if is_refused(&reason) {
                Error::CertificateRefused {
                    path: path.to_owned(),
                    reason: reason.to_string(),
                }
            } else {
                Error::ReadCertificate {
                    path: path.to_owned(),
                    reason,
                }
            }
        })?;
        Self::parse(&path.display().to_string(), &bytes)
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        self.certificate.der()
    }

    /// The PEM encoding (64-column base64, trailing newline): what every store's file holds.
    pub fn to_pem(&self) -> String {
        self.certificate.to_pem()
    }

    /// The default base name of its file: `pki-` + the CN made file-safe + the first 8 hex
    /// digits of the SHA-256 (so a renewed CA with the same CN gets its own file).
    pub fn default_name(&self) -> String {
        let cn = self.common_name.as_deref().unwrap_or("ca");
        let mut safe: String = cn
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        while safe.contains("--") {
            safe = safe.replace("--", "-");
        }
        let safe = safe.trim_matches(|c| c == '-' || c == '.');
        let safe = if safe.is_empty() { "ca" } else { safe };
        let short: String = self
            .sha256
            .chars()
            .take(8)
            .collect::<String>()
            .to_ascii_lowercase();
        format!("{PREFIX}{safe}-{short}")
    }

    /// True when `fp` is this certificate's SHA-256 or SHA-1.
    pub fn matches(&self, fp: &Fingerprint) -> bool {
        match fp {
            Fingerprint::Sha256(h) => *h == self.sha256,
            Fingerprint::Sha1(h) => *h == self.sha1,
        }
    }
}

/// The prefix of every file pki installs: with the fingerprint inside the file, it is how pki
/// knows what it installed.
pub(crate) const PREFIX: &str = "pki-";

/// Makes a user's `--name` the base name of the file: checked, with the `pki-` prefix.
pub fn checked_name(name: &str) -> Result<String, Error> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(Error::BadName {
            name: name.to_owned(),
        });
    }
    let base = [".crt", ".pem"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name);
    Ok(if base.starts_with(PREFIX) {
        base.to_owned()
    } else {
        format!("{PREFIX}{base}")
    })
}

/// A fingerprint as a user gives it: SHA-256 (64 hex digits) or SHA-1 (40), any case, colons
/// or spaces allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Fingerprint {
    /// SHA-256, upper-case hex.
    Sha256(String),
    /// SHA-1, upper-case hex.
    Sha1(String),
}

impl Fingerprint {
    /// Parses hex of the right length; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let h: String = s
            .chars()
            .filter(|c| !matches!(c, ':' | ' '))
            .collect::<String>()
            .to_ascii_uppercase();
        if !h.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        match h.len() {
            64 => Some(Self::Sha256(h)),
            40 => Some(Self::Sha1(h)),
            _ => None,
        }
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sha256(h) => write!(f, "SHA-256 {h}"),
            Self::Sha1(h) => write!(f, "SHA-1 {h}"),
        }
    }
}

/// Every certificate of a PEM bundle's bytes (`ca-certificates.crt`, `tls-ca-bundle.pem`),
/// `name` naming it in errors. Blocks that do not parse are skipped: a store's bundle is the
/// system's, not pki's input.
pub(crate) fn parse_bundle(name: &str, bytes: &[u8]) -> Result<Vec<StoreCertificate>, Error> {
    Ok(pki_x509::pem_blocks(bytes, name)
        .map_err(|e| bad_certificate(e, name))?
        .iter()
        .filter_map(|b| b.certificate(name)?.ok())
        .map(StoreCertificate::from)
        .collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Error as TrustStoreError;

    /// A root CA from the verify fixtures.
    pub(crate) fn root() -> StoreCertificate {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/verify/missing-intermediate/ca.pem");
        StoreCertificate::read(&path).unwrap()
    }

    /// A leaf (not a CA) from the verify fixtures.
    pub(crate) fn leaf() -> StoreCertificate {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/verify/missing-intermediate/leaf.pem");
        StoreCertificate::read(&path).unwrap()
    }

    #[test]
    fn pem_and_der_give_the_same_identity() {
        let r = root();
        assert!(r.is_ca && r.self_issued);
        assert_eq!(r.sha256.len(), 64);
        let from_der = StoreCertificate::parse("x.der", r.der()).unwrap();
        assert_eq!(from_der, r);
        let back = StoreCertificate::parse("x.pem", r.to_pem().as_bytes()).unwrap();
        assert_eq!(back.sha256, r.sha256);
        assert!(!leaf().is_ca);
    }

    #[test]
    fn broken_inputs_are_named() {
        for bytes in [
            &b"garbage"[..],
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            b"",
        ] {
            let err = StoreCertificate::parse("in.pem", bytes).unwrap_err();
            assert!(
                matches!(&err, TrustStoreError::BadCertificate { input, .. } if input == "in.pem"),
                "{err:?}"
            );
        }
        let two = format!("{}{}", root().to_pem(), leaf().to_pem());
        assert!(matches!(
            StoreCertificate::parse("two.pem", two.as_bytes()),
            Err(TrustStoreError::SeveralCertificates { count: 2, .. })
        ));
    }

    #[test]
    fn every_certificate_label_reads_as_pki_show_reads_it() {
        let trusted = include_bytes!("../../fuzz/seeds/certificate/trusted.pem");
        let plain = include_bytes!("../../fuzz/seeds/certificate/ed25519-self.pem");
        let cert = StoreCertificate::parse("p", plain).unwrap();
        // OpenSSL's trust settings are dropped; the identity is the certificate's.
        assert_eq!(StoreCertificate::parse("t", trusted).unwrap(), cert);
        let old = String::from_utf8_lossy(plain).replace("CERTIFICATE", "X509 CERTIFICATE");
        assert_eq!(StoreCertificate::parse("o", old.as_bytes()).unwrap(), cert);
        // A bundle skips what does not parse and keeps the rest, in order.
        let bad = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let bundle = [&trusted[..], bad.as_bytes(), root().to_pem().as_bytes()].concat();
        let listed = parse_bundle("b", &bundle).unwrap();
        assert_eq!(listed, vec![cert, root()]);
    }

    #[test]
    fn names_and_fingerprints() {
        let r = root();
        let name = r.default_name();
        assert!(name.starts_with("pki-"), "{name}");
        assert!(
            name.ends_with(&r.sha256[..8].to_ascii_lowercase()),
            "{name}"
        );
        assert!(!name.contains(' ') && !name.contains("--"), "{name}");
        assert_eq!(checked_name("contoso-root").unwrap(), "pki-contoso-root");
        assert_eq!(checked_name("pki-x.crt").unwrap(), "pki-x");
        for bad in ["", "../etc/x", "a b", ".hidden", "x/y"] {
            assert!(
                matches!(checked_name(bad), Err(TrustStoreError::BadName { .. })),
                "{bad}"
            );
        }
        let colons: Vec<String> = r
            .sha256
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).to_ascii_lowercase())
            .collect();
        let fp = Fingerprint::parse(&colons.join(":")).unwrap();
        assert!(r.matches(&fp));
        assert!(r.matches(&Fingerprint::parse(&r.sha1).unwrap()));
        assert_eq!(Fingerprint::parse("abc"), None);
        assert_eq!(Fingerprint::parse(&"G".repeat(64)), None);
    }
}
