//! Revoking: what the user names (a certificate file, a serial, a device id; one or a batch file
//! of them) resolved to rows of the register and marked revoked in one transaction, and, for a
//! CA, every certificate that hangs below it.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};

use pki_register::{Query, Reason, Record, Revocation, Transaction};
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::{Error, Result, Unrecorded};
use crate::store::{CaDir, read_certs};

/// What the user named to revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A certificate file (the first certificate of it).
    File(PathBuf),
    /// A serial (hex, with or without colons) or, when no certificate has it as its serial, a
    /// device id (a CN).
    Name(String),
}

impl Target {
    /// A file when a file of that name exists, otherwise a serial or device id.
    pub fn parse(given: &str) -> Target {
        if Path::new(given).is_file() {
            Target::File(PathBuf::from(given))
        } else {
            Target::Name(given.to_owned())
        }
    }

    fn text(&self) -> String {
        match self {
            Target::File(p) => p.display().to_string(),
            Target::Name(n) => n.clone(),
        }
    }
}

/// One thing to revoke, and where it was given (a line of a batch file, or the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    /// What was named.
    pub target: Target,
    /// The batch file it is a line of.
    pub file: Option<PathBuf>,
    /// Its 1-based line number there.
    pub line: Option<usize>,
}

/// One certificate of a revocation.
#[derive(Debug, Clone, Serialize)]
pub struct RevokedCertificate {
    /// What named it.
    pub given: String,
    /// The batch file's line that named it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// True when it had been revoked before (nothing changed).
    pub already_revoked: bool,
    /// Its row, as it now stands.
    pub record: Record,
}

/// What [`revoke`] did.
#[derive(Debug, Clone, Serialize)]
pub struct RevokeReport {
    /// The certificates named, each once, in the order given.
    pub certificates: Vec<RevokedCertificate>,
    /// For a revoked CA: every certificate issued below it (recursively), whatever its state.
    pub below: Vec<Record>,
}

/// The CA profiles: a certificate of one of these has others below it.
const CA_PROFILES: [&str; 3] = ["root-ca", "intermediate-ca", "edge-ca"];

/// Marks every certificate `given` names revoked at `at` for `reason`, in one transaction of
/// the directory's register: an unknown name fails the whole revocation and changes nothing. A
/// certificate revoked before stays as it was and says so. A device id names every certificate
/// with that CN (a renewed device has several). A revocation is a fact of the past or the
/// present: `at` after `now` is refused (a CRL would list the certificate as revoked today
/// while the register says it is not yet), and so is `at` before 1950 (where a CRL's UTCTime
/// begins) or before a certificate it names was issued (its notBefore): a date that cannot be
/// true is never recorded, since a recorded revocation is not changed.
pub fn revoke(
    ca: &CaDir,
    given: &[Given],
    at: OffsetDateTime,
    now: OffsetDateTime,
    reason: Reason,
) -> Result<RevokeReport> {
    let at = at.replace_nanosecond(0).unwrap_or(at);
    if at > now {
        return Err(crate::Error::Refused(crate::Refusal::FutureRevocation {
            at,
            now,
        }));
    }
    if at.year() < 1950 {
        return Err(crate::Error::Refused(crate::Refusal::RevocationTooEarly {
            at,
        }));
    }
    let mut register = ca.register()?;
    let mut tx = register.transaction()?;
    let ours = if ca.is_shared_register() {
        Some(our_cas(ca, &mut tx)?)
    } else {
        None
    };
    let mut certificates = Vec::new();
    let mut seen = HashSet::new();
    for g in given {
        for mut record in resolve(&mut tx, g, ours.as_ref())? {
            if !seen.insert(record.sha256.clone()) {
                continue;
            }
            if record.status != pki_register::Status::Revoked && at < record.not_before {
                return Err(crate::Error::Refused(
                    crate::Refusal::RevocationBeforeIssue {
                        at,
                        subject: record.subject.clone(),
                        serial: record.serial.clone(),
                        not_before: record.not_before,
                    },
                ));
            }
            let already_revoked = match tx.revoke(&record.sha256, at, reason)? {
                Revocation::Revoked => {
                    record.status = pki_register::Status::Revoked;
                    record.revoked_at = Some(at);
                    record.revocation_reason = Some(reason.as_str().to_owned());
                    false
                }
                Revocation::AlreadyRevoked { at, reason } => {
                    record.revoked_at = at;
                    record.revocation_reason = reason;
                    true
                }
                Revocation::NotFound => {
                    return Err(not_recorded(g, Unrecorded::NoLongerInRegister));
                }
            };
            certificates.push(RevokedCertificate {
                given: g.target.text(),
                line: g.line,
                already_revoked,
                record,
            });
        }
    }
    let below = below(&mut tx, &certificates)?;
    tx.commit()?;
    Ok(RevokeReport {
        certificates,
        below,
    })
}

/// The longest line of a batch file read (as the issue batch's): a longer line is refused
/// without being held in memory.
pub const MAX_BATCH_LINE: usize = 64 * 1024;

/// Reads a batch file, streamed from `input`: one certificate file, serial or device id a
/// line; blank lines and lines starting with `#` are skipped. A line that is not text (a cut or
/// binary file) or longer than [`MAX_BATCH_LINE`] is refused, naming its number; no line
/// costs more than that bound in memory, and an error shows only the line's start.
pub fn read_batch(path: &Path, mut input: impl std::io::BufRead) -> Result<Vec<Given>> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        line += 1;
        let Some(too_long) =
            read_line(&mut input, &mut buf, MAX_BATCH_LINE).map_err(|e| Error::io(path, e))?
        else {
            break;
        };
        let raw = &buf[..];
        let refuse = |given: String, reason| Error::NotRecorded {
            given,
            file: Some(path.to_owned()),
            line: Some(line),
            reason,
        };
        if too_long {
            return Err(refuse(
                String::from_utf8_lossy(raw).into_owned(),
                Unrecorded::LineTooLong {
                    max: MAX_BATCH_LINE,
                },
            ));
        }
        let text = std::str::from_utf8(raw).map_err(|_| {
            refuse(
                String::from_utf8_lossy(raw).into_owned(),
                Unrecorded::NotUtf8,
            )
        })?;
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if text.chars().any(char::is_control) {
            return Err(refuse(text.to_owned(), Unrecorded::ControlCharacter));
        }
        out.push(Given {
            target: Target::parse(text),
            file: Some(path.to_owned()),
            line: Some(line),
        });
    }
    Ok(out)
}

/// Reads one line into `buf` (cleared first, its newline left out), holding at most `max`
/// bytes of it: the rest of a longer line is read and dropped. `None` at the end of the input;
/// otherwise whether the line was longer than `max`.
fn read_line(
    input: &mut impl std::io::BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    buf.clear();
    let (mut read_any, mut too_long) = (false, false);
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(read_any.then_some(too_long));
        }
        read_any = true;
        let (take, newline) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (i, true),
            None => (available.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        if take > room {
            too_long = true;
        }
        buf.extend_from_slice(&available[..take.min(room)]);
        input.consume(take + usize::from(newline));
        if newline {
            return Ok(Some(too_long));
        }
    }
}

/// A serial as the register holds it (upper-case hex without leading zero bytes), when `s` is
/// hex, with or without colons.
fn serial_of(s: &str) -> Option<String> {
    let hex: String = s.chars().filter(|c| *c != ':').collect();
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let digits = hex.trim_start_matches('0').to_ascii_uppercase();
    Some(if digits.is_empty() {
        "00".to_owned()
    } else if digits.len() % 2 == 1 {
        format!("0{digits}")
    } else {
        digits
    })
}

fn rows(tx: &mut Transaction<'_>, query: &Query) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    tx.for_each(query, &mut |r| {
        out.push(r);
        true
    })?;
    Ok(out)
}

fn not_recorded(g: &Given, reason: Unrecorded) -> Error {
    Error::NotRecorded {
        given: g.target.text(),
        file: g.file.clone(),
        line: g.line,
        reason,
    }
}

/// The rows `g` names.
/// The SHA-256 of every CA certificate of `ca` the register holds whose file is in the
/// directory (the CAs in service and those a renewal kept): in a register several directories
/// share, a serial or a device id names only the certificates these CAs issued.
fn our_cas(ca: &CaDir, tx: &mut Transaction<'_>) -> Result<HashSet<String>> {
    let mut ours = HashSet::new();
    for profile in CA_PROFILES {
        let query = Query {
            profile: Some(profile.to_owned()),
            ..Query::default()
        };
        for r in rows(tx, &query)? {
            let file = ca.file_of(&r.path);
            let here = read_certs(&file)
                .ok()
                .and_then(|c| c.into_iter().next())
                .is_some_and(|c| c.sha256_hex() == r.sha256);
            if here {
                ours.insert(r.sha256);
            }
        }
    }
    Ok(ours)
}

/// Whether a CA of `ours` issued `r` (always, when the register is the directory's own).
fn issued_by(ours: Option<&HashSet<String>>, r: &Record) -> bool {
    ours.is_none_or(|ours| r.issuer_sha256.as_ref().is_some_and(|s| ours.contains(s)))
}

fn resolve(
    tx: &mut Transaction<'_>,
    g: &Given,
    ours: Option<&HashSet<String>>,
) -> Result<Vec<Record>> {
    match &g.target {
        Target::File(path) => {
            let certs = read_certs(path).map_err(|e| {
                not_recorded(
                    g,
                    Unrecorded::Unreadable {
                        reason: e.to_string(),
                    },
                )
            })?;
            let Some(cert) = certs.first() else {
                return Err(not_recorded(g, Unrecorded::NoCertificate));
            };
            let found = rows(
                tx,
                &Query {
                    sha256: Some(cert.sha256_hex()),
                    ..Query::default()
                },
            )?;
            if found.is_empty() {
                return Err(not_recorded(g, Unrecorded::NotInRegister));
            }
            Ok(found)
        }
        Target::Name(name) => {
            if let Some(serial) = serial_of(name) {
                let found = rows(
                    tx,
                    &Query {
                        serial: Some(serial.clone()),
                        ..Query::default()
                    },
                )?
                .into_iter()
                .filter(|r| issued_by(ours, r))
                .collect::<Vec<_>>();
                if found.len() > 1 {
                    return Err(not_recorded(
                        g,
                        Unrecorded::SeveralIssuers {
                            serial: serial.to_string(),
                            issuers: found.iter().map(|r| r.issuer.clone()).collect(),
                        },
                    ));
                }
                if !found.is_empty() {
                    return Ok(found);
                }
            }
            // A device id may hold the pattern characters `*` and `?`: the pattern matches
            // itself among others, and only the exact CN is kept.
            let found: Vec<Record> = rows(
                tx,
                &Query {
                    common_name: Some(name.clone()),
                    ..Query::default()
                },
            )?
            .into_iter()
            .filter(|r| r.common_name == *name && issued_by(ours, r))
            .collect();
            if found.is_empty() {
                return Err(not_recorded(g, Unrecorded::NoMatch));
            }
            Ok(found)
        }
    }
}

/// Every certificate issued below the CAs among `revoked`, recursively, each once.
fn below(tx: &mut Transaction<'_>, revoked: &[RevokedCertificate]) -> Result<Vec<Record>> {
    let mut queue: VecDeque<String> = revoked
        .iter()
        .filter(|c| CA_PROFILES.contains(&c.record.profile.as_str()))
        .map(|c| c.record.sha256.clone())
        .collect();
    let mut seen: HashSet<String> = queue.iter().cloned().collect();
    let mut out = Vec::new();
    while let Some(ca) = queue.pop_front() {
        let query = Query {
            issuer_sha256: Some(ca),
            ..Query::default()
        };
        for r in rows(tx, &query)? {
            if !seen.insert(r.sha256.clone()) {
                continue;
            }
            if CA_PROFILES.contains(&r.profile.as_str()) {
                queue.push_back(r.sha256.clone());
            }
            out.push(r);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_read_with_or_without_colons_and_zeros() {
        assert_eq!(serial_of("4a:3f:01").as_deref(), Some("4A3F01"));
        assert_eq!(serial_of("004A3F01").as_deref(), Some("4A3F01"));
        assert_eq!(serial_of("A3F01").as_deref(), Some("0A3F01"));
        assert_eq!(serial_of("sensor-1"), None);
        assert_eq!(serial_of(":"), None);
    }

    #[test]
    fn batch_lines_are_named_by_number() {
        let p = Path::new("lot.txt");
        let got = read_batch(p, &b"# recalled\n\nsensor-1\n  4A:3F \n"[..]).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].target, Target::Name("4A:3F".into()));
        assert_eq!(got[1].line, Some(4));
        let err = read_batch(p, &b"sensor-1\nsen\xffsor\n"[..]).unwrap_err();
        assert!(err.to_string().starts_with("lot.txt:2: "), "{err}");
        let err = read_batch(p, &b"a\nb\x01c\n"[..]).unwrap_err();
        assert!(
            err.to_string().starts_with("lot.txt:2: \"b\\u{1}c\""),
            "{err}"
        );
    }
}
