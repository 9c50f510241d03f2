//! OpenSSL's subject name hash: the `HHHHHHHH` of `openssl x509 -hash` and of the `HHHHHHHH.N`
//! links a certificate directory holds (`openssl rehash`), by which OpenSSL finds an issuer.
//!
//! It is the SHA-1 of the name's canonical encoding, its first four bytes read little-endian
//! (OpenSSL's `X509_NAME_hash_ex`). The canonical encoding (`x509_name_canon` in
//! `crypto/x509/x_name.c`) re-encodes every string value as a UTF8String with leading and
//! trailing white space removed, inner runs of white space made one space and ASCII lower-cased
//! (`asn1_string_canon`); every other value is kept as it is; each RDN is a DER SET (sorted),
//! and the RDNs follow one another without the outer SEQUENCE.

use x509_parser::der_parser::asn1_rs::{Any, Class};
use x509_parser::prelude::{FromDer, X509Certificate};

/// The subject hash of the certificate whose DER starts `der` (trailing bytes, such as the
/// trust settings of a `TRUSTED CERTIFICATE`, are ignored); `None` when it does not parse or a
/// string value cannot be converted (OpenSSL fails then too).
pub(crate) fn subject_hash(der: &[u8]) -> Option<u32> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let mut canon = Vec::new();
    for rdn in cert.subject().iter_rdn() {
        let mut set: Vec<Vec<u8>> = Vec::new();
        for ava in rdn.iter() {
            let mut seq = Vec::new();
            tlv(&mut seq, &[0x06], ava.attr_type().as_bytes());
            seq.extend(canonical_value(ava.attr_value())?);
            let mut enc = Vec::new();
            tlv(&mut enc, &[0x30], &seq);
            set.push(enc);
        }
        // DER orders the members of a SET OF by their encodings.
        set.sort();
        tlv(&mut canon, &[0x31], &set.concat());
    }
    let d = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &canon);
    let b = d.as_ref();
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// One attribute value, canonical and encoded.
fn canonical_value(v: &Any<'_>) -> Option<Vec<u8>> {
    let text: Option<String> = if v.header.class() == Class::Universal && v.header.is_primitive() {
        match v.header.tag().0 {
            // UTF8String
            12 => Some(std::str::from_utf8(v.data).ok()?.to_owned()),
            // PrintableString, T61String, IA5String, VisibleString: one byte a character.
            19 | 20 | 22 | 26 => Some(v.data.iter().map(|&b| char::from(b)).collect()),
            // UniversalString: UCS-4, big-endian.
            28 => {
                if !v.data.len().is_multiple_of(4) {
                    return None;
                }
                v.data
                    .chunks(4)
                    .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                    .collect()
            }
            // BMPString: UCS-2, big-endian.
            30 => {
                if !v.data.len().is_multiple_of(2) {
                    return None;
                }
                v.data
                    .chunks(2)
                    .map(|c| char::from_u32(u32::from(u16::from_be_bytes([c[0], c[1]]))))
                    .collect()
            }
            _ => None,
        }
    } else {
        None
    };
    let mut out = Vec::new();
    match text {
        Some(t) => tlv(&mut out, &[12], &canonical_text(t.as_bytes())),
        None => {
            // Any other type is copied across unchanged.
            tlv(&mut out, &identifier(v), v.data);
        }
    }
    Some(out)
}

/// OpenSSL's `asn1_string_canon` on UTF-8 bytes.
fn canonical_text(s: &[u8]) -> Vec<u8> {
    // ossl_isspace: space, \t, \n, \v, \f, \r.
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

/// The identifier octets of a value as it was encoded.
fn identifier(v: &Any<'_>) -> Vec<u8> {
    if let Some(raw) = v.header.raw_tag() {
        return raw.to_vec();
    }
    let class = match v.header.class() {
        Class::Universal => 0x00,
        Class::Application => 0x40,
        Class::ContextSpecific => 0x80,
        Class::Private => 0xc0,
    };
    let constructed = if v.header.is_constructed() { 0x20 } else { 0 };
    let tag = v.header.tag().0;
    if tag < 31 {
        return vec![class | constructed | tag as u8];
    }
    let mut digits = Vec::new();
    let mut t = tag;
    loop {
        digits.push((t & 0x7f) as u8);
        t >>= 7;
        if t == 0 {
            break;
        }
    }
    let mut out = vec![class | constructed | 0x1f];
    for (i, d) in digits.iter().enumerate().rev() {
        out.push(if i == 0 { *d } else { d | 0x80 });
    }
    out
}

/// Appends a DER TLV.
fn tlv(out: &mut Vec<u8>, identifier: &[u8], content: &[u8]) {
    out.extend_from_slice(identifier);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(rel: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata")
            .join(rel);
        let text = std::fs::read(path).unwrap();
        pki_core::Certificate::parse_one(&text, rel)
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
            assert_eq!(subject_hash(&der(file)), Some(want), "{file}");
        }
    }

    #[test]
    fn canonical_text_is_openssls() {
        assert_eq!(
            canonical_text(b"  Mixed   CASE\tName  "),
            b"mixed case name"
        );
        assert_eq!(canonical_text(b"\r\n"), b"");
        assert_eq!(canonical_text("Ünï  A".as_bytes()), "Ünï a".as_bytes());
    }

    #[test]
    fn long_lengths_are_der() {
        let mut out = Vec::new();
        tlv(&mut out, &[4], &[0u8; 300]);
        assert_eq!(&out[..4], &[4, 0x82, 0x01, 0x2c]);
    }
}
