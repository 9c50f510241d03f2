//! The writer thread: appends each chunk's index lines to the CA directory's `index.jsonl` and
//! then its manifest lines to the manifest, while the workers issue the next chunk. The
//! manifest is the batch's commit record: a device's line reaches it only after its three
//! files are complete.

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use pki_core::{CaDir, IndexEntry, files};

use crate::error::{Error, FileOp};

/// Mode of a manifest the batch creates.
const MANIFEST_MODE: u32 = 0o644;

/// One chunk's lines: the manifest's, and the index's.
type Lines = (Vec<String>, Vec<IndexEntry>);

/// The writer thread of a run.
pub(crate) struct Writer {
    tx: mpsc::SyncSender<Lines>,
    thread: JoinHandle<Result<(), Error>>,
}

impl Writer {
    /// Starts the thread, which opens (or creates) the manifest at `manifest` for appending.
    pub(crate) fn start(ca: &CaDir, manifest: PathBuf) -> Writer {
        let (tx, rx) = mpsc::sync_channel::<Lines>(2);
        let ca = ca.clone();
        let thread = std::thread::spawn(move || -> Result<(), Error> {
            let mut file = files::open_append(&manifest, Some(MANIFEST_MODE))
                .map_err(|e| Error::manifest(FileOp::Open, &manifest, e))?;
            for (lines, index) in rx {
                // Index first: a kill between the two leaves a device the re-run finds in the
                // index (by serial) and so does not index twice.
                ca.append_index(&index)?;
                file.write_all(lines.concat().as_bytes())
                    .map_err(|e| Error::manifest(FileOp::Write, &manifest, e))?;
            }
            file.sync_all()
                .map_err(|e| Error::manifest(FileOp::Sync, &manifest, e))?;
            Ok(())
        });
        Writer { tx, thread }
    }

    /// Hands a chunk's lines to the thread. False when the thread has stopped (its error is
    /// what [`Writer::finish`] returns).
    pub(crate) fn send(&self, manifest: Vec<String>, index: Vec<IndexEntry>) -> bool {
        self.tx.send((manifest, index)).is_ok()
    }

    /// Waits until every line handed over is written and the manifest synced.
    pub(crate) fn finish(self) -> Result<(), Error> {
        drop(self.tx);
        self.thread.join().map_err(|_| Error::Writer)?
    }
}
