//! The register as the server uses it: the connections its requests ask their questions on,
//! and the recording of what they issue.
//!
//! A PostgreSQL register lends each request a connection from a bounded [`Pool`], and each
//! enrolment is its own transaction. A SQLite register has one connection, used in turn:
//! several connections of one process would wait for each other's file locks in SQLite's busy
//! handler, which sleeps milliseconds at a time. Its commits cost their fsyncs (milliseconds on
//! a disk), so the enrolments that arrive while one commits are recorded together in the next
//! transaction (group commit); each is answered only after the commit that holds its row. An
//! entry that cannot share a transaction (its secret is for another label, its certificate was
//! superseded meanwhile, a write fails) sends every entry of its group back to a transaction of
//! its own.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pki_core::register::{Location, Query, Record, Register, SecretRefusal, Status, Transaction};
use pki_core::{CaDir, Profile};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::authority::{Denied, out_of_service};
use super::pool::{Pool, REGISTER_CONNECTIONS};
use crate::route::Label;

/// What one enrolment writes, and what it needs to know to write it.
pub(super) struct Entry {
    /// The new certificate's row.
    pub(super) record: Record,
    /// The (device id, secret) consumed.
    pub(super) secret: Option<(String, Zeroizing<String>)>,
    /// The row of the certificate that re-enrols, superseded by the new one.
    pub(super) replaces: Option<Record>,
    /// The row of the client certificate (an EST identity) that asked for a new enrolment: never
    /// superseded by it, and when of the same name and profile, only what is older than it is.
    pub(super) presented: Option<Record>,
    /// Whether the CN must be free (a first enrolment: no edge CA's name for a device, and the
    /// reverse), checked in the transaction that records it.
    pub(super) check_name: bool,
    /// The new certificate's CN and profile.
    pub(super) common_name: String,
    pub(super) profile: Profile,
    /// The label enrolled under (a secret may be for one label only).
    pub(super) label: Label,
    /// When.
    pub(super) now: OffsetDateTime,
}

/// What came of an entry.
#[derive(Debug)]
pub(super) enum Written {
    /// Recorded and committed.
    Recorded,
    /// The secret was refused; nothing was written.
    Refused(SecretRefusal),
    /// Not allowed after all (the secret is for another label, the certificate that re-enrols
    /// is no longer in service): its transaction must not be committed.
    Denied(Denied),
}

/// An entry waiting for a commit, and what came of it once done.
struct Pending {
    entry: Entry,
    result: Mutex<Option<Result<Written, Denied>>>,
}

/// The register's connections.
pub(super) struct Connections {
    ca: CaDir,
    kind: Kind,
}

enum Kind {
    /// PostgreSQL: a bounded pool, a transaction per enrolment.
    Pool(Pool),
    /// SQLite: the one connection (opened when first needed, closed when its work fails) under
    /// its turn, and the entries waiting for the next group commit.
    Sqlite {
        turn: parking_lot::Mutex<Option<Register>>,
        queue: Mutex<Vec<Arc<Pending>>>,
    },
}

/// Locks `m`, whatever a thread that panicked holding it left (every value kept under these
/// locks is whole between statements).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The SQLite connection's turn, held: handed on release to the longest waiting, first come
/// first served. Taken by whoever is quickest instead, it would go to the next commit while
/// the requests that would have joined it still wait to ask their questions: on a disk, every
/// commit would be of a request or two.
struct Turn<'a>(Option<parking_lot::MutexGuard<'a, Option<Register>>>);

impl<'a> Turn<'a> {
    fn take(turn: &'a parking_lot::Mutex<Option<Register>>) -> Turn<'a> {
        Turn(Some(turn.lock()))
    }

    /// Runs `f` on the connection, opened when there is none; closed when `f` fails (it may
    /// be broken).
    fn with<T>(
        &mut self,
        ca: &CaDir,
        f: impl FnOnce(&mut Register) -> pki_core::Result<T>,
    ) -> Result<T, Denied> {
        // Invariant: the guard is Some from `take` until `drop` hands it on.
        let slot: &mut Option<Register> = self.0.as_mut().expect("held until dropped");
        let register = match slot {
            Some(r) => r,
            None => slot.insert(open(ca).map_err(internal)?),
        };
        let out = f(register);
        if out.is_err() {
            *slot = None;
        }
        out.map_err(internal)
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if let Some(held) = self.0.take() {
            parking_lot::MutexGuard::unlock_fair(held);
        }
    }
}

/// Opens a connection to the register of `ca` for a server: it asks the same few questions
/// with new values, request after request, so each statement is planned once.
fn open(ca: &CaDir) -> pki_core::Result<Register> {
    let mut r = ca.register()?;
    r.keep_plans()?;
    Ok(r)
}

impl Connections {
    /// The connections to the register of `ca`, opened when first needed.
    pub(super) fn new(ca: CaDir) -> Connections {
        let kind = match ca.register_location() {
            Location::Sqlite(_) => Kind::Sqlite {
                turn: parking_lot::Mutex::new(None),
                queue: Mutex::new(Vec::new()),
            },
            _ => Kind::Pool(Pool::new(REGISTER_CONNECTIONS)),
        };
        Connections { ca, kind }
    }

    /// Runs `f` on a connection (a SQLite register's in turn). Blocking: called on tokio's
    /// blocking threads.
    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&mut Register) -> pki_core::Result<T>,
    ) -> Result<T, Denied> {
        match &self.kind {
            Kind::Pool(pool) => pool.with(|| open(&self.ca), f).map_err(internal),
            Kind::Sqlite { turn, .. } => Turn::take(turn).with(&self.ca, f),
        }
    }

    /// Records `entry` and commits it; returns once committed (or refused). Blocking.
    pub(super) fn record(&self, entry: Entry) -> Result<Written, Denied> {
        let (turn, queue) = match &self.kind {
            Kind::Pool(_) => return self.with(|r| alone(r, &self.ca, &entry)),
            Kind::Sqlite { turn, queue } => (turn, queue),
        };
        let mine = Arc::new(Pending {
            entry,
            result: Mutex::new(None),
        });
        lock(queue).push(mine.clone());
        let mut turn = Turn::take(turn);
        // Committed by the turn before this one, along with its own?
        if let Some(done) = lock(&mine.result).take() {
            return done;
        }
        // Ours is in the queue: only a holder of the turn empties it.
        let group = std::mem::take(&mut *lock(queue));
        self.commit(&mut turn, &group);
        lock(&mine.result)
            .take()
            .unwrap_or_else(|| Err(Denied::Internal("the enrolment was not recorded".into())))
    }

    /// Records `group` in one transaction; when one of its entries cannot be, each in one of
    /// its own. The caller holds `turn`.
    fn commit(&self, turn: &mut Turn<'_>, group: &[Arc<Pending>]) {
        let together = turn.with(&self.ca, |r| {
            let mut tx = r.transaction()?;
            let mut out = Vec::with_capacity(group.len());
            for p in group {
                let w = write(&mut tx, &self.ca, &p.entry)?;
                if matches!(w, Written::Denied(_)) {
                    // It may have written in this transaction: roll them all back.
                    return Ok(None);
                }
                out.push(w);
            }
            tx.commit()?;
            Ok(Some(out))
        });
        if let Ok(Some(out)) = together {
            for (p, w) in group.iter().zip(out) {
                *lock(&p.result) = Some(Ok(w));
            }
            return;
        }
        for p in group {
            *lock(&p.result) = Some(turn.with(&self.ca, |r| alone(r, &self.ca, &p.entry)));
        }
    }
}

/// Records `e` in a transaction of its own.
fn alone(r: &mut Register, ca: &CaDir, e: &Entry) -> pki_core::Result<Written> {
    let mut tx = r.transaction()?;
    let w = write(&mut tx, ca, e)?;
    if matches!(w, Written::Recorded) {
        tx.commit()?;
    }
    Ok(w)
}

/// Writes `e` in `tx`: its name checked free, the secret consumed, what the new certificate
/// replaces marked superseded, its row inserted, the secret's serial set. A refused secret
/// writes nothing; after [`Written::Denied`], `tx` must not be committed.
fn write(tx: &mut Transaction<'_>, ca: &CaDir, e: &Entry) -> pki_core::Result<Written> {
    if e.check_name {
        let free = ca.check_name_free_by(
            &mut |q, each| tx.for_each(q, each),
            &e.common_name,
            e.profile,
        );
        match free {
            Ok(()) => {}
            Err(pki_core::Error::Refused(refusal)) => {
                return Ok(Written::Denied(Denied::Forbidden(refusal.to_string())));
            }
            Err(other) => return Err(other),
        }
    }
    let mut secret_id = None;
    if let Some((id, secret)) = &e.secret {
        match tx.consume_secret(id, secret, e.now)? {
            Ok(grant) => {
                if let Some(l) = grant.label
                    && l != e.label.as_str()
                {
                    return Ok(Written::Denied(Denied::Forbidden(format!(
                        "this secret enrols under the label {l}: use .../est/{l}/simpleenroll"
                    ))));
                }
                secret_id = Some(grant.secret_id);
            }
            Err(refusal) => return Ok(Written::Refused(refusal)),
        }
    }
    let new_sha = &e.record.sha256;
    match &e.replaces {
        Some(old) => {
            if !tx.supersede(&old.sha256, Some(new_sha))? {
                // Revoked, or superseded by another re-enrolment (at this server or another
                // sharing the register), since its row was read: the row is read again, in
                // this transaction, for why.
                let query = Query {
                    sha256: Some(old.sha256.clone()),
                    ..Query::default()
                };
                let mut now_row = None;
                tx.for_each(&query, &mut |r| {
                    now_row = Some(r);
                    false
                })?;
                let reason = now_row
                    .as_ref()
                    .and_then(out_of_service)
                    .unwrap_or_else(|| {
                        format!(
                            "the client certificate (serial {}) is no longer in service",
                            old.serial
                        )
                    });
                return Ok(Written::Denied(Denied::Forbidden(reason)));
            }
        }
        None => {
            // A new enrolment replaces what the name had in service under this profile (a
            // device provisioned again, aziot-certd renewing its Edge CA with its EST
            // identity), never the certificate that asked. An EST identity asking for a
            // certificate of its own name and profile (IoT Edge 1.5's identity and device
            // identity share both) may be renewing itself or the device identity: only what is
            // older than it is of a past generation.
            let (cn, profile) = (&e.common_name, e.profile.name());
            // The CN as a pattern reaches the register's CN index (a `*` or `?` a device id
            // may hold matches more, which the exact comparison below drops): not every
            // certificate of the profile, row by row.
            let query = Query {
                profile: Some(profile.to_owned()),
                status: Some(Status::Issued),
                common_name: Some(cn.clone()),
                ..Query::default()
            };
            let presenter = e.presented.as_ref();
            let its_own = presenter.filter(|p| &p.common_name == cn && p.profile == profile);
            // Rows come by notAfter, then in the order recorded: with the identity's own name
            // and profile, those before it are older (issued in the same second included,
            // which notBefore would not tell).
            let mut seen_presenter = false;
            let mut old = Vec::new();
            tx.for_each(&query, &mut |r| {
                if presenter.is_some_and(|p| p.sha256 == r.sha256) {
                    seen_presenter = true;
                    return true;
                }
                if &r.common_name == cn && (its_own.is_none() || !seen_presenter) {
                    old.push(r.sha256);
                }
                true
            })?;
            for sha in old {
                tx.supersede(&sha, Some(new_sha))?;
            }
        }
    }
    tx.insert(std::slice::from_ref(&e.record))?;
    if let Some(id) = secret_id {
        tx.set_secret_serial(id, &e.record.serial)?;
    }
    Ok(Written::Recorded)
}

fn internal(e: pki_core::Error) -> Denied {
    Denied::Internal(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

    fn connections() -> (tempfile::TempDir, Arc<Connections>) {
        let dir = tempfile::tempdir().unwrap();
        let ca = CaDir::create(&dir.path().join("pki")).unwrap();
        (dir, Arc::new(Connections::new(ca)))
    }

    fn record(i: usize, cn: &str) -> Record {
        Record {
            serial: format!("{i:032X}"),
            subject: format!("CN = {cn}"),
            common_name: cn.to_owned(),
            issuer: "CN = test CA".into(),
            issuer_sha256: None,
            profile: "device".into(),
            not_before: NOW,
            not_after: NOW + time::Duration::days(365),
            sha256: format!("{i:064X}"),
            path: format!("est:device/{cn}"),
            status: Status::Issued,
            superseded_by: None,
            revoked_at: None,
            revocation_reason: None,
        }
    }

    fn entry(i: usize) -> Entry {
        named(i, &format!("dev-{i}"))
    }

    fn named(i: usize, cn: &str) -> Entry {
        Entry {
            record: record(i, cn),
            secret: None,
            replaces: None,
            presented: None,
            check_name: true,
            common_name: cn.to_owned(),
            profile: Profile::Device,
            label: Label::Device,
            now: NOW,
        }
    }

    /// A secret for `id` (under `label`), made in the register, and the entry that uses it.
    fn with_secret(c: &Connections, i: usize, label: Option<&str>) -> Entry {
        let mut e = entry(i);
        let id = e.record.common_name.clone();
        let secret = c
            .with(|r| Ok(r.create_secret(&id, label, time::Duration::hours(1), NOW)?))
            .unwrap();
        e.secret = Some((id, Zeroizing::new(secret.expose().to_owned())));
        e
    }

    /// The register's rows, read on a connection of its own, by serial.
    fn rows(c: &Connections) -> Vec<Record> {
        let mut r = c.ca.register().unwrap();
        let mut rows = r.records(&Query::default()).unwrap();
        rows.sort_by(|a, b| a.serial.cmp(&b.serial));
        rows
    }

    fn serials(c: &Connections) -> Vec<String> {
        rows(c).into_iter().map(|r| r.serial).collect()
    }

    /// Commits `entries` as one group (as the holder of the turn does), returns each outcome.
    fn group(c: &Connections, entries: Vec<Entry>) -> Vec<Result<Written, Denied>> {
        let pending: Vec<Arc<Pending>> = entries
            .into_iter()
            .map(|entry| {
                Arc::new(Pending {
                    entry,
                    result: Mutex::new(None),
                })
            })
            .collect();
        let Kind::Sqlite { turn, .. } = &c.kind else {
            unreachable!("a CA directory's register is SQLite")
        };
        let mut turn = Turn::take(turn);
        c.commit(&mut turn, &pending);
        pending
            .iter()
            .map(|p| lock(&p.result).take().expect("every entry has an outcome"))
            .collect()
    }

    #[test]
    fn a_group_is_recorded_whole() {
        let (_dir, c) = connections();
        let out = group(&c, (1..=5).map(entry).collect());
        assert!(out.iter().all(|w| matches!(w, Ok(Written::Recorded))));
        let want: Vec<String> = (1..=5).map(|i| entry(i).record.serial).collect();
        assert_eq!(serials(&c), want);
    }

    #[test]
    fn a_refused_secret_leaves_the_rest_of_its_group_recorded() {
        let (_dir, c) = connections();
        let mut wrong = with_secret(&c, 2, None);
        wrong.secret.as_mut().unwrap().1 = Zeroizing::new("not-the-secret".into());
        let out = group(&c, vec![entry(1), wrong, with_secret(&c, 3, None)]);
        assert!(matches!(out[0], Ok(Written::Recorded)));
        assert!(matches!(
            out[1],
            Ok(Written::Refused(SecretRefusal::WrongSecret))
        ));
        assert!(matches!(out[2], Ok(Written::Recorded)));
        assert_eq!(
            serials(&c),
            vec![entry(1).record.serial, entry(3).record.serial]
        );
        // The good secret is used, with its certificate's serial; the other is not.
        let secrets = c.with(|r| Ok(r.list_secrets(None)?)).unwrap();
        let of = |id: &str| secrets.iter().find(|s| s.device_id == id).unwrap();
        assert_eq!(of("dev-3").serial, Some(entry(3).record.serial));
        assert!(of("dev-3").used_at.is_some());
        assert!(of("dev-2").used_at.is_none() && of("dev-2").serial.is_none());
    }

    #[test]
    fn a_secret_for_another_label_is_left_unused_and_the_others_recorded_alone() {
        let (_dir, c) = connections();
        let other = with_secret(&c, 2, Some("server"));
        let out = group(&c, vec![entry(1), other, entry(3)]);
        assert!(matches!(out[0], Ok(Written::Recorded)));
        assert!(
            matches!(&out[1], Ok(Written::Denied(Denied::Forbidden(why))) if why.contains("label server"))
        );
        assert!(matches!(out[2], Ok(Written::Recorded)));
        assert_eq!(
            serials(&c),
            vec![entry(1).record.serial, entry(3).record.serial]
        );
        let secrets = c.with(|r| Ok(r.list_secrets(Some("dev-2"))?)).unwrap();
        assert_eq!(secrets.len(), 1);
        assert!(
            secrets[0].used_at.is_none(),
            "rolled back, the secret stays unused"
        );
    }

    #[test]
    fn a_reenrolment_raced_in_its_own_group_is_refused_and_the_others_recorded() {
        let (_dir, c) = connections();
        assert!(matches!(
            group(&c, vec![named(1, "gw")])[0],
            Ok(Written::Recorded)
        ));
        let old = rows(&c).remove(0);
        // Two re-enrolments of one certificate in one group: the second finds it superseded.
        let mut first = named(2, "gw");
        first.replaces = Some(old.clone());
        let mut second = named(3, "gw");
        second.replaces = Some(old);
        let out = group(&c, vec![first, entry(4), second]);
        assert!(matches!(out[0], Ok(Written::Recorded)));
        assert!(matches!(out[1], Ok(Written::Recorded)));
        assert!(
            matches!(&out[2], Ok(Written::Denied(Denied::Forbidden(why))) if why.contains("superseded")),
            "{:?}",
            out[2]
        );
        let rows = rows(&c);
        let serials: Vec<&str> = rows.iter().map(|r| r.serial.as_str()).collect();
        let want: Vec<String> = [1, 2, 4].map(|i| entry(i).record.serial).to_vec();
        assert_eq!(serials, want);
        assert_eq!(rows[0].status, Status::Superseded);
        assert_eq!(
            rows[0].superseded_by.as_deref(),
            Some(rows[1].sha256.as_str())
        );
    }

    #[test]
    fn a_new_enrolment_in_a_group_supersedes_what_the_name_had_before_it_in_that_group() {
        let (_dir, c) = connections();
        let out = group(
            &c,
            vec![named(1, "dev-x"), named(2, "dev-x"), named(3, "dev-y")],
        );
        assert!(out.iter().all(|w| matches!(w, Ok(Written::Recorded))));
        let status: Vec<Status> = rows(&c).into_iter().map(|r| r.status).collect();
        assert_eq!(status, [Status::Superseded, Status::Issued, Status::Issued]);
    }

    #[test]
    fn a_name_taken_in_the_same_group_is_refused_there_and_the_others_recorded() {
        let (_dir, c) = connections();
        let mut edge_ca = named(1, "gw-1.ca");
        edge_ca.profile = Profile::EdgeCa;
        edge_ca.record.profile = Profile::EdgeCa.name().to_owned();
        // A device may not take an edge CA's name, even one recorded a moment before in the
        // same transaction.
        let clash = named(2, "GW-1.CA");
        let out = group(&c, vec![edge_ca, clash, entry(3)]);
        assert!(matches!(out[0], Ok(Written::Recorded)));
        assert!(
            matches!(&out[1], Ok(Written::Denied(Denied::Forbidden(why))) if why.contains("GW-1.CA")),
            "{:?}",
            out[1]
        );
        assert!(matches!(out[2], Ok(Written::Recorded)));
        let want: Vec<String> = [1, 3].map(|i| entry(i).record.serial).to_vec();
        assert_eq!(serials(&c), want);
    }

    #[test]
    fn a_row_that_cannot_be_written_fails_alone() {
        let (_dir, c) = connections();
        assert!(matches!(
            group(&c, vec![entry(7)])[0],
            Ok(Written::Recorded)
        ));
        // The same serial again: the register refuses it; the others of its group are recorded.
        let mut again = entry(8);
        again.record.serial = entry(7).record.serial;
        let out = group(&c, vec![entry(6), again, entry(9)]);
        assert!(matches!(out[0], Ok(Written::Recorded)));
        assert!(matches!(&out[1], Err(Denied::Internal(_))));
        assert!(matches!(out[2], Ok(Written::Recorded)));
        let want: Vec<String> = [6, 7, 9].map(|i| entry(i).record.serial).to_vec();
        assert_eq!(serials(&c), want);
    }

    #[test]
    fn each_enrolment_is_committed_when_record_returns_whatever_the_concurrency() {
        let (_dir, c) = connections();
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for k in 0..25 {
                        let e = entry(1000 * (t + 1) + k);
                        let sha = e.record.sha256.clone();
                        assert!(matches!(c.record(e), Ok(Written::Recorded)));
                        // Seen at once on another connection: committed before the answer.
                        let query = Query {
                            sha256: Some(sha),
                            ..Query::default()
                        };
                        let mut other = c.ca.register().unwrap();
                        assert_eq!(other.records(&query).unwrap().len(), 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(serials(&c).len(), 16 * 25);
        let Kind::Sqlite { queue, .. } = &c.kind else {
            unreachable!()
        };
        assert!(lock(queue).is_empty());
    }
}
