//! The three operations, each one call from a request to a report: [`install`] a CA, [`uninstall`]
//! one pki installed, [`list`] what pki installed (or the whole store). Each reads the
//! certificate, finds the store (this machine's, or a device image's), plans, and, unless it
//! is a dry run, checks the privilege, carries the plan out and confirms it, rolling back on
//! failure.

use std::path::{Path, PathBuf};

use crate::cert::{Fingerprint, StoreCertificate, checked_name};
use crate::child::Environment;
use crate::detect::TrustSystem;
use crate::error::Error;
use crate::execute::execute;
use crate::plan::{
    Action, Already, Confirm, InstallPlan, Note, Plan, StoreTarget, UninstallPlan, installed,
    plan_install, plan_uninstall, store_certificates,
};
use crate::privilege;
use crate::report::{ListReport, Listed, RuntimeHint, Status, StoreReport};

/// Which store, and whether to act on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// A device image or container root file system to act on instead of this machine.
    pub root: Option<PathBuf>,
    /// Plan only: the report shows the steps, nothing is changed.
    pub dry_run: bool,
}

/// Install a CA certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallRequest {
    /// The certificate file (PEM or DER, one certificate).
    pub certificate: PathBuf,
    /// The file name to install it under (checked, given the `pki-` prefix); by default from
    /// its CN and fingerprint.
    pub name: Option<String>,
    /// Install a certificate that is not a CA too (pinning a self-signed device certificate).
    pub allow_leaf: bool,
    /// Which store.
    pub store: StoreOptions,
}

/// The certificate to remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// The certificate in this file.
    File(PathBuf),
    /// The certificate with this fingerprint.
    Fingerprint(Fingerprint),
}

/// Remove a certificate pki installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UninstallRequest {
    /// Which certificate.
    pub certificate: Which,
    /// Which store.
    pub store: StoreOptions,
}

/// List the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRequest {
    /// A device image or container root file system to look at instead of this machine.
    pub root: Option<PathBuf>,
    /// The whole store's bundle, not only what pki installed.
    pub all: bool,
}

/// The system tool directories, looked in before the caller's PATH.
const SYSTEM_TOOL_DIRS: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// System tool directories first (/usr/sbin is not on every user's PATH), then the absolute
/// directories of the caller's PATH.
fn tool_dirs(env: &Environment) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = SYSTEM_TOOL_DIRS.iter().map(PathBuf::from).collect();
    if let Some(path) = &env.path {
        for d in std::env::split_paths(path) {
            if d.is_absolute() && !dirs.contains(&d) {
                dirs.push(d);
            }
        }
    }
    dirs
}

/// The store acted on: a device image at `root` (a Linux image, whatever this build's
/// target), or this machine; and what this process may do there.
fn target(root: Option<&Path>, env: &Environment) -> Result<StoreTarget, Error> {
    // Absolute: update-ca-certificates changes directory before it uses the other paths.
    let root = match root {
        Some(r) => Some(std::path::absolute(r).map_err(|reason| Error::BadRoot {
            root: r.to_owned(),
            reason,
        })?),
        None => None,
    };
    let system = match &root {
        Some(root) => {
            if !root.is_dir() {
                return Err(Error::RootNotADirectory { root: root.clone() });
            }
            TrustSystem::detect_for("linux", root)?
        }
        None => TrustSystem::detect(Path::new("/"))?,
    };
    Ok(StoreTarget {
        system,
        root,
        privileged: privilege::this_process(env),
        tool_dirs: tool_dirs(env),
    })
}

/// Reads the certificate to install or remove (at most 1 MiB of a regular file: a device or a
/// FIFO is refused, never read); a leaf only when allowed.
fn read_ca(path: &Path, allow_leaf: bool) -> Result<StoreCertificate, Error> {
    let cert = StoreCertificate::read(path)?;
    if !cert.is_ca && !allow_leaf {
        return Err(Error::NotCa {
            input: path.display().to_string(),
            subject: cert.subject.clone(),
        });
    }
    Ok(cert)
}

/// The path `p` has inside the image (the root stripped).
fn inside(target: &StoreTarget, p: &Path) -> PathBuf {
    match &target.root {
        Some(r) => p
            .strip_prefix(r)
            .map(|rest| Path::new("/").join(rest))
            .unwrap_or_else(|_| p.to_owned()),
        None => p.to_owned(),
    }
}

fn hints(target: &StoreTarget, plan: &Plan) -> Vec<RuntimeHint> {
    let file = inside(target, &plan.file);
    let bundle = match &plan.confirm {
        Some(Confirm::Bundle { path }) => inside(target, path),
        _ => file.clone(),
    };
    vec![
        RuntimeHint::NodeJs { file: file.clone() },
        RuntimeHint::PythonRequests { bundle },
        RuntimeHint::IotEdge { file },
    ]
}

/// Installs a CA certificate into the store, or (dry run) says exactly how it would.
///
/// Nothing changes when pki installed it before or the store's bundle holds it already
/// ([`Status::AlreadyInstalled`], [`Status::AlreadyInStore`]: a certificate is found by its
/// SHA-256, never by name). Otherwise the certificate is written, the store refreshed and the
/// result confirmed ([`Status::Installed`]); in a device image whose refresh pki cannot do, the
/// file is written and the refresh left to the image ([`Status::RefreshPending`]). A process
/// without the privilege the plan needs gets [`Error::NeedsPrivilege`] and nothing changes; a
/// failed step is undone ([`Error::RolledBack`]).
pub fn install(req: &InstallRequest, env: &Environment) -> Result<StoreReport, Error> {
    let cert = read_ca(&req.certificate, req.allow_leaf)?;
    let name = match &req.name {
        Some(n) => checked_name(n)?,
        None => cert.default_name(),
    };
    let target = target(req.store.root.as_deref(), env)?;
    let report = |status| StoreReport {
        certificate: Some(cert.clone()),
        ..StoreReport::new(Action::Install, status, &target)
    };
    let plan = match plan_install(&target, &cert, &name)? {
        InstallPlan::Already(already) => {
            let (status, file) = match already {
                Already::InstalledByPki { path } => (Status::AlreadyInstalled, path),
                Already::InBundle { bundle } => (Status::AlreadyInStore, bundle),
            };
            return Ok(StoreReport {
                file: Some(file),
                ..report(status)
            });
        }
        InstallPlan::Steps(plan) => plan,
    };
    if req.store.dry_run {
        return Ok(report(Status::DryRun).with_plan(&plan));
    }
    privilege::check(&plan, &target)?;
    let warnings = execute(&plan, &cert.sha256, env)?;
    let status = if plan.confirm.is_none() {
        Status::RefreshPending
    } else {
        Status::Installed
    };
    Ok(StoreReport {
        hints: hints(&target, &plan),
        warnings,
        ..report(status).with_plan(&plan)
    })
}

/// Removes a certificate pki installed (found by the SHA-256 of a file, or by a fingerprint),
/// or (dry run) says exactly how it would. A certificate pki did not install is left alone
/// ([`Status::NotInstalled`], with a note when the store holds it anyway).
pub fn uninstall(req: &UninstallRequest, env: &Environment) -> Result<StoreReport, Error> {
    let (fingerprint, cert) = match &req.certificate {
        Which::File(path) => {
            let cert = read_ca(path, true)?;
            (Fingerprint::Sha256(cert.sha256.clone()), Some(cert))
        }
        Which::Fingerprint(fp) => (fp.clone(), None),
    };
    let target = target(req.store.root.as_deref(), env)?;
    let report = |status, cert: Option<&StoreCertificate>| StoreReport {
        certificate: cert.cloned(),
        fingerprint: Some(fingerprint.clone()),
        ..StoreReport::new(Action::Uninstall, status, &target)
    };
    let plan = match plan_uninstall(&target, &fingerprint)? {
        UninstallPlan::NotInstalled { in_bundle } => {
            let mut r = report(Status::NotInstalled, cert.as_ref());
            if in_bundle {
                r.notes.push(Note::InStoreNotFromPki);
            }
            return Ok(r);
        }
        UninstallPlan::Steps(plan) => plan,
    };
    let recorded = installed(&target)?
        .into_iter()
        .find(|i| i.path == plan.file)
        .map(|i| i.certificate);
    let cert = cert.or(recorded);
    if req.store.dry_run {
        return Ok(report(Status::DryRun, cert.as_ref()).with_plan(&plan));
    }
    privilege::check(&plan, &target)?;
    let sha256 = cert.as_ref().map(|c| c.sha256.clone()).unwrap_or_default();
    let warnings = execute(&plan, &sha256, env)?;
    let status = if plan.confirm.is_none() {
        Status::RefreshPending
    } else {
        Status::Removed
    };
    Ok(StoreReport {
        warnings,
        ..report(status, cert.as_ref()).with_plan(&plan)
    })
}

/// Lists the certificates pki installed (their files in the store's anchor directory, or pki's
/// record directory on Windows and macOS), or with `all` every certificate of the store's
/// bundle, those pki installed with their file.
pub fn list(req: &ListRequest, env: &Environment) -> Result<ListReport, Error> {
    let target = target(req.root.as_deref(), env)?;
    let mine = installed(&target)?;
    let (source, certificates) = if req.all {
        let (bundle, certs) = store_certificates(&target)?;
        let certs = certs
            .into_iter()
            .map(|certificate| Listed {
                file: mine
                    .iter()
                    .find(|m| m.certificate.sha256 == certificate.sha256)
                    .map(|m| m.path.clone()),
                certificate,
            })
            .collect();
        (bundle, certs)
    } else {
        let dir = mine
            .first()
            .and_then(|m| m.path.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        let certs = mine
            .into_iter()
            .map(|m| Listed {
                certificate: m.certificate,
                file: Some(m.path),
            })
            .collect();
        (dir, certs)
    };
    Ok(ListReport {
        system: target.system,
        root: target.root,
        all: req.all,
        source,
        certificates,
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn ca() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/verify/missing-intermediate/ca.pem")
    }

    /// A Debian image with an empty configuration.
    fn debian_image() -> tempfile::TempDir {
        let img = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(img.path().join("etc")).unwrap();
        std::fs::write(img.path().join("etc/os-release"), "ID=debian\n").unwrap();
        img
    }

    fn store(img: &Path, dry_run: bool) -> StoreOptions {
        StoreOptions {
            root: Some(img.to_owned()),
            dry_run,
        }
    }

    #[test]
    fn install_list_uninstall_in_an_image() {
        let img = debian_image();
        let env = Environment::default();
        let install_req = |dry_run| InstallRequest {
            certificate: ca(),
            name: None,
            allow_leaf: false,
            store: store(img.path(), dry_run),
        };
        let dry = install(&install_req(true), &env).unwrap();
        assert_eq!(dry.status, Status::DryRun);
        assert!(!dry.steps.is_empty());
        assert!(
            !img.path().join("usr").exists(),
            "a dry run changes nothing"
        );

        let done = install(&install_req(false), &env).unwrap();
        assert_eq!(done.status, Status::Installed);
        let file = done.file.clone().unwrap();
        assert!(file.is_file());
        assert_eq!(
            done.hints[0],
            RuntimeHint::NodeJs {
                file: Path::new("/").join(file.strip_prefix(img.path()).unwrap())
            }
        );
        let again = install(&install_req(false), &env).unwrap();
        assert_eq!(again.status, Status::AlreadyInstalled);

        let listed = list(
            &ListRequest {
                root: Some(img.path().to_owned()),
                all: true,
            },
            &env,
        )
        .unwrap();
        assert_eq!(listed.certificates.len(), 1);
        assert_eq!(listed.certificates[0].file.as_ref(), Some(&file));

        let sha256 = done.certificate.unwrap().sha256;
        let removed = uninstall(
            &UninstallRequest {
                certificate: Which::Fingerprint(Fingerprint::Sha256(sha256)),
                store: store(img.path(), false),
            },
            &env,
        )
        .unwrap();
        assert_eq!(removed.status, Status::Removed);
        assert!(!file.exists());
    }

    #[test]
    fn bad_requests_are_named() {
        let img = debian_image();
        let env = Environment::default();
        let leaf = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/verify/missing-intermediate/leaf.pem");
        let req = |certificate: PathBuf, root: PathBuf| InstallRequest {
            certificate,
            name: None,
            allow_leaf: false,
            store: store(&root, true),
        };
        assert!(matches!(
            install(&req(leaf, img.path().to_owned()), &env),
            Err(Error::NotCa { .. })
        ));
        assert!(matches!(
            install(
                &req(img.path().join("nope.pem"), img.path().to_owned()),
                &env
            ),
            Err(Error::ReadCertificate { .. })
        ));
        assert!(matches!(
            install(&req(img.path().to_owned(), img.path().to_owned()), &env),
            Err(Error::CertificateRefused { .. })
        ));
        let not_a_dir = img.path().join("etc/os-release");
        assert!(matches!(
            install(&req(ca(), not_a_dir.clone()), &env),
            Err(Error::RootNotADirectory { root }) if root == not_a_dir
        ));
    }

    #[test]
    fn tools_are_looked_for_in_the_system_directories_first() {
        let env = Environment {
            path: Some("/opt/tools:relative:/usr/bin".into()),
            system_root: None,
        };
        let dirs = tool_dirs(&env);
        let system: Vec<PathBuf> = SYSTEM_TOOL_DIRS.iter().map(PathBuf::from).collect();
        assert_eq!(dirs[..system.len()], system);
        assert_eq!(dirs[system.len()..], [PathBuf::from("/opt/tools")]);
    }
}
