//! The batch input, streamed: one device id a line, or CSV with a header naming `device_id` and
//! optional `sans` and `days` columns. Every line is validated, duplicates are caught, and a
//! bad line (too long, not UTF-8, not a device) is reported with its number instead of stopping
//! the lot. Lines are read with a bound: no line costs more than [`MAX_LINE`] bytes of memory.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::io::BufRead;

use crate::events::{Reason, Rejected};

/// The longest input line read: longer ones are rejected (and skipped, never held in memory).
pub const MAX_LINE: usize = 64 * 1024;

/// Characters of a device id (or any other value from the input) shown in a report.
const SHOWN_CHARS: usize = 64;

/// One device to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number in the input.
    pub line: usize,
    /// The device id (a valid one: checked by the reader).
    pub device_id: String,
    /// Extra SANs (DNS names or IPs), from a `sans` column (separated by `;` or spaces).
    pub sans: Vec<String>,
    /// Validity in days, from a `days` column.
    pub days: Option<u32>,
}

/// A value from the input as a report shows it: its first 64 characters, then `…` when there
/// is more.
pub(crate) fn shown(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(SHOWN_CHARS) {
        None => std::borrow::Cow::Borrowed(s),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}…", &s[..end])),
    }
}

/// How [`read_line`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    /// Nothing more to read.
    End,
    /// A line ended by a newline (not in the buffer).
    Complete,
    /// The last line, with no newline after it (a kill can cut a file's last line).
    Unterminated,
    /// A line longer than the bound: the buffer holds its first bytes, the rest was skipped up
    /// to and including its newline.
    TooLong,
}

/// Reads one line into `buf` (cleared first, newline left out), holding at most `max` bytes of
/// it: the rest of a longer line is read and dropped.
pub(crate) fn read_line(
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    let mut read_any = false;
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (read_any, too_long) {
                (false, _) => Line::End,
                (true, true) => Line::TooLong,
                (true, false) => Line::Unterminated,
            });
        }
        read_any = true;
        let (take, newline) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (i, true),
            None => (available.len(), false),
        };
        if !too_long {
            if buf.len() + take > max {
                let room = max - buf.len();
                buf.extend_from_slice(&available[..room]);
                too_long = true;
            } else {
                buf.extend_from_slice(&available[..take]);
            }
        }
        input.consume(take + usize::from(newline));
        if newline {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
    }
}

/// What one input line yields.
#[derive(Debug)]
pub enum Item {
    /// A device to issue.
    Device(Entry),
    /// A line that cannot be issued, with its number and why.
    Rejected(Rejected),
}

/// Column positions of a CSV input.
#[derive(Debug, Clone)]
struct Columns {
    device_id: usize,
    sans: Option<usize>,
    days: Option<usize>,
}

/// A stable 64-bit hash of a device id, for the sets that must not grow with the ids' length.
pub(crate) fn id_hash(id: &str) -> u64 {
    // Fixed keys: the same id hashes the same in every run (the sets are rebuilt from files).
    let mut h =
        std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
            .build_hasher();
    h.write(id.as_bytes());
    h.finish()
}

/// Streams [`Item`]s from the input: one device id a line, or CSV with a `device_id` header;
/// every line validated, duplicates caught, lines bounded to [`MAX_LINE`] bytes.
pub struct Reader<R> {
    input: R,
    line_no: usize,
    columns: Option<Columns>,
    started: bool,
    seen: HashSet<u64>,
    buf: Vec<u8>,
    /// Unknown CSV columns, reported once.
    pub(crate) ignored_columns: Vec<String>,
}

impl<R: BufRead> Reader<R> {
    /// A reader of `input`.
    pub fn new(input: R) -> Self {
        Reader {
            input,
            line_no: 0,
            columns: None,
            started: false,
            seen: HashSet::new(),
            buf: Vec::new(),
            ignored_columns: Vec::new(),
        }
    }

    /// The next item, `None` at the end of the input.
    pub fn next_item(&mut self) -> std::io::Result<Option<Item>> {
        loop {
            let read = read_line(&mut self.input, &mut self.buf, MAX_LINE)?;
            if read == Line::End {
                return Ok(None);
            }
            self.line_no += 1;
            let line_no = self.line_no;
            if read == Line::TooLong {
                self.started = true;
                let start =
                    String::from_utf8_lossy(&self.buf[..self.buf.len().min(4 * SHOWN_CHARS)]);
                return Ok(Some(reject(
                    line_no,
                    &start,
                    Reason::TooLong { max: MAX_LINE },
                )));
            }
            let line = match std::str::from_utf8(&self.buf) {
                Ok(l) => l.trim_end_matches('\r'),
                Err(e) => {
                    self.started = true;
                    let lossy = String::from_utf8_lossy(&self.buf);
                    let at = e.valid_up_to() + 1;
                    return Ok(Some(reject(
                        line_no,
                        lossy.trim_end_matches('\r'),
                        Reason::NotUtf8 { at },
                    )));
                }
            };
            // A blank line (an editor's last line, a gap between groups) is no device: skipped,
            // and still counted, so the lines after it keep their numbers.
            if line.trim().is_empty() {
                continue;
            }
            if !self.started {
                self.started = true;
                let fields = split_csv(line);
                if let Some(device_id) = fields.iter().position(|f| f.trim() == "device_id") {
                    let pos = |name: &str| fields.iter().position(|f| f.trim() == name);
                    self.ignored_columns = fields
                        .iter()
                        .map(|f| f.trim().to_owned())
                        .filter(|f| !matches!(f.as_str(), "device_id" | "sans" | "san" | "days"))
                        .collect();
                    self.columns = Some(Columns {
                        device_id,
                        sans: pos("sans").or_else(|| pos("san")),
                        days: pos("days"),
                    });
                    continue;
                }
            }
            let (id, sans, days) = match &self.columns {
                None => (line.trim().to_owned(), Vec::new(), None),
                Some(cols) => {
                    let fields = split_csv(line);
                    let get = |i: Option<usize>| {
                        i.and_then(|i| fields.get(i)).map(|s| s.trim().to_owned())
                    };
                    let id = get(Some(cols.device_id)).unwrap_or_default();
                    let sans = get(cols.sans)
                        .map(|s| {
                            s.split([';', ' '])
                                .filter(|x| !x.is_empty())
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    let days = match get(cols.days).filter(|d| !d.is_empty()) {
                        None => None,
                        Some(d) => match d.parse::<u32>() {
                            Ok(n) if n > 0 => Some(n),
                            _ => {
                                return Ok(Some(reject(
                                    line_no,
                                    &id,
                                    Reason::BadDays(shown(&d).into_owned()),
                                )));
                            }
                        },
                    };
                    (id, sans, days)
                }
            };
            if id.is_empty() {
                return Ok(Some(reject(line_no, "", Reason::EmptyId)));
            }
            if let Some(fault) = pki_core::device_id_fault(&id) {
                return Ok(Some(reject(line_no, &id, Reason::BadDeviceId(fault))));
            }
            for san in &sans {
                if san.parse::<pki_core::SanEntry>().is_err() {
                    return Ok(Some(reject(
                        line_no,
                        &id,
                        Reason::BadSan(shown(san).into_owned()),
                    )));
                }
            }
            if !self.seen.insert(id_hash(&id)) {
                return Ok(Some(reject(line_no, &id, Reason::Duplicate)));
            }
            return Ok(Some(Item::Device(Entry {
                line: line_no,
                device_id: id,
                sans,
                days,
            })));
        }
    }
}

fn reject(line: usize, id: &str, reason: Reason) -> Item {
    Item::Rejected(Rejected::new(line, id, reason))
}

/// Splits one CSV line: fields separated by commas, `"quoted, fields"` with `""` for a quote.
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reader's items with each reason as the user reads it: the assertions compare text.
    #[derive(Debug)]
    enum Item {
        Device(Entry),
        Rejected(Rejected),
    }

    #[derive(Debug)]
    struct Rejected {
        line: usize,
        device_id: String,
        reason: String,
    }

    impl From<super::Item> for Item {
        fn from(item: super::Item) -> Item {
            match item {
                super::Item::Device(e) => Item::Device(e),
                super::Item::Rejected(r) => Item::Rejected(Rejected {
                    line: r.line,
                    device_id: r.device_id,
                    reason: r.reason.to_string(),
                }),
            }
        }
    }

    fn items(text: &str) -> Vec<Item> {
        let mut r = Reader::new(text.as_bytes());
        let mut v = Vec::new();
        while let Some(i) = r.next_item().unwrap() {
            v.push(Item::from(i));
        }
        v
    }

    #[test]
    fn plain_lines_are_device_ids() {
        let v = items("dev-1\ndev-2\r\nbad/id\ndev-1\n");
        assert!(matches!(&v[0], Item::Device(e) if e.device_id == "dev-1" && e.line == 1));
        assert!(matches!(&v[1], Item::Device(e) if e.device_id == "dev-2"));
        assert!(
            matches!(&v[2], Item::Rejected(r) if r.line == 3 && r.reason.contains("not a valid device id"))
        );
        assert!(
            matches!(&v[3], Item::Rejected(r) if r.line == 4 && r.reason.contains("duplicate"))
        );
    }

    #[test]
    fn blank_lines_are_skipped_and_still_counted() {
        // Blank and white-space lines anywhere (before a CSV header too) are no devices and no
        // rejections; the lines after them keep their numbers.
        let v = items("\ndev-1\n\n   \r\n\t\ndev-2\n\n");
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(matches!(&v[0], Item::Device(e) if e.device_id == "dev-1" && e.line == 2));
        assert!(matches!(&v[1], Item::Device(e) if e.device_id == "dev-2" && e.line == 6));
        let v = items("\n  \ndevice_id,days\n\ndev-3,30\n , \n");
        assert!(matches!(&v[0], Item::Device(e) if e.device_id == "dev-3" && e.line == 5));
        // A CSV line with fields but no device id is still refused.
        assert!(matches!(&v[1], Item::Rejected(r) if r.line == 6 && r.reason.contains("empty")));
        assert_eq!(v.len(), 2, "{v:?}");
    }

    #[test]
    fn csv_with_a_device_id_header_has_columns() {
        let v = items(
            "model,device_id,sans,days\nx,dev-1,dev-1.local;10.0.0.9,30\ny,\"dev,2\",,\nz,dev-3,,zero\n",
        );
        assert!(
            matches!(&v[0], Item::Device(e) if e.device_id == "dev-1" && e.sans == ["dev-1.local", "10.0.0.9"] && e.days == Some(30) && e.line == 2)
        );
        assert!(
            matches!(&v[1], Item::Device(e) if e.device_id == "dev,2" && e.sans.is_empty() && e.days.is_none())
        );
        assert!(matches!(&v[2], Item::Rejected(r) if r.line == 4 && r.reason.contains("days")));
    }

    #[test]
    fn lines_are_read_with_a_bound() {
        // A small buffer in front, so that lines cross refills.
        let text = b"ab\ncdefgh\nij\nklm";
        let mut input = std::io::BufReader::with_capacity(3, &text[..]);
        let mut buf = Vec::new();
        let mut next = || {
            let r = read_line(&mut input, &mut buf, 4).unwrap();
            (r, String::from_utf8(buf.clone()).unwrap())
        };
        assert_eq!(next(), (Line::Complete, "ab".into()));
        assert_eq!(next(), (Line::TooLong, "cdef".into()));
        assert_eq!(next(), (Line::Complete, "ij".into()));
        assert_eq!(next(), (Line::Unterminated, "klm".into()));
        assert_eq!(next(), (Line::End, "".into()));
    }

    #[test]
    fn long_lines_and_bad_utf8_are_rejected_by_number_and_the_rest_goes_on() {
        let long = "x".repeat(MAX_LINE + 1);
        let text = [
            b"dev-1\n".as_slice(),
            long.as_bytes(),
            b"\n\xffdev\r\ndev-4",
        ]
        .concat();
        let mut r = Reader::new(&text[..]);
        let mut v = Vec::new();
        while let Some(i) = r.next_item().unwrap() {
            v.push(Item::from(i));
        }
        assert!(matches!(&v[0], Item::Device(e) if e.device_id == "dev-1"));
        assert!(matches!(&v[1], Item::Rejected(r)
            if r.line == 2 && r.device_id == format!("{}…", "x".repeat(64))
                && r.reason == format!("line longer than {MAX_LINE} bytes")));
        assert!(matches!(&v[2], Item::Rejected(r)
            if r.line == 3 && r.device_id == "\u{fffd}dev" && r.reason.contains("not valid UTF-8")));
        assert!(matches!(&v[3], Item::Device(e) if e.device_id == "dev-4" && e.line == 4));
        assert_eq!(v.len(), 4);
    }

    #[test]
    fn reports_show_at_most_64_characters() {
        assert_eq!(shown("short"), "short");
        let s = "é".repeat(64);
        assert_eq!(shown(&s), s);
        assert_eq!(shown(&format!("{s}z")), format!("{s}…"));
    }

    #[test]
    fn csv_fields_split_with_quotes() {
        assert_eq!(split_csv("a,\"b,c\",\"d\"\"e\""), vec!["a", "b,c", "d\"e"]);
        assert_eq!(split_csv(""), vec![""]);
    }
}
