//! The JSON documents of Cumulocity's trusted-certificate API, as pki sends and reads them.
//!
//! Reading is lenient: every field the tenant may leave out is optional, and the whole answer is
//! kept as a `serde_json::Value` beside the typed view so that `--json` prints it unchanged.

use serde::{Deserialize, Serialize};

/// `GET /tenant/currentTenant`: only the tenant id is needed.
#[derive(Debug, Deserialize)]
pub(crate) struct CurrentTenant {
    /// The tenant id (`t12345`, or `management`).
    pub(crate) name: String,
}

/// Whether devices may use the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum Status {
    /// Devices whose certificates it issued may connect.
    Enabled,
    /// Stored, but not used.
    Disabled,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Enabled => "ENABLED",
            Status::Disabled => "DISABLED",
        })
    }
}

/// The body of `POST .../trusted-certificates`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewTrustedCertificate {
    /// The name shown in the tenant.
    pub(crate) name: String,
    /// One `CERTIFICATE` PEM block, BEGIN/END lines included (as `tedge cert upload c8y` sends).
    pub(crate) cert_in_pem_format: String,
    /// Register unknown devices whose certificates this CA issued on their first connection.
    pub(crate) auto_registration_enabled: bool,
    /// Enabled or disabled.
    pub(crate) status: Status,
}

/// A stored trusted certificate, as the tenant answers it (every field optional).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct TrustedCertificate {
    pub(crate) name: Option<String>,
    pub(crate) fingerprint: Option<String>,
    pub(crate) subject: Option<String>,
    pub(crate) status: Option<Status>,
    pub(crate) auto_registration_enabled: Option<bool>,
    pub(crate) not_after: Option<String>,
    pub(crate) proof_of_possession_valid: Option<bool>,
    pub(crate) proof_of_possession_unsigned_verification_code: Option<String>,
}

impl TrustedCertificate {
    /// The typed view of a JSON answer (an answer of another shape gives empty fields).
    pub(crate) fn of(value: &serde_json::Value) -> Self {
        serde_json::from_value(value.clone()).unwrap_or_default()
    }
}

/// The body of `POST .../trusted-certificates-pop/{fingerprint}/pop`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignedVerificationCode {
    /// Base64 of the signature over the verification code's bytes.
    pub(crate) proof_of_possession_signed_verification_code: String,
}

/// Cumulocity's error document (`{"error": "security/Unauthorized", "message": "...", "info": "..."}`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorBody {
    pub(crate) error: Option<String>,
    pub(crate) message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_certificate_serialises_with_cumulocity_names() {
        let body = NewTrustedCertificate {
            name: "Owner CA".into(),
            cert_in_pem_format: "PEM".into(),
            auto_registration_enabled: true,
            status: Status::Disabled,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"name": "Owner CA", "certInPemFormat": "PEM",
                "autoRegistrationEnabled": true, "status": "DISABLED"})
        );
    }

    #[test]
    fn a_partial_answer_reads() {
        let v = serde_json::json!({"fingerprint": "ab", "status": "ENABLED", "extra": 1});
        let c = TrustedCertificate::of(&v);
        assert_eq!(c.fingerprint.as_deref(), Some("ab"));
        assert_eq!(c.status, Some(Status::Enabled));
        assert_eq!(c.proof_of_possession_valid, None);
        assert!(
            TrustedCertificate::of(&serde_json::json!([1]))
                .name
                .is_none()
        );
    }
}
