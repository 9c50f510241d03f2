//! Everything pki says on stderr, one line each: warnings, the tenant's retries, the rejected
//! lines of a batch, the error that ended the run and its hint, and the batch's progress bar
//! (ripgrep's `messages.rs`). Results go to stdout, through `output.rs`; nothing else in the
//! binary writes to stderr.
//!
//! Every line is escaped ([`escape_line`]): a value from outside (a subject, a path, a tenant's
//! message) can neither start a line of its own nor move the cursor. While the progress bar is
//! drawn, a line is written with the bar out of its way.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use crate::output::escape_line;

/// The progress bar being drawn, if one is: every line is written around it.
static BAR: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

/// Writes one line to stderr, with the progress bar out of its way. A stderr that cannot be
/// written is not worth a panic.
fn line(text: &str) {
    let bar = BAR.lock().ok().and_then(|bar| bar.clone());
    let write = || {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    };
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// `pki: warning: MESSAGE`.
pub(crate) fn warning(message: &str) {
    line(&format!("pki: warning: {}", escape_line(message)));
}

/// `pki: retrying GET /tenant/currentTenant in 0.2 s (attempt 2 of 4): ...`: a retry of the
/// tenant's (redacted by pki-c8y).
pub(crate) fn retrying(retry: &pki_c8y::Retry) {
    line(&escape_line(&format!("pki: {retry}")));
}

/// `pki: rejected: WHAT`: a line of a batch's input that was not issued.
pub(crate) fn rejected(what: &str) {
    line(&format!("pki: rejected: {}", escape_line(what)));
}

/// `pki: error: MESSAGE`, then `hint: HINT` where the fix is known: how a run that could not
/// run ends.
pub(crate) fn error(message: &str, hint: Option<&str>) {
    line(&format!("pki: error: {}", escape_line(message)));
    if let Some(hint) = hint {
        line(&format!("hint: {}", escape_line(hint)));
    }
}

/// The progress of a batch: a bar with the devices done of the total, the rate and the time
/// left (a spinner with the count, the rate and the time when the total is not known: an input
/// on stdin), on stderr when it is a terminal, never with `--json`. Finished (and cleared) when
/// dropped.
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// Starts the bar when `wanted` (no `--json`) and stderr is a terminal, with the `total`
    /// it counts then (a first pass over the input); else a progress that shows nothing and
    /// counts nothing.
    pub(crate) fn start(wanted: bool, total: impl FnOnce() -> Option<u64>) -> Progress {
        if !(wanted && std::io::stderr().is_terminal()) {
            return Progress { bar: None };
        }
        let (bar, template) = match total() {
            Some(total) => (
                indicatif::ProgressBar::new(total),
                "{bar:30} {pos}/{len} devices  {per_sec}  ETA {eta}  {elapsed_precise}",
            ),
            None => (
                indicatif::ProgressBar::new_spinner(),
                "{spinner} {pos} devices  {per_sec}  {elapsed_precise}",
            ),
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        // Drawn at once: 0 of the total before the first device.
        bar.tick();
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        if let Ok(mut shown) = BAR.lock() {
            *shown = Some(bar.clone());
        }
        Progress { bar: Some(bar) }
    }

    /// `done` devices so far.
    pub(crate) fn set(&self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            if let Ok(mut shown) = BAR.lock() {
                *shown = None;
            }
            bar.finish_and_clear();
        }
    }
}
