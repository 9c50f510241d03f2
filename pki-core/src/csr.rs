//! Certificate signing requests: creating one for a key we hold, and reading one made elsewhere
//! (its self-signature checked) so that a CA can sign it under a chosen profile.

use rcgen::CertificateParams;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use crate::error::{Error, Result};
use crate::profile::{SanEntry, Subject, rcgen_sans};
use crate::signing::{Held, Signing};
use pki_x509::CaSigner;
use pki_x509::KeyType;

/// Creates a PEM CSR (`CERTIFICATE REQUEST`) for `key` (a [`crate::PrivateKey`] or a key on a
/// token) with this subject and these SANs.
pub fn create(subject: &Subject, sans: &[SanEntry], key: &dyn CaSigner) -> Result<String> {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject.to_rcgen();
    params.subject_alt_names = rcgen_sans(sans)?;
    let signing = Signing::remote(Held::Lent(key))?;
    let csr = params
        .serialize_request(&signing)
        .map_err(|e| signing.error(e))?;
    Ok(pki_x509::pem_encode("CERTIFICATE REQUEST", csr.der()))
}

/// A CSR whose signature has been checked: what it asks for.
#[derive(Debug, Clone)]
pub struct Csr {
    /// The subject it asks for (CN, O, OU; other attributes are not carried over).
    pub subject: Subject,
    /// The subject alternative names it asks for.
    pub sans: Vec<SanEntry>,
    /// The raw public key bits.
    pub public_key: Vec<u8>,
    /// The public key's type.
    pub key_type: KeyType,
}

impl Csr {
    /// Reads a PEM or DER CSR and checks its self-signature. `input` names the file in errors.
    pub fn parse(bytes: &[u8], input: &str) -> Result<Self> {
        let bad = |reason: String| Error::BadCsr {
            input: input.to_owned(),
            reason,
        };
        let der = if pki_x509::looks_like_pem(bytes) {
            pki_x509::parse_blocks(bytes, input)
                .map_err(|_| bad("malformed or truncated PEM".into()))?
                .into_iter()
                .find(|b| matches!(b.tag(), "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST"))
                .ok_or_else(|| bad("no CERTIFICATE REQUEST block in the PEM".into()))?
                .into_contents()
        } else {
            bytes.to_vec()
        };
        let (rest, csr) = X509CertificationRequest::from_der(&der)
            .map_err(|e| bad(format!("DER does not parse: {e}")))?;
        if !rest.is_empty() {
            return Err(bad("trailing bytes after the request".into()));
        }
        csr.verify_signature().map_err(|_| {
            bad(
                "its signature does not verify: it was altered, or not signed by its own key"
                    .into(),
            )
        })?;
        let info = &csr.certification_request_info;
        let attr = |oid: &x509_parser::der_parser::Oid<'_>| {
            info.subject
                .iter_by_oid(oid)
                .next()
                .and_then(|a| a.as_str().ok().map(str::to_owned))
        };
        let common_name = attr(&x509_parser::oid_registry::OID_X509_COMMON_NAME)
            .ok_or_else(|| bad("the subject has no common name (CN)".into()))?;
        let subject = Subject {
            common_name,
            organization: attr(&x509_parser::oid_registry::OID_X509_ORGANIZATION_NAME),
            organizational_unit: attr(&x509_parser::oid_registry::OID_X509_ORGANIZATIONAL_UNIT),
        };
        let mut sans = Vec::new();
        for ext in csr.requested_extensions().into_iter().flatten() {
            if let ParsedExtension::SubjectAlternativeName(san) = ext {
                for name in &san.general_names {
                    match name {
                        GeneralName::DNSName(d) => sans.push(d.parse()?),
                        GeneralName::IPAddress(b) => sans
                            .push(SanEntry::Ip(pki_x509::text::ip_from_bytes(b).ok_or_else(
                                || bad("a SAN IP address has a bad length".into()),
                            )?)),
                        other => return Err(bad(format!("unsupported SAN {other}"))),
                    }
                }
            }
        }
        let spki = &info.subject_pki;
        let key_type = pki_x509::key_type_of_spki(spki).map_err(bad)?;
        Ok(Csr {
            subject,
            sans,
            public_key: spki.subject_public_key.data.to_vec(),
            key_type,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PrivateKey;

    #[test]
    fn a_created_csr_reads_back() {
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let mut subject = Subject::cn("dev-1");
        subject.organization = Some("Thin Edge".into());
        let pem = create(&subject, &["dev-1.local".parse().unwrap()], &key).unwrap();
        let csr = Csr::parse(pem.as_bytes(), "csr").unwrap();
        assert_eq!(csr.subject, subject);
        assert_eq!(csr.sans, vec![SanEntry::Dns("dev-1.local".into())]);
        assert_eq!(csr.public_key, key.public_key_raw().unwrap());
        assert_eq!(csr.key_type, KeyType::EcP256);
    }

    #[test]
    fn a_tampered_csr_is_refused() {
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let pem = create(&Subject::cn("dev-1"), &[], &key).unwrap();
        let block = pem::parse(&pem).unwrap();
        let mut der = block.contents().to_vec();
        let pos = der.windows(5).position(|w| w == b"dev-1").unwrap();
        der[pos + 4] = b'2';
        assert!(matches!(Csr::parse(&der, "csr"), Err(Error::BadCsr { .. })));
    }
}
