//! Certs-only PKCS#7 (RFC 7030 §4.1.3 and §4.2.3; RFC 5652 §5): a degenerate CMS SignedData that
//! carries certificates and no signature, the body of `/cacerts` and of `/simpleenroll`'s answer.
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
use der::{Decode, Encode, Sequence};
use pki_core::Certificate;
use pki_core::x509::oid;

use crate::error::{Error, Result};

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
}
