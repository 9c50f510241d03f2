//! `pki issue device --batch`: the command-line side of batch provisioning (input, options,
//! progress, the summary); the engine is in `crate::batch`.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::{Context, Result, bail};
use pki_core::CaRole;

use super::{choose_issuer, key_type};
use crate::batch::{Layout, Options, Rejected, Summary};
use crate::cli::DeviceArgs;
use crate::output::{Outcome, Output, escape_line};

/// `pki issue device --batch FILE`.
pub(crate) fn run(dir: &Path, a: DeviceArgs, out: &Output) -> Result<Outcome> {
    let Some(batch) = &a.batch else {
        bail!("give a device id or --batch FILE")
    };
    let kt = key_type(&a.key_opts.key_type)?;
    let ca = super::open_ca(dir, out)?;
    let chosen = choose_issuer(&ca, &a.issuer, &[CaRole::Intermediate, CaRole::Root])?;
    let input: Box<dyn BufRead + Send> = if batch.as_os_str() == "-" {
        Box::new(std::io::BufReader::with_capacity(1 << 16, std::io::stdin()))
    } else {
        let f = std::fs::File::open(batch)
            .with_context(|| format!("cannot read the batch input {}", batch.display()))?;
        Box::new(std::io::BufReader::with_capacity(1 << 16, f))
    };
    let (layout, default_manifest) = match &a.out {
        Some(d) => (Layout::Folders(d.clone()), d.join("manifest.jsonl")),
        None => (Layout::CaDir, ca.path().join("manifest.jsonl")),
    };
    // A lot-wide validity no certificate can hold is refused before anything starts.
    if let Some(d) = a.key_opts.days {
        let mut probe = pki_core::Request::new(
            pki_core::Profile::Device,
            pki_core::Subject::cn("device"),
            super::now(),
        );
        probe.days = d;
        probe.not_after()?;
    }
    let opts = Options {
        layout,
        manifest: a.manifest.clone().unwrap_or(default_manifest),
        key_type: kt,
        days: a.key_opts.days,
        strict: a.strict,
        force: a.key_opts.force,
        reserved: ca
            .edge_ca_names()?
            .into_iter()
            .map(|n| {
                let cn = format!("{n}.ca");
                let why = format!("{cn} is the CN of the IoT Edge device CA {n:?}; a device id must differ from it");
                (cn, why)
            })
            .collect(),
        progress: !out.json && std::io::stderr().is_terminal(),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.jobs.map_or(0, usize::from))
        .build()
        .context("cannot start the worker threads")?;
    let json = out.json;
    let summary = pool.install(|| {
        crate::batch::run(&ca, &chosen.issuer, input, &opts, |r: &Rejected| {
            if json {
                // A closed stdout ends the report, not the lot: the manifest records it.
                let _ = out.json_line(&serde_json::json!({ "rejected": r }));
            } else {
                // The id and the reason come from the input and the file system: escaped.
                crate::output::stderr_line(&format!(
                    "pki: rejected: {}",
                    escape_line(&format!("line {}: {:?}: {}", r.line, r.device_id, r.reason))
                ));
            }
        })
    })?;
    if json {
        out.json_line(&serde_json::json!({ "summary": summary }))?;
    } else {
        crate::output::write_stdout(
            crate::output::escape_text(&text(&summary, &chosen.label)).as_bytes(),
        )?;
    }
    Ok(if summary.rejected > 0 {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}

fn text(s: &Summary, issuer: &str) -> String {
    let mut t = format!(
        "batch: {} issued, {} already done, {} completed from an interrupted run, {} rejected\n",
        s.issued, s.skipped, s.completed, s.rejected
    );
    t += &format!(
        "  issued by {issuer} in {:.2} s ({:.0} certificates/s)\n  manifest: {}\n",
        s.seconds, s.per_second, s.manifest
    );
    if s.stopped_early {
        t += "  stopped at the first rejected line (--strict)\n";
    }
    t
}
