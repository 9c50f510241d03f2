//! The `pki` binary: parse the command line, run the command, print the error chain, exit with
//! 0 (success), 1 (negative verdict) or 2 (could not run).

mod cli;
mod commands;
mod hints;
mod hook;
#[cfg(test)]
mod library_words;
mod messages;
mod output;
mod quote;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::output::{Outcome, Output};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // A value pki itself refused (a key type, an --at time, a --timeout) ends as any
            // error of a command does: one line, its hint, and with --json its document.
            let bad = std::error::Error::source(&e)
                .and_then(|s| s.downcast_ref::<cli::BadValue>())
                .filter(|_| e.kind() == clap::error::ErrorKind::ValueValidation);
            match bad {
                Some(bad) => return fail(&bad.0, &Output::new(json_requested(&args))),
                // Usage errors, --help and --version: clap's own words and exit code.
                None => e.exit(),
            }
        }
    };
    let out = Output::new(cli.json);
    match commands::run(cli, &out) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Negative) => ExitCode::from(1),
        // Whoever read stdout has gone (`pki show ... | head`): end quietly, as ripgrep does.
        Err(err) if err.downcast_ref::<output::StdoutClosed>().is_some() => ExitCode::SUCCESS,
        Err(err) => fail(&err, &out),
    }
}

/// Ends a run that could not run: the error line and its hint on stderr, the error document on
/// stdout with `--json`, exit 2.
fn fail(err: &anyhow::Error, out: &Output) -> ExitCode {
    let line = hints::error_line(err);
    let hint = hints::hint(err);
    out.error(&line, hint.as_deref());
    messages::error(&line, hint.as_deref());
    ExitCode::from(2)
}

/// Whether the command line asks for JSON, for an error found while parsing it (before clap
/// has said what `--json` is): the global flag anywhere before a `--`.
fn json_requested(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}
