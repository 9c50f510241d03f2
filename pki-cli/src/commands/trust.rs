//! `pki install-ca`, `pki uninstall-ca`, `pki list-ca`: the operating system's trust store.
//!
//! pki-truststore does the work (plan, run, confirm, roll back) and returns a typed report or
//! error; this file builds its request from the flags, renders the report as text (the JSON
//! document is the report's own), and turns each error into its line, with the fix that names
//! pki's flags and the command to run again.

use std::io::ErrorKind;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use pki_truststore::{
    Action, Confirm, Environment, Error, Fingerprint, InstallRequest, ListReport, ListRequest,
    Privilege, Status, Step, StoreOptions, StoreReport, UndoFailure, UninstallRequest, Which,
};

use crate::cli::{InstallCaArgs, ListCaArgs, StoreOpts, UninstallCaArgs};
use crate::output::{Outcome, Output, escape_line, field_lists};

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
    let req = InstallRequest {
        certificate: a.cert,
        name: a.name,
        allow_leaf: a.allow_leaf,
        store: store_options(&a.store),
    };
    let r = pki_truststore::install(&req, &environment()).map_err(|e| failed(&e, &a.store))?;
    for w in &r.warnings {
        out.warn(w);
    }
    if r.status == Status::RefreshPending {
        for n in &r.notes {
            out.warn(&n.to_string());
        }
    }
    out.emit(&r, || store_text(&r))?;
    Ok(Outcome::Success)
}

/// `pki uninstall-ca`.
pub(crate) fn uninstall(a: UninstallCaArgs, out: &Output) -> Result<Outcome> {
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
    let r = pki_truststore::uninstall(&req, &environment()).map_err(|e| failed(&e, &a.store))?;
    for w in &r.warnings {
        out.warn(w);
    }
    out.emit(&r, || store_text(&r))?;
    Ok(Outcome::Success)
}

/// `pki list-ca`.
pub(crate) fn list(a: ListCaArgs, out: &Output) -> Result<Outcome> {
    let req = ListRequest {
        root: a.store.root.clone(),
        all: a.all,
    };
    let r = pki_truststore::list(&req, &environment()).map_err(|e| failed(&e, &a.store))?;
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

// ---------------------------------------------------------------------------------------------
// Errors: what went wrong (the library's message), and the fix, naming pki's flags.

/// The error line for a failed store operation.
fn failed(e: &Error, store: &StoreOpts) -> anyhow::Error {
    anyhow!(message(e, store))
}

/// This command line, quoted for a shell: what to run again with `sudo`.
fn this_command() -> String {
    std::env::args()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/._-:=,+@".contains(c))
            {
                a
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The fix for a store's file that could not be written, created or removed.
fn io_hint(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::PermissionDenied => format!(
            "; writing there needs root: run: sudo {}",
            this_command()
        ),
        ErrorKind::ReadOnlyFilesystem => "; the store's file system is mounted read-only: remount it read-write (mount -o remount,rw MOUNTPOINT), or give --root a writable copy of the image".to_owned(),
        _ => String::new(),
    }
}

/// The error's message with the fix for each kind of failure; a cause inside (a failed step
/// that was undone) gets its own.
fn message(e: &Error, store: &StoreOpts) -> String {
    let given_root = || store.root.clone().unwrap_or_default();
    match e {
        Error::BadCertificate { .. } => format!(
            "{e}; give one X.509 certificate in PEM or DER (`openssl x509 -in FILE -noout -text` should read it)"
        ),
        Error::SeveralCertificates { .. } => {
            format!("{e}; give a file with only the CA certificate to trust")
        }
        Error::NotCa { .. } => format!(
            "{e}; trust stores hold CAs (give the root or intermediate CA), or pass --allow-leaf to pin this certificate itself"
        ),
        Error::ReadCertificate { .. } => format!("{e}; check the path"),
        Error::CertificateRefused { .. } => {
            format!("{e}; give the certificate's file (PEM or DER)")
        }
        Error::BadRoot { root, reason } => format!("--root {}: {reason}", root.display()),
        Error::RootNotADirectory { .. } => format!(
            "--root {}: not a directory; give the mount point of the device image's root file system",
            given_root().display()
        ),
        Error::UnknownSystem { .. } => format!("{e}; install the certificate by hand"),
        Error::MissingTool {
            package, where_, ..
        } => format!("{e}; install the {package} package{where_}, then run pki again"),
        Error::NameTaken { .. } => format!("{e}; choose another --name"),
        Error::BadName { name } => {
            format!("--name {name:?}: use letters, digits, '.', '-' and '_' only")
        }
        Error::Refused { .. } => format!(
            "{e}; pki reads only regular files of sane size there (a bundle at most 64 MiB, any other file 1 MiB): replace it with a regular file (a bundle is what the store's refresh tool writes), or remove it"
        ),
        Error::ListUnsupported { .. } => {
            format!("{e} (pki lists what it installed without --all)")
        }
        Error::NeedsPrivilege { privilege, .. } => match privilege {
            Privilege::Administrator => format!(
                "{e}; run from a prompt opened with \"Run as administrator\": {}",
                this_command()
            ),
            Privilege::Root | Privilege::None => format!("{e}; run: sudo {}", this_command()),
        },
        Error::OpenRoot { root, reason } => {
            format!("cannot open --root {}: {reason}", root.display())
        }
        Error::Write { reason, .. }
        | Error::CreateDir { reason, .. }
        | Error::Remove { reason, .. } => format!("{e}{}", io_hint(reason)),
        Error::ProgramMissing { .. } => format!(
            "{e}: install the package that provides it (ca-certificates), then run pki again"
        ),
        Error::BuildBundle { bundle, cause } => {
            format!(
                "cannot build {}: {}",
                bundle.display(),
                message(cause, store)
            )
        }
        Error::RolledBack {
            cause,
            system,
            undone,
        } => format!(
            "{}; the {system} trust store is as it was ({undone})",
            message(cause, store)
        ),
        Error::RollbackFailed { cause, problems } => format!(
            "{}; undoing it failed too, check the store by hand: {}",
            message(cause, store),
            problems
                .iter()
                .map(|p| match p {
                    UndoFailure::Refresh { cause } => {
                        format!("refreshing again: {}", message(cause, store))
                    }
                    p => p.to_string(),
                })
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Error::NoOsRelease { .. }
        | Error::Io { .. }
        | Error::ReadLink { .. }
        | Error::KeepCopy { .. }
        | Error::Spawn { .. }
        | Error::ProgramFailed { .. }
        | Error::NotConfirmed { .. } => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn store(root: Option<&str>) -> StoreOpts {
        StoreOpts {
            os_store: true,
            root: root.map(PathBuf::from),
            dry_run: false,
        }
    }

    #[test]
    fn errors_keep_their_lines_and_causes_their_fixes() {
        let s = store(Some("img"));
        let e = Error::RootNotADirectory {
            root: "/abs/img".into(),
        };
        assert_eq!(
            message(&e, &s),
            "--root img: not a directory; give the mount point of the device image's root file system"
        );
        let e = Error::RolledBack {
            cause: Box::new(Error::CreateDir {
                path: "/img/etc/ssl/certs".into(),
                reason: std::io::Error::from(ErrorKind::ReadOnlyFilesystem),
            }),
            system: pki_truststore::TrustSystem::Debian,
            undone: pki_truststore::Undone::NothingChanged,
        };
        let line = message(&e, &s);
        assert!(
            line.starts_with("cannot create /img/etc/ssl/certs: "),
            "{line}"
        );
        assert!(
            line.contains("; the store's file system is mounted read-only"),
            "{line}"
        );
        assert!(
            line.ends_with("; the debian trust store is as it was (nothing was changed)"),
            "{line}"
        );
        let e = Error::NameTaken {
            path: "/x/pki-a.crt".into(),
            other_sha256: "AB".into(),
        };
        assert_eq!(
            message(&e, &s),
            "/x/pki-a.crt already holds a different certificate (SHA-256 AB); choose another --name"
        );
    }
}
