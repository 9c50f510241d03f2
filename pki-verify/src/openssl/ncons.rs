//! OpenSSL 3.0's name constraints (crypto/x509/v3_ncons.c): `NAME_CONSTRAINTS_check`, which
//! holds every name of a certificate (its subject as a directoryName, the subject's
//! emailAddress attributes, its subjectAltName entries) against an issuer's constraints, and
//! `NAME_CONSTRAINTS_check_CN`, which does the same with the leaf's host-name-like common names
//! when it has no DNS name in its subjectAltName.
//!
//! What OpenSSL decides here, and so what this module answers:
//! - the work limit: more than 2^20 name-by-constraint comparisons is error 1 (unspecified),
//!   before any name is compared;
//! - `nc_match`: a name must match one permitted subtree of its type, if there is any, and no
//!   excluded one; a subtree with a minimum other than 0 or with a maximum is 49, but only for a
//!   name of the subtree's type;
//! - `nc_match_single`: the comparison of one name with one subtree; an otherName (other than an
//!   SmtpUTF8Mailbox), x400Address, ediPartyName or registeredID constraint that meets a name of
//!   its type is 51; an address of the wrong length (in the name or the constraint), an e-mail
//!   address without `@` or a URI without `scheme://host` is 53.

use pki_x509::oid;
use x509_parser::asn1_rs::{Any, FromDer, Oid};
use x509_parser::extensions::{GeneralName, ParsedExtension};

use super::VerifyCode;
use super::names::cn_utf8;
use crate::chain::Cert;
use pki_x509::canonical_name as canonical;

/// OpenSSL's `NAME_CHECK_MAX`: names times constraints.
const NAME_CHECK_MAX: usize = 1 << 20;

/// The GeneralName CHOICE numbers (`GEN_*`).
const GEN_OTHERNAME: u32 = 0;
const GEN_EMAIL: u32 = 1;

/// One GeneralSubtree.
pub(crate) struct Subtree<'a> {
    base: GeneralName<'a>,
    /// `nc_minmax_valid`: no maximum, and a minimum of 0 if any.
    minmax_valid: bool,
}

/// A decoded NameConstraints extension.
pub(crate) struct NameConstraints<'a> {
    permitted: Vec<Subtree<'a>>,
    excluded: Vec<Subtree<'a>>,
}

/// The certificate's name constraints as OpenSSL caches them (`x->nc`): the one
/// nameConstraints extension, decoded. `None` when there is none, more than one, or it does not
/// decode: OpenSSL then checks no constraints of this certificate.
pub(crate) fn of<'a>(cert: &Cert<'a>) -> Option<NameConstraints<'a>> {
    let mut found = cert
        .x509
        .extensions()
        .iter()
        .filter(|e| e.oid.to_id_string() == oid::NAME_CONSTRAINTS);
    let ext = found.next()?;
    if found.next().is_some() {
        return None;
    }
    decode(ext.value)
}

/// One DER element read from the front of some input.
struct Element<'d> {
    /// The identifier octet.
    tag: u8,
    contents: &'d [u8],
    /// The element with its header.
    whole: &'d [u8],
    /// What follows it.
    rest: &'d [u8],
}

/// The element at the front of `input`; `None` when it is not well formed (or has a multi-byte
/// tag or a length of more than four bytes, which no name constraint has).
fn element(input: &[u8]) -> Option<Element<'_>> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    Some(Element {
        tag,
        contents: &rest[..len],
        whole: &input[..header + len],
        rest: &rest[len..],
    })
}

/// `d2i_NAME_CONSTRAINTS`: SEQUENCE { [0] subtrees OPTIONAL, [1] subtrees OPTIONAL }.
fn decode(der: &[u8]) -> Option<NameConstraints<'_>> {
    let seq = element(der)?;
    if seq.tag != 0x30 || !seq.rest.is_empty() {
        return None;
    }
    let mut body = seq.contents;
    let mut nc = NameConstraints {
        permitted: Vec::new(),
        excluded: Vec::new(),
    };
    if let Some(e) = element(body).filter(|e| e.tag == 0xa0) {
        nc.permitted = subtrees(e.contents)?;
        body = e.rest;
    }
    if let Some(e) = element(body).filter(|e| e.tag == 0xa1) {
        nc.excluded = subtrees(e.contents)?;
        body = e.rest;
    }
    body.is_empty().then_some(nc)
}

/// SEQUENCE OF GeneralSubtree: SEQUENCE { base, [0] minimum OPTIONAL, [1] maximum OPTIONAL }.
fn subtrees(mut der: &[u8]) -> Option<Vec<Subtree<'_>>> {
    let mut out = Vec::new();
    while !der.is_empty() {
        let seq = element(der)?;
        if seq.tag != 0x30 {
            return None;
        }
        der = seq.rest;
        let name = element(seq.contents)?;
        let (_, any) = Any::from_der(name.whole).ok()?;
        let base = GeneralName::try_from(any).ok()?;
        let mut fields = name.rest;
        let mut minmax_valid = true;
        if let Some(minimum) = element(fields).filter(|e| e.tag == 0x80) {
            // ASN1_INTEGER_to_BN(minimum) must be zero.
            minmax_valid &=
                !minimum.contents.is_empty() && minimum.contents.iter().all(|&b| b == 0);
            fields = minimum.rest;
        }
        if let Some(maximum) = element(fields).filter(|e| e.tag == 0x81) {
            minmax_valid = false;
            fields = maximum.rest;
        }
        if !fields.is_empty() {
            return None;
        }
        out.push(Subtree { base, minmax_valid });
    }
    Some(out)
}

/// The subjectAltName entries as OpenSSL caches them (`x->altname`): those of the one
/// subjectAltName extension, none when there are several or it does not decode.
fn altnames<'c, 'a>(cert: &'c Cert<'a>) -> &'c [GeneralName<'a>] {
    let mut found = cert
        .x509
        .extensions()
        .iter()
        .filter(|e| e.oid.to_id_string() == oid::SUBJECT_ALT_NAME);
    match (found.next(), found.next()) {
        (Some(ext), None) => match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => &san.general_names,
            _ => &[],
        },
        _ => &[],
    }
}

/// What `check_name_constraints` asks of one certificate against one issuer's constraints:
/// `NAME_CONSTRAINTS_check`, then, for the leaf (`is_leaf`) without a DNS subjectAltName,
/// `NAME_CONSTRAINTS_check_CN`. `X509_V_OK` or the error code.
pub(crate) fn check(cert: &Cert<'_>, nc: &NameConstraints<'_>, is_leaf: bool) -> VerifyCode {
    let subject = cert.x509.subject();
    let sans = altnames(cert);
    let entries = subject.iter_attributes().count();
    let name_count = entries + sans.len();
    let constraint_count = nc.permitted.len() + nc.excluded.len();
    if name_count > 0 && constraint_count > NAME_CHECK_MAX / name_count {
        return VerifyCode::Unspecified;
    }
    if entries > 0 {
        let r = nc_match(&Name::Dir(canonical(subject)), nc);
        if r != VerifyCode::Ok {
            return r;
        }
        for email in subject.iter_email() {
            let value = email.attr_value();
            // Only an IA5String emailAddress is a name OpenSSL can compare.
            if value.header.tag().0 != 22 {
                return VerifyCode::UnsupportedNameSyntax;
            }
            let r = nc_match(&Name::Email(value.data), nc);
            if r != VerifyCode::Ok {
                return r;
            }
        }
    }
    for san in sans {
        let r = nc_match(&Name::of(san), nc);
        if r != VerifyCode::Ok {
            return r;
        }
    }
    let has_dns_san = sans.iter().any(|g| matches!(g, GeneralName::DNSName(_)));
    if is_leaf && !has_dns_san {
        return check_cn(cert, nc);
    }
    VerifyCode::Ok
}

/// `NAME_CONSTRAINTS_check_CN`: each common name that looks like a host name, as a DNS name.
fn check_cn(cert: &Cert<'_>, nc: &NameConstraints<'_>) -> VerifyCode {
    for cn in cert.x509.subject().iter_common_name() {
        let value = cn.attr_value();
        let Some(mut utf8) = cn_utf8(value.header.tag().0, value.data) else {
            continue;
        };
        // cn2dnsid: trailing NULs are dropped, an embedded one is refused.
        while utf8.last() == Some(&0) {
            utf8.pop();
        }
        if utf8.contains(&0) {
            return VerifyCode::UnsupportedNameSyntax;
        }
        if !cn_is_dns(&utf8) {
            continue;
        }
        let r = nc_match(&Name::Dns(&utf8), nc);
        if r != VerifyCode::Ok {
            return r;
        }
    }
    VerifyCode::Ok
}

/// `cn2dnsid`'s test: letters, digits, `_`, inner hyphens and dots, at least one dot.
fn cn_is_dns(v: &[u8]) -> bool {
    let mut is_dns = false;
    let n = v.len();
    for i in 0..n {
        let c = v[i];
        if c.is_ascii_alphanumeric() || c == b'_' {
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

/// A name of the certificate, to hold against the constraints.
enum Name<'n> {
    Other(&'n Oid<'n>, &'n [u8]),
    Email(&'n [u8]),
    Dns(&'n [u8]),
    /// The canonical encoding; `None` when it cannot be made.
    Dir(Option<Vec<u8>>),
    Uri(&'n [u8]),
    Ip(&'n [u8]),
    /// x400Address, ediPartyName, registeredID, or an entry that did not decode: its number.
    Unsupported(u32),
}

impl<'n> Name<'n> {
    fn of(g: &'n GeneralName<'_>) -> Self {
        match g {
            GeneralName::OtherName(oid, value) => Name::Other(oid, value),
            GeneralName::RFC822Name(e) => Name::Email(e.as_bytes()),
            GeneralName::DNSName(d) => Name::Dns(d.as_bytes()),
            GeneralName::DirectoryName(d) => Name::Dir(canonical(d)),
            GeneralName::URI(u) => Name::Uri(u.as_bytes()),
            GeneralName::IPAddress(b) => Name::Ip(b),
            other => Name::Unsupported(gen_type(other)),
        }
    }

    /// The GeneralName number `nc_match` compares with a subtree's: an SmtpUTF8Mailbox
    /// otherName counts as an e-mail address (RFC 8398).
    fn effective_type(&self) -> u32 {
        match self {
            Name::Other(oid, _) if oid.to_id_string() == oid::SMTP_UTF8_MAILBOX => GEN_EMAIL,
            Name::Other(..) => GEN_OTHERNAME,
            Name::Email(_) => GEN_EMAIL,
            Name::Dns(_) => 2,
            Name::Dir(_) => 4,
            Name::Uri(_) => 6,
            Name::Ip(_) => 7,
            Name::Unsupported(t) => *t,
        }
    }
}

/// The CHOICE number of a GeneralName.
fn gen_type(g: &GeneralName<'_>) -> u32 {
    match g {
        GeneralName::OtherName(..) => GEN_OTHERNAME,
        GeneralName::RFC822Name(_) => GEN_EMAIL,
        GeneralName::DNSName(_) => 2,
        GeneralName::X400Address(_) => 3,
        GeneralName::DirectoryName(_) => 4,
        GeneralName::EDIPartyName(_) => 5,
        GeneralName::URI(_) => 6,
        GeneralName::IPAddress(_) => 7,
        GeneralName::RegisteredID(_) => 8,
        GeneralName::Invalid(tag, _) => tag.0,
    }
}

/// Whether a subtree constrains names of this kind: the same type, and for an otherName the
/// same type-id.
fn applies(name: &Name<'_>, effective: u32, base: &GeneralName<'_>) -> bool {
    if effective != gen_type(base) {
        return false;
    }
    match (name, base) {
        (Name::Other(oid, _), GeneralName::OtherName(base_oid, _))
            if effective == GEN_OTHERNAME =>
        {
            oid == &base_oid
        }
        _ => true,
    }
}

/// `nc_match`: permitted subtrees of the name's type must match one; excluded must match none.
fn nc_match(name: &Name<'_>, nc: &NameConstraints<'_>) -> VerifyCode {
    let effective = name.effective_type();
    let mut matched = 0;
    for sub in nc
        .permitted
        .iter()
        .filter(|s| applies(name, effective, &s.base))
    {
        if !sub.minmax_valid {
            return VerifyCode::SubtreeMinmax;
        }
        if matched == 2 {
            continue;
        }
        matched = 1;
        match nc_match_single(name, effective, &sub.base) {
            VerifyCode::Ok => matched = 2,
            VerifyCode::PermittedViolation => {}
            other => return other,
        }
    }
    if matched == 1 {
        return VerifyCode::PermittedViolation;
    }
    for sub in nc
        .excluded
        .iter()
        .filter(|s| applies(name, effective, &s.base))
    {
        if !sub.minmax_valid {
            return VerifyCode::SubtreeMinmax;
        }
        match nc_match_single(name, effective, &sub.base) {
            VerifyCode::Ok => return VerifyCode::ExcludedViolation,
            VerifyCode::PermittedViolation => {}
            other => return other,
        }
    }
    VerifyCode::Ok
}

/// `nc_match_single`: one name against one subtree of its type.
fn nc_match_single(name: &Name<'_>, effective: u32, base: &GeneralName<'_>) -> VerifyCode {
    match (name, base) {
        (Name::Other(_, value), GeneralName::RFC822Name(b)) if effective == GEN_EMAIL => {
            nc_email_eai(value, b.as_bytes())
        }
        (Name::Dir(n), GeneralName::DirectoryName(b)) => nc_dn(n.as_deref(), canonical(b)),
        (Name::Dns(d), GeneralName::DNSName(b)) => nc_dns(d, b.as_bytes()),
        (Name::Email(e), GeneralName::RFC822Name(b)) => nc_email(e, b.as_bytes()),
        (Name::Uri(u), GeneralName::URI(b)) => nc_uri(u, b.as_bytes()),
        (Name::Ip(ip), GeneralName::IPAddress(b)) => nc_ip(ip, b),
        _ => VerifyCode::UnsupportedConstraintType,
    }
}

/// `nc_dn`: the constraint's canonical encoding begins the name's.
fn nc_dn(name: Option<&[u8]>, base: Option<Vec<u8>>) -> VerifyCode {
    match (name, base) {
        (Some(n), Some(b)) if n.starts_with(&b) => VerifyCode::Ok,
        _ => VerifyCode::PermittedViolation,
    }
}

/// `nc_dns`: the base's labels end the name; an empty base matches everything.
fn nc_dns(dns: &[u8], base: &[u8]) -> VerifyCode {
    if base.is_empty() {
        return VerifyCode::Ok;
    }
    if dns.len() < base.len() {
        return VerifyCode::PermittedViolation;
    }
    let tail = &dns[dns.len() - base.len()..];
    if dns.len() > base.len() && base[0] != b'.' && dns[dns.len() - base.len() - 1] != b'.' {
        return VerifyCode::PermittedViolation;
    }
    verdict(tail.eq_ignore_ascii_case(base))
}

fn verdict(matches: bool) -> VerifyCode {
    if matches {
        VerifyCode::Ok
    } else {
        VerifyCode::PermittedViolation
    }
}

/// `nc_email`: a base `.domain` matches the address's end; `local@host` and `@host` the exact
/// local part (case-sensitive, when given) and host (case-insensitive); a bare host that host.
fn nc_email(email: &[u8], base: &[u8]) -> VerifyCode {
    let Some(at) = email.iter().rposition(|&c| c == b'@') else {
        return VerifyCode::UnsupportedNameSyntax;
    };
    let base_at = base.iter().rposition(|&c| c == b'@');
    if base_at.is_none() && base.first() == Some(&b'.') {
        return verdict(
            email.len() > base.len()
                && email[email.len() - base.len()..].eq_ignore_ascii_case(base),
        );
    }
    let mut base_host = base;
    if let Some(bat) = base_at {
        let (base_local, local) = (&base[..bat], &email[..at]);
        if !base_local.is_empty() {
            if base_local.len() != local.len() {
                return VerifyCode::PermittedViolation;
            }
            if base_local.contains(&0) || local.contains(&0) {
                return VerifyCode::UnsupportedNameSyntax;
            }
            if base_local != local {
                return VerifyCode::PermittedViolation;
            }
        }
        base_host = &base[bat + 1..];
    }
    verdict(base_host.eq_ignore_ascii_case(&email[at + 1..]))
}

/// `nc_email_eai`: an SmtpUTF8Mailbox otherName (`value`: its `[0]` content) against an
/// rfc822Name constraint. The constraint's host is compared as written, which is what
/// `ossl_a2ulabel` gives for a host without `xn--` labels.
fn nc_email_eai(value: &[u8], base: &[u8]) -> VerifyCode {
    if base.contains(&0) {
        return VerifyCode::UnsupportedNameSyntax;
    }
    // The value is [0] EXPLICIT UTF8String.
    let utf8 = element(value)
        .filter(|e| e.tag == 0xa0)
        .and_then(|e| element(e.contents))
        .filter(|e| e.tag == 0x0c);
    let Some(email) = utf8.map(|e| e.contents) else {
        return VerifyCode::UnsupportedNameSyntax;
    };
    let Some(at) = email.iter().rposition(|&c| c == b'@') else {
        return VerifyCode::UnsupportedNameSyntax;
    };
    if base.first() == Some(&b'.') {
        return verdict(
            email.len() > base.len()
                && email[email.len() - base.len()..].eq_ignore_ascii_case(base),
        );
    }
    let mut base_host = base;
    if let Some(bat) = base.iter().position(|&c| c == b'@') {
        if bat != 0 && base[..bat] != email[..at] {
            return VerifyCode::PermittedViolation;
        }
        base_host = &base[bat + 1..];
    }
    verdict(base_host.eq_ignore_ascii_case(&email[at + 1..]))
}

/// `nc_uri`: `scheme://` then the host, up to the first `:` after it or else the first `/`;
/// a base `.domain` matches the host's end, any other base the whole host (case-insensitive).
fn nc_uri(uri: &[u8], base: &[u8]) -> VerifyCode {
    let Some(colon) = uri.iter().position(|&c| c == b':') else {
        return VerifyCode::UnsupportedNameSyntax;
    };
    if uri.len() - colon < 3 || uri[colon + 1] != b'/' || uri[colon + 2] != b'/' {
        return VerifyCode::UnsupportedNameSyntax;
    }
    let rest = &uri[colon + 3..];
    let end = rest
        .iter()
        .position(|&c| c == b':')
        .or_else(|| rest.iter().position(|&c| c == b'/'))
        .unwrap_or(rest.len());
    let host = &rest[..end];
    if host.is_empty() {
        return VerifyCode::UnsupportedNameSyntax;
    }
    if base.first() == Some(&b'.') {
        return verdict(
            host.len() > base.len() && host[host.len() - base.len()..].eq_ignore_ascii_case(base),
        );
    }
    verdict(base.eq_ignore_ascii_case(host))
}

/// `nc_ip`: an address of 4 or 16 bytes against an address and mask of 8 or 32 (any other
/// length is 53); different families do not match; the masked addresses must be equal.
fn nc_ip(ip: &[u8], base: &[u8]) -> VerifyCode {
    if !matches!(ip.len(), 4 | 16) || !matches!(base.len(), 8 | 32) {
        return VerifyCode::UnsupportedNameSyntax;
    }
    if ip.len() * 2 != base.len() {
        return VerifyCode::PermittedViolation;
    }
    let (addr, mask) = base.split_at(ip.len());
    verdict(
        ip.iter()
            .zip(addr.iter().zip(mask))
            .all(|(&i, (&a, &m))| i & m == a & m),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_constraints_need_a_label_boundary() {
        assert_eq!(
            nc_dns(b"gw.allowed.example", b"allowed.example"),
            VerifyCode::Ok
        );
        assert_eq!(
            nc_dns(b"allowed.example", b"allowed.example"),
            VerifyCode::Ok
        );
        assert_eq!(
            nc_dns(b"notallowed.example", b"allowed.example"),
            VerifyCode::PermittedViolation
        );
        assert_eq!(
            nc_dns(b"x.allowed.example", b".allowed.example"),
            VerifyCode::Ok
        );
    }

    #[test]
    fn ip_constraints_mask_and_refuse_odd_lengths() {
        let net = [192, 0, 2, 0, 255, 255, 255, 0];
        assert_eq!(nc_ip(&[192, 0, 2, 10], &net), VerifyCode::Ok);
        assert_eq!(
            nc_ip(&[192, 0, 3, 10], &net),
            VerifyCode::PermittedViolation
        );
        assert_eq!(nc_ip(&[0; 16], &net), VerifyCode::PermittedViolation);
        assert_eq!(
            nc_ip(&[192, 0, 2, 10], &net[..7]),
            VerifyCode::UnsupportedNameSyntax
        );
        assert_eq!(
            nc_ip(&[192, 0, 2, 10, 1], &net),
            VerifyCode::UnsupportedNameSyntax
        );
    }

    #[test]
    fn uri_host_ends_at_a_port_before_a_path() {
        assert_eq!(
            nc_uri(b"https://gw.example.com:8443/x", b"gw.example.com"),
            VerifyCode::Ok
        );
        assert_eq!(
            nc_uri(b"https://gw.example.com/x", b".example.com"),
            VerifyCode::Ok
        );
        assert_eq!(
            nc_uri(b"urn:example:gw", b"example.com"),
            VerifyCode::UnsupportedNameSyntax
        );
        assert_eq!(
            nc_uri(b"https:", b"example.com"),
            VerifyCode::UnsupportedNameSyntax
        );
    }

    #[test]
    fn email_constraints_by_domain_host_and_mailbox() {
        assert_eq!(nc_email(b"gw@example.com", b"example.com"), VerifyCode::Ok);
        assert_eq!(
            nc_email(b"gw@sub.example.com", b".example.com"),
            VerifyCode::Ok
        );
        assert_eq!(
            nc_email(b"gw@example.com", b"gw@EXAMPLE.com"),
            VerifyCode::Ok
        );
        assert_eq!(
            nc_email(b"GW@example.com", b"gw@example.com"),
            VerifyCode::PermittedViolation
        );
        assert_eq!(
            nc_email(b"gw", b"example.com"),
            VerifyCode::UnsupportedNameSyntax
        );
    }

    #[test]
    fn subtrees_with_a_minimum_or_maximum_are_not_valid() {
        // SEQUENCE { [0] { SEQUENCE { dNSName "a.b", [0] minimum } } }
        let nc = decode(&[
            0x30, 0x0c, 0xa0, 0x0a, 0x30, 0x08, 0x82, 0x03, b'a', b'.', b'b', 0x80, 0x01, 0x00,
        ]);
        let nc = nc.expect("a minimum of 0 decodes");
        assert!(nc.permitted[0].minmax_valid);
        assert_eq!(nc_match(&Name::Dns(b"x.a.b"), &nc), VerifyCode::Ok);
        let nc = decode(&[
            0x30, 0x0c, 0xa0, 0x0a, 0x30, 0x08, 0x82, 0x03, b'a', b'.', b'b', 0x80, 0x01, 0x01,
        ])
        .expect("decodes");
        assert_eq!(
            nc_match(&Name::Dns(b"x.a.b"), &nc),
            VerifyCode::SubtreeMinmax
        );
        // Only names of the subtree's type meet it.
        assert_eq!(nc_match(&Name::Ip(&[192, 0, 2, 1]), &nc), VerifyCode::Ok);
    }

    #[test]
    fn cn_must_look_like_a_host_name() {
        assert!(cn_is_dns(b"gateway.example.com"));
        assert!(cn_is_dns(b"gate_way.example.com"));
        assert!(!cn_is_dns(b"Test Root CA"));
        assert!(!cn_is_dns(b"localhost"));
    }
}
