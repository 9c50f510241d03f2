//! `pki install-ca`, `pki uninstall-ca`, `pki list-ca`: the operating system's trust store.
//!
//! pki-truststore does the work (plan, run, confirm, roll back) and returns a typed report or
//! error; this file builds its request from the flags and renders the report as text (the JSON
//! document is the report's own); `hints.rs` turns each error into its line, with the fix that
//! names pki's flags and the command to run again.

use clap::Args;
use std::path::Path;
use std::path::PathBuf;

use anyhow::{Context, Result};
use pki_truststore::{
    Action, Confirm, Environment, Error, Fingerprint, InstallRequest, ListReport, ListRequest,
    Privilege, Status, Step, StoreOptions, StoreReport, UninstallRequest, Which,
};

use crate::env;
use crate::output::{Outcome, Output, escape_line, field_lists};
use crate::{hints, messages};

/// Where the OS store is: this machine, or a device image mounted at --root.
#[derive(Debug, Args, Clone)]
pub(crate) struct StoreOpts {
    /// Act on the operating system's trust store (one of --os-store, --java, --nss is required).
    #[arg(long, required_unless_present_any = ["java", "nss"], conflicts_with_all = ["java", "nss"])]
    pub(crate) os_store: bool,
    /// Act on a device image or container root file system mounted here instead of this machine.
    ///
    /// The image is trusted input only as far as pki resolves it: every path is resolved inside
    /// DIR as the image itself would see it (its links and `..` never lead out of it), files
    /// are read only when they are regular files of sane size, and nothing of the image is run.
    /// For Debian, Ubuntu and Alpine images pki builds the bundle itself, as
    /// update-ca-certificates does; for the others it writes the certificate and says what must
    /// run inside the image.
    #[arg(long, value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,
    /// Print the exact file operations and commands without doing them.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// The application trust stores that ignore the OS store: a JDK's cacerts, NSS databases.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct AppStoreOpts {
    /// Act on a JDK's trust store: $JAVA_HOME/lib/security/cacerts, else that of the java on PATH.
    #[arg(long, conflicts_with = "nss")]
    pub(crate) java: bool,
    /// The Java keystore to act on instead of the JDK's cacerts.
    #[arg(long, value_name = "PATH", requires = "java")]
    pub(crate) cacerts: Option<PathBuf>,
    /// Read the Java store's password from this file (first line; default: changeit).
    #[arg(long, value_name = "FILE", requires = "java")]
    pub(crate) storepass_file: Option<PathBuf>,
    /// Act on NSS databases: ~/.pki/nssdb and every Firefox profile (as mkcert does).
    #[arg(long)]
    pub(crate) nss: bool,
    /// The NSS database directory to act on instead (one holding cert9.db).
    #[arg(long, value_name = "DIR", requires = "nss")]
    pub(crate) nss_db: Option<PathBuf>,
}

/// `pki install-ca`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "Detects the system (/etc/os-release ID and ID_LIKE; the build target for Windows and macOS),\n",
    "puts the certificate where that system's store takes it, runs the refresh tool by absolute\n",
    "path (with a clean environment), and confirms the certificate is in the resulting bundle.\n",
    "Idempotent: an installed certificate is found by its SHA-256 fingerprint.\n\n",
    "With --root DIR (a device image) every path is resolved inside DIR and nothing of the image\n",
    "runs: an image is trusted input only as far as pki resolves it. Debian, Ubuntu, Alpine: pki\n",
    "builds the image's bundle itself; RHEL, SUSE, Arch: the certificate is written and the\n",
    "refresh is left to the image (status refresh_pending, exit 0).\n\n",
    "EXAMPLES:\n",
    "  sudo pki install-ca pki/certs/azure-iot-test-only.root.ca.cert.pem --os-store\n",
    "  pki install-ca root.pem --os-store --dry-run\n",
    "  pki install-ca root.pem --os-store --root /mnt/device-image\n\n",
    "EXIT CODES:\n  0  installed (or already installed)\n  2  could not run (bad certificate, not a CA, no privilege, missing refresh tool)"))]
pub(crate) struct InstallCaArgs {
    /// The CA certificate (PEM or DER).
    pub(crate) cert: PathBuf,
    /// The file name to install it under (default: from its subject CN).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Also install a certificate that is not a CA (pinning a self-signed device certificate).
    #[arg(long)]
    pub(crate) allow_leaf: bool,
    #[command(flatten)]
    pub(crate) apps: AppStoreOpts,
    #[command(flatten)]
    pub(crate) store: StoreOpts,
}

/// `pki uninstall-ca`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "EXAMPLES:\n",
    "  sudo pki uninstall-ca pki/certs/azure-iot-test-only.root.ca.cert.pem --os-store\n",
    "  sudo pki uninstall-ca 3A9F...E1 --os-store        (SHA-256 or SHA-1 fingerprint)\n\n",
    "EXIT CODES:\n  0  removed (or was not installed)\n  2  could not run"))]
pub(crate) struct UninstallCaArgs {
    /// The certificate file, or its SHA-256 (or SHA-1) fingerprint in hex.
    pub(crate) cert: String,
    #[command(flatten)]
    pub(crate) apps: AppStoreOpts,
    #[command(flatten)]
    pub(crate) store: StoreOpts,
}

/// `pki list-ca`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "EXAMPLES:\n",
    "  pki list-ca --os-store\n",
    "  pki list-ca --os-store --all --json\n\n",
    "EXIT CODES:\n  0  listed\n  2  could not run"))]
pub(crate) struct ListCaArgs {
    /// List the whole store, not only what pki installed.
    #[arg(long)]
    pub(crate) all: bool,
    #[command(flatten)]
    pub(crate) apps: AppStoreOpts,
    #[command(flatten)]
    pub(crate) store: StoreOpts,
}

/// What pki-truststore needs of this process's environment.
fn environment() -> Environment {
    Environment {
        path: std::env::var_os(env::system::PATH),
        system_root: std::env::var_os(env::system::SYSTEM_ROOT),
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
