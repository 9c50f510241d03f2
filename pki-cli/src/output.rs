//! Rendering: a command's serialisable report goes to stdout as text or as one JSON document;
//! warnings and progress go to stderr.

use std::io::Write;

use serde::Serialize;

/// How a command ended when it ran to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Success: exit 0.
    Success,
    /// A negative verdict (a key that does not match, a chain that does not verify): exit 1.
    Negative,
}

/// Where and how results are printed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    /// One JSON document on stdout instead of text.
    pub(crate) json: bool,
}

impl Output {
    /// Prints the report: as JSON, or as the text `text` renders.
    pub(crate) fn emit<T: Serialize>(
        &self,
        report: &T,
        text: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        let mut stdout = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer_pretty(&mut stdout, report)?;
            writeln!(stdout)?;
        } else {
            write!(stdout, "{}", text())?;
        }
        stdout.flush()?;
        Ok(())
    }

    /// A warning on stderr.
    pub(crate) fn warn(&self, message: &str) {
        eprintln!("pki: warning: {message}");
    }
}

/// Left-aligned `label: value` lines with the values in one column.
pub(crate) fn fields(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0) + 1;
    rows.iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(l, v)| format!("{:<width$} {v}\n", format!("{l}:")))
        .collect()
}
