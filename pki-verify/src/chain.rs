//! The input of a verification, and the certificates parsed from it.
//!
//! A [`ChainInput`] is what a TLS client has in hand: the leaf a server presented, the other
//! certificates it sent (untrusted, in the order sent), and the trust anchors of the device.
//! [`ChainInput::parse`] parses every certificate once; both verdicts and the diagnosis work on
//! the parsed [`Cert`]s.

use pki_x509::oid;
use pki_x509::{NameStyle, Summary};
use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use crate::Error;
use crate::crl::Crl;

/// The certificates to verify: a leaf, the untrusted certificates a server sent after it, and the
/// trust anchors, all as DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainInput {
    leaf: Vec<u8>,
    intermediates: Vec<Vec<u8>>,
    anchors: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
}

impl ChainInput {
    /// A chain from DER: the leaf, the untrusted certificates in the order the server sent them,
    /// and the trust anchors.
    pub fn new(leaf: Vec<u8>, intermediates: Vec<Vec<u8>>, anchors: Vec<Vec<u8>>) -> Self {
        Self {
            leaf,
            intermediates,
            anchors,
            crls: Vec::new(),
        }
    }

    /// The same chain with certificate revocation lists (DER, as `pki_x509::read_crls` gives
    /// them): with any, both verdicts check revocation (OpenSSL as `-crl_check`, or
    /// `-crl_check_all` with [`crate::CrlScope::Chain`]).
    pub fn with_crls(mut self, crls: Vec<Vec<u8>>) -> Self {
        self.crls = crls;
        self
    }

    /// The CRLs' DER, in the order given.
    pub fn crls_der(&self) -> &[Vec<u8>] {
        &self.crls
    }

    /// A chain from what a TLS server presented (leaf first, as in its Certificate message) and
    /// the trust anchors.
    pub fn from_presented(presented: Vec<Vec<u8>>, anchors: Vec<Vec<u8>>) -> Result<Self, Error> {
        let mut presented = presented.into_iter();
        let leaf = presented.next().ok_or_else(|| Error::NoCertificate {
            input: "the presented chain".to_owned(),
        })?;
        Ok(Self::new(leaf, presented.collect(), anchors))
    }

    /// A chain from PEM text: `leaf` must hold one certificate (the first is taken), `chain` zero
    /// or more untrusted certificates in the order a server sends them, `anchors` the trust
    /// anchors.
    pub fn from_pem(leaf: &[u8], chain: &[u8], anchors: &[u8]) -> Result<Self, Error> {
        let leaf = pem_certificates("leaf", leaf)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::NoCertificate {
                input: "leaf".to_owned(),
            })?;
        Ok(Self::new(
            leaf,
            pem_certificates("chain", chain)?,
            pem_certificates("trust anchors", anchors)?,
        ))
    }

    /// The leaf's DER.
    pub fn leaf_der(&self) -> &[u8] {
        &self.leaf
    }

    /// The untrusted certificates' DER, in the order given.
    pub fn intermediates_der(&self) -> &[Vec<u8>] {
        &self.intermediates
    }

    /// The trust anchors' DER.
    pub fn anchors_der(&self) -> &[Vec<u8>] {
        &self.anchors
    }

    /// Parses every certificate once.
    pub(crate) fn parse(&self) -> Result<Parsed<'_>, Error> {
        let leaf = Cert::parse(&self.leaf, Role::Leaf)?;
        let intermediates = self
            .intermediates
            .iter()
            .enumerate()
            .map(|(i, der)| Cert::parse(der, Role::Intermediate(i)))
            .collect::<Result<Vec<_>, _>>()?;
        let anchors = self
            .anchors
            .iter()
            .enumerate()
            .map(|(i, der)| Cert::parse(der, Role::Anchor(i)))
            .collect::<Result<Vec<_>, _>>()?;
        let crls = self
            .crls
            .iter()
            .enumerate()
            .map(|(i, der)| Crl::parse(der, i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Parsed {
            leaf,
            intermediates,
            anchors,
            crls,
        })
    }
}

/// A fixture case of testdata/verify, for the unit tests.
#[cfg(test)]
pub(crate) fn test_case(name: &str) -> ChainInput {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/verify")
        .join(name);
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    ChainInput::from_pem(&read("leaf.pem"), &read("chain.pem"), &read("ca.pem")).unwrap()
}

/// Every certificate block of a PEM text, as DER, read by pki-core ([`pki_x509::PemBlock`]:
/// `CERTIFICATE`, `X509 CERTIFICATE`, and `TRUSTED CERTIFICATE` without its trust settings).
/// Other blocks (keys) are skipped; the DER is parsed when the chain is verified, where an
/// error names the certificate.
pub fn pem_certificates(input: &str, text: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let blocks = pki_x509::pem_blocks(text, input).map_err(|e| Error::Pem {
        input: input.to_owned(),
        reason: match e {
            pki_x509::Error::BadCertificate { reason, .. } => reason,
            other => other.to_string(),
        },
    })?;
    Ok(blocks
        .iter()
        .filter_map(|b| b.certificate_der().map(<[u8]>::to_vec))
        .collect())
}

/// The parsed input.
pub(crate) struct Parsed<'a> {
    pub(crate) leaf: Cert<'a>,
    pub(crate) intermediates: Vec<Cert<'a>>,
    pub(crate) anchors: Vec<Cert<'a>>,
    /// The CRLs given, in order.
    pub(crate) crls: Vec<Crl<'a>>,
}

impl<'a> Parsed<'a> {
    /// The certificate a [`CertRef`] points at.
    pub(crate) fn get(&self, r: CertRef) -> &Cert<'a> {
        match r {
            CertRef::Leaf => &self.leaf,
            CertRef::Intermediate(i) => &self.intermediates[i],
            CertRef::Anchor(i) => &self.anchors[i],
        }
    }
}

/// Where a certificate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Leaf,
    Intermediate(usize),
    Anchor(usize),
}

/// An index into [`Parsed`].
pub(crate) type CertRef = Role;

/// The basicConstraints extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BasicConstraints {
    pub(crate) ca: bool,
    pub(crate) path_len: Option<u32>,
}

/// One parsed certificate and the facts both verdicts need.
pub(crate) struct Cert<'a> {
    pub(crate) der: &'a [u8],
    pub(crate) x509: X509Certificate<'a>,
    pub(crate) role: Role,
    /// What pki-core reads of every certificate (names, serial, validity, signature algorithm).
    pub(crate) summary: Summary,
    /// Subject in the compact form (`CN=gateway.example.com`).
    pub(crate) subject: String,
    /// Issuer in the same form.
    pub(crate) issuer: String,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
}

impl<'a> Cert<'a> {
    fn parse(der: &'a [u8], role: Role) -> Result<Self, Error> {
        let bad = |reason: String| Error::Parse {
            input: role.describe(),
            reason,
        };
        let (_, x509) = X509Certificate::from_der(der).map_err(|e| bad(e.to_string()))?;
        // Bytes after the certificate are ignored here, as by the parse above.
        let summary = pki_x509::Certificate::from_der_prefix(der.to_vec(), &role.describe())
            .map(|c| Summary::of(&c))
            .map_err(|e| bad(e.to_string()))?;
        Ok(Self {
            der,
            x509,
            role,
            subject: summary.subject.text(NameStyle::Compact).to_owned(),
            issuer: summary.issuer.text(NameStyle::Compact).to_owned(),
            not_before: summary.not_before,
            not_after: summary.not_after,
            summary,
        })
    }

    /// X.509 version as written (0 for v1, 2 for v3).
    pub(crate) fn version(&self) -> u32 {
        self.x509.version().0
    }

    pub(crate) fn basic_constraints(&self) -> Option<BasicConstraints> {
        self.parsed_extensions().find_map(|e| match e {
            ParsedExtension::BasicConstraints(bc) => Some(BasicConstraints {
                ca: bc.ca,
                path_len: bc.path_len_constraint,
            }),
            _ => None,
        })
    }

    /// keyUsage in OpenSSL's bit layout (`KU_DIGITAL_SIGNATURE` = 0x80, `KU_KEY_CERT_SIGN` =
    /// 0x04, ...), if the extension is present.
    pub(crate) fn key_usage_bits(&self) -> Option<u32> {
        self.parsed_extensions().find_map(|e| match e {
            ParsedExtension::KeyUsage(ku) => {
                // x509-parser numbers the bits from digitalSignature = bit 0.
                let mut bits = 0u32;
                let map = [
                    (0, 0x80),   // digitalSignature
                    (1, 0x40),   // nonRepudiation
                    (2, 0x20),   // keyEncipherment
                    (3, 0x10),   // dataEncipherment
                    (4, 0x08),   // keyAgreement
                    (5, 0x04),   // keyCertSign
                    (6, 0x02),   // cRLSign
                    (7, 0x01),   // encipherOnly
                    (8, 0x8000), // decipherOnly
                ];
                for (bit, flag) in map {
                    if (ku.flags >> bit) & 1 == 1 {
                        bits |= flag;
                    }
                }
                Some(bits)
            }
            _ => None,
        })
    }

    /// Whether keyUsage is present and lacks keyCertSign.
    pub(crate) fn key_usage_forbids_cert_sign(&self) -> bool {
        self.key_usage_bits().is_some_and(|b| b & 0x04 == 0)
    }

    /// The extended key usages, as dotted OIDs, if the extension is present.
    pub(crate) fn extended_key_usage(&self) -> Option<Vec<String>> {
        self.parsed_extensions().find_map(|e| match e {
            ParsedExtension::ExtendedKeyUsage(eku) => {
                let mut oids = Vec::new();
                if eku.any {
                    oids.push(oid::ANY_EXTENDED_KEY_USAGE.to_owned());
                }
                if eku.server_auth {
                    oids.push(oid::SERVER_AUTH.to_owned());
                }
                if eku.client_auth {
                    oids.push(oid::CLIENT_AUTH.to_owned());
                }
                if eku.code_signing {
                    oids.push(oid::CODE_SIGNING.to_owned());
                }
                if eku.email_protection {
                    oids.push(oid::EMAIL_PROTECTION.to_owned());
                }
                if eku.time_stamping {
                    oids.push(oid::TIME_STAMPING.to_owned());
                }
                if eku.ocsp_signing {
                    oids.push(oid::OCSP_SIGNING.to_owned());
                }
                oids.extend(eku.other.iter().map(|o| o.to_id_string()));
                Some(oids)
            }
            _ => None,
        })
    }

    /// nsCertType in OpenSSL's bit layout (`NS_SSL_CLIENT` = 0x80, `NS_SSL_SERVER` = 0x40,
    /// `NS_SSL_CA` = 0x04, ...), if present.
    pub(crate) fn ns_cert_type_bits(&self) -> Option<u32> {
        self.parsed_extensions().find_map(|e| match e {
            ParsedExtension::NSCertType(t) => {
                let flags = [
                    (t.ssl_client(), 0x80),
                    (t.ssl_server(), 0x40),
                    (t.smime(), 0x20),
                    (t.object_signing(), 0x10),
                    (t.ssl_ca(), 0x04),
                    (t.smime_ca(), 0x02),
                    (t.object_signing_ca(), 0x01),
                ];
                Some(flags.iter().filter(|(on, _)| *on).map(|(_, f)| f).sum())
            }
            _ => None,
        })
    }

    pub(crate) fn subject_key_id(&self) -> Option<&[u8]> {
        self.parsed_extensions().find_map(|e| match e {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0),
            _ => None,
        })
    }

    pub(crate) fn authority_key_id(
        &self,
    ) -> Option<&x509_parser::extensions::AuthorityKeyIdentifier<'a>> {
        self.x509
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(a) => Some(a),
                _ => None,
            })
    }

    /// The subjectAltName entries.
    pub(crate) fn sans(&self) -> Vec<&GeneralName<'a>> {
        self.x509
            .extensions()
            .iter()
            .filter_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(s) => Some(s.general_names.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// DNS names and IP addresses of the subjectAltName, as text (what a user compares with).
    pub(crate) fn san_names(&self) -> Vec<String> {
        self.sans()
            .into_iter()
            .filter_map(|g| match g {
                GeneralName::DNSName(d) => Some((*d).to_owned()),
                GeneralName::IPAddress(b) => pki_x509::ip_from_bytes(b).map(|ip| ip.to_string()),
                _ => None,
            })
            .collect()
    }

    /// The subject's commonName values, as text.
    pub(crate) fn common_names(&self) -> Vec<String> {
        self.x509
            .subject()
            .iter_common_name()
            .filter_map(|a| a.as_str().ok().map(str::to_owned))
            .collect()
    }

    /// The cRLDistributionPoints.
    pub(crate) fn crl_distribution_points(
        &self,
    ) -> &[x509_parser::extensions::CRLDistributionPoint<'a>] {
        self.x509
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::CRLDistributionPoints(p) => Some(p.points.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    /// Dotted OIDs of the critical extensions.
    pub(crate) fn critical_extension_oids(&self) -> impl Iterator<Item = String> + '_ {
        self.x509
            .extensions()
            .iter()
            .filter(|e| e.critical)
            .map(|e| e.oid.to_id_string())
    }

    /// Dotted OID of the signature algorithm.
    pub(crate) fn signature_algorithm(&self) -> String {
        self.x509.signature_algorithm.algorithm.to_id_string()
    }

    fn parsed_extensions(&self) -> impl Iterator<Item = &ParsedExtension<'a>> + '_ {
        self.x509.extensions().iter().map(|e| e.parsed_extension())
    }

    /// A plain summary for reports: pki-x509's [`Summary`], and what the verdicts read.
    pub(crate) fn report_summary(&self) -> CertSummary {
        let s = &self.summary;
        CertSummary {
            subject: self.subject.clone(),
            issuer: self.issuer.clone(),
            serial: s.serial.encoded_colons(),
            not_before: s.not_before,
            not_after: s.not_after,
            version: s.version,
            // As the verdicts read basicConstraints (the first one, should there be two).
            is_ca: self.basic_constraints().is_some_and(|b| b.ca),
            names: self.san_names(),
            signature_algorithm: s.signature_algorithm.clone(),
            source: match self.role {
                Role::Leaf => CertSource::Leaf,
                Role::Intermediate(i) => CertSource::Sent { index: i },
                Role::Anchor(i) => CertSource::TrustAnchor { index: i },
            },
        }
    }
}

impl Role {
    pub(crate) fn describe(self) -> String {
        match self {
            Role::Leaf => "leaf".to_owned(),
            Role::Intermediate(i) => format!("intermediate #{}", i + 1),
            Role::Anchor(i) => format!("trust anchor #{}", i + 1),
        }
    }
}

/// Where a certificate of a built chain came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CertSource {
    /// The leaf under test.
    Leaf,
    /// One of the untrusted certificates sent after the leaf (`index` 0 is the first sent).
    Sent {
        /// Position among the untrusted certificates, from 0.
        index: usize,
    },
    /// One of the trust anchors (`index` 0 is the first given).
    TrustAnchor {
        /// Position among the trust anchors, from 0.
        index: usize,
    },
}

/// What a user needs to know about one certificate of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    /// Subject, `CN=gateway.example.com` style.
    pub subject: String,
    /// Issuer, same style.
    pub issuer: String,
    /// Serial number, colon-separated hex.
    pub serial: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// X.509 version (1 or 3).
    pub version: u32,
    /// basicConstraints CA:TRUE.
    pub is_ca: bool,
    /// DNS names and IP addresses of the subjectAltName.
    pub names: Vec<String>,
    /// Signature algorithm, OpenSSL's short name where known (`ecdsa-with-SHA256`), else the OID.
    pub signature_algorithm: String,
    /// Where the certificate came from.
    pub source: CertSource,
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK_LEAF: &[u8] = include_bytes!("../../testdata/verify/ok/leaf.pem");
    const OK_CHAIN: &[u8] = include_bytes!("../../testdata/verify/ok/chain.pem");
    const OK_CA: &[u8] = include_bytes!("../../testdata/verify/ok/ca.pem");

    #[test]
    fn from_pem_reads_all_three_inputs() {
        let input = ChainInput::from_pem(OK_LEAF, OK_CHAIN, OK_CA).unwrap();
        assert_eq!(input.intermediates_der().len(), 1);
        assert_eq!(input.anchors_der().len(), 1);
        let parsed = input.parse().unwrap();
        assert_eq!(parsed.leaf.subject, "CN=gateway.example.com");
        assert_eq!(parsed.leaf.san_names(), vec!["gateway.example.com"]);
        assert_eq!(
            parsed.leaf.extended_key_usage().unwrap(),
            vec![oid::SERVER_AUTH]
        );
        assert_eq!(parsed.leaf.key_usage_bits(), Some(0x80));
        assert_eq!(parsed.anchors[0].subject, "CN=Test Root CA");
        assert_eq!(
            parsed.intermediates[0].basic_constraints(),
            Some(BasicConstraints {
                ca: true,
                path_len: None
            })
        );
    }

    #[test]
    fn empty_leaf_is_an_error_naming_the_input() {
        let err = ChainInput::from_pem(b"", OK_CHAIN, OK_CA).unwrap_err();
        assert!(matches!(err, Error::NoCertificate { ref input } if input == "leaf"));
        assert_eq!(err.to_string(), "no certificate in leaf");
    }

    #[test]
    fn garbage_der_is_a_parse_error_naming_the_certificate() {
        let input = ChainInput::new(b"not der".to_vec(), vec![], vec![]);
        let err = input.parse().err().unwrap();
        assert!(matches!(err, Error::Parse { ref input, .. } if input == "leaf"));
    }

    #[test]
    fn from_presented_takes_the_first_as_leaf() {
        let input = ChainInput::from_presented(vec![vec![1], vec![2]], vec![]).unwrap();
        assert_eq!(input.leaf_der(), &[1]);
        assert_eq!(input.intermediates_der(), &[vec![2]]);
        assert!(matches!(
            ChainInput::from_presented(vec![], vec![]),
            Err(Error::NoCertificate { .. })
        ));
    }
}
