//! One run of a lot ([`run`]): takes the output's lock, reads back the manifest (the commit
//! record) and the journal (the intent record), then streams the input in chunks of
//! [`CHUNK`] devices to the worker threads, which plan and carry out each device in groups of
//! [`GROUP`], while the writer thread appends the previous chunk's manifest and index lines.
//! Memory does not grow with the lot.
//!
//! A worker takes devices in groups: a device in the manifest is skipped; for the others it
//! looks up the key (with folders, the device's folder), one lookup per device. Where no key
//! is there, the device is named in the journal (one write for the group) before any of its
//! files is created (see the journal and issue modules for what a re-run makes of what a
//! kill left).

use std::collections::HashSet;
use std::io::BufRead;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pki_core::{CaDir, Issuer, Profile, Request, Subject, files};
use rayon::prelude::*;
use time::OffsetDateTime;

use crate::error::{Error, FileOp};
use crate::events::{Events, Rejected, Warning};
use crate::input::{Entry, Item, Reader};
use crate::issue::{Done, carry_out};
use crate::journal::{self, Journal};
use crate::options::{Layout, OnReject, Options, Paths};
use crate::plan::{Plan, Reserved, plan};
use crate::writer::Writer;
use crate::{index, manifest};

/// Devices handed to the worker threads at a time: enough to keep every core busy, few enough
/// that memory stays flat.
const CHUNK: usize = 4096;

/// Devices a worker takes at a time from a chunk: it names them in the journal in one write
/// before it creates their files.
const GROUP: usize = 64;

/// Rejected lines a [`Summary`] keeps (every one goes to [`Events::rejected`]).
const KEPT_REJECTIONS: usize = 100;

/// Mode of the lock file.
const LOCK_MODE: u32 = 0o644;
/// Mode of the output folder ([`Layout::Folders`]); each device's folder in it is 0700.
const FOLDER_MODE: u32 = 0o755;

/// What a run did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Summary {
    /// Devices issued by this run.
    pub issued: u64,
    /// Devices already complete from an earlier run.
    pub skipped: u64,
    /// Devices found issued by an interrupted run and completed from its files (not issued
    /// again).
    pub completed: u64,
    /// Rejected lines.
    pub rejected: u64,
    /// How long the run took.
    pub elapsed: Duration,
    /// The manifest.
    pub manifest: PathBuf,
    /// The first rejected lines (every one went to [`Events::rejected`] as it came).
    pub rejections: Vec<Rejected>,
    /// The run stopped at its first rejected line ([`OnReject::Stop`]).
    pub stopped_early: bool,
}

impl Summary {
    /// Certificates issued or completed per second of the run.
    pub fn per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            (self.issued + self.completed) as f64 / seconds
        } else {
            0.0
        }
    }

    fn reject(&mut self, events: &mut dyn Events, r: Rejected) {
        self.rejected += 1;
        events.rejected(&r);
        if self.rejections.len() < KEPT_REJECTIONS {
            self.rejections.push(r);
        }
    }
}

/// What every device of a run shares.
pub(crate) struct Lot<'a> {
    pub(crate) ca: &'a CaDir,
    pub(crate) issuer: &'a Issuer,
    pub(crate) opts: &'a Options,
    pub(crate) manifest: &'a Path,
    /// The issuer's chain, PEM, as every full-chain file ends.
    pub(crate) chain_pem: String,
    /// The SHA-256 of the issuer's certificate, as the register records it.
    pub(crate) issuer_sha256: String,
    pub(crate) now: OffsetDateTime,
    /// Devices the manifest has (hashes of their ids).
    pub(crate) done_ids: HashSet<u64>,
    /// Serials the index has (hashes), read only when there may be leftovers to finish.
    pub(crate) index_serials: HashSet<u64>,
}

/// Issues a key and certificate, signed by `issuer`, for every device of `input` (one device
/// id a line, or CSV with a `device_id` column and optional `sans` and `days`), into `ca` or
/// the folders [`Options::layout`] names, with `now` as the time of issue. Rejected lines,
/// progress and warnings go to `events` as they come; the lot goes on after a rejected line
/// unless [`OnReject::Stop`].
///
/// Run again with the same input after a kill (even `kill -9`), it finishes the lot: devices
/// in the manifest are skipped, a certificate the killed run completed is kept and finished
/// (never issued twice), and nothing the batch did not create is replaced unless
/// [`crate::Existing::Replace`].
///
/// # Errors
///
/// What stops the lot: a lot-wide validity no certificate can hold (before anything is
/// written), another batch on the same output, a manifest that is not one, an input or file
/// that cannot be read or written. What was complete by then is in the manifest.
pub fn run(
    ca: &CaDir,
    issuer: &Issuer,
    input: impl BufRead,
    opts: &Options,
    now: OffsetDateTime,
    events: &mut dyn Events,
) -> Result<Summary, Error> {
    let started = Instant::now();
    // A lot-wide validity no certificate can hold is refused before anything starts.
    if let Some(days) = opts.days {
        let mut probe = Request::new(Profile::Device, Subject::cn("device"), now);
        probe.days = days;
        probe.not_after()?;
    }
    let home = opts.layout.home(ca);
    let manifest_path = opts
        .manifest
        .clone()
        .unwrap_or_else(|| home.join("manifest.jsonl"));
    let reserved = Reserved::new(ca, &opts.layout, &manifest_path)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.map_or(0, NonZeroUsize::get))
        .build()
        .map_err(Error::Threads)?;

    if let Layout::Folders(root) = &opts.layout {
        files::create_dir_all(root, FOLDER_MODE)
            .map_err(|e| Error::file(FileOp::Create, root, e))?;
    }
    // One batch per output at a time: a second one would race on the same files.
    let lock_path = home.join("batch.lock");
    let lock = files::open_append(&lock_path, Some(LOCK_MODE))
        .map_err(|e| Error::file(FileOp::Open, &lock_path, e))?;
    if lock.try_lock().is_err() {
        return Err(Error::Locked { lock: lock_path });
    }

    let done_ids = manifest::read_done(&manifest_path)?;
    let mut journal = Journal::open(&home.join(journal::FILE_NAME), &done_ids)?;
    let index_serials = if done_ids.is_empty() && !journal.has_leftovers() {
        HashSet::new()
    } else {
        index::serials(ca)?
    };
    let lot = Lot {
        ca,
        issuer,
        opts,
        manifest: &manifest_path,
        chain_pem: pki_core::pem_bundle(issuer.chain()),
        issuer_sha256: issuer.certificate().sha256_hex(),
        now,
        done_ids,
        index_serials,
    };

    let writer = Writer::start(ca, manifest_path.clone())?;
    let mut summary = Summary {
        manifest: manifest_path.clone(),
        ..Summary::default()
    };
    let strict = opts.on_reject == OnReject::Stop;
    let mut reader = Reader::new(input);
    let mut chunk: Vec<Entry> = Vec::with_capacity(CHUNK);
    let mut dealt_with = 0u64;
    let mut result: Result<(), Error> = Ok(());
    'input: loop {
        let mut end = false;
        while chunk.len() < CHUNK {
            let item = match reader.next_item() {
                Ok(Some(Item::Device(e))) => match reserved.check(&e.device_id) {
                    Some(why) => Some(Item::Rejected(Rejected::new(e.line, &e.device_id, why))),
                    None => Some(Item::Device(e)),
                },
                Ok(other) => other,
                // The devices read so far are not issued; what was is written before the run
                // returns.
                Err(e) => {
                    result = Err(Error::Input(e));
                    break 'input;
                }
            };
            match item {
                None => {
                    end = true;
                    break;
                }
                Some(Item::Device(e)) => chunk.push(e),
                Some(Item::Rejected(r)) => {
                    summary.reject(events, r);
                    if strict {
                        summary.stopped_early = true;
                        end = true;
                        break;
                    }
                }
            }
        }
        if !chunk.is_empty() {
            if strict
                && let Some(first) = pool.install(|| {
                    chunk.par_iter().position_first(|e| {
                        matches!(plan(&lot, &journal, e), Ok((_, Plan::Refuse(_))))
                    })
                })
            {
                // Nothing after the first device refused is issued: it is found before any is.
                chunk.truncate(first + 1);
                summary.stopped_early = true;
                end = true;
            }
            let outcomes: Vec<Result<Vec<Result<Done, Error>>, Error>> = pool.install(|| {
                chunk
                    .par_chunks(GROUP)
                    .map(|group| run_group(&lot, &journal, group))
                    .collect()
            });
            let mut lines = Vec::with_capacity(chunk.len());
            let mut index = Vec::with_capacity(chunk.len());
            'chunk: for (outcome, group) in outcomes.into_iter().zip(chunk.chunks(GROUP)) {
                let done = match outcome {
                    Ok(done) => done,
                    // The journal could not name the group: nothing of it was created, and
                    // the run stops at its first device.
                    Err(err) => {
                        result = Err(err.device(group[0].line, &group[0].device_id));
                        break 'chunk;
                    }
                };
                for (o, e) in done.into_iter().zip(group) {
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
                            summary.reject(events, Rejected::new(e.line, &e.device_id, reason));
                        }
                        Err(err) => {
                            result = Err(err.device(e.line, &e.device_id));
                            break 'chunk;
                        }
                    }
                }
            }
            dealt_with += chunk.len() as u64;
            events.progress(dealt_with);
            chunk.clear();
            if !writer.send(lines, index) || result.is_err() {
                break 'input;
            }
        }
        if end {
            break;
        }
    }
    let written = writer.finish();
    result?;
    written?;
    // Every manifest line is written: what the journal still names is unfinished.
    journal.close()?;
    if !reader.ignored_columns.is_empty() {
        events.warning(&Warning::UnusedColumns(std::mem::take(
            &mut reader.ignored_columns,
        )));
    }
    summary.elapsed = started.elapsed();
    drop(lock);
    Ok(summary)
}

/// One worker's share of a chunk: looks at the devices' paths, names in the journal (one write)
/// those whose files it is about to create, then carries out each plan. One outcome per
/// device; an error for the whole group when the journal cannot be written (then nothing of
/// the group is created).
fn run_group(
    lot: &Lot<'_>,
    journal: &Journal,
    group: &[Entry],
) -> Result<Vec<Result<Done, Error>>, Error> {
    let plans: Vec<Result<(Paths, Plan), Error>> =
        group.iter().map(|e| plan(lot, journal, e)).collect();
    let begun = plans.iter().zip(group).filter_map(|(p, e)| match p {
        Ok((_, Plan::Fresh | Plan::Replace)) => Some(e.device_id.as_str()),
        _ => None,
    });
    journal.begin(begun)?;
    Ok(plans
        .into_iter()
        .zip(group)
        .map(|(p, e)| {
            let (paths, plan) = p?;
            carry_out(lot, e, &paths, plan)
        })
        .collect())
}
