//! What to do for each device ([`Plan`]), decided before anything of it is written, from what
//! is at its paths, the manifest and the journal; and which device ids the lot cannot use.
//!
//! In the common case (a device not begun) a plan costs one lookup: the key (the one file whose
//! owner its content cannot tell), or with [`Layout::Folders`] the device's folder. Nothing is
//! read unless a key is there. Somebody else's key or certificate (one the journal does not
//! account for) makes the device a rejected line and is left as it is, unless
//! [`Existing::Replace`]. What a cut write leaves (an empty file, a PEM begun and never ended)
//! holds no key and no certificate, and is replaced whoever began it.

use std::fs;
use std::path::Path;

use crate::engine::Lot;
use crate::error::{Error, FileOp};
use crate::events::Reason;
use crate::input::{Entry, id_hash};
use crate::journal::{self, Journal};
use crate::options::{Existing, Layout, Paths};

/// The batch's own files in its output directory (with the manifest's default name): with
/// [`Layout::Folders`], a device folder of the same name would collide with them.
const OWN_FILES: [&str; 3] = ["manifest.jsonl", "batch.lock", journal::FILE_NAME];

/// What to do for a device.
#[derive(Debug)]
pub(crate) enum Plan {
    /// In the manifest, with its files: nothing.
    Skip,
    /// No key is there (with folders: no folder): issue, each file created new. A certificate
    /// or chain found in the way then is somebody else's: what the device got is removed again
    /// and it is a rejected line (with [`Existing::Replace`], they are replaced).
    Fresh,
    /// A key is there, and everything there may go (what cut writes leave, or
    /// [`Existing::Replace`]).
    Replace,
    /// Leftovers of an earlier run that began the device (the journal says so).
    Leftover,
    /// Somebody else's key or certificate is there: a rejected line.
    Refuse(Reason),
}

/// Device ids the lot cannot use: the CNs of the CA directory's IoT Edge device CAs (IoT Edge
/// requires them to differ from every device id) and, with folders, the names of the batch's
/// own files. Compared without regard to ASCII case.
pub(crate) struct Reserved {
    /// `(cn, edge CA name)`.
    edge_cas: Vec<(String, String)>,
    own_files: Vec<String>,
}

impl Reserved {
    pub(crate) fn new(
        ca: &pki_core::CaDir,
        layout: &Layout,
        manifest: &Path,
    ) -> Result<Self, Error> {
        let edge_cas = ca.edge_ca_cns()?;
        let own_files = match layout {
            Layout::CaDir => Vec::new(),
            Layout::Folders(_) => OWN_FILES
                .iter()
                .map(|n| n.to_string())
                .chain(
                    manifest
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned()),
                )
                .collect(),
        };
        Ok(Reserved {
            edge_cas,
            own_files,
        })
    }

    /// Why a device id cannot be used, if it cannot.
    pub(crate) fn check(&self, id: &str) -> Option<Reason> {
        if let Some((cn, edge_ca)) = self
            .edge_cas
            .iter()
            .find(|(cn, _)| id.eq_ignore_ascii_case(cn))
        {
            return Some(Reason::EdgeCaName {
                cn: cn.clone(),
                edge_ca: edge_ca.clone(),
            });
        }
        let own = self.own_files.iter().find(|n| id.eq_ignore_ascii_case(n))?;
        Some(Reason::OwnFile(own.clone()))
    }
}

/// Decides what to do for a device, with its paths.
pub(crate) fn plan(lot: &Lot<'_>, journal: &Journal, e: &Entry) -> Result<(Paths, Plan), Error> {
    let p = lot.opts.layout.paths(lot.ca, &e.device_id);
    let plan = plan_for(lot, journal, e, &p)?;
    Ok((p, plan))
}

fn plan_for(lot: &Lot<'_>, journal: &Journal, e: &Entry, p: &Paths) -> Result<Plan, Error> {
    let h = id_hash(&e.device_id);
    if lot.done_ids.contains(&h) && p.chain.exists() {
        return Ok(Plan::Skip);
    }
    if journal.begun_earlier(h) {
        return Ok(Plan::Leftover);
    }
    if let Some(d) = &p.dir {
        match lookup(d)? {
            None => return Ok(Plan::Fresh),
            Some(m) if m.is_dir() => {}
            Some(_) => return Ok(Plan::Refuse(Reason::NotAFolder(d.clone()))),
        }
    }
    if lookup(&p.key)?.is_none() {
        return Ok(Plan::Fresh);
    }
    if lot.opts.existing == Existing::Keep {
        // The certificate first: it is what a rejected line names when both are there.
        for f in [&p.cert, &p.key, &p.chain] {
            if !may_replace(f, is_cut)? {
                return Ok(Plan::Refuse(Reason::Exists(f.clone())));
            }
        }
    }
    Ok(Plan::Replace)
}

/// What is at `path` (a link is not followed), `None` when nothing is.
fn lookup(path: &Path) -> Result<Option<fs::Metadata>, Error> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::file(FileOp::LookAt, path, e)),
    }
}

/// True when nothing is at `path`, or a file (not a link) whose content passes `ok`.
pub(crate) fn may_replace(path: &Path, ok: impl Fn(&[u8]) -> bool) -> Result<bool, Error> {
    match lookup(path)? {
        None => return Ok(true),
        Some(m) if m.is_file() && m.len() <= 1 << 20 => {}
        Some(_) => return Ok(false),
    }
    let data = fs::read(path).map_err(|e| Error::file(FileOp::Read, path, e))?;
    Ok(ok(&data))
}

/// True for what a write cut short leaves: nothing, or a PEM begun and never ended. It holds
/// no key and no certificate, so it may be replaced whoever began it.
pub(crate) fn is_cut(data: &[u8]) -> bool {
    const BEGIN: &[u8] = b"-----BEGIN ";
    const END: &[u8] = b"-----END ";
    let begun = data.starts_with(BEGIN) || BEGIN.starts_with(data);
    begun && !data.windows(END.len()).any(|w| w == END)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_a_cut_write_leaves_counts_as_cut() {
        assert!(is_cut(b""));
        assert!(is_cut(b"-----BEG"));
        assert!(is_cut(b"-----BEGIN PRIVATE KEY-----\nMIGH"));
        assert!(!is_cut(
            b"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"
        ));
        assert!(!is_cut(b"a key someone wrote"));
    }
}
