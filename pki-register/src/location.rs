//! Where a register is: a SQLite file, or a PostgreSQL database named by its URL. A URL's
//! password is kept out of every message: [`Location`] displays it as `***`.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Where a register is.
#[derive(Clone)]
pub enum Location {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database: its `postgres://` URL (which may hold a password).
    Postgres(Zeroizing<String>),
}

impl Location {
    /// The default register of a CA directory: `register.sqlite3` in it.
    pub fn in_ca_dir(dir: &Path) -> Location {
        Location::Sqlite(dir.join(crate::SQLITE_FILE))
    }

    /// Reads a location as a user gives it (`--register`, `PKI_REGISTER`): a `postgres://` or
    /// `postgresql://` URL, `sqlite:PATH`, or a path to a SQLite file.
    pub fn parse(given: &str) -> Result<Location> {
        let lower = given.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            if given.chars().any(char::is_control) {
                return Err(Error::BadLocation {
                    given: redact(given),
                    reason: "a URL holds no control characters".into(),
                });
            }
            return Ok(Location::Postgres(Zeroizing::new(given.to_owned())));
        }
        if let Some((scheme, _)) = given.split_once("://")
            && !scheme.eq_ignore_ascii_case("sqlite")
        {
            return Err(Error::BadLocation {
                given: redact(given),
                reason: "use a postgres:// URL or the path of a SQLite file".into(),
            });
        }
        let path = given
            .strip_prefix("sqlite://")
            .or_else(|| given.strip_prefix("sqlite:"))
            .unwrap_or(given);
        if path.is_empty() {
            return Err(Error::BadLocation {
                given: given.to_owned(),
                reason: "no file named".into(),
            });
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }

    /// The URL of a PostgreSQL register, password included: for the database driver only.
    pub(crate) fn url(&self) -> Option<&str> {
        match self {
            Location::Postgres(url) => Some(url.as_str()),
            Location::Sqlite(_) => None,
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Location({self})")
    }
}

/// A URL with the password of its user information and of a `password=` parameter replaced by
/// `***`.
fn redact(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some(parts) => parts,
        None => return url.to_owned(),
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{user_info}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let l = Location::parse("postgres://pki:s3cret@127.0.0.1:5433/pki").unwrap();
        assert_eq!(l.to_string(), "postgres://pki:***@127.0.0.1:5433/pki");
        assert_eq!(
            format!("{l:?}"),
            "Location(postgres://pki:***@127.0.0.1:5433/pki)"
        );
        let l =
            Location::parse("postgresql://h/db?user=u&password=s3cret&sslmode=disable").unwrap();
        assert_eq!(
            l.to_string(),
            "postgresql://h/db?user=u&password=***&sslmode=disable"
        );
        // An @ in the password: the host is after the last one.
        let l = Location::parse("postgres://u:p@ss@h:1/d").unwrap();
        assert_eq!(l.to_string(), "postgres://u:***@h:1/d");
        assert!(!format!("{:?}", Location::parse("postgres://u:zz9@h/d")).contains("zz9"));
    }

    #[test]
    fn paths_and_sqlite_urls_are_sqlite_files() {
        for given in ["reg.db", "sqlite:reg.db", "sqlite://reg.db"] {
            assert!(
                matches!(Location::parse(given).unwrap(), Location::Sqlite(p) if p == Path::new("reg.db"))
            );
        }
        assert!(Location::parse("mysql://u:pw@h/d").is_err());
        assert!(
            !Location::parse("mysql://u:pw@h/d")
                .unwrap_err()
                .to_string()
                .contains("pw")
        );
        assert!(Location::parse("sqlite:").is_err());
    }
}
