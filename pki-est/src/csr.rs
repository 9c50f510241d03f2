//! CSR intake: the body of `/simpleenroll` and `/simplereenroll` (RFC 7030 §4.2.1) as the clients
//! send it, bounded, decoded, parsed and its self-signature checked (pki-core's [`Csr`]).
//!
//! What is accepted, and why:
//! - base64 of the DER (RFC 7030 §4.2.1: `application/pkcs10`, RFC 5967, base64 transfer
//!   encoding), in lines or on one line, with `Content-Transfer-Encoding: base64` (aziot-certd)
//!   or with no such header (tedge, curl). RFC 8951 §3 makes base64 of the DER the format
//!   whatever the header says ("any value in such a header MUST be ignored"), white space
//!   (CR, LF, spaces, tabs) tolerated.
//! - raw DER when the header says `binary` and the body is not base64 text: a leniency for
//!   clients written to RFC 7030's text before RFC 8951; a base64 body is read as base64 whatever
//!   the header, as RFC 8951 asks.
//! - PEM armour is refused ([`Error::PemArmour`], with how to strip it): it is not RFC 7030's
//!   format, and a device set up against a server that took it would fail against every other
//!   EST server.
//! - bodies over [`MAX_CSR_BODY`] are refused before anything is decoded.

use pki_core::Csr;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

use crate::body;
use crate::error::{Error, Result};

/// The largest request body read as a CSR (64 KiB): an RSA-4096 CSR with SANs is under 3 KiB.
pub const MAX_CSR_BODY: usize = 64 * 1024;

/// Reads a CSR from a request body; `content_transfer_encoding` is the header's value, if sent.
pub fn parse_csr(body: &[u8], content_transfer_encoding: Option<&str>) -> Result<Csr> {
    if body.len() > MAX_CSR_BODY {
        return Err(Error::TooLarge {
            len: body.len(),
            max: MAX_CSR_BODY,
        });
    }
    let text = body.trim_ascii();
    if text.is_empty() {
        return Err(Error::Empty);
    }
    if text.starts_with(b"-----BEGIN") {
        return Err(Error::PemArmour);
    }
    let binary = content_transfer_encoding.is_some_and(|v| v.trim().eq_ignore_ascii_case("binary"));
    let der = if binary && !body::is_base64_text(body) {
        body.to_vec()
    } else {
        body::decode(body).map_err(|e| Error::NotBase64 {
            reason: e.to_string(),
        })?
    };
    if der.is_empty() {
        return Err(Error::Empty);
    }
    Csr::parse(&der, "the request body").map_err(|e| classify(&der, e))
}

/// Which of [`Error::NotACsr`], [`Error::BadSignature`] or [`Error::Unusable`] `error` (from
/// [`Csr::parse`] of `der`) is. Parsed again only on this failure path, so that an accepted CSR
/// is parsed and its signature checked once.
fn classify(der: &[u8], error: pki_core::Error) -> Error {
    match X509CertificationRequest::from_der(der) {
        Err(e) => Error::NotACsr {
            reason: e.to_string(),
        },
        Ok((rest, _)) if !rest.is_empty() => Error::NotACsr {
            reason: format!("{} bytes after the request", rest.len()),
        },
        Ok((_, csr)) if csr.verify_signature().is_err() => Error::BadSignature,
        Ok(_) => Error::Unusable {
            reason: match error {
                pki_core::Error::BadCsr { reason, .. } => reason,
                other => other.to_string(),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::encode_lines;
    use crate::testing::csr_der;
    use pki_core::{KeyType, SanEntry};

    fn p256() -> Vec<u8> {
        csr_der(KeyType::EcP256, "dev-1", &["dev-1.local"])
    }

    #[test]
    fn base64_lines_with_or_without_the_header_are_read() {
        let der = p256();
        let lines = encode_lines(&der);
        for header in [Some("base64"), Some(" Base64 "), None] {
            let csr = parse_csr(lines.as_bytes(), header).unwrap();
            assert_eq!(csr.subject.common_name, "dev-1");
            assert_eq!(csr.sans, vec![SanEntry::Dns("dev-1.local".into())]);
            assert_eq!(csr.key_type, KeyType::EcP256);
        }
    }

    #[test]
    fn tedges_body_the_pem_lines_without_armour_crlf_or_one_line_is_read() {
        let der = p256();
        let lines = encode_lines(&der);
        let crlf = lines.replace('\n', "\r\n");
        let one_line: String = lines.lines().collect();
        for body in [crlf, one_line] {
            assert_eq!(
                parse_csr(body.as_bytes(), None)
                    .unwrap()
                    .subject
                    .common_name,
                "dev-1"
            );
        }
    }

    #[test]
    fn raw_der_is_read_when_the_header_says_binary_only() {
        let der = p256();
        assert_eq!(
            parse_csr(&der, Some("binary")).unwrap().subject.common_name,
            "dev-1"
        );
        assert!(matches!(
            parse_csr(&der, None),
            Err(Error::NotBase64 { .. })
        ));
        assert!(matches!(
            parse_csr(&der, Some("base64")),
            Err(Error::NotBase64 { .. })
        ));
    }

    #[test]
    fn every_key_type_pki_makes_is_read() {
        for kt in [
            KeyType::EcP256,
            KeyType::EcP384,
            KeyType::Ed25519,
            KeyType::Rsa(2048),
        ] {
            let body = encode_lines(&csr_der(kt, "dev-1", &[]));
            assert_eq!(parse_csr(body.as_bytes(), None).unwrap().key_type, kt);
        }
    }

    #[test]
    fn pem_armour_is_refused_with_its_own_error() {
        let body = format!(
            "-----BEGIN CERTIFICATE REQUEST-----\n{}-----END CERTIFICATE REQUEST-----\n",
            encode_lines(&p256())
        );
        assert_eq!(
            parse_csr(body.as_bytes(), None).unwrap_err(),
            Error::PemArmour
        );
        assert_eq!(
            parse_csr(body.as_bytes(), Some("base64")).unwrap_err(),
            Error::PemArmour
        );
    }

    #[test]
    fn a_body_over_64_kib_is_refused_before_decoding() {
        // Valid base64 (of zero bytes), so only the size can refuse it.
        let body = vec![b'A'; MAX_CSR_BODY + 4];
        assert_eq!(
            parse_csr(&body, None).unwrap_err(),
            Error::TooLarge {
                len: MAX_CSR_BODY + 4,
                max: MAX_CSR_BODY
            }
        );
        // One byte under the bound goes on to the decoder.
        let body = vec![b'A'; MAX_CSR_BODY];
        assert!(matches!(parse_csr(&body, None), Err(Error::NotACsr { .. })));
    }

    #[test]
    fn each_refusal_has_its_variant() {
        assert_eq!(parse_csr(b"", None).unwrap_err(), Error::Empty);
        assert_eq!(parse_csr(b" \r\n", None).unwrap_err(), Error::Empty);
        assert!(matches!(
            parse_csr(b"not base64!", None),
            Err(Error::NotBase64 { .. })
        ));
        // Base64 of a certificate-shaped nothing: a SEQUENCE that is no CSR.
        assert!(matches!(
            parse_csr(b"MAA=", None),
            Err(Error::NotACsr { .. })
        ));
        let mut trailing = p256();
        trailing.push(0);
        assert!(matches!(
            parse_csr(encode_lines(&trailing).as_bytes(), None),
            Err(Error::NotACsr { .. })
        ));
    }

    #[test]
    fn an_altered_csr_is_a_bad_signature() {
        let mut der = p256();
        let pos = der.windows(5).position(|w| w == b"dev-1").unwrap();
        der[pos + 4] = b'2';
        assert_eq!(
            parse_csr(encode_lines(&der).as_bytes(), None).unwrap_err(),
            Error::BadSignature
        );
    }

    /// Property: no one-bit change anywhere in a CSR makes it read as another request; each is
    /// refused (or, where the bit is one DER readers ignore, reads as the same request), and
    /// none panics.
    #[test]
    fn no_bit_flipped_csr_is_read_as_another_request() {
        for kt in [KeyType::EcP256, KeyType::Ed25519] {
            let der = csr_der(kt, "dev-1", &["dev-1.local"]);
            let original = parse_csr(&der, Some("binary")).unwrap();
            let mut refused = 0;
            for i in 0..der.len() {
                for bit in [0x01u8, 0x80] {
                    let mut mutant = der.clone();
                    mutant[i] ^= bit;
                    match parse_csr(encode_lines(&mutant).as_bytes(), None) {
                        Ok(csr) => {
                            assert_eq!(csr.subject, original.subject, "byte {i}");
                            assert_eq!(csr.sans, original.sans, "byte {i}");
                            assert_eq!(csr.public_key, original.public_key, "byte {i}");
                        }
                        Err(_) => refused += 1,
                    }
                }
            }
            assert!(
                refused > der.len(),
                "{kt}: only {refused} of {} refused",
                2 * der.len()
            );
        }
    }

    #[test]
    fn a_signed_csr_pki_cannot_use_is_unusable() {
        // No common name: well-formed, signed, but nothing pki can issue for.
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        let der = params.serialize_request(&key).unwrap().der().to_vec();
        let err = parse_csr(encode_lines(&der).as_bytes(), None).unwrap_err();
        assert!(
            matches!(&err, Error::Unusable { reason } if reason.contains("common name")),
            "{err}"
        );
    }
}
