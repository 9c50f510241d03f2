//! Rendering: a command's serialisable report goes to stdout as text or as one JSON document
//! (and a batch's lines as JSON Lines); the escaping of text for a terminal. Warnings, progress
//! and errors go to stderr, through `messages.rs`.
//!
//! With `--json`, stdout holds exactly one document per run: the report ([`Output::emit`]) or,
//! when the run could not run, the error ([`Output::error`]), never both. A command emits its
//! report as its last step, after everything that can fail; should an error still follow a
//! report (stdout failing mid-write), the error goes to stderr only.

use std::cell::Cell;
use std::io::Write;

use serde::Serialize;

use crate::codes::Code;

/// How a command ended when it ran to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Success: exit 0.
    Success,
    /// A negative verdict (a key that does not match, a chain that does not verify): exit 1.
    Negative,
}

/// Where and how results are printed.
#[derive(Debug)]
pub(crate) struct Output {
    /// One JSON document on stdout instead of text.
    pub(crate) json: bool,
    /// The run's document has been (or is being) written.
    printed: Cell<bool>,
}

impl Output {
    /// Prints as text, or as JSON with `json`.
    pub(crate) fn new(json: bool) -> Output {
        Output {
            json,
            printed: Cell::new(false),
        }
    }

    /// Prints the run's report: as JSON, or as the text `text` renders. Once per run.
    pub(crate) fn emit<T: Serialize>(
        &self,
        report: &T,
        text: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        debug_assert!(!self.printed.get(), "a second report in one run");
        self.printed.set(true);
        if self.json {
            let mut doc = json_safe(&serde_json::to_string_pretty(report)?);
            doc.push('\n');
            write_stdout(doc.as_bytes())
        } else {
            write_stdout(escape_text(&text()).as_bytes())
        }
    }

    /// One JSON document on a line of its own (JSON Lines, for streams such as a batch).
    pub(crate) fn json_line<T: Serialize>(&self, value: &T) -> anyhow::Result<()> {
        let mut line = json_safe(&serde_json::to_string(value)?);
        line.push('\n');
        write_stdout(line.as_bytes())
    }

    /// With `--json`, the document of a run that could not run: `{"code": ..., "error": ...,
    /// "hint": ...}` on one line (the codes: `codes.rs`, `docs/errors.md`), unless the run's report was already printed (stdout then holds that one
    /// document, and the error is said on stderr only). A stdout that cannot take it is not
    /// worth another error: the error line on stderr says it all.
    pub(crate) fn error(&self, code: Code, error: &str, hint: Option<&str>) {
        if !self.json || self.printed.replace(true) {
            return;
        }
        let _ = self.json_line(&serde_json::json!({ "code": code, "error": error, "hint": hint }));
    }
}

/// Writes to stdout and flushes. A closed pipe (`pki show ... | head`) is reported as
/// [`StdoutClosed`], which ends pki quietly, as ripgrep does; any other failure (a full disk
/// behind `>`) is an error naming stdout.
pub(crate) fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to standard output")),
    }
}

/// The reader of stdout went away: nothing more to say, to no one.
#[derive(Debug)]
pub(crate) struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// Left-aligned `label: value` lines with the values in one column. A value is one line: a
/// line feed or any other control character in it (a subject, a name from outside) is escaped.
pub(crate) fn fields(rows: &[(&str, String)]) -> String {
    let rows: Vec<(&str, Vec<String>)> = rows.iter().map(|(l, v)| (*l, vec![v.clone()])).collect();
    field_lists(&rows)
}

/// As [`fields`], for values of several lines: each line of a value is escaped on its own and
/// the lines after the first are indented to the value column. Empty lines are left out; a
/// row with no line is left out.
pub(crate) fn field_lists(rows: &[(&str, Vec<String>)]) -> String {
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0) + 1;
    let mut out = String::new();
    for (label, values) in rows {
        let mut first = true;
        for v in values.iter().filter(|v| !v.is_empty()) {
            let label = if first {
                format!("{label}:")
            } else {
                String::new()
            };
            out += &format!("{label:<width$} {}\n", escape_line(v));
            first = false;
        }
    }
    out
}

/// The most characters a table cell shows; a longer one (a tenant's field, a gateway's
/// message) is cut and ends in `…`. It also bounds every column's width: a width is never near
/// the 65,535 that `format!` widths stop at, nor wider than a reader can follow.
pub(crate) const MAX_CELL: usize = 256;

/// Rows of cells in columns: a header row, then one line a row, columns two spaces apart and
/// left-aligned, the last column unpadded and trailing spaces trimmed. Every cell is escaped
/// ([`escape_line`]: nothing from outside can start a line or move the cursor) and cut to
/// [`MAX_CELL`] characters, so that every line is bounded whatever the cells hold. Widths are
/// counted in characters. The one renderer of tables (`c8y list`, `scan`).
pub(crate) fn table<const N: usize>(head: [&str; N], rows: &[[String; N]]) -> String {
    let cells: Vec<[String; N]> = std::iter::once(head.map(cell))
        .chain(rows.iter().map(|row| row.each_ref().map(|c| cell(c))))
        .collect();
    let mut widths = [0usize; N];
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for row in &cells {
        let mut line = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            line += c;
            if i + 1 < N {
                // Padding by hand: no format width, whatever the width.
                let pad = w - c.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out += line.trim_end();
        out.push('\n');
    }
    out
}

/// A table cell: escaped, and cut to [`MAX_CELL`] characters (the last one `…`).
fn cell(s: &str) -> String {
    let s = escape_line(s);
    if s.chars().count() <= MAX_CELL {
        return s.into_owned();
    }
    let mut cut: String = s.chars().take(MAX_CELL - 1).collect();
    cut.push('…');
    cut
}

/// Text for a terminal: every control character but the line feed and the tab (ESC, BEL, CR,
/// NUL, DEL, the C1 controls) and the bidirectional overrides are escaped, so that nothing a
/// certificate, a gateway or a tenant says can move the cursor, recolour the terminal or hide
/// text. Every text report passes through it on its way to stdout.
pub(crate) fn escape_text(s: &str) -> std::borrow::Cow<'_, str> {
    escape(s, true)
}

/// One line for a terminal: as [`escape_text`], and line feeds and tabs are escaped too, so that
/// a value from outside (a subject, a name, a tenant's message) can never start a line of its
/// own. Error lines, warnings and untrusted values inside reports use it.
pub(crate) fn escape_line(s: &str) -> std::borrow::Cow<'_, str> {
    escape(s, false)
}

/// JSON for a terminal: serde_json escapes the C0 controls but leaves DEL, the C1 controls
/// (U+009B is a CSI to some terminals) and the bidirectional overrides raw; they can only occur
/// inside strings, where `\uXXXX` is the same value to every JSON reader.
pub(crate) fn json_safe(doc: &str) -> String {
    let odd = |c: char| matches!(c, '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !doc.chars().any(odd) {
        return doc.to_owned();
    }
    let mut out = String::with_capacity(doc.len() + 16);
    for c in doc.chars() {
        if odd(c) {
            out += &format!("\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn escape(s: &str, keep_lines: bool) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && !(keep_lines && (c == '\n' || c == '\t')))
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            if (c as u32) < 0x100 {
                out += &format!("\\x{:02x}", c as u32);
            } else {
                out += &format!("\\u{{{:04x}}}", c as u32);
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_prints_one_document_its_report_or_its_error() {
        let out = Output::new(true);
        assert!(!out.printed.get());
        // Without a report, the error is the document.
        out.error(Code::Failed, "it failed", None);
        assert!(out.printed.get());
        // After a report, no second document.
        let out = Output::new(true);
        out.printed.set(true);
        out.error(Code::Failed, "after the report", None);
        assert!(out.printed.get());
        // As text, stdout never holds an error.
        let out = Output::new(false);
        out.error(Code::Failed, "it failed", None);
        assert!(!out.printed.get());
    }

    #[test]
    fn field_lists_indent_their_lines_and_escape_each() {
        let text = field_lists(&[
            ("ran", vec!["one".into(), "two\nFAKE".into()]),
            ("file", vec![]),
            ("SHA-256", vec!["AB".into()]),
        ]);
        assert_eq!(text, "ran:     one\n         two\\x0aFAKE\nSHA-256: AB\n");
    }

    #[test]
    fn tables_bound_every_cell_and_escape_it() {
        let t = table(
            ["A", "LONG", "LAST"],
            &[
                ["x\ny".into(), "z".repeat(70_000), "end".into()],
                ["é".into(), "short".into(), "w".repeat(70_000)],
            ],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3, "{t:.300}");
        for l in &lines {
            assert!(l.chars().count() <= 3 * MAX_CELL + 4, "{l:.300}");
        }
        let pad = " ".repeat(MAX_CELL - 4 + 2);
        assert_eq!(lines[0], format!("A       LONG{pad}LAST"));
        let long = format!("{}…", "z".repeat(MAX_CELL - 1));
        assert_eq!(lines[1], format!("x\\x0ay  {long}  end"));
        assert!(lines[2].starts_with("é       short  "), "{:.40}", lines[2]);
        assert!(lines[2].ends_with("ww…"), "{:.40}", lines[2]);
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_text("plain\nline\t2"), "plain\nline\t2");
        assert_eq!(
            escape_text("a\u{1b}[31mred\u{7}\r\0\u{9b}\u{202e}"),
            "a\\x1b[31mred\\x07\\x0d\\x00\\x9b\\u{202e}"
        );
        assert_eq!(escape_line("two\nlines\t"), "two\\x0alines\\x09");
        assert!(matches!(escape_line("ok"), std::borrow::Cow::Borrowed(_)));
        let doc = serde_json::to_string(&"a\u{9b}2J\u{202e}").unwrap();
        let safe = json_safe(&doc);
        assert_eq!(safe, r#""a\u009b2J\u202e""#);
        assert_eq!(
            serde_json::from_str::<String>(&safe).unwrap(),
            "a\u{9b}2J\u{202e}"
        );
    }
}
