//! Renewal of files kept outside any CA directory, where a device's software reads them: the
//! certificate, chain and key `pki est reenroll` renews. The same transaction as a renewal's
//! (`execute.rs`), without a register: the replaced files kept beside themselves as
//! `<name>.<OLD SERIAL>.<ext>`, the new ones written with the mode and owner of the files they
//! replace, the caller's [`Hook`] run once they are in place; a failed hook puts every file back
//! as it was (the kept copies removed), runs the hook again so that the service serves the old
//! files, and reads them back to tell what it could not restore.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::execute::{Attrs, kept_name, read_as_is, stage};
use super::{Hook, HookCall, HookPhase, HookRun, RenewalResult};
use crate::error::{Error, Result};
use crate::store::{CaDir, file_name_of};
use pki_x509::files;

/// A file renewed in place.
#[derive(Debug, Clone, Copy)]
pub struct InPlaceFile<'a> {
    /// Where it is (or, when missing, where it is created).
    pub path: &'a Path,
    /// Its new contents.
    pub data: &'a [u8],
    /// A private key: never readable by others nor writable by its group, 0600 when new.
    pub key: bool,
}

/// How a renewal in place ended.
#[derive(Debug, Clone, Serialize)]
pub struct InPlace {
    /// Renewed, or rolled back (the hook failed).
    pub result: RenewalResult,
    /// The files written, in the order given (none after a rollback).
    pub written: Vec<PathBuf>,
    /// The replaced files, kept beside themselves (none after a rollback).
    pub kept: Vec<PathBuf>,
    /// The hook's run, with the new files in place.
    pub hook: Option<HookRun>,
    /// The hook's run after a rollback, with the old files back.
    pub rollback_hook: Option<HookRun>,
    /// Files that are not as they were before, after a rollback (the hook removed or changed
    /// them).
    pub not_restored: Vec<PathBuf>,
}

/// Where `path` is kept once a renewal replaces it: beside itself, with `serial` (the replaced
/// certificate's) before its extension (`device.cert.pem` -> `device.<SERIAL>.cert.pem`).
pub fn kept_beside(path: &Path, serial: &str) -> PathBuf {
    path.with_file_name(kept_name(&file_name_of(path), serial))
}

/// Replaces `files` (the certificate first: the hook is told its path) in one transaction,
/// keeping what they replace under `old_serial`'s name; runs `hook`; rolls back when it fails.
/// `Err` when nothing was changed: a kept name already taken (unless `force`), a directory that
/// cannot be opened, a file that cannot be written.
pub fn renew_in_place(
    files: &[InPlaceFile<'_>],
    old_serial: &str,
    new_serial: &str,
    hook: Option<&dyn Hook>,
    force: bool,
) -> Result<InPlace> {
    let io = |p: &Path| {
        let p = p.to_owned();
        move |e| Error::io(p, e)
    };
    let Some(cert) = files.first().map(|f| f.path) else {
        return Ok(InPlace {
            result: RenewalResult::Renewed,
            written: Vec::new(),
            kept: Vec::new(),
            hook: None,
            rollback_hook: None,
            not_restored: Vec::new(),
        });
    };
    let mut dirs = Vec::with_capacity(files.len());
    for f in files {
        let (dir, name) = files::split(f.path).map_err(io(f.path))?;
        let opened = files::Dir::open(&dir).map_err(io(f.path))?;
        dirs.push((name, opened));
    }
    let mut t = files::Transaction::default();
    let mut kept = Vec::new();
    for (f, (name, dir)) in files.iter().zip(&dirs) {
        let (default, max) = if f.key {
            (Attrs::KEY, 0o640)
        } else {
            (Attrs::PUBLIC, 0o644)
        };
        let attrs = Attrs::of(f.path, default, max);
        if let Ok(old) = dir.read_bounded(name, 1 << 24) {
            let old = zeroize::Zeroizing::new(old);
            let kept_as = kept_name(name, old_serial);
            let to = f.path.with_file_name(&kept_as);
            CaDir::check_free(&[&to], force)?;
            t.add(stage(dir, &to, &kept_as, &old, attrs)?);
            kept.push(to);
        }
        t.add(stage(dir, f.path, &file_name_of(f.path), f.data, attrs)?);
    }
    let before: Vec<(PathBuf, Option<zeroize::Zeroizing<Vec<u8>>>)> = files
        .iter()
        .map(|f| (f.path.to_owned(), read_as_is(f.path)))
        .collect();
    let call = |phase| HookCall {
        phase,
        cert,
        old_serial,
        new_serial,
    };
    let mut run = None;
    let committed = t.commit_then(true, || match hook {
        Some(h) => {
            let r = h.run(&call(HookPhase::Renew));
            let ok = r.ok;
            run = Some(r);
            if ok { Ok(()) } else { Err(()) }
        }
        None => Ok(()),
    });
    let mut outcome = InPlace {
        result: RenewalResult::Renewed,
        written: files.iter().map(|f| f.path.to_owned()).collect(),
        kept,
        hook: run,
        rollback_hook: None,
        not_restored: Vec::new(),
    };
    match committed {
        Ok(()) => Ok(outcome),
        Err(files::Failed::Files(e)) => Err(Error::io(cert, e)),
        Err(files::Failed::Then(())) => {
            outcome.result = RenewalResult::RolledBack;
            outcome.written.clear();
            outcome.kept.clear();
            // The old files are back: the service must read them again.
            if let Some(h) = hook {
                outcome.rollback_hook = Some(h.run(&call(HookPhase::Rollback)));
            }
            outcome.not_restored = before
                .into_iter()
                .filter(|(p, was)| read_as_is(p) != *was)
                .map(|(p, _)| p)
                .collect();
            Ok(outcome)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// A hook that answers `ok` on renewal (always on rollback) and records what it saw: the
    /// phase, and the certificate file's contents at that moment.
    struct Recorder {
        ok: bool,
        seen: RefCell<Vec<(HookPhase, Vec<u8>)>>,
    }

    impl Hook for Recorder {
        fn run(&self, call: &HookCall<'_>) -> HookRun {
            let now = std::fs::read(call.cert).unwrap_or_default();
            self.seen.borrow_mut().push((call.phase, now));
            let ok = self.ok || call.phase == HookPhase::Rollback;
            HookRun {
                phase: call.phase,
                command: "recorder".into(),
                ok,
                exit_code: Some(if ok { 0 } else { 1 }),
                timed_out: false,
                error: None,
                seconds: 0.0,
            }
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn the_old_files_are_kept_beside_and_the_new_ones_keep_their_modes() {
        let d = tempfile::tempdir().unwrap();
        let (cert, key, chain) = (
            d.path().join("device.cert.pem"),
            d.path().join("device.key.pem"),
            d.path().join("chain.pem"),
        );
        std::fs::write(&cert, b"old cert").unwrap();
        std::fs::write(&key, b"old key").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&cert, std::fs::Permissions::from_mode(0o640)).unwrap();
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let hook = Recorder {
            ok: true,
            seen: RefCell::new(Vec::new()),
        };
        let set = [
            InPlaceFile {
                path: &cert,
                data: b"new cert",
                key: false,
            },
            InPlaceFile {
                path: &key,
                data: b"new key",
                key: true,
            },
            InPlaceFile {
                path: &chain,
                data: b"new chain",
                key: false,
            },
        ];
        let done = renew_in_place(&set, "0A", "0B", Some(&hook), false).unwrap();
        assert_eq!(done.result, RenewalResult::Renewed);
        assert_eq!(
            names(d.path()),
            [
                "chain.pem",
                "device.0A.cert.pem",
                "device.0A.key.pem",
                "device.cert.pem",
                "device.key.pem"
            ]
        );
        assert_eq!(std::fs::read(&cert).unwrap(), b"new cert");
        assert_eq!(
            std::fs::read(d.path().join("device.0A.key.pem")).unwrap(),
            b"old key"
        );
        assert_eq!(
            done.kept,
            [kept_beside(&cert, "0A"), kept_beside(&key, "0A")]
        );
        assert_eq!(
            hook.seen.into_inner(),
            [(HookPhase::Renew, b"new cert".to_vec())]
        );
        #[cfg(unix)]
        {
            assert_eq!(mode(&cert), 0o640);
            // A key is never readable by others, whatever the old file allowed.
            assert_eq!(mode(&key), 0o640 & 0o644);
            assert_eq!(mode(&d.path().join("device.0A.key.pem")), 0o640 & 0o644);
            assert_eq!(mode(&chain), 0o644);
        }
        // Again: the kept names are taken, refused unless forced; nothing changed.
        let err = renew_in_place(&set, "0A", "0C", None, false).unwrap_err();
        assert!(matches!(err, Error::Exists(_)), "{err}");
        assert_eq!(std::fs::read(&cert).unwrap(), b"new cert");
        renew_in_place(&set, "0A", "0C", None, true).unwrap();
    }

    #[test]
    fn a_failed_hook_puts_every_file_back_byte_for_byte_and_runs_again() {
        let d = tempfile::tempdir().unwrap();
        let (cert, key) = (d.path().join("c.pem"), d.path().join("k.pem"));
        std::fs::write(&cert, b"old cert").unwrap();
        std::fs::write(&key, b"old key").unwrap();
        let before = names(d.path());
        let hook = Recorder {
            ok: false,
            seen: RefCell::new(Vec::new()),
        };
        let set = [
            InPlaceFile {
                path: &cert,
                data: b"new cert",
                key: false,
            },
            InPlaceFile {
                path: &key,
                data: b"new key",
                key: true,
            },
        ];
        let done = renew_in_place(&set, "0A", "0B", Some(&hook), false).unwrap();
        assert_eq!(done.result, RenewalResult::RolledBack);
        assert!(done.written.is_empty() && done.kept.is_empty());
        assert!(done.not_restored.is_empty());
        assert!(done.rollback_hook.as_ref().is_some_and(|h| h.ok));
        assert_eq!(names(d.path()), before);
        assert_eq!(std::fs::read(&cert).unwrap(), b"old cert");
        assert_eq!(std::fs::read(&key).unwrap(), b"old key");
        assert_eq!(
            hook.seen.into_inner(),
            [
                (HookPhase::Renew, b"new cert".to_vec()),
                (HookPhase::Rollback, b"old cert".to_vec())
            ]
        );
    }
}
