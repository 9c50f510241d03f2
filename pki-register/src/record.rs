//! One certificate in the register, and its state at an instant.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// What happened to a certificate after it was issued. Stored; never goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Issued and in service.
    #[default]
    Issued,
    /// Replaced by a renewal (or by a new PKI built over the old one).
    Superseded,
    /// Revoked.
    Revoked,
}

impl Status {
    /// The name stored in the database and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Issued => "issued",
            Status::Superseded => "superseded",
            Status::Revoked => "revoked",
        }
    }

    /// The status stored under this name.
    pub fn parse(name: &str) -> Option<Status> {
        Some(match name {
            "issued" => Status::Issued,
            "superseded" => Status::Superseded,
            "revoked" => Status::Revoked,
            _ => return None,
        })
    }
}

/// Why a certificate was revoked: the reasons of RFC 5280 (section 5.3.1) a CA may give, by the
/// names OpenSSL prints and `pki revoke --reason` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Reason {
    /// No reason given (code 0).
    #[default]
    Unspecified,
    /// The certificate's key was stolen or leaked (1).
    KeyCompromise,
    /// The key of a CA was stolen or leaked (2).
    CaCompromise,
    /// The subject's name or affiliation changed (3).
    AffiliationChanged,
    /// Replaced by another certificate (4).
    Superseded,
    /// The device or service is out of use (5).
    CessationOfOperation,
    /// Suspended for now (6).
    CertificateHold,
    /// The subject may no longer hold what the certificate grants (9).
    PrivilegeWithdrawn,
    /// The key of an attribute authority was stolen or leaked (10).
    AaCompromise,
}

impl Reason {
    /// Every reason, in code order.
    pub const ALL: [Reason; 9] = [
        Reason::Unspecified,
        Reason::KeyCompromise,
        Reason::CaCompromise,
        Reason::AffiliationChanged,
        Reason::Superseded,
        Reason::CessationOfOperation,
        Reason::CertificateHold,
        Reason::PrivilegeWithdrawn,
        Reason::AaCompromise,
    ];

    /// RFC 5280's name (`keyCompromise`), as stored in the register and given to `--reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Unspecified => "unspecified",
            Reason::KeyCompromise => "keyCompromise",
            Reason::CaCompromise => "cACompromise",
            Reason::AffiliationChanged => "affiliationChanged",
            Reason::Superseded => "superseded",
            Reason::CessationOfOperation => "cessationOfOperation",
            Reason::CertificateHold => "certificateHold",
            Reason::PrivilegeWithdrawn => "privilegeWithdrawn",
            Reason::AaCompromise => "aACompromise",
        }
    }

    /// The CRLReason code of the CRL entry.
    pub fn code(self) -> u8 {
        match self {
            Reason::Unspecified => 0,
            Reason::KeyCompromise => 1,
            Reason::CaCompromise => 2,
            Reason::AffiliationChanged => 3,
            Reason::Superseded => 4,
            Reason::CessationOfOperation => 5,
            Reason::CertificateHold => 6,
            Reason::PrivilegeWithdrawn => 9,
            Reason::AaCompromise => 10,
        }
    }

    /// The reason of this name; case does not matter (`keycompromise` too).
    pub fn parse(name: &str) -> Option<Reason> {
        Reason::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`crate::Transaction::revoke`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// The certificate is now revoked.
    Revoked,
    /// It had been revoked before, at this instant and for this reason; nothing changed.
    AlreadyRevoked {
        /// When it was revoked.
        at: Option<OffsetDateTime>,
        /// Why, as recorded.
        reason: Option<String>,
    },
    /// No certificate of the register has this SHA-256.
    NotFound,
}

/// What a user sees of a certificate at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// In service, and not expiring within the window asked about.
    Valid,
    /// In service, expiring within the window.
    Expiring,
    /// Past its notAfter.
    Expired,
    /// Replaced by a renewal.
    Superseded,
    /// Revoked.
    Revoked,
}

impl State {
    /// The state's name, as `pki list` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Valid => "valid",
            State::Expiring => "expiring",
            State::Expired => "expired",
            State::Superseded => "superseded",
            State::Revoked => "revoked",
        }
    }
}

/// One certificate of the register: the line `index.jsonl` had, plus what later commands record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Serial, upper-case hex.
    pub serial: String,
    /// Subject, one-line form.
    pub subject: String,
    /// Subject CN (a device's id, a gateway's host name).
    pub common_name: String,
    /// Issuer, one-line form.
    pub issuer: String,
    /// SHA-256 of the issuing CA's certificate, upper-case hex, when known: which CA (of
    /// several with the same name, after a CA's renewal) signed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_sha256: Option<String>,
    /// Profile name (`root`, `intermediate`, `edge-ca`, `server`, `device`, ...).
    pub profile: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// SHA-256 of the DER, upper-case hex.
    pub sha256: String,
    /// The certificate file: relative to the CA directory for a file in it, absolute for one
    /// written elsewhere (`pki self-signed --out-cert`, where a device reads it).
    pub path: String,
    /// Issued, superseded or revoked.
    #[serde(default)]
    pub status: Status,
    /// The SHA-256 of the certificate that replaced it, when superseded by a renewal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// When it was revoked.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was revoked (an RFC 5280 reason name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
}

impl Record {
    /// The state at `at`: revoked and superseded first, then expired (notAfter passed), then
    /// expiring when notAfter falls within `window` of `at`.
    pub fn state(&self, at: OffsetDateTime, window: Duration) -> State {
        match self.status {
            Status::Revoked => State::Revoked,
            Status::Superseded => State::Superseded,
            Status::Issued if self.not_after <= at => State::Expired,
            Status::Issued if self.not_after <= at + window => State::Expiring,
            Status::Issued => State::Valid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn record() -> Record {
        Record {
            serial: "01".into(),
            subject: "CN = d".into(),
            common_name: "d".into(),
            issuer: "CN = ca".into(),
            issuer_sha256: None,
            profile: "device".into(),
            not_before: datetime!(2026-01-01 0:00 UTC),
            not_after: datetime!(2027-01-01 0:00 UTC),
            sha256: "AA".into(),
            path: "certs/d.cert.pem".into(),
            status: Status::Issued,
            superseded_by: None,
            revoked_at: None,
            revocation_reason: None,
        }
    }

    #[test]
    fn states_at_the_edges() {
        let r = record();
        let d30 = Duration::days(30);
        assert_eq!(r.state(datetime!(2026-06-01 0:00 UTC), d30), State::Valid);
        assert_eq!(
            r.state(datetime!(2026-12-02 0:00 UTC), d30),
            State::Expiring
        );
        assert_eq!(
            r.state(datetime!(2026-12-01 23:59:59 UTC), d30),
            State::Valid
        );
        assert_eq!(r.state(datetime!(2027-01-01 0:00 UTC), d30), State::Expired);
        let revoked = Record {
            status: Status::Revoked,
            ..record()
        };
        assert_eq!(
            revoked.state(datetime!(2030-01-01 0:00 UTC), d30),
            State::Revoked
        );
    }

    #[test]
    fn reasons_have_rfc_5280_names_and_codes() {
        assert_eq!(Reason::parse("keyCompromise"), Some(Reason::KeyCompromise));
        assert_eq!(Reason::parse("CACOMPROMISE"), Some(Reason::CaCompromise));
        assert_eq!(Reason::parse("removeFromCRL"), None);
        assert_eq!(Reason::PrivilegeWithdrawn.code(), 9);
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn an_index_jsonl_line_reads_as_an_issued_record() {
        let line = r#"{"serial":"0A","subject":"CN = d","common_name":"d","issuer":"CN = ca","profile":"device","not_before":"2026-01-01T00:00:00Z","not_after":"2027-01-01T00:00:00Z","sha256":"AA","path":"certs/d.cert.pem","status":"issued"}"#;
        let r: Record = serde_json::from_str(line).unwrap();
        assert_eq!(r.status, Status::Issued);
        assert_eq!(r.serial, "0A");
        // And back: the export has the same fields (and no empty optional ones).
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(line).unwrap()
        );
    }
}
