//! The two databases behind one register: SQLite (rusqlite, the library compiled in, so that
//! nothing needs installing) and PostgreSQL (the `postgres` crate). Both get the same schema, the
//! same rows and the same queries; only the SQL dialect differs.

use std::path::Path;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator as _;
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::location::Location;
use crate::query::{Dialect, Param, Query};
use crate::record::{Reason, Record, Revocation, Status};

/// The columns of a row, in the order [`Record`] is read from and written to.
const COLUMNS: &str = "serial, subject, common_name, issuer, issuer_sha256, profile, not_before, \
                       not_after, sha256, path, status, superseded_by, revoked_at, \
                       revocation_reason";

/// The tables and indexes of schema version 1, for both databases (a new register is created at
/// version 1 and migrated up like an old one, so that both take the same path). `{id}` is the
/// row id's column type and `{cn_ops}` the CN index's operator class, as [`Dialect`] gives them;
/// SQLite reads BIGINT as an integer column.
const SCHEMA_V1: &str = "
CREATE TABLE pki_register (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE certificates (
    id {id},
    serial TEXT NOT NULL,
    subject TEXT NOT NULL,
    common_name TEXT NOT NULL,
    issuer TEXT NOT NULL,
    issuer_sha256 TEXT,
    profile TEXT NOT NULL,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    status TEXT NOT NULL,
    superseded_by TEXT,
    revoked_at BIGINT,
    revocation_reason TEXT,
    CONSTRAINT certificates_sha256 UNIQUE (sha256),
    CONSTRAINT certificates_issuer_serial UNIQUE (issuer, serial)
);
CREATE INDEX certificates_by_expiry ON certificates (not_after);
CREATE INDEX certificates_by_cn ON certificates (common_name{cn_ops});
CREATE INDEX certificates_by_profile ON certificates (profile, not_after);
CREATE INDEX certificates_by_issuer ON certificates (issuer_sha256, not_after);
CREATE INDEX certificates_by_serial ON certificates (serial);
";

/// What takes a register of schema version 1 to version 2: the last CRL number of each CA, and
/// an index on the status (a CA's revoked rows, for its CRL).
const SCHEMA_V2: &str = "
CREATE TABLE crl_numbers (issuer_sha256 TEXT PRIMARY KEY, number BIGINT NOT NULL);
CREATE INDEX certificates_by_status ON certificates (status, issuer_sha256);
UPDATE pki_register SET value = '2' WHERE key = 'version';
";

/// Schema version 1 in `dialect`'s words.
fn schema_v1(dialect: &Dialect) -> String {
    SCHEMA_V1
        .replace("{id}", dialect.id_column)
        .replace("{cn_ops}", dialect.cn_ops)
}

/// The key of the advisory lock under which a PostgreSQL register's schema is created, so that
/// two agents opening an empty database at once do not both create it.
const SCHEMA_LOCK: i64 = 0x706b_6952_6567; // "pkiReg"

/// How long a SQLite writer waits for another to finish.
const SQLITE_BUSY: Duration = Duration::from_secs(60);
/// How long a SQLite writer waits inside a `pki renew` hook: the renewal holds the lock until
/// the hook returns, so waiting longer only delays the hook's failure until its timeout.
const SQLITE_BUSY_IN_HOOK: Duration = Duration::from_secs(2);
/// Whether this process runs in a `pki renew` hook ([`set_in_renew_hook`]).
static IN_RENEW_HOOK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tells the register that this process runs in the hook of a `pki renew` (the command line
/// knows it from its environment, `PKI_RENEW_PHASE`; the library reads none): the renewal holds
/// the SQLite register's lock until its hook returns, so a writer here waits briefly and fails
/// with [`Error::Locked`] instead of waiting until the hook's timeout.
pub fn set_in_renew_hook(in_hook: bool) {
    IN_RENEW_HOOK.store(in_hook, std::sync::atomic::Ordering::Relaxed);
}

/// Whether this pki runs in a `pki renew` hook, and so how long a SQLite writer waits.
fn busy_wait() -> (bool, Duration) {
    let in_hook = IN_RENEW_HOOK.load(std::sync::atomic::Ordering::Relaxed);
    (
        in_hook,
        if in_hook {
            SQLITE_BUSY_IN_HOOK
        } else {
            SQLITE_BUSY
        },
    )
}

/// How long connecting to PostgreSQL may take unless the URL says otherwise.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

const SQLITE: Dialect = Dialect {
    placeholder: |n| format!("?{n}"),
    postgres: false,
    // The row id itself, numbered without reuse.
    id_column: "INTEGER PRIMARY KEY AUTOINCREMENT",
    cn_ops: "",
};
const POSTGRES: Dialect = Dialect {
    placeholder: |n| format!("${n}"),
    postgres: true,
    id_column: "BIGSERIAL PRIMARY KEY",
    // So that a CN pattern with a fixed start (`line-7-*`) uses the index whatever the locale.
    cn_ops: " text_pattern_ops",
};

enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

/// An open register.
pub struct Register {
    location: Location,
    db: Db,
}

impl std::fmt::Debug for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Register({})", self.location)
    }
}

impl Register {
    /// Opens the register at `location`, creating its tables in a new (empty) database. A file
    /// or database that holds something else, or a register of a newer pki, is refused.
    pub fn open(location: Location) -> Result<Register> {
        let db = match &location {
            Location::Sqlite(path) => Db::Sqlite(open_sqlite(path, &location)?),
            Location::Postgres(_) => Db::Postgres(Box::new(open_postgres(&location)?)),
        };
        Ok(Register { location, db })
    }

    /// Where the register is (a URL's password hidden when displayed).
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Starts a transaction: its writes are seen by others, all together, only on
    /// [`Transaction::commit`]; dropped without it, nothing was written. A SQLite transaction
    /// takes the write lock at once (so two writers queue instead of failing later).
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        let location = &self.location;
        let tx = match &mut self.db {
            Db::Sqlite(c) => Tx::Sqlite(
                c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(|e| {
                        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) {
                            let (in_renew_hook, waited) = busy_wait();
                            Error::Locked {
                                location: location.to_string(),
                                in_renew_hook,
                                waited_secs: waited.as_secs(),
                            }
                        } else {
                            db_error(location, &e)
                        }
                    })?,
            ),
            Db::Postgres(c) => Tx::Postgres(c.transaction().map_err(|e| pg_error(location, &e))?),
        };
        Ok(Transaction { location, tx })
    }

    /// Calls `each` with every row `query` selects, ordered by notAfter then by recording order,
    /// streaming (rows are not collected first); `each` returns false to stop.
    pub fn for_each(&mut self, query: &Query, each: &mut dyn FnMut(Record) -> bool) -> Result<()> {
        let location = &self.location;
        match &mut self.db {
            Db::Sqlite(c) => sqlite_for_each(c, location, query, each),
            Db::Postgres(c) => pg_for_each(c.as_mut(), location, query, each),
        }
    }

    /// Every row `query` selects, in order.
    pub fn records(&mut self, query: &Query) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        self.for_each(query, &mut |r| {
            out.push(r);
            true
        })?;
        Ok(out)
    }

    /// How many rows `query` selects.
    pub fn count(&mut self, query: &Query) -> Result<u64> {
        let location = &self.location;
        match &mut self.db {
            Db::Sqlite(c) => {
                let (clause, params) = query.sql(&SQLITE);
                let n: i64 = c
                    .query_row(
                        &format!("SELECT COUNT(*) FROM certificates{clause}"),
                        rusqlite::params_from_iter(params.iter().map(sqlite_param)),
                        |row| row.get(0),
                    )
                    .map_err(|e| db_error(location, &e))?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
            Db::Postgres(c) => {
                let (clause, params) = query.sql(&POSTGRES);
                let values = pg_params(&params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    values.iter().map(|v| v.as_ref() as _).collect();
                let row = c
                    .query_one(&format!("SELECT COUNT(*) FROM certificates{clause}"), &refs)
                    .map_err(|e| pg_error(location, &e))?;
                let n: i64 = row.try_get(0).map_err(|e| pg_error(location, &e))?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
        }
    }

    /// Whether the register holds no certificate at all.
    pub fn is_empty(&mut self) -> Result<bool> {
        let mut empty = true;
        self.for_each(&Query::default(), &mut |_| {
            empty = false;
            false
        })?;
        Ok(empty)
    }

    /// The CA directories the register serves: the id of each (see [`Register::serve`]) with
    /// the path it was first served at.
    pub fn served(&mut self) -> Result<Vec<(String, String)>> {
        let location = &self.location;
        let sql = "SELECT key, value FROM pki_register WHERE key LIKE 'serves:%' ORDER BY key";
        let rows: Vec<(String, String)> = match &mut self.db {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare(sql).map_err(|e| db_error(location, &e))?;
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .and_then(|rows| rows.collect())
                    .map_err(|e| db_error(location, &e))?
            }
            Db::Postgres(c) => c
                .query(sql, &[])
                .and_then(|rows| {
                    rows.iter()
                        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                        .collect()
                })
                .map_err(|e| pg_error(location, &e))?,
        };
        Ok(rows
            .into_iter()
            .map(|(k, v)| (k.trim_start_matches("serves:").to_owned(), v))
            .collect())
    }

    /// Records that the register serves the CA directory whose id is `id` (a random id the
    /// directory keeps), at `path`; a directory already recorded keeps its first path.
    pub fn serve(&mut self, id: &str, path: &str) -> Result<()> {
        let location = &self.location;
        let key = format!("serves:{id}");
        let sql =
            "INSERT INTO pki_register (key, value) VALUES (#1, #2) ON CONFLICT (key) DO NOTHING";
        match &mut self.db {
            Db::Sqlite(c) => c
                .execute(&sql.replace('#', "?"), [&key, path])
                .map(|_| ())
                .map_err(|e| db_error(location, &e)),
            Db::Postgres(c) => c
                .execute(&sql.replace('#', "$"), &[&key, &path])
                .map(|_| ())
                .map_err(|e| pg_error(location, &e)),
        }
    }

    /// Calls `each` with the serial of every row (a batch's re-run checks what it recorded).
    pub fn for_each_serial(&mut self, each: &mut dyn FnMut(&str)) -> Result<()> {
        let location = &self.location;
        let sql = "SELECT serial FROM certificates";
        match &mut self.db {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare(sql).map_err(|e| db_error(location, &e))?;
                let mut rows = stmt.query([]).map_err(|e| db_error(location, &e))?;
                while let Some(row) = rows.next().map_err(|e| db_error(location, &e))? {
                    let s: String = row.get(0).map_err(|e| db_error(location, &e))?;
                    each(&s);
                }
            }
            Db::Postgres(c) => {
                let mut rows = c
                    .query_raw(
                        sql,
                        std::iter::empty::<&(dyn postgres::types::ToSql + Sync)>(),
                    )
                    .map_err(|e| pg_error(location, &e))?;
                while let Some(row) = rows.next().map_err(|e| pg_error(location, &e))? {
                    let s: String = row.try_get(0).map_err(|e| pg_error(location, &e))?;
                    each(&s);
                }
            }
        }
        Ok(())
    }
}

enum Tx<'a> {
    Sqlite(rusqlite::Transaction<'a>),
    Postgres(postgres::Transaction<'a>),
}

/// Writes to the register that become visible together on [`Transaction::commit`].
pub struct Transaction<'a> {
    location: &'a Location,
    tx: Tx<'a>,
}

impl Transaction<'_> {
    /// Records newly issued certificates. A serial the issuer already used, or a certificate
    /// already recorded, fails the whole transaction ([`Error::DuplicateSerial`]).
    pub fn insert(&mut self, records: &[Record]) -> Result<()> {
        self.write(records, false).map(|_| ())
    }

    /// Records certificates found elsewhere (the `index.jsonl` being migrated), skipping those
    /// already recorded; returns how many were new.
    pub fn import(&mut self, records: &[Record]) -> Result<u64> {
        self.write(records, true)
    }

    fn write(&mut self, records: &[Record], skip_known: bool) -> Result<u64> {
        let location = self.location;
        let conflict = if skip_known {
            " ON CONFLICT DO NOTHING"
        } else {
            ""
        };
        let mut added = 0;
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                let sql = format!(
                    "INSERT INTO certificates ({COLUMNS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14){conflict}"
                );
                let mut stmt = tx
                    .prepare_cached(&sql)
                    .map_err(|e| db_error(location, &e))?;
                for r in records {
                    let n = stmt
                        .execute(rusqlite::params_from_iter(
                            row_params(r).iter().map(sqlite_param),
                        ))
                        .map_err(|e| {
                            insert_error(location, r, &e.to_string(), is_sqlite_unique(&e))
                        })?;
                    added += n as u64;
                }
            }
            Tx::Postgres(tx) => {
                let sql = format!(
                    "INSERT INTO certificates ({COLUMNS}) VALUES \
                     ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14){conflict}"
                );
                let stmt = tx.prepare(&sql).map_err(|e| pg_error(location, &e))?;
                for r in records {
                    let values = pg_params(&row_params(r));
                    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                        values.iter().map(|v| v.as_ref() as _).collect();
                    let n = tx.execute(&stmt, &refs).map_err(|e| {
                        let unique = e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION);
                        insert_error(location, r, &pg_reason(&e), unique)
                    })?;
                    added += n;
                }
            }
        }
        Ok(added)
    }

    /// Marks the certificate with SHA-256 `sha256` superseded (by `by`, the SHA-256 of its
    /// successor, when known). False when no issued certificate has that SHA-256.
    pub fn supersede(&mut self, sha256: &str, by: Option<&str>) -> Result<bool> {
        let n = self.update(
            "UPDATE certificates SET status = 'superseded', superseded_by = #1 \
             WHERE sha256 = #2 AND status = 'issued'",
            &[
                by.map_or(Param::NullText, |b| Param::Text(b.to_owned())),
                Param::Text(sha256.to_owned()),
            ],
        )?;
        Ok(n > 0)
    }

    /// Records where the file of the certificate with SHA-256 `sha256` now is (`path`, relative
    /// to the CA directory, or absolute outside it): a renewal keeps the certificate it replaces
    /// under another name.
    /// False when no row has that SHA-256.
    pub fn set_path(&mut self, sha256: &str, path: &str) -> Result<bool> {
        let n = self.update(
            "UPDATE certificates SET path = #1 WHERE sha256 = #2",
            &[Param::Text(path.to_owned()), Param::Text(sha256.to_owned())],
        )?;
        Ok(n > 0)
    }

    /// Marks the certificate with SHA-256 `sha256` revoked at `at` for `reason` (an issued or a
    /// superseded one: a renewed certificate stays valid until it expires, so it can be revoked
    /// too). The row is kept; revoking it again changes nothing and says when it was.
    pub fn revoke(
        &mut self,
        sha256: &str,
        at: OffsetDateTime,
        reason: Reason,
    ) -> Result<Revocation> {
        let n = self.update(
            "UPDATE certificates SET status = 'revoked', revoked_at = #1, revocation_reason = #2 \
             WHERE sha256 = #3 AND status <> 'revoked'",
            &[
                Param::Int(at.unix_timestamp()),
                Param::Text(reason.as_str().to_owned()),
                Param::Text(sha256.to_owned()),
            ],
        )?;
        if n > 0 {
            return Ok(Revocation::Revoked);
        }
        let query = Query {
            sha256: Some(sha256.to_owned()),
            ..Query::default()
        };
        let mut found = None;
        self.for_each(&query, &mut |r| {
            found = Some(r);
            false
        })?;
        Ok(match found {
            Some(r) => Revocation::AlreadyRevoked {
                at: r.revoked_at,
                reason: r.revocation_reason,
            },
            None => Revocation::NotFound,
        })
    }

    /// Marks every issued certificate superseded (a new PKI built over the old one).
    pub fn supersede_all(&mut self) -> Result<u64> {
        self.update(
            "UPDATE certificates SET status = 'superseded' WHERE status = 'issued'",
            &[],
        )
    }

    /// Runs an UPDATE whose parameters are written `#1`, `#2`, ...; returns the rows changed.
    fn update(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        let location = self.location;
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                let sql = sql.replace('#', "?");
                tx.execute(
                    &sql,
                    rusqlite::params_from_iter(params.iter().map(sqlite_param)),
                )
                .map(|n| n as u64)
                .map_err(|e| db_error(location, &e))
            }
            Tx::Postgres(tx) => {
                let sql = sql.replace('#', "$");
                let values = pg_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    values.iter().map(|v| v.as_ref() as _).collect();
                tx.execute(&sql, &refs).map_err(|e| pg_error(location, &e))
            }
        }
    }

    /// The next CRL number of the CA whose certificate has SHA-256 `issuer_sha256`: 1 for its
    /// first CRL, then one more than the last, whichever agent wrote it. Taken only when the
    /// transaction commits.
    ///
    /// `at_least` is the lowest number it may be (one more than the number of the CA's CRL
    /// already published): a register restored from an old backup, or that lost its numbers,
    /// never makes a number go back.
    pub fn next_crl_number(&mut self, issuer_sha256: &str, at_least: u64) -> Result<u64> {
        let location = self.location;
        let floor = i64::try_from(at_least.max(1)).unwrap_or(i64::MAX);
        let sql = |greatest: &str| {
            format!(
                "INSERT INTO crl_numbers (issuer_sha256, number) VALUES (#1, #2) \
                 ON CONFLICT (issuer_sha256) DO UPDATE \
                 SET number = {greatest}(crl_numbers.number + 1, #2) RETURNING number"
            )
        };
        let n: i64 = match &mut self.tx {
            Tx::Sqlite(tx) => tx
                .query_row(
                    &sql("max").replace('#', "?"),
                    rusqlite::params![issuer_sha256, floor],
                    |r| r.get(0),
                )
                .map_err(|e| db_error(location, &e))?,
            Tx::Postgres(tx) => tx
                .query_one(
                    &sql("GREATEST").replace('#', "$"),
                    &[&issuer_sha256, &floor],
                )
                .and_then(|r| r.try_get(0))
                .map_err(|e| pg_error(location, &e))?,
        };
        u64::try_from(n).map_err(|_| Error::NotARegister {
            location: location.to_string(),
            reason: format!("the CRL number of {issuer_sha256} is {n}"),
        })
    }

    /// Calls `each` with every row `query` selects, as [`Register::for_each`] does, seeing
    /// this transaction's own writes.
    pub fn for_each(&mut self, query: &Query, each: &mut dyn FnMut(Record) -> bool) -> Result<()> {
        let location = self.location;
        match &mut self.tx {
            Tx::Sqlite(tx) => sqlite_for_each(tx, location, query, each),
            Tx::Postgres(tx) => pg_for_each(tx, location, query, each),
        }
    }

    /// Makes the writes durable and visible to others.
    pub fn commit(self) -> Result<()> {
        let location = self.location;
        match self.tx {
            Tx::Sqlite(tx) => tx.commit().map_err(|e| db_error(location, &e)),
            Tx::Postgres(tx) => tx.commit().map_err(|e| pg_error(location, &e)),
        }
    }
}

/// The rows `query` selects from a SQLite connection (or transaction), in order, to `each`.
fn sqlite_for_each(
    c: &rusqlite::Connection,
    location: &Location,
    query: &Query,
    each: &mut dyn FnMut(Record) -> bool,
) -> Result<()> {
    let (clause, params) = query.sql(&SQLITE);
    let sql = format!("SELECT {COLUMNS} FROM certificates{clause} ORDER BY not_after, id");
    let mut stmt = c.prepare(&sql).map_err(|e| db_error(location, &e))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter().map(sqlite_param)))
        .map_err(|e| db_error(location, &e))?;
    while let Some(row) = rows.next().map_err(|e| db_error(location, &e))? {
        let columns = sqlite_columns(row).map_err(|e| db_error(location, &e))?;
        if !each(columns.record(location)?) {
            break;
        }
    }
    Ok(())
}

/// The rows `query` selects from a PostgreSQL client (or transaction), in order, to `each`.
fn pg_for_each(
    c: &mut impl postgres::GenericClient,
    location: &Location,
    query: &Query,
    each: &mut dyn FnMut(Record) -> bool,
) -> Result<()> {
    let (clause, params) = query.sql(&POSTGRES);
    let sql = format!("SELECT {COLUMNS} FROM certificates{clause} ORDER BY not_after, id");
    let values = pg_params(&params);
    let mut rows = c
        .query_raw(
            &sql,
            values
                .iter()
                .map(|v| v.as_ref() as &(dyn postgres::types::ToSql + Sync)),
        )
        .map_err(|e| pg_error(location, &e))?;
    while let Some(row) = rows.next().map_err(|e| pg_error(location, &e))? {
        if !each(pg_record(location, &row)?) {
            break;
        }
    }
    Ok(())
}

/// A row's values, in [`COLUMNS`] order.
fn row_params(r: &Record) -> [Param; 14] {
    let text = |s: &Option<String>| {
        s.as_ref()
            .map_or(Param::NullText, |s| Param::Text(s.clone()))
    };
    [
        Param::Text(r.serial.clone()),
        Param::Text(r.subject.clone()),
        Param::Text(r.common_name.clone()),
        Param::Text(r.issuer.clone()),
        text(&r.issuer_sha256),
        Param::Text(r.profile.clone()),
        Param::Int(r.not_before.unix_timestamp()),
        Param::Int(r.not_after.unix_timestamp()),
        Param::Text(r.sha256.clone()),
        Param::Text(r.path.clone()),
        Param::Text(r.status.as_str().to_owned()),
        text(&r.superseded_by),
        r.revoked_at
            .map_or(Param::NullInt, |t| Param::Int(t.unix_timestamp())),
        text(&r.revocation_reason),
    ]
}

/// A row as read back, from its columns in [`COLUMNS`] order.
struct Columns {
    /// serial, subject, common_name, issuer, profile, sha256, path.
    text: [String; 7],
    issuer_sha256: Option<String>,
    not_before: i64,
    not_after: i64,
    status: String,
    superseded_by: Option<String>,
    revoked_at: Option<i64>,
    revocation_reason: Option<String>,
}

impl Columns {
    fn record(self, location: &Location) -> Result<Record> {
        let bad = |what: &str| Error::NotARegister {
            location: location.to_string(),
            reason: format!("a row has {what}"),
        };
        let at =
            |t: i64| OffsetDateTime::from_unix_timestamp(t).map_err(|_| bad("a time out of range"));
        let [serial, subject, common_name, issuer, profile, sha256, path] = self.text;
        Ok(Record {
            serial,
            subject,
            common_name,
            issuer,
            issuer_sha256: self.issuer_sha256,
            profile,
            not_before: at(self.not_before)?,
            not_after: at(self.not_after)?,
            sha256,
            path,
            status: Status::parse(&self.status).ok_or_else(|| bad("an unknown status"))?,
            superseded_by: self.superseded_by,
            revoked_at: self.revoked_at.map(at).transpose()?,
            revocation_reason: self.revocation_reason,
        })
    }
}

fn sqlite_columns(row: &rusqlite::Row<'_>) -> rusqlite::Result<Columns> {
    Ok(Columns {
        text: [
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(5)?,
            row.get(8)?,
            row.get(9)?,
        ],
        issuer_sha256: row.get(4)?,
        not_before: row.get(6)?,
        not_after: row.get(7)?,
        status: row.get(10)?,
        superseded_by: row.get(11)?,
        revoked_at: row.get(12)?,
        revocation_reason: row.get(13)?,
    })
}

fn pg_record(location: &Location, row: &postgres::Row) -> Result<Record> {
    let get = |e: postgres::Error| pg_error(location, &e);
    Columns {
        text: [
            row.try_get(0).map_err(get)?,
            row.try_get(1).map_err(get)?,
            row.try_get(2).map_err(get)?,
            row.try_get(3).map_err(get)?,
            row.try_get(5).map_err(get)?,
            row.try_get(8).map_err(get)?,
            row.try_get(9).map_err(get)?,
        ],
        issuer_sha256: row.try_get(4).map_err(get)?,
        not_before: row.try_get(6).map_err(get)?,
        not_after: row.try_get(7).map_err(get)?,
        status: row.try_get(10).map_err(get)?,
        superseded_by: row.try_get(11).map_err(get)?,
        revoked_at: row.try_get(12).map_err(get)?,
        revocation_reason: row.try_get(13).map_err(get)?,
    }
    .record(location)
}

fn sqlite_param(p: &Param) -> rusqlite::types::Value {
    match p {
        Param::Text(s) => rusqlite::types::Value::Text(s.clone()),
        Param::Int(i) => rusqlite::types::Value::Integer(*i),
        Param::NullText | Param::NullInt => rusqlite::types::Value::Null,
    }
}

fn pg_params(params: &[Param]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|p| -> Box<dyn postgres::types::ToSql + Sync> {
            match p {
                Param::Text(s) => Box::new(s.clone()),
                Param::Int(i) => Box::new(*i),
                Param::NullText => Box::new(None::<String>),
                Param::NullInt => Box::new(None::<i64>),
            }
        })
        .collect()
}

fn is_sqlite_unique(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation)
    )
}

fn insert_error(location: &Location, r: &Record, reason: &str, unique: bool) -> Error {
    if unique {
        Error::DuplicateSerial {
            location: location.to_string(),
            serial: r.serial.clone(),
            issuer: r.issuer.clone(),
        }
    } else {
        Error::Database {
            location: location.to_string(),
            reason: reason.to_owned(),
        }
    }
}

fn db_error(location: &Location, e: &rusqlite::Error) -> Error {
    Error::Database {
        location: location.to_string(),
        reason: e.to_string(),
    }
}

/// PostgreSQL's own message (the driver's top-level text is often just "db error").
pub(crate) fn pg_reason(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_owned(),
        None => {
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                reason = format!("{reason}: {s}");
                source = s.source();
            }
            reason
        }
    }
}

fn pg_error(location: &Location, e: &postgres::Error) -> Error {
    Error::Database {
        location: location.to_string(),
        reason: pg_reason(e),
    }
}

/// The page cache of a SQLite register, in KiB as `PRAGMA cache_size` takes it (negative): enough
/// for the indexes of a few hundred thousand rows, used only as pages are read.
const SQLITE_CACHE_KIB: i64 = -65536;

/// Opens (creating when absent, 0644 whatever the umask) a SQLite register.
fn open_sqlite(path: &Path, location: &Location) -> Result<rusqlite::Connection> {
    let unreachable = |reason: String| Error::Unreachable {
        location: location.to_string(),
        reason,
    };
    if !path.exists() {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o644);
        }
        match opts.open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(unreachable(e.to_string())),
        }
    }
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut c = rusqlite::Connection::open_with_flags(path, flags)
        .map_err(|e| unreachable(e.to_string()))?;
    c.busy_timeout(busy_wait().1)
        .map_err(|e| unreachable(e.to_string()))?;
    let not_a_register = |reason: String| Error::NotARegister {
        location: location.to_string(),
        reason,
    };
    // A file that is not SQLite fails on its first read.
    let tables: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'pki_register'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => {
                not_a_register("not a SQLite database".into())
            }
            _ => unreachable(e.to_string()),
        })?;
    c.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| unreachable(e.to_string()))?;
    // A batch's chunk inserts rows whose serials and fingerprints land all over their indexes:
    // with SQLite's default 2 MiB page cache, each commit reads back the index pages it evicted.
    c.pragma_update(None, "cache_size", SQLITE_CACHE_KIB)
        .map_err(|e| unreachable(e.to_string()))?;
    if tables == 0 {
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
            .map_err(|e| unreachable(e.to_string()))?;
        let others: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| unreachable(e.to_string()))?;
        let ours: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'pki_register'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| unreachable(e.to_string()))?;
        if ours == 0 {
            if others > 0 {
                return Err(not_a_register(
                    "a SQLite database with tables of another application".into(),
                ));
            }
            tx.execute_batch(&schema_v1(&SQLITE))
                .map_err(|e| unreachable(e.to_string()))?;
            tx.execute(
                "INSERT INTO pki_register (key, value) VALUES ('format', 'pki register'), ('version', '1')",
                [],
            )
            .map_err(|e| unreachable(e.to_string()))?;
        }
        tx.commit().map_err(|e| unreachable(e.to_string()))?;
    }
    let version = |c: &rusqlite::Connection| -> Result<u32> {
        let text: Option<String> = c
            .query_row(
                "SELECT value FROM pki_register WHERE key = 'version'",
                [],
                |r| r.get::<_, String>(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(not_a_register(e.to_string())),
            })?;
        check_version(location, text.as_deref())
    };
    if version(&c)? < crate::SCHEMA_VERSION {
        // Upgraded in place, once: whoever takes the lock first migrates, the others see it done.
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
            .map_err(|e| unreachable(e.to_string()))?;
        if version(&tx)? < 2 {
            tx.execute_batch(SCHEMA_V2)
                .map_err(|e| unreachable(e.to_string()))?;
        }
        tx.commit().map_err(|e| unreachable(e.to_string()))?;
    }
    Ok(c)
}

/// Refuses a register without a version, or of a newer schema; the version otherwise.
fn check_version(location: &Location, version: Option<&str>) -> Result<u32> {
    let found: u32 = version
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Error::NotARegister {
            location: location.to_string(),
            reason: "no schema version".into(),
        })?;
    if found > crate::SCHEMA_VERSION {
        return Err(Error::Newer {
            location: location.to_string(),
            found,
            supported: crate::SCHEMA_VERSION,
        });
    }
    Ok(found)
}

/// Connects to a PostgreSQL register, creating its tables (under an advisory lock) in a
/// database that has none.
fn open_postgres(location: &Location) -> Result<postgres::Client> {
    let unreachable = |reason: String| Error::Unreachable {
        location: location.to_string(),
        reason,
    };
    let url = location.url().unwrap_or_default();
    let mut config: postgres::Config =
        url.parse()
            .map_err(|e: postgres::Error| Error::BadLocation {
                given: location.to_string(),
                reason: pg_reason(&e),
            })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    config.application_name("pki");
    let mut c = config
        .connect(postgres::NoTls)
        .map_err(|e| unreachable(pg_reason(&e)))?;
    let mut tx = c.transaction().map_err(|e| unreachable(pg_reason(&e)))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .map_err(|e| unreachable(pg_reason(&e)))?;
    let exists = |tx: &mut postgres::Transaction<'_>, table: &str| -> Result<bool> {
        tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .and_then(|r| r.try_get::<_, bool>(0))
            .map_err(|e| unreachable(pg_reason(&e)))
    };
    if !exists(&mut tx, "pki_register")? {
        if exists(&mut tx, "certificates")? {
            return Err(Error::NotARegister {
                location: location.to_string(),
                reason: "the database has a certificates table of another application".into(),
            });
        }
        tx.batch_execute(&schema_v1(&POSTGRES))
            .map_err(|e| unreachable(pg_reason(&e)))?;
        tx.execute(
            "INSERT INTO pki_register (key, value) VALUES ('format', 'pki register'), ('version', '1')",
            &[],
        )
        .map_err(|e| unreachable(pg_reason(&e)))?;
    }
    let version: Option<String> = tx
        .query_opt("SELECT value FROM pki_register WHERE key = 'version'", &[])
        .map_err(|e| unreachable(pg_reason(&e)))?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(|e| unreachable(pg_reason(&e)))?;
    // Upgraded in place under the same lock: one agent migrates, the others see it done.
    if check_version(location, version.as_deref())? < 2 {
        tx.batch_execute(SCHEMA_V2)
            .map_err(|e| unreachable(pg_reason(&e)))?;
    }
    tx.commit().map_err(|e| unreachable(pg_reason(&e)))?;
    Ok(c)
}
