//! The documents of Cumulocity's trusted-certificate API, as pki sends and reads them: the
//! fingerprint that names a certificate, what an upload asks for, a stored certificate as the
//! tenant answers it, the tenant id, a verification code, and the tenant's error document.
//!
//! Reading is lenient: every field the tenant may leave out is optional, and a
//! [`TrustedCert`] keeps the whole answer beside its typed view, so that a JSON report can
//! carry the tenant's answer unchanged.

use pki_core::Certificate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Cumulocity's name for a certificate: the SHA-1 of its DER, lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of `cert`.
    pub fn of(cert: &Certificate) -> Self {
        Fingerprint(cert.sha1_hex().to_ascii_lowercase())
    }

    /// A SHA-1 fingerprint given as hex: any case, with or without `:` separators (as `openssl
    /// x509 -fingerprint` prints it). `None` when it is not 40 hex digits.
    pub fn parse(hex: &str) -> Option<Self> {
        let hex: String = hex.chars().filter(|c| *c != ':').collect();
        (hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| Fingerprint(hex.to_ascii_lowercase()))
    }

    /// The lower-case hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Fingerprint {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for Fingerprint {
    fn eq(&self, other: &String) -> bool {
        self.0 == *other
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The answer of `GET /tenant/currentTenant`: only the tenant id is needed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CurrentTenant {
    /// The tenant id (`t12345`, or `management`).
    pub name: String,
}

/// Whether devices may use the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
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

/// What an upload asks the tenant to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOptions {
    /// The name shown in the tenant.
    pub name: String,
    /// Register unknown devices whose certificates this CA issued on their first connection.
    pub auto_registration: bool,
    /// Enabled or disabled.
    pub status: Status,
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

impl NewTrustedCertificate {
    /// The body that uploads `cert` with `opts`.
    pub(crate) fn new(cert: &Certificate, opts: &UploadOptions) -> Self {
        NewTrustedCertificate {
            name: opts.name.clone(),
            cert_in_pem_format: cert.to_pem(),
            auto_registration_enabled: opts.auto_registration,
            status: opts.status,
        }
    }
}

/// A stored trusted certificate, as the tenant answers it: every field optional (an answer of
/// another shape gives empty fields), and the answer itself, redacted, which is what it
/// serialises as.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrustedCert {
    /// The name shown in the tenant.
    pub name: Option<String>,
    /// Its SHA-1 fingerprint, as the tenant spells it.
    pub fingerprint: Option<String>,
    /// Its subject, as the tenant writes it (`CN=...`).
    pub subject: Option<String>,
    /// Enabled or disabled.
    pub status: Option<Status>,
    /// Whether unknown devices it issued are registered on their first connection.
    pub auto_registration_enabled: Option<bool>,
    /// Its expiry, as the tenant writes it (`2036-11-19T22:56:44.000Z`).
    pub not_after: Option<String>,
    /// Whether possession of its key has been proven.
    pub proof_of_possession_valid: Option<bool>,
    /// The tenant's answer, unchanged (`Null` when there was none).
    #[serde(skip)]
    raw: Value,
}

impl TrustedCert {
    /// The typed view of a tenant's answer, which it keeps. The typed view is bounded: a field
    /// longer than a tenant has reason to send (a fingerprint is 40 hex digits, 59 with colons;
    /// a date 24 characters) is cut to [`MAX_SHORT_FIELD`] characters (a name or a subject to
    /// [`MAX_TEXT_FIELD`]), ending in `…`, so that what pki shows of it stays bounded; the
    /// answer kept for JSON is unchanged.
    pub fn from_answer(raw: Value) -> Self {
        let typed: TrustedCert = serde_json::from_value(raw.clone()).unwrap_or_default();
        let cut = |field: Option<String>, max| field.map(|f| bounded(f, max));
        TrustedCert {
            name: cut(typed.name, MAX_TEXT_FIELD),
            fingerprint: cut(typed.fingerprint, MAX_SHORT_FIELD),
            subject: cut(typed.subject, MAX_TEXT_FIELD),
            not_after: cut(typed.not_after, MAX_SHORT_FIELD),
            raw,
            ..typed
        }
    }

    /// The tenant's answer, unchanged.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Whether possession of its key has been proven.
    pub fn is_proven(&self) -> bool {
        self.proof_of_possession_valid == Some(true)
    }

    /// Whether its status or auto-registration, where the tenant says them, differ from what
    /// `opts` asked for.
    pub fn differs_from(&self, opts: &UploadOptions) -> bool {
        self.status.is_some_and(|s| s != opts.status)
            || self
                .auto_registration_enabled
                .is_some_and(|a| a != opts.auto_registration)
    }
}

/// The most characters of a tenant's fingerprint or date that [`TrustedCert`] keeps.
pub const MAX_SHORT_FIELD: usize = 64;

/// The most characters of a tenant's name or subject that [`TrustedCert`] keeps.
pub const MAX_TEXT_FIELD: usize = 1024;

/// `s` cut to `max` characters, the last one `…`, when it is longer.
fn bounded(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Serialises as the tenant's answer, unchanged.
impl Serialize for TrustedCert {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

/// The answer of `POST .../trusted-certificates-pop/{fingerprint}/verification-code` (the
/// certificate, with the code to sign).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VerificationCode {
    /// The code to sign, as the tenant sent it: not yet checked to be one
    /// ([`pki_core::is_verification_code`]).
    pub proof_of_possession_unsigned_verification_code: Option<String>,
}

impl VerificationCode {
    /// The code in a tenant's answer, if it carries a non-empty one.
    pub fn of(answer: &Value) -> Option<String> {
        serde_json::from_value::<VerificationCode>(answer.clone())
            .unwrap_or_default()
            .proof_of_possession_unsigned_verification_code
            .filter(|c| !c.is_empty())
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    /// The error's kind (`security/Unauthorized`).
    pub error: Option<String>,
    /// What the tenant says, for a person.
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_fields_are_cut_in_the_typed_view_and_kept_in_the_answer() {
        let long = "f".repeat(70_000);
        let c = TrustedCert::from_answer(serde_json::json!({
            "fingerprint": long, "notAfter": long, "name": long, "subject": long,
            "status": "ENABLED",
        }));
        let fp = c.fingerprint.as_deref().unwrap();
        assert_eq!(fp.chars().count(), MAX_SHORT_FIELD);
        assert!(fp.ends_with("f…"));
        assert_eq!(
            c.not_after.as_deref().unwrap().chars().count(),
            MAX_SHORT_FIELD
        );
        assert_eq!(c.name.as_deref().unwrap().chars().count(), MAX_TEXT_FIELD);
        assert_eq!(
            c.subject.as_deref().unwrap().chars().count(),
            MAX_TEXT_FIELD
        );
        assert_eq!(c.status, Some(Status::Enabled));
        assert_eq!(c.raw()["fingerprint"].as_str().unwrap().len(), 70_000);
        let fine = "0cd89e8ecd40b6f7fbb9f3602baf82ff307f0678";
        let c = TrustedCert::from_answer(serde_json::json!({ "fingerprint": fine }));
        assert_eq!(c.fingerprint.as_deref(), Some(fine));
    }

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
        let c = TrustedCert::from_answer(v.clone());
        assert_eq!(c.fingerprint.as_deref(), Some("ab"));
        assert_eq!(c.status, Some(Status::Enabled));
        assert_eq!(c.proof_of_possession_valid, None);
        assert!(
            TrustedCert::from_answer(serde_json::json!([1]))
                .name
                .is_none()
        );
        // The answer is kept, and is what it serialises as.
        assert_eq!(serde_json::to_value(&c).unwrap(), v);
        assert_eq!(
            serde_json::to_value(TrustedCert::from_answer(Value::Null)).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn settings_that_differ_are_seen() {
        let opts = UploadOptions {
            name: "x".into(),
            auto_registration: true,
            status: Status::Disabled,
        };
        let stored = TrustedCert::from_answer(
            serde_json::json!({"status": "ENABLED", "autoRegistrationEnabled": true}),
        );
        assert!(stored.differs_from(&opts));
        assert!(!TrustedCert::from_answer(Value::Null).differs_from(&opts));
    }

    #[test]
    fn fingerprints_parse_in_any_case_with_or_without_colons() {
        let upper = "0CD89E8ECD40B6F7FBB9F3602BAF82FF307F0678";
        let lower = upper.to_ascii_lowercase();
        assert_eq!(Fingerprint::parse(upper).unwrap().as_str(), lower);
        let colons = "0C:D8:9E:8E:CD:40:B6:F7:FB:B9:F3:60:2B:AF:82:FF:30:7F:06:78";
        assert_eq!(Fingerprint::parse(colons).unwrap().as_str(), lower);
        assert_eq!(Fingerprint::parse("nope"), None);
        assert_eq!(Fingerprint::parse(&"g".repeat(40)), None);
    }
}
