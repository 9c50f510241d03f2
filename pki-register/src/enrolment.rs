//! The register's side of EST enrolment with one-time secrets: making a secret, using it once
//! (atomically, so that of several servers sharing the register exactly one accepts it),
//! listing and revoking secrets for an operator, and counting failed attempts for a server's
//! rate limit. The secrets themselves, their hash and the answers' types are in `secret.rs`.

use time::{Duration, OffsetDateTime};

use crate::backend::{Register, Row, Transaction};
use crate::error::{Error, Result};
use crate::location::Location;
use crate::query::Param;
use crate::secret::{self, FailureKey, SALT_BYTES, Secret, SecretGrant, SecretInfo, SecretRefusal};

/// The columns of a [`SecretInfo`], in the order it is read.
const INFO_COLUMNS: &str =
    "id, device_id, label, created_at, expires_at, used_at, revoked_at, serial";

/// How long failed attempts are kept: a rate limit looks back at most this far.
pub const FAILURE_RETENTION: Duration = Duration::hours(24);
/// How many (key, minute) rows of failed attempts are kept at most, besides those of the
/// latest minute: the oldest are dropped first.
pub const MAX_FAILURE_ROWS: i64 = 100_000;

impl Register {
    /// Makes a one-time enrolment secret for `device_id` (the HTTP Basic user it will be
    /// presented with), for the EST `label` (`None`: the server's default), accepted until
    /// `now + ttl`. Returns the secret, once: the register keeps only a salted hash of it.
    pub fn create_secret(
        &mut self,
        device_id: &str,
        label: Option<&str>,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> Result<Secret> {
        secret::check_device_id(device_id)?;
        if let Some(label) = label {
            check_label(device_id, label)?;
        }
        if !ttl.is_positive() {
            return Err(Error::BadEnrolmentSecret {
                device_id: device_id.to_owned(),
                reason: format!("its lifetime ({ttl}) is not positive"),
            });
        }
        let expires_at = now
            .checked_add(ttl)
            .ok_or_else(|| Error::BadEnrolmentSecret {
                device_id: device_id.to_owned(),
                reason: format!("its lifetime ({ttl}) is out of range"),
            })?;
        let salt = secret::random::<SALT_BYTES>()?;
        let (bytes, text) = secret::new_secret()?;
        let hash = secret::hash(salt.as_ref(), device_id, &bytes);
        let location = &self.location;
        let mut tx = self.db.transaction()?;
        let sql = tx.dialect().numbered(
            "INSERT INTO enrolment_secrets \
             (device_id, label, salt, hash, created_at, expires_at) \
             VALUES (#1, #2, #3, #4, #5, #6) RETURNING id",
        );
        let mut id = None;
        tx.query(
            &sql,
            &[
                Param::Text(device_id.to_owned()),
                label.map_or(Param::NullText, |l| Param::Text(l.to_owned())),
                Param::Text(secret::hex(salt.as_ref())),
                Param::Text(hash),
                Param::Int(now.unix_timestamp()),
                Param::Int(expires_at.unix_timestamp()),
            ],
            &mut |row| {
                id = Some(row.int(0)?);
                Ok(false)
            },
        )?;
        let id = id.ok_or_else(|| Error::Database {
            location: location.to_string(),
            reason: "the enrolment secret's INSERT returned no row".into(),
        })?;
        tx.commit()?;
        Ok(Secret {
            info: SecretInfo {
                id,
                device_id: device_id.to_owned(),
                label: label.map(str::to_owned),
                created_at: at(location, now.unix_timestamp())?,
                expires_at: at(location, expires_at.unix_timestamp())?,
                used_at: None,
                revoked_at: None,
                serial: None,
            },
            text,
        })
    }

    /// Uses the enrolment secret `secret` of `device_id` at `now`, in a transaction of its own:
    /// granted once, then [`SecretRefusal::Used`], whichever server of those sharing the
    /// register asks. To issue the certificate in the same transaction (so that a failure to
    /// issue leaves the secret unused), use [`Transaction::consume_secret`].
    pub fn consume_secret(
        &mut self,
        device_id: &str,
        secret: &str,
        now: OffsetDateTime,
    ) -> Result<std::result::Result<SecretGrant, SecretRefusal>> {
        let mut tx = self.transaction()?;
        let outcome = tx.consume_secret(device_id, secret, now)?;
        if outcome.is_ok() {
            tx.commit()?;
        }
        Ok(outcome)
    }

    /// The enrolment secrets of `device_id` (every device's when `None`), oldest first; their
    /// hashes are never read.
    pub fn list_secrets(&mut self, device_id: Option<&str>) -> Result<Vec<SecretInfo>> {
        let (clause, params) = match device_id {
            Some(id) => (" WHERE device_id = #1", vec![Param::Text(id.to_owned())]),
            None => ("", Vec::new()),
        };
        let sql = self.db.dialect().numbered(&format!(
            "SELECT {INFO_COLUMNS} FROM enrolment_secrets{clause} ORDER BY id"
        ));
        let location = &self.location;
        let mut out = Vec::new();
        self.db.query(&sql, &params, &mut |row| {
            out.push(read_info(location, row)?);
            Ok(true)
        })?;
        Ok(out)
    }

    /// Revokes, at `now`, the unused enrolment secrets of `device_id` (only the one whose row is
    /// `secret_id` when given); returns how many were revoked. A used secret stays as it was:
    /// the certificate it enrolled is revoked with `pki revoke`.
    pub fn revoke_secrets(
        &mut self,
        device_id: &str,
        secret_id: Option<i64>,
        now: OffsetDateTime,
    ) -> Result<u64> {
        let mut params = vec![
            Param::Int(now.unix_timestamp()),
            Param::Text(device_id.to_owned()),
        ];
        let only = match secret_id {
            Some(id) => {
                params.push(Param::Int(id));
                " AND id = #3"
            }
            None => "",
        };
        let mut tx = self.db.transaction()?;
        let sql = tx.dialect().numbered(&format!(
            "UPDATE enrolment_secrets SET revoked_at = #1 \
             WHERE device_id = #2 AND used_at IS NULL AND revoked_at IS NULL{only}"
        ));
        let n = tx.execute(&sql, &params)?;
        tx.commit()?;
        Ok(n)
    }

    /// Counts a failed attempt under `key` at `now` (by the minute), and drops what is older
    /// than [`FAILURE_RETENTION`] and, past [`MAX_FAILURE_ROWS`], the oldest minutes: the
    /// storage stays bounded whatever a guesser sends.
    pub fn record_failure(&mut self, key: &FailureKey, now: OffsetDateTime) -> Result<()> {
        let minute = now.unix_timestamp().div_euclid(60);
        // Statements of their own (no transaction around them): each is atomic, and a prune
        // never waits on another's upsert.
        let dialect = self.db.dialect();
        let upsert = dialect.numbered(
            "INSERT INTO auth_failures (key, minute, count) VALUES (#1, #2, 1) \
             ON CONFLICT (key, minute) DO UPDATE SET count = auth_failures.count + 1 \
             RETURNING count",
        );
        let mut count = 0;
        self.db.query(
            &upsert,
            &[Param::Text(key.stored()), Param::Int(minute)],
            &mut |row| {
                count = row.int(0)?;
                Ok(false)
            },
        )?;
        if count == 1 {
            // A new row: drop the expired ones, then the oldest beyond the bound.
            let keep_from = minute - FAILURE_RETENTION.whole_minutes();
            self.db.execute(
                &dialect.numbered("DELETE FROM auth_failures WHERE minute < #1"),
                &[Param::Int(keep_from)],
            )?;
            self.db.execute(
                &dialect.numbered(
                    "DELETE FROM auth_failures WHERE minute < \
                     (SELECT minute FROM auth_failures ORDER BY minute DESC LIMIT 1 OFFSET #1)",
                ),
                &[Param::Int(MAX_FAILURE_ROWS)],
            )?;
        }
        Ok(())
    }

    /// How many failed attempts were counted under `key` since `since` (to the minute: the
    /// attempts of `since`'s whole minute count), at most [`FAILURE_RETENTION`] back.
    pub fn failures_since(&mut self, key: &FailureKey, since: OffsetDateTime) -> Result<u64> {
        let sql = self.db.dialect().numbered(
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM auth_failures \
             WHERE key = #1 AND minute >= #2",
        );
        let mut n = 0;
        self.db.query(
            &sql,
            &[
                Param::Text(key.stored()),
                Param::Int(since.unix_timestamp().div_euclid(60)),
            ],
            &mut |row| {
                n = row.int(0)?;
                Ok(false)
            },
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl Transaction<'_> {
    /// Uses the enrolment secret `secret` of `device_id` at `now`: marks it used in this
    /// transaction (`UPDATE ... WHERE used_at IS NULL AND expires_at > now`), so that of two
    /// transactions racing on one secret exactly one commits a grant (the other waits for it
    /// on PostgreSQL's row lock, or SQLite's write lock, then finds it used). Rolled back, the
    /// secret stays unused. The refusals are distinct for the audit log; a server answers each
    /// with the same 401.
    pub fn consume_secret(
        &mut self,
        device_id: &str,
        secret: &str,
        now: OffsetDateTime,
    ) -> Result<std::result::Result<SecretGrant, SecretRefusal>> {
        let location = self.location;
        let sql = self.tx.dialect().numbered(
            "SELECT id, salt, hash FROM enrolment_secrets WHERE device_id = #1 ORDER BY id",
        );
        let mut rows: Vec<(i64, String, String)> = Vec::new();
        self.tx
            .query(&sql, &[Param::Text(device_id.to_owned())], &mut |row| {
                rows.push((row.int(0)?, row.text(1)?, row.text(2)?));
                Ok(true)
            })?;
        if rows.is_empty() {
            return Ok(Err(SecretRefusal::UnknownId));
        }
        let Some(bytes) = secret::parse_secret(secret) else {
            return Ok(Err(SecretRefusal::WrongSecret));
        };
        // Every row is hashed and compared, whichever matches, so that the time taken says
        // nothing of which did.
        let mut matched = None;
        for (id, salt, stored) in &rows {
            let salt = secret::unhex(salt).ok_or_else(|| Error::NotARegister {
                location: location.to_string(),
                reason: format!("enrolment secret {id} has a salt that is not hex"),
            })?;
            if secret::same_hash(&secret::hash(&salt, device_id, &bytes), stored) {
                matched = Some(*id);
            }
        }
        let Some(id) = matched else {
            return Ok(Err(SecretRefusal::WrongSecret));
        };
        let sql = self.tx.dialect().numbered(
            "UPDATE enrolment_secrets SET used_at = #1 \
             WHERE id = #2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > #1 \
             RETURNING device_id, label",
        );
        let mut granted = None;
        self.tx.query(
            &sql,
            &[Param::Int(now.unix_timestamp()), Param::Int(id)],
            &mut |row| {
                granted = Some(SecretGrant {
                    secret_id: id,
                    device_id: row.text(0)?,
                    label: row.opt_text(1)?,
                });
                Ok(false)
            },
        )?;
        if let Some(grant) = granted {
            return Ok(Ok(grant));
        }
        // Not changed: used (perhaps by a server that just won the race), revoked or expired;
        // read again, seeing what was committed meanwhile.
        let sql = self.tx.dialect().numbered(&format!(
            "SELECT {INFO_COLUMNS} FROM enrolment_secrets WHERE id = #1"
        ));
        let mut info = None;
        self.tx.query(&sql, &[Param::Int(id)], &mut |row| {
            info = Some(read_info(location, row)?);
            Ok(false)
        })?;
        let refusal = match info {
            Some(SecretInfo {
                used_at: Some(at), ..
            }) => SecretRefusal::Used { at },
            Some(SecretInfo {
                revoked_at: Some(at),
                ..
            }) => SecretRefusal::Revoked { at },
            Some(info) if info.expires_at <= now => SecretRefusal::Expired {
                at: info.expires_at,
            },
            // Gone or changed between the two statements: nothing was granted.
            _ => SecretRefusal::WrongSecret,
        };
        Ok(Err(refusal))
    }

    /// Records `serial` (upper-case hex) as the certificate issued with the enrolment secret
    /// whose row is `secret_id`. False when there is no such row.
    pub fn set_secret_serial(&mut self, secret_id: i64, serial: &str) -> Result<bool> {
        let sql = self
            .tx
            .dialect()
            .numbered("UPDATE enrolment_secrets SET serial = #1 WHERE id = #2");
        let n = self.tx.execute(
            &sql,
            &[Param::Text(serial.to_owned()), Param::Int(secret_id)],
        )?;
        Ok(n > 0)
    }
}

/// Refuses a label that is not an EST path segment (RFC 7030 section 3.2.2: letters, digits,
/// `-`, `_`, `.`).
fn check_label(device_id: &str, label: &str) -> Result<()> {
    let ok = !label.is_empty()
        && label.len() <= 64
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::BadEnrolmentSecret {
            device_id: device_id.escape_debug().to_string(),
            reason: format!(
                "the label {:?} is not an EST label (1 to 64 letters, digits, '-', '_', '.')",
                label
            ),
        })
    }
}

/// An instant stored as Unix seconds.
fn at(location: &Location, t: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t).map_err(|_| Error::NotARegister {
        location: location.to_string(),
        reason: "an enrolment secret has a time out of range".into(),
    })
}

/// A row of [`INFO_COLUMNS`].
fn read_info(location: &Location, row: &dyn Row) -> Result<SecretInfo> {
    Ok(SecretInfo {
        id: row.int(0)?,
        device_id: row.text(1)?,
        label: row.opt_text(2)?,
        created_at: at(location, row.int(3)?)?,
        expires_at: at(location, row.int(4)?)?,
        used_at: row.opt_int(5)?.map(|t| at(location, t)).transpose()?,
        revoked_at: row.opt_int(6)?.map(|t| at(location, t)).transpose()?,
        serial: row.opt_text(7)?,
    })
}
