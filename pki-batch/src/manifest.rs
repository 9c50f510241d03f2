//! The manifest, the batch's commit record: one JSON line per device whose three files are
//! complete. Read back at the start of a run, it gives the devices already done. A file that
//! is not a manifest of pki is refused untouched; a last line cut by a kill is repaired.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::Path;

use pki_core::files;
use serde::{Deserialize, Serialize};

use crate::error::{Error, FileOp};
use crate::input::{Line, id_hash, read_line};

/// How every manifest line begins (the first field, as it is written): what a kill leaves of
/// a line it cut is recognised by it.
const LINE_START: &[u8] = b"{\"device_id\":\"";

/// The longest manifest line read back (an id, a serial, fingerprints and three paths).
const MAX_LINE: usize = 64 * 1024;

/// One line of the manifest.
#[derive(Debug, Serialize)]
pub(crate) struct ManifestLine<'a> {
    pub(crate) device_id: &'a str,
    pub(crate) serial: &'a str,
    pub(crate) sha1: String,
    pub(crate) sha256: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) not_after: time::OffsetDateTime,
    pub(crate) cert: String,
    pub(crate) key: String,
    pub(crate) full_chain: String,
}

/// What a line must have to be a manifest line.
#[derive(Deserialize)]
struct Recorded<'a> {
    #[serde(borrow)]
    device_id: Cow<'a, str>,
    #[serde(borrow, rename = "serial")]
    _serial: Cow<'a, str>,
}

/// How the end of a manifest is repaired.
enum Repair {
    /// A kill cut the last line: it goes (its device is not done; the re-run finishes it).
    Cut(u64),
    /// The last line is whole but has no newline: one is added.
    Newline,
}

/// The devices `path` records as done (hashes of their ids; none when it does not exist).
///
/// Every complete line must be a manifest line (a JSON object with `device_id` and `serial`),
/// and a last line without a newline must be one or the start of one (a write cut by a kill);
/// otherwise the file is not a manifest, and it is refused before anything is changed. Only
/// then is a cut last line removed.
pub(crate) fn read_done(path: &Path) -> Result<HashSet<u64>, Error> {
    let mut done = HashSet::new();
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
        Err(e) => return Err(Error::manifest(FileOp::Read, path, e)),
    };
    let not_a_manifest = |line: usize| Error::NotAManifest {
        path: path.to_owned(),
        line,
    };
    let mut input = std::io::BufReader::with_capacity(1 << 16, file);
    let mut buf = Vec::new();
    let mut line_no = 0;
    let mut offset = 0u64;
    let mut repair = None;
    loop {
        let read = read_line(&mut input, &mut buf, MAX_LINE)
            .map_err(|e| Error::manifest(FileOp::Read, path, e))?;
        if read == Line::End {
            break;
        }
        line_no += 1;
        if read == Line::TooLong {
            return Err(not_a_manifest(line_no));
        }
        match serde_json::from_slice::<Recorded<'_>>(&buf) {
            Ok(r) => {
                done.insert(id_hash(&r.device_id));
                if read == Line::Unterminated {
                    repair = Some(Repair::Newline);
                }
            }
            Err(_) if read == Line::Unterminated && is_cut_line(&buf) => {
                repair = Some(Repair::Cut(offset));
            }
            Err(_) => return Err(not_a_manifest(line_no)),
        }
        offset += buf.len() as u64 + 1;
    }
    if let Some(repair) = repair {
        let mut f =
            files::open_append(path, None).map_err(|e| Error::manifest(FileOp::Repair, path, e))?;
        match repair {
            Repair::Cut(len) => f.set_len(len),
            Repair::Newline => f.write_all(b"\n"),
        }
        .map_err(|e| Error::manifest(FileOp::Repair, path, e))?;
    }
    Ok(done)
}

/// True for what a kill leaves of a manifest line it cut.
fn is_cut_line(bytes: &[u8]) -> bool {
    bytes.starts_with(LINE_START) || LINE_START.starts_with(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str) -> String {
        let mut l = serde_json::to_string(&ManifestLine {
            device_id: id,
            serial: "0A",
            sha1: "AB".into(),
            sha256: "CD",
            not_after: time::OffsetDateTime::UNIX_EPOCH,
            cert: "c".into(),
            key: "k".into(),
            full_chain: "f".into(),
        })
        .unwrap();
        l.push('\n');
        l
    }

    fn read(content: &[u8]) -> (Result<HashSet<u64>, Error>, Vec<u8>) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.jsonl");
        fs::write(&p, content).unwrap();
        let r = read_done(&p);
        (r, fs::read(&p).unwrap())
    }

    #[test]
    fn a_manifest_gives_its_devices_and_loses_only_a_cut_last_line() {
        let whole = format!("{}{}", line("a"), line("b"));
        let (done, after) = read(whole.as_bytes());
        assert_eq!(done.unwrap(), HashSet::from([id_hash("a"), id_hash("b")]));
        assert_eq!(after, whole.as_bytes());
        for cut in [
            1,
            5,
            LINE_START.len(),
            LINE_START.len() + 3,
            line("c").len() - 2,
        ] {
            let torn = format!("{whole}{}", &line("c")[..cut]);
            let (done, after) = read(torn.as_bytes());
            assert_eq!(done.unwrap().len(), 2, "cut at {cut}");
            assert_eq!(after, whole.as_bytes(), "cut at {cut}");
        }
        // Whole but for its newline: kept, and the newline added.
        let (done, after) = read(whole.trim_end().as_bytes());
        assert_eq!(done.unwrap().len(), 2);
        assert_eq!(after, whole.as_bytes());
    }

    #[test]
    fn anything_else_is_refused_untouched() {
        for other in [
            &b"notes\nlast line"[..],
            b"plain",
            b"{\"device_id\":\"a\"}\n",
            b"{\"device_id\":\"a\",\"serial\":\"01\"}\n\n",
            b"{\"device_id\":\"a\",\"serial\":\"01\"}\nx",
            b"\xff\xfe\n",
        ] {
            let (r, after) = read(other);
            let err = r.unwrap_err().to_string();
            assert!(err.contains("not a manifest of pki"), "{err}");
            assert_eq!(after, other);
        }
        let long = format!("{{\"device_id\":\"{}\"}}\n", "x".repeat(MAX_LINE));
        let (r, _) = read(long.as_bytes());
        assert!(r.is_err());
    }
}
