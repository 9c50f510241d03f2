//! OpenSSL's canonical form of a distinguished name (`x509_name_canon` in
//! `crypto/x509/x_name.c`), and the subject hash made from it: one home for what `pki verify`
//! compares names by (`X509_NAME_cmp`) and what names the `HHHHHHHH.N` links of a certificate
//! directory (`openssl rehash`, `X509_NAME_hash_ex`).
//!
//! Every universal, primitive string value of a type in `ASN1_MASK_CANON` (UTF8String,
//! BMPString, UniversalString, PrintableString, T61String, IA5String, VisibleString) is
//! converted to UTF-8, ASCII letters are lowered, leading and trailing white space is dropped and
//! inner runs of white space become one space (`asn1_string_canon`); the value is then
//! re-encoded as a UTF8String. Every other value is kept as it was encoded. Each RDN is encoded
//! as a DER `SET OF` (members sorted by their encodings), and the canonical form is the
//! concatenation of those SETs, without the outer SEQUENCE.

use der::Encode as _;
use x509_parser::der_parser::asn1_rs::{Any, Class};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::X509Name;

/// The canonical encoding of `name`, or `None` when a string value cannot be converted (OpenSSL
/// then treats the name as unequal to everything, and has no hash for it).
pub fn canonical_name(name: &X509Name<'_>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for rdn in name.iter() {
        let mut set: Vec<Vec<u8>> = Vec::new();
        for atv in rdn.iter() {
            let mut seq = Vec::new();
            tlv(&mut seq, &[0x06], atv.attr_type().as_bytes())?;
            seq.extend(canonical_value(atv.attr_value())?);
            let mut entry = Vec::new();
            tlv(&mut entry, &[0x30], &seq)?;
            set.push(entry);
        }
        // DER orders the members of a SET OF by their encodings.
        set.sort();
        tlv(&mut out, &[0x31], &set.concat())?;
    }
    Some(out)
}

/// OpenSSL's subject hash of the certificate whose DER starts `der` (trailing bytes, such as the
/// trust settings of a `TRUSTED CERTIFICATE`, are ignored): the first four bytes, read
/// little-endian, of the SHA-1 of the subject's canonical encoding. `None` when the certificate
/// does not parse or its subject has no canonical form (OpenSSL fails then too).
pub fn subject_hash(der: &[u8]) -> Option<u32> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let canon = canonical_name(cert.subject())?;
    let d = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &canon);
    let b = d.as_ref();
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// One attribute value, canonical and encoded.
fn canonical_value(v: &Any<'_>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match canonical_text(v) {
        Some(text) => tlv(&mut out, &[12], &fold(text?.as_bytes()))?,
        // Any other value is copied across as it was encoded.
        None => tlv(&mut out, &identifier(v)?, v.data)?,
    }
    Some(out)
}

/// The UTF-8 text of a value of a canonicalised string type (`Some(None)` when it cannot be
/// converted), `None` for any other value.
fn canonical_text(v: &Any<'_>) -> Option<Option<String>> {
    if v.header.class() != Class::Universal || !v.header.is_primitive() {
        return None;
    }
    let data = v.data;
    Some(match v.header.tag().0 {
        // UTF8String
        12 => std::str::from_utf8(data).ok().map(str::to_owned),
        // PrintableString, T61String, IA5String, VisibleString: one byte a character, taken as
        // Latin-1 by ASN1_STRING_to_UTF8.
        19 | 20 | 22 | 26 => Some(data.iter().map(|&b| char::from(b)).collect()),
        // UniversalString: UCS-4, big-endian.
        28 if data.len().is_multiple_of(4) => data
            .chunks_exact(4)
            .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        // BMPString: UCS-2, big-endian.
        30 if data.len().is_multiple_of(2) => data
            .chunks_exact(2)
            .map(|c| char::from_u32(u32::from(u16::from_be_bytes([c[0], c[1]]))))
            .collect(),
        28 | 30 => None,
        _ => return None,
    })
}

/// OpenSSL's `asn1_string_canon` on UTF-8 bytes: white space (`ossl_isspace`: space, \t, \n,
/// \v, \f, \r) stripped at both ends and collapsed inside, ASCII lowered, other bytes kept.
fn fold(s: &[u8]) -> Vec<u8> {
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = s.iter().position(|&b| !space(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !space(b)).map_or(start, |i| i + 1);
    let s = &s[start..end];
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if !b.is_ascii() {
            out.push(b);
            i += 1;
        } else if space(b) {
            out.push(b' ');
            while i < s.len() && space(s[i]) {
                i += 1;
            }
        } else {
            out.push(b.to_ascii_lowercase());
            i += 1;
        }
    }
    out
}

/// The identifier octets of a value as it was encoded; `None` for a universal tag number
/// above 30, which no DER names.
fn identifier(v: &Any<'_>) -> Option<Vec<u8>> {
    if let Some(raw) = v.header.raw_tag() {
        return Some(raw.to_vec());
    }
    let constructed = v.header.is_constructed();
    let number = der::TagNumber(v.header.tag().0);
    let tag = match v.header.class() {
        // A universal tag is one octet (its number below 31, the constructed bit): `der::Tag`
        // has variants only for the universal types it knows.
        Class::Universal => {
            let low = u8::try_from(number.value()).ok().filter(|&n| n < 31)?;
            return Some(vec![low | if constructed { 0x20 } else { 0 }]);
        }
        Class::Application => number.application(constructed),
        Class::ContextSpecific => number.context_specific(constructed),
        Class::Private => number.private(constructed),
    };
    tag.to_der().ok()
}

/// Appends a DER TLV; `None` when the content is too long for DER (4 GiB).
fn tlv(out: &mut Vec<u8>, identifier: &[u8], content: &[u8]) -> Option<()> {
    out.extend_from_slice(identifier);
    der::Length::try_from(content.len())
        .ok()?
        .encode_to_vec(out)
        .ok()?;
    out.extend_from_slice(content);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_der(rel: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata")
            .join(rel);
        let text = std::fs::read(path).unwrap();
        crate::Certificate::parse_one(&text, rel)
            .unwrap()
            .der()
            .to_vec()
    }

    #[test]
    fn openssl_x509_hash_of_the_fixtures() {
        // `openssl x509 -hash -noout -in testdata/<file>` (OpenSSL 3.0).
        for (file, want) in [
            ("verify/missing-intermediate/ca.pem", 0x4320_3952_u32),
            ("verify/untrusted-root/ca.pem", 0x3cb0_a192),
            ("verify/ip-mismatch/leaf.pem", 0x3c19_7a4b),
            ("show/rsa-root.cert.pem", 0xa302_336b),
            ("show/ec-server.cert.pem", 0x6aea_95b1),
            ("show/ed25519-self.cert.pem", 0x2518_5341),
            ("show/rsa-inter.cert.pem", 0x2a3c_c244),
        ] {
            assert_eq!(subject_hash(&fixture_der(file)), Some(want), "{file}");
        }
    }

    /// DER of a Name with one RDN holding CN with the given identifier and bytes.
    fn name_der(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut atv = Vec::new();
        tlv(&mut atv, &[0x06], &[0x55, 0x04, 0x03]).unwrap();
        tlv(&mut atv, &[tag], value).unwrap();
        let (mut seq, mut set, mut name) = (Vec::new(), Vec::new(), Vec::new());
        tlv(&mut seq, &[0x30], &atv).unwrap();
        tlv(&mut set, &[0x31], &seq).unwrap();
        tlv(&mut name, &[0x30], &set).unwrap();
        name
    }

    fn canon_of(der: &[u8]) -> Option<Vec<u8>> {
        let (_, name) = X509Name::from_der(der).unwrap();
        canonical_name(&name)
    }

    #[test]
    fn string_types_case_and_white_space_compare_equal() {
        let bmp: Vec<u8> = "Test  Root CA"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        let want = canon_of(&name_der(12, b"test root ca"));
        assert!(want.is_some());
        for der in [
            name_der(19, b"Test Root CA"),
            name_der(12, b"  Test   ROOT\tca "),
            name_der(30, &bmp),
        ] {
            assert_eq!(canon_of(&der), want);
        }
        assert_ne!(canon_of(&name_der(12, b"Other Root CA")), want);
    }

    #[test]
    fn values_that_do_not_convert_have_no_canonical_form() {
        assert_eq!(canon_of(&name_der(12, &[0xff, 0xfe])), None);
        assert_eq!(canon_of(&name_der(30, b"odd")), None);
        assert_eq!(canon_of(&name_der(28, &[0, 0, 0xd8, 0])), None);
    }

    #[test]
    fn a_context_specific_value_is_kept_as_encoded() {
        // [12] primitive is not a UTF8String: neither folded nor re-tagged.
        let canon = canon_of(&name_der(0x8c, b"MiXeD")).unwrap();
        assert!(
            canon.windows(7).any(|w| w == b"\x8c\x05MiXeD"),
            "{canon:02x?}"
        );
    }

    #[test]
    fn an_identifier_without_its_raw_octets_is_encoded_as_der() {
        use x509_parser::der_parser::asn1_rs::{Header, Length, Tag};
        let any = |class, constructed, tag| {
            Any::new(
                Header::new(class, constructed, Tag(tag), Length::Definite(0)),
                &[],
            )
        };
        assert_eq!(
            identifier(&any(Class::ContextSpecific, false, 2)),
            Some(vec![0x82])
        );
        assert_eq!(
            identifier(&any(Class::Private, true, 40)),
            Some(vec![0xff, 0x28])
        );
        assert_eq!(
            identifier(&any(Class::Application, false, 200)),
            Some(vec![0x5f, 0x81, 0x48])
        );
        assert_eq!(
            identifier(&any(Class::Universal, true, 16)),
            Some(vec![0x30])
        );
        assert_eq!(identifier(&any(Class::Universal, false, 31)), None);
    }

    #[test]
    fn fold_is_openssls() {
        assert_eq!(fold(b"  Mixed   CASE\tName  "), b"mixed case name");
        assert_eq!(fold(b"\r\n"), b"");
        assert_eq!(fold("  Ünï  A ".as_bytes()), "Ünï a".as_bytes());
    }

    #[test]
    fn long_lengths_are_der() {
        let mut out = Vec::new();
        tlv(&mut out, &[4], &[0u8; 300]);
        assert_eq!(&out[..4], &[4, 0x82, 0x01, 0x2c]);
    }
}
