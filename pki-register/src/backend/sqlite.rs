//! The register in SQLite (rusqlite, the library compiled in, so that nothing needs installing):
//! one file, created 0644 when absent, written in transactions that take the write lock at once
//! and wait for another writer ([`set_in_renew_hook`] says how long).

use std::path::Path;
use std::time::Duration;

use super::{
    Backend, Row, SCHEMA_V2, Sql, Writes, check_version, insert_error, row_params, schema_v1,
    schema_v3, schema_v4,
};
use crate::error::{Error, Result};
use crate::location::Location;
use crate::query::{Dialect, Param};
use crate::record::Record;

/// SQLite's words.
const DIALECT: Dialect = Dialect {
    placeholder: |n| format!("?{n}"),
    postgres: false,
    // The row id itself, numbered without reuse.
    id_column: "INTEGER PRIMARY KEY AUTOINCREMENT",
    cn_ops: "",
    greatest: "max",
};

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

/// An open SQLite register.
pub(super) struct Sqlite {
    c: rusqlite::Connection,
    location: Location,
}

impl Sqlite {
    /// Opens (creating when absent) the SQLite register at `path`, `location` in messages.
    pub(super) fn open(path: &Path, location: &Location) -> Result<Sqlite> {
        Ok(Sqlite {
            c: connect(path, location)?,
            location: location.clone(),
        })
    }
}

impl Sql for Sqlite {
    fn dialect(&self) -> &'static Dialect {
        &DIALECT
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        execute(&self.c, &self.location, sql, params)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Param],
        each: &mut dyn FnMut(&dyn Row) -> Result<bool>,
    ) -> Result<()> {
        query(&self.c, &self.location, sql, params, each)
    }
}

impl Backend for Sqlite {
    fn transaction(&mut self) -> Result<Box<dyn Writes + '_>> {
        let location = &self.location;
        let tx = self
            .c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
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
            })?;
        Ok(Box::new(SqliteTx { tx, location }))
    }

    fn keep_plans(&mut self) -> Result<()> {
        self.c
            .set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
                true,
            )
            .map(|_| ())
            .map_err(|e| db_error(&self.location, &e))
    }
}

/// A transaction on a SQLite register, holding its write lock.
struct SqliteTx<'a> {
    tx: rusqlite::Transaction<'a>,
    location: &'a Location,
}

impl Sql for SqliteTx<'_> {
    fn dialect(&self) -> &'static Dialect {
        &DIALECT
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        execute(&self.tx, self.location, sql, params)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Param],
        each: &mut dyn FnMut(&dyn Row) -> Result<bool>,
    ) -> Result<()> {
        query(&self.tx, self.location, sql, params, each)
    }
}

impl Writes for SqliteTx<'_> {
    fn insert(&mut self, sql: &str, records: &[Record]) -> Result<u64> {
        let location = self.location;
        let mut stmt = self
            .tx
            .prepare_cached(sql)
            .map_err(|e| db_error(location, &e))?;
        let mut added = 0;
        for r in records {
            let n = stmt
                .execute(rusqlite::params_from_iter(row_params(r).iter().map(value)))
                .map_err(|e| insert_error(location, r, &e.to_string(), is_unique(&e)))?;
            added += n as u64;
        }
        Ok(added)
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let location = self.location;
        self.tx.commit().map_err(|e| db_error(location, &e))
    }
}

/// Runs `sql` on a connection (or transaction); the rows it changed.
fn execute(
    c: &rusqlite::Connection,
    location: &Location,
    sql: &str,
    params: &[Param],
) -> Result<u64> {
    c.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(rusqlite::params_from_iter(params.iter().map(value))))
        .map(|n| n as u64)
        .map_err(|e| db_error(location, &e))
}

/// Runs `sql` on a connection (or transaction), its rows to `each` until it returns false.
fn query(
    c: &rusqlite::Connection,
    location: &Location,
    sql: &str,
    params: &[Param],
    each: &mut dyn FnMut(&dyn Row) -> Result<bool>,
) -> Result<()> {
    // Cached: a server asks the same few questions on one connection request after request,
    // and parsing a statement costs more than running it on an index.
    let mut stmt = c.prepare_cached(sql).map_err(|e| db_error(location, &e))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter().map(value)))
        .map_err(|e| db_error(location, &e))?;
    while let Some(row) = rows.next().map_err(|e| db_error(location, &e))? {
        if !each(&SqliteRow { row, location })? {
            break;
        }
    }
    Ok(())
}

/// A SQLite row, its read errors naming the register.
struct SqliteRow<'r> {
    row: &'r rusqlite::Row<'r>,
    location: &'r Location,
}

impl SqliteRow<'_> {
    fn get<T: rusqlite::types::FromSql>(&self, i: usize) -> Result<T> {
        self.row.get(i).map_err(|e| db_error(self.location, &e))
    }
}

impl Row for SqliteRow<'_> {
    fn text(&self, i: usize) -> Result<String> {
        self.get(i)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        self.get(i)
    }
    fn int(&self, i: usize) -> Result<i64> {
        self.get(i)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        self.get(i)
    }
}

/// A parameter as SQLite takes it.
fn value(p: &Param) -> rusqlite::types::Value {
    match p {
        Param::Text(s) => rusqlite::types::Value::Text(s.clone()),
        Param::Int(i) => rusqlite::types::Value::Integer(*i),
        Param::NullText | Param::NullInt => rusqlite::types::Value::Null,
    }
}

/// Whether `e` is a constraint violated (a serial or a certificate recorded twice).
fn is_unique(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation)
    )
}

fn db_error(location: &Location, e: &rusqlite::Error) -> Error {
    Error::Database {
        location: location.to_string(),
        reason: e.to_string(),
    }
}

/// The page cache of a SQLite register, in KiB as `PRAGMA cache_size` takes it (negative): enough
/// for the indexes of a few hundred thousand rows, used only as pages are read.
const SQLITE_CACHE_KIB: i64 = -65536;

/// Opens (creating when absent, 0644 whatever the umask) a SQLite register.
fn connect(path: &Path, location: &Location) -> Result<rusqlite::Connection> {
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
            tx.execute_batch(&schema_v1(&DIALECT))
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
        let from = version(&tx)?;
        if from < 2 {
            tx.execute_batch(SCHEMA_V2)
                .map_err(|e| unreachable(e.to_string()))?;
        }
        if from < 3 {
            tx.execute_batch(&schema_v3(&DIALECT))
                .map_err(|e| unreachable(e.to_string()))?;
        }
        if from < 4 {
            tx.execute_batch(&schema_v4(&DIALECT))
                .map_err(|e| unreachable(e.to_string()))?;
        }
        tx.commit().map_err(|e| unreachable(e.to_string()))?;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Query, Register, Status};

    /// How often the statement of one profile's rows was prepared again after `runs` runs, on a
    /// register holding a row of each of two profiles.
    fn reprepared(keep_plans: bool, runs: usize) -> i32 {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::in_ca_dir(dir.path());
        let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let record = |i: u8, profile: &str| Record {
            serial: format!("{i:02X}"),
            subject: format!("CN = n{i}"),
            common_name: format!("n{i}"),
            issuer: "CN = CA".into(),
            issuer_sha256: None,
            profile: profile.into(),
            not_before: now,
            not_after: now + time::Duration::days(i.into()),
            sha256: format!("{i:064X}"),
            path: format!("certs/n{i}.cert.pem"),
            status: Status::Issued,
            superseded_by: None,
            revoked_at: None,
            revocation_reason: None,
        };
        let mut register = Register::open(location.clone()).unwrap();
        let mut tx = register.transaction().unwrap();
        tx.insert(&[record(1, "edge-ca"), record(2, "device")])
            .unwrap();
        tx.commit().unwrap();
        drop(register);

        let Location::Sqlite(path) = &location else {
            unreachable!("a CA directory's register is SQLite")
        };
        let mut db = Sqlite::open(path, &location).unwrap();
        if keep_plans {
            db.keep_plans().unwrap();
        }
        let query = Query {
            profile: Some("edge-ca".into()),
            status: Some(Status::Issued),
            ..Query::default()
        };
        for _ in 0..runs {
            let mut rows = 0;
            super::super::for_each(&mut db, &location, &query, &mut |_| {
                rows += 1;
                true
            })
            .unwrap();
            assert_eq!(rows, 1);
        }
        // The statement `for_each` ran, from the connection's cache.
        let (clause, _) = query.sql(&DIALECT);
        let sql = format!(
            "SELECT {} FROM certificates{clause} ORDER BY not_after, id",
            super::super::COLUMNS
        );
        let stmt = db.c.prepare_cached(&sql).unwrap();
        stmt.get_status(rusqlite::StatementStatus::RePrepare)
    }

    #[test]
    fn kept_plans_are_not_prepared_again_at_each_binding() {
        assert!(
            reprepared(false, 3) >= 2,
            "SQLite prepares it again at each binding"
        );
        assert_eq!(reprepared(true, 3), 0);
    }
}

#[cfg(test)]
mod plans {
    use super::*;
    use crate::{Query, Register, Status};

    /// The query plan of the rows `query` selects, on a connection that keeps its plans.
    fn plan(query: &Query) -> String {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::in_ca_dir(dir.path());
        drop(Register::open(location.clone()).unwrap());
        let Location::Sqlite(path) = &location else {
            unreachable!("a CA directory's register is SQLite")
        };
        let mut db = Sqlite::open(path, &location).unwrap();
        db.keep_plans().unwrap();
        let (clause, params) = query.sql(&DIALECT);
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT {} FROM certificates{clause} ORDER BY not_after, id",
            super::super::COLUMNS
        );
        let mut stmt = db.c.prepare(&sql).unwrap();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter().map(value)))
            .unwrap();
        let mut out = String::new();
        while let Some(row) = rows.next().unwrap() {
            out.push_str(&row.get::<_, String>(3).unwrap());
            out.push('\n');
        }
        out
    }

    /// The EST server's question at every new enrolment (what the name has in service under a
    /// profile) is answered from the CN index, not by reading every certificate of the profile.
    #[test]
    fn one_name_reaches_the_cn_index_on_a_connection_that_keeps_its_plans() {
        let query = |cn: &str| Query {
            profile: Some("device".into()),
            status: Some(Status::Issued),
            common_name: Some(cn.into()),
            ..Query::default()
        };
        let exact = plan(&query("dev-1"));
        // The name's rows in service, from the index: not every certificate the name ever had.
        assert!(
            exact.contains("certificates_by_cn (common_name=? AND status=?)"),
            "{exact}"
        );
        // A pattern's prefix would need a plan made for its value.
        let pattern = plan(&query("dev-*"));
        assert!(!pattern.contains("certificates_by_cn"), "{pattern}");
    }
}
