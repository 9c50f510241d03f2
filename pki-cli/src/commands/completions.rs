//! `pki completions`: the shell completion script of the whole command line.

use anyhow::Result;
use clap::{Args, CommandFactory};

use crate::cli::Cli;
use crate::output::Outcome;

/// `pki completions`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "EXAMPLES:\n",
    "  pki completions bash > /etc/bash_completion.d/pki\n",
    "  pki completions zsh > \"${fpath[1]}/_pki\"\n\n",
    "EXIT CODES:\n  0  success\n  2  could not run"))]
pub(crate) struct CompletionsArgs {
    /// The shell.
    pub(crate) shell: clap_complete::Shell,
}

/// `pki completions SHELL`.
pub(crate) fn run(a: CompletionsArgs) -> Result<Outcome> {
    let mut cmd = Cli::command();
    // Generated into memory: clap_complete panics when its writer fails.
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "pki", &mut script);
    crate::output::write_stdout(&script)?;
    Ok(Outcome::Success)
}
