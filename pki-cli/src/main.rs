//! The `pki` binary: parse the command line, run the command, print the error chain, exit with
//! 0 (success), 1 (negative verdict) or 2 (could not run).

mod batch;
mod c8y;
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
        Err(err) => {
            let hint = commands::hint(&err);
            if out.json {
                let doc = serde_json::json!({ "error": format!("{err:#}"), "hint": hint });
                println!("{doc}");
            }
            eprintln!("pki: error: {}", output::escape_line(&format!("{err:#}")));
            if let Some(h) = hint {
                eprintln!("hint: {}", output::escape_line(&h));
            }
            ExitCode::from(2)
        }
    }
}
