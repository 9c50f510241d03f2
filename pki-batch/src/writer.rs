//! The writer thread: records each chunk's certificates in the CA directory's register (one
//! transaction a chunk) and then appends its manifest lines to the manifest, while the workers
//! issue the next chunk. The
//! manifest is the batch's commit record: a device's line reaches it only after its three
//! files are complete.

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use pki_core::{CaDir, Record, files};

use crate::error::{Error, FileOp};

/// Mode of a manifest the batch creates.
const MANIFEST_MODE: u32 = 0o644;

/// One chunk's lines: the manifest's, and the register's rows.
type Lines = (Vec<String>, Vec<Record>);

/// The writer thread of a run.
pub(crate) struct Writer {
    tx: mpsc::SyncSender<Lines>,
    thread: JoinHandle<Result<(), Error>>,
}

impl Writer {
    /// Starts the thread, which opens (or creates) the manifest at `manifest` for appending
    /// and the CA directory's register.
    pub(crate) fn start(ca: &CaDir, manifest: PathBuf) -> Result<Writer, Error> {
        let (tx, rx) = mpsc::sync_channel::<Lines>(2);
        let mut register = ca.register()?;
        let thread = std::thread::spawn(move || -> Result<(), Error> {
            let mut file = files::open_append(&manifest, Some(MANIFEST_MODE))
                .map_err(|e| Error::manifest(FileOp::Open, &manifest, e))?;
            for (lines, rows) in rx {
                // Register first: a kill between the two leaves a device the re-run finds in
                // the register (by serial) and so does not record twice.
                if !rows.is_empty() {
                    let mut t = register.transaction().map_err(pki_core::Error::from)?;
                    t.insert(&rows).map_err(pki_core::Error::from)?;
                    t.commit().map_err(pki_core::Error::from)?;
                }
                file.write_all(lines.concat().as_bytes())
                    .map_err(|e| Error::manifest(FileOp::Write, &manifest, e))?;
            }
            file.sync_all()
                .map_err(|e| Error::manifest(FileOp::Sync, &manifest, e))?;
            Ok(())
        });
        Ok(Writer { tx, thread })
    }

    /// Hands a chunk's lines to the thread. False when the thread has stopped (its error is
    /// what [`Writer::finish`] returns).
    pub(crate) fn send(&self, manifest: Vec<String>, rows: Vec<Record>) -> bool {
        self.tx.send((manifest, rows)).is_ok()
    }

    /// Waits until every line handed over is written and the manifest synced.
    pub(crate) fn finish(self) -> Result<(), Error> {
        drop(self.tx);
        self.thread.join().map_err(|_| Error::Writer)?
    }
}
