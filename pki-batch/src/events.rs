//! What the engine tells its caller while a lot runs: each rejected line as it comes (with a
//! typed [`Reason`]), progress, and warnings. The engine never prints: the caller implements
//! [`Events`] and decides what the user sees (a progress bar, text lines, JSON lines).

use std::fmt;
use std::path::PathBuf;

/// Receives what happens during a run, on the thread that called [`crate::run`], in order.
pub trait Events {
    /// A line of the input that is not issued (bad input, or a file in the way); the lot goes
    /// on unless [`crate::OnReject::Stop`].
    fn rejected(&mut self, rejected: &Rejected);
    /// `done` devices of the input have been dealt with so far (issued, skipped, completed or
    /// rejected once their paths were looked at). Called once per chunk of a few thousand.
    fn progress(&mut self, done: u64);
    /// Something the user should know that does not change the outcome.
    fn warning(&mut self, warning: &Warning);
}

/// Ignores everything (for a caller that only wants the [`crate::Summary`]).
impl Events for () {
    fn rejected(&mut self, _: &Rejected) {}
    fn progress(&mut self, _: u64) {}
    fn warning(&mut self, _: &Warning) {}
}

/// Something the user should know that does not change the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// The CSV header names columns the batch does not use (they are ignored), in their order.
    UnusedColumns(Vec<String>),
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnusedColumns(columns) => {
                write!(f, "CSV columns not used: {}", columns.join(", "))
            }
        }
    }
}

/// A line of the input that is not issued.
#[derive(Debug)]
#[non_exhaustive]
pub struct Rejected {
    /// The line's number in the input (1-based).
    pub line: usize,
    /// As much of the device id as a report shows: its first 64 characters, then `…` when
    /// there is more (the id comes from the input, and may be anything).
    pub device_id: String,
    /// Why.
    pub reason: Reason,
}

impl Rejected {
    /// A rejected line; the id is shortened for the report.
    pub(crate) fn new(line: usize, device_id: &str, reason: Reason) -> Self {
        Rejected {
            line,
            device_id: crate::input::shown(device_id).into_owned(),
            reason,
        }
    }
}

/// Why a line is not issued. Values from the input are shortened as
/// [`Rejected::device_id`] is.
#[derive(Debug)]
#[non_exhaustive]
pub enum Reason {
    /// The line is longer than `max` bytes: it was skipped, never held in memory.
    TooLong {
        /// The longest line read, [`crate::MAX_LINE`].
        max: usize,
    },
    /// The line is not UTF-8.
    NotUtf8 {
        /// The first byte (1-based) that is not.
        at: usize,
    },
    /// The CSV `days` column holds this, which is not a positive whole number.
    BadDays(String),
    /// The device id is empty.
    EmptyId,
    /// The device id breaks pki-core's rule for device ids, this one.
    BadDeviceId(pki_core::DeviceIdFault),
    /// This value of the CSV `sans` column is neither a DNS name nor an IP address.
    BadSan(String),
    /// The device id is on an earlier line of the input too.
    Duplicate,
    /// The device id is the CN of an IoT Edge device CA of the CA directory, which IoT Edge
    /// requires to differ from every device id.
    EdgeCaName {
        /// The CN (`<name>.ca`).
        cn: String,
        /// The IoT Edge device CA's name.
        edge_ca: String,
    },
    /// The device id is the name of one of the batch's own files (manifest, lock, journal) in
    /// the output folder, where a device folder cannot take it ([`crate::Layout::Folders`]).
    OwnFile(String),
    /// Something that is not a folder is where the device's folder goes (a link is not
    /// followed).
    NotAFolder(PathBuf),
    /// A key or certificate the batch did not create is at one of the device's paths: it is
    /// left as it is ([`crate::Existing::Keep`]).
    Exists(PathBuf),
    /// The device's validity (its CSV `days`) would end after the year 9999.
    Validity(pki_core::Error),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::TooLong { max } => write!(f, "line longer than {max} bytes"),
            Reason::NotUtf8 { at } => write!(f, "not valid UTF-8 (at byte {at} of the line)"),
            Reason::BadDays(days) => write!(f, "days {days:?} is not a positive whole number"),
            Reason::EmptyId => f.write_str("empty device id"),
            Reason::BadDeviceId(why) => write!(f, "not a valid device id: {why}"),
            Reason::BadSan(san) => {
                write!(f, "SAN {san:?} is not a valid DNS name or IP address")
            }
            Reason::Duplicate => f.write_str("duplicate device id (already earlier in the input)"),
            Reason::EdgeCaName { cn, edge_ca } => write!(
                f,
                "{cn} is the CN of the IoT Edge device CA {edge_ca:?}; a device id must differ from it"
            ),
            Reason::OwnFile(name) => write!(
                f,
                "reserved: {name} is the name of one of the batch's own files (manifest, lock, journal)"
            ),
            Reason::NotAFolder(path) => write!(
                f,
                "{} exists and is not a folder (links are not followed)",
                path.display()
            ),
            Reason::Exists(path) => write!(f, "{} exists", path.display()),
            Reason::Validity(e) => e.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_sentences_without_flags() {
        let exists = Reason::Exists(PathBuf::from("pki/private/k.pem"));
        assert_eq!(exists.to_string(), "pki/private/k.pem exists");
        let edge = Reason::EdgeCaName {
            cn: "gw.ca".into(),
            edge_ca: "gw".into(),
        };
        assert_eq!(
            edge.to_string(),
            "gw.ca is the CN of the IoT Edge device CA \"gw\"; a device id must differ from it"
        );
        let w = Warning::UnusedColumns(vec!["model".into(), "site".into()]);
        assert_eq!(w.to_string(), "CSV columns not used: model, site");
    }
}
