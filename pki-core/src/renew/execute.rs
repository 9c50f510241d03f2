//! Carrying a planned renewal out: issuing, then in one transaction putting the new files in
//! place and keeping the replaced ones, running the caller's hook and gateway check, and
//! committing the register; or putting everything back (the module `renew`'s documentation).

use std::path::{Path, PathBuf};

use pki_register::{Query, Status};
use time::{Duration, OffsetDateTime};

use super::plan::rank_name;
use super::{
    Capped, CertBrief, Confirm, GivenKey, HookCall, HookPhase, HookRun, KEY_IDENTIFIERS, Kept,
    Keys, Outcome, Reissue, Renewal, RenewalResult, Rollover,
};
use crate::error::{Difference, Error, Refusal, Result};
use crate::issue::{Facts, Issued, Issuer, Request, issue};
use crate::profile::Profile;
use crate::store::{
    CaDir, CaRole, KEY_MODE, KeyRecord, PUBLIC_MODE, Placement, StoredKey, Written, file_name_of,
    pem_bundle, read_first_cert,
};
use pki_x509::Certificate;
use pki_x509::PrivateKey;
use pki_x509::files;

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
            return Err(Error::Refused(Refusal::IssuerKeyNotGiven {
                key: ca.key_record(p).path().to_owned(),
            }));
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
            return Err(Error::Refused(Refusal::OwnKeyNotGiven {
                key: r.key.path().to_owned(),
            }));
        }
        (_, false, Some(made)) => made,
        (_, false, None) => {
            if let KeyRecord::Token(record) = &r.key {
                return Err(Error::Refused(Refusal::FreshKeyOnToken {
                    subject: r.old.subject.clone(),
                    record: record.clone(),
                }));
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
    let refuse = |difference| {
        Error::Refused(Refusal::DiffersFromOriginal {
            subject: old.subject(),
            difference,
        })
    };
    if old.subject() != new.subject() {
        return Err(refuse(Difference::Subject(new.subject())));
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
            .map_or(Difference::ExtensionOrder, |e| {
                Difference::Extension(e.0.clone())
            });
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
pub(super) struct Attrs {
    mode: u32,
    owner: Option<(u32, u32)>,
}

impl Attrs {
    pub(super) const PUBLIC: Attrs = Attrs {
        mode: PUBLIC_MODE,
        owner: None,
    };
    pub(super) const KEY: Attrs = Attrs {
        mode: KEY_MODE,
        owner: None,
    };

    /// The mode (at most `max`) and owner of the file at `path`, when there is one (else
    /// `default`). The owner is kept only when it is not the caller's.
    pub(super) fn of(path: &Path, default: Attrs, max: u32) -> Attrs {
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
pub(super) fn kept_name(name: &str, serial: &str) -> String {
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
pub(super) fn placed_prefix(cert: &Path) -> String {
    let name = file_name_of(cert);
    name.strip_suffix(".cert.pem")
        .or_else(|| name.rsplit_once('.').map(|(stem, _)| stem))
        .filter(|s| !s.is_empty())
        .unwrap_or(&name)
        .to_owned()
}

/// Stages `data` as `name` in `dir` written as `attrs` says (`path` names it in messages).
pub(super) fn stage<'d>(
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
        return Err(Error::Refused(Refusal::AnotherAtStandardPath {
            path: standard.to_owned(),
            found_serial: Facts::of(c).serial,
            renewed_serial: r.old.serial.clone(),
        }));
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
        return Err(Error::Refused(Refusal::NoLongerInService {
            subject: r.old.subject.clone(),
            serial: r.old.serial.clone(),
        }));
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
        return Err(Error::Refused(Refusal::NotPublished { reason: why }));
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
    let call = |phase| HookCall {
        phase,
        cert: &paths.cert,
        old_serial: &r.old.serial,
        new_serial: &issued.facts.serial,
    };
    let mut hook_run = None;
    let mut check = None;
    let committed = t.commit_then(true, || {
        if let Some(h) = &confirm.hook {
            let run = h.run(&call(HookPhase::Renew));
            let ok = run.ok;
            hook_run = Some(run);
            if !ok {
                return Err(Why::Hook);
            }
        }
        if let Some(v) = &confirm.verify {
            let c = (v.check)(issued);
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
                outcome.rollback_hook = Some(h.run(&call(HookPhase::Rollback)));
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
pub(super) fn read_as_is(path: &Path) -> Option<zeroize::Zeroizing<Vec<u8>>> {
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::issue::SubjectKey;
    use crate::profile::Subject;
    use crate::renew::{GivenKey, Hook, Options, Selection, plan};
    use pki_x509::KeyType;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

    /// A hook lent by a test: it records each call and answers `ok` on renewal (always on
    /// rollback).
    struct Recorder {
        ok: bool,
        calls: RefCell<Vec<(HookPhase, PathBuf, String, String)>>,
    }

    impl Hook for Recorder {
        fn run(&self, call: &HookCall<'_>) -> HookRun {
            self.calls.borrow_mut().push((
                call.phase,
                call.cert.to_owned(),
                call.old_serial.to_owned(),
                call.new_serial.to_owned(),
            ));
            let ok = self.ok || call.phase == HookPhase::Rollback;
            HookRun {
                phase: call.phase,
                command: "recorder".into(),
                ok,
                exit_code: Some(if ok { 0 } else { 1 }),
                timed_out: false,
                error: None,
                seconds: 0.0,
            }
        }
    }

    /// A CA directory with a root and a device `d` it signed; the root's key.
    fn directory(d: &Path) -> (CaDir, PrivateKey) {
        let ca = CaDir::create(&d.join("pki")).unwrap();
        let root_key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let root = crate::issue(
            &Request::new(Profile::RootCa { pathlen: None }, Subject::cn("R"), NOW),
            &SubjectKey::Private(&root_key),
            None,
        )
        .unwrap();
        ca.write_issued(
            &CaRole::Root.prefix(),
            &root,
            None,
            Profile::RootCa { pathlen: None },
            false,
        )
        .unwrap();
        let issuer = Issuer::new(root.chain.clone(), &root_key, "r", "k").unwrap();
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let req = Request::new(Profile::Device, Subject::cn("d"), NOW);
        let issued = crate::issue(&req, &SubjectKey::Private(&key), Some(&issuer)).unwrap();
        ca.write_issued(
            "d",
            &issued,
            Some(key.to_pem().as_bytes()),
            Profile::Device,
            false,
        )
        .unwrap();
        (ca, root_key)
    }

    #[test]
    fn the_lent_hook_decides_between_commit_and_rollback_and_runs_again_after_one() {
        let now = NOW + Duration::days(1);
        for ok in [false, true] {
            let d = tempfile::tempdir().unwrap();
            let (ca, root_key) = directory(d.path());
            let opts = Options {
                reuse_key: false,
                days: None,
                adopt: false,
                force: false,
                now,
            };
            let planned = plan(&ca, &Selection::CommonName("d".into()), &opts).unwrap();
            let r = &planned.renewals[0];
            let keys = Keys {
                issuer: Some(GivenKey::File(Box::new(root_key))),
                ..Keys::default()
            };
            let hook = Recorder {
                ok,
                calls: RefCell::new(Vec::new()),
            };
            let confirm = Confirm {
                hook: Some(&hook),
                ..Confirm::default()
            };
            let before = std::fs::read(ca.cert_path(&r.prefix)).unwrap();
            let outcome = execute(&ca, r, &keys, &confirm, now).unwrap();
            let calls = hook.calls.into_inner();
            let new_serial = outcome.new.as_ref().unwrap().serial.clone();
            let renew = (
                HookPhase::Renew,
                ca.cert_path(&r.prefix),
                r.old.serial.clone(),
                new_serial,
            );
            let after = std::fs::read(ca.cert_path(&r.prefix)).unwrap();
            if ok {
                assert_eq!(outcome.result, RenewalResult::Renewed);
                assert_eq!(calls, [renew]);
                assert_ne!(after, before);
            } else {
                assert_eq!(outcome.result, RenewalResult::RolledBack);
                let mut rollback = renew.clone();
                rollback.0 = HookPhase::Rollback;
                assert_eq!(calls, [renew, rollback]);
                assert_eq!(after, before, "the old certificate is back");
                assert!(outcome.rollback_hook.is_some_and(|h| h.ok));
                assert!(
                    outcome
                        .error
                        .as_deref()
                        .is_some_and(|e| e.starts_with("the hook failed (exit 1")),
                    "{:?}",
                    outcome.error
                );
            }
        }
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
}
