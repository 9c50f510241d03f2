//! The register's public face ([`Register`], [`Transaction`]) over the two databases it can be
//! kept in, and what both share: the schema, the SQL of every operation, and how a row maps to a
//! [`Record`]. Each database is one file behind the [`Backend`] trait: `backend/sqlite.rs`
//! (rusqlite, the library compiled in, so that nothing needs installing) and
//! `backend/postgres.rs` (the `postgres` crate); each opens its database, creates or upgrades
//! the schema, and runs the statements it is given, in its dialect ([`Dialect`]). Which one a
//! register uses is chosen once, from its [`Location`], in [`Register::open`].

mod postgres;
mod sqlite;

use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::location::Location;
use crate::query::{Dialect, Param, Query};
use crate::record::{Reason, Record, Revocation, Status};

pub(crate) use self::postgres::pg_reason;
pub use self::sqlite::set_in_renew_hook;

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

/// What takes a register of schema version 2 to version 3: one-time enrolment secrets (their
/// salted hashes, never the secrets) and the failed attempts to use them, counted per key and
/// minute. `{id}` as in [`SCHEMA_V1`].
const SCHEMA_V3: &str = "
CREATE TABLE enrolment_secrets (
    id {id},
    device_id TEXT NOT NULL,
    label TEXT,
    salt TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT,
    serial TEXT
);
CREATE INDEX enrolment_secrets_by_device ON enrolment_secrets (device_id);
CREATE TABLE auth_failures (
    key TEXT NOT NULL,
    minute BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (key, minute)
);
CREATE INDEX auth_failures_by_minute ON auth_failures (minute);
UPDATE pki_register SET value = '3' WHERE key = 'version';
";

/// What takes a register of schema version 3 to version 4: the CN index also holds the
/// status, so that what one name has in service (the EST server's question at every new
/// enrolment) is read from the index alone, however many superseded certificates the name
/// has had. `{cn_ops}` as in [`SCHEMA_V1`].
const SCHEMA_V4: &str = "
DROP INDEX certificates_by_cn;
CREATE INDEX certificates_by_cn ON certificates (common_name{cn_ops}, status);
UPDATE pki_register SET value = '4' WHERE key = 'version';
";

/// Schema version 4's change in `dialect`'s words.
fn schema_v4(dialect: &Dialect) -> String {
    SCHEMA_V4.replace("{cn_ops}", dialect.cn_ops)
}

/// Schema version 1 in `dialect`'s words.
fn schema_v1(dialect: &Dialect) -> String {
    SCHEMA_V1
        .replace("{id}", dialect.id_column)
        .replace("{cn_ops}", dialect.cn_ops)
}

/// Schema version 3's additions in `dialect`'s words.
fn schema_v3(dialect: &Dialect) -> String {
    SCHEMA_V3.replace("{id}", dialect.id_column)
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

/// Statements on a database connection or in one of its transactions, whatever the database.
/// Their parameters are written in the [`Dialect`]'s words ([`Dialect::numbered`]); a failure is
/// an [`Error::Database`] naming the register.
pub(crate) trait Sql {
    /// How this database words what differs.
    fn dialect(&self) -> &'static Dialect;

    /// Runs a statement that returns no rows; returns how many rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64>;

    /// Runs a statement and calls `each` with its rows, streaming, until it returns false.
    fn query(
        &mut self,
        sql: &str,
        params: &[Param],
        each: &mut dyn FnMut(&dyn Row) -> Result<bool>,
    ) -> Result<()>;
}

/// One row of a result, read by column index.
pub(crate) trait Row {
    /// A text column.
    fn text(&self, i: usize) -> Result<String>;
    /// A text column that may be NULL.
    fn opt_text(&self, i: usize) -> Result<Option<String>>;
    /// An integer column.
    fn int(&self, i: usize) -> Result<i64>;
    /// An integer column that may be NULL.
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
}

/// An open database: statements outside a transaction, and transactions.
pub(crate) trait Backend: Sql + Send {
    /// Starts a transaction (a SQLite one takes the write lock at once).
    fn transaction(&mut self) -> Result<Box<dyn Writes + '_>>;

    /// Plans each statement once, whatever values are bound to it ([`Register::keep_plans`]).
    fn keep_plans(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A transaction: statements that become visible together on [`Writes::commit`], nothing of
/// them when it is dropped without.
pub(crate) trait Writes: Sql {
    /// Runs the INSERT `sql` (its parameters in [`COLUMNS`] order) once for each record, as one
    /// prepared statement; returns how many rows were added. A unique constraint violated is
    /// [`Error::DuplicateSerial`].
    fn insert(&mut self, sql: &str, records: &[Record]) -> Result<u64>;

    /// Makes the writes durable and visible to others.
    fn commit(self: Box<Self>) -> Result<()>;
}

/// An open register.
pub struct Register {
    pub(crate) location: Location,
    pub(crate) db: Box<dyn Backend>,
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
        let db: Box<dyn Backend> = match &location {
            Location::Sqlite(path) => Box::new(sqlite::Sqlite::open(path, &location)?),
            Location::Postgres(_) => Box::new(postgres::Postgres::open(&location)?),
        };
        Ok(Register { location, db })
    }

    /// Keeps each statement's query plan whatever values are later bound to it (SQLite's query
    /// planner stability guarantee; nothing for PostgreSQL). A connection that lives long and
    /// asks the same questions with new values (a server's) then reuses its prepared
    /// statements: otherwise SQLite prepares a statement again at each new binding when its
    /// plan may depend on a bound value, as the rows of one profile in notAfter order do. The
    /// cost: no plan uses a bound value, so a bound GLOB pattern's prefix no longer narrows an
    /// index scan (for `pki list --cn`, which does not keep plans).
    pub fn keep_plans(&mut self) -> Result<()> {
        self.db.keep_plans()
    }

    /// Where the register is (a URL's password hidden when displayed).
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Starts a transaction: its writes are seen by others, all together, only on
    /// [`Transaction::commit`]; dropped without it, nothing was written. A SQLite transaction
    /// takes the write lock at once (so two writers queue instead of failing later).
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        Ok(Transaction {
            location: &self.location,
            tx: self.db.transaction()?,
        })
    }

    /// Calls `each` with every row `query` selects, ordered by notAfter then by recording order,
    /// streaming (rows are not collected first); `each` returns false to stop.
    pub fn for_each(&mut self, query: &Query, each: &mut dyn FnMut(Record) -> bool) -> Result<()> {
        for_each(self.db.as_mut(), &self.location, query, each)
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
        let (clause, params) = query.sql(self.db.dialect());
        let mut n = 0;
        self.db.query(
            &format!("SELECT COUNT(*) FROM certificates{clause}"),
            &params,
            &mut |row| {
                n = row.int(0)?;
                Ok(false)
            },
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
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
        let sql = "SELECT key, value FROM pki_register WHERE key LIKE 'serves:%' ORDER BY key";
        let mut rows = Vec::new();
        self.db.query(sql, &[], &mut |row| {
            let key = row.text(0)?;
            rows.push((key.trim_start_matches("serves:").to_owned(), row.text(1)?));
            Ok(true)
        })?;
        Ok(rows)
    }

    /// Records that the register serves the CA directory whose id is `id` (a random id the
    /// directory keeps), at `path`; a directory already recorded keeps its first path.
    pub fn serve(&mut self, id: &str, path: &str) -> Result<()> {
        let sql = self.db.dialect().numbered(
            "INSERT INTO pki_register (key, value) VALUES (#1, #2) ON CONFLICT (key) DO NOTHING",
        );
        self.db
            .execute(
                &sql,
                &[
                    Param::Text(format!("serves:{id}")),
                    Param::Text(path.to_owned()),
                ],
            )
            .map(|_| ())
    }

    /// Calls `each` with the serial of every row (a batch's re-run checks what it recorded).
    pub fn for_each_serial(&mut self, each: &mut dyn FnMut(&str)) -> Result<()> {
        self.db
            .query("SELECT serial FROM certificates", &[], &mut |row| {
                each(&row.text(0)?);
                Ok(true)
            })
    }
}

/// Writes to the register that become visible together on [`Transaction::commit`].
pub struct Transaction<'a> {
    pub(crate) location: &'a Location,
    pub(crate) tx: Box<dyn Writes + 'a>,
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
        let conflict = if skip_known {
            " ON CONFLICT DO NOTHING"
        } else {
            ""
        };
        let sql = self.tx.dialect().numbered(&format!(
            "INSERT INTO certificates ({COLUMNS}) VALUES \
             (#1, #2, #3, #4, #5, #6, #7, #8, #9, #10, #11, #12, #13, #14){conflict}"
        ));
        self.tx.insert(&sql, records)
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
        let sql = self.tx.dialect().numbered(sql);
        self.tx.execute(&sql, params)
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
        let dialect = self.tx.dialect();
        let sql = dialect.numbered(&format!(
            "INSERT INTO crl_numbers (issuer_sha256, number) VALUES (#1, #2) \
             ON CONFLICT (issuer_sha256) DO UPDATE \
             SET number = {}(crl_numbers.number + 1, #2) RETURNING number",
            dialect.greatest
        ));
        let mut n = None;
        self.tx.query(
            &sql,
            &[Param::Text(issuer_sha256.to_owned()), Param::Int(floor)],
            &mut |row| {
                n = Some(row.int(0)?);
                Ok(false)
            },
        )?;
        let n = n.ok_or_else(|| Error::Database {
            location: location.to_string(),
            reason: "the CRL number's upsert returned no row".into(),
        })?;
        u64::try_from(n).map_err(|_| Error::NotARegister {
            location: location.to_string(),
            reason: format!("the CRL number of {issuer_sha256} is {n}"),
        })
    }

    /// Calls `each` with every row `query` selects, as [`Register::for_each`] does, seeing
    /// this transaction's own writes.
    pub fn for_each(&mut self, query: &Query, each: &mut dyn FnMut(Record) -> bool) -> Result<()> {
        for_each(self.tx.as_mut(), self.location, query, each)
    }

    /// Makes the writes durable and visible to others.
    pub fn commit(self) -> Result<()> {
        self.tx.commit()
    }
}

/// The rows `query` selects, in order, to `each`.
fn for_each<D: Sql + ?Sized>(
    db: &mut D,
    location: &Location,
    query: &Query,
    each: &mut dyn FnMut(Record) -> bool,
) -> Result<()> {
    let (clause, params) = query.sql(db.dialect());
    let sql = format!("SELECT {COLUMNS} FROM certificates{clause} ORDER BY not_after, id");
    db.query(&sql, &params, &mut |row| {
        Ok(each(Columns::read(row)?.record(location)?))
    })
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

impl Columns {
    /// The columns of `row`, in [`COLUMNS`] order.
    fn read(row: &dyn Row) -> Result<Columns> {
        Ok(Columns {
            text: [
                row.text(0)?,
                row.text(1)?,
                row.text(2)?,
                row.text(3)?,
                row.text(5)?,
                row.text(8)?,
                row.text(9)?,
            ],
            issuer_sha256: row.opt_text(4)?,
            not_before: row.int(6)?,
            not_after: row.int(7)?,
            status: row.text(10)?,
            superseded_by: row.opt_text(11)?,
            revoked_at: row.opt_int(12)?,
            revocation_reason: row.opt_text(13)?,
        })
    }
}

/// The error of an INSERT of `r` that failed for `reason`: [`Error::DuplicateSerial`] when a
/// unique constraint was `unique`ly violated.
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
