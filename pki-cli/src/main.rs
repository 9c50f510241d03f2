//! The `pki` binary: parse the command line, run the command, print the error chain, exit with
//! 0 (success), 1 (negative verdict) or 2 (could not run).

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::output::{Outcome, Output};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let out = Output { json: cli.json };
    match commands::run(cli, &out) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Negative) => ExitCode::from(1),
        // Whoever read stdout has gone (`pki show ... | head`): end quietly, as ripgrep does.
        Err(err) if err.downcast_ref::<output::StdoutClosed>().is_some() => ExitCode::SUCCESS,
        Err(err) => {
            let hint = commands::hint(&err);
            if out.json {
                let doc = serde_json::json!({ "error": format!("{err:#}"), "hint": hint });
                let _ = out.json_line(&doc);
            }
            output::stderr_line(&format!(
                "pki: error: {}",
                output::escape_line(&format!("{err:#}"))
            ));
            if let Some(h) = hint {
                output::stderr_line(&format!("hint: {}", output::escape_line(&h)));
            }
            ExitCode::from(2)
        }
    }
}
