//! `pki issue device --batch`: the command-line side of batch provisioning. It builds the
//! [`pki_batch::Options`] from the arguments, shows what the engine reports ([`Report`]: the
//! progress bar on a terminal, rejected lines and warnings on stderr through `messages.rs`, or
//! JSON lines), calls [`pki_batch::run`], and renders the summary; the engine is the
//! `pki-batch` crate.

use std::io::BufRead;
use std::num::NonZeroUsize;

use anyhow::{Context, Result, bail};
use pki_batch::{Events, Existing, Layout, OnReject, Options, Rejected, Summary, Warning};
use pki_core::Profile;
use serde::Serialize;

use super::GlobalContext;
use super::choose_issuer;
use super::issue::DeviceArgs;
use crate::messages::{self, Progress};
use crate::output::{Outcome, Output};
use crate::{hints, output};

/// `pki issue device --batch FILE`.
pub(crate) fn run(ctx: &GlobalContext, a: DeviceArgs, out: &Output) -> Result<Outcome> {
    let Some(batch) = &a.batch else {
        bail!("give a device id or --batch FILE")
    };
    let ca = super::open_ca(ctx)?;
    let chosen = choose_issuer(ctx, &ca, &a.issuer, Profile::Device)?;
    let input: Box<dyn BufRead> = if batch.as_os_str() == "-" {
        Box::new(std::io::BufReader::with_capacity(1 << 16, std::io::stdin()))
    } else {
        let f = std::fs::File::open(batch)
            .with_context(|| format!("cannot read the batch input {}", batch.display()))?;
        Box::new(std::io::BufReader::with_capacity(1 << 16, f))
    };
    let opts = Options {
        layout: match &a.out {
            Some(d) => Layout::Folders(d.clone()),
            None => Layout::CaDir,
        },
        manifest: a.manifest.clone(),
        key_type: a.key_opts.key_type,
        days: a.key_opts.days,
        existing: if a.key_opts.force {
            Existing::Replace
        } else {
            Existing::Keep
        },
        on_reject: if a.strict {
            OnReject::Stop
        } else {
            OnReject::Continue
        },
        jobs: a.jobs.and_then(|n| NonZeroUsize::new(usize::from(n))),
        crl_url: chosen.crl_url.clone(),
    };
    let mut report = Report {
        out,
        progress: Progress::start(!out.json, || devices_in(batch)),
    };
    let result = pki_batch::run(&ca, &chosen.issuer, input, &opts, super::now(), &mut report);
    drop(report);
    let summary = result?;
    if out.json {
        out.json_line(&serde_json::json!({ "summary": SummaryJson::of(&summary) }))?;
    } else {
        output::write_stdout(output::escape_text(&text(&summary, &chosen.label)).as_bytes())?;
    }
    Ok(if summary.rejected > 0 {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}

/// The devices of the input file, the total of the progress bar: a first pass with the
/// batch's own reader, made only when the bar is drawn. None for stdin (it cannot be read
/// twice) or an input that cannot be read (the run says why).
fn devices_in(batch: &std::path::Path) -> Option<u64> {
    if batch.as_os_str() == "-" {
        return None;
    }
    let f = std::fs::File::open(batch).ok()?;
    let mut reader = pki_batch::Reader::new(std::io::BufReader::with_capacity(1 << 16, f));
    let mut devices = 0;
    while let Some(item) = reader.next_item().ok()? {
        if matches!(item, pki_batch::Item::Device(_)) {
            devices += 1;
        }
    }
    Some(devices)
}

/// What the user sees while a lot runs.
struct Report<'a> {
    out: &'a Output,
    /// The bar, on a terminal without `--json`; cleared when the report is dropped.
    progress: Progress,
}

impl Events for Report<'_> {
    fn rejected(&mut self, r: &Rejected) {
        if self.out.json {
            // A closed stdout ends the report, not the lot: the manifest records it.
            let _ = self
                .out
                .json_line(&serde_json::json!({ "rejected": RejectedJson::of(r) }));
        } else {
            // The id and the reason come from the input and the file system: escaped there.
            messages::rejected(&format!(
                "line {}: {:?}: {}",
                r.line,
                r.device_id,
                hints::rejected(&r.reason)
            ));
        }
    }

    fn progress(&mut self, done: u64) {
        self.progress.set(done);
    }

    fn warning(&mut self, w: &Warning) {
        messages::warning(&w.to_string());
    }
}

/// A rejected line in JSON.
#[derive(Serialize)]
struct RejectedJson<'a> {
    line: usize,
    device_id: &'a str,
    reason: String,
}

impl<'a> RejectedJson<'a> {
    fn of(r: &'a Rejected) -> Self {
        RejectedJson {
            line: r.line,
            device_id: &r.device_id,
            reason: hints::rejected(&r.reason),
        }
    }
}

/// The summary in JSON.
#[derive(Serialize)]
struct SummaryJson<'a> {
    issued: u64,
    /// Already complete from an earlier run.
    skipped: u64,
    /// Found issued by an interrupted run and completed from its files (not issued again).
    completed: u64,
    rejected: u64,
    seconds: f64,
    per_second: f64,
    manifest: String,
    /// The first rejected lines (all of them are printed as they come).
    rejections: Vec<RejectedJson<'a>>,
    stopped_early: bool,
}

impl<'a> SummaryJson<'a> {
    fn of(s: &'a Summary) -> Self {
        SummaryJson {
            issued: s.issued,
            skipped: s.skipped,
            completed: s.completed,
            rejected: s.rejected,
            seconds: s.elapsed.as_secs_f64(),
            per_second: s.per_second(),
            manifest: s.manifest.display().to_string(),
            rejections: s.rejections.iter().map(RejectedJson::of).collect(),
            stopped_early: s.stopped_early,
        }
    }
}

fn text(s: &Summary, issuer: &str) -> String {
    let mut t = format!(
        "batch: {} issued, {} already done, {} completed from an interrupted run, {} rejected\n",
        s.issued, s.skipped, s.completed, s.rejected
    );
    t += &format!(
        "  issued by {issuer} in {:.2} s ({:.0} certificates/s)\n  manifest: {}\n",
        s.elapsed.as_secs_f64(),
        s.per_second(),
        s.manifest.display()
    );
    if s.stopped_early {
        t += "  stopped at the first rejected line (--strict)\n";
    }
    t
}
