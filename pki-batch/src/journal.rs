//! The batch's journal, `batch.journal` beside `batch.lock`: what lets a re-run tell the
//! leftovers of a killed run (its own) from files that something else put there.
//!
//! Before a device's files are created (when no key of it is there), a line naming it,
//! `{"creating":"<device id>"}`, is appended: one write for a worker's group of devices, before
//! any of their files exists. A device that the journal names and the manifest does not was
//! begun by an earlier run and not completed: what is at its paths is that run's leftovers (the
//! key for sure; a certificate or chain if its content says so). Only whole lines count: a
//! last line cut by a kill names no device and is removed. A run that leaves no device begun
//! and unfinished empties the journal.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use pki_core::files;
use serde::{Deserialize, Serialize};

use crate::error::{Error, FileOp};
use crate::input::{Line, id_hash, read_line};

/// The journal's file name, in the output directory.
pub(crate) const FILE_NAME: &str = "batch.journal";

/// The longest line read back (a device id is at most 128 characters).
const MAX_LINE: usize = 4096;

/// One line of the journal.
#[derive(Serialize, Deserialize)]
struct Creating<'a> {
    #[serde(borrow)]
    creating: std::borrow::Cow<'a, str>,
}

/// The journal of one output directory, open for appending (under the batch lock).
pub(crate) struct Journal {
    path: PathBuf,
    file: fs::File,
    /// Devices an earlier run began and did not complete (hashes of their ids).
    begun_earlier: HashSet<u64>,
    /// Devices an earlier run began that this one has not completed (yet).
    unfinished: HashSet<u64>,
    /// A device this run began is left unfinished.
    left_unfinished: bool,
}

impl Journal {
    /// Opens (or creates) the journal at `path`, with `done` the devices the manifest has. A
    /// last line cut by a kill names no device and is removed.
    pub(crate) fn open(path: &Path, done: &HashSet<u64>) -> Result<Journal, Error> {
        let file = files::open_append(path, Some(0o644))
            .map_err(|e| Error::journal(FileOp::Open, path, e))?;
        let mut begun = HashSet::new();
        let mut input = std::io::BufReader::new(&file);
        let mut buf = Vec::new();
        let mut offset = 0u64;
        loop {
            let read = read_line(&mut input, &mut buf, MAX_LINE)
                .map_err(|e| Error::journal(FileOp::Read, path, e))?;
            match read {
                Line::End => break,
                // Only whole lines count: a cut one may be the start of another device's id.
                Line::Unterminated => {
                    file.set_len(offset)
                        .map_err(|e| Error::journal(FileOp::Repair, path, e))?;
                    break;
                }
                // Not a line this journal writes: it claims nothing.
                Line::TooLong => {}
                Line::Complete => {
                    if let Ok(c) = serde_json::from_slice::<Creating<'_>>(&buf) {
                        let h = id_hash(&c.creating);
                        if !done.contains(&h) {
                            begun.insert(h);
                        }
                    }
                }
            }
            offset += buf.len() as u64 + 1;
        }
        Ok(Journal {
            path: path.to_owned(),
            file,
            unfinished: begun.clone(),
            begun_earlier: begun,
            left_unfinished: false,
        })
    }

    /// True when an earlier run began the device with this id hash and did not complete it:
    /// the files at its paths are that run's.
    pub(crate) fn begun_earlier(&self, id_hash: u64) -> bool {
        self.begun_earlier.contains(&id_hash)
    }

    /// True when there are leftovers of an earlier run to look for.
    pub(crate) fn has_leftovers(&self) -> bool {
        !self.begun_earlier.is_empty()
    }

    /// Records that the files of these devices are about to be created, in one write. Called
    /// from every worker: each write is appended whole.
    pub(crate) fn begin<'a>(&self, ids: impl Iterator<Item = &'a str>) -> Result<(), Error> {
        let mut lines = Vec::new();
        for id in ids {
            serde_json::to_writer(
                &mut lines,
                &Creating {
                    creating: id.into(),
                },
            )
            .map_err(|e| Error::journal(FileOp::Write, &self.path, e))?;
            lines.push(b'\n');
        }
        if lines.is_empty() {
            return Ok(());
        }
        (&self.file)
            .write_all(&lines)
            .map_err(|e| Error::journal(FileOp::Write, &self.path, e))
    }

    /// Records that a device's manifest line is on its way (written by the end of the run).
    pub(crate) fn completed(&mut self, id: &str) {
        if !self.unfinished.is_empty() {
            self.unfinished.remove(&id_hash(id));
        }
    }

    /// Records that a device this run began is left unfinished (its line was rejected).
    pub(crate) fn unfinished(&mut self) {
        self.left_unfinished = true;
    }

    /// At the end of a run whose manifest lines are all written: empties the journal when no
    /// device is begun and unfinished.
    pub(crate) fn close(self) -> Result<(), Error> {
        if self.unfinished.is_empty() && !self.left_unfinished {
            self.file
                .set_len(0)
                .map_err(|e| Error::journal(FileOp::Empty, &self.path, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_names_the_devices_begun_and_not_done() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(FILE_NAME);
        let mut j = Journal::open(&p, &HashSet::new()).unwrap();
        j.begin(["a", "b", "c"].into_iter()).unwrap();
        j.completed("a");
        j.unfinished();
        j.close().unwrap();
        // b and c were not completed: the journal keeps them. c is in the manifest.
        let text = fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "{\"creating\":\"a\"}\n{\"creating\":\"b\"}\n{\"creating\":\"c\"}\n"
        );
        // A kill cut a line short: "{\"creating\":\"b" must not claim device b.
        fs::write(&p, format!("{text}{{\"creating\":\"b")).unwrap();
        let mut j = Journal::open(&p, &HashSet::from([id_hash("c")])).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), text);
        assert!(j.begun_earlier(id_hash("a")) && j.begun_earlier(id_hash("b")));
        assert!(!j.begun_earlier(id_hash("c")) && !j.begun_earlier(id_hash("d")));
        // Everything completed: emptied.
        j.begin(["d"].into_iter()).unwrap();
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            format!("{text}{{\"creating\":\"d\"}}\n")
        );
        for id in ["a", "b", "d"] {
            j.completed(id);
        }
        j.close().unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "");
        // A cut line on its own is no claim either.
        fs::write(&p, "{\"creating\":\"x").unwrap();
        let j = Journal::open(&p, &HashSet::new()).unwrap();
        assert!(!j.has_leftovers());
        assert_eq!(fs::read_to_string(&p).unwrap(), "");
    }
}
