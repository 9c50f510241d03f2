//! `pki c8y upload|list|remove`: a Cumulocity tenant's trusted certificates.

use anyhow::{Result, bail};

use crate::cli::C8yCommand;
use crate::output::{Outcome, Output};

/// `pki c8y ...`.
pub(crate) fn run(_c: C8yCommand, _out: &Output) -> Result<Outcome> {
    bail!("c8y is not built yet")
}
