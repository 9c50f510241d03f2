//! OpenSSL's name checks: `X509_check_host` / `X509_check_ip` (crypto/x509/v3_utl.c). The
//! name constraints of crypto/x509/v3_ncons.c are in `ncons`.

use std::net::IpAddr;

use x509_parser::extensions::GeneralName;

use crate::chain::Cert;

/// `X509_check_host` with flags 0: DNS SANs, and the subject CNs only when there is no DNS SAN.
pub(crate) fn check_host(cert: &Cert<'_>, host: &str) -> bool {
    let host = host.as_bytes();
    let mut dns_present = false;
    for san in cert.sans() {
        if let GeneralName::DNSName(pattern) = san {
            dns_present = true;
            if equal_wildcard(pattern.as_bytes(), host) {
                return true;
            }
        }
    }
    if dns_present {
        return false;
    }
    cert.x509
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn_utf8(cn.attr_value().header.tag().0, cn.attr_value().data))
        .any(|cn| equal_wildcard(&cn, host))
}

/// `X509_check_ip`: an iPAddress SAN with exactly these bytes. No CN fallback.
pub(crate) fn check_ip(cert: &Cert<'_>, ip: IpAddr) -> bool {
    let want: Vec<u8> = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    cert.sans()
        .into_iter()
        .any(|g| matches!(g, GeneralName::IPAddress(b) if *b == want.as_slice()))
}

/// A CN value as UTF-8 bytes (`ASN1_STRING_to_UTF8`), `None` if not convertible.
pub(super) fn cn_utf8(tag: u32, data: &[u8]) -> Option<Vec<u8>> {
    match tag {
        12 => std::str::from_utf8(data)
            .ok()
            .map(|s| s.as_bytes().to_vec()),
        19 | 20 | 22 | 26 => Some(
            data.iter()
                .map(|&b| char::from(b))
                .collect::<String>()
                .into_bytes(),
        ),
        30 if data.len().is_multiple_of(2) => data
            .chunks_exact(2)
            .map(|c| char::from_u32(u32::from(u16::from_be_bytes([c[0], c[1]]))))
            .collect::<Option<String>>()
            .map(String::into_bytes),
        _ => None,
    }
}

/// `equal_nocase`: ASCII case-insensitive, no NUL in the pattern.
fn equal_nocase(pattern: &[u8], subject: &[u8]) -> bool {
    pattern.len() == subject.len()
        && pattern
            .iter()
            .zip(subject)
            .all(|(&l, &r)| l != 0 && l.eq_ignore_ascii_case(&r))
}

/// `equal_wildcard`: `pattern` is the certificate's name, `subject` the name checked.
fn equal_wildcard(pattern: &[u8], subject: &[u8]) -> bool {
    let star = if subject.len() > 1 && subject[0] == b'.' {
        None
    } else {
        valid_star(pattern)
    };
    match star {
        None => equal_nocase(pattern, subject),
        Some(i) => wildcard_match(&pattern[..i], &pattern[i + 1..], subject),
    }
}

/// `valid_star`: the position of the one legal wildcard, in the first label, with at least two
/// dots after it.
fn valid_star(p: &[u8]) -> Option<usize> {
    const START: u8 = 1;
    const IDNA: u8 = 2;
    const HYPHEN: u8 = 4;
    let mut star = None;
    let mut state = START;
    let mut dots = 0;
    for i in 0..p.len() {
        let c = p[i];
        if c == b'*' {
            let at_start = state & START != 0;
            let at_end = i == p.len() - 1 || p[i + 1] == b'.';
            if star.is_some() || state & IDNA != 0 || dots > 0 {
                return None;
            }
            if !at_start && !at_end {
                return None;
            }
            star = Some(i);
            state &= !START;
        } else if c.is_ascii_alphanumeric() {
            if state & START != 0 && p.len() - i >= 4 && p[i..i + 4].eq_ignore_ascii_case(b"xn--") {
                state |= IDNA;
            }
            state &= !(HYPHEN | START);
        } else if c == b'.' {
            if state & (HYPHEN | START) != 0 {
                return None;
            }
            state = START;
            dots += 1;
        } else if c == b'-' {
            if state & START != 0 {
                return None;
            }
            state |= HYPHEN;
        } else {
            return None;
        }
    }
    if state & (START | HYPHEN) != 0 || dots < 2 {
        return None;
    }
    star
}

/// `wildcard_match` without multi-label wildcards.
fn wildcard_match(prefix: &[u8], suffix: &[u8], subject: &[u8]) -> bool {
    if subject.len() < prefix.len() + suffix.len() {
        return false;
    }
    if !equal_nocase(prefix, &subject[..prefix.len()]) {
        return false;
    }
    let wild_end = subject.len() - suffix.len();
    if !equal_nocase(&subject[wild_end..], suffix) {
        return false;
    }
    let wild = &subject[prefix.len()..wild_end];
    let mut allow_idna = false;
    if prefix.is_empty() && suffix.first() == Some(&b'.') {
        if wild.is_empty() {
            return false;
        }
        allow_idna = true;
    }
    if !allow_idna && subject.len() >= 4 && subject[..4].eq_ignore_ascii_case(b"xn--") {
        return false;
    }
    if wild == b"*" {
        return true;
    }
    wild.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_names_match_case_insensitively() {
        assert!(equal_wildcard(
            b"Gateway.Example.com",
            b"gateway.example.COM"
        ));
        assert!(!equal_wildcard(
            b"gateway.example.com",
            b"other.example.com"
        ));
    }

    #[test]
    fn wildcards_cover_one_label_only() {
        assert!(equal_wildcard(b"*.example.com", b"gw.example.com"));
        assert!(!equal_wildcard(b"*.example.com", b"a.gw.example.com"));
        assert!(!equal_wildcard(b"*.example.com", b"example.com"));
        // At least two dots after the star.
        assert!(!equal_wildcard(b"*.com", b"example.com"));
        // Partial wildcards are allowed by default.
        assert!(equal_wildcard(b"gw*.example.com", b"gw1.example.com"));
        // Never in an IDNA label.
        assert!(!equal_wildcard(b"xn--*.example.com", b"xn--a.example.com"));
    }
}
