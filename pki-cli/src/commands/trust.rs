//! `pki install-ca`, `pki uninstall-ca`, `pki list-ca`: the operating system's trust store.

use anyhow::{Result, bail};

use crate::cli::{InstallCaArgs, ListCaArgs, UninstallCaArgs};
use crate::output::{Outcome, Output};

/// `pki install-ca`.
pub(crate) fn install(_a: InstallCaArgs, _out: &Output) -> Result<Outcome> {
    bail!("install-ca is not built yet")
}

/// `pki uninstall-ca`.
pub(crate) fn uninstall(_a: UninstallCaArgs, _out: &Output) -> Result<Outcome> {
    bail!("uninstall-ca is not built yet")
}

/// `pki list-ca`.
pub(crate) fn list(_a: ListCaArgs, _out: &Output) -> Result<Outcome> {
    bail!("list-ca is not built yet")
}
