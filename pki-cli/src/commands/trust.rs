//! `pki install-ca`, `pki uninstall-ca`, `pki list-ca`: the operating system's trust store.
//!
//! pki-verify plans each operation as data (files to write or remove, commands by absolute
//! path, the check that confirms the result); this file prints the plan (`--dry-run`) or
//! carries it out, undoing what it did when a step fails, and reports.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};
use pki_core::files;
use pki_verify::{
    Already, Confirm, Fingerprint, InstallPlan, Plan, Privilege, StoreAction, StoreCertificate,
    StoreStep, StoreTarget, TrustStoreError, TrustSystem, UninstallPlan,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{InstallCaArgs, ListCaArgs, StoreOpts, UninstallCaArgs};
use crate::output::{Outcome, Output, escape_line, field_lists};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Installed,
    AlreadyInstalled,
    AlreadyInStore,
    RefreshPending,
    Removed,
    NotInstalled,
    DryRun,
}

/// The certificate, as the reports show it.
#[derive(Debug, Serialize)]
struct CertView {
    subject: String,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
    sha256: String,
    sha1: String,
    is_ca: bool,
}

impl From<&StoreCertificate> for CertView {
    fn from(c: &StoreCertificate) -> Self {
        CertView {
            subject: c.subject.clone(),
            not_after: c.not_after,
            sha256: c.sha256.clone(),
            sha1: c.sha1.clone(),
            is_ca: c.is_ca,
        }
    }
}

/// What install-ca and uninstall-ca report.
#[derive(Debug, Serialize)]
struct StoreReport {
    action: StoreAction,
    status: Status,
    system: TrustSystem,
    root: Option<PathBuf>,
    certificate: Option<CertView>,
    /// The fingerprint asked for (uninstall by fingerprint).
    fingerprint: Option<String>,
    /// The store's file for the certificate.
    file: Option<PathBuf>,
    /// The steps, as data.
    steps: Vec<StoreStep>,
    /// The steps, as the commands they amount to.
    commands: Vec<String>,
    /// How the result is (or was) confirmed.
    confirm: Option<Confirm>,
    /// The privilege the steps need.
    requires: Option<Privilege>,
    notes: Vec<String>,
    /// For runtimes that do not read the OS store.
    hints: Vec<String>,
}

impl StoreReport {
    fn new(action: StoreAction, status: Status, target: &StoreTarget) -> Self {
        StoreReport {
            action,
            status,
            system: target.system,
            root: target.root.clone(),
            certificate: None,
            fingerprint: None,
            file: None,
            steps: Vec::new(),
            commands: Vec::new(),
            confirm: None,
            requires: None,
            notes: Vec::new(),
            hints: Vec::new(),
        }
    }

    fn with_plan(mut self, plan: &Plan) -> Self {
        self.file = Some(plan.file.clone());
        self.commands = plan.steps.iter().map(ToString::to_string).collect();
        self.steps = plan.steps.clone();
        self.confirm = plan.confirm.clone();
        self.requires = Some(plan.requires);
        self.notes = plan.notes.iter().map(ToString::to_string).collect();
        self
    }

    fn text(&self) -> String {
        // Every value from outside (a subject, a path in an image) on one line of its own.
        let subject = self
            .certificate
            .as_ref()
            .map(|c| c.subject.clone())
            .or_else(|| self.fingerprint.clone())
            .unwrap_or_default();
        let subject = escape_line(&subject);
        let store = match &self.root {
            Some(r) => format!(
                "the {} trust store under {}",
                self.system,
                escape_line(&r.display().to_string())
            ),
            None => format!("the {} trust store", self.system),
        };
        let verb = match self.action {
            StoreAction::Install => "install",
            StoreAction::Uninstall => "remove",
        };
        let prep = match self.action {
            StoreAction::Install => "into",
            StoreAction::Uninstall => "from",
        };
        let mut s = match self.status {
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
        if self.status == Status::DryRun {
            for (i, c) in self.commands.iter().enumerate() {
                s += &format!("  {}. {}\n", i + 1, escape_line(c));
            }
            if let Some(c) = &self.confirm {
                s += &format!("  then: {}\n", escape_line(&confirm_text(c, self.action)));
            }
            s += &format!(
                "  needs: {}\n",
                match self.requires {
                    Some(Privilege::Root) => "root",
                    Some(Privilege::Administrator) => "an elevated (administrator) prompt",
                    _ => "write access to the root",
                }
            );
        } else {
            let confirmed = match (&self.status, &self.confirm) {
                (Status::Installed | Status::Removed, Some(c)) => confirm_done(c, self.action),
                _ => String::new(),
            };
            s += &field_lists(&[
                (
                    "  file",
                    self.file
                        .as_ref()
                        .map(|f| f.display().to_string())
                        .into_iter()
                        .collect(),
                ),
                (
                    "  ran",
                    self.steps
                        .iter()
                        .filter(|st| matches!(st, StoreStep::Run { .. }))
                        .map(ToString::to_string)
                        .collect(),
                ),
                (
                    "  built",
                    self.steps
                        .iter()
                        .filter_map(|st| match st {
                            StoreStep::BuildBundle { bundle, .. } => Some(format!(
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
                    self.certificate
                        .as_ref()
                        .map(|c| c.not_after.date().to_string())
                        .into_iter()
                        .collect(),
                ),
                (
                    "  SHA-256",
                    self.certificate
                        .as_ref()
                        .map(|c| c.sha256.clone())
                        .into_iter()
                        .collect(),
                ),
            ]);
        }
        for n in &self.notes {
            s += &format!("note: {}\n", escape_line(n));
        }
        if !self.hints.is_empty() {
            s += "Runtimes that do not read the OS store need to be told:\n";
            for h in &self.hints {
                s += &format!("  {}\n", escape_line(h));
            }
        }
        s
    }
}

fn confirm_text(c: &Confirm, action: StoreAction) -> String {
    let want = if action == StoreAction::Install {
        "holds"
    } else {
        "no longer holds"
    };
    match c {
        Confirm::Bundle { path } => format!("check that {} {want} its SHA-256", path.display()),
        Confirm::CommandOutput {
            program,
            args,
            needle,
            ..
        } => format!(
            "check that the output of `{}` {} {needle:?}",
            StoreStep::Run {
                program: program.clone(),
                args: args.clone()
            },
            if action == StoreAction::Install {
                "contains"
            } else {
                "no longer contains"
            }
        ),
    }
}

fn confirm_done(c: &Confirm, action: StoreAction) -> String {
    let verb = if action == StoreAction::Install {
        "holds it"
    } else {
        "no longer holds it"
    };
    match c {
        Confirm::Bundle { path } => format!("{} {verb}", path.display()),
        Confirm::CommandOutput { program, args, .. } => format!(
            "`{}` {}",
            StoreStep::Run {
                program: program.clone(),
                args: args.clone()
            },
            if action == StoreAction::Install {
                "lists it"
            } else {
                "no longer lists it"
            }
        ),
    }
}

/// The store acted on, from the flags and this machine.
fn target(store: &StoreOpts) -> Result<StoreTarget> {
    // Absolute: update-ca-certificates changes directory before it uses the other paths.
    let root = match &store.root {
        Some(r) => Some(std::path::absolute(r).with_context(|| format!("--root {}", r.display()))?),
        None => None,
    };
    let system = match &root {
        Some(root) => {
            if !root.is_dir() {
                bail!(
                    "--root {}: not a directory; give the mount point of the device image's root file system",
                    store.root.as_deref().unwrap_or(root).display()
                );
            }
            // A root is a Linux image, whatever this build's target.
            TrustSystem::detect_for("linux", root)?
        }
        None => TrustSystem::detect(Path::new("/"))?,
    };
    Ok(StoreTarget {
        system,
        root,
        privileged: privileged(),
        tool_dirs: tool_dirs(),
    })
}

/// System tool directories first (/usr/sbin is not on every user's PATH), then PATH.
fn tool_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = [
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if d.is_absolute() && !dirs.contains(&d) {
                dirs.push(d);
            }
        }
    }
    dirs
}

/// A program by absolute path, with a clean environment: a child never sees pki's secrets
/// (`C8Y_PASSWORD`, `PKI_KEY_PASSWORD`) nor anything else of pki's environment, only a fixed
/// system PATH and the C locale (Windows: its system directory variables, which its programs
/// need).
fn clean_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new(program);
    c.env_clear();
    #[cfg(windows)]
    {
        let system_root = std::env::var_os("SystemRoot").unwrap_or_else(|| r"C:\Windows".into());
        let mut path = PathBuf::from(&system_root);
        path.push("System32");
        c.env("SystemRoot", &system_root)
            .env("windir", &system_root)
            .env("PATH", path);
    }
    #[cfg(not(windows))]
    c.env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LANG", "C")
        .env("LC_ALL", "C");
    c
}

/// Whether this process runs as root (elevated on Windows).
#[cfg(unix)]
fn privileged() -> bool {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        // "Uid:\treal\teffective\tsaved\tfs"
        if let Some(line) = status.lines().find(|l| l.starts_with("Uid:")) {
            return line.split_whitespace().nth(2) == Some("0");
        }
    }
    clean_command("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Whether this process runs elevated: `net session` needs it.
#[cfg(windows)]
fn privileged() -> bool {
    clean_command("net")
        .arg("session")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[cfg(not(any(unix, windows)))]
fn privileged() -> bool {
    false
}

/// This command line, quoted for a shell.
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

fn check_privilege(plan: &Plan, target: &StoreTarget) -> Result<()> {
    if target.privileged {
        return Ok(());
    }
    let what = match plan.action {
        StoreAction::Install => "installing into",
        StoreAction::Uninstall => "removing from",
    };
    match plan.requires {
        Privilege::None => Ok(()),
        Privilege::Root => bail!(
            "{what} the {} trust store needs root (it writes {} and runs {}); run: sudo {}",
            plan.system,
            plan.file.display(),
            plan.steps
                .iter()
                .find_map(|s| match s {
                    StoreStep::Run { program, .. } => Some(program.display().to_string()),
                    _ => None,
                })
                .unwrap_or_default(),
            this_command()
        ),
        Privilege::Administrator => bail!(
            "{what} LocalMachine\\Root needs an elevated process; run from a prompt opened with \"Run as administrator\": {}",
            this_command()
        ),
    }
}

/// Where a plan's files are: inside a device image, every path resolved inside it as the image
/// sees it (its links and `..` never lead out of it), or on this machine.
enum Place {
    Image(files::Root),
    Host,
}

impl Place {
    fn open(plan: &Plan) -> Result<Place> {
        match &plan.root {
            Some(r) => {
                Ok(Place::Image(files::Root::open(r).map_err(|e| {
                    anyhow!("cannot open --root {}: {e}", r.display())
                })?))
            }
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
    /// What a step said that the user should know (entries a bundle build left out).
    warnings: Vec<String>,
}

enum Saved {
    Bytes(Vec<u8>),
    Link(PathBuf),
}

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

/// What is at `name` in `dir` now, to put it back: a link's target, or a file's bytes; `None`
/// when nothing is there.
fn save(dir: &files::Dir, name: &str, path: &Path) -> Result<Option<Saved>> {
    if dir.is_link(name) {
        return Ok(Some(Saved::Link(dir.read_link(name).map_err(|e| {
            anyhow!("cannot read the link {}: {e}", path.display())
        })?)));
    }
    if !dir.exists(name) {
        return Ok(None);
    }
    let bytes = dir
        .read_bounded(name, MAX_SAVED)
        .map_err(|e| anyhow!("cannot read {} (to keep a copy): {e}", path.display()))?;
    Ok(Some(Saved::Bytes(bytes)))
}

fn run_step(place: &Place, step: &StoreStep, undo: &mut Undo) -> Result<()> {
    match step {
        StoreStep::CreateDir { path } => {
            let missing = place.missing_dirs(path);
            place
                .dir(path, true)
                .map_err(|e| anyhow!("cannot create {}: {e}{}", path.display(), io_hint(&e)))?;
            undo.created.extend(missing);
        }
        StoreStep::WriteFile {
            path, mode, bytes, ..
        } => {
            let (dir, name) = place
                .parent(path)
                .map_err(|e| anyhow!("cannot write {}: {e}{}", path.display(), io_hint(&e)))?;
            let old = save(&dir, &name, path)?;
            dir.write_atomic(&name, bytes, *mode, true)
                .map_err(|e| anyhow!("cannot write {}: {e}{}", path.display(), io_hint(&e)))?;
            match old {
                Some(old) => undo.replaced.push((path.clone(), old)),
                None => undo.written.push(path.clone()),
            }
        }
        StoreStep::RemoveFile { path } => {
            let (dir, name) = match place.parent(path) {
                Ok(found) => found,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
                Err(e) => bail!("cannot remove {}: {e}{}", path.display(), io_hint(&e)),
            };
            let Some(saved) = save(&dir, &name, path)? else {
                return Ok(());
            };
            dir.remove(&name)
                .map_err(|e| anyhow!("cannot remove {}: {e}{}", path.display(), io_hint(&e)))?;
            undo.replaced.push((path.clone(), saved));
        }
        StoreStep::Run { program, args } => {
            if !program.is_file() {
                bail!(
                    "{} not found: install the package that provides it (ca-certificates), then run pki again",
                    program.display()
                );
            }
            undo.ran = true;
            let out = clean_command(program)
                .args(args)
                .output()
                .with_context(|| format!("cannot run {}", program.display()))?;
            if !out.status.success() {
                let said = String::from_utf8_lossy(&out.stderr).trim().to_owned();
                let said = if said.is_empty() {
                    String::from_utf8_lossy(&out.stdout).trim().to_owned()
                } else {
                    said
                };
                let last = said.lines().last().unwrap_or("no output").to_owned();
                bail!("`{step}` failed ({}): {last}", out.status);
            }
        }
        StoreStep::BuildBundle { root, bundle } => {
            undo.ran = true;
            let built = pki_verify::build_bundle(root).map_err(|e| match e {
                TrustStoreError::Write { path, reason } => anyhow!(
                    "cannot write {}: {reason}{}",
                    path.display(),
                    io_hint(&reason)
                ),
                e => anyhow!(e).context(format!("cannot build {}", bundle.display())),
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
fn rollback(place: &Place, plan: &Plan, undo: Undo) -> Option<String> {
    let mut problems = Vec::new();
    for p in undo.written.iter().rev() {
        let r = place.parent(p).and_then(|(dir, name)| dir.remove(&name));
        if let Err(e) = r {
            problems.push(format!("cannot remove {}: {e}", p.display()));
        }
    }
    for (p, saved) in undo.replaced.iter().rev() {
        let r = place.parent(p).and_then(|(dir, name)| match saved {
            Saved::Bytes(b) => dir.write_atomic(&name, b, 0o644, true),
            // Made through the directory on Unix; elsewhere (Windows) a link cannot be made
            // again, and that is said, never skipped in silence.
            Saved::Link(t) => dir.symlink(t, &name).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "it was a symbolic link to {} and cannot be made again here ({e}); recreate it by hand",
                        t.display()
                    ),
                )
            }),
        });
        if let Err(e) = r {
            problems.push(format!("cannot restore {}: {e}", p.display()));
        }
    }
    for d in &undo.created {
        let r = match (d.parent(), d.file_name()) {
            (Some(parent), Some(name)) => place
                .dir(parent, false)
                .and_then(|dir| dir.remove_dir(&name.to_string_lossy())),
            _ => Ok(()),
        };
        // A directory that is not empty (something else was put there) stays.
        let _ = r;
    }
    if undo.ran {
        let mut again = Undo::default();
        for s in plan
            .steps
            .iter()
            .filter(|s| matches!(s, StoreStep::Run { .. } | StoreStep::BuildBundle { .. }))
        {
            if let Err(e) = run_step(place, s, &mut again) {
                problems.push(format!("refreshing again: {e:#}"));
                break;
            }
        }
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// Whether the store holds the certificate now, by the plan's check.
fn holds(plan: &Plan, confirm: &Confirm, cert_sha256: &str) -> Result<bool> {
    match confirm {
        Confirm::Bundle { path } => Ok(pki_verify::bundle_holds(
            plan.root.as_deref(),
            path,
            cert_sha256,
        )?),
        Confirm::CommandOutput {
            program,
            args,
            needle,
        } => {
            let out = clean_command(program)
                .args(args)
                .output()
                .with_context(|| format!("cannot run {}", program.display()))?;
            Ok(String::from_utf8_lossy(&out.stdout)
                .to_ascii_lowercase()
                .contains(&needle.to_ascii_lowercase()))
        }
    }
}

/// Carries out the plan and confirms it; on any failure puts everything back. Returns what the
/// steps said the user should know.
fn execute(plan: &Plan, sha256: &str) -> Result<Vec<String>> {
    let place = Place::open(plan)?;
    let mut undo = Undo::default();
    let mut failure = None;
    for step in &plan.steps {
        if let Err(e) = run_step(&place, step, &mut undo) {
            failure = Some(e);
            break;
        }
    }
    if failure.is_none()
        && let Some(confirm) = &plan.confirm
    {
        let want = plan.action == StoreAction::Install;
        match holds(plan, confirm, sha256) {
            Ok(h) if h == want => {}
            Ok(_) => {
                failure = Some(anyhow!(
                    "the refresh ran, but {}",
                    match confirm {
                        Confirm::Bundle { path } if want => format!(
                            "{} does not hold the certificate (SHA-256 {sha256})",
                            path.display()
                        ),
                        Confirm::Bundle { path } => format!(
                            "{} still holds the certificate (SHA-256 {sha256})",
                            path.display()
                        ),
                        _ if want => "the store does not list the certificate".to_owned(),
                        _ => "the store still lists the certificate".to_owned(),
                    }
                ));
            }
            Err(e) => failure = Some(e),
        }
    }
    let Some(err) = failure else {
        return Ok(undo.warnings);
    };
    let changed = !undo.written.is_empty()
        || !undo.replaced.is_empty()
        || !undo.created.is_empty()
        || undo.ran;
    let put_back = match plan.action {
        _ if !changed => "nothing was changed".to_owned(),
        StoreAction::Install => format!("{} removed again", plan.file.display()),
        StoreAction::Uninstall => format!("{} put back", plan.file.display()),
    };
    match rollback(&place, plan, undo) {
        None => Err(anyhow!(
            "{err:#}; the {} trust store is as it was ({put_back})",
            plan.system
        )),
        Some(problems) => Err(anyhow!(
            "{err:#}; undoing it failed too, check the store by hand: {problems}"
        )),
    }
}

/// The path `p` has inside the image (`--root` stripped).
fn inside(target: &StoreTarget, p: &Path) -> String {
    match &target.root {
        Some(r) => p
            .strip_prefix(r)
            .map(|rest| Path::new("/").join(rest).display().to_string())
            .unwrap_or_else(|_| p.display().to_string()),
        None => p.display().to_string(),
    }
}

fn hints(target: &StoreTarget, plan: &Plan) -> Vec<String> {
    let file = inside(target, &plan.file);
    let bundle = match &plan.confirm {
        Some(Confirm::Bundle { path }) => inside(target, path),
        _ => file.clone(),
    };
    vec![
        format!("Node.js:          NODE_EXTRA_CA_CERTS={file}"),
        format!("Python requests:  REQUESTS_CA_BUNDLE={bundle}"),
        format!(
            "IoT Edge modules: trust_bundle_cert = \"file://{file}\" in /etc/aziot/config.toml, then `sudo iotedge config apply`"
        ),
    ]
}

fn read_ca(path: &Path, allow_leaf: bool) -> Result<StoreCertificate> {
    // At most 1 MiB of a regular file: a device or a FIFO is refused, never read.
    let cert = match StoreCertificate::read(path) {
        Err(TrustStoreError::Io { reason, .. }) => bail!(
            "cannot read the certificate {}: {reason}; check the path",
            path.display()
        ),
        Err(TrustStoreError::Refused { reason, .. }) => bail!(
            "cannot read the certificate {}: {reason}; give the certificate's file (PEM or DER)",
            path.display()
        ),
        other => other?,
    };
    if !cert.is_ca && !allow_leaf {
        return Err(TrustStoreError::NotCa {
            input: path.display().to_string(),
            subject: cert.subject.clone(),
        }
        .into());
    }
    Ok(cert)
}

/// `pki install-ca`.
pub(crate) fn install(a: InstallCaArgs, out: &Output) -> Result<Outcome> {
    let cert = read_ca(&a.cert, a.allow_leaf)?;
    let name = match &a.name {
        Some(n) => pki_verify::checked_name(n)?,
        None => cert.default_name(),
    };
    let target = target(&a.store)?;
    let report = |status| {
        let mut r = StoreReport::new(StoreAction::Install, status, &target);
        r.certificate = Some(CertView::from(&cert));
        r
    };
    let plan = match pki_verify::plan_install(&target, &cert, &name)? {
        InstallPlan::Already(already) => {
            let (status, file) = match already {
                Already::InstalledByPki { path } => (Status::AlreadyInstalled, path),
                Already::InBundle { bundle } => (Status::AlreadyInStore, bundle),
            };
            let mut r = report(status);
            r.file = Some(file);
            out.emit(&r, || r.text())?;
            return Ok(Outcome::Success);
        }
        InstallPlan::Steps(plan) => plan,
    };
    if a.store.dry_run {
        let r = report(Status::DryRun).with_plan(&plan);
        out.emit(&r, || r.text())?;
        return Ok(Outcome::Success);
    }
    check_privilege(&plan, &target)?;
    for w in execute(&plan, &cert.sha256)? {
        out.warn(&w);
    }
    let status = if plan.confirm.is_none() {
        Status::RefreshPending
    } else {
        Status::Installed
    };
    let mut r = report(status).with_plan(&plan);
    r.hints = hints(&target, &plan);
    if status == Status::RefreshPending {
        for n in &plan.notes {
            out.warn(&n.to_string());
        }
    }
    out.emit(&r, || r.text())?;
    Ok(Outcome::Success)
}

/// `pki uninstall-ca`.
pub(crate) fn uninstall(a: UninstallCaArgs, out: &Output) -> Result<Outcome> {
    let path = Path::new(&a.cert);
    let (fingerprint, cert) = if path.is_file() {
        let cert = read_ca(path, true)?;
        (Fingerprint::Sha256(cert.sha256.clone()), Some(cert))
    } else {
        let fp = Fingerprint::parse(&a.cert).with_context(|| {
            format!(
                "{}: neither a certificate file nor a SHA-256 (64 hex digits) or SHA-1 (40) fingerprint; give the file you installed or its fingerprint (`pki list-ca --os-store` shows them)",
                a.cert
            )
        })?;
        (fp, None)
    };
    let target = target(&a.store)?;
    let report = |status, cert: Option<&StoreCertificate>| {
        let mut r = StoreReport::new(StoreAction::Uninstall, status, &target);
        r.certificate = cert.map(CertView::from);
        r.fingerprint = Some(fingerprint.to_string());
        r
    };
    let plan = match pki_verify::plan_uninstall(&target, &fingerprint)? {
        UninstallPlan::NotInstalled { in_bundle } => {
            let mut r = report(Status::NotInstalled, cert.as_ref());
            if in_bundle {
                r.notes.push(
                    "the store holds it, but not from a file pki installed: remove it the way it was added"
                        .to_owned(),
                );
            }
            out.emit(&r, || r.text())?;
            return Ok(Outcome::Success);
        }
        UninstallPlan::Steps(plan) => plan,
    };
    let installed = pki_verify::installed(&target)?
        .into_iter()
        .find(|i| i.path == plan.file)
        .map(|i| i.certificate);
    let cert = cert.or(installed);
    if a.store.dry_run {
        let r = report(Status::DryRun, cert.as_ref()).with_plan(&plan);
        out.emit(&r, || r.text())?;
        return Ok(Outcome::Success);
    }
    check_privilege(&plan, &target)?;
    let sha256 = cert.as_ref().map(|c| c.sha256.clone()).unwrap_or_default();
    for w in execute(&plan, &sha256)? {
        out.warn(&w);
    }
    let status = if plan.confirm.is_none() {
        Status::RefreshPending
    } else {
        Status::Removed
    };
    let r = report(status, cert.as_ref()).with_plan(&plan);
    out.emit(&r, || r.text())?;
    Ok(Outcome::Success)
}

/// One line of a listing.
#[derive(Debug, Serialize)]
struct Listed {
    subject: String,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
    sha256: String,
    sha1: String,
    /// pki's file for it, when pki installed it.
    file: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct ListReport {
    system: TrustSystem,
    root: Option<PathBuf>,
    all: bool,
    /// Where the listing comes from: the anchor directory, or the bundle with --all.
    source: PathBuf,
    certificates: Vec<Listed>,
}

/// `pki list-ca`.
pub(crate) fn list(a: ListCaArgs, out: &Output) -> Result<Outcome> {
    let target = target(&a.store)?;
    let mine = pki_verify::installed(&target)?;
    let listed = |c: &StoreCertificate, file: Option<PathBuf>| Listed {
        subject: c.subject.clone(),
        not_after: c.not_after,
        sha256: c.sha256.clone(),
        sha1: c.sha1.clone(),
        file,
    };
    let (source, certificates) = if a.all {
        let (bundle, certs) = pki_verify::store_certificates(&target)?;
        let certs = certs
            .iter()
            .map(|c| {
                let file = mine
                    .iter()
                    .find(|m| m.certificate.sha256 == c.sha256)
                    .map(|m| m.path.clone());
                listed(c, file)
            })
            .collect();
        (bundle, certs)
    } else {
        let dir = mine
            .first()
            .and_then(|m| m.path.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        (
            dir,
            mine.iter()
                .map(|m| listed(&m.certificate, Some(m.path.clone())))
                .collect(),
        )
    };
    let r = ListReport {
        system: target.system,
        root: target.root.clone(),
        all: a.all,
        source,
        certificates,
    };
    out.emit(&r, || {
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
        for c in &r.certificates {
            let mark = if r.all && c.file.is_some() {
                "* "
            } else {
                "  "
            };
            s += &format!(
                "{mark}{}  expires {}  SHA-256 {}{}\n",
                escape_line(&c.subject),
                c.not_after.date(),
                c.sha256,
                c.file
                    .as_ref()
                    .filter(|_| !r.all)
                    .map(|f| format!("  {}", path(f)))
                    .unwrap_or_default()
            );
        }
        s
    })?;
    Ok(Outcome::Success)
}
