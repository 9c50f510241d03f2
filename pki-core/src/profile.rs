//! Certificate profiles: which extensions each kind of certificate carries (the table of
//! docs/guide/profiles.md), subject names, and SAN entries parsed from what the user typed.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyUsagePurpose, SanType,
};
use serde::{Deserialize, Serialize};

use crate::error::{DeviceIdFault, Error, Result};
use pki_x509::KeyType;

/// The kind of certificate to issue; each fixes its extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "profile")]
pub enum Profile {
    /// Owner / root CA: self-signed, CA:TRUE with an optional path length.
    RootCa {
        /// The path length constraint, if any.
        pathlen: Option<u8>,
    },
    /// Intermediate CA, signed by the root (pathlen 1 by default: room for an edge CA).
    IntermediateCa {
        /// The path length constraint, if any.
        pathlen: Option<u8>,
    },
    /// Azure IoT Edge device CA: CA:TRUE, pathlen:0, keyCertSign, cRLSign, digitalSignature.
    EdgeCa,
    /// Gateway (TLS server) certificate: serverAuth, SAN carries the host name.
    Server,
    /// Downstream device (TLS client) certificate: clientAuth, CN = device id.
    Device,
    /// thin-edge style self-signed device certificate: CA:TRUE pathlen:0 (Cumulocity
    /// requires a CA), clientAuth, CN = device id.
    SelfSignedDevice,
    /// Proof-of-possession certificate: CN = the verification code, signed by the CA proven.
    Verification,
}

impl Profile {
    /// The profile's name as shown to users and recorded in the index.
    pub fn name(self) -> &'static str {
        match self {
            Profile::RootCa { .. } => "root-ca",
            Profile::IntermediateCa { .. } => "intermediate-ca",
            Profile::EdgeCa => "edge-ca",
            Profile::Server => "server",
            Profile::Device => "device",
            Profile::SelfSignedDevice => "self-signed-device",
            Profile::Verification => "verification",
        }
    }

    /// True when certificates of this profile can sign other certificates.
    pub fn is_ca(self) -> bool {
        matches!(
            self,
            Profile::RootCa { .. } | Profile::IntermediateCa { .. } | Profile::EdgeCa
        )
    }

    /// True when the certificate signs itself.
    pub fn is_self_signed(self) -> bool {
        matches!(self, Profile::RootCa { .. } | Profile::SelfSignedDevice)
    }

    /// The default validity in days.
    pub fn default_days(self) -> u32 {
        match self {
            Profile::RootCa { .. } => 3650,
            Profile::IntermediateCa { .. } => 1825,
            Profile::EdgeCa | Profile::Server | Profile::Device | Profile::SelfSignedDevice => 365,
            Profile::Verification => 2,
        }
    }

    /// Fills in the extensions of this profile (everything but names, dates and serial).
    pub(crate) fn apply(self, params: &mut CertificateParams, key_type: KeyType) {
        use KeyUsagePurpose::*;
        let ca_usages = vec![KeyCertSign, CrlSign, DigitalSignature];
        let (is_ca, usages, ekus, aki) = match self {
            Profile::RootCa { pathlen } => (ca(pathlen), ca_usages, vec![], false),
            Profile::IntermediateCa { pathlen } => (ca(pathlen), ca_usages, vec![], true),
            // cRLSign as the other CAs (and certGen.sh's edge device CA): its CRL is how a
            // gateway certificate it issued is withdrawn.
            Profile::EdgeCa => (ca(Some(0)), ca_usages, vec![], true),
            Profile::Server => {
                let mut u = vec![DigitalSignature];
                if key_type.is_rsa() {
                    u.push(KeyEncipherment);
                }
                (
                    IsCa::ExplicitNoCa,
                    u,
                    vec![ExtendedKeyUsagePurpose::ServerAuth],
                    true,
                )
            }
            Profile::Device => (
                IsCa::ExplicitNoCa,
                vec![DigitalSignature],
                vec![ExtendedKeyUsagePurpose::ClientAuth],
                true,
            ),
            Profile::SelfSignedDevice => (
                ca(Some(0)),
                vec![DigitalSignature, KeyCertSign],
                vec![ExtendedKeyUsagePurpose::ClientAuth],
                false,
            ),
            Profile::Verification => (IsCa::ExplicitNoCa, vec![DigitalSignature], vec![], true),
        };
        params.is_ca = is_ca;
        params.key_usages = usages;
        params.extended_key_usages = ekus;
        params.use_authority_key_identifier_extension = aki;
    }
}

fn ca(pathlen: Option<u8>) -> IsCa {
    IsCa::Ca(match pathlen {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    })
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A subject alternative name: an IP address if it parses as one, otherwise a DNS name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum SanEntry {
    /// A DNS name (may start with a `*.` wildcard label).
    Dns(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
}

impl FromStr for SanEntry {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let t = s
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(s);
        if let Ok(ip) = t.parse::<IpAddr>() {
            return Ok(SanEntry::Ip(ip));
        }
        if is_valid_dns_name(s) {
            Ok(SanEntry::Dns(s.to_ascii_lowercase()))
        } else {
            Err(Error::BadHostName(s.to_owned()))
        }
    }
}

impl fmt::Display for SanEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SanEntry::Dns(d) => write!(f, "DNS:{d}"),
            SanEntry::Ip(ip) => write!(f, "IP:{ip}"),
        }
    }
}

impl SanEntry {
    /// The bare value: the DNS name or the address.
    pub fn value(&self) -> String {
        match self {
            SanEntry::Dns(d) => d.clone(),
            SanEntry::Ip(ip) => ip.to_string(),
        }
    }

    fn to_rcgen(&self) -> Result<SanType> {
        Ok(match self {
            SanEntry::Dns(d) => SanType::DnsName(
                d.clone()
                    .try_into()
                    .map_err(|_| Error::BadHostName(d.clone()))?,
            ),
            SanEntry::Ip(ip) => SanType::IpAddress(*ip),
        })
    }
}

/// RFC 1123 host names (letters, digits, hyphens, and underscores as seen in the field), at
/// most 253 characters, labels of 1 to 63, a leading `*.` wildcard allowed, and not all-numeric
/// in the last label (that would be a mistyped IP address).
pub fn is_valid_dns_name(s: &str) -> bool {
    let body = s.strip_prefix("*.").unwrap_or(s);
    if body.is_empty() || s.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = body.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    labels.iter().all(label_ok)
        && !labels
            .last()
            .is_some_and(|l| l.chars().all(|c| c.is_ascii_digit()))
}

/// What a device id may be, in words ([`validate_device_id`]'s rule).
pub const DEVICE_ID_RULE: &str = "1 to 128 ASCII letters, digits and -.%_*?!(),:=@$' \
    (Azure IoT Hub's rule), not starting with a dot or a dash";

/// Checks a device id against Azure IoT Hub's rules: 1 to 128 characters of ASCII letters,
/// digits and `-.%_*?!(),:=@$'`; and, since an id becomes a file name, not starting with a dot
/// (`.`, `..`, a hidden file), nor, since it is an argument of the commands pki prints, with a
/// dash. Nothing else: every other character is refused, so that no id
/// holds a `/`, a quote `"`, a backslash, a space or a control character (what `pki guide`
/// prints still quotes each id for the language it lands in).
pub fn validate_device_id(id: &str) -> Result<()> {
    match device_id_fault(id) {
        None => Ok(()),
        Some(reason) => Err(Error::BadDeviceId {
            id: id.to_owned(),
            reason,
        }),
    }
}

/// The first rule of [`validate_device_id`]'s that `id` breaks, if any.
pub fn device_id_fault(id: &str) -> Option<DeviceIdFault> {
    if id.is_empty() {
        return Some(DeviceIdFault::Empty);
    }
    if id.len() > 128 {
        return Some(DeviceIdFault::TooLong);
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-.%_*?!(),:=@$'".contains(*c)))
    {
        return Some(DeviceIdFault::Character(c));
    }
    if id.starts_with('.') {
        return Some(DeviceIdFault::LeadingDot);
    }
    // Azure allows it, but an id is also an argument of the commands pki prints (`pki guide
    // ID`, `mosquitto_pub -i ID`), where a leading dash reads as a flag however it is quoted.
    if id.starts_with('-') {
        return Some(DeviceIdFault::LeadingDash);
    }
    None
}

/// The subject distinguished name of a certificate to issue.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Subject {
    /// Common name.
    pub common_name: String,
    /// Organization (O), if any.
    pub organization: Option<String>,
    /// Organizational unit (OU), if any.
    pub organizational_unit: Option<String>,
}

impl Subject {
    /// A subject with only a common name.
    pub fn cn(common_name: impl Into<String>) -> Self {
        Subject {
            common_name: common_name.into(),
            ..Subject::default()
        }
    }

    /// The subject in OpenSSL's one-line form (`O = x, OU = y, CN = z`), as it is encoded.
    pub fn oneline(&self) -> String {
        let mut parts = Vec::with_capacity(3);
        if let Some(o) = &self.organization {
            parts.push(format!("O = {}", pki_x509::text::escape_dn_value(o)));
        }
        if let Some(ou) = &self.organizational_unit {
            parts.push(format!("OU = {}", pki_x509::text::escape_dn_value(ou)));
        }
        parts.push(format!(
            "CN = {}",
            pki_x509::text::escape_dn_value(&self.common_name)
        ));
        parts.join(", ")
    }

    pub(crate) fn to_rcgen(&self) -> DistinguishedName {
        let mut dn = DistinguishedName::new();
        if let Some(o) = &self.organization {
            dn.push(DnType::OrganizationName, o.as_str());
        }
        if let Some(ou) = &self.organizational_unit {
            dn.push(DnType::OrganizationalUnitName, ou.as_str());
        }
        dn.push(DnType::CommonName, self.common_name.as_str());
        dn
    }
}

pub(crate) fn rcgen_sans(sans: &[SanEntry]) -> Result<Vec<SanType>> {
    sans.iter().map(SanEntry::to_rcgen).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn san_entries_parse_as_ip_or_dns() {
        assert_eq!(
            "10.0.0.1".parse::<SanEntry>().unwrap(),
            SanEntry::Ip("10.0.0.1".parse().unwrap())
        );
        assert_eq!(
            "[::1]".parse::<SanEntry>().unwrap(),
            SanEntry::Ip("::1".parse().unwrap())
        );
        assert_eq!(
            "GW.Contoso.com".parse::<SanEntry>().unwrap(),
            SanEntry::Dns("gw.contoso.com".into())
        );
        assert_eq!(
            "*.contoso.com".parse::<SanEntry>().unwrap(),
            SanEntry::Dns("*.contoso.com".into())
        );
        for bad in [
            "",
            "a..b",
            "-a.com",
            "a b",
            "10.0.0",
            "x.*.com",
            "gw.contoso.com.",
            "a/b",
        ] {
            assert!(
                matches!(bad.parse::<SanEntry>(), Err(Error::BadHostName(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn device_ids_follow_azure_rules() {
        assert!(validate_device_id("sensor-01.lot_7:a=b@c$'").is_ok());
        let fault = |id: &str| match validate_device_id(id) {
            Err(Error::BadDeviceId { reason, .. }) => Some(reason),
            _ => None,
        };
        assert_eq!(fault(""), Some(DeviceIdFault::Empty));
        assert_eq!(fault("a/b"), Some(DeviceIdFault::Character('/')));
        assert_eq!(fault(&"x".repeat(129)), Some(DeviceIdFault::TooLong));
        assert_eq!(fault("dév"), Some(DeviceIdFault::Character('é')));
        assert_eq!(fault(".hidden"), Some(DeviceIdFault::LeadingDot));
        assert_eq!(fault("-x"), Some(DeviceIdFault::LeadingDash));
        let e = validate_device_id("a b").unwrap_err().to_string();
        assert!(
            e.contains("' ' is not allowed (letters, digits and -.%_*?!(),:=@$' only)"),
            "{e}"
        );
        // Every character of Azure's set, and the longest id.
        assert!(validate_device_id("aZ9-.%_*?!(),:=@$'").is_ok());
        assert!(validate_device_id("x$(id)").is_ok());
        assert!(validate_device_id(&"x".repeat(128)).is_ok());
        assert!(validate_device_id("a.").is_ok());
        // Outside the set: quotes, backslash, space, `;`, `/`, control characters.
        for bad in [
            "q\"x", "a\\b", "a b", "a;b", "a`b", "a\nb", "a\u{1b}b", "a#b", "a&b",
        ] {
            assert!(
                matches!(validate_device_id(bad), Err(Error::BadDeviceId { .. })),
                "{bad:?}"
            );
        }
        // A file name never hidden, never `.` or `..`; an argument never a flag.
        for bad in [".", "..", ".hidden", "..x", "-x", "--help"] {
            assert!(
                matches!(validate_device_id(bad), Err(Error::BadDeviceId { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rsa_server_certificates_also_get_key_encipherment() {
        let mut p = CertificateParams::default();
        Profile::Server.apply(&mut p, KeyType::Rsa(2048));
        assert!(p.key_usages.contains(&KeyUsagePurpose::KeyEncipherment));
        Profile::Server.apply(&mut p, KeyType::EcP256);
        assert!(!p.key_usages.contains(&KeyUsagePurpose::KeyEncipherment));
    }
}
