//! Certs-only PKCS#7 (RFC 7030 §4.1.3 and §4.2.3; RFC 5652 §5): a degenerate CMS SignedData that
//! carries certificates and no signature, the body of `/cacerts` and of `/simpleenroll`'s answer.
//! Written by the server ([`certs_only`]), read by the client ([`read_certs_only`]).
//!
//! Written with `der`'s derive rather than RustCrypto's `cms` types, although `cms` is already in
//! the tree (through p12-keystore): `cms` holds the certificates in a `SetOfVec`, which sorts them
//! by their encoding as DER's `SET OF` rule asks, and the clients take the order as it comes
//! (aziot-certd appends `/cacerts`' certificates to the leaf as the Edge CA's chain file, through
//! OpenSSL, which keeps the order it reads). OpenSSL's own writer (`openssl crl2pkcs7`) declares
//! the field a `SEQUENCE OF` under the same implicit `[0]` tag for that reason; so does this one.
//! The bytes on the wire differ from strict DER only in that order, and every BER reader (rasn-cms
//! in tedge, OpenSSL) reads them.

use der::asn1::{AnyRef, ObjectIdentifier, SetOfVec};
use der::{Decode, Encode, Sequence, Tag, Tagged};
use pki_core::Certificate;
use pki_core::x509::oid;

use crate::error::{Error, Pkcs7Fault, Result};

/// The largest certs-only PKCS#7 read (DER, 1 MiB): a chain of a few certificates is a few KiB,
/// a CA bundle of a hundred some 150 KiB.
pub const MAX_CERTS_ONLY: usize = 1024 * 1024;

/// The most certificates read from one certs-only PKCS#7.
pub const MAX_CERTIFICATES: usize = 256;

/// `id-signedData` (RFC 5652 §5.1).
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::PKCS7_SIGNED_DATA);
/// `id-data` (RFC 5652 §4): the type of the absent content.
const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::PKCS7_DATA);

/// `ContentInfo` holding the SignedData.
#[derive(Sequence)]
struct ContentInfo<'a> {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: SignedData<'a>,
}

/// A SignedData with no signers, no digest algorithms and no content: certificates only.
#[derive(Sequence)]
struct SignedData<'a> {
    /// 1: no attribute certificates, no other certificate or revocation formats, id-data content.
    version: u8,
    digest_algorithms: SetOfVec<ObjectIdentifier>,
    encap_content_info: EncapsulatedContentInfo,
    /// In the order given (see the module's documentation).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    certificates: Vec<AnyRef<'a>>,
    signer_infos: SetOfVec<ObjectIdentifier>,
}

/// `EncapsulatedContentInfo` with the content type only.
#[derive(Sequence)]
struct EncapsulatedContentInfo {
    e_content_type: ObjectIdentifier,
}

/// The certs-only PKCS#7 of `certs`, in their order, as DER (what `openssl pkcs7 -inform DER`
/// reads).
pub fn certs_only(certs: &[Certificate]) -> Result<Vec<u8>> {
    let encoding = |e: der::Error| Error::Encoding {
        what: "certs-only PKCS#7",
        reason: e.to_string(),
    };
    let certificates = certs
        .iter()
        .map(|c| AnyRef::from_der(c.der()))
        .collect::<der::Result<Vec<_>>>()
        .map_err(encoding)?;
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: SignedData {
            version: 1,
            digest_algorithms: SetOfVec::new(),
            encap_content_info: EncapsulatedContentInfo {
                e_content_type: ID_DATA,
            },
            certificates,
            signer_infos: SetOfVec::new(),
        },
    }
    .to_der()
    .map_err(encoding)
}

/// [`certs_only`] as the body of an `application/pkcs7-mime` answer: base64 in lines of 64
/// characters, each ended by `\n`, so that the body between `-----BEGIN PKCS7-----` and
/// `-----END PKCS7-----` lines is PEM.
pub fn certs_only_base64(certs: &[Certificate]) -> Result<String> {
    Ok(crate::body::encode_lines(&certs_only(certs)?))
}

/// A `ContentInfo` as read: its type, and its content left undecoded.
#[derive(Sequence)]
struct ContentInfoIn<'a> {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: AnyRef<'a>,
}

/// A SignedData as read: only the certificates are looked at. The version, the digest
/// algorithms, the encapsulated content and the signers (none, in a certs-only answer) are
/// taken as they come; revocation lists, when a server sends some, are skipped.
#[derive(Sequence)]
struct SignedDataIn<'a> {
    _version: AnyRef<'a>,
    _digest_algorithms: AnyRef<'a>,
    _encap_content_info: AnyRef<'a>,
    /// A `SET OF CertificateChoices`, read in the order it comes (see the module's
    /// documentation).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    certificates: Option<Vec<AnyRef<'a>>>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    _crls: Option<Vec<AnyRef<'a>>>,
    _signer_infos: AnyRef<'a>,
}

/// The certificates of a certs-only PKCS#7 in DER, in the order it holds them. Bounded: more
/// than [`MAX_CERTS_ONLY`] bytes or [`MAX_CERTIFICATES`] certificates are refused. Refused too:
/// anything but a SignedData, BER's indefinite lengths, bytes after the structure, an entry
/// that is not an X.509 certificate (an attribute certificate, say), and no certificate at all.
pub fn read_certs_only(der: &[u8]) -> Result<Vec<Certificate>> {
    let fault = |fault| Error::BadPkcs7 { fault };
    let not_der = |e: der::Error| {
        fault(Pkcs7Fault::NotDer {
            reason: e.to_string(),
        })
    };
    if der.len() > MAX_CERTS_ONLY {
        return Err(fault(Pkcs7Fault::TooLarge {
            len: der.len(),
            max: MAX_CERTS_ONLY,
        }));
    }
    if der.is_empty() {
        return Err(fault(Pkcs7Fault::Empty));
    }
    let info = ContentInfoIn::from_der(der).map_err(not_der)?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(fault(Pkcs7Fault::NotSignedData {
            content_type: info.content_type.to_string(),
        }));
    }
    let signed: SignedDataIn<'_> = info.content.decode_as().map_err(not_der)?;
    let entries = signed.certificates.unwrap_or_default();
    if entries.len() > MAX_CERTIFICATES {
        return Err(fault(Pkcs7Fault::TooManyCertificates {
            count: entries.len(),
            max: MAX_CERTIFICATES,
        }));
    }
    if entries.is_empty() {
        return Err(fault(Pkcs7Fault::NoCertificate));
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let bad = |reason: String| {
                fault(Pkcs7Fault::NotACertificate {
                    index: i + 1,
                    reason,
                })
            };
            // `CertificateChoices`: a plain Certificate is a SEQUENCE; the other choices are
            // context-specific tags.
            if entry.tag() != Tag::Sequence {
                return Err(bad(format!("an entry tagged {}", entry.tag())));
            }
            let bytes = entry.to_der().map_err(|e| bad(e.to_string()))?;
            Certificate::from_der(bytes, "the PKCS#7").map_err(|e| bad(e.to_string()))
        })
        .collect()
}

/// [`read_certs_only`] of an `application/pkcs7-mime` body: base64 (RFC 8951 §3: whatever a
/// `Content-Transfer-Encoding` header says), in lines or not, CRLF or LF; or the DER itself,
/// from a server that sends it binary.
pub fn read_certs_only_base64(body: &[u8]) -> Result<Vec<Certificate>> {
    let fault = |fault| Error::BadPkcs7 { fault };
    // base64 is 4/3 of the DER, with line ends.
    let max = MAX_CERTS_ONLY / 3 * 4 + MAX_CERTS_ONLY / 32 + 4;
    if body.len() > max {
        return Err(fault(Pkcs7Fault::TooLarge {
            len: body.len(),
            max,
        }));
    }
    let text = body.trim_ascii();
    if text.is_empty() {
        return Err(fault(Pkcs7Fault::Empty));
    }
    if text.first() == Some(&0x30) && !crate::body::is_base64_text(text) {
        return read_certs_only(body);
    }
    if text.starts_with(b"-----BEGIN") {
        return Err(fault(Pkcs7Fault::PemArmour));
    }
    let der = crate::body::decode(text).map_err(|e| {
        fault(Pkcs7Fault::NotBase64 {
            reason: e.to_string(),
        })
    })?;
    read_certs_only(&der)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::chain;
    #[cfg(unix)]
    use crate::testing::openssl_out;

    /// The certificates openssl prints from a PKCS#7 file, in its order.
    #[cfg(unix)] // runs openssl, which the Windows unit tests under Wine do not have
    fn printed(args: &[&str], file: &[u8]) -> Vec<Certificate> {
        let out = openssl_out(&[&["pkcs7", "-print_certs"][..], args].concat(), file);
        Certificate::parse_all(out.as_bytes(), "openssl's output").unwrap()
    }

    #[cfg(unix)] // runs openssl, which the Windows unit tests under Wine do not have
    #[test]
    fn openssl_lists_a_three_certificate_chain_in_order_from_der() {
        let certs = chain(3);
        let der = certs_only(&certs).unwrap();
        assert_eq!(printed(&["-inform", "DER"], &der), certs);
    }

    #[cfg(unix)] // runs openssl, which the Windows unit tests under Wine do not have
    #[test]
    fn openssl_lists_a_single_leaf_from_der() {
        let certs = chain(3)[..1].to_vec();
        assert_eq!(
            printed(&["-inform", "DER"], &certs_only(&certs).unwrap()),
            certs
        );
    }

    #[cfg(unix)] // runs openssl, which the Windows unit tests under Wine do not have
    #[test]
    fn the_base64_body_in_aziot_certds_pem_armour_reads_back_in_order() {
        // aziot-certd (cert/aziot-certd/src/est.rs): the armour's lines around the body as it
        // came, no newline added, then OpenSSL's PEM reader.
        for n in [1, 3] {
            let certs = chain(n);
            let body = certs_only_base64(&certs).unwrap();
            let mut pem = b"-----BEGIN PKCS7-----\n".to_vec();
            pem.extend_from_slice(body.as_bytes());
            pem.extend_from_slice(b"-----END PKCS7-----\n");
            assert_eq!(printed(&[], &pem), certs, "{n} certificates");
        }
    }

    #[cfg(unix)] // runs openssl, which the Windows unit tests under Wine do not have
    #[test]
    fn the_order_given_is_kept_even_when_der_would_sort_it() {
        let certs = chain(3);
        let reversed: Vec<Certificate> = certs.iter().rev().cloned().collect();
        for order in [certs, reversed] {
            assert_eq!(
                printed(&["-inform", "DER"], &certs_only(&order).unwrap()),
                order
            );
        }
    }

    #[test]
    fn rustcryptos_cms_reads_it_as_certs_only_signed_data() {
        use cms::cert::CertificateChoices;
        use cms::content_info::ContentInfo;
        use cms::signed_data::SignedData;
        let certs = chain(3);
        let info = ContentInfo::from_der(&certs_only(&certs).unwrap()).unwrap();
        assert_eq!(info.content_type, ID_SIGNED_DATA);
        let signed: SignedData = info.content.decode_as().unwrap();
        assert!(signed.signer_infos.0.is_empty() && signed.digest_algorithms.is_empty());
        assert_eq!(signed.encap_content_info.econtent_type, ID_DATA);
        assert!(signed.encap_content_info.econtent.is_none());
        // cms holds them in a SET OF, sorted as it decodes: compared as sets.
        let mut read: Vec<Vec<u8>> = signed
            .certificates
            .unwrap()
            .0
            .iter()
            .map(|c| match c {
                CertificateChoices::Certificate(c) => c.to_der().unwrap(),
                CertificateChoices::Other(_) => panic!("not a certificate"),
            })
            .collect();
        let mut given: Vec<Vec<u8>> = certs.iter().map(|c| c.der().to_vec()).collect();
        read.sort();
        given.sort();
        assert_eq!(read, given);
    }

    #[cfg(unix)] // runs openssl, which the Windows unit tests under Wine do not have
    #[test]
    fn the_structure_is_signed_data_version_1_with_no_signers() {
        let der = certs_only(&chain(1)).unwrap();
        let out = openssl_out(&["asn1parse", "-inform", "DER"], &der);
        assert!(out.contains(":pkcs7-signedData"), "{out}");
        assert!(out.contains(":pkcs7-data"), "{out}");
        assert!(out.contains("INTEGER           :01"), "{out}");
    }

    /// The fault of a refused PKCS#7.
    fn fault(r: Result<Vec<Certificate>>) -> Pkcs7Fault {
        match r {
            Err(Error::BadPkcs7 { fault }) => fault,
            other => panic!("not refused as a PKCS#7: {other:?}"),
        }
    }

    /// A certs-only SignedData with these entries as its certificates and, when given, a
    /// `crls` field holding `crl`.
    fn signed_data_with(entries: Vec<AnyRef<'_>>, crl: Option<AnyRef<'_>>) -> Vec<u8> {
        #[derive(Sequence)]
        struct WithCrls<'a> {
            version: u8,
            digest_algorithms: SetOfVec<ObjectIdentifier>,
            encap_content_info: EncapsulatedContentInfo,
            #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
            certificates: Vec<AnyRef<'a>>,
            #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
            crls: Option<Vec<AnyRef<'a>>>,
            signer_infos: SetOfVec<ObjectIdentifier>,
        }
        #[derive(Sequence)]
        struct Info<'a> {
            content_type: ObjectIdentifier,
            #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
            content: WithCrls<'a>,
        }
        Info {
            content_type: ID_SIGNED_DATA,
            content: WithCrls {
                version: 1,
                digest_algorithms: SetOfVec::new(),
                encap_content_info: EncapsulatedContentInfo {
                    e_content_type: ID_DATA,
                },
                certificates: entries,
                crls: crl.map(|c| vec![c]),
                signer_infos: SetOfVec::new(),
            },
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn what_the_writer_writes_reads_back_in_its_order() {
        for n in [1, 2, 3] {
            let certs = chain(n);
            let reversed: Vec<Certificate> = certs.iter().rev().cloned().collect();
            for order in [certs, reversed] {
                let der = certs_only(&order).unwrap();
                assert_eq!(read_certs_only(&der).unwrap(), order);
                let body = certs_only_base64(&order).unwrap();
                assert_eq!(read_certs_only_base64(body.as_bytes()).unwrap(), order);
                // CRLF, one line, no padding, surrounding white space; the DER sent binary.
                let crlf = body.replace('\n', "\r\n");
                let one_line: String = body.lines().collect();
                let unpadded = one_line.trim_end_matches('=').to_owned();
                for text in [crlf, one_line, unpadded, format!("\n  {body}\n\n")] {
                    assert_eq!(read_certs_only_base64(text.as_bytes()).unwrap(), order);
                }
                assert_eq!(read_certs_only_base64(&der).unwrap(), order);
            }
        }
    }

    #[cfg(unix)] // runs openssl, which the Windows unit tests under Wine do not have
    #[test]
    fn openssls_crl2pkcs7_reads_in_its_order() {
        let certs = chain(3);
        let bundle = pki_core::pem_bundle(&certs);
        let pem = openssl_out(
            &["crl2pkcs7", "-nocrl", "-certfile", "/dev/stdin"],
            bundle.as_bytes(),
        );
        // The PEM armour stripped: the body an EST server built on OpenSSL sends.
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(read_certs_only_base64(body.as_bytes()).unwrap(), certs);
        assert_eq!(
            fault(read_certs_only_base64(pem.as_bytes())),
            Pkcs7Fault::PemArmour
        );
    }

    #[test]
    fn revocation_lists_beside_the_certificates_are_skipped() {
        let certs = chain(2);
        let entries: Vec<AnyRef<'_>> = certs
            .iter()
            .map(|c| AnyRef::from_der(c.der()).unwrap())
            .collect();
        // Not a CRL a reader could use, but the field is skipped unread.
        let crl = AnyRef::from_der(certs[1].der()).unwrap();
        let der = signed_data_with(entries, Some(crl));
        assert_eq!(read_certs_only(&der).unwrap(), certs);
    }

    #[test]
    fn garbage_is_refused_with_what_is_wrong() {
        assert_eq!(fault(read_certs_only(b"")), Pkcs7Fault::Empty);
        assert_eq!(fault(read_certs_only_base64(b" \r\n ")), Pkcs7Fault::Empty);
        assert!(matches!(
            fault(read_certs_only_base64(b"<html>Bad gateway</html>")),
            Pkcs7Fault::NotBase64 { .. }
        ));
        assert!(matches!(
            fault(read_certs_only_base64(b"aGVsbG8gd29ybGQ=")),
            Pkcs7Fault::NotDer { .. }
        ));
        assert!(matches!(
            fault(read_certs_only(b"\x30\x03\x02\x01\x01")),
            Pkcs7Fault::NotDer { .. }
        ));
        // A ContentInfo of id-data.
        #[derive(Sequence)]
        struct Data {
            content_type: ObjectIdentifier,
            #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
            content: der::asn1::OctetString,
        }
        let data = Data {
            content_type: ID_DATA,
            content: der::asn1::OctetString::new(*b"hi").unwrap(),
        }
        .to_der()
        .unwrap();
        assert_eq!(
            fault(read_certs_only(&data)),
            Pkcs7Fault::NotSignedData {
                content_type: oid::PKCS7_DATA.to_owned()
            }
        );
        // A byte after the structure.
        let mut trailing = certs_only(&chain(1)).unwrap();
        trailing.push(0);
        assert!(matches!(
            fault(read_certs_only(&trailing)),
            Pkcs7Fault::NotDer { .. }
        ));
        // BER's indefinite length on the outer SEQUENCE (0x30 0x80 ... 0x00 0x00).
        let der = certs_only(&chain(1)).unwrap();
        let header = if der[1] & 0x80 == 0 {
            2
        } else {
            2 + usize::from(der[1] & 0x7f)
        };
        let mut ber = vec![0x30, 0x80];
        ber.extend_from_slice(&der[header..]);
        ber.extend_from_slice(&[0, 0]);
        assert!(matches!(
            fault(read_certs_only(&ber)),
            Pkcs7Fault::NotDer { .. }
        ));
    }

    #[test]
    fn every_truncation_is_refused_never_a_panic() {
        let der = certs_only(&chain(2)).unwrap();
        for len in 0..der.len() {
            assert!(read_certs_only(&der[..len]).is_err(), "{len} bytes");
        }
        let body = certs_only_base64(&chain(2)).unwrap();
        for len in 0..body.len() - 4 {
            assert!(
                read_certs_only_base64(&body.as_bytes()[..len]).is_err(),
                "{len} characters"
            );
        }
    }

    #[test]
    fn a_certs_only_with_no_certificate_or_a_foreign_entry_is_refused() {
        assert_eq!(
            fault(read_certs_only(&certs_only(&[]).unwrap())),
            Pkcs7Fault::NoCertificate
        );
        let certs = chain(1);
        // A SEQUENCE that is not a certificate, second.
        let not_cert = [0x30, 0x03, 0x02, 0x01, 0x05];
        let entries = vec![
            AnyRef::from_der(certs[0].der()).unwrap(),
            AnyRef::from_der(&not_cert).unwrap(),
        ];
        assert!(matches!(
            fault(read_certs_only(&signed_data_with(entries, None))),
            Pkcs7Fault::NotACertificate { index: 2, .. }
        ));
        // Another CertificateChoices ([1], an obsolete attribute certificate), first.
        let other = [0xa1, 0x03, 0x02, 0x01, 0x05];
        let entries = vec![AnyRef::from_der(&other).unwrap()];
        assert!(matches!(
            fault(read_certs_only(&signed_data_with(entries, None))),
            Pkcs7Fault::NotACertificate { index: 1, .. }
        ));
    }

    #[test]
    fn the_bounds_are_held() {
        let too_large = vec![0x30; MAX_CERTS_ONLY + 1];
        assert_eq!(
            fault(read_certs_only(&too_large)),
            Pkcs7Fault::TooLarge {
                len: MAX_CERTS_ONLY + 1,
                max: MAX_CERTS_ONLY
            }
        );
        let text = vec![b'A'; 2 * MAX_CERTS_ONLY];
        assert!(matches!(
            fault(read_certs_only_base64(&text)),
            Pkcs7Fault::TooLarge { .. }
        ));
        let one = chain(1).remove(0);
        let many = vec![one.clone(); MAX_CERTIFICATES + 1];
        assert_eq!(
            fault(read_certs_only(&certs_only(&many).unwrap())),
            Pkcs7Fault::TooManyCertificates {
                count: MAX_CERTIFICATES + 1,
                max: MAX_CERTIFICATES
            }
        );
        let most = vec![one; MAX_CERTIFICATES];
        assert_eq!(
            read_certs_only(&certs_only(&most).unwrap()).unwrap().len(),
            MAX_CERTIFICATES
        );
    }
}
