//! Batch provisioning: `pki issue device --batch FILE` issues a key and certificate per device
//! on every core, streaming the input and the manifest, and can be killed at any moment and run
//! again to finish the lot with no device issued twice, no half-written file, and no file it
//! did not create replaced.
//!
//! The manifest is the commit record, the journal the intent record. A worker takes devices
//! in groups of 64: a device in the manifest is skipped; for the others it looks up the key
//! (with `--out`, the device's folder), one lookup per device as before the journal existed.
//! Where no key is there, the device is named in the journal (one write for the group) before
//! any of its files is created. A device's files are written in order (key, certificate, full
//! chain), each created new, and its manifest line is appended only after all three are
//! complete. A certificate or chain met in the way then is somebody else's: the files written
//! for the device are removed again and it is a rejected line.
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
//! Somebody else's key or certificate (one the journal does not account for) makes the device
//! a rejected line (`... exists; --force to replace`) and is left as it is; `--force` replaces
//! it. What a cut write leaves (an empty file, a PEM begun and never ended) holds no key and no
//! certificate, and is replaced whoever began it.
//!
//! Files are not renamed into place one by one (the CA directory's rule for single
//! certificates): measured on this machine, the three renames per device cost a quarter of the
//! batch's speed, and the manifest already makes the batch atomic per device.

mod input;
mod journal;
mod manifest;

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use pki_core::{
    CaDir, Certificate, IndexEntry, Issuer, KeyType, PrivateKey, Profile, Request, Subject,
    SubjectKey,
};
use rayon::prelude::*;
use serde::Serialize;

pub(crate) use input::Rejected;
use input::{Entry, Item, Reader, id_hash};
use journal::Journal;
use manifest::ManifestLine;

/// Devices handed to the worker threads at a time: enough to keep every core busy, few enough
/// that memory stays flat.
const CHUNK: usize = 4096;

/// Devices a worker takes at a time from a chunk: it names them in the journal in one write
/// before it creates their files.
const GROUP: usize = 64;

/// The batch's own files in its output directory (with the manifest's default name): with
/// `--out`, a device folder of the same name would collide with them.
const OWN_FILES: [&str; 3] = ["manifest.jsonl", "batch.lock", journal::FILE_NAME];

/// Where the files of each device go.
#[derive(Debug, Clone)]
pub(crate) enum Layout {
    /// The CA directory's certs/ and private/, with certGen.sh names.
    CaDir,
    /// `DIR/<device id>/{cert.pem, key.pem, full-chain.pem}`.
    Folders(PathBuf),
}

/// How to run a batch.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) layout: Layout,
    pub(crate) manifest: PathBuf,
    pub(crate) key_type: KeyType,
    pub(crate) days: Option<u32>,
    pub(crate) strict: bool,
    /// Replace keys and certificates that the batch did not create (`--force`).
    pub(crate) force: bool,
    pub(crate) progress: bool,
    /// Device ids that must not be used, lower-case, with the reason (the CNs of IoT Edge
    /// device CAs: IoT Edge requires them to differ from every device id).
    pub(crate) reserved: Vec<(String, String)>,
}

/// What a batch did.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Summary {
    pub(crate) issued: u64,
    /// Already complete from an earlier run.
    pub(crate) skipped: u64,
    /// Found issued by an interrupted run and completed from its files (not issued again).
    pub(crate) completed: u64,
    pub(crate) rejected: u64,
    pub(crate) seconds: f64,
    pub(crate) per_second: f64,
    pub(crate) manifest: String,
    /// The first rejected lines (all of them are printed to stderr as they come).
    pub(crate) rejections: Vec<Rejected>,
    pub(crate) stopped_early: bool,
}

struct Paths {
    key: PathBuf,
    cert: PathBuf,
    chain: PathBuf,
    dir: Option<PathBuf>,
}

impl Layout {
    fn paths(&self, ca: &CaDir, id: &str) -> Paths {
        match self {
            Layout::CaDir => {
                let p = pki_core::device_prefix(id);
                Paths {
                    key: ca.key_path(&p),
                    cert: ca.cert_path(&p),
                    chain: ca.full_chain_path(&p),
                    dir: None,
                }
            }
            Layout::Folders(root) => {
                let d = root.join(id);
                Paths {
                    key: d.join("key.pem"),
                    cert: d.join("cert.pem"),
                    chain: d.join("full-chain.pem"),
                    dir: Some(d),
                }
            }
        }
    }

    /// The directory of the batch's own files (lock, journal, default manifest).
    fn home<'a>(&'a self, ca: &'a CaDir) -> &'a Path {
        match self {
            Layout::CaDir => ca.path(),
            Layout::Folders(root) => root,
        }
    }
}

/// What to do for a device, decided before anything of it is written.
#[derive(Debug)]
enum Plan {
    /// In the manifest, with its files: nothing.
    Skip,
    /// No key is there (with `--out`: no folder): issue, each file created new. A certificate
    /// or chain found in the way then is somebody else's: what the device got is removed again
    /// and it is a rejected line (with `--force`, they are replaced).
    Fresh,
    /// A key is there, and everything there may go (what cut writes leave, or `--force`).
    Replace,
    /// Leftovers of an earlier run that began the device (the journal says so).
    Leftover,
    /// Somebody else's key or certificate is there: a rejected line, with the reason.
    Refuse(String),
}

/// What happened to one device.
enum Done {
    /// Complete, with its manifest line already written by an earlier run.
    Skipped,
    /// Issued now, or completed from an interrupted run's certificate.
    Written {
        manifest: String,
        index: Option<Box<IndexEntry>>,
        fresh: bool,
    },
    /// Not issued: somebody else's file is in the way. `begun`: the journal names the device
    /// since this run (which took back what it had written).
    Rejected { reason: String, begun: bool },
}

/// What every device of a run shares.
struct Lot<'a> {
    ca: &'a CaDir,
    issuer: &'a Issuer,
    opts: &'a Options,
    chain_pem: String,
    now: time::OffsetDateTime,
    done_ids: HashSet<u64>,
    index_serials: HashSet<u64>,
}

/// Runs a batch from `input` with `issuer`; rejected lines go to `on_reject` as they come.
pub(crate) fn run(
    ca: &CaDir,
    issuer: &Issuer,
    input: impl BufRead,
    opts: &Options,
    mut on_reject: impl FnMut(&Rejected),
) -> Result<Summary> {
    let started = Instant::now();
    if let Layout::Folders(root) = &opts.layout {
        // 0755 whatever the umask (each device's folder is 0700).
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(root)
            .with_context(|| format!("cannot create {}", root.display()))?;
    }
    let home = opts.layout.home(ca);
    // One batch per output at a time: a second one would race on the same files.
    let lock_path = home.join("batch.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o644)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        bail!(
            "{}: another batch is running on this output; wait for it to finish",
            lock_path.display()
        );
    }

    let done_ids = manifest::read_done(&opts.manifest)?;
    let mut journal = Journal::open(&home.join(journal::FILE_NAME), &done_ids)?;
    let index_serials = if done_ids.is_empty() && !journal.has_leftovers() {
        HashSet::new()
    } else {
        indexed_serials(ca)?
    };
    let own_names: Vec<String> = match &opts.layout {
        Layout::CaDir => Vec::new(),
        Layout::Folders(_) => OWN_FILES
            .iter()
            .map(|n| n.to_string())
            .chain(
                opts.manifest
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned()),
            )
            .collect(),
    };
    let lot = Lot {
        ca,
        issuer,
        opts,
        chain_pem: pki_core::pem_bundle(issuer.chain()),
        now: super::commands::now(),
        done_ids,
        index_serials,
    };

    let (tx, rx) = mpsc::sync_channel::<(Vec<String>, Vec<IndexEntry>)>(2);
    let manifest_path = opts.manifest.clone();
    let ca_for_writer = ca.clone();
    let writer = std::thread::spawn(move || -> Result<()> {
        let mut manifest = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o644)
            .open(&manifest_path)
            .with_context(|| format!("cannot open the manifest {}", manifest_path.display()))?;
        for (lines, index) in rx {
            // Index first: a kill between the two leaves a device the re-run finds in the index
            // (by serial) and so does not index twice.
            ca_for_writer.append_index(&index)?;
            manifest
                .write_all(lines.concat().as_bytes())
                .with_context(|| {
                    format!("cannot write the manifest {}", manifest_path.display())
                })?;
        }
        manifest
            .sync_all()
            .with_context(|| format!("cannot sync the manifest {}", manifest_path.display()))?;
        Ok(())
    });

    let bar = opts.progress.then(progress_bar);
    let mut summary = Summary {
        manifest: opts.manifest.display().to_string(),
        ..Summary::default()
    };
    let mut reject = |summary: &mut Summary, r: Rejected| {
        summary.rejected += 1;
        on_reject(&r);
        if summary.rejections.len() < 100 {
            summary.rejections.push(r);
        }
    };
    let mut reader = Reader::new(input);
    let mut chunk: Vec<Entry> = Vec::with_capacity(CHUNK);
    let mut result: Result<()> = Ok(());
    'input: loop {
        let mut end = false;
        while chunk.len() < CHUNK {
            let item = match reader.next_item().context("cannot read the batch input")? {
                Some(Item::Device(e)) => match reserved(opts, &own_names, &e.device_id) {
                    Some(why) => Some(Item::Rejected(Rejected::new(e.line, &e.device_id, why))),
                    None => Some(Item::Device(e)),
                },
                other => other,
            };
            match item {
                None => {
                    end = true;
                    break;
                }
                Some(Item::Device(e)) => chunk.push(e),
                Some(Item::Rejected(r)) => {
                    reject(&mut summary, r);
                    if opts.strict {
                        summary.stopped_early = true;
                        end = true;
                        break;
                    }
                }
            }
        }
        if !chunk.is_empty() {
            if opts.strict
                && let Some(first) = chunk
                    .par_iter()
                    .position_first(|e| matches!(plan(&lot, &journal, e), Ok((_, Plan::Refuse(_)))))
            {
                // Nothing after the first device refused is issued: it is found before any is.
                chunk.truncate(first + 1);
                summary.stopped_early = true;
                end = true;
            }
            let outcomes: Vec<Vec<Result<Done>>> = chunk
                .par_chunks(GROUP)
                .map(|group| run_group(&lot, &journal, group))
                .collect();
            let mut lines = Vec::with_capacity(chunk.len());
            let mut index = Vec::with_capacity(chunk.len());
            for (o, e) in outcomes.into_iter().flatten().zip(&chunk) {
                match o {
                    Ok(Done::Skipped) => summary.skipped += 1,
                    Ok(Done::Written {
                        manifest,
                        index: ix,
                        fresh,
                    }) => {
                        if fresh {
                            summary.issued += 1;
                        } else {
                            summary.completed += 1;
                        }
                        journal.completed(&e.device_id);
                        lines.push(manifest);
                        index.extend(ix.map(|b| *b));
                    }
                    Ok(Done::Rejected { reason, begun }) => {
                        if begun {
                            journal.unfinished();
                        }
                        reject(&mut summary, Rejected::new(e.line, &e.device_id, reason));
                    }
                    Err(err) => {
                        result =
                            Err(err.context(format!("line {}: device {}", e.line, e.device_id)));
                        break;
                    }
                }
            }
            if let Some(b) = &bar {
                b.inc(chunk.len() as u64);
            }
            chunk.clear();
            if tx.send((lines, index)).is_err() {
                break 'input;
            }
            if result.is_err() {
                break 'input;
            }
        }
        if end {
            break;
        }
    }
    drop(tx);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let written = writer
        .join()
        .map_err(|_| anyhow::anyhow!("the manifest writer failed"))?;
    result?;
    written?;
    // Every manifest line is written: what the journal still names is unfinished.
    journal.close()?;
    if !reader.ignored_columns.is_empty() {
        crate::output::stderr_line(&crate::output::escape_line(&format!(
            "pki: warning: CSV columns not used: {}",
            reader.ignored_columns.join(", ")
        )));
    }
    summary.seconds = started.elapsed().as_secs_f64();
    let made = summary.issued + summary.completed;
    summary.per_second = if summary.seconds > 0.0 {
        made as f64 / summary.seconds
    } else {
        0.0
    };
    drop(lock);
    Ok(summary)
}

/// Why a device id cannot be used, if it cannot: the CN of an IoT Edge device CA, or (with
/// `--out`) the name of one of the batch's own files, `own_names`.
fn reserved(opts: &Options, own_names: &[String], id: &str) -> Option<String> {
    if let Some((_, why)) = opts
        .reserved
        .iter()
        .find(|(r, _)| id.eq_ignore_ascii_case(r))
    {
        return Some(why.clone());
    }
    let own = own_names.iter().find(|n| id.eq_ignore_ascii_case(n))?;
    Some(format!(
        "reserved: {own} is the name of one of the batch's own files (manifest, lock, journal); a device folder under --out cannot take it"
    ))
}

/// The serials the CA directory's index has, as hashes. A last line cut by a kill is removed.
fn indexed_serials(ca: &CaDir) -> Result<HashSet<u64>> {
    let mut serials = HashSet::new();
    let index = ca.index_path();
    if index.exists() {
        truncate_partial_line(&index)?;
        for line in std::io::BufReader::new(fs::File::open(&index)?).lines() {
            let line = line.with_context(|| format!("cannot read {}", index.display()))?;
            if let Some(s) = json_str_field(&line, "serial") {
                serials.insert(id_hash(s));
            }
        }
    }
    Ok(serials)
}

/// The value of a string field in one of our own JSON lines (no escapes in the values we
/// search: hex serials cannot contain `"` or `\`).
fn json_str_field<'a>(line: &'a str, field: &str) -> Option<&'a str> {
    let key = format!("\"{field}\":\"");
    let start = line.find(&key)? + key.len();
    let len = line[start..].find('"')?;
    Some(&line[start..start + len])
}

fn truncate_partial_line(path: &Path) -> Result<()> {
    let data = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if data.is_empty() || data.ends_with(b"\n") {
        return Ok(());
    }
    let keep = data.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let f = fs::OpenOptions::new().write(true).open(path)?;
    f.set_len(keep as u64)
        .with_context(|| format!("cannot repair {}", path.display()))?;
    Ok(())
}

/// One worker's share of a chunk: looks at the devices' paths, names in the journal (one write)
/// those whose files it is about to create, then carries out each plan. One outcome per device.
fn run_group(lot: &Lot<'_>, journal: &Journal, group: &[Entry]) -> Vec<Result<Done>> {
    let plans: Vec<Result<(Paths, Plan)>> = group.iter().map(|e| plan(lot, journal, e)).collect();
    let begun = plans.iter().zip(group).filter_map(|(p, e)| match p {
        Ok((_, Plan::Fresh | Plan::Replace)) => Some(e.device_id.as_str()),
        _ => None,
    });
    if let Err(err) = journal.begin(begun) {
        // Nothing of the group is created; the run stops at its first device.
        let message = format!("{err:#}");
        return group
            .iter()
            .map(|_| Err(anyhow::anyhow!("{message}")))
            .collect();
    }
    plans
        .into_iter()
        .zip(group)
        .map(|(p, e)| {
            let (paths, plan) = p?;
            carry_out(lot, e, &paths, plan)
        })
        .collect()
}

/// Decides what to do for a device. In the common case (a device not begun) this costs one
/// lookup: the key (the one file whose owner its content cannot tell), or with `--out` the
/// device's folder. Nothing is read unless a key is there.
fn plan(lot: &Lot<'_>, journal: &Journal, e: &Entry) -> Result<(Paths, Plan)> {
    let p = lot.opts.layout.paths(lot.ca, &e.device_id);
    let plan = plan_for(lot, journal, e, &p)?;
    Ok((p, plan))
}

fn plan_for(lot: &Lot<'_>, journal: &Journal, e: &Entry, p: &Paths) -> Result<Plan> {
    let h = id_hash(&e.device_id);
    if lot.done_ids.contains(&h) && p.chain.exists() {
        return Ok(Plan::Skip);
    }
    if journal.begun_earlier(h) {
        return Ok(Plan::Leftover);
    }
    if let Some(d) = &p.dir {
        match lookup(d)? {
            None => return Ok(Plan::Fresh),
            Some(m) if m.is_dir() => {}
            Some(_) => {
                return Ok(Plan::Refuse(format!(
                    "{} exists and is not a folder (links are not followed)",
                    d.display()
                )));
            }
        }
    }
    if lookup(&p.key)?.is_none() {
        return Ok(Plan::Fresh);
    }
    if !lot.opts.force {
        // The certificate first: it is what a rejected line names when both are there.
        for f in [&p.cert, &p.key, &p.chain] {
            if !may_replace(f, is_cut)? {
                return Ok(Plan::Refuse(exists(f)));
            }
        }
    }
    Ok(Plan::Replace)
}

/// The reason of a line rejected for a file in the way.
fn exists(path: &Path) -> String {
    format!("{} exists; --force to replace", path.display())
}

/// What is at `path` (a link is not followed), `None` when nothing is.
fn lookup(path: &Path) -> Result<Option<fs::Metadata>> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot look at {}", path.display())),
    }
}

/// True when nothing is at `path`, or a file (not a link) whose content passes `ok`.
fn may_replace(path: &Path, ok: impl Fn(&[u8]) -> bool) -> Result<bool> {
    match lookup(path)? {
        None => return Ok(true),
        Some(m) if m.is_file() && m.len() <= 1 << 20 => {}
        Some(_) => return Ok(false),
    }
    let data = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(ok(&data))
}

/// True for what a write cut short leaves: nothing, or a PEM begun and never ended. It holds
/// no key and no certificate, so it may be replaced whoever began it.
fn is_cut(data: &[u8]) -> bool {
    const BEGIN: &[u8] = b"-----BEGIN ";
    const END: &[u8] = b"-----END ";
    let begun = data.starts_with(BEGIN) || BEGIN.starts_with(data);
    begun && !data.windows(END.len()).any(|w| w == END)
}

/// Carries out a device's plan.
fn carry_out(lot: &Lot<'_>, e: &Entry, p: &Paths, plan: Plan) -> Result<Done> {
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
fn leftover(lot: &Lot<'_>, e: &Entry, p: &Paths) -> Result<Done> {
    let force = lot.opts.force;
    if let Some(cert) = ours(lot.issuer, e, p) {
        // Issued by the killed run: finished, never issued again. Its chain is this
        // certificate's, whole or cut short, or missing.
        let chain = format!("{}{}", cert.to_pem(), lot.chain_pem);
        if !force && !may_replace(&p.chain, |d| chain.as_bytes().starts_with(d))? {
            return Ok(Done::Rejected {
                reason: exists(&p.chain),
                begun: false,
            });
        }
        replace_file(&p.chain, &chain, 0o644)?;
        let facts = pki_core::Facts::of(&cert);
        return finish(lot, e, p, cert, &facts, false);
    }
    // Never issued: a fresh key and certificate in its place, unless a whole certificate or
    // chain that is not this device's is in the way.
    if !force {
        for f in [&p.cert, &p.chain] {
            if !may_replace(f, is_cut)? {
                return Ok(Done::Rejected {
                    reason: exists(f),
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
/// chain), with `replace` (or `--force`) over what is there, else each created new: a file
/// found in the way is somebody else's, so the files written before it are removed again and
/// the device is a rejected line.
fn issue(lot: &Lot<'_>, e: &Entry, p: &Paths, replace: bool) -> Result<Done> {
    let mut req = Request::new(Profile::Device, Subject::cn(&e.device_id), lot.now);
    if let Some(d) = e.days.or(lot.opts.days) {
        req.days = d;
    }
    // A validity no certificate can hold (past the year 9999) is this line's fault, not the
    // lot's: a rejected line, before anything is written.
    if let Err(err) = req.not_after() {
        return Ok(Done::Rejected {
            reason: err.to_string(),
            begun: true,
        });
    }
    if let Some(d) = &p.dir {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(d)
            .with_context(|| format!("cannot create {}", d.display()))?;
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
    let files: [(&PathBuf, &str, u32); 3] = [
        (&p.key, key_pem.as_str(), 0o600),
        (&p.cert, cert_pem.as_str(), 0o644),
        (&p.chain, chain_pem.as_str(), 0o644),
    ];
    for (i, &(path, data, mode)) in files.iter().enumerate() {
        if replace || lot.opts.force {
            replace_file(path, data, mode)?;
            continue;
        }
        match create_file(path, data, mode) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                for (written, _, _) in &files[..i] {
                    fs::remove_file(written)
                        .with_context(|| format!("cannot remove {}", written.display()))?;
                }
                return Ok(Done::Rejected {
                    reason: exists(path),
                    begun: true,
                });
            }
            Err(err) => {
                return Err(err).with_context(|| format!("cannot create {}", path.display()));
            }
        }
    }
    finish(lot, e, p, issued.certificate, &issued.facts, true)
}

/// The manifest line and (unless the index has it already) the index line of a device.
fn finish(
    lot: &Lot<'_>,
    e: &Entry,
    p: &Paths,
    cert: Certificate,
    facts: &pki_core::Facts,
    fresh: bool,
) -> Result<Done> {
    let entry = lot.ca.index_entry(&cert, facts, Profile::Device, &p.cert);
    let mut manifest = serde_json::to_string(&ManifestLine {
        device_id: &e.device_id,
        serial: &entry.serial,
        sha1: cert.sha1_hex(),
        sha256: &entry.sha256,
        not_after: entry.not_after,
        cert: p.cert.display().to_string(),
        key: p.key.display().to_string(),
        full_chain: p.chain.display().to_string(),
    })?;
    manifest.push('\n');
    let index =
        (fresh || !lot.index_serials.contains(&id_hash(&entry.serial))).then(|| Box::new(entry));
    Ok(Done::Written {
        manifest,
        index,
        fresh,
    })
}

/// Creates `path` with `data` and `mode` from its creation on; it must not exist.
fn create_file(path: &Path, data: &str, mode: u32) -> std::io::Result<()> {
    pki_core::files::create_new(path, data.as_bytes(), mode)
}

/// Creates `path` with `data`, replacing what is there (only ever what the plan found the
/// batch may replace). The new file gets `mode` from its creation on.
fn replace_file(path: &Path, data: &str, mode: u32) -> Result<()> {
    match create_file(path, data, mode) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            fs::remove_file(path).with_context(|| format!("cannot replace {}", path.display()))?;
            create_file(path, data, mode)
                .with_context(|| format!("cannot create {}", path.display()))
        }
        other => other.with_context(|| format!("cannot create {}", path.display())),
    }
}

fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos} devices  {per_sec}  {elapsed_precise}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
