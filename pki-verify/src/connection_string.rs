//! Azure IoT connection strings (`HostName=..;DeviceId=..;SharedAccessKey=..;GatewayHostName=..`):
//! parsed precisely, so that a malformed one is reported segment by segment, and never printed
//! with its key.

use serde::Serialize;

/// A parsed device (or module) connection string. The shared access key is kept out of
/// `Debug` and serialisation.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionString {
    /// `HostName`: the IoT hub.
    pub host_name: String,
    /// `DeviceId`.
    pub device_id: String,
    /// `ModuleId`, for a module identity.
    pub module_id: Option<String>,
    /// `GatewayHostName`: the gateway a downstream device connects through.
    pub gateway_host_name: Option<String>,
    /// `x509=true`: the device authenticates with a certificate.
    pub x509: bool,
    /// A `SharedAccessKey` (or `SharedAccessSignature`) is present; its value is never kept.
    pub has_shared_access_key: bool,
}

impl std::fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionString")
            .field("host_name", &self.host_name)
            .field("device_id", &self.device_id)
            .field("module_id", &self.module_id)
            .field("gateway_host_name", &self.gateway_host_name)
            .field("x509", &self.x509)
            .finish_non_exhaustive()
    }
}

/// What is wrong with a connection string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionStringError {
    /// A segment has no `=`.
    #[error("segment {index} ({segment:?}) is not KEY=VALUE")]
    NoEquals {
        /// 1-based segment number.
        index: usize,
        /// The segment (never a key's value: it has no `=`).
        segment: String,
    },
    /// A key has an empty value.
    #[error("{key} has an empty value")]
    EmptyValue {
        /// The key.
        key: String,
    },
    /// A key appears twice.
    #[error("{key} appears twice")]
    Duplicate {
        /// The key.
        key: String,
    },
    /// A key is not one Azure knows; keys are case-sensitive.
    #[error("unknown key {key:?}{}", suggestion.as_ref().map(|s| format!(" (did you mean {s}? keys are case-sensitive)")).unwrap_or_default())]
    UnknownKey {
        /// The key as written.
        key: String,
        /// The known key it resembles.
        suggestion: Option<&'static str>,
    },
    /// A required key is missing.
    #[error("{key} is missing")]
    Missing {
        /// The key.
        key: &'static str,
    },
    /// `x509` is neither `true` nor `false`.
    #[error("x509 must be true or false, not {value:?}")]
    BadBool {
        /// The value.
        value: String,
    },
    /// Neither a key nor x509=true: the device cannot authenticate.
    #[error("no credential: give SharedAccessKey=..., SharedAccessSignature=... or x509=true")]
    NoCredential,
}

const KNOWN: [&str; 8] = [
    "HostName",
    "DeviceId",
    "ModuleId",
    "SharedAccessKey",
    "SharedAccessKeyName",
    "SharedAccessSignature",
    "x509",
    "GatewayHostName",
];

impl std::str::FromStr for ConnectionString {
    type Err = ConnectionStringError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut seen: Vec<&'static str> = Vec::new();
        let (mut host, mut device, mut module, mut gateway) = (None, None, None, None);
        let (mut x509, mut key) = (false, false);
        for (i, segment) in s.trim().split(';').enumerate() {
            if segment.trim().is_empty() {
                continue;
            }
            let Some((k, v)) = segment.split_once('=') else {
                return Err(ConnectionStringError::NoEquals {
                    index: i + 1,
                    segment: segment.to_owned(),
                });
            };
            let k = k.trim();
            let v = v.trim();
            let Some(known) = KNOWN.iter().copied().find(|n| *n == k) else {
                return Err(ConnectionStringError::UnknownKey {
                    key: k.to_owned(),
                    suggestion: KNOWN.iter().copied().find(|n| n.eq_ignore_ascii_case(k)),
                });
            };
            if seen.contains(&known) {
                return Err(ConnectionStringError::Duplicate {
                    key: known.to_owned(),
                });
            }
            seen.push(known);
            if v.is_empty() {
                return Err(ConnectionStringError::EmptyValue {
                    key: known.to_owned(),
                });
            }
            match known {
                "HostName" => host = Some(v.to_owned()),
                "DeviceId" => device = Some(v.to_owned()),
                "ModuleId" => module = Some(v.to_owned()),
                "GatewayHostName" => gateway = Some(v.to_owned()),
                "x509" => {
                    x509 = match v.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(ConnectionStringError::BadBool {
                                value: v.to_owned(),
                            });
                        }
                    }
                }
                "SharedAccessKey" | "SharedAccessSignature" => key = true,
                _ => {}
            }
        }
        let host_name = host.ok_or(ConnectionStringError::Missing { key: "HostName" })?;
        let device_id = device.ok_or(ConnectionStringError::Missing { key: "DeviceId" })?;
        if !x509 && !key {
            return Err(ConnectionStringError::NoCredential);
        }
        Ok(ConnectionString {
            host_name,
            device_id,
            module_id: module,
            gateway_host_name: gateway,
            x509,
            has_shared_access_key: key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_downstream_device_string_parses() {
        let c: ConnectionString =
            "HostName=hub.azure-devices.net;DeviceId=dev-1;SharedAccessKey=abc==;GatewayHostName=gw.contoso.com"
                .parse()
                .unwrap();
        assert_eq!(c.gateway_host_name.as_deref(), Some("gw.contoso.com"));
        assert!(c.has_shared_access_key && !c.x509);
        assert!(!format!("{c:?}").contains("abc=="));
        let x: ConnectionString = "HostName=h;DeviceId=d;x509=true;".parse().unwrap();
        assert!(x.x509 && x.gateway_host_name.is_none());
    }

    #[test]
    fn malformed_strings_are_reported_precisely() {
        use ConnectionStringError as E;
        let e = |s: &str| s.parse::<ConnectionString>().unwrap_err();
        assert!(matches!(
            e("HostName=h;DeviceId"),
            E::NoEquals { index: 2, .. }
        ));
        assert!(matches!(
            e("HostName=h;DeviceId=d;x509=true;gatewayhostname=g"),
            E::UnknownKey {
                suggestion: Some("GatewayHostName"),
                ..
            }
        ));
        assert!(matches!(
            e("HostName=h;HostName=i;DeviceId=d;x509=true"),
            E::Duplicate { .. }
        ));
        assert!(matches!(
            e("DeviceId=d;x509=true"),
            E::Missing { key: "HostName" }
        ));
        assert!(matches!(e("HostName=h;DeviceId=d"), E::NoCredential));
        assert!(matches!(
            e("HostName=h;DeviceId=d;x509=yes"),
            E::BadBool { .. }
        ));
        assert!(matches!(
            e("HostName=;DeviceId=d;x509=true"),
            E::EmptyValue { .. }
        ));
    }
}
