//! Text forms shared by every description of a certificate: hex, IP addresses from their
//! bytes, and names in OpenSSL's one-line form. A leaf module: it imports nothing of the crate,
//! so `pem`, `inspect`, `csr` and `issue` all use it without depending on each other.

use x509_parser::x509::X509Name;

/// Upper-case hex without separators.
pub fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02X}");
            s
        })
}

pub(crate) fn hex_colons(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub(crate) fn ip_from_bytes(b: &[u8]) -> Option<std::net::IpAddr> {
    match b.len() {
        4 => Some(<[u8; 4]>::try_from(b).ok()?.into()),
        16 => Some(<[u8; 16]>::try_from(b).ok()?.into()),
        _ => None,
    }
}

/// A name in OpenSSL 3's default one-line form: `C = DE, O = Org, CN = name`, in DER order.
pub(crate) fn name_oneline(name: &X509Name<'_>) -> String {
    name.iter()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let key = attr_short_name(&oid).map_or(oid, str::to_owned);
                    let value = atv
                        .as_str()
                        .map(escape_dn_value)
                        .unwrap_or_else(|_| format!("#{}", hex_upper(atv.as_slice())));
                    format!("{key} = {value}")
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// OpenSSL's one-line quoting: a value with a character special in DNs is wrapped in double
/// quotes (inside which `"` and `\` are backslash-escaped), as `openssl x509 -subject` prints it.
pub(crate) fn escape_dn_value(v: &str) -> String {
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

fn attr_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.5" => "serialNumber",
        "2.5.4.4" => "SN",
        "2.5.4.42" => "GN",
        "2.5.4.12" => "title",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "emailAddress",
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
}
