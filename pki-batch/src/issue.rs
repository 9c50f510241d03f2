//! Carrying out a device's [`Plan`]: issuing a key and certificate and writing its files, or
//! finishing what a killed run left of it. Every file of a device is written here, through
//! [`pki_core::files::create_new`] (`O_CREAT|O_EXCL|O_NOFOLLOW`, the exact mode given through
//! the descriptor).
//!
//! A device's files are written in order (key, certificate, full chain), each created new, and
//! its manifest line is appended (by the writer) only after all three are complete. A
//! certificate or chain met in the way then is somebody else's: the files written for the
//! device are removed again and it is a rejected line.
//!
//! A device the journal names and the manifest does not was begun by a killed run. Its key is
//! that run's (none was there when the device was named); its certificate and chain were not
//! looked at then, so their content says whose they are. A certificate that is this device's
//! (the only one in its file, CN = device id, signed by the issuer, public key = the key
//! file's) was issued: it is kept and finished (its chain, whole or cut short or missing,
//! rewritten; manifest and index lines added), never issued again. One cut short or missing
//! never was: a fresh key and certificate take its place. A whole certificate or chain that is
//! not the device's is somebody else's.
//!
//! Files are not renamed into place one by one (the CA directory's rule for single
//! certificates): measured on this machine, the three renames per device cost a quarter of the
//! batch's speed, and the manifest already makes the batch atomic per device.

use std::fs;
use std::path::{Path, PathBuf};

use pki_core::{
    Certificate, Facts, Issuer, PrivateKey, Profile, Record, Request, Subject, SubjectKey, files,
};

use crate::engine::Lot;
use crate::error::{Error, FileOp};
use crate::events::Reason;
use crate::input::{Entry, id_hash};
use crate::manifest::ManifestLine;
use crate::options::{Existing, Paths};
use crate::plan::{Plan, is_cut, may_replace};

/// Mode of a device's key.
const KEY_MODE: u32 = 0o600;
/// Mode of a device's certificate and chain.
const CERT_MODE: u32 = 0o644;
/// Mode of a device's folder ([`crate::Layout::Folders`]).
const FOLDER_MODE: u32 = 0o700;

/// What happened to one device.
pub(crate) enum Done {
    /// Complete, with its manifest line already written by an earlier run.
    Skipped,
    /// Issued now (`fresh`), or completed from an interrupted run's certificate.
    Written {
        manifest: String,
        index: Option<Box<Record>>,
        fresh: bool,
    },
    /// Not issued. `begun`: the journal names the device since this run (which took back what
    /// it had written).
    Rejected { reason: Reason, begun: bool },
}

/// Carries out a device's plan.
pub(crate) fn carry_out(lot: &Lot<'_>, e: &Entry, p: &Paths, plan: Plan) -> Result<Done, Error> {
    match plan {
        Plan::Skip => Ok(Done::Skipped),
        Plan::Refuse(reason) => Ok(Done::Rejected {
            reason,
            begun: false,
        }),
        Plan::Fresh => issue(lot, e, p, false),
        Plan::Replace => issue(lot, e, p, true),
        Plan::Leftover => leftover(lot, e, p),
    }
}

/// Finishes or replaces what an earlier run left of a device it began. The key is that run's
/// (no key was there when the journal named the device); the certificate and the chain were
/// not looked at then, so their content tells whose they are.
fn leftover(lot: &Lot<'_>, e: &Entry, p: &Paths) -> Result<Done, Error> {
    let keep = lot.opts.existing == Existing::Keep;
    if let Some(cert) = ours(lot.issuer, e, p) {
        // Issued by the killed run: finished, never issued again. Its chain is this
        // certificate's, whole or cut short, or missing.
        let chain = format!("{}{}", cert.to_pem(), lot.chain_pem);
        if keep && !may_replace(&p.chain, |d| chain.as_bytes().starts_with(d))? {
            return Ok(Done::Rejected {
                reason: Reason::Exists(p.chain.clone()),
                begun: false,
            });
        }
        replace_file(&p.chain, &chain, CERT_MODE)?;
        let facts = Facts::of(&cert);
        return finish(lot, e, p, cert, &facts, false);
    }
    // Never issued: a fresh key and certificate in its place, unless a whole certificate or
    // chain that is not this device's is in the way.
    if keep {
        for f in [&p.cert, &p.chain] {
            if !may_replace(f, is_cut)? {
                return Ok(Done::Rejected {
                    reason: Reason::Exists(f.clone()),
                    begun: false,
                });
            }
        }
    }
    issue(lot, e, p, true)
}

/// The certificate at a device's path if it is one the batch issued for it: a single
/// certificate whose CN is the device id, signed by the issuer, and whose public key is the
/// key file's.
fn ours(issuer: &Issuer, e: &Entry, p: &Paths) -> Option<Certificate> {
    let mut certs = pki_core::read_certs(&p.cert).ok()?;
    if certs.len() != 1 {
        return None;
    }
    let cert = certs.pop()?;
    if cert.common_name().as_deref() != Some(e.device_id.as_str()) {
        return None;
    }
    let signed = pki_core::chain_links(&[cert.clone(), issuer.certificate().clone()]);
    if signed.first() != Some(&Some(true)) {
        return None;
    }
    let key_pem = fs::read(&p.key).ok()?;
    let key = PrivateKey::parse(&key_pem, &p.key.display().to_string(), None).ok()?;
    pki_core::key_matches(&cert, &key).ok()?.then_some(cert)
}

/// Issues a fresh key and certificate for a device and writes its files (key, certificate,
/// chain), with `replace` (or [`Existing::Replace`]) over what is there, else each created new:
/// a file found in the way is somebody else's, so the files written before it are removed
/// again and the device is a rejected line.
fn issue(lot: &Lot<'_>, e: &Entry, p: &Paths, replace: bool) -> Result<Done, Error> {
    let mut req = Request::new(Profile::Device, Subject::cn(&e.device_id), lot.now);
    req.crl_url.clone_from(&lot.opts.crl_url);
    if let Some(d) = e.days.or(lot.opts.days) {
        req.days = d;
    }
    // A validity no certificate can hold (past the year 9999) is this line's fault, not the
    // lot's: a rejected line, before anything is written.
    if let Err(err) = req.not_after() {
        return Ok(Done::Rejected {
            reason: Reason::Validity(err),
            begun: true,
        });
    }
    if let Some(d) = &p.dir {
        files::create_dir_all(d, FOLDER_MODE).map_err(|err| Error::file(FileOp::Create, d, err))?;
    }
    let key = PrivateKey::generate(lot.opts.key_type)?;
    req.sans = e
        .sans
        .iter()
        .map(|s| s.parse())
        .collect::<pki_core::Result<_>>()?;
    let issued = pki_core::issue(&req, &SubjectKey::Private(&key), Some(lot.issuer))?;
    let key_pem = key.to_pem();
    let cert_pem = issued.certificate.to_pem();
    let chain_pem = format!("{cert_pem}{}", lot.chain_pem);
    let written: [(&PathBuf, &str, u32); 3] = [
        (&p.key, key_pem.as_str(), KEY_MODE),
        (&p.cert, cert_pem.as_str(), CERT_MODE),
        (&p.chain, chain_pem.as_str(), CERT_MODE),
    ];
    let replace = replace || lot.opts.existing == Existing::Replace;
    for (i, &(path, data, mode)) in written.iter().enumerate() {
        if replace {
            replace_file(path, data, mode)?;
            continue;
        }
        match files::create_new(path, data.as_bytes(), mode) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                for (earlier, _, _) in &written[..i] {
                    fs::remove_file(earlier)
                        .map_err(|err| Error::file(FileOp::Remove, earlier, err))?;
                }
                return Ok(Done::Rejected {
                    reason: Reason::Exists(path.clone()),
                    begun: true,
                });
            }
            Err(err) => return Err(Error::file(FileOp::Create, path, err)),
        }
    }
    finish(lot, e, p, issued.certificate, &issued.facts, true)
}

/// The manifest line and (unless the register has it already) the register row of a device.
fn finish(
    lot: &Lot<'_>,
    e: &Entry,
    p: &Paths,
    cert: Certificate,
    facts: &Facts,
    fresh: bool,
) -> Result<Done, Error> {
    let entry = lot.ca.record_of(
        &cert,
        facts,
        lot.issuer_sha256.clone(),
        Profile::Device,
        &p.cert,
    );
    let mut manifest = serde_json::to_string(&ManifestLine {
        device_id: &e.device_id,
        serial: &entry.serial,
        sha1: cert.sha1_hex(),
        sha256: &entry.sha256,
        not_after: entry.not_after,
        cert: p.cert.display().to_string(),
        key: p.key.display().to_string(),
        full_chain: p.chain.display().to_string(),
    })
    .map_err(|err| Error::manifest(FileOp::Write, lot.manifest, err))?;
    manifest.push('\n');
    let index =
        (fresh || !lot.index_serials.contains(&id_hash(&entry.serial))).then(|| Box::new(entry));
    Ok(Done::Written {
        manifest,
        index,
        fresh,
    })
}

/// Creates `path` with `data`, replacing what is there (only ever what the plan found the
/// batch may replace). The new file gets `mode` from its creation on.
fn replace_file(path: &Path, data: &str, mode: u32) -> Result<(), Error> {
    match files::create_new(path, data.as_bytes(), mode) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            fs::remove_file(path).map_err(|e| Error::file(FileOp::Replace, path, e))?;
            files::create_new(path, data.as_bytes(), mode)
                .map_err(|e| Error::file(FileOp::Create, path, e))
        }
        other => other.map_err(|e| Error::file(FileOp::Create, path, e)),
    }
}
