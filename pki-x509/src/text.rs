//! Text forms shared by every description of a certificate: hex, IP addresses from their
//! bytes, and distinguished names in the two forms pki prints ([`NameStyle`]). A leaf module: it
//! imports nothing of the crate, so `pem`, `inspect`, `csr`, `issue` and `summary` all use it
//! without depending on each other.

use crate::oid;
use x509_parser::der_parser::asn1_rs::{Any, BmpString, Tag};
use x509_parser::objects::{oid_registry, oid2abbrev};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// Upper-case hex without separators.
pub fn hex_upper(bytes: &[u8]) -> String {
    // A table, not `write!("{:02X}")`: every certificate of a batch has a serial and two
    // fingerprints turned to hex, and the formatter cost 1.6% of the batch.
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Upper-case hex with a colon between bytes (`0A:BC`), as OpenSSL prints key identifiers.
pub fn hex_colons(b: &[u8]) -> String {
    b.iter()
        .map(|x| hex_upper(std::slice::from_ref(x)))
        .collect::<Vec<_>>()
        .join(":")
}

/// An IP address from the 4 or 16 bytes of an `iPAddress` SAN; `None` for any other length.
pub fn ip_from_bytes(b: &[u8]) -> Option<std::net::IpAddr> {
    match b.len() {
        4 => Some(<[u8; 4]>::try_from(b).ok()?.into()),
        16 => Some(<[u8; 16]>::try_from(b).ok()?.into()),
        _ => None,
    }
}

/// How a distinguished name is written. Both forms list the RDNs in DER order, separated by
/// `, `, and the attributes of a multi-valued RDN separated by ` + `.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameStyle {
    /// OpenSSL 3's default one-line form, `C = DE, O = "Org, Inc.", CN = name`: OpenSSL's short
    /// attribute names (the dotted OID for others), a value with a character special in names
    /// quoted, control characters as `\XX`, a value that is not text as `#` and its hex. What
    /// `pki show` and the CA directory's index print.
    OpenSslOneline,
    /// The compact form `C=DE, O=Org, CN=name` that `pki verify` and `pki list-ca` print (as
    /// x509-parser's `Display` writes it): values as they are (the CLI escapes control
    /// characters when it prints them), attribute names from x509-parser's registry (`Email`,
    /// `serialNumber`; `OID(1.2.3)` for an unknown one), a value that is not text as its hex.
    Compact,
}

/// A name in the given style.
pub fn name_text(name: &X509Name<'_>, style: NameStyle) -> String {
    name.iter()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| match style {
                    NameStyle::OpenSslOneline => {
                        let oid = atv.attr_type().to_id_string();
                        let key = attr_short_name(&oid).map_or(oid, str::to_owned);
                        let value = atv
                            .as_str()
                            .map(escape_dn_value)
                            .unwrap_or_else(|_| format!("#{}", hex_upper(atv.as_slice())));
                        format!("{key} = {value}")
                    }
                    NameStyle::Compact => {
                        let key = oid2abbrev(atv.attr_type(), oid_registry())
                            .map_or_else(|_| format!("{:?}", atv.attr_type()), str::to_owned);
                        format!("{key}={}", compact_value(atv))
                    }
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first common name of a name, when it is text.
pub fn common_name(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok().map(str::to_owned))
}

/// A value in the compact form: x509-parser's rendering (text of the string types, BMPString
/// decoded, any other type as upper-case hex of its contents). Where x509-parser gives up on
/// the whole name (`<X509Error: Invalid X.509 name>`, for one value that is not the text its
/// type says), only that value falls back: a one-byte string type read as Latin-1 (as OpenSSL
/// reads a T61String), anything else as hex.
fn compact_value(atv: &AttributeTypeAndValue<'_>) -> String {
    let v: &Any<'_> = atv.attr_value();
    match v.tag() {
        Tag::Utf8String => {
            std::str::from_utf8(v.data).map_or_else(|_| hex_upper(v.data), str::to_owned)
        }
        Tag::NumericString
        | Tag::VisibleString
        | Tag::PrintableString
        | Tag::GeneralString
        | Tag::ObjectDescriptor
        | Tag::GraphicString
        | Tag::T61String
        | Tag::VideotexString
        | Tag::Ia5String => std::str::from_utf8(v.data).map_or_else(
            |_| v.data.iter().map(|&b| char::from(b)).collect(),
            str::to_owned,
        ),
        Tag::BmpString => BmpString::try_from(v).map_or_else(|_| hex_upper(v.data), |s| s.string()),
        _ => hex_upper(v.as_bytes()),
    }
}

/// OpenSSL's one-line quoting: a value with a character special in DNs is wrapped in double
/// quotes (inside which `"` and `\` are backslash-escaped), as `openssl x509 -subject` prints it.
pub fn escape_dn_value(v: &str) -> String {
    let special = v
        .chars()
        .any(|c| matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';'))
        || v.starts_with(['#', ' '])
        || v.ends_with(' ');
    let mut out = String::with_capacity(v.len() + 2);
    if special {
        out.push('"');
    }
    for c in v.chars() {
        if special && matches!(c, '"' | '\\') {
            out.push('\\');
        }
        // OpenSSL's ESC_CTRL: a control character is printed as `\XX`, never raw.
        if c.is_control() && (c as u32) < 0x100 {
            out += &format!("\\{:02X}", c as u32);
        } else {
            out.push(c);
        }
    }
    if special {
        out.push('"');
    }
    out
}

/// OpenSSL's short name of a distinguished name's attribute (`CN`, `O`, `emailAddress`), as
/// its one-line form prints it, if it is one pki names.
fn attr_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        oid::COMMON_NAME => "CN",
        oid::COUNTRY_NAME => "C",
        oid::LOCALITY_NAME => "L",
        oid::STATE_OR_PROVINCE_NAME => "ST",
        oid::STREET_ADDRESS => "street",
        oid::ORGANIZATION_NAME => "O",
        oid::ORGANIZATIONAL_UNIT_NAME => "OU",
        oid::SERIAL_NUMBER => "serialNumber",
        oid::SURNAME => "SN",
        oid::GIVEN_NAME => "GN",
        oid::TITLE => "title",
        oid::DN_QUALIFIER => "dnQualifier",
        oid::PSEUDONYM => "pseudonym",
        oid::DOMAIN_COMPONENT => "DC",
        oid::USER_ID => "UID",
        oid::EMAIL_ADDRESS => "emailAddress",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dn_values_are_escaped() {
        assert_eq!(escape_dn_value("plain"), "plain");
        assert_eq!(escape_dn_value("Contoso, Ltd."), "\"Contoso, Ltd.\"");
        assert_eq!(escape_dn_value("a\"b,"), "\"a\\\"b,\"");
        // Control characters as `openssl x509 -subject` prints them.
        assert_eq!(
            escape_dn_value("a\u{1b}[31mred\nx\u{7}"),
            "a\\1B[31mred\\0Ax\\07"
        );
    }

    #[test]
    fn hex_forms() {
        assert_eq!(hex_upper(&[0x0a, 0xbc]), "0ABC");
        assert_eq!(hex_colons(&[0x0a, 0xbc]), "0A:BC");
        assert_eq!(
            ip_from_bytes(&[10, 0, 0, 4]).unwrap().to_string(),
            "10.0.0.4"
        );
        assert!(ip_from_bytes(&[1, 2, 3]).is_none());
    }

    /// x509-parser's `Display` of a name: what `pki verify` and `pki list-ca` printed before
    /// the compact style was written here.
    fn x509_parser_display(der: &[u8]) -> String {
        use x509_parser::prelude::FromDer;
        let (_, name) = X509Name::from_der(der).unwrap();
        name.to_string()
    }

    fn compact(der: &[u8]) -> String {
        use x509_parser::prelude::FromDer;
        let (_, name) = X509Name::from_der(der).unwrap();
        name_text(&name, NameStyle::Compact)
    }

    /// One attribute: its OID's contents, the value's tag and the value's bytes.
    type Atv<'a> = (&'a [u8], u8, &'a [u8]);

    /// DER of a name: its RDNs, each a list of attributes.
    fn name_der(rdns: &[&[Atv<'_>]]) -> Vec<u8> {
        fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
            assert!(body.len() < 128);
            let mut v = vec![tag, body.len() as u8];
            v.extend_from_slice(body);
            v
        }
        let rdns: Vec<u8> = rdns
            .iter()
            .flat_map(|rdn| {
                let atvs: Vec<u8> = rdn
                    .iter()
                    .flat_map(|(oid, tag, value)| {
                        tlv(0x30, &[tlv(0x06, oid), tlv(*tag, value)].concat())
                    })
                    .collect();
                tlv(0x31, &atvs)
            })
            .collect();
        tlv(0x30, &rdns)
    }

    #[test]
    fn the_compact_style_is_x509_parsers_for_crafted_names() {
        const CN: &[u8] = &[0x55, 0x04, 0x03];
        const O: &[u8] = &[0x55, 0x04, 0x0a];
        const OU: &[u8] = &[0x55, 0x04, 0x0b];
        const SERIAL: &[u8] = &[0x55, 0x04, 0x05];
        const EMAIL: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
        const UNKNOWN: &[u8] = &[0x2a, 0x03, 0x04];
        let (utf8, printable, ia5, bmp, universal, octets) = (0x0c, 0x13, 0x16, 0x1e, 0x1c, 0x04);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (name_der(&[]), ""),
            (
                name_der(&[
                    &[(CN, utf8, b"a"), (OU, utf8, b"b")],
                    &[(O, printable, b"Org")],
                ]),
                "CN=a + OU=b, O=Org",
            ),
            (
                name_der(&[&[(O, utf8, b"Contoso, Ltd.")]]),
                "O=Contoso, Ltd.",
            ),
            (name_der(&[&[(CN, utf8, b"a\"b\\c")]]), "CN=a\"b\\c"),
            (
                name_der(&[&[(CN, bmp, &[0x20, 0xac, 0x00, 0x75])]]),
                "CN=\u{20ac}u",
            ),
            (name_der(&[&[(UNKNOWN, utf8, b"x")]]), "OID(1.2.3.4)=x"),
            (
                name_der(&[&[(EMAIL, ia5, b"a@b.c")], &[(SERIAL, printable, b"42")]]),
                "Email=a@b.c, serialNumber=42",
            ),
            (
                name_der(&[&[(CN, universal, &[0, 0, 0, 0x41])]]),
                "CN=00000041",
            ),
            (name_der(&[&[(CN, octets, &[0xde, 0xad])]]), "CN=DEAD"),
            // Raw in the name: the CLI escapes control characters when it prints.
            (name_der(&[&[(CN, utf8, b"a\x1b[31m")]]), "CN=a\u{1b}[31m"),
        ];
        for (der, want) in cases {
            assert_eq!(x509_parser_display(&der), want);
            assert_eq!(compact(&der), want);
        }
    }

    #[test]
    fn a_value_x509_parser_cannot_read_spoils_only_itself() {
        // A Latin-1 T61String (as OpenSSL's default string mask writes it): x509-parser gave up
        // on the whole name; the compact style reads it as OpenSSL does.
        let der = name_der(&[
            &[(&[0x55, 0x04, 0x03], 0x14, b"\xdcber")],
            &[(&[0x55, 0x04, 0x0a], 0x0c, b"O")],
        ]);
        assert_eq!(x509_parser_display(&der), "<X509Error: Invalid X.509 name>");
        assert_eq!(compact(&der), "CN=\u{dc}ber, O=O");
        // A UTF8String that is not UTF-8: its hex.
        let der = name_der(&[&[(&[0x55, 0x04, 0x03], 0x0c, b"\xff")]]);
        assert_eq!(compact(&der), "CN=FF");
    }
}
