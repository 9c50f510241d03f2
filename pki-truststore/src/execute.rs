//! Carrying out a [`Plan`]: each step in order (files written atomically, programs run by
//! absolute path with a clean environment, a device image's bundle built in pki), then the
//! plan's check that the store now holds (or no longer holds) the certificate; on any failure,
//! everything done so far is undone (files put back, the refresh run again), and the error says
//! whether the store is as it was.
//!
//! Inside a device image every path is resolved inside the image as the image sees it (its
//! links and `..` never lead out of it), through [`pki_x509::files::Root`].

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use pki_x509::files;

use crate::child::{self, Environment};
use crate::crypt32;
use crate::debian::build_bundle;
use crate::error::{Error, UndoFailure, Undone, WindowsCall};
use crate::plan::{Action, Confirm, Plan, Step, bundle_holds};

/// Where a plan's files are: inside a device image, or on this machine.
enum Place {
    Image(files::Root),
    Host,
}

impl Place {
    fn open(plan: &Plan) -> Result<Place, Error> {
        match &plan.root {
            Some(r) => files::Root::open(r)
                .map(Place::Image)
                .map_err(|reason| Error::OpenRoot {
                    root: r.clone(),
                    reason,
                }),
            None => Ok(Place::Host),
        }
    }

    /// `path` as the image names it (the root taken off).
    fn in_image(root: &files::Root, path: &Path) -> std::io::Result<PathBuf> {
        path.strip_prefix(root.path())
            .map(|rest| Path::new("/").join(rest))
            .map_err(|_| {
                std::io::Error::other(format!(
                    "{} is not under the root {}",
                    path.display(),
                    root.path().display()
                ))
            })
    }

    /// The directory `path`, opened; created (with its parents) when `create`.
    fn dir(&self, path: &Path, create: bool) -> std::io::Result<files::Dir> {
        match self {
            Place::Image(root) => root.dir(&Self::in_image(root, path)?, create.then_some(0o755)),
            Place::Host => {
                if create {
                    std::fs::create_dir_all(path)?;
                }
                files::Dir::open(path)
            }
        }
    }

    /// The directory holding the file `path`, opened, and the file's name in it (the name itself
    /// is never followed: a link there is the link).
    fn parent(&self, path: &Path) -> std::io::Result<(files::Dir, String)> {
        let (dir, name) = files::split(path)?;
        Ok((self.dir(&dir, false)?, name))
    }

    /// The directories of `path` that do not exist yet, deepest first.
    fn missing_dirs(&self, path: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut p = Some(path);
        while let Some(d) = p {
            if self.dir(d, false).is_ok() {
                break;
            }
            out.push(d.to_owned());
            p = d.parent();
        }
        out
    }
}

/// The most pki saves of a file it replaces or removes, to put it back.
const MAX_SAVED: u64 = 64 << 20;

/// Undo information for the steps carried out so far.
#[derive(Default)]
struct Undo {
    written: Vec<PathBuf>,
    created: Vec<PathBuf>,
    replaced: Vec<(PathBuf, Saved)>,
    ran: bool,
    /// Certificates added to a Windows store (store, SHA-1): deleted again on failure.
    store_added: Vec<(String, String)>,
    /// Certificates deleted from a Windows store (store, SHA-1, DER): added back on failure.
    store_deleted: Vec<(String, String, Vec<u8>)>,
    /// What a step said that the user should know (entries a bundle build left out).
    warnings: Vec<String>,
}

impl Undo {
    fn changed(&self) -> bool {
        !self.written.is_empty()
            || !self.replaced.is_empty()
            || !self.created.is_empty()
            || !self.store_added.is_empty()
            || !self.store_deleted.is_empty()
            || self.ran
    }
}

/// What was at a path before a step replaced or removed it.
enum Saved {
    Bytes(Vec<u8>),
    Link(PathBuf),
}

/// What is at `name` in `dir` now, to put it back: a link's target, or a file's bytes; `None`
/// when nothing is there.
fn save(dir: &files::Dir, name: &str, path: &Path) -> Result<Option<Saved>, Error> {
    if dir.is_link(name) {
        return dir
            .read_link(name)
            .map(|t| Some(Saved::Link(t)))
            .map_err(|reason| Error::ReadLink {
                path: path.to_owned(),
                reason,
            });
    }
    if !dir.exists(name) {
        return Ok(None);
    }
    dir.read_bounded(name, MAX_SAVED)
        .map(|b| Some(Saved::Bytes(b)))
        .map_err(|reason| Error::KeepCopy {
            path: path.to_owned(),
            reason,
        })
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |reason| Error::Write { path, reason }
}

fn remove_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |reason| Error::Remove { path, reason }
}

/// A call to the Windows store `store` for the certificate `sha1` (hex), through crypt32; its
/// error named.
fn windows_store<T>(
    call: WindowsCall,
    store: &str,
    sha1: &str,
    f: impl FnOnce() -> std::io::Result<T>,
) -> Result<T, Error> {
    f().map_err(|reason| Error::WindowsStore {
        call,
        store: store.to_owned(),
        sha1: sha1.to_owned(),
        reason,
    })
}

/// The thumbprint `sha1` as bytes (pki's own plans carry well-formed ones).
fn thumbprint(call: WindowsCall, store: &str, sha1: &str) -> Result<[u8; 20], Error> {
    windows_store(call, store, sha1, || {
        crate::windows::thumbprint(sha1)
            .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidInput, "not a SHA-1 thumbprint"))
    })
}

fn run_step(place: &Place, step: &Step, undo: &mut Undo, env: &Environment) -> Result<(), Error> {
    match step {
        Step::CreateDir { path } => {
            let missing = place.missing_dirs(path);
            place.dir(path, true).map_err(|reason| Error::CreateDir {
                path: path.clone(),
                reason,
            })?;
            undo.created.extend(missing);
        }
        Step::WriteFile {
            path, mode, bytes, ..
        } => {
            let (dir, name) = place.parent(path).map_err(write_error(path))?;
            let old = save(&dir, &name, path)?;
            dir.write_atomic(&name, bytes, *mode, true)
                .map_err(write_error(path))?;
            match old {
                Some(old) => undo.replaced.push((path.clone(), old)),
                None => undo.written.push(path.clone()),
            }
        }
        Step::RemoveFile { path } => {
            let (dir, name) = match place.parent(path) {
                Ok(found) => found,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(remove_error(path)(e)),
            };
            let Some(saved) = save(&dir, &name, path)? else {
                return Ok(());
            };
            dir.remove(&name).map_err(remove_error(path))?;
            undo.replaced.push((path.clone(), saved));
        }
        Step::Run { program, args } => {
            if !program.is_file() {
                return Err(Error::ProgramMissing {
                    program: program.clone(),
                });
            }
            undo.ran = true;
            let out = child::output(program, args, env)?;
            if !out.status.success() {
                let said = String::from_utf8_lossy(&out.stderr).trim().to_owned();
                let said = if said.is_empty() {
                    String::from_utf8_lossy(&out.stdout).trim().to_owned()
                } else {
                    said
                };
                return Err(Error::ProgramFailed {
                    program: program.clone(),
                    args: args.clone(),
                    status: out.status,
                    said: said.lines().last().unwrap_or("no output").to_owned(),
                });
            }
        }
        Step::AddToWindowsStore {
            store, sha1, der, ..
        } => {
            let added = windows_store(WindowsCall::Add, store, sha1, || crypt32::add(store, der))?;
            // Held already (added by hand): nothing of it to undo.
            if added {
                undo.store_added.push((store.clone(), sha1.clone()));
            }
        }
        Step::DeleteFromWindowsStore { store, sha1, der } => {
            let hash = thumbprint(WindowsCall::Delete, store, sha1)?;
            let deleted = windows_store(WindowsCall::Delete, store, sha1, || {
                crypt32::delete(store, &hash)
            })?;
            if deleted {
                undo.store_deleted
                    .push((store.clone(), sha1.clone(), der.clone()));
            }
        }
        Step::BuildBundle { root, bundle } => {
            undo.ran = true;
            let built = build_bundle(root).map_err(|e| match e {
                // A file that cannot be written is named as it is.
                e @ Error::Write { .. } => e,
                e => Error::BuildBundle {
                    bundle: bundle.clone(),
                    cause: Box::new(e),
                },
            })?;
            for w in built.skipped {
                if !undo.warnings.contains(&w) {
                    undo.warnings.push(w);
                }
            }
        }
    }
    Ok(())
}

/// Puts back what the steps changed, and refreshes again if a refresh ran: the store is as it
/// was. Returns what it could not undo.
fn rollback(place: &Place, plan: &Plan, undo: Undo, env: &Environment) -> Vec<UndoFailure> {
    let mut problems = Vec::new();
    for p in undo.written.iter().rev() {
        let r = place.parent(p).and_then(|(dir, name)| dir.remove(&name));
        if let Err(reason) = r {
            problems.push(UndoFailure::Remove {
                path: p.clone(),
                reason,
            });
        }
    }
    for (p, saved) in undo.replaced.iter().rev() {
        let dir = match place.parent(p) {
            Ok(found) => found,
            Err(reason) => {
                problems.push(UndoFailure::Restore {
                    path: p.clone(),
                    reason,
                });
                continue;
            }
        };
        let (dir, name) = dir;
        match saved {
            Saved::Bytes(b) => {
                if let Err(reason) = dir.write_atomic(&name, b, 0o644, true) {
                    problems.push(UndoFailure::Restore {
                        path: p.clone(),
                        reason,
                    });
                }
            }
            // Made through the directory on Unix; elsewhere (Windows) a link cannot be made
            // again, and that is said, never skipped in silence.
            Saved::Link(target) => {
                if let Err(reason) = dir.symlink(target, &name) {
                    problems.push(UndoFailure::Relink {
                        path: p.clone(),
                        target: target.clone(),
                        reason,
                    });
                }
            }
        }
    }
    for (store, sha1) in &undo.store_added {
        let r = thumbprint(WindowsCall::Delete, store, sha1).and_then(|hash| {
            windows_store(WindowsCall::Delete, store, sha1, || {
                crypt32::delete(store, &hash)
            })
        });
        if let Err(e) = r {
            problems.push(UndoFailure::WindowsStore { cause: Box::new(e) });
        }
    }
    for (store, sha1, der) in &undo.store_deleted {
        if let Err(e) = windows_store(WindowsCall::Add, store, sha1, || crypt32::add(store, der)) {
            problems.push(UndoFailure::WindowsStore { cause: Box::new(e) });
        }
    }
    for d in &undo.created {
        if let (Some(parent), Some(name)) = (d.parent(), d.file_name()) {
            // A directory that is not empty (something else was put there) stays.
            let _ = place
                .dir(parent, false)
                .and_then(|dir| dir.remove_dir(&name.to_string_lossy()));
        }
    }
    if undo.ran {
        let mut again = Undo::default();
        for s in plan
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Run { .. } | Step::BuildBundle { .. }))
        {
            if let Err(e) = run_step(place, s, &mut again, env) {
                problems.push(UndoFailure::Refresh { cause: Box::new(e) });
                break;
            }
        }
    }
    problems
}

/// Whether the store holds the certificate now, by the plan's check.
fn holds(plan: &Plan, confirm: &Confirm, sha256: &str, env: &Environment) -> Result<bool, Error> {
    match confirm {
        Confirm::Bundle { path } => bundle_holds(plan.root.as_deref(), path, sha256),
        Confirm::CommandOutput {
            program,
            args,
            needle,
        } => {
            let out = child::output(program, args, env)?;
            Ok(String::from_utf8_lossy(&out.stdout)
                .to_ascii_lowercase()
                .contains(&needle.to_ascii_lowercase()))
        }
        Confirm::WindowsStore { store, sha1 } => {
            let hash = thumbprint(WindowsCall::Find, store, sha1)?;
            windows_store(WindowsCall::Find, store, sha1, || {
                crypt32::holds(store, &hash)
            })
        }
    }
}

/// Carries out the plan and confirms it, for the certificate with this SHA-256; on any failure
/// puts everything back ([`Error::RolledBack`], or [`Error::RollbackFailed`] when that failed
/// too). Returns what the steps said the user should know (entries a bundle build left out).
///
/// The privilege the plan needs is the caller's to check first.
pub(crate) fn execute(plan: &Plan, sha256: &str, env: &Environment) -> Result<Vec<String>, Error> {
    let place = Place::open(plan)?;
    let mut undo = Undo::default();
    let mut failure = None;
    for step in &plan.steps {
        if let Err(e) = run_step(&place, step, &mut undo, env) {
            failure = Some(e);
            break;
        }
    }
    if failure.is_none()
        && let Some(confirm) = &plan.confirm
    {
        let want = plan.action == Action::Install;
        match holds(plan, confirm, sha256, env) {
            Ok(h) if h == want => {}
            Ok(_) => {
                failure = Some(Error::NotConfirmed {
                    action: plan.action,
                    bundle: match confirm {
                        Confirm::Bundle { path } => Some(path.clone()),
                        Confirm::CommandOutput { .. } | Confirm::WindowsStore { .. } => None,
                    },
                    sha256: sha256.to_owned(),
                });
            }
            Err(e) => failure = Some(e),
        }
    }
    let Some(cause) = failure else {
        return Ok(undo.warnings);
    };
    let undone = match plan.action {
        _ if !undo.changed() => Undone::NothingChanged,
        Action::Install => Undone::Removed {
            file: plan.file.clone(),
        },
        Action::Uninstall => Undone::PutBack {
            file: plan.file.clone(),
        },
    };
    let problems = rollback(&place, plan, undo, env);
    let cause = Box::new(cause);
    Err(if problems.is_empty() {
        Error::RolledBack {
            cause,
            system: plan.system,
            undone,
        }
    } else {
        Error::RollbackFailed { cause, problems }
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::cert::tests::root;
    use crate::detect::TrustSystem;
    use crate::plan::{InstallPlan, StoreTarget, plan_install};

    /// A Debian image with an empty configuration.
    fn debian_image() -> tempfile::TempDir {
        let img = tempfile::tempdir().unwrap();
        for d in ["etc/ssl/certs", "usr/share/ca-certificates"] {
            std::fs::create_dir_all(img.path().join(d)).unwrap();
        }
        std::fs::write(img.path().join("etc/os-release"), "ID=debian\n").unwrap();
        std::fs::write(img.path().join("etc/ca-certificates.conf"), "").unwrap();
        img
    }

    fn plan(img: &Path) -> Plan {
        let target = StoreTarget {
            system: TrustSystem::Debian,
            root: Some(img.to_owned()),
            privileged: false,
            tool_dirs: Vec::new(),
        };
        match plan_install(&target, &root(), "pki-owner").unwrap() {
            InstallPlan::Steps(p) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_image_install_is_built_and_confirmed() {
        let img = debian_image();
        let cert = root();
        let warnings = execute(&plan(img.path()), &cert.sha256, &Environment::default()).unwrap();
        assert_eq!(warnings, Vec::<String>::new());
        assert!(
            img.path()
                .join("usr/local/share/ca-certificates/pki-owner.crt")
                .is_file()
        );
        assert!(
            bundle_holds(
                Some(img.path()),
                &img.path().join("etc/ssl/certs/ca-certificates.crt"),
                &cert.sha256
            )
            .unwrap()
        );
    }

    #[test]
    fn a_failed_step_is_undone_and_said() {
        let img = debian_image();
        // The bundle's directory is a file: it cannot be created after the anchor went in.
        std::fs::remove_dir(img.path().join("etc/ssl/certs")).unwrap();
        std::fs::write(img.path().join("etc/ssl/certs"), "").unwrap();
        let plan = plan(img.path());
        let err = execute(&plan, &root().sha256, &Environment::default()).unwrap_err();
        let Error::RolledBack {
            cause,
            system: TrustSystem::Debian,
            undone: Undone::Removed { file },
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(*file, plan.file);
        assert!(matches!(**cause, Error::CreateDir { .. }), "{cause:?}");
        assert!(!plan.file.exists(), "the anchor was removed again");
        assert!(
            !img.path().join("usr/local/share/ca-certificates").exists(),
            "the directory made for it too"
        );
        assert!(
            err.to_string().ends_with(&format!(
                "; the debian trust store is as it was ({} removed again)",
                plan.file.display()
            )),
            "{err}"
        );
    }
}
