//! What a picture of the fleet needs of the register, answered by the database: counts by
//! state, profile and issuer, the weekly expiry histogram, and the first renewals due. Each is
//! one `GROUP BY` (or one bounded `LIMIT`) that SQLite and PostgreSQL run alike, so that the
//! memory used is that of the groups (states × profiles × issuers, weeks × profiles × issuers),
//! never that of the rows, whatever the register's size.

use time::{Duration, OffsetDateTime};

use crate::backend::{Register, Row};
use crate::error::{Error, Result};
use crate::query::{Param, Query};
use crate::record::{Record, State};

/// Seconds in a week: the histogram's bucket.
const WEEK: i64 = 7 * 86_400;

/// The instant a summary is judged at, and the window in which a certificate in service counts
/// as expiring (as [`Record::state`] judges one row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The instant: a certificate whose notAfter is at or before it has expired.
    pub at: OffsetDateTime,
    /// How far ahead of `at` a certificate in service counts as expiring.
    pub expiring: Duration,
}

/// How many certificates of one profile and one issuer are in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCount {
    /// The state at the summary's instant.
    pub state: State,
    /// The profile (`device`, `server`, ...).
    pub profile: String,
    /// The SHA-256 of the issuing CA's certificate, when the register knows it.
    pub issuer_sha256: Option<String>,
    /// How many.
    pub count: u64,
    /// The soonest notAfter among them.
    pub first_not_after: OffsetDateTime,
}

/// How many certificates in service of one profile and one issuer expire in one week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekCount {
    /// The week, counted from the instant asked about: week `w` holds the notAfters with
    /// `at + w × 7 days < notAfter ≤ at + (w + 1) × 7 days`.
    pub week: u32,
    /// The profile.
    pub profile: String,
    /// The SHA-256 of the issuing CA's certificate, when known.
    pub issuer_sha256: Option<String>,
    /// How many.
    pub count: u64,
}

/// The soonest notAfter of the certificates in service of one issuer and one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextExpiry {
    /// The SHA-256 of the issuing CA's certificate, when known.
    pub issuer_sha256: Option<String>,
    /// The profile.
    pub profile: String,
    /// The soonest notAfter still ahead.
    pub not_after: OffsetDateTime,
}

/// The first renewals due (by notAfter), and how many are due in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// At most the number asked for, soonest first.
    pub first: Vec<Record>,
    /// How many the query selects in all.
    pub total: u64,
}

impl Register {
    /// How many certificates there are in each state (at `window`), by profile and issuer:
    /// one row per group that has any. Superseded and revoked come from the status; a
    /// certificate in service is expired, expiring or valid by its notAfter.
    pub fn state_counts(&mut self, window: Window) -> Result<Vec<StateCount>> {
        let at = window.at.unix_timestamp();
        let soon = (window.at + window.expiring).unix_timestamp();
        let sql = self.db.dialect().numbered(
            "SELECT CASE WHEN status <> 'issued' THEN status \
                         WHEN not_after <= #1 THEN 'expired' \
                         WHEN not_after <= #2 THEN 'expiring' \
                         ELSE 'valid' END AS state, \
                    profile, issuer_sha256, COUNT(*), MIN(not_after) \
             FROM certificates GROUP BY 1, profile, issuer_sha256 \
             ORDER BY 1, profile, issuer_sha256",
        );
        let location = self.location.to_string();
        let mut out = Vec::new();
        self.whole_table(|db| {
            db.query(&sql, &[Param::Int(at), Param::Int(soon)], &mut |row| {
                let name = row.text(0)?;
                let state = state_named(&name).ok_or_else(|| Error::NotARegister {
                    location: location.clone(),
                    reason: format!("a row has the unknown status {name:?}"),
                })?;
                out.push(StateCount {
                    state,
                    profile: row.text(1)?,
                    issuer_sha256: row.opt_text(2)?,
                    count: count(row, 3)?,
                    first_not_after: instant(row.int(4)?, &location)?,
                });
                Ok(true)
            })
        })?;
        Ok(out)
    }

    /// How many certificates in service expire in each of the `weeks` weeks after `at`, by
    /// profile and issuer (see [`WeekCount::week`]); weeks without any are left out.
    pub fn weekly_expiries(&mut self, at: OffsetDateTime, weeks: u32) -> Result<Vec<WeekCount>> {
        let from = at.unix_timestamp();
        let to = from + i64::from(weeks) * WEEK;
        // (notAfter - at - 1) / week: the integer division of both databases on non-negative
        // numbers, so that a notAfter exactly a week after `at` falls in week 0.
        let sql = self.db.dialect().numbered(
            "SELECT (not_after - #1 - 1) / #3 AS week, profile, issuer_sha256, COUNT(*) \
             FROM certificates \
             WHERE status = 'issued' AND not_after > #1 AND not_after <= #2 \
             GROUP BY 1, profile, issuer_sha256 ORDER BY 1, profile, issuer_sha256",
        );
        let mut out = Vec::new();
        self.whole_table(|db| {
            db.query(
                &sql,
                &[Param::Int(from), Param::Int(to), Param::Int(WEEK)],
                &mut |row| {
                    out.push(WeekCount {
                        week: u32::try_from(row.int(0)?).unwrap_or(u32::MAX),
                        profile: row.text(1)?,
                        issuer_sha256: row.opt_text(2)?,
                        count: count(row, 3)?,
                    });
                    Ok(true)
                },
            )
        })?;
        Ok(out)
    }

    /// The soonest notAfter after `at` of the certificates in service, by issuer and profile.
    pub fn next_expiries(&mut self, at: OffsetDateTime) -> Result<Vec<NextExpiry>> {
        let sql = self.db.dialect().numbered(
            "SELECT issuer_sha256, profile, MIN(not_after) FROM certificates \
             WHERE status = 'issued' AND not_after > #1 \
             GROUP BY issuer_sha256, profile ORDER BY issuer_sha256, profile",
        );
        let location = self.location.to_string();
        let mut out = Vec::new();
        self.whole_table(|db| {
            db.query(&sql, &[Param::Int(at.unix_timestamp())], &mut |row| {
                out.push(NextExpiry {
                    issuer_sha256: row.opt_text(0)?,
                    profile: row.text(1)?,
                    not_after: instant(row.int(2)?, &location)?,
                });
                Ok(true)
            })
        })?;
        Ok(out)
    }

    /// The issuer's name (one-line form) recorded on a row of the issuer whose certificate has
    /// SHA-256 `sha256` (none: on a row that records no issuer SHA-256); none when no row has it.
    /// For a report to name an issuer that is not among the CA directory's certificates.
    pub fn issuer_named(&mut self, sha256: Option<&str>) -> Result<Option<String>> {
        let (sql, params) = match sha256 {
            Some(s) => (
                "SELECT issuer FROM certificates WHERE issuer_sha256 = #1 LIMIT 1",
                vec![Param::Text(s.to_owned())],
            ),
            None => (
                "SELECT issuer FROM certificates WHERE issuer_sha256 IS NULL LIMIT 1",
                vec![],
            ),
        };
        let sql = self.db.dialect().numbered(sql);
        let mut name = None;
        self.db.query(&sql, &params, &mut |row| {
            name = Some(row.text(0)?);
            Ok(false)
        })?;
        Ok(name)
    }

    /// Runs `f` on the connection readied for reading the whole table once (see
    /// [`crate::backend::Backend::whole_table_reads`]), and puts the connection back after.
    fn whole_table(
        &mut self,
        f: impl FnOnce(&mut dyn crate::backend::Backend) -> Result<()>,
    ) -> Result<()> {
        self.db.whole_table_reads(true)?;
        let result = f(self.db.as_mut());
        let back = self.db.whole_table_reads(false);
        result.and(back)
    }

    /// The first `limit` rows `query` selects (by notAfter, then recording order), and how
    /// many it selects in all: a bounded list of what is due, whatever the register's size.
    pub fn first_of(&mut self, query: &Query, limit: u32) -> Result<Due> {
        let (clause, params) = query.sql(self.db.dialect());
        let location = self.location.clone();
        let mut total = 0;
        let mut first = Vec::new();
        // Read with the small cache too: a window of a large register is many pages, each
        // read once.
        self.whole_table(|db| {
            db.query(
                &format!("SELECT COUNT(*) FROM certificates{clause}"),
                &params,
                &mut |row| {
                    total = count(row, 0)?;
                    Ok(false)
                },
            )?;
            if limit == 0 {
                return Ok(());
            }
            let sql = format!(
                "SELECT {} FROM certificates{clause} ORDER BY not_after, id LIMIT {limit}",
                crate::backend::COLUMNS
            );
            db.query(&sql, &params, &mut |row| {
                first.push(crate::backend::record_of(row, &location)?);
                Ok(true)
            })
        })?;
        Ok(Due { first, total })
    }
}

/// The state a summary's `CASE` names.
fn state_named(name: &str) -> Option<State> {
    Some(match name {
        "valid" => State::Valid,
        "expiring" => State::Expiring,
        "expired" => State::Expired,
        "superseded" => State::Superseded,
        "revoked" => State::Revoked,
        _ => return None,
    })
}

/// A `COUNT(*)` column (never negative).
fn count(row: &dyn Row, i: usize) -> Result<u64> {
    Ok(u64::try_from(row.int(i)?).unwrap_or(0))
}

/// A stored instant.
fn instant(t: i64, location: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t).map_err(|_| Error::NotARegister {
        location: location.to_owned(),
        reason: "a row has a time out of range".into(),
    })
}
