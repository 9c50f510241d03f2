//! `pki install-ca`, `pki uninstall-ca`, `pki list-ca`: the operating system's trust store.
//!
//! pki-truststore does the work (plan, run, confirm, roll back) and returns a typed report or
//! error; this file builds its request from the flags and renders the report as text (the JSON
//! document is the report's own); `hints.rs` turns each error into its line, with the fix that
//! names pki's flags and the command to run again.

use std::path::Path;

use anyhow::{Context, Result};
use pki_truststore::{
    Action, Confirm, Environment, Error, Fingerprint, InstallRequest, ListReport, ListRequest,
    Privilege, Status, Step, StoreOptions, StoreReport, UninstallRequest, Which,
};

use crate::cli::{InstallCaArgs, ListCaArgs, StoreOpts, UninstallCaArgs};
use crate::output::{Outcome, Output, escape_line, field_lists};
use crate::{hints, messages};

/// What pki-truststore needs of this process's environment.
fn environment() -> Environment {
    Environment {
        path: std::env::var_os("PATH"),
        system_root: std::env::var_os("SystemRoot"),
    }
}

fn store_options(store: &StoreOpts) -> StoreOptions {
    StoreOptions {
        root: store.root.clone(),
        dry_run: store.dry_run,
    }
}

/// `pki install-ca`.
pub(crate) fn install(a: InstallCaArgs, out: &Output) -> Result<Outcome> {
    if a.apps.java || a.apps.nss {
        return super::app_store::install(a, out);
    }
    let req = InstallRequest {
        certificate: a.cert,
        name: a.name,
        allow_leaf: a.allow_leaf,
        store: store_options(&a.store),
    };
    let r = pki_truststore::install(&req, &environment()).map_err(|e| failed(e, &a.store))?;
    for w in &r.warnings {
        messages::warning(w);
    }
    if r.status == Status::RefreshPending {
        for n in &r.notes {
            messages::warning(&n.to_string());
        }
    }
    out.emit(&r, || store_text(&r))?;
    Ok(Outcome::Success)
}

/// `pki uninstall-ca`.
pub(crate) fn uninstall(a: UninstallCaArgs, out: &Output) -> Result<Outcome> {
    if a.apps.java || a.apps.nss {
        return super::app_store::uninstall(a, out);
    }
    let path = Path::new(&a.cert);
    let certificate = if path.is_file() {
        Which::File(path.to_owned())
    } else {
        Which::Fingerprint(Fingerprint::parse(&a.cert).with_context(|| {
            format!(
                "{}: neither a certificate file nor a SHA-256 (64 hex digits) or SHA-1 (40) fingerprint; give the file you installed or its fingerprint (`pki list-ca --os-store` shows them)",
                a.cert
            )
        })?)
    };
    let req = UninstallRequest {
        certificate,
        store: store_options(&a.store),
    };
    let r = pki_truststore::uninstall(&req, &environment()).map_err(|e| failed(e, &a.store))?;
    for w in &r.warnings {
        messages::warning(w);
    }
    out.emit(&r, || store_text(&r))?;
    Ok(Outcome::Success)
}

/// `pki list-ca`.
pub(crate) fn list(a: ListCaArgs, out: &Output) -> Result<Outcome> {
    if a.apps.java || a.apps.nss {
        return super::app_store::list(a, out);
    }
    let req = ListRequest {
        root: a.store.root.clone(),
        all: a.all,
    };
    let r = pki_truststore::list(&req, &environment()).map_err(|e| failed(e, &a.store))?;
    out.emit(&r, || list_text(&r))?;
    Ok(Outcome::Success)
}

// ---------------------------------------------------------------------------------------------
// Text.

fn store_text(r: &StoreReport) -> String {
    // Every value from outside (a subject, a path in an image) on one line of its own.
    let subject = r
        .certificate
        .as_ref()
        .map(|c| c.subject.clone())
        .or_else(|| r.fingerprint.as_ref().map(ToString::to_string))
        .unwrap_or_default();
    let subject = escape_line(&subject);
    let store = match &r.root {
        Some(root) => format!(
            "the {} trust store under {}",
            r.system,
            escape_line(&root.display().to_string())
        ),
        None => format!("the {} trust store", r.system),
    };
    let (verb, prep) = match r.action {
        Action::Install => ("install", "into"),
        Action::Uninstall => ("remove", "from"),
    };
    let mut s = match r.status {
        Status::Installed => format!("installed {subject} into {store}\n"),
        Status::RefreshPending => {
            format!("installed {subject} into {store}; the store's refresh is still to run\n")
        }
        Status::AlreadyInstalled => {
            format!("already installed: {subject} is in {store}; nothing changed\n")
        }
        Status::AlreadyInStore => format!(
            "already installed: {subject} is in {store} (not put there by pki); nothing changed\n"
        ),
        Status::Removed => format!("removed {subject} from {store}\n"),
        Status::NotInstalled => {
            format!("not installed by pki: {subject} in {store}; nothing changed\n")
        }
        Status::DryRun => {
            format!("dry run: would {verb} {subject} {prep} {store}; nothing was changed\n")
        }
    };
    if r.status == Status::DryRun {
        for (i, c) in r.commands().iter().enumerate() {
            s += &format!("  {}. {}\n", i + 1, escape_line(c));
        }
        if let Some(c) = &r.confirm {
            s += &format!("  then: {}\n", escape_line(&confirm_text(c, r.action)));
        }
        s += &format!(
            "  needs: {}\n",
            match r.requires {
                Some(Privilege::Root) => "root",
                Some(Privilege::Administrator) => "an elevated (administrator) prompt",
                _ => "write access to the root",
            }
        );
    } else {
        let confirmed = match (&r.status, &r.confirm) {
            (Status::Installed | Status::Removed, Some(c)) => confirm_done(c, r.action),
            _ => String::new(),
        };
        s += &field_lists(&[
            (
                "  file",
                r.file
                    .as_ref()
                    .map(|f| f.display().to_string())
                    .into_iter()
                    .collect(),
            ),
            (
                "  ran",
                r.steps
                    .iter()
                    .filter(|st| matches!(st, Step::Run { .. }))
                    .map(ToString::to_string)
                    .collect(),
            ),
            (
                "  built",
                r.steps
                    .iter()
                    .filter_map(|st| match st {
                        Step::BuildBundle { bundle, .. } => Some(format!(
                            "{} and its links, in pki (nothing of the image ran)",
                            bundle.display()
                        )),
                        _ => None,
                    })
                    .collect(),
            ),
            ("  confirmed", vec![confirmed]),
            (
                "  expires",
                r.certificate
                    .as_ref()
                    .map(|c| c.not_after.date().to_string())
                    .into_iter()
                    .collect(),
            ),
            (
                "  SHA-256",
                r.certificate
                    .as_ref()
                    .map(|c| c.sha256.clone())
                    .into_iter()
                    .collect(),
            ),
        ]);
    }
    for n in &r.notes {
        s += &format!("note: {}\n", escape_line(&n.to_string()));
    }
    if !r.hints.is_empty() {
        s += "Runtimes that do not read the OS store need to be told:\n";
        for h in &r.hints {
            s += &format!("  {}\n", escape_line(&h.to_string()));
        }
    }
    s
}

/// The command a confirmation runs, as a shell line.
fn command_line(program: &Path, args: &[String]) -> String {
    Step::Run {
        program: program.to_owned(),
        args: args.to_vec(),
    }
    .to_string()
}

fn confirm_text(c: &Confirm, action: Action) -> String {
    let install = action == Action::Install;
    match c {
        Confirm::Bundle { path } => format!(
            "check that {} {} its SHA-256",
            path.display(),
            if install { "holds" } else { "no longer holds" }
        ),
        Confirm::CommandOutput {
            program,
            args,
            needle,
        } => format!(
            "check that the output of `{}` {} {needle:?}",
            command_line(program, args),
            if install {
                "contains"
            } else {
                "no longer contains"
            }
        ),
        Confirm::WindowsStore { store, sha1 } => format!(
            "check through crypt32 that LocalMachine\\{store} {} SHA-1 {sha1} (as `certutil -store {store} {sha1}` shows)",
            if install { "holds" } else { "no longer holds" }
        ),
    }
}

fn confirm_done(c: &Confirm, action: Action) -> String {
    let install = action == Action::Install;
    match c {
        Confirm::Bundle { path } => format!(
            "{} {}",
            path.display(),
            if install {
                "holds it"
            } else {
                "no longer holds it"
            }
        ),
        Confirm::CommandOutput { program, args, .. } => format!(
            "`{}` {}",
            command_line(program, args),
            if install {
                "lists it"
            } else {
                "no longer lists it"
            }
        ),
        Confirm::WindowsStore { store, .. } => format!(
            "LocalMachine\\{store} {}",
            if install {
                "holds it"
            } else {
                "no longer holds it"
            }
        ),
    }
}

fn list_text(r: &ListReport) -> String {
    // Subjects and file names come from the store: each stays on its line.
    let path = |p: &Path| escape_line(&p.display().to_string()).into_owned();
    let store = match &r.root {
        Some(root) => format!("the {} trust store under {}", r.system, path(root)),
        None => format!("the {} trust store", r.system),
    };
    let mut s = if r.all {
        format!(
            "{} certificate(s) in {store} ({}; * = installed by pki)\n",
            r.certificates.len(),
            path(&r.source)
        )
    } else {
        format!(
            "{} certificate(s) installed by pki in {store}\n",
            r.certificates.len()
        )
    };
    for l in &r.certificates {
        let c = &l.certificate;
        let mark = if r.all && l.file.is_some() {
            "* "
        } else {
            "  "
        };
        s += &format!(
            "{mark}{}  expires {}  SHA-256 {}{}\n",
            escape_line(&c.subject),
            c.not_after.date(),
            c.sha256,
            l.file
                .as_ref()
                .filter(|_| !r.all)
                .map(|f| format!("  {}", path(f)))
                .unwrap_or_default()
        );
    }
    s
}

/// The error line for a failed store operation, in this command line's words.
fn failed(e: Error, store: &StoreOpts) -> anyhow::Error {
    hints::truststore(e, store.root.as_deref())
}
