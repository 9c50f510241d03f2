//! OpenSSL's name checks: `X509_check_host` / `X509_check_ip` (crypto/x509/v3_utl.c) and the
//! name-constraint matching of crypto/x509/v3_ncons.c.

use std::net::IpAddr;

use x509_parser::extensions::{GeneralName, NameConstraints};

use super::code;
use super::name::canonical;
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
fn cn_utf8(tag: u32, data: &[u8]) -> Option<Vec<u8>> {
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

/// `NAME_CONSTRAINTS_check` (plus `NAME_CONSTRAINTS_check_CN` for a leaf without DNS SAN):
/// `X509_V_OK` or the violation code.
pub(crate) fn name_constraints_check(
    cert: &Cert<'_>,
    nc: &NameConstraints<'_>,
    check_cn: bool,
) -> i32 {
    // The subject as a directoryName.
    let subject = cert.x509.subject();
    if subject.iter().next().is_some() {
        let r = nc_match(&Name::Dir(canonical(subject)), nc);
        if r != code::OK {
            return r;
        }
        for email in subject.iter_email() {
            if let Ok(e) = email.as_str() {
                let r = nc_match(&Name::Email(e.as_bytes().to_vec()), nc);
                if r != code::OK {
                    return r;
                }
            }
        }
    }
    let sans = cert.sans();
    for san in &sans {
        let name = match san {
            GeneralName::DNSName(d) => Name::Dns(d.as_bytes().to_vec()),
            GeneralName::IPAddress(b) => Name::Ip(b.to_vec()),
            GeneralName::RFC822Name(e) => Name::Email(e.as_bytes().to_vec()),
            GeneralName::URI(u) => Name::Uri(u.as_bytes().to_vec()),
            GeneralName::DirectoryName(d) => Name::Dir(canonical(d)),
            _ => Name::Other,
        };
        let r = nc_match(&name, nc);
        if r != code::OK {
            return r;
        }
    }
    let has_dns_san = sans.iter().any(|g| matches!(g, GeneralName::DNSName(_)));
    if check_cn && !has_dns_san {
        for cn in subject.iter_common_name() {
            let value = cn.attr_value();
            if let Some(id) = cn_utf8(value.header.tag().0, value.data).filter(|v| cn_is_dns(v)) {
                let r = nc_match(&Name::Dns(id), nc);
                if r != code::OK {
                    return r;
                }
            }
        }
    }
    code::OK
}

/// `cn2dnsid`'s test: letters, digits, inner hyphens and dots, at least one dot.
fn cn_is_dns(v: &[u8]) -> bool {
    let mut is_dns = false;
    let n = v.len();
    for i in 0..n {
        let c = v[i];
        if c.is_ascii_alphanumeric() {
            continue;
        }
        if i > 0 && i < n - 1 {
            if c == b'-' {
                continue;
            }
            if c == b'.' && v[i + 1] != b'.' && v[i - 1] != b'-' && v[i + 1] != b'-' {
                is_dns = true;
                continue;
            }
        }
        return false;
    }
    is_dns
}

/// A name to test against constraints.
enum Name {
    Dns(Vec<u8>),
    Ip(Vec<u8>),
    Email(Vec<u8>),
    Uri(Vec<u8>),
    Dir(Option<Vec<u8>>),
    Other,
}

/// `nc_match`: permitted subtrees of the name's type must match one; excluded must match none.
fn nc_match(name: &Name, nc: &NameConstraints<'_>) -> i32 {
    let mut matched = 0;
    for sub in nc.permitted_subtrees.iter().flatten() {
        if !same_type(name, &sub.base) {
            continue;
        }
        if matched == 2 {
            continue;
        }
        matched = 1;
        match match_single(name, &sub.base) {
            code::OK => matched = 2,
            code::PERMITTED_VIOLATION => {}
            other => return other,
        }
    }
    if matched == 1 {
        return code::PERMITTED_VIOLATION;
    }
    for sub in nc.excluded_subtrees.iter().flatten() {
        if !same_type(name, &sub.base) {
            continue;
        }
        match match_single(name, &sub.base) {
            code::OK => return code::EXCLUDED_VIOLATION,
            code::PERMITTED_VIOLATION => {}
            other => return other,
        }
    }
    code::OK
}

fn same_type(name: &Name, base: &GeneralName<'_>) -> bool {
    matches!(
        (name, base),
        (Name::Dns(_), GeneralName::DNSName(_))
            | (Name::Ip(_), GeneralName::IPAddress(_))
            | (Name::Email(_), GeneralName::RFC822Name(_))
            | (Name::Uri(_), GeneralName::URI(_))
            | (Name::Dir(_), GeneralName::DirectoryName(_))
    )
}

fn match_single(name: &Name, base: &GeneralName<'_>) -> i32 {
    match (name, base) {
        (Name::Dns(d), GeneralName::DNSName(b)) => nc_dns(d, b.as_bytes()),
        (Name::Ip(ip), GeneralName::IPAddress(b)) => nc_ip(ip, b),
        (Name::Email(e), GeneralName::RFC822Name(b)) => nc_email(e, b.as_bytes()),
        (Name::Uri(u), GeneralName::URI(b)) => nc_uri(u, b.as_bytes()),
        (Name::Dir(n), GeneralName::DirectoryName(b)) => match (n, canonical(b)) {
            (Some(n), Some(b)) if n.starts_with(&b) => code::OK,
            _ => code::PERMITTED_VIOLATION,
        },
        _ => code::UNSUPPORTED_CONSTRAINT_TYPE,
    }
}

/// `nc_dns`: the base's labels end the name; an empty base matches everything.
fn nc_dns(dns: &[u8], base: &[u8]) -> i32 {
    if base.is_empty() {
        return code::OK;
    }
    if dns.len() < base.len() {
        return code::PERMITTED_VIOLATION;
    }
    let tail = &dns[dns.len() - base.len()..];
    if dns.len() > base.len() && base[0] != b'.' && dns[dns.len() - base.len() - 1] != b'.' {
        return code::PERMITTED_VIOLATION;
    }
    if tail.eq_ignore_ascii_case(base) {
        code::OK
    } else {
        code::PERMITTED_VIOLATION
    }
}

/// `nc_ip`: address and mask of the same family; the masked address must match.
fn nc_ip(ip: &[u8], base: &[u8]) -> i32 {
    let len = ip.len();
    if (len != 4 && len != 16) || base.len() != 2 * len {
        return code::PERMITTED_VIOLATION;
    }
    let (addr, mask) = base.split_at(len);
    if ip
        .iter()
        .zip(addr.iter().zip(mask))
        .all(|(&i, (&a, &m))| i & m == a & m)
    {
        code::OK
    } else {
        code::PERMITTED_VIOLATION
    }
}

/// `nc_email` (ASCII addresses): `@host` or a full address match exactly (host part
/// case-insensitive, local part case-sensitive); a bare host matches that host, a leading dot
/// any subdomain.
fn nc_email(email: &[u8], base: &[u8]) -> i32 {
    let Some(at) = email.iter().rposition(|&c| c == b'@') else {
        return code::UNSUPPORTED_NAME_SYNTAX;
    };
    let (local, host) = (&email[..at], &email[at + 1..]);
    let ok = if let Some(bat) = base.iter().position(|&c| c == b'@') {
        let (blocal, bhost) = (&base[..bat], &base[bat + 1..]);
        (blocal.is_empty() || blocal == local) && bhost.eq_ignore_ascii_case(host)
    } else if base.first() == Some(&b'.') {
        host.len() > base.len() && host[host.len() - base.len()..].eq_ignore_ascii_case(base)
    } else {
        base.eq_ignore_ascii_case(host)
    };
    if ok {
        code::OK
    } else {
        code::PERMITTED_VIOLATION
    }
}

/// `nc_uri`: the URI's host against the base, like `nc_email`'s host rules.
fn nc_uri(uri: &[u8], base: &[u8]) -> i32 {
    let Some(p) = uri.windows(3).position(|w| w == b"://") else {
        return code::UNSUPPORTED_NAME_SYNTAX;
    };
    let rest = &uri[p + 3..];
    let end = rest
        .iter()
        .position(|&c| c == b':' || c == b'/')
        .unwrap_or(rest.len());
    let host = &rest[..end];
    if host.is_empty() {
        return code::UNSUPPORTED_NAME_SYNTAX;
    }
    let ok = if base.first() == Some(&b'.') {
        host.len() > base.len() && host[host.len() - base.len()..].eq_ignore_ascii_case(base)
    } else {
        base.eq_ignore_ascii_case(host)
    };
    if ok {
        code::OK
    } else {
        code::PERMITTED_VIOLATION
    }
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

    #[test]
    fn name_constraint_dns_needs_a_label_boundary() {
        assert_eq!(nc_dns(b"gw.allowed.example", b"allowed.example"), code::OK);
        assert_eq!(nc_dns(b"allowed.example", b"allowed.example"), code::OK);
        assert_eq!(
            nc_dns(b"notallowed.example", b"allowed.example"),
            code::PERMITTED_VIOLATION
        );
        assert_eq!(nc_dns(b"x.allowed.example", b".allowed.example"), code::OK);
    }

    #[test]
    fn name_constraint_ip_masks() {
        assert_eq!(
            nc_ip(&[192, 0, 2, 10], &[192, 0, 2, 0, 255, 255, 255, 0]),
            code::OK
        );
        assert_eq!(
            nc_ip(&[192, 0, 3, 10], &[192, 0, 2, 0, 255, 255, 255, 0]),
            code::PERMITTED_VIOLATION
        );
    }

    #[test]
    fn cn_must_look_like_a_host_name() {
        assert!(cn_is_dns(b"gateway.example.com"));
        assert!(!cn_is_dns(b"Test Root CA"));
        assert!(!cn_is_dns(b"localhost"));
    }
}
