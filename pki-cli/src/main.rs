//! The `pki` binary: parse the command line, run the command, print the error chain, exit with
//! 0 (success), 1 (negative verdict) or 2 (could not run).

mod args;
mod cli;
mod codes;
mod commands;
mod env;
mod hints;
mod hook;
#[cfg(test)]
mod library_words;
mod messages;
mod output;
mod quote;

use std::ffi::OsString;
use std::process::ExitCode;

use crate::codes::Code;
use crate::output::{Outcome, Output};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = match cli::parse(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // A value pki itself refused (a key type, an --at time, a --timeout) ends as any
            // error of a command does: one line, its hint, and with --json its document.
            let bad = std::error::Error::source(&e)
                .and_then(|s| s.downcast_ref::<cli::BadValue>())
                .filter(|_| e.kind() == clap::error::ErrorKind::ValueValidation);
            let out = Output::new(json_requested(&args));
            match bad {
                Some(bad) => return fail(&bad.0, &out, Code::Usage),
                // A usage error with --json: clap's own words on stderr, and its document.
                None if out.json && e.use_stderr() => {
                    let (line, hint) = usage_error(&e);
                    out.error(Code::Usage, &line, hint.as_deref());
                    let _ = e.print();
                    return ExitCode::from(2);
                }
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
        Err(err) => fail(&err, &out, Code::Failed),
    }
}

/// Ends a run that could not run: the error line and its hint on stderr, the error document
/// (with its code, or `fallback` when no error of the chain has one) on stdout with `--json`,
/// exit 2.
fn fail(err: &anyhow::Error, out: &Output, fallback: Code) -> ExitCode {
    let line = hints::error_line(err);
    let hint = hints::hint(err);
    out.error(codes::code(err, fallback), &line, hint.as_deref());
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

/// A clap usage error as an error line and a hint: clap's message on one line (`the following
/// required arguments were not provided: <DEVICE_ID>`), and its tip, or else the usage line.
fn usage_error(e: &clap::Error) -> (String, Option<String>) {
    let text = e.render().to_string();
    let one_line = |p: &str| p.split_whitespace().collect::<Vec<_>>().join(" ");
    let paragraphs: Vec<&str> = text.split("\n\n").map(str::trim).collect();
    let usage = paragraphs
        .iter()
        .find(|p| p.starts_with("Usage:"))
        .map(|p| one_line(p));
    let tip = paragraphs
        .iter()
        .find_map(|p| p.strip_prefix("tip:"))
        .map(one_line);
    let line = if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // clap shows the help: no message of its own.
        "a command is required".to_owned()
    } else {
        paragraphs
            .first()
            .map(|p| one_line(p.strip_prefix("error:").unwrap_or(p)))
            .unwrap_or_else(|| e.kind().to_string())
    };
    (line, tip.or(usage))
}
