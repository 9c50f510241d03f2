//! Renewal without an outage: re-issuing a certificate of the register with the same subject,
//! SANs, profile and issuer, a new random serial and (unless the key is reused) a fresh key of
//! the same type.
//!
//! [`plan`] finds what to renew (a file, a CN, a CA's role, or everything expiring soon) and
//! how; [`execute`] issues, then in ONE transaction puts the new files at the standard paths
//! (so a gateway's configuration keeps working), keeps the replaced files beside them, runs the
//! hook, lets the caller check the gateway, and commits the register (the old row superseded by
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

use pki_x509::oid;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use pki_register::{Query, Record, Status};
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use x509_parser::extensions::GeneralName;

use crate::error::{Error, Refusal, Result};
use crate::issue::{DEFAULT_BACKDATE, Facts, Issued, Issuer, Request, SubjectKey, issue};
use crate::profile::{Profile, SanEntry, Subject};
use crate::store::{
    CaDir, CaRole, INTERMEDIATE_PREFIX, KEY_MODE, KeyRecord, PUBLIC_MODE, Placement, ROOT_PREFIX,
    StoredKey, Written, device_prefix, edge_ca_prefix, file_name_of, pem_bundle, read_first_cert,
    server_prefix,
};
use pki_x509::CaSigner;
use pki_x509::Certificate;
use pki_x509::child_command;
use pki_x509::files;
use pki_x509::key_type_of_spki;
use pki_x509::{KeyType, PrivateKey};

/// The OIDs of the subject and authority key identifiers: the extensions a renewal changes
/// (with the serial and the validity).
const KEY_IDENTIFIERS: [&str; 2] = [oid::SUBJECT_KEY_IDENTIFIER, oid::AUTHORITY_KEY_IDENTIFIER];
/// How often the gateway is asked again while it reloads.
const RECHECK: StdDuration = StdDuration::from_millis(500);

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

/// A command run once the new files are in place (reload the gateway), and again after a
/// rollback.
#[derive(Debug, Clone)]
pub struct Hook {
    /// The command, run through `sh -c` (`cmd /C` on Windows). Its stdout and stderr go to
    /// stderr; it gets `PKI_RENEW_PHASE` (`renew` or `rollback`), `PKI_RENEW_CERT`,
    /// `PKI_RENEW_OLD_SERIAL` and `PKI_RENEW_NEW_SERIAL` in its environment.
    pub command: String,
    /// How long it may run before it is killed (and counts as failed).
    pub timeout: StdDuration,
}

/// How the caller checks the gateway once the hook has run.
pub struct Verify<'a> {
    /// Checks the gateway once: does it serve this new certificate, and does a device accept
    /// it?
    pub check: &'a dyn Fn(&Issued) -> GatewayCheck,
    /// How long to keep asking while the gateway still serves the old certificate or does not
    /// answer (it may be reloading).
    pub wait: StdDuration,
}

impl std::fmt::Debug for Verify<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verify")
            .field("wait", &self.wait)
            .finish_non_exhaustive()
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

/// What confirms a renewal before the register is committed.
#[derive(Debug, Default)]
pub struct Confirm<'a> {
    /// Run once the new files are staged, before they are put in place: a failure changes
    /// nothing.
    pub publish: Option<Publish<'a>>,
    /// The hook.
    pub hook: Option<Hook>,
    /// The gateway check.
    pub verify: Option<Verify<'a>>,
}

/// When a hook ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookPhase {
    /// After the new files were put in place.
    Renew,
    /// After the old files were put back.
    Rollback,
}

impl HookPhase {
    fn as_str(self) -> &'static str {
        match self {
            HookPhase::Renew => "renew",
            HookPhase::Rollback => "rollback",
        }
    }
}

/// How a hook ran.
#[derive(Debug, Clone, Serialize)]
pub struct HookRun {
    /// When it ran.
    pub phase: HookPhase,
    /// The command.
    pub command: String,
    /// It exited with status 0 in time.
    pub ok: bool,
    /// Its exit status, when it exited.
    pub exit_code: Option<i32>,
    /// It was killed after the timeout.
    pub timed_out: bool,
    /// Why it could not be started, or the signal that ended it.
    pub error: Option<String>,
    /// How long it ran.
    pub seconds: f64,
}

impl HookRun {
    /// The run in a few words: `exit 0 after 0.1 s`, `timed out after 60 s`.
    pub fn describe(&self) -> String {
        let took = format!("{:.1} s", self.seconds);
        match (&self.exit_code, self.timed_out, &self.error) {
            (_, true, _) => format!("timed out after {took} and was killed"),
            (Some(c), _, _) => format!("exit {c} after {took}"),
            (None, _, Some(e)) => e.clone(),
            (None, _, None) => format!("ended after {took}"),
        }
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

/// Finds what `selection` names and plans each renewal. A single certificate that cannot be
/// renewed is an error (a file not in the register names `--adopt`); of `--expiring`, it is
/// [`Plan::skipped`].
pub fn plan(ca: &CaDir, selection: &Selection, opts: &Options) -> Result<Plan> {
    let mut plan = Plan::default();
    match selection {
        Selection::File(path) => {
            let cert = read_first_cert(path)?;
            let by_sha = Query {
                sha256: Some(cert.sha256_hex()),
                ..Query::default()
            };
            let renewal = match ca.records(&by_sha)?.into_iter().next() {
                Some(row) => renewal_of(ca, row, cert, false, opts, Vec::new())?,
                None if opts.adopt => adopt(ca, path, cert, opts)?,
                None => {
                    return Err(Error::NotRegistered {
                        input: path.display().to_string(),
                        sha256: cert.sha256_hex(),
                    });
                }
            };
            plan.renewals.push(renewal);
        }
        Selection::CommonName(cn) => {
            let query = Query {
                common_name: Some(cn.clone()),
                status: Some(Status::Issued),
                ..Query::default()
            };
            // The pattern also matches CNs with `*`, `?` or `[` where `cn` has them: exact only.
            let mut rows: Vec<Record> = ca
                .records(&query)?
                .into_iter()
                .filter(|r| &r.common_name == cn)
                .collect();
            // Rows come by notAfter: the last expires last.
            let Some(row) = rows.pop() else {
                return Err(Error::UnknownName {
                    name: cn.clone(),
                    register: ca.register_location().to_string(),
                });
            };
            let mut notes = Vec::new();
            if !rows.is_empty() {
                notes.push(format!(
                    "{} certificates in service have the CN {cn:?}: renewing the one that expires last (serial {}, {})",
                    rows.len() + 1,
                    row.serial,
                    row.path
                ));
            }
            let cert = read_first_cert(&ca.file_of(&row.path))?;
            plan.renewals
                .push(renewal_of(ca, row, cert, false, opts, notes)?);
        }
        Selection::Expiring(within) => {
            // What is in service: a proof-of-possession certificate is never renewed.
            let query = Query {
                status: Some(Status::Issued),
                expires_by: Some(opts.now + *within),
                not_profiles: crate::policy::THROWAWAY_PROFILES
                    .iter()
                    .map(|p| p.to_string())
                    .collect(),
                ..Query::default()
            };
            for row in ca.records(&query)? {
                let skip = |row: &Record, e: Error| Skipped {
                    subject: row.subject.clone(),
                    serial: row.serial.clone(),
                    path: row.path.clone(),
                    reason: e.to_string(),
                };
                match read_first_cert(&ca.file_of(&row.path))
                    .and_then(|cert| renewal_of(ca, row.clone(), cert, false, opts, Vec::new()))
                {
                    Ok(r) => plan.renewals.push(r),
                    Err(e) => plan.skipped.push(skip(&row, e)),
                }
            }
            plan.renewals
                .sort_by_key(|r| (rank(r.profile), r.old.not_after));
        }
    }
    Ok(plan)
}

/// CAs before what they sign.
fn rank(p: Profile) -> u8 {
    rank_name(p.name())
}

/// CAs before what they sign, by profile name.
fn rank_name(profile: &str) -> u8 {
    match profile {
        "root-ca" | "root" => 0,
        "intermediate-ca" | "intermediate" => 1,
        "edge-ca" => 2,
        _ => 3,
    }
}

/// Plans the renewal of the certificate `cert` whose register row is `row`.
fn renewal_of(
    ca: &CaDir,
    row: Record,
    cert: Certificate,
    adopt: bool,
    opts: &Options,
    notes: Vec<String>,
) -> Result<Renewal> {
    if row.status != Status::Issued {
        return Err(Error::NotInService {
            subject: row.subject.clone(),
            serial: row.serial.clone(),
            status: row.status.as_str(),
            superseded_by: row.superseded_by.clone(),
        });
    }
    let refuse = |why: String| Error::Refused(Refusal::Other(why));
    let profile = profile_named(&row.profile, &cert).ok_or_else(|| {
        refuse(format!(
            "{}: pki does not renew certificates of the profile {:?}",
            row.subject, row.profile
        ))
    })?;
    if !profile.in_service() {
        return Err(refuse(format!(
            "{}: a proof-of-possession certificate is not renewed; make a new one with `pki create-verification-cert`",
            row.subject
        )));
    }
    let subject = subject_of(&cert)?;
    let sans = sans_of(&cert)?;
    let key_type = key_type_of_spki(cert.x509().public_key())
        .map_err(|e| refuse(format!("{}: {e}", row.subject)))?;
    let placement = ca.placement(&row.path)?;
    let prefix = match &placement {
        // The file's name stands for the prefix (a token's key label, the messages).
        Some(p) => placed_prefix(&p.cert),
        None => prefix_of(ca, &row.path, profile, &subject.common_name),
    };
    let issuer_prefix = if profile.is_self_signed() {
        None
    } else {
        Some(issuer_prefix(ca, &row, &cert)?)
    };
    let days = opts
        .days
        .unwrap_or_else(|| lifetime_days(row.not_before, row.not_after));
    Ok(Renewal {
        adopt,
        prefix: prefix.clone(),
        profile,
        key_type,
        days,
        issuer_key: issuer_prefix.as_deref().map(|p| ca.key_record(p)),
        issuer_prefix,
        key: match &placement {
            Some(p) => KeyRecord::File(p.key.clone()),
            None => ca.key_record(&prefix),
        },
        reuse_key: opts.reuse_key,
        placement,
        notes,
        subject,
        sans,
        force: opts.force,
        old: row,
        old_cert: cert,
    })
}

/// The original's lifetime (notAfter - notBefore, less pki's back-dating) in whole days, at
/// least one.
fn lifetime_days(not_before: OffsetDateTime, not_after: OffsetDateTime) -> u32 {
    let seconds = (not_after - not_before - DEFAULT_BACKDATE).whole_seconds();
    let days = (seconds + 43_200).div_euclid(86_400);
    u32::try_from(days.max(1)).unwrap_or(u32::MAX)
}

/// Records a certificate the register does not know, when a CA of the directory signed it.
fn adopt(ca: &CaDir, path: &Path, cert: Certificate, opts: &Options) -> Result<Renewal> {
    let input = path.display().to_string();
    let Some(issuer) = ca
        .ca_certificates()
        .into_iter()
        .find(|c| cert.is_signed_by(c))
    else {
        return Err(Error::NotIssuedHere {
            input,
            dir: ca.path().to_owned(),
        });
    };
    let profile = infer_profile(&cert).ok_or_else(|| {
        Error::Refused(Refusal::Other(format!(
            "{input}: its extensions match no profile pki renews (root, intermediate, edge CA, server, device)"
        )))
    })?;
    let row = ca.record_of(&cert, &Facts::of(&cert), issuer.sha256_hex(), profile, path);
    renewal_of(
        ca,
        row,
        cert,
        true,
        opts,
        vec![format!(
            "{input} was not in the register: recorded (adopted)"
        )],
    )
}

/// A profile from its register name, with the path length read from the certificate.
fn profile_named(name: &str, cert: &Certificate) -> Option<Profile> {
    let pathlen = pathlen(cert);
    Some(match name {
        "root-ca" | "root" => Profile::RootCa { pathlen },
        "intermediate-ca" | "intermediate" => Profile::IntermediateCa { pathlen },
        "edge-ca" => Profile::EdgeCa,
        "server" => Profile::Server,
        "device" => Profile::Device,
        "self-signed-device" => Profile::SelfSignedDevice,
        "verification" => Profile::Verification,
        _ => return None,
    })
}

fn pathlen(cert: &Certificate) -> Option<u8> {
    cert.x509()
        .basic_constraints()
        .ok()
        .flatten()
        .and_then(|bc| bc.value.path_len_constraint)
        .and_then(|n| u8::try_from(n).ok())
}

/// The profile whose extensions a certificate made elsewhere carries.
fn infer_profile(cert: &Certificate) -> Option<Profile> {
    let x = cert.x509();
    let eku = x
        .extended_key_usage()
        .ok()
        .flatten()
        .map(|e| e.value.clone());
    let crl_sign = x
        .key_usage()
        .ok()
        .flatten()
        .is_some_and(|k| k.value.crl_sign());
    let pathlen = pathlen(cert);
    if cert.is_ca() {
        return Some(if cert.is_self_issued() {
            if eku.is_some_and(|e| e.client_auth) {
                Profile::SelfSignedDevice
            } else {
                Profile::RootCa { pathlen }
            }
        } else if pathlen == Some(0) && !crl_sign {
            Profile::EdgeCa
        } else {
            Profile::IntermediateCa { pathlen }
        });
    }
    match eku {
        Some(e) if e.server_auth => Some(Profile::Server),
        Some(e) if e.client_auth => Some(Profile::Device),
        _ => None,
    }
}

/// The subject as pki issues it (O, OU, CN); anything else is refused.
fn subject_of(cert: &Certificate) -> Result<Subject> {
    let mut s = Subject::default();
    let x = cert.x509();
    let refuse = |what: String| {
        Error::Refused(Refusal::Other(format!(
            "{}: the subject holds {what}, which pki cannot reproduce",
            cert.subject()
        )))
    };
    for attr in x.subject().iter_attributes() {
        let value = attr
            .as_str()
            .map_err(|_| refuse("a value that is not text".into()))?
            .to_owned();
        let slot = match attr.attr_type().to_id_string().as_str() {
            oid::COMMON_NAME if s.common_name.is_empty() => &mut s.common_name,
            oid::ORGANIZATION_NAME if s.organization.is_none() => {
                s.organization.insert(String::new())
            }
            oid::ORGANIZATIONAL_UNIT_NAME if s.organizational_unit.is_none() => {
                s.organizational_unit.insert(String::new())
            }
            oid => return Err(refuse(format!("the attribute {oid}"))),
        };
        *slot = value;
    }
    if s.common_name.is_empty() {
        return Err(refuse("no CN".into()));
    }
    Ok(s)
}

/// The SANs (DNS names and IP addresses); any other kind is refused.
fn sans_of(cert: &Certificate) -> Result<Vec<SanEntry>> {
    let x = cert.x509();
    let Ok(Some(san)) = x.subject_alternative_name() else {
        return Ok(Vec::new());
    };
    san.value
        .general_names
        .iter()
        .map(|n| match n {
            GeneralName::DNSName(d) => Ok(SanEntry::Dns((*d).to_owned())),
            GeneralName::IPAddress(b) => pki_x509::text::ip_from_bytes(b)
                .map(SanEntry::Ip)
                .ok_or_else(|| bad_san(cert, "an IP address of odd length")),
            other => Err(bad_san(cert, &format!("{other:?}"))),
        })
        .collect()
}

fn bad_san(cert: &Certificate, what: &str) -> Error {
    Error::Refused(Refusal::Other(format!(
        "{}: the subject alternative names hold {what}, which pki cannot reproduce",
        cert.subject()
    )))
}

/// The prefix of the standard paths: the register's `certs/<prefix>.cert.pem`, else the
/// profile's name for the CN.
fn prefix_of(ca: &CaDir, path: &str, profile: Profile, cn: &str) -> String {
    if let Some(p) = ca.prefix_in_certs(path) {
        return p;
    }
    match profile {
        Profile::RootCa { .. } => ROOT_PREFIX.to_owned(),
        Profile::IntermediateCa { .. } => INTERMEDIATE_PREFIX.to_owned(),
        Profile::EdgeCa => edge_ca_prefix(crate::policy::edge_ca_name(cn)),
        Profile::Server => server_prefix(cn),
        _ => device_prefix(cn),
    }
}

/// The CA that signs the renewal: the one whose certificate the row's `issuer_sha256` names,
/// or (when that CA has been renewed since, or the row does not say) the CA of the directory
/// with the original's issuer name.
fn issuer_prefix(ca: &CaDir, row: &Record, cert: &Certificate) -> Result<String> {
    let issuer_name = cert.x509().issuer().as_raw().to_vec();
    let mut by_name = Vec::new();
    for prefix in ca.ca_prefixes() {
        let Ok(c) = read_first_cert(&ca.cert_path(&prefix)) else {
            continue;
        };
        if row.issuer_sha256.as_deref() == Some(c.sha256_hex().as_str()) {
            return Ok(prefix);
        }
        if c.x509().subject().as_raw() == issuer_name.as_slice() {
            by_name.push(prefix);
        }
    }
    match by_name.len() {
        1 => Ok(by_name.remove(0)),
        0 => Err(Error::Refused(Refusal::Other(format!(
            "{}: its issuer ({}) is no CA of {} any more; it cannot be renewed here",
            row.subject,
            row.issuer,
            ca.path().display()
        )))),
        _ => Err(Error::Refused(Refusal::Other(format!(
            "{}: several CAs of {} are named {} ({}); which one signed is not known",
            row.subject,
            ca.path().display(),
            row.issuer,
            by_name.join(", ")
        )))),
    }
}

/// Why the step run with the new files in place failed.
enum Why {
    Hook,
    Verify,
    Register(pki_register::Error),
}

/// Renews one certificate as planned (see the module's documentation). `Err` when nothing was
/// changed; a renewal the hook or the gateway check refused is an [`Outcome`] with
/// [`RenewalResult::RolledBack`].
pub fn execute(
    ca: &CaDir,
    r: &Renewal,
    keys: &Keys,
    confirm: &Confirm<'_>,
    now: OffsetDateTime,
) -> Result<Outcome> {
    let mut notes = r.notes.clone();
    // The issuer, read now: a CA renewed earlier in the same run signs.
    let issuer = match (&r.issuer_prefix, &keys.issuer) {
        (None, _) => None,
        (Some(p), Some(key)) => {
            let path = ca.cert_path(p).display().to_string();
            Some(match key {
                GivenKey::File(k) => Issuer::new(
                    ca.chain_of(p)?,
                    k,
                    &path,
                    &ca.key_path(p).display().to_string(),
                )?,
                GivenKey::Token { signer, uri } => {
                    Issuer::with_signer(ca.chain_of(p)?, signer.clone(), &path, uri)?
                }
            })
        }
        (Some(p), None) => {
            return Err(Error::Refused(Refusal::Other(format!(
                "the key of the issuing CA ({}) was not given",
                ca.key_record(p).path().display()
            ))));
        }
    };
    let issuer_renewed = match (&issuer, &r.old.issuer_sha256) {
        (Some(i), Some(sha)) => &i.certificate().sha256_hex() != sha,
        _ => false,
    };
    if let (true, Some(p)) = (issuer_renewed, &r.issuer_prefix) {
        notes.push(format!(
            "the CA that signed the original has been renewed since: signed by the CA now at {}",
            ca.cert_path(p).display()
        ));
    }
    let generated;
    let key = match (&keys.own, r.reuse_key, &keys.fresh) {
        (Some(k), true, _) => {
            if k.public_key_raw()? != r.old_cert.public_key_raw() {
                return Err(Error::KeyMismatch {
                    key: r.key.path().display().to_string(),
                    cert: r.old.path.clone(),
                });
            }
            k
        }
        (None, true, _) => {
            return Err(Error::Refused(Refusal::Other(format!(
                "--reuse-key: the key {} was not given",
                r.key.path().display()
            ))));
        }
        (_, false, Some(made)) => made,
        (_, false, None) => {
            if let KeyRecord::Token(record) = &r.key {
                return Err(Error::Refused(Refusal::Other(format!(
                    "{}: the key is on a token ({}): its fresh key must be made there",
                    r.old.subject,
                    record.display()
                ))));
            }
            generated = GivenKey::File(Box::new(PrivateKey::generate(r.key_type)?));
            &generated
        }
    };
    let mut req = Request::new(r.profile, r.subject.clone(), now);
    req.sans = r.sans.clone();
    req.days = r.days;
    // The same CRL distribution point as the original, whatever the directory's default now.
    req.crl_url = crate::crl::distribution_point_of(&r.old_cert);
    let issued = issue(&req, &key.subject_key(), issuer.as_ref())?;
    let capped = capped_by(ca, r, issuer.as_ref(), &issued, now)?;
    if capped.is_none() {
        notes.extend(issued.warnings.iter().cloned());
    }
    same_as_original(&r.old_cert, &issued.certificate)?;
    let pem;
    let stored = match key {
        _ if r.reuse_key => StoredKey::None,
        GivenKey::File(k) => {
            pem = k.to_pem();
            StoredKey::Pem(pem.as_bytes())
        }
        GivenKey::Token { uri, .. } => StoredKey::Uri(uri),
    };
    let mut outcome = put_in_place(ca, r, &issued, stored, confirm, notes, issuer_renewed)?;
    outcome.capped = capped;
    Ok(outcome)
}

/// Whether the issuer cut the renewed certificate's validity short by more than a day (the
/// normal case of a certificate renewed moments after its CA with the same lifetime is not
/// worth a word); refused when the renewal would then gain nothing on the old certificate.
fn capped_by(
    ca: &CaDir,
    r: &Renewal,
    issuer: Option<&Issuer>,
    issued: &Issued,
    now: OffsetDateTime,
) -> Result<Option<Capped>> {
    let Some(issuer) = issuer else {
        return Ok(None);
    };
    let wanted = now + Duration::days(i64::from(r.days));
    let got = issued.certificate.not_after();
    if wanted - got <= Duration::days(1) {
        return Ok(None);
    }
    let role = r
        .issuer_prefix
        .as_deref()
        .and_then(|p| CaRole::of_prefix(ca, p));
    let label = role
        .as_ref()
        .map_or_else(|| issuer.certificate().subject(), ToString::to_string);
    if got <= r.old.not_after + Duration::days(1) {
        return Err(Error::Refused(Refusal::RenewalGainsNothing {
            subject: r.old.subject.clone(),
            ca: label,
            role,
            ca_not_after: got,
        }));
    }
    Ok(Some(Capped {
        ca: label,
        role,
        ca_not_after: got,
        days_lost: (wanted - got).whole_days(),
    }))
}

/// Refuses a renewed certificate whose subject or extensions differ from the original's
/// (apart from the key identifiers).
pub fn same_as_original(old: &Certificate, new: &Certificate) -> Result<()> {
    let refuse = |what: String| {
        Error::Refused(Refusal::Other(format!(
            "{}: the renewed certificate would differ from the original in {what}; renew it by issuing anew",
            old.subject()
        )))
    };
    if old.subject() != new.subject() {
        return Err(refuse(format!("its subject ({})", new.subject())));
    }
    let exts = |c: &Certificate| -> Vec<(String, bool, Vec<u8>)> {
        c.x509()
            .extensions()
            .iter()
            .map(|e| (e.oid.to_id_string(), e.critical, e.value.to_vec()))
            .filter(|(oid, _, _)| !KEY_IDENTIFIERS.contains(&oid.as_str()))
            .collect()
    };
    let (a, b) = (exts(old), exts(new));
    if a != b {
        let differs = a
            .iter()
            .chain(&b)
            .find(|e| !a.contains(e) || !b.contains(e))
            .map_or_else(
                || "the order of its extensions".to_owned(),
                |e| format!("the extension {}", e.0),
            );
        return Err(refuse(differs));
    }
    Ok(())
}

/// Where the new files go, how they are written, and the names the replaced files are kept
/// under (in the same directories).
struct Paths {
    cert: PathBuf,
    /// The full chain: the CA directory's `<prefix>-full-chain.cert.pem` (a placed
    /// certificate's own file holds its chain).
    chain: Option<PathBuf>,
    key: PathBuf,
    kept_cert: String,
    kept_chain: String,
    kept_key: String,
    /// The certificate's file holds its chain too (a placed certificate, as it was written).
    cert_holds_chain: bool,
    cert_attrs: Attrs,
    key_attrs: Attrs,
}

/// How a file is written: its mode, and the owner and group it is given (a file put where
/// another user's program reads it keeps the owner of the file it replaces).
#[derive(Debug, Clone, Copy)]
struct Attrs {
    mode: u32,
    owner: Option<(u32, u32)>,
}

impl Attrs {
    const PUBLIC: Attrs = Attrs {
        mode: PUBLIC_MODE,
        owner: None,
    };
    const KEY: Attrs = Attrs {
        mode: KEY_MODE,
        owner: None,
    };

    /// The mode (at most `max`) and owner of the file at `path`, when there is one (else
    /// `default`). The owner is kept only when it is not the caller's.
    fn of(path: &Path, default: Attrs, max: u32) -> Attrs {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if let Ok(m) = std::fs::metadata(path) {
                let me = (
                    rustix::process::geteuid().as_raw(),
                    rustix::process::getegid().as_raw(),
                );
                let theirs = (m.uid(), m.gid());
                return Attrs {
                    mode: m.mode() & max,
                    owner: (theirs != me).then_some(theirs),
                };
            }
        }
        let _ = (path, max);
        default
    }
}

impl Paths {
    /// The paths of `prefix`'s files, its key's as `key` is stored (a PEM, or a token's URI).
    fn new(ca: &CaDir, prefix: &str, serial: &str, key: &StoredKey<'_>) -> Paths {
        let kept = crate::store::kept_prefix(prefix, serial);
        let (key, kept_key) = match key {
            StoredKey::Uri(_) => (ca.key_uri_path(prefix), format!("{kept}.key.uri")),
            StoredKey::Pem(_) | StoredKey::None => (ca.key_path(prefix), format!("{kept}.key.pem")),
        };
        Paths {
            cert: ca.cert_path(prefix),
            chain: Some(ca.full_chain_path(prefix)),
            key,
            kept_cert: format!("{kept}.cert.pem"),
            kept_chain: format!("{kept}-full-chain.cert.pem"),
            kept_key,
            cert_holds_chain: false,
            cert_attrs: Attrs::PUBLIC,
            key_attrs: Attrs::KEY,
        }
    }

    /// The paths of a placed certificate and key: where they are, kept beside themselves with
    /// the serial before the extension; written with the mode and owner they have (a key is
    /// never readable by others, nor writable by its group).
    fn placed(p: &Placement, serial: &str) -> Paths {
        Paths {
            cert: p.cert.clone(),
            chain: None,
            key: p.key.clone(),
            kept_cert: kept_name(&file_name_of(&p.cert), serial),
            kept_chain: String::new(),
            kept_key: kept_name(&file_name_of(&p.key), serial),
            cert_holds_chain: true,
            cert_attrs: Attrs::of(&p.cert, Attrs::PUBLIC, 0o644),
            key_attrs: Attrs::of(&p.key, Attrs::KEY, 0o640),
        }
    }
}

/// The name a placed file is kept under once replaced: the old serial before its extension
/// (`tedge-certificate.pem` -> `tedge-certificate.<SERIAL>.pem`, `d.cert.pem` ->
/// `d.<SERIAL>.cert.pem`).
fn kept_name(name: &str, serial: &str) -> String {
    for ext in [".cert.pem", ".key.pem"] {
        if let Some(stem) = name.strip_suffix(ext).filter(|s| !s.is_empty()) {
            return format!("{stem}.{serial}{ext}");
        }
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{serial}.{ext}"),
        _ => format!("{name}.{serial}"),
    }
}

/// What stands for the prefix of a placed certificate: its file's name without the extension.
fn placed_prefix(cert: &Path) -> String {
    let name = file_name_of(cert);
    name.strip_suffix(".cert.pem")
        .or_else(|| name.rsplit_once('.').map(|(stem, _)| stem))
        .filter(|s| !s.is_empty())
        .unwrap_or(&name)
        .to_owned()
}

/// Stages `data` as `name` in `dir` written as `attrs` says (`path` names it in messages).
fn stage<'d>(
    dir: &'d files::Dir,
    path: &Path,
    name: &str,
    data: &[u8],
    attrs: Attrs,
) -> Result<files::Staged<'d>> {
    let staged = dir
        .stage(name, data, attrs.mode)
        .map_err(|e| Error::io(path, e))?;
    if let Some((uid, gid)) = attrs.owner {
        staged.set_owner(uid, gid).map_err(|e| {
            Error::io(
                path,
                std::io::Error::new(
                    e.kind(),
                    format!("cannot give it the owner {uid}:{gid} of the file it replaces: {e}"),
                ),
            )
        })?;
    }
    Ok(staged)
}

/// The transaction: files, hook, check, register; or the rollback.
fn put_in_place(
    ca: &CaDir,
    r: &Renewal,
    issued: &Issued,
    stored: StoredKey<'_>,
    confirm: &Confirm<'_>,
    notes: Vec<String>,
    issuer_renewed: bool,
) -> Result<Outcome> {
    let key_bytes = match stored {
        StoredKey::Pem(b) => Some(b),
        StoredKey::Uri(u) => Some(u.as_bytes()),
        StoredKey::None => None,
    };
    let io = |p: &Path| {
        let p = p.to_owned();
        move |e| Error::io(p, e)
    };
    // What is at the certificate's path now: normally the certificate renewed.
    let standard = match &r.placement {
        Some(p) => p.cert.clone(),
        None => ca.cert_path(&r.prefix),
    };
    let current = read_first_cert(&standard).ok();
    if let Some(c) = &current
        && c.sha256_hex() != r.old_cert.sha256_hex()
        && !r.force
    {
        return Err(Error::Refused(Refusal::Other(format!(
            "{} holds another certificate (serial {}) than the one renewed (serial {}); --force renews anyway and keeps it beside the new one",
            standard.display(),
            Facts::of(c).serial,
            r.old.serial
        ))));
    }
    let serial = current
        .as_ref()
        .map_or_else(|| r.old.serial.clone(), |c| Facts::of(c).serial);
    let paths = match &r.placement {
        Some(p) => Paths::placed(p, &serial),
        None => Paths::new(ca, &r.prefix, &serial, &stored),
    };
    let with_chain = issued.chain.len() > 1;
    let split = |p: &Path| files::split(p).map_err(io(p));
    let (cert_dir, _) = split(&paths.cert)?;
    let (key_dir, _) = split(&paths.key)?;
    let (certs, private) = match &r.placement {
        Some(_) => (
            files::Dir::open(&cert_dir).map_err(io(&paths.cert))?,
            files::Dir::open(&key_dir).map_err(io(&paths.key))?,
        ),
        None => (
            ca.sub_dir("certs").map_err(io(&paths.cert))?,
            ca.private_dir().map_err(io(&paths.key))?,
        ),
    };

    let mut register = ca.register()?;
    // The register's transaction is the directory's write lock: held until the hook and the
    // check have confirmed the renewal.
    let mut tx = register.transaction()?;
    let mut t = files::Transaction::default();
    // The replaced files, kept under their serial's name.
    let kept = Kept {
        cert: keep(
            &certs,
            &cert_dir,
            &paths.cert,
            &paths.kept_cert,
            paths.cert_attrs,
            r.force,
            &mut t,
        )?,
        full_chain: match &paths.chain {
            Some(chain) => keep(
                &certs,
                &cert_dir,
                chain,
                &paths.kept_chain,
                Attrs::PUBLIC,
                r.force,
                &mut t,
            )?,
            None => None,
        },
        key: match key_bytes {
            Some(_) => keep(
                &private,
                &key_dir,
                &paths.key,
                &paths.kept_key,
                paths.key_attrs,
                r.force,
                &mut t,
            )?,
            None => None,
        },
    };
    // The new files at the certificate's paths.
    if let Some(pem) = key_bytes {
        t.add(stage(
            &private,
            &paths.key,
            &file_name_of(&paths.key),
            pem,
            paths.key_attrs,
        )?);
    }
    let cert_pem = if paths.cert_holds_chain {
        pem_bundle(&issued.chain)
    } else {
        issued.certificate.to_pem()
    };
    t.add(stage(
        &certs,
        &paths.cert,
        &file_name_of(&paths.cert),
        cert_pem.as_bytes(),
        paths.cert_attrs,
    )?);
    let chain = paths.chain.as_ref().filter(|_| with_chain);
    if let Some(chain) = chain {
        t.add(stage(
            &certs,
            chain,
            &file_name_of(chain),
            pem_bundle(&issued.chain).as_bytes(),
            Attrs::PUBLIC,
        )?);
    }
    let rollover = matches!(r.profile, Profile::RootCa { .. });
    let transition = cert_dir.join(format!("{}.transition.pem", r.prefix));
    if rollover {
        let both = pem_bundle(&[issued.certificate.clone(), r.old_cert.clone()]);
        t.add(stage(
            &certs,
            &transition,
            &file_name_of(&transition),
            both.as_bytes(),
            Attrs::PUBLIC,
        )?);
    }
    // The register: the old row superseded (and where its file is kept), the new one inserted.
    let new_sha = issued.certificate.sha256_hex();
    let record = ca.issued_record(issued, r.profile, &paths.cert);
    if r.adopt {
        tx.insert(std::slice::from_ref(&r.old))?;
    }
    if !tx.supersede(&r.old.sha256, Some(&new_sha))? {
        return Err(Error::Refused(Refusal::Other(format!(
            "{} (serial {}) is no longer in service in the register: another pki renewed or revoked it",
            r.old.subject, r.old.serial
        ))));
    }
    if current.as_ref().map(Certificate::sha256_hex).as_deref() == Some(r.old.sha256.as_str()) {
        let kept_path = match &r.placement {
            Some(_) => ca.register_path(&cert_dir.join(&paths.kept_cert)),
            None => format!("certs/{}", paths.kept_cert),
        };
        tx.set_path(&r.old.sha256, &kept_path)?;
    }
    tx.insert(std::slice::from_ref(&record))?;
    // Whoever must trust the new certificate before it is in place (a Cumulocity tenant,
    // `--c8y-upload`): a failure changes nothing.
    if let Some(p) = &confirm.publish
        && let Err(why) = (p.run)(issued)
    {
        return Err(Error::Refused(Refusal::Other(format!(
            "{why}; nothing was renewed"
        ))));
    }

    // The files as they are before the renewal, to tell after a rollback whether they are
    // back (a rollback hook can remove or change them).
    let watched: Vec<&Path> = [Some(&paths.cert), paths.chain.as_ref(), Some(&paths.key)]
        .into_iter()
        .flatten()
        .map(PathBuf::as_path)
        .collect();
    let before: Vec<(PathBuf, Option<zeroize::Zeroizing<Vec<u8>>>)> = watched
        .iter()
        .map(|p| (p.to_path_buf(), read_as_is(p)))
        .collect();
    let env = [
        ("PKI_RENEW_CERT", paths.cert.display().to_string()),
        ("PKI_RENEW_OLD_SERIAL", r.old.serial.clone()),
        ("PKI_RENEW_NEW_SERIAL", issued.facts.serial.clone()),
    ];
    let mut hook_run = None;
    let mut check = None;
    let committed = t.commit_then(true, || {
        if let Some(h) = &confirm.hook {
            let run = run_hook(h, HookPhase::Renew, &env);
            let ok = run.ok;
            hook_run = Some(run);
            if !ok {
                return Err(Why::Hook);
            }
        }
        if let Some(v) = &confirm.verify {
            let c = check_until(v, issued);
            let ok = c.passed;
            check = Some(c);
            if !ok {
                return Err(Why::Verify);
            }
        }
        tx.commit().map_err(Why::Register)
    });
    let mut outcome = Outcome {
        result: RenewalResult::Renewed,
        profile: r.profile.name(),
        subject: r.old.subject.clone(),
        old: CertBrief::of(&r.old_cert),
        new: Some(CertBrief::of(&issued.certificate)),
        issuer: issued.facts.issuer.clone(),
        issuer_renewed,
        key_reused: key_bytes.is_none(),
        files: None,
        kept: Kept::default(),
        hook: hook_run,
        verification: check,
        rollback_hook: None,
        not_restored: Vec::new(),
        rollover: None,
        still_under_old: None,
        notes,
        capped: None,
        error: None,
    };
    match committed {
        Ok(()) => {}
        Err(files::Failed::Files(e)) => return Err(Error::io(&paths.cert, e)),
        Err(files::Failed::Then(why)) => {
            outcome.result = RenewalResult::RolledBack;
            outcome.error = Some(match &why {
                Why::Hook => format!(
                    "the hook failed ({})",
                    outcome
                        .hook
                        .as_ref()
                        .map(HookRun::describe)
                        .unwrap_or_default()
                ),
                Why::Verify => format!(
                    "the gateway check failed: {}",
                    outcome
                        .verification
                        .as_ref()
                        .map(|c| c.detail.clone())
                        .unwrap_or_default()
                ),
                Why::Register(e) => format!("the register could not be written: {e}"),
            });
            // The old files are back: the gateway must serve them again.
            if let (Some(h), Some(_)) = (&confirm.hook, &outcome.hook) {
                outcome.rollback_hook = Some(run_hook(h, HookPhase::Rollback, &env));
            }
            outcome.not_restored = before
                .into_iter()
                .filter(|(p, was)| read_as_is(p) != *was)
                .map(|(p, _)| p)
                .collect();
            return Ok(outcome);
        }
    }
    outcome.files = Some(Written {
        cert: paths.cert.clone(),
        full_chain: chain.cloned(),
        key: key_bytes.map(|_| paths.key.clone()),
    });
    outcome.kept = kept;
    if rollover {
        outcome.rollover = Some(Rollover {
            transition_bundle: transition,
            to_reissue: under(ca, &r.old.sha256)?,
        });
    } else if r.profile.is_ca() {
        let q = Query {
            issuer_sha256: Some(r.old.sha256.clone()),
            status: Some(Status::Issued),
            ..Query::default()
        };
        outcome.still_under_old = Some(ca.register()?.count(&q)?);
    }
    Ok(outcome)
}

/// A file's bytes, `None` when it cannot be read (missing, or larger than any file pki keeps
/// there): what a rollback compares.
fn read_as_is(path: &Path) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(1 << 24)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(zeroize::Zeroizing::new(bytes))
}

/// Stages a copy of `from` (when it exists) as `name` in `dir`, written as `attrs` says: a
/// replaced file, kept. An existing `name` is refused unless `force`.
fn keep<'d>(
    dir: &'d files::Dir,
    dir_path: &Path,
    from: &Path,
    name: &str,
    attrs: Attrs,
    force: bool,
    t: &mut files::Transaction<'d>,
) -> Result<Option<PathBuf>> {
    let Ok(bytes) = dir.read_bounded(&file_name_of(from), 1 << 24) else {
        return Ok(None);
    };
    let to = dir_path.join(name);
    CaDir::check_free(&[&to], force)?;
    t.add(stage(dir, &to, name, &bytes, attrs)?);
    Ok(Some(to))
}

/// Every certificate in service under the CA with SHA-256 `root` (its children, theirs, ...,
/// through CAs renewed since).
fn under(ca: &CaDir, root: &str) -> Result<Vec<Reissue>> {
    let mut register = ca.register()?;
    let mut out = Vec::new();
    let mut todo = vec![root.to_owned()];
    while let Some(sha) = todo.pop() {
        // Superseded CAs too: what they signed before their renewal is still in service.
        let q = Query {
            issuer_sha256: Some(sha),
            ..Query::default()
        };
        for row in register.records(&q)? {
            if row.sha256 == root {
                continue;
            }
            if rank_name(&row.profile) < 3 {
                todo.push(row.sha256.clone());
            }
            if row.status != Status::Issued {
                continue;
            }
            out.push(Reissue {
                profile: row.profile,
                subject: row.subject,
                serial: row.serial,
                not_after: row.not_after,
                path: row.path,
            });
        }
    }
    out.sort_by_key(|r| (rank_name(&r.profile), r.not_after));
    Ok(out)
}

/// Asks the gateway until it serves the new certificate, or `wait` has passed.
fn check_until(v: &Verify<'_>, issued: &Issued) -> GatewayCheck {
    let deadline = Instant::now() + v.wait;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut c = (v.check)(issued);
        c.attempts = attempts;
        if c.passed || c.new_served || Instant::now() >= deadline {
            return c;
        }
        std::thread::sleep(RECHECK);
    }
}

/// Runs the hook through the shell, its output to stderr, killed after its timeout.
fn run_hook(hook: &Hook, phase: HookPhase, env: &[(&str, String)]) -> HookRun {
    let start = Instant::now();
    let mut run = HookRun {
        phase,
        command: hook.command.clone(),
        ok: false,
        exit_code: None,
        timed_out: false,
        error: None,
        seconds: 0.0,
    };
    // The hook gets the operator's environment (PATH, a service manager's variables) but never
    // pki's secrets (`child_command`).
    let mut cmd = shell(&hook.command);
    cmd.stdin(Stdio::null()).stderr(Stdio::inherit());
    cmd.env("PKI_RENEW_PHASE", phase.as_str());
    for (k, v) in env {
        cmd.env(k, v);
    }
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::process::CommandExt;
        // stdout to stderr: pki's stdout is its report.
        match std::io::stderr().as_fd().try_clone_to_owned() {
            Ok(fd) => cmd.stdout(Stdio::from(fd)),
            Err(_) => cmd.stdout(Stdio::null()),
        };
        // Its own process group, so that a timeout kills what it started too.
        cmd.process_group(0);
    }
    #[cfg(not(unix))]
    cmd.stdout(Stdio::inherit());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            run.error = Some(format!("could not be started: {e}"));
            return run;
        }
    };
    let deadline = start + hook.timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(StdDuration::from_millis(20))
            }
            Ok(None) => break None,
            Err(e) => {
                run.error = Some(format!("could not be waited for: {e}"));
                break None;
            }
        }
    };
    run.seconds = start.elapsed().as_secs_f64();
    match status {
        Some(s) => {
            run.exit_code = s.code();
            run.ok = s.success();
            if s.code().is_none() {
                run.error = Some(format!("ended by a signal ({s})"));
            }
        }
        None => {
            run.timed_out = run.error.is_none();
            kill(&mut child);
        }
    }
    run
}

fn shell(command: &str) -> Command {
    #[cfg(unix)]
    {
        let mut c = child_command("sh");
        c.arg("-c").arg(command);
        c
    }
    #[cfg(not(unix))]
    {
        let mut c = child_command("cmd");
        c.arg("/C").arg(command);
        c
    }
}

/// Kills the hook and what it started (its process group).
fn kill(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hooks of the test below in the platform's shell (sh; cmd on Windows): the phase
    /// checked, a missing program and its status, a slow hook.
    #[cfg(unix)]
    const SHELL: [&str; 3] = [
        "test \"$PKI_RENEW_PHASE\" = renew",
        "/nonexistent/hook",
        "sleep 30",
    ];
    #[cfg(unix)]
    const MISSING_STATUS: i32 = 127;
    #[cfg(not(unix))]
    const SHELL: [&str; 3] = [
        r#"if "%PKI_RENEW_PHASE%"=="renew" (exit 0) else (exit 1)"#,
        r"C:\nonexistent\hook",
        "ping -n 30 127.0.0.1 > NUL",
    ];
    #[cfg(not(unix))]
    const MISSING_STATUS: i32 = 9009; // cmd's "is not recognized"

    #[test]
    fn a_hook_runs_through_the_shell_and_its_status_counts() {
        let hook = |c: &str, secs| Hook {
            command: c.into(),
            timeout: StdDuration::from_secs(secs),
        };
        let [phase, missing, slow] = SHELL;
        let ok = run_hook(&hook(phase, 10), HookPhase::Renew, &[]);
        assert!(ok.ok && ok.exit_code == Some(0), "{ok:?}");
        let failed = run_hook(&hook("exit 3", 10), HookPhase::Rollback, &[]);
        assert_eq!((failed.ok, failed.exit_code), (false, Some(3)));
        let missing = run_hook(&hook(missing, 10), HookPhase::Renew, &[]);
        assert_eq!(
            (missing.ok, missing.exit_code),
            (false, Some(MISSING_STATUS))
        );
        let start = Instant::now();
        let slow = run_hook(&hook(slow, 1), HookPhase::Renew, &[]);
        assert!(slow.timed_out && !slow.ok, "{slow:?}");
        assert!(start.elapsed() < StdDuration::from_secs(10));
        assert!(slow.describe().starts_with("timed out after"));
    }

    #[test]
    fn a_placed_file_is_kept_under_its_serial_before_its_extension() {
        assert_eq!(
            kept_name("tedge-certificate.pem", "5A"),
            "tedge-certificate.5A.pem"
        );
        assert_eq!(kept_name("d.cert.pem", "5A"), "d.5A.cert.pem");
        assert_eq!(kept_name("d.key.pem", "5A"), "d.5A.key.pem");
        assert_eq!(
            kept_name("gw.example.com.crt", "5A"),
            "gw.example.com.5A.crt"
        );
        assert_eq!(kept_name("cert", "5A"), "cert.5A");
        assert_eq!(kept_name(".pem", "5A"), ".pem.5A");
        assert_eq!(
            placed_prefix(Path::new("/etc/tedge/device-certs/tedge-certificate.pem")),
            "tedge-certificate"
        );
        assert_eq!(placed_prefix(Path::new("/x/d.cert.pem")), "d");
    }

    #[test]
    fn the_lifetime_is_the_originals_in_days() {
        let at = time::macros::datetime!(2026-01-01 0:00 UTC);
        let days = |n: i64| lifetime_days(at - DEFAULT_BACKDATE, at + Duration::days(n));
        assert_eq!(days(365), 365);
        assert_eq!(days(0), 1);
    }
}
