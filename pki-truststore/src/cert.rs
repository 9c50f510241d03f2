//! The certificate to trust: read from PEM or DER, identified by its SHA-256 fingerprint (never
//! by serial or name), and named for the store's file; fingerprints as users type them.

use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::access::{MAX_CERT, is_refused, read_user_file};
use crate::error::Error;

/// One certificate as a trust store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreCertificate {
    /// The subject, as OpenSSL prints it in one line (`CN=..., O=...`).
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
    der: Vec<u8>,
}

impl StoreCertificate {
    /// Parses one certificate from DER.
    pub fn from_der(input: &str, der: Vec<u8>) -> Result<Self, Error> {
        let bad = |reason: String| Error::BadCertificate {
            input: input.to_owned(),
            reason,
        };
        let (rest, x509) = X509Certificate::from_der(&der).map_err(|e| bad(e.to_string()))?;
        if !rest.is_empty() {
            return Err(bad(format!("{} bytes after the certificate", rest.len())));
        }
        let not_after = OffsetDateTime::from_unix_timestamp(x509.validity().not_after.timestamp())
            .map_err(|e| bad(e.to_string()))?;
        let common_name = x509
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok().map(str::to_owned));
        let cert = StoreCertificate {
            subject: x509.subject().to_string(),
            not_after,
            sha256: hex(ring::digest::digest(&ring::digest::SHA256, &der).as_ref()),
            sha1: hex(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der).as_ref()),
            is_ca: x509.is_ca(),
            self_issued: x509.subject().as_raw() == x509.issuer().as_raw(),
            common_name,
            der: Vec::new(),
        };
        Ok(StoreCertificate { der, ..cert })
    }

    /// Parses the one certificate of a PEM or DER file's bytes. `input` names the file in
    /// errors.
    pub fn parse(input: &str, bytes: &[u8]) -> Result<Self, Error> {
        let text_like =
            bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ");
        if !text_like {
            return Self::from_der(input, bytes.to_vec());
        }
        let certs = pem_blocks(input, bytes)?;
        match certs.len() {
            0 => Err(Error::BadCertificate {
                input: input.to_owned(),
                reason: "no CERTIFICATE block".to_owned(),
            }),
            1 => {
                let der = certs.into_iter().next().unwrap_or_default();
                Self::from_der(input, der)
            }
            count => Err(Error::SeveralCertificates {
                input: input.to_owned(),
                count,
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
        &self.der
    }

    /// The PEM encoding (64-column base64, trailing newline): what every store's file holds.
    pub fn to_pem(&self) -> String {
        pem::encode_config(
            &pem::Pem::new("CERTIFICATE", self.der.clone()),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        )
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

/// Every CERTIFICATE block of PEM text, as DER.
fn pem_blocks(input: &str, bytes: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let blocks = pem::parse_many(bytes).map_err(|e| Error::BadCertificate {
        input: input.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(blocks
        .into_iter()
        .filter(|b| b.tag() == "CERTIFICATE" || b.tag() == "TRUSTED CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect())
}

/// Every certificate of a PEM bundle's bytes (`ca-certificates.crt`, `tls-ca-bundle.pem`),
/// `name` naming it in errors. Blocks that do not parse are skipped: a store's bundle is the
/// system's, not pki's input.
pub(crate) fn parse_bundle(name: &str, bytes: &[u8]) -> Result<Vec<StoreCertificate>, Error> {
    Ok(pem_blocks(name, bytes)?
        .into_iter()
        .filter_map(|der| StoreCertificate::from_der(name, der).ok())
        .collect())
}

fn hex(bytes: &[u8]) -> String {
    pki_core::hex_upper(bytes)
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
