//! The one description of a certificate that every report starts from: [`Summary`], read by
//! [`Summary::of`] from a [`Certificate`] in one parse (names, serial, validity, fingerprints,
//! signature algorithm). `pki show`'s [`crate::CertInfo`], the facts the CA directory's index
//! records ([`crate::Facts`]), pki-verify's `CertSummary` and pki-truststore's
//! `StoreCertificate` are built from it and add only what is theirs.

use time::OffsetDateTime;

use crate::oid::sig_alg_name;
use crate::pem::Certificate;
use crate::text::{NameStyle, common_name, hex_colons, hex_upper, name_text};

/// A distinguished name, in the two forms pki prints (see [`NameStyle`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    oneline: String,
    compact: String,
}

impl Name {
    /// The name written in `style`.
    pub fn text(&self, style: NameStyle) -> &str {
        match style {
            NameStyle::OpenSslOneline => &self.oneline,
            NameStyle::Compact => &self.compact,
        }
    }

    /// Reads a distinguished name from its DER (an RFC 5280 `Name`, its SEQUENCE included, as a
    /// TLS server lists the CAs it accepts client certificates from); `None` when it is not one.
    pub fn from_der(der: &[u8]) -> Option<Name> {
        use x509_parser::prelude::FromDer;
        let (rest, name) = x509_parser::x509::X509Name::from_der(der).ok()?;
        rest.is_empty().then(|| Name {
            oneline: name_text(&name, NameStyle::OpenSslOneline),
            compact: name_text(&name, NameStyle::Compact),
        })
    }
}

/// The serial number, as OpenSSL and `tedge cert show` print it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Serial {
    /// Decimal.
    pub decimal: String,
    /// Upper-case hex of the magnitude, without leading zero bytes (as `openssl x509 -serial`).
    pub hex: String,
    /// True for a (non-conforming) negative serial.
    pub negative: bool,
    /// The INTEGER's contents as encoded.
    #[serde(skip)]
    encoded: Vec<u8>,
}

impl Serial {
    /// The bytes as encoded (a leading zero byte kept, a negative serial in two's complement),
    /// lower-case hex with colons: `00:8a:3f`, as pki verify reports it.
    pub fn encoded_colons(&self) -> String {
        hex_colons(&self.encoded).to_ascii_lowercase()
    }
}

/// What every report says about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// X.509 version (1 or 3).
    pub version: u32,
    /// The subject.
    pub subject: Name,
    /// The issuer.
    pub issuer: Name,
    /// The subject's first common name, when it is text.
    pub common_name: Option<String>,
    /// The serial number.
    pub serial: Serial,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// basicConstraints says CA:TRUE (a certificate with two basicConstraints is not a CA).
    pub is_ca: bool,
    /// Subject and issuer are the same name, byte for byte (a root, or a self-signed device
    /// certificate).
    pub self_issued: bool,
    /// The signature algorithm, as OpenSSL names it (`ecdsa-with-SHA256`), else the dotted OID.
    pub signature_algorithm: String,
    /// SHA-1 of the DER, upper-case hex: the "thumbprint" Azure and `tedge cert show` print.
    pub sha1: String,
    /// SHA-256 of the DER, upper-case hex.
    pub sha256: String,
}

impl Summary {
    /// Reads the summary of a certificate (one parse).
    pub fn of(cert: &Certificate) -> Summary {
        let x = cert.x509();
        let name = |n| Name {
            oneline: name_text(n, NameStyle::OpenSslOneline),
            compact: name_text(n, NameStyle::Compact),
        };
        Summary {
            version: x.version().0 + 1,
            subject: name(x.subject()),
            issuer: name(x.issuer()),
            common_name: common_name(x.subject()),
            serial: serial(x.raw_serial()),
            not_before: x.validity().not_before.to_datetime(),
            not_after: x.validity().not_after.to_datetime(),
            is_ca: x.is_ca(),
            self_issued: x.subject().as_raw() == x.issuer().as_raw(),
            signature_algorithm: sig_alg_name(&x.signature_algorithm.algorithm.to_id_string()),
            sha1: cert.sha1_hex(),
            sha256: cert.sha256_hex(),
        }
    }
}

/// The serial of the INTEGER contents `raw`.
pub(crate) fn serial(raw: &[u8]) -> Serial {
    let negative = raw.first().is_some_and(|b| b & 0x80 != 0);
    let magnitude: Vec<u8> = if negative {
        // Two's complement negation.
        let mut m: Vec<u8> = raw.iter().map(|b| !b).collect();
        for b in m.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
        m
    } else {
        raw.to_vec()
    };
    let start = magnitude
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(magnitude.len());
    let mag = &magnitude[start..];
    let hex = if mag.is_empty() {
        "00".to_owned()
    } else {
        hex_upper(mag)
    };
    let mut decimal = decimal(mag);
    if negative {
        decimal.insert(0, '-');
    }
    Serial {
        decimal,
        hex,
        negative,
        encoded: raw.to_vec(),
    }
}

/// Big-endian unsigned bytes to decimal digits.
fn decimal(bytes: &[u8]) -> String {
    let mut num: Vec<u8> = bytes.to_vec();
    let mut digits = Vec::new();
    while num.iter().any(|b| *b != 0) {
        let mut rem = 0u32;
        for b in num.iter_mut() {
            let cur = (rem << 8) | u32::from(*b);
            *b = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
    }
    if digits.is_empty() {
        return "0".into();
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_print_in_decimal_and_hex() {
        let s = serial(&[0x00, 0x30, 0x39]);
        assert_eq!(
            (s.decimal.as_str(), s.hex.as_str(), s.negative),
            ("12345", "3039", false)
        );
        assert_eq!(s.encoded_colons(), "00:30:39");
        let s = serial(&[0xff]);
        assert_eq!(
            (s.decimal.as_str(), s.hex.as_str(), s.negative),
            ("-1", "01", true)
        );
        assert_eq!(
            decimal(&[0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]),
            "18446744073709551616"
        );
    }

    #[test]
    fn a_summary_reads_every_fact_once() {
        let pem = include_bytes!("../../testdata/verify/ok/leaf.pem");
        let cert = Certificate::parse_one(pem, "leaf.pem").unwrap();
        let s = Summary::of(&cert);
        assert_eq!(s.subject.text(NameStyle::Compact), "CN=gateway.example.com");
        assert_eq!(
            s.subject.text(NameStyle::OpenSslOneline),
            "CN = gateway.example.com"
        );
        assert_eq!(s.common_name.as_deref(), Some("gateway.example.com"));
        assert_eq!((s.version, s.is_ca, s.self_issued), (3, false, false));
        assert_eq!((s.sha1.len(), s.sha256.len()), (40, 64));
        assert_eq!(s.sha256, cert.sha256_hex());
    }

    #[test]
    fn a_name_reads_from_its_der_as_a_certificate_carries_it() {
        let pem = include_bytes!("../../testdata/verify/ok/leaf.pem");
        let cert = Certificate::parse_one(pem, "leaf.pem").unwrap();
        let issuer = cert.x509().issuer().as_raw().to_vec();
        let n = Name::from_der(&issuer).unwrap();
        assert_eq!(n, Summary::of(&cert).issuer);
        assert_eq!(Name::from_der(&issuer[..issuer.len() - 1]), None);
        assert_eq!(Name::from_der(b"not a name"), None);
    }
}
