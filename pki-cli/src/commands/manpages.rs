//! `pki manpages DIR` (hidden): the man pages of `pki` and of every command and sub-command
//! (pki.1, pki-issue.1, pki-issue-server.1, pki-c8y-upload.1 ...), rendered by clap_mangen from
//! the clap definitions (`cli.rs` and each command's file).
//!
//! A command of the binary rather than an xtask or an example, as `pki completions` is: the clap
//! types are private to the binary crate, and the pages a package ships are then written by the
//! very binary they describe (scripts/deb.sh runs the release build's `pki manpages`), so they
//! cannot disagree with it. It is hidden: a user reads the pages, never makes them.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;
use serde::Serialize;

use crate::cli::Cli;
use crate::output::{Outcome, Output};

/// `pki manpages`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = concat!(
    "EXAMPLES:\n",
    "  pki manpages target/man/man1 && man -l target/man/man1/pki-issue.1\n\n",
    "EXIT CODES:\n  0  written\n  2  could not run (the directory cannot be made or written)"))]
pub(crate) struct ManpagesArgs {
    /// The directory the pages are written in (made when missing).
    #[arg(value_name = "DIR")]
    pub(crate) out: std::path::PathBuf,
}

/// What `pki manpages` wrote.
#[derive(Debug, Serialize)]
struct Report {
    /// The directory the pages are in.
    dir: String,
    /// Their file names, `pki.1` first, in the order of the commands.
    pages: Vec<String>,
}

/// Writes every page into `out` (created when missing; pages already there are replaced).
pub(crate) fn run(out_dir: &Path, out: &Output) -> Result<Outcome> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Built once, so that every sub-command knows its display name (`pki-issue-server`), which
    // names its page and its title.
    cmd.build();
    let mut pages = Vec::new();
    render_all(&cmd, &mut pages)?;

    pki_core::files::create_dir_all(out_dir, 0o755)
        .with_context(|| format!("cannot create the directory {}", out_dir.display()))?;
    for (name, roff) in &pages {
        let path = out_dir.join(name);
        pki_core::files::write_file(&path, roff, 0o644, true)
            .with_context(|| format!("cannot write the man page {}", path.display()))?;
    }
    let report = Report {
        dir: out_dir.display().to_string(),
        pages: pages.into_iter().map(|(name, _)| name).collect(),
    };
    out.emit(&report, || {
        format!("wrote {} man pages in {}\n", report.pages.len(), report.dir)
    })?;
    Ok(Outcome::Success)
}

/// The pages of `cmd` and of its visible sub-commands, depth first: (file name, roff).
fn render_all(cmd: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    pages.push(page(cmd)?);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        render_all(sub, pages)?;
    }
    Ok(())
}

/// One command's page: clap_mangen's NAME, SYNOPSIS, DESCRIPTION, OPTIONS, SUBCOMMANDS and
/// VERSION, with the long help's closing text (`after_long_help`) made into sections of its own
/// (EXAMPLES, EXIT CODES, ...) instead of clap_mangen's one filled "EXTRA" section: the prose
/// before the first heading ends the DESCRIPTION, and each section is set unfilled, so that an
/// example stays one line to copy.
fn page(cmd: &clap::Command) -> Result<(String, Vec<u8>)> {
    let after = cmd
        .get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(|text| text.to_string())
        .unwrap_or_default();
    let (prose, sections) = split_after_help(&after);
    let mut bare = cmd
        .clone()
        .after_help(None::<&str>)
        .after_long_help(None::<&str>);
    if !prose.is_empty() {
        let about = cmd
            .get_long_about()
            .or_else(|| cmd.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        bare = bare.long_about(format!("{about}\n\n{prose}"));
    }
    let man = clap_mangen::Man::new(bare).source(format!("pki {}", env!("CARGO_PKG_VERSION")));
    let mut roff = Vec::new();
    man.render(&mut roff)
        .with_context(|| format!("cannot render the man page of {}", cmd.get_name()))?;
    // clap_mangen writes UTF-8 roff, and so does the roff crate below.
    let mut text = String::from_utf8_lossy(&roff).into_owned();

    let mut extra = roff::Roff::new();
    for (heading, lines) in &sections {
        extra.control("SH", [heading.as_str()]);
        extra.control("nf", []);
        for line in lines {
            extra.text([roff::roman(*line)]);
        }
        extra.control("fi", []);
    }
    // Both renderings open with the roff crate's apostrophe preamble: keep the page's one.
    let preamble = roff::Roff::new().render();
    let extra = extra.render();
    let extra = extra.strip_prefix(preamble.as_str()).unwrap_or(&extra);
    match text.find("\n.SH VERSION\n") {
        Some(at) => text.insert_str(at + 1, extra),
        None => text.push_str(extra),
    }
    Ok((man.get_filename(), text.into_bytes()))
}

/// A long help's closing text as its opening prose and its sections: a line such as
/// `EXAMPLES:` (capitals, a colon) opens a section, which runs to the next one; blank lines
/// at a section's end are dropped.
fn split_after_help(text: &str) -> (String, Vec<(String, Vec<&str>)>) {
    let mut prose = Vec::new();
    let mut sections: Vec<(String, Vec<&str>)> = Vec::new();
    for line in text.lines() {
        let heading = line
            .strip_suffix(':')
            .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_uppercase() || c == ' '));
        match (heading, sections.last_mut()) {
            (Some(h), _) => sections.push((h.to_owned(), Vec::new())),
            (None, Some((_, lines))) => lines.push(line),
            (None, None) => prose.push(line),
        }
    }
    for (_, lines) in &mut sections {
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
    }
    (prose.join("\n").trim().to_owned(), sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_help_splits_into_prose_and_unfilled_sections() {
        let (prose, sections) = split_after_help(
            "Writes a file.\nAnd another.\n\nEXAMPLES:\n  pki x --y\n\nEXIT CODES:\n  0  success\n",
        );
        assert_eq!(prose, "Writes a file.\nAnd another.");
        assert_eq!(
            sections,
            vec![
                ("EXAMPLES".to_owned(), vec!["  pki x --y"]),
                ("EXIT CODES".to_owned(), vec!["  0  success"]),
            ]
        );
    }

    #[test]
    fn every_visible_command_has_a_page_with_its_sections() {
        let mut cmd = Cli::command().disable_help_subcommand(true);
        cmd.build();
        let mut pages = Vec::new();
        render_all(&cmd, &mut pages).unwrap();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        for name in [
            "pki.1",
            "pki-issue.1",
            "pki-issue-server.1",
            "pki-c8y-upload.1",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        assert!(
            !names.contains(&"pki-manpages.1"),
            "the hidden command has no page"
        );
        let server = &pages
            .iter()
            .find(|(n, _)| n == "pki-issue-server.1")
            .unwrap()
            .1;
        let server = String::from_utf8_lossy(server);
        assert!(server.contains(".SH EXAMPLES\n.nf\n"), "{server}");
        assert!(server.contains(".SH \"EXIT CODES\"\n.nf\n"), "{server}");
        assert!(!server.contains("EXTRA"), "{server}");
        assert!(server.find(".SH EXAMPLES") < server.find(".SH VERSION"));
    }
}
