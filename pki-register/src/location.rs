//! Where a register is: a SQLite file, or a PostgreSQL database named by its URL. A URL is read
//! by one parser, the driver's (`postgres::Config`), and shown by one redaction made from what
//! that parser read: its password is never in a message ([`Location`] displays the URL without
//! it, `***` in its place), nor is a URL that parser refused.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Where a register is.
#[derive(Clone)]
pub enum Location {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database: its `postgres://` URL (which may hold a password).
    Postgres(PostgresUrl),
}

/// A PostgreSQL register's URL, as the driver read it: the URL itself (for the driver only) and
/// its redacted form (for every message).
#[derive(Clone)]
pub struct PostgresUrl {
    url: Zeroizing<String>,
    shown: String,
}

impl PostgresUrl {
    /// Reads a `postgres://` or `postgresql://` URL with the driver's parser. A URL it refuses
    /// is refused without being repeated (it may hold a password).
    pub fn parse(given: &str) -> Result<PostgresUrl> {
        let refused = |reason: String| Error::BadLocation {
            given: scheme_only(given),
            reason,
        };
        if given.chars().any(char::is_control) {
            return Err(refused("a URL holds no control characters".into()));
        }
        // The driver reads the user and password up to the first `@`: a password holding an
        // `@` of its own would be cut there and its rest read as the host, and shown.
        let after_scheme = given.split_once("://").map_or(given, |(_, rest)| rest);
        if after_scheme.matches('@').count() > 1 {
            return Err(refused(
                "it holds more than one @: write an @ of the user name or password as %40".into(),
            ));
        }
        let config = postgres::Config::from_str(given).map_err(|e| {
            refused(format!(
                "not a PostgreSQL URL ({}); write it postgres://USER:PASSWORD@HOST:PORT/DATABASE, \
                 with each of / ? # @ : in the password written %2F %3F %23 %40 %3A",
                crate::backend::pg_reason(&e)
            ))
        })?;
        Ok(PostgresUrl {
            url: Zeroizing::new(given.to_owned()),
            shown: redacted(&config),
        })
    }

    /// The URL, password included: for the database driver only.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

impl Location {
    /// The default register of a CA directory: `register.sqlite3` in it.
    pub fn in_ca_dir(dir: &Path) -> Location {
        Location::Sqlite(dir.join(crate::SQLITE_FILE))
    }

    /// Reads a location as a user gives it (`--register`, `PKI_REGISTER`): a `postgres://` or
    /// `postgresql://` URL, `sqlite:PATH`, or a path to a SQLite file. An error never holds
    /// what was given beyond its scheme.
    pub fn parse(given: &str) -> Result<Location> {
        let lower = given.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            // The driver reads the scheme in lower case only.
            let scheme_len = given.find("://").unwrap_or(0);
            let normal = format!("{}{}", &lower[..scheme_len], &given[scheme_len..]);
            let normal = Zeroizing::new(normal);
            return PostgresUrl::parse(&normal).map(Location::Postgres);
        }
        if let Some((scheme, _)) = given.split_once("://")
            && !scheme.eq_ignore_ascii_case("sqlite")
        {
            return Err(Error::BadLocation {
                given: scheme_only(given),
                reason: "use a postgres:// URL or the path of a SQLite file".into(),
            });
        }
        let path = given
            .strip_prefix("sqlite://")
            .or_else(|| given.strip_prefix("sqlite:"))
            .unwrap_or(given);
        if path.is_empty() {
            return Err(Error::BadLocation {
                given: shown(given),
                reason: "no file named".into(),
            });
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }

    /// The URL of a PostgreSQL register, password included: for the database driver only.
    pub(crate) fn url(&self) -> Option<&str> {
        match self {
            Location::Postgres(url) => Some(url.url()),
            Location::Sqlite(_) => None,
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&url.shown),
        }
    }
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Location({self})")
    }
}

/// What a refused URL is shown as: its scheme and `://...` (what follows may be a password),
/// or `...` when it has none that looks like one.
fn scheme_only(given: &str) -> String {
    match given.split_once("://") {
        Some((scheme, _))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            format!("{scheme}://...")
        }
        _ => "...".into(),
    }
}

/// `s` with its control characters escaped (a percent-decoded part may hold some).
fn shown(s: &str) -> String {
    s.chars()
        .flat_map(|c| -> Box<dyn Iterator<Item = char>> {
            if c.is_control() {
                Box::new(c.escape_default())
            } else {
                Box::new(std::iter::once(c))
            }
        })
        .collect()
}

/// A PostgreSQL URL rebuilt from what the driver read, without the password:
/// `postgres://USER:***@HOST:PORT,.../DATABASE` (`:***` when there is a password; the other
/// parameters left out).
fn redacted(config: &postgres::Config) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("postgres://");
    if let Some(user) = config.get_user() {
        out.push_str(&shown(user));
        if config.get_password().is_some() {
            out.push_str(":***");
        }
        out.push('@');
    } else if config.get_password().is_some() {
        out.push_str(":***@");
    }
    let ports = config.get_ports();
    for (i, host) in config.get_hosts().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match host {
            postgres::config::Host::Tcp(h) if h.contains(':') => {
                let _ = write!(out, "[{}]", shown(h));
            }
            postgres::config::Host::Tcp(h) => out.push_str(&shown(h)),
            #[cfg(unix)]
            postgres::config::Host::Unix(p) => out.push_str(&shown(&p.display().to_string())),
        }
        let port = ports.get(i).or(if ports.len() == 1 {
            ports.first()
        } else {
            None
        });
        if let Some(port) = port {
            let _ = write!(out, ":{port}");
        }
    }
    if let Some(db) = config.get_dbname() {
        let _ = write!(out, "/{}", shown(db));
    }
    out
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
        assert_eq!(l.to_string(), "postgres://u:***@h:5432/db");
        // The driver reads the user information up to the first @ (a password's @ is %40), and
        // a password may hold / ? # : as they are.
        let l = Location::parse("postgres://u:Kq7x/Vb2m?Zr9p#Lt4n:Jy3d%40Hc8w@h:1/d").unwrap();
        assert_eq!(l.to_string(), "postgres://u:***@h:1/d");
        let l = Location::parse("POSTGRES://u:zz9@h/d").unwrap();
        assert!(!format!("{l:?}").contains("zz9"));
        assert_eq!(l.to_string(), "postgres://u:***@h:5432/d");
    }

    #[test]
    fn a_refused_url_is_never_repeated() {
        for given in [
            "postgress://u:Kq7x/Vb2m@h/d",
            "postgres://u:Kq7x@h:notaport/d",
            "postgres://u:Kq7x@h/d?Kq7x",
            "mysql://u:Kq7x@h/d",
            "postgres://u:Kq7x@h/d\n",
            // An @ in the password: the driver would read "Kq7x" on as the host.
            "postgres://u:pw@Kq7x@h/d",
            "postgres://u:pw@Kq7x/x@h/d",
        ] {
            let err = Location::parse(given).unwrap_err().to_string();
            assert!(!err.contains("Kq7x"), "{given}: {err}");
        }
    }

    #[test]
    fn paths_and_sqlite_urls_are_sqlite_files() {
        for given in ["reg.db", "sqlite:reg.db", "sqlite://reg.db"] {
            assert!(
                matches!(Location::parse(given).unwrap(), Location::Sqlite(p) if p == Path::new("reg.db"))
            );
        }
        assert!(Location::parse("mysql://u:pw@h/d").is_err());
        assert!(Location::parse("sqlite:").is_err());
    }
}
