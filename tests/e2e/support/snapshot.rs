//! Pinning the text pki prints with insta snapshots: one set of filters for everything that
//! changes from run to run (temporary paths, ports, dates, fingerprints, serials, durations),
//! and the transcript of a run that a snapshot holds.
//!
//! A test binds [`settings`] and calls `insta::assert_snapshot!` itself, so that the snapshot
//! is named after the test and kept in `tests/e2e/snapshots/`. With `CI=true` insta never
//! writes a snapshot: a missing or different one fails the test (`cargo insta review`, or
//! `INSTA_UPDATE=always`, records them on a developer's machine).

use std::path::Path;

use super::run::Run;

/// Filters for the fields of `pki show`'s text (lines that start with the field's name),
/// applied first.
const FIELDS: &[(&str, &str)] = &[
    (
        r"(?m)^(Status:\s+VALID \(expires in: )[^)]+\)",
        "$1[DURATION])",
    ),
    (r"(?m)^(Valid (from|until):\s+).*", "$1[DATE]"),
    (
        r"(?m)^(Thumbprint|SHA-256|Subject key id|Authority key id):(\s+)\S+",
        "$1:$2[HEX]",
    ),
];

/// Filters for what changes from run to run wherever it appears, in the order they apply.
const CHANGING: &[(&str, &str)] = &[
    // Ports on loopback, in addresses, URLs and words.
    (r"\b(127\.0\.0\.1|localhost):\d{1,5}\b", "$1:[PORT]"),
    (r"\bport \d{1,5}\b", "port [PORT]"),
    // Serial numbers of 64 bits or more (pki's are random), as `pki show` prints them
    // (decimal, then hex) or in hex alone.
    (r"\b\d{19,} \(0x[0-9A-Fa-f]+\)", "[SERIAL]"),
    (r"\b0x[0-9A-Fa-f]{16,}\b", "[SERIAL]"),
    // SHA-256 and SHA-1 fingerprints: upper or lower case, with colons or without.
    (r"\b[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}\b", "[SHA-256]"),
    (r"\b[0-9A-Fa-f]{64}\b", "[SHA-256]"),
    (r"\b[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){19}\b", "[SHA-1]"),
    (r"\b[0-9A-Fa-f]{40}\b", "[SHA-1]"),
    // The start of the SHA-256 that names a certificate pki installs (pki-NAME-1a2b3c4d.crt).
    (r"\b(pki-[0-9a-z-]*?)-[0-9a-f]{8}\b", "$1-[SHA-256 PREFIX]"),
    // Dates: RFC 3339 (with or without a time), OpenSSL's, RFC 2822.
    (
        r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[DATE]",
    ),
    (r"\b\d{4}-\d{2}-\d{2}\b", "[DATE]"),
    (
        r"\b[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}( GMT)?",
        "[DATE]",
    ),
    (
        r"\b[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}",
        "[DATE]",
    ),
    // How long a batch took and its rate.
    (
        r"\bin \d+(\.\d+)? s \(\d+(\.\d+)? certificates/s\)",
        "in [SECONDS] s ([RATE] certificates/s)",
    ),
];

/// insta settings with every filter: `temp` (the test's temporary directories, as given and
/// as the system resolves them) becomes `[TMP]`, and what changes from run to run becomes a
/// placeholder (`[PORT]`, `[SERIAL]`, `[SHA-256]`, `[SHA-1]`, `[DATE]`, `[SECONDS]`, ...).
pub(crate) fn settings(temp: &[&Path]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for dir in temp {
        let mut paths = vec![dir.display().to_string()];
        if let Ok(real) = dir.canonicalize() {
            paths.push(real.display().to_string());
        }
        // The longer first, should one contain the other.
        paths.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in paths {
            settings.add_filter(&escape(&p), "[TMP]");
        }
    }
    for (pattern, replacement) in FIELDS.iter().chain(CHANGING) {
        settings.add_filter(pattern, *replacement);
    }
    settings
}

/// `text` as a regular expression that matches exactly it.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// What a run shows its user, as one text: the exit code, stdout and stderr.
pub(crate) fn transcript(r: &Run) -> String {
    format!(
        "exit code: {}\n--- stdout\n{}--- stderr\n{}",
        r.code, r.stdout, r.stderr
    )
}
