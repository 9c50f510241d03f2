//! The register in PostgreSQL (the `postgres` crate), for build agents sharing one CA: the
//! schema created under an advisory lock by whichever agent comes first, every statement's
//! parameters typed as PostgreSQL wants them, and PostgreSQL's own message in every error.

use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::ToSql;

use super::{
    Backend, Row, SCHEMA_V2, Sql, Writes, check_version, insert_error, row_params, schema_v1,
    schema_v3, schema_v4,
};
use crate::error::{Error, Result};
use crate::location::Location;
use crate::query::{Dialect, Param};
use crate::record::Record;

/// PostgreSQL's words.
const DIALECT: Dialect = Dialect {
    placeholder: |n| format!("${n}"),
    postgres: true,
    id_column: "BIGSERIAL PRIMARY KEY",
    // So that a CN pattern with a fixed start (`line-7-*`) uses the index whatever the locale.
    cn_ops: " text_pattern_ops",
    greatest: "GREATEST",
};

/// The key of the advisory lock under which a PostgreSQL register's schema is created, so that
/// two agents opening an empty database at once do not both create it.
const SCHEMA_LOCK: i64 = 0x706b_6952_6567; // "pkiReg"

/// How long connecting to PostgreSQL may take unless the URL says otherwise.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An open PostgreSQL register.
pub(super) struct Postgres {
    c: postgres::Client,
    location: Location,
}

impl Postgres {
    /// Connects to the PostgreSQL register at `location`.
    pub(super) fn open(location: &Location) -> Result<Postgres> {
        Ok(Postgres {
            c: connect(location)?,
            location: location.clone(),
        })
    }
}

impl Sql for Postgres {
    fn dialect(&self) -> &'static Dialect {
        &DIALECT
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        execute(&mut self.c, &self.location, sql, params)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Param],
        each: &mut dyn FnMut(&dyn Row) -> Result<bool>,
    ) -> Result<()> {
        query(&mut self.c, &self.location, sql, params, each)
    }
}

impl Backend for Postgres {
    fn transaction(&mut self) -> Result<Box<dyn Writes + '_>> {
        let location = &self.location;
        let tx = self.c.transaction().map_err(|e| pg_error(location, &e))?;
        Ok(Box::new(PostgresTx { tx, location }))
    }
}

/// A transaction on a PostgreSQL register.
struct PostgresTx<'a> {
    tx: postgres::Transaction<'a>,
    location: &'a Location,
}

impl Sql for PostgresTx<'_> {
    fn dialect(&self) -> &'static Dialect {
        &DIALECT
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        execute(&mut self.tx, self.location, sql, params)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Param],
        each: &mut dyn FnMut(&dyn Row) -> Result<bool>,
    ) -> Result<()> {
        query(&mut self.tx, self.location, sql, params, each)
    }
}

impl Writes for PostgresTx<'_> {
    fn insert(&mut self, sql: &str, records: &[Record]) -> Result<u64> {
        let location = self.location;
        let stmt = self.tx.prepare(sql).map_err(|e| pg_error(location, &e))?;
        let mut added = 0;
        for r in records {
            let values = values(&row_params(r));
            let n = self.tx.execute(&stmt, &refs(&values)).map_err(|e| {
                let unique = e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION);
                insert_error(location, r, &pg_reason(&e), unique)
            })?;
            added += n;
        }
        Ok(added)
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let location = self.location;
        self.tx.commit().map_err(|e| pg_error(location, &e))
    }
}

/// Runs `sql` on a client (or transaction); the rows it changed.
fn execute(
    c: &mut impl postgres::GenericClient,
    location: &Location,
    sql: &str,
    params: &[Param],
) -> Result<u64> {
    let values = values(params);
    c.execute(sql, &refs(&values))
        .map_err(|e| pg_error(location, &e))
}

/// Runs `sql` on a client (or transaction), its rows to `each` until it returns false.
fn query(
    c: &mut impl postgres::GenericClient,
    location: &Location,
    sql: &str,
    params: &[Param],
    each: &mut dyn FnMut(&dyn Row) -> Result<bool>,
) -> Result<()> {
    let values = values(params);
    let mut rows = c
        .query_raw(
            sql,
            values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)),
        )
        .map_err(|e| pg_error(location, &e))?;
    while let Some(row) = rows.next().map_err(|e| pg_error(location, &e))? {
        if !each(&PostgresRow {
            row: &row,
            location,
        })? {
            break;
        }
    }
    Ok(())
}

/// A PostgreSQL row, its read errors naming the register.
struct PostgresRow<'r> {
    row: &'r postgres::Row,
    location: &'r Location,
}

impl PostgresRow<'_> {
    fn get<'r, T: postgres::types::FromSql<'r>>(&'r self, i: usize) -> Result<T> {
        self.row.try_get(i).map_err(|e| pg_error(self.location, &e))
    }
}

impl Row for PostgresRow<'_> {
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

/// The parameters as PostgreSQL takes them (a NULL typed).
fn values(params: &[Param]) -> Vec<Box<dyn ToSql + Sync>> {
    params
        .iter()
        .map(|p| -> Box<dyn ToSql + Sync> {
            match p {
                Param::Text(s) => Box::new(s.clone()),
                Param::Int(i) => Box::new(*i),
                Param::NullText => Box::new(None::<String>),
                Param::NullInt => Box::new(None::<i64>),
            }
        })
        .collect()
}

/// `values` as the driver's calls take them.
fn refs(values: &[Box<dyn ToSql + Sync>]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v.as_ref() as _).collect()
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

/// Connects to a PostgreSQL register, creating its tables (under an advisory lock) in a
/// database that has none.
fn connect(location: &Location) -> Result<postgres::Client> {
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
        tx.batch_execute(&schema_v1(&DIALECT))
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
    let from = check_version(location, version.as_deref())?;
    if from < 2 {
        tx.batch_execute(SCHEMA_V2)
            .map_err(|e| unreachable(pg_reason(&e)))?;
    }
    if from < 3 {
        tx.batch_execute(&schema_v3(&DIALECT))
            .map_err(|e| unreachable(pg_reason(&e)))?;
    }
    if from < 4 {
        tx.batch_execute(&schema_v4(&DIALECT))
            .map_err(|e| unreachable(pg_reason(&e)))?;
    }
    tx.commit().map_err(|e| unreachable(pg_reason(&e)))?;
    Ok(c)
}
