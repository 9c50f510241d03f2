//! OpenSSL's canonical form of a distinguished name (`x509_name_canon` in crypto/x509/x_name.c).
//!
//! OpenSSL compares names (`X509_NAME_cmp`) by this encoding, not by the DER as written: every
//! string value of a type in `ASN1_MASK_CANON` (UTF8String, BMPString, UniversalString,
//! PrintableString, T61String, IA5String, VisibleString) is converted to UTF-8, ASCII letters are
//! lowered, leading and trailing white space is dropped and inner runs of white space become one
//! space; the value is then re-encoded as a UTF8String. Each RDN is encoded as a DER `SET OF`,
//! and the canonical form is the concatenation of those SETs (no outer SEQUENCE).

use x509_parser::x509::X509Name;

/// The canonical encoding, or `None` when a value cannot be converted (OpenSSL then treats the
/// name as unequal to everything).
pub(crate) fn canonical(name: &X509Name<'_>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for rdn in name.iter() {
        let mut entries: Vec<Vec<u8>> = Vec::new();
        for atv in rdn.iter() {
            let value = atv.attr_value();
            let tag = value.header.tag().0;
            let encoded_value = match canon_string(tag, value.data) {
                Some(Ok(text)) => tlv(0x0c, &text),
                Some(Err(())) => return None,
                None => {
                    // Not a canonicalised type: copied as is (tag and content).
                    let mut v = Vec::new();
                    encode_tag(&mut v, &value.header);
                    encode_len(&mut v, value.data.len());
                    v.extend_from_slice(value.data);
                    v
                }
            };
            let mut entry = tlv(0x06, atv.attr_type().as_bytes());
            entry.extend_from_slice(&encoded_value);
            entries.push(tlv(0x30, &entry));
        }
        // DER SET OF: elements sorted by their encodings.
        entries.sort();
        out.extend_from_slice(&tlv(0x31, &entries.concat()));
    }
    Some(out)
}

/// Canonical UTF-8 bytes of a string value, `None` if the type is not canonicalised,
/// `Some(Err)` if the value cannot be converted.
fn canon_string(tag: u32, data: &[u8]) -> Option<Result<Vec<u8>, ()>> {
    let utf8: Result<String, ()> = match tag {
        // UTF8String
        12 => std::str::from_utf8(data).map(str::to_owned).map_err(|_| ()),
        // PrintableString, T61String, IA5String, VisibleString: one byte per character,
        // taken as Latin-1 by ASN1_STRING_to_UTF8.
        19 | 20 | 22 | 26 => Ok(data.iter().map(|&b| char::from(b)).collect()),
        // UniversalString: UCS-4 big-endian.
        28 => {
            if !data.len().is_multiple_of(4) {
                Err(())
            } else {
                data.chunks_exact(4)
                    .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])).ok_or(()))
                    .collect()
            }
        }
        // BMPString: UCS-2 big-endian.
        30 => {
            if !data.len().is_multiple_of(2) {
                Err(())
            } else {
                data.chunks_exact(2)
                    .map(|c| char::from_u32(u32::from(u16::from_be_bytes([c[0], c[1]]))).ok_or(()))
                    .collect()
            }
        }
        _ => return None,
    };
    Some(utf8.map(|s| fold(s.as_bytes())))
}

/// `asn1_string_canon`'s folding: strip, collapse white space, lower ASCII.
fn fold(bytes: &[u8]) -> Vec<u8> {
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = bytes
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |p| p + 1);
    let mut out = Vec::with_capacity(end - start);
    let mut i = start;
    while i < end {
        let b = bytes[i];
        if !b.is_ascii() {
            out.push(b);
            i += 1;
        } else if is_space(b) {
            out.push(b' ');
            while i < end && is_space(bytes[i]) {
                i += 1;
            }
        } else {
            out.push(b.to_ascii_lowercase());
            i += 1;
        }
    }
    out
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    encode_len(&mut v, content.len());
    v.extend_from_slice(content);
    v
}

fn encode_tag(v: &mut Vec<u8>, header: &x509_parser::asn1_rs::Header<'_>) {
    let class = (header.class() as u8) << 6;
    let constructed = if header.is_constructed() { 0x20 } else { 0 };
    let tag = header.tag().0;
    if tag < 31 {
        // Invariant: tag < 31 fits in the low five bits.
        v.push(class | constructed | tag as u8);
    } else {
        v.push(class | constructed | 0x1f);
        let mut groups = Vec::new();
        let mut t = tag;
        loop {
            groups.push((t & 0x7f) as u8);
            t >>= 7;
            if t == 0 {
                break;
            }
        }
        groups.reverse();
        let last = groups.len() - 1;
        for (i, g) in groups.iter().enumerate() {
            v.push(if i == last { *g } else { g | 0x80 });
        }
    }
}

fn encode_len(v: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        // Invariant: len < 0x80 fits in one byte.
        v.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        // Invariant: at most size_of::<usize>() (8) length bytes.
        v.push(0x80 | (bytes.len() - skip) as u8);
        v.extend_from_slice(&bytes[skip..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::FromDer;

    /// DER of a Name with one RDN holding CN with the given string tag and bytes.
    fn name_der(tag: u8, value: &[u8]) -> Vec<u8> {
        let cn = tlv(0x06, &[0x55, 0x04, 0x03]);
        let mut atv = cn;
        atv.extend_from_slice(&tlv(tag, value));
        tlv(0x30, &tlv(0x31, &tlv(0x30, &atv)))
    }

    fn canon_of(der: &[u8]) -> Vec<u8> {
        let (_, name) = X509Name::from_der(der).unwrap();
        canonical(&name).unwrap()
    }

    #[test]
    fn printable_and_utf8_strings_compare_equal() {
        let a = canon_of(&name_der(19, b"Test Root CA"));
        let b = canon_of(&name_der(12, b"Test Root CA"));
        assert_eq!(a, b);
    }

    #[test]
    fn case_and_white_space_are_folded() {
        let a = canon_of(&name_der(12, b"  Test   ROOT\tca "));
        let b = canon_of(&name_der(19, b"test root ca"));
        assert_eq!(a, b);
    }

    #[test]
    fn bmp_string_is_converted() {
        let bmp: Vec<u8> = "Root".encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(
            canon_of(&name_der(30, &bmp)),
            canon_of(&name_der(12, b"root"))
        );
    }

    #[test]
    fn different_values_differ() {
        assert_ne!(
            canon_of(&name_der(12, b"Test Root CA")),
            canon_of(&name_der(12, b"Other Root CA"))
        );
    }

    #[test]
    fn fold_keeps_non_ascii_bytes() {
        assert_eq!(fold("  Ä  B ".as_bytes()), "Ä b".as_bytes());
    }
}
