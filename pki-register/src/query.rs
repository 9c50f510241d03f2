//! Which rows to list: filters that the database answers through its indexes.

use time::OffsetDateTime;

use crate::record::Status;

/// A selection of rows; every filter left `None` selects all. Rows come ordered by notAfter,
/// then by the order they were recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Only this profile (`device`, `server`, `edge-ca`, ...).
    pub profile: Option<String>,
    /// Only certificates issued by the CA whose certificate has this SHA-256 (upper-case hex).
    pub issuer_sha256: Option<String>,
    /// Only CNs matching this pattern: `*` any run of characters, `?` one character; case
    /// matters.
    pub common_name: Option<String>,
    /// Only certificates whose notAfter is after this instant.
    pub expires_after: Option<OffsetDateTime>,
    /// Only certificates whose notAfter is at or before this instant.
    pub expires_by: Option<OffsetDateTime>,
    /// Only rows with this status.
    pub status: Option<Status>,
    /// Only the certificate with this serial (upper-case hex).
    pub serial: Option<String>,
    /// Only the certificate with this SHA-256 (upper-case hex).
    pub sha256: Option<String>,
    /// Leave out the certificates of these profiles (those not in service, such as
    /// proof-of-possession certificates, from expiry views and renewal).
    pub not_profiles: Vec<String>,
}

/// A parameter of a query, for either database.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
    /// A NULL text (PostgreSQL wants the type of a NULL).
    NullText,
    /// A NULL integer.
    NullInt,
}

/// How a backend writes the n-th parameter (`?1` in SQLite, `$1` in PostgreSQL), matches a CN
/// pattern, and words the two parts of the schema that differ.
pub(crate) struct Dialect {
    pub(crate) placeholder: fn(usize) -> String,
    pub(crate) postgres: bool,
    /// The type of the row id column.
    pub(crate) id_column: &'static str,
    /// The operator class of the CN index (with its leading space), if any.
    pub(crate) cn_ops: &'static str,
    /// The function that returns the greatest of its arguments (`max`, `GREATEST`).
    pub(crate) greatest: &'static str,
}

impl Dialect {
    /// `sql` with its parameters, written `#1`, `#2`, ..., in this dialect's words.
    pub(crate) fn numbered(&self, sql: &str) -> String {
        let mut out = String::with_capacity(sql.len());
        let mut rest = sql;
        while let Some(at) = rest.find('#') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            out.push_str(&(self.placeholder)(after[..digits].parse().unwrap_or(0)));
            rest = &after[digits..];
        }
        out.push_str(rest);
        out
    }
}

impl Query {
    /// The WHERE clause (empty, or starting with ` WHERE `) and its parameters.
    pub(crate) fn sql(&self, dialect: &Dialect) -> (String, Vec<Param>) {
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        let mut add = |clause: &str, p: Param| {
            params.push(p);
            clauses.push(clause.replace('#', &(dialect.placeholder)(params.len())));
        };
        // One name selects a row or two: SQLite, which keeps no statistics of a register, is
        // told to find them through the CN index, not through the profile's (which would
        // spare it sorting by notAfter, and read every certificate of the profile), by a
        // unary `+` that keeps the profile's term out of index use.
        let one_name = self
            .common_name
            .as_deref()
            .is_some_and(|n| !n.contains(['*', '?']));
        if let Some(p) = &self.profile {
            if one_name && !dialect.postgres {
                add("+profile = #", Param::Text(p.clone()));
            } else {
                add("profile = #", Param::Text(p.clone()));
            }
        }
        if let Some(s) = &self.issuer_sha256 {
            add("issuer_sha256 = #", Param::Text(s.clone()));
        }
        if let Some(pattern) = &self.common_name {
            if one_name {
                // One name: an equality, which reaches the CN index whatever the value bound
                // (a pattern's prefix does only when the plan is made for the value, which a
                // connection that keeps its plans, a server's, does not).
                add("common_name = #", Param::Text(pattern.clone()));
            } else if dialect.postgres {
                add("common_name LIKE # ESCAPE '\\'", Param::Text(like(pattern)));
            } else {
                add("common_name GLOB #", Param::Text(sqlite_glob(pattern)));
            }
        }
        if let Some(t) = self.expires_after {
            add("not_after > #", Param::Int(t.unix_timestamp()));
        }
        if let Some(t) = self.expires_by {
            add("not_after <= #", Param::Int(t.unix_timestamp()));
        }
        if let Some(s) = self.status {
            // With a window of notAfter, SQLite (without statistics) would rather take the
            // status index for its equality, and read every certificate of that status (most of
            // the register: the issued ones) to keep those in the window; the `+` keeps the
            // status out of index use, so the expiry index reads only the window's rows.
            let window = self.expires_after.is_some() || self.expires_by.is_some();
            if window && !dialect.postgres && !one_name {
                add("+status = #", Param::Text(s.as_str().to_owned()));
            } else {
                add("status = #", Param::Text(s.as_str().to_owned()));
            }
        }
        if let Some(s) = &self.serial {
            add("serial = #", Param::Text(s.clone()));
        }
        if let Some(s) = &self.sha256 {
            add("sha256 = #", Param::Text(s.clone()));
        }
        for p in &self.not_profiles {
            add("profile <> #", Param::Text(p.clone()));
        }
        let clause = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        (clause, params)
    }
}

/// A `*`/`?` pattern as SQL LIKE, with LIKE's own `%`, `_` and `\` escaped.
fn like(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A `*`/`?` pattern as SQLite GLOB, with GLOB's `[` taken literally.
fn sqlite_glob(pattern: &str) -> String {
    pattern.replace('[', "[[]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_the_other_wildcards() {
        assert_eq!(like("dev-*_1?%"), "dev-%\\_1_\\%");
        assert_eq!(sqlite_glob("a[1]*"), "a[[]1]*");
    }

    #[test]
    fn where_clause_numbers_its_parameters() {
        let q = Query {
            profile: Some("device".into()),
            common_name: Some("d-*".into()),
            status: Some(Status::Issued),
            ..Query::default()
        };
        let pg = Dialect {
            placeholder: |n| format!("${n}"),
            postgres: true,
            id_column: "",
            cn_ops: "",
            greatest: "",
        };
        let (sql, params) = q.sql(&pg);
        assert_eq!(
            sql,
            " WHERE profile = $1 AND common_name LIKE $2 ESCAPE '\\' AND status = $3"
        );
        assert_eq!(params.len(), 3);
        assert_eq!(Query::default().sql(&pg).0, "");
    }

    #[test]
    fn numbered_parameters_take_the_dialects_words() {
        let sqlite = Dialect {
            placeholder: |n| format!("?{n}"),
            postgres: false,
            id_column: "",
            cn_ops: "",
            greatest: "",
        };
        assert_eq!(
            sqlite.numbered("VALUES (#1, #2, #10) WHERE a = #12"),
            "VALUES (?1, ?2, ?10) WHERE a = ?12"
        );
    }
}
