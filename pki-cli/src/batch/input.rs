//! The batch input, streamed: one device id a line, or CSV with a header naming `device_id` and
//! optional `sans` and `days` columns. Every line is validated, duplicates are caught, and a
//! bad line is reported with its number instead of stopping the lot.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::io::BufRead;

/// One device to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// 1-based line number in the input.
    pub(crate) line: usize,
    pub(crate) device_id: String,
    /// Extra SANs (DNS names or IPs), from a `sans` column (separated by `;` or spaces).
    pub(crate) sans: Vec<String>,
    /// Validity in days, from a `days` column.
    pub(crate) days: Option<u32>,
}

/// A line that cannot be issued.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Rejected {
    pub(crate) line: usize,
    pub(crate) device_id: String,
    pub(crate) reason: String,
}

/// What one input line yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    Device(Entry),
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

/// Streams [`Item`]s from the input.
pub(crate) struct Reader<R> {
    input: R,
    line_no: usize,
    columns: Option<Columns>,
    started: bool,
    seen: HashSet<u64>,
    buf: String,
    /// Unknown CSV columns, reported once.
    pub(crate) ignored_columns: Vec<String>,
}

impl<R: BufRead> Reader<R> {
    pub(crate) fn new(input: R) -> Self {
        Reader {
            input,
            line_no: 0,
            columns: None,
            started: false,
            seen: HashSet::new(),
            buf: String::new(),
            ignored_columns: Vec::new(),
        }
    }

    /// The next item, `None` at the end of the input.
    pub(crate) fn next_item(&mut self) -> std::io::Result<Option<Item>> {
        loop {
            self.buf.clear();
            if self.input.read_line(&mut self.buf)? == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            let line = self.buf.trim_end_matches(['\n', '\r']);
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
            let line_no = self.line_no;
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
                                    format!("days {d:?} is not a positive whole number"),
                                )));
                            }
                        },
                    };
                    (id, sans, days)
                }
            };
            if id.is_empty() {
                return Ok(Some(reject(line_no, "", "empty device id".into())));
            }
            if let Err(e) = pki_core::validate_device_id(&id) {
                let reason = match e {
                    pki_core::Error::BadDeviceId { reason, .. } => {
                        format!("not a valid device id: {reason}")
                    }
                    other => other.to_string(),
                };
                return Ok(Some(reject(line_no, &id, reason)));
            }
            for san in &sans {
                if san.parse::<pki_core::SanEntry>().is_err() {
                    return Ok(Some(reject(
                        line_no,
                        &id,
                        format!("SAN {san:?} is not a valid DNS name or IP address"),
                    )));
                }
            }
            if !self.seen.insert(id_hash(&id)) {
                return Ok(Some(reject(
                    line_no,
                    &id,
                    "duplicate device id (already earlier in the input)".into(),
                )));
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

fn reject(line: usize, id: &str, reason: String) -> Item {
    Item::Rejected(Rejected {
        line,
        device_id: id.to_owned(),
        reason,
    })
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

    fn items(text: &str) -> Vec<Item> {
        let mut r = Reader::new(text.as_bytes());
        let mut v = Vec::new();
        while let Some(i) = r.next_item().unwrap() {
            v.push(i);
        }
        v
    }

    #[test]
    fn plain_lines_are_device_ids() {
        let v = items("dev-1\ndev-2\r\n\nbad/id\ndev-1\n");
        assert!(matches!(&v[0], Item::Device(e) if e.device_id == "dev-1" && e.line == 1));
        assert!(matches!(&v[1], Item::Device(e) if e.device_id == "dev-2"));
        assert!(matches!(&v[2], Item::Rejected(r) if r.line == 3 && r.reason.contains("empty")));
        assert!(
            matches!(&v[3], Item::Rejected(r) if r.line == 4 && r.reason.contains("not a valid device id"))
        );
        assert!(
            matches!(&v[4], Item::Rejected(r) if r.line == 5 && r.reason.contains("duplicate"))
        );
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
    fn csv_fields_split_with_quotes() {
        assert_eq!(split_csv("a,\"b,c\",\"d\"\"e\""), vec!["a", "b,c", "d\"e"]);
        assert_eq!(split_csv(""), vec![""]);
    }
}
