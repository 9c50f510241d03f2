//! Renewal without an outage: re-issuing a certificate of the register with the same subject,
//! SANs, profile and issuer, a new random serial and (unless the key is reused) a fresh key of
//! the same type.
//!
//! [`plan`] finds what to renew (a file, a CN, a CA's role, or everything expiring soon) and
//! how; [`execute`] issues, then in ONE transaction puts the new files at the standard paths
//! (so a gateway's configuration keeps working), keeps the replaced files beside them, runs the
//! caller's [`Hook`] (pki-core starts no process: `pki renew --exec` lends a shell command), lets
//! the caller check the gateway, and commits the register (the old row superseded by
//! the new one's SHA-256, the new row inserted). A failed hook or check, or a register that
//! cannot be written, puts the old files back, runs the hook again so that the gateway serves
//! them, and leaves the register as it was.
//!
//! The replaced files are kept as `certs/<prefix>.<OLD SERIAL>.cert.pem`,
//! `certs/<prefix>.<OLD SERIAL>-full-chain.cert.pem` and `private/<prefix>.<OLD SERIAL>.key.pem`
//! (0600); the old row's `path` names the kept certificate. A CA whose key is on a token
//! (`private/<prefix>.key.uri`) is renewed with a fresh key the caller makes on the same token
//! ([`Keys::fresh`]), or its token key (`reuse_key`); the replaced URI is kept as
//! `private/<prefix>.<OLD SERIAL>.key.uri`. Keys are given as [`GivenKey`]s: pki-core reads no
//! token itself. A certificate pki wrote under names the user chose ([`Placement`]: `pki
//! self-signed --out-cert --out-key`, where thin-edge.io reads them) is renewed there, in place:
//! the replaced files kept beside themselves as `<name>.<OLD SERIAL>.<ext>`, every file with the
//! owner and mode of the one it replaces. A caller's [`Publish`] step (a tenant that must trust
//! the new certificate) runs before anything is put in place. Renewing the owner CA is a rollover:
//! a new root with a new key and the same subject, and `certs/<root prefix>.transition.pem`
//! holding both roots, to install on devices before anything is re-issued under the new one.
//!
//! [`renew_in_place`] is the same transaction for files no CA directory keeps (a device's
//! certificate and key that an EST server renewed, `pki est reenroll`): kept beside themselves,
//! the hook run, everything put back when it fails; no register.

mod execute;
mod hook;
mod in_place;
mod plan;

use std::path::PathBuf;
use std::sync::Arc;

use pki_register::Record;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::issue::{Facts, Issued, SubjectKey};
use crate::profile::{Profile, SanEntry, Subject};
use crate::store::{CaRole, KeyRecord, Placement, Written};
use pki_x509::CaSigner;
use pki_x509::Certificate;
use pki_x509::oid;
use pki_x509::{KeyType, PrivateKey};

pub use execute::{execute, same_as_original};
pub use hook::{Hook, HookCall, HookPhase, HookRun};
pub use in_place::{InPlace, InPlaceFile, kept_beside, renew_in_place};
pub use plan::{plan, sans_of};

/// The OIDs of the subject and authority key identifiers: the extensions a renewal changes
/// (with the serial and the validity).
const KEY_IDENTIFIERS: [&str; 2] = [oid::SUBJECT_KEY_IDENTIFIER, oid::AUTHORITY_KEY_IDENTIFIER];

/// What to renew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The certificate in this file (its first), found in the register by its SHA-256.
    File(PathBuf),
    /// The certificate in service with this CN (a device id, a gateway host name); of several,
    /// the one that expires last.
    CommonName(String),
    /// Every certificate in service that expires within this time, expired ones included.
    Expiring(Duration),
}

/// How to renew.
#[derive(Debug, Clone)]
pub struct Options {
    /// Keep the certificate's key instead of generating a fresh one.
    pub reuse_key: bool,
    /// Validity in days, instead of the original's lifetime.
    pub days: Option<u32>,
    /// Record a certificate that is not in the register (when a CA of the directory signed it).
    pub adopt: bool,
    /// Renew even when the files at the standard paths are not the certificate renewed, and
    /// replace kept files of the same name.
    pub force: bool,
    /// The instant of the renewal.
    pub now: OffsetDateTime,
}

/// One certificate to renew, as planned.
#[derive(Debug, Clone)]
pub struct Renewal {
    /// The register's row of the certificate replaced (made from the certificate when adopted).
    pub old: Record,
    /// The certificate replaced.
    pub old_cert: Certificate,
    /// Not in the register yet: the renewal records it first (`--adopt`).
    pub adopt: bool,
    /// The file-name prefix of its standard paths.
    pub prefix: String,
    /// Its profile.
    pub profile: Profile,
    /// The key type of a fresh key: the old key's.
    pub key_type: KeyType,
    /// Validity of the new certificate in days.
    pub days: u32,
    /// The prefix of the CA that signs; `None` when the certificate signs itself.
    pub issuer_prefix: Option<String>,
    /// Where the issuer's key is kept, for the caller to read (it may ask for a password or a
    /// PIN) at execution: a CA renewed earlier in the same run signs with its new key.
    pub issuer_key: Option<KeyRecord>,
    /// Where the certificate's own key is kept: read by the caller with `reuse_key`; on a
    /// token, the caller makes the fresh key there.
    pub key: KeyRecord,
    /// Keep the certificate's key (`--reuse-key`).
    pub reuse_key: bool,
    /// Where the certificate and its key were written under names the user chose (`pki
    /// self-signed --out-cert --out-key`): renewed there, in place, instead of at the standard
    /// paths.
    pub placement: Option<Placement>,
    /// Things the user should know (which of several certificates was chosen).
    pub notes: Vec<String>,
    subject: Subject,
    sans: Vec<SanEntry>,
    force: bool,
}

/// A certificate `--expiring` selected that cannot be renewed, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// Its subject.
    pub subject: String,
    /// Its serial.
    pub serial: String,
    /// Its file, as the register names it (relative to the CA directory, or absolute).
    pub path: String,
    /// Why it is not renewed.
    pub reason: String,
}

/// What [`plan`] found.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The renewals, CAs first (the root, the intermediate, edge CAs), so that what they sign
    /// in the same run is signed by the renewed CA.
    pub renewals: Vec<Renewal>,
    /// Certificates selected that cannot be renewed.
    pub skipped: Vec<Skipped>,
}

/// A key given to [`execute`]: read from its file, or kept on a token and signing there.
pub enum GivenKey {
    /// A key read from its PEM file.
    File(Box<PrivateKey>),
    /// A key on a token.
    Token {
        /// It signs on the token.
        signer: Arc<dyn CaSigner>,
        /// Its `pkcs11:` URI (no PIN), recorded in `private/<prefix>.key.uri`.
        uri: String,
    },
}

impl GivenKey {
    fn public_key_raw(&self) -> pki_x509::Result<Vec<u8>> {
        match self {
            GivenKey::File(k) => k.public_key_raw(),
            GivenKey::Token { signer, .. } => signer.public_key_raw(),
        }
    }

    fn subject_key(&self) -> SubjectKey<'_> {
        match self {
            GivenKey::File(k) => SubjectKey::Private(k),
            GivenKey::Token { signer, .. } => SubjectKey::Signer(signer.as_ref()),
        }
    }
}

/// The keys [`execute`] needs, read (or made) by the caller where the [`Renewal`] says.
#[derive(Default)]
pub struct Keys {
    /// The issuer's key (none for a certificate that signs itself).
    pub issuer: Option<GivenKey>,
    /// The certificate's own key, with `reuse_key`.
    pub own: Option<GivenKey>,
    /// The fresh key, when the caller made it: on the token that holds the old one. Without
    /// it, a fresh key is generated in memory and written to `private/<prefix>.key.pem`.
    pub fresh: Option<GivenKey>,
}

/// How the caller checks the gateway once the hook has run.
pub struct Verify<'a> {
    /// Checks the gateway: does it serve this new certificate, and does a device accept it?
    /// The caller keeps asking while the gateway reloads (it may still serve the old
    /// certificate, or not answer) and says how many times it asked
    /// ([`GatewayCheck::attempts`]).
    pub check: &'a dyn Fn(&Issued) -> GatewayCheck,
}

impl std::fmt::Debug for Verify<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verify").finish_non_exhaustive()
    }
}

/// Who must trust a new certificate before it is put in place, told by the caller (pki-core
/// speaks to no tenant): `pki renew --c8y-upload` registers a self-signed device's or a CA's
/// new certificate with a Cumulocity tenant, so that the device is never left presenting a
/// certificate the tenant does not know.
pub struct Publish<'a> {
    /// Makes the new certificate trusted; its error (in plain words) stops the renewal before
    /// anything is changed.
    pub run: &'a dyn Fn(&Issued) -> std::result::Result<(), String>,
}

impl std::fmt::Debug for Publish<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publish").finish_non_exhaustive()
    }
}

/// What confirms a renewal before the register is committed: each step lent by the caller
/// (pki-core starts no process and speaks to no gateway of its own).
#[derive(Default)]
pub struct Confirm<'a> {
    /// Run once the new files are staged, before they are put in place: a failure changes
    /// nothing.
    pub publish: Option<Publish<'a>>,
    /// The hook, run once the new files are in place and again after a rollback.
    pub hook: Option<&'a dyn Hook>,
    /// The gateway check.
    pub verify: Option<Verify<'a>>,
}

impl std::fmt::Debug for Confirm<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Confirm")
            .field("publish", &self.publish)
            .field("hook", &self.hook.map(|_| "Hook"))
            .field("verify", &self.verify)
            .finish()
    }
}

/// What the gateway check saw.
#[derive(Debug, Clone, Serialize)]
pub struct GatewayCheck {
    /// `host:port`.
    pub target: String,
    /// The gateway serves the new certificate and a device (OpenSSL and rustls) accepts it.
    pub passed: bool,
    /// The gateway serves the new certificate (its leaf's SHA-256 is the new one's).
    pub new_served: bool,
    /// SHA-256 of the leaf the gateway served, when it answered.
    pub served_sha256: Option<String>,
    /// Serial of the leaf the gateway served, when it answered.
    pub served_serial: Option<String>,
    /// OpenSSL's verdict (`0 (ok)`), when the chain was judged.
    pub openssl: Option<String>,
    /// rustls's verdict (`OK`), when the chain was judged.
    pub rustls: Option<String>,
    /// What was seen, in plain words.
    pub detail: String,
    /// How many times the gateway was asked.
    pub attempts: u32,
}

/// How a renewal ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalResult {
    /// Renewed: the new files are in place and recorded.
    Renewed,
    /// The hook or the gateway check failed: the old files are back, the register unchanged.
    RolledBack,
    /// Nothing was changed (the renewal could not run).
    Failed,
}

/// A certificate, as a renewal report names it.
#[derive(Debug, Clone, Serialize)]
pub struct CertBrief {
    /// Serial, upper-case hex.
    pub serial: String,
    /// SHA-256 of the DER, upper-case hex.
    pub sha256: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

impl CertBrief {
    fn of(cert: &Certificate) -> CertBrief {
        let f = Facts::of(cert);
        CertBrief {
            serial: f.serial,
            sha256: cert.sha256_hex(),
            not_before: f.not_before,
            not_after: f.not_after,
        }
    }
}

/// The replaced files, kept beside the new ones.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Kept {
    /// The old certificate.
    pub cert: Option<PathBuf>,
    /// The old full chain.
    pub full_chain: Option<PathBuf>,
    /// The old private key (0600).
    pub key: Option<PathBuf>,
}

/// A certificate in service that must be re-issued after a rollover.
#[derive(Debug, Clone, Serialize)]
pub struct Reissue {
    /// Its profile.
    pub profile: String,
    /// Its subject.
    pub subject: String,
    /// Its serial.
    pub serial: String,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Its file, as the register names it (relative to the CA directory, or absolute).
    pub path: String,
}

/// What a rollover of the owner CA leaves to do.
#[derive(Debug, Clone, Serialize)]
pub struct Rollover {
    /// Both roots, the new one first: install it on every device before re-issuing.
    pub transition_bundle: PathBuf,
    /// Every certificate in service under the old root, CAs first.
    pub to_reissue: Vec<Reissue>,
}

/// The report of one renewal.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// How it ended.
    pub result: RenewalResult,
    /// The profile.
    pub profile: &'static str,
    /// The subject.
    pub subject: String,
    /// The certificate replaced (still in service unless renewed).
    pub old: CertBrief,
    /// The new certificate, when one was issued.
    pub new: Option<CertBrief>,
    /// The issuer's subject.
    pub issuer: String,
    /// The CA that signed the original has been renewed since: the CA now at its role's path
    /// signed.
    pub issuer_renewed: bool,
    /// The key was kept (`--reuse-key`) rather than generated.
    pub key_reused: bool,
    /// The files at the standard paths, when renewed.
    pub files: Option<Written>,
    /// The replaced files, kept beside them, when renewed.
    pub kept: Kept,
    /// The hook's run after the new files were put in place.
    pub hook: Option<HookRun>,
    /// The gateway check.
    pub verification: Option<GatewayCheck>,
    /// The hook's run after a rollback.
    pub rollback_hook: Option<HookRun>,
    /// After a rollback (and its hook): the files that are not as they were before the
    /// renewal (missing or changed), read back rather than assumed. Empty when every file is
    /// back, or when nothing was rolled back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_restored: Vec<PathBuf>,
    /// For the owner CA: the rollover's transition bundle and what to re-issue.
    pub rollover: Option<Rollover>,
    /// For another CA: how many certificates in service it signed with its old key (they keep
    /// verifying with their full-chain files until they are renewed).
    pub still_under_old: Option<u64>,
    /// Things the user should know.
    pub notes: Vec<String>,
    /// The new certificate's validity was cut short by its CA's: renew that CA first.
    pub capped: Option<Capped>,
    /// Why it was rolled back or failed.
    pub error: Option<String>,
}

/// A renewal whose validity its CA cut short: the CA expires before the renewed certificate
/// would have, so renewing the CA first gains the rest.
#[derive(Debug, Clone, Serialize)]
pub struct Capped {
    /// The CA (`edge CA "gw"`).
    pub ca: String,
    /// Its role, to name it on a command line.
    #[serde(skip)]
    pub role: Option<CaRole>,
    /// The CA's notAfter: the renewed certificate's too.
    #[serde(with = "time::serde::rfc3339")]
    pub ca_not_after: OffsetDateTime,
    /// The days the renewal lost to it.
    pub days_lost: i64,
}

impl Outcome {
    /// The report of a renewal that could not run (nothing changed).
    pub fn failed(r: &Renewal, error: String) -> Outcome {
        Outcome {
            result: RenewalResult::Failed,
            profile: r.profile.name(),
            subject: r.old.subject.clone(),
            old: CertBrief::of(&r.old_cert),
            new: None,
            issuer: r.old.issuer.clone(),
            issuer_renewed: false,
            key_reused: r.reuse_key,
            files: None,
            kept: Kept::default(),
            hook: None,
            verification: None,
            rollback_hook: None,
            not_restored: Vec::new(),
            rollover: None,
            still_under_old: None,
            notes: r.notes.clone(),
            capped: None,
            error: Some(error),
        }
    }
}
