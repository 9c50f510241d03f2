//! Batch provisioning: `pki issue device --batch FILE` issues a key and certificate per device
//! on every core, streaming the input and the manifest, and can be killed at any moment and run
//! again to finish the lot with no device issued twice and no half-written file.
//!
//! The manifest is the commit record. A device's files are written in order (key, certificate,
//! full chain), each created new, and its manifest line is appended only after all three are
//! complete. A re-run skips the devices in the manifest; for any other device it looks at the
//! files a killed run may have left: a certificate that parses completely was issued, so it is
//! kept and finished (chain rewritten, manifest and index lines added), never issued again;
//! a torn or missing certificate was never issued, so whatever is there is replaced by a fresh
//! key and certificate. Files are not renamed into place one by one (the CA directory's rule
//! for single certificates): measured on this machine, the three renames per device cost a
//! quarter of the batch's speed, and the manifest already makes the batch atomic per device.

mod input;

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

/// Devices handed to the worker threads at a time: enough to keep every core busy, few enough
/// that memory stays flat.
const CHUNK: usize = 4096;

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
    pub(crate) progress: bool,
    /// Device ids that must not be used, lower-case, with the reason (the CNs of IoT Edge
    /// device CAs: IoT Edge requires them to differ from every device id).
    pub(crate) reserved: Vec<(String, String)>,
}

/// One line of the manifest.
#[derive(Debug, Serialize)]
struct ManifestLine<'a> {
    device_id: &'a str,
    serial: &'a str,
    sha1: String,
    sha256: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    not_after: time::OffsetDateTime,
    cert: String,
    key: String,
    full_chain: String,
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
        fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
    }
    // One batch per output at a time: a second one would race on the same temporary names.
    let lock_path = match &opts.layout {
        Layout::CaDir => ca.path().join("batch.lock"),
        Layout::Folders(root) => root.join("batch.lock"),
    };
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        bail!(
            "{}: another batch is running on this output; wait for it to finish",
            lock_path.display()
        );
    }

    let (done_ids, index_serials) = previous_state(ca, &opts.manifest)?;
    let chain_pem = pki_core::pem_bundle(issuer.chain());
    let now = super::commands::now();

    let (tx, rx) = mpsc::sync_channel::<(Vec<String>, Vec<IndexEntry>)>(2);
    let manifest_path = opts.manifest.clone();
    let ca_for_writer = ca.clone();
    let writer = std::thread::spawn(move || -> Result<()> {
        let mut manifest = fs::OpenOptions::new()
            .create(true)
            .append(true)
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
    let mut reader = Reader::new(input);
    let mut chunk: Vec<Entry> = Vec::with_capacity(CHUNK);
    let mut result: Result<()> = Ok(());
    'input: loop {
        let mut end = false;
        while chunk.len() < CHUNK {
            let item = match reader.next_item().context("cannot read the batch input")? {
                Some(Item::Device(e)) => match opts
                    .reserved
                    .iter()
                    .find(|(id, _)| e.device_id.eq_ignore_ascii_case(id))
                {
                    Some((_, why)) => Some(Item::Rejected(Rejected {
                        line: e.line,
                        device_id: e.device_id,
                        reason: why.clone(),
                    })),
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
                    summary.rejected += 1;
                    on_reject(&r);
                    if summary.rejections.len() < 100 {
                        summary.rejections.push(r);
                    }
                    if opts.strict {
                        summary.stopped_early = true;
                        end = true;
                        break;
                    }
                }
            }
        }
        if !chunk.is_empty() {
            let outcomes: Vec<Result<Done>> = chunk
                .par_iter()
                .map(|e| {
                    one_device(
                        ca,
                        issuer,
                        opts,
                        e,
                        &chain_pem,
                        now,
                        &done_ids,
                        &index_serials,
                    )
                })
                .collect();
            let mut lines = Vec::with_capacity(chunk.len());
            let mut index = Vec::with_capacity(chunk.len());
            for (o, e) in outcomes.into_iter().zip(&chunk) {
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
                        lines.push(manifest);
                        index.extend(ix.map(|b| *b));
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
    if !reader.ignored_columns.is_empty() {
        eprintln!(
            "pki: warning: CSV columns not used: {}",
            reader.ignored_columns.join(", ")
        );
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

/// The devices a previous run finished (from the manifest) and the serials already indexed,
/// as hashes: memory stays small for a million devices. Trailing partial lines (a kill in the
/// middle of a write) are cut off first.
fn previous_state(ca: &CaDir, manifest: &Path) -> Result<(HashSet<u64>, HashSet<u64>)> {
    let mut done = HashSet::new();
    let mut serials = HashSet::new();
    if !manifest.exists() {
        return Ok((done, serials));
    }
    truncate_partial_line(manifest)?;
    for line in std::io::BufReader::new(fs::File::open(manifest)?).lines() {
        let line = line.with_context(|| format!("cannot read {}", manifest.display()))?;
        if let Some(id) = json_str_field(&line, "device_id") {
            done.insert(id_hash(id));
        }
    }
    if done.is_empty() {
        return Ok((done, serials));
    }
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
    Ok((done, serials))
}

/// The value of a string field in one of our own JSON lines (no escapes in the values we
/// search: device ids and hex serials cannot contain `"` or `\`).
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

#[allow(clippy::too_many_arguments)]
fn one_device(
    ca: &CaDir,
    issuer: &Issuer,
    opts: &Options,
    e: &Entry,
    chain_pem: &str,
    now: time::OffsetDateTime,
    done_ids: &HashSet<u64>,
    index_serials: &HashSet<u64>,
) -> Result<Done> {
    let p = opts.layout.paths(ca, &e.device_id);
    if done_ids.contains(&id_hash(&e.device_id)) && p.chain.exists() {
        return Ok(Done::Skipped);
    }
    // One stat in the common case: a device whose certificate is not there is issued.
    if p.cert.exists() {
        // Left by an interrupted (or an earlier single) run. Complete: it was issued, so finish
        // it from its certificate and never issue it again. Torn: it never was; issue afresh.
        if let Ok(mut certs) = pki_core::read_certs(&p.cert) {
            let cert = certs.swap_remove(0);
            replace_file(&p.chain, &format!("{}{chain_pem}", cert.to_pem()), 0o644)?;
            let facts = pki_core::Facts::of(&cert);
            return finish(ca, e, &p, cert, &facts, false, index_serials);
        }
        fs::remove_file(&p.cert)
            .with_context(|| format!("cannot remove the torn {}", p.cert.display()))?;
    }
    if let Some(d) = &p.dir {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(d)
            .with_context(|| format!("cannot create {}", d.display()))?;
    }
    let key = PrivateKey::generate(opts.key_type)?;
    let mut req = Request::new(Profile::Device, Subject::cn(&e.device_id), now);
    if let Some(d) = e.days.or(opts.days) {
        req.days = d;
    }
    req.sans = e
        .sans
        .iter()
        .map(|s| s.parse())
        .collect::<pki_core::Result<_>>()?;
    let issued = pki_core::issue(&req, &SubjectKey::Private(&key), Some(issuer))?;
    let cert_pem = issued.certificate.to_pem();
    // A key or chain left without a certificate by a killed run is replaced.
    replace_file(&p.key, &key.to_pem(), 0o600)?;
    create_file(&p.cert, &cert_pem, 0o644)?;
    replace_file(&p.chain, &format!("{cert_pem}{chain_pem}"), 0o644)?;
    finish(
        ca,
        e,
        &p,
        issued.certificate,
        &issued.facts,
        true,
        index_serials,
    )
}

/// The manifest line and (unless the index has it already) the index line of a device.
fn finish(
    ca: &CaDir,
    e: &Entry,
    p: &Paths,
    cert: Certificate,
    facts: &pki_core::Facts,
    fresh: bool,
    index_serials: &HashSet<u64>,
) -> Result<Done> {
    let entry = ca.index_entry(&cert, facts, Profile::Device, &p.cert);
    let manifest = manifest_line(e, &cert, &entry, p)?;
    let index =
        (fresh || !index_serials.contains(&id_hash(&entry.serial))).then(|| Box::new(entry));
    Ok(Done::Written {
        manifest,
        index,
        fresh,
    })
}

fn manifest_line(e: &Entry, cert: &Certificate, entry: &IndexEntry, p: &Paths) -> Result<String> {
    let mut line = serde_json::to_string(&ManifestLine {
        device_id: &e.device_id,
        serial: &entry.serial,
        sha1: cert.sha1_hex(),
        sha256: &entry.sha256,
        not_after: entry.not_after,
        cert: p.cert.display().to_string(),
        key: p.key.display().to_string(),
        full_chain: p.chain.display().to_string(),
    })?;
    line.push('\n');
    Ok(line)
}

/// Creates `path` with `data`; it must not exist (a certificate is never overwritten).
fn create_file(path: &Path, data: &str, mode: u32) -> Result<()> {
    let mut f = fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(data.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Creates `path` with `data`, replacing what a killed run may have left there (never a
/// certificate: see [`create_file`]). The new file gets `mode` from its creation on.
fn replace_file(path: &Path, data: &str, mode: u32) -> Result<()> {
    match fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(mode)
        .open(path)
    {
        Ok(mut f) => f
            .write_all(data.as_bytes())
            .with_context(|| format!("cannot write {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            fs::remove_file(path).with_context(|| format!("cannot replace {}", path.display()))?;
            create_file(path, data, mode)
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
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
