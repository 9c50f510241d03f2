//! Which certificates OpenSSL 3.0 marks invalid: the EXFLAG_INVALID decisions of
//! `x509v3_cache_extensions` (crypto/x509/v3_purp.c).
//!
//! OpenSSL decodes a fixed set of extensions when it first looks at a certificate. Each is looked
//! up with `X509_get_ext_d2i`, which gives nothing when the extension is there twice or does not
//! decode; either marks the certificate invalid, as do an empty keyUsage, a negative
//! basicConstraints path length, a proxyCertInfo on a CA or beside alternative names, and a CRL
//! distribution point with neither a name nor a CRL issuer.
//!
//! An invalid certificate is never taken as the issuer of another, nor does its own issuer count
//! as found (`ossl_x509_likely_issued` fails), so a chain stops below it with 20 or 2; it is not
//! self-signed for `X509_self_signed` (so an invalid self-signed leaf is 20, not 18); it is not a
//! CA (`X509_check_ca` is 0); and its purpose is not checked (`X509_check_purpose` gives -1, which
//! `check_purpose` lets pass outside strict mode).

use pki_x509::oid;
use x509_parser::der_parser::ber::BerObjectContent;
use x509_parser::der_parser::der::parse_der;
use x509_parser::extensions::ParsedExtension;

use crate::chain::Cert;

/// Why OpenSSL marks a certificate invalid: the first reason in the order OpenSSL looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Invalid {
    /// One of the extensions OpenSSL decodes appears more than once (its name).
    Duplicate(&'static str),
    /// One of the extensions OpenSSL decodes cannot be decoded (its name).
    Malformed(&'static str),
    /// basicConstraints with a negative path length.
    NegativePathLen,
    /// keyUsage with no usage bit set.
    EmptyKeyUsage,
    /// proxyCertInfo on a CA certificate or beside subject or issuer alternative names.
    ProxyMisuse,
    /// A CRL distribution point with neither a distribution point name nor a CRL issuer.
    EmptyDistributionPoint,
}

impl Invalid {
    /// The reason in plain words, naming the extension (`subjectAltName appears twice`).
    pub(crate) fn describe(self) -> String {
        match self {
            Invalid::Duplicate(name) => format!("{name} appears twice"),
            Invalid::Malformed(name) => format!("{name} cannot be decoded"),
            Invalid::NegativePathLen => "basicConstraints has a negative path length".to_owned(),
            Invalid::EmptyKeyUsage => "keyUsage has no usage set".to_owned(),
            Invalid::ProxyMisuse => {
                "proxyCertInfo is on a CA certificate or beside alternative names".to_owned()
            }
            Invalid::EmptyDistributionPoint => {
                "a CRL distribution point names neither a location nor a CRL issuer".to_owned()
            }
        }
    }
}

/// The extensions `x509v3_cache_extensions` decodes, in the order it decodes them: (OID, name).
const DECODED: &[(&str, &str)] = &[
    (oid::BASIC_CONSTRAINTS, "basicConstraints"),
    (oid::PROXY_CERT_INFO, "proxyCertInfo"),
    (oid::KEY_USAGE, "keyUsage"),
    (oid::EXTENDED_KEY_USAGE, "extendedKeyUsage"),
    (oid::NS_CERT_TYPE, "nsCertType"),
    (oid::SUBJECT_KEY_IDENTIFIER, "subjectKeyIdentifier"),
    (oid::AUTHORITY_KEY_IDENTIFIER, "authorityKeyIdentifier"),
    (oid::SUBJECT_ALT_NAME, "subjectAltName"),
    (oid::NAME_CONSTRAINTS, "nameConstraints"),
    (oid::CRL_DISTRIBUTION_POINTS, "cRLDistributionPoints"),
    (oid::SBGP_IP_ADDR_BLOCK, "sbgp-ipAddrBlock"),
    (oid::SBGP_AUTONOMOUS_SYS_NUM, "sbgp-autonomousSysNum"),
];

/// EXFLAG_INVALID of `x509v3_cache_extensions`: why OpenSSL will not use `cert`, or `None`.
pub(crate) fn invalid(cert: &Cert<'_>) -> Option<Invalid> {
    let extensions = cert.x509.extensions();
    let has = |oid: &str| extensions.iter().any(|e| e.oid.to_id_string() == oid);
    for &(oid, name) in DECODED {
        let mut found = extensions.iter().filter(|e| e.oid.to_id_string() == oid);
        let Some(ext) = found.next() else {
            continue;
        };
        if found.next().is_some() {
            return Some(Invalid::Duplicate(name));
        }
        let parsed = ext.parsed_extension();
        let decodes = match parsed {
            ParsedExtension::ParseError { .. } => false,
            // Extensions x509-parser does not decode: a well-formed DER SEQUENCE is what
            // OpenSSL's templates for them start with.
            ParsedExtension::UnsupportedExtension { .. } => is_der_sequence(ext.value),
            _ => true,
        };
        if !decodes {
            if oid == oid::BASIC_CONSTRAINTS && negative_path_len(ext.value) {
                return Some(Invalid::NegativePathLen);
            }
            return Some(Invalid::Malformed(name));
        }
        match (oid, parsed) {
            (oid::KEY_USAGE, ParsedExtension::KeyUsage(ku)) if ku.flags == 0 => {
                // OpenSSL reads the first 16 bits, as x509-parser's flags hold them.
                return Some(Invalid::EmptyKeyUsage);
            }
            (oid::PROXY_CERT_INFO, _)
                if cert.basic_constraints().is_some_and(|b| b.ca)
                    || has(oid::SUBJECT_ALT_NAME)
                    || has(oid::ISSUER_ALT_NAME) =>
            {
                return Some(Invalid::ProxyMisuse);
            }
            (oid::CRL_DISTRIBUTION_POINTS, ParsedExtension::CRLDistributionPoints(points))
                if points.iter().any(|p| {
                    p.distribution_point.is_none()
                        && p.crl_issuer.as_ref().is_none_or(Vec::is_empty)
                }) =>
            {
                return Some(Invalid::EmptyDistributionPoint);
            }
            _ => {}
        }
    }
    None
}

/// Whether `value` starts with a well-formed DER SEQUENCE.
fn is_der_sequence(value: &[u8]) -> bool {
    matches!(parse_der(value), Ok((_, obj)) if matches!(obj.content, BerObjectContent::Sequence(_)))
}

/// Whether a basicConstraints value that x509-parser refused is a SEQUENCE whose path length
/// INTEGER is negative (which OpenSSL decodes, then marks invalid).
fn negative_path_len(value: &[u8]) -> bool {
    let Ok((_, obj)) = parse_der(value) else {
        return false;
    };
    let BerObjectContent::Sequence(items) = &obj.content else {
        return false;
    };
    items.iter().any(|item| {
        matches!(&item.content, BerObjectContent::Integer(bytes) if bytes.first().is_some_and(|b| b & 0x80 != 0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_plain_words() {
        assert_eq!(
            Invalid::Duplicate("subjectAltName").describe(),
            "subjectAltName appears twice"
        );
        assert_eq!(
            Invalid::Malformed("keyUsage").describe(),
            "keyUsage cannot be decoded"
        );
        assert_eq!(
            Invalid::EmptyKeyUsage.describe(),
            "keyUsage has no usage set"
        );
    }

    #[test]
    fn der_sequences_are_told_from_other_values() {
        assert!(is_der_sequence(&[0x30, 0x03, 0x02, 0x01, 0x01]));
        assert!(!is_der_sequence(&[0x30, 0x04, 0x02, 0x01, 0x01]));
        assert!(!is_der_sequence(&[0x04, 0x00]));
    }

    #[test]
    fn a_negative_path_length_is_recognised() {
        // SEQUENCE { BOOLEAN TRUE, INTEGER -1 }
        assert!(negative_path_len(&[
            0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0xff
        ]));
        assert!(!negative_path_len(&[
            0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x01
        ]));
    }
}
