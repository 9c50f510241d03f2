//! A real PostgreSQL server for tests, from Debian's `postgresql` package: its own cluster in a
//! temporary directory, on a free port of 127.0.0.1, with a role `pki` that logs in by password
//! (SCRAM) and owns a database `pki`. Dropping the handle stops the server and removes the
//! directory; the system's own service (port 5432) is never used.
//!
//! It finds and runs PostgreSQL's programs through [`crate::programs`], the shared list of the
//! programs the tests run. The end-to-end tests reach it as `crate::support::Postgres`, the
//! register's tests as `pki_testkit::postgres::Postgres`.
//!
//! PostgreSQL refuses to run as root, and the tests run as root (CI does): then `initdb`,
//! `postgres` and `pg_ctl` run as the `postgres` OS user (made by the package) through
//! `setpriv`, which `exec`s, so the child process the handle holds is the postmaster itself.
//! As any other user they run as that user.

use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long the server may take to accept connections once started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `pg_ctl stop -m fast` may take before the postmaster is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server is started on a fresh port when another process took the port first.
const PORT_ATTEMPTS: usize = 5;
use crate::programs;

/// The OS user PostgreSQL runs as when the tests run as root; Debian's package creates it.
const OS_USER: &str = "postgres";
/// The superuser that `initdb` creates; it logs in by password like `pki`.
const SUPERUSER: &str = "postgres";

/// A PostgreSQL server of its own on 127.0.0.1, running until the handle is dropped.
pub struct Postgres {
    bin: PathBuf,
    port: u16,
    password: String,
    superuser_password: String,
    postmaster: Option<Child>,
    as_root: bool,
    // Dropped after `Drop::drop` stopped the server: removes the cluster and its log.
    dir: tempfile::TempDir,
}

impl Postgres {
    /// Makes a cluster in a new temporary directory (`initdb`), starts it on a free port of
    /// 127.0.0.1, waits until it accepts connections, and creates the role `pki` with a random
    /// password and the database `pki` it owns. Panics, with the server's log, when any step
    /// fails or the server is not ready within 30 seconds.
    pub fn start() -> Self {
        let bin = bindir();
        let as_root = is_root();
        let dir = tempfile::Builder::new()
            .prefix("pki-postgres-")
            .tempdir()
            .expect("a temporary directory for PostgreSQL");
        let mut pg = Postgres {
            bin,
            port: 0,
            password: random_hex(),
            superuser_password: random_hex(),
            postmaster: None,
            as_root,
            dir,
        };
        pg.initdb();
        for _ in 0..PORT_ATTEMPTS {
            pg.port = free_port();
            pg.spawn();
            if pg.wait_ready() {
                pg.create_role_and_database();
                return pg;
            }
        }
        panic!("PostgreSQL: no free port after {PORT_ATTEMPTS} attempts");
    }

    /// `postgres://pki:PASSWORD@127.0.0.1:PORT/pki`: the role `pki` on its own database.
    pub fn url(&self) -> String {
        format!(
            "postgres://pki:{}@127.0.0.1:{}/pki",
            self.password, self.port
        )
    }

    /// The superuser's URL, `postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres`: for a test
    /// that prepares what the role `pki` may not (another database, revoked rights).
    pub fn superuser_url(&self) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/postgres",
            self.superuser_password, self.port
        )
    }

    /// A PostgreSQL URL of the same form as [`Postgres::url`] naming a port of 127.0.0.1 where
    /// nothing listens: a register that cannot be reached (the connection is refused).
    pub fn stopped_url() -> String {
        format!(
            "postgres://pki:{}@127.0.0.1:{}/pki",
            random_hex(),
            free_port()
        )
    }

    /// The port it listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The password of the role `pki` (random, hex).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The temporary directory that holds the cluster (`data/`), its socket and its log; it is
    /// removed when the handle is dropped.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Runs `sql` with `psql` connected to `url` (a server's [`Postgres::url`] or
    /// [`Postgres::superuser_url`]) and returns what it printed: unaligned, tuples only, so one
    /// row a line with `|` between the columns. Panics with psql's error when it cannot connect
    /// or a statement fails.
    pub fn psql(url: &str, sql: &str) -> String {
        Postgres::try_psql(url, sql).unwrap_or_else(|e| panic!("psql failed running {sql:?}: {e}"))
    }

    /// [`Postgres::psql`], with psql's exit status and error output as the error: for a test
    /// that expects a login or a statement to be refused.
    pub fn try_psql(url: &str, sql: &str) -> Result<String, String> {
        // The psql of the same installation (Debian ships one beside the server), or PATH's.
        let beside = bindir().join("psql");
        let mut psql = if beside.is_file() {
            programs::command_in(&bindir(), "psql")
        } else {
            programs::command("psql")
        };
        let out = psql
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                url,
                "-c",
                sql,
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "psql could not be run ({e}): {}",
                    programs::install_hint("psql")
                )
            });
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// `program` (one of the server's) run as the OS user that owns the cluster, in its
    /// directory.
    fn as_owner(&self, program: &str) -> Command {
        let mut cmd = if self.as_root {
            let mut cmd = programs::command("setpriv");
            cmd.args([
                &format!("--reuid={OS_USER}"),
                &format!("--regid={OS_USER}"),
                "--init-groups",
                "--",
            ])
            .arg(programs::in_dir(&self.bin, program));
            cmd
        } else {
            programs::command_in(&self.bin, program)
        };
        cmd.current_dir(self.dir.path()).stdin(Stdio::null());
        cmd
    }

    /// `initdb`: UTF-8, C locale, no fsync (a test cluster), the superuser's password from a
    /// file, and `pg_hba.conf` replaced by one line: SCRAM passwords over 127.0.0.1, nothing
    /// else.
    fn initdb(&mut self) {
        let dir = self.dir.path().to_path_buf();
        let pwfile = dir.join("superuser-password");
        write(&pwfile, &self.superuser_password);
        if self.as_root {
            let out = programs::command("chown")
                .args(["-R", &format!("{OS_USER}:{OS_USER}")])
                .arg(&dir)
                .output()
                .unwrap_or_else(|e| panic!("chown could not be run: {e}"));
            if !out.status.success() {
                panic!(
                    "chown {OS_USER} {}: {} (the OS user {OS_USER} comes with PostgreSQL: \
                     {})",
                    dir.display(),
                    String::from_utf8_lossy(&out.stderr).trim(),
                    programs::install_hint("initdb")
                );
            }
        }
        let out = self
            .as_owner("initdb")
            .arg("-D")
            .arg(self.data())
            .args([
                "--no-sync",
                "--no-instructions",
                "--encoding=UTF8",
                "--locale=C",
                "--auth=scram-sha-256",
                &format!("--username={SUPERUSER}"),
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "initdb could not be run ({e}): {}",
                    programs::install_hint("initdb")
                )
            });
        let _ = fs::remove_file(&pwfile);
        if !out.status.success() {
            panic!(
                "initdb {} failed ({}):\n{}{}",
                self.data().display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Written as root into a directory the owner can read: PostgreSQL only reads it.
        write(
            &self.data().join("pg_hba.conf"),
            "# Written by the pki tests: password (SCRAM) logins over 127.0.0.1, nothing else.\n\
             host all all 127.0.0.1/32 scram-sha-256\n",
        );
    }

    /// Starts the postmaster in the foreground on `self.port`, its log to `server.log` (anew:
    /// what an attempt on a taken port logged is gone).
    fn spawn(&mut self) {
        let log = fs::File::create(self.log_path())
            .unwrap_or_else(|e| panic!("{}: {e}", self.log_path().display()));
        let log2 = log
            .try_clone()
            .unwrap_or_else(|e| panic!("{}: {e}", self.log_path().display()));
        let child = self
            .as_owner("postgres")
            .arg("-D")
            .arg(self.data())
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-c")
            .arg("listen_addresses=127.0.0.1")
            .arg("-c")
            .arg(format!(
                "unix_socket_directories={}",
                self.dir.path().display()
            ))
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .stdout(log)
            .stderr(log2)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "postgres could not be run ({e}): {}",
                    programs::install_hint("postgres")
                )
            });
        self.postmaster = Some(child);
    }

    /// Waits until the postmaster says it is ready and `pg_isready` agrees on its port; false
    /// when it exited because another process had taken the port. Panics with the log when it
    /// exited otherwise or is not ready within `READY_TIMEOUT`.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut exited = None;
        while exited.is_none() {
            if let Some(child) = self.postmaster.as_mut() {
                exited = child.try_wait().expect("the postmaster's status");
            }
            if exited.is_some() {
                break;
            }
            if self.log().contains("ready to accept connections") && self.accepts() {
                return true;
            }
            if Instant::now() > deadline {
                panic!(
                    "PostgreSQL did not accept connections on 127.0.0.1:{} within \
                     {READY_TIMEOUT:?}; its log:\n{}",
                    self.port,
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
        self.postmaster = None;
        let log = self.log();
        if log.contains("Address already in use") {
            return false;
        }
        let status = exited.map(|s| s.to_string()).unwrap_or_default();
        panic!(
            "PostgreSQL exited ({status}) before it accepted connections on 127.0.0.1:{}; its \
             log:\n{log}",
            self.port
        );
    }

    /// `pg_isready` on the port: the server answers (a login would get as far as checking the
    /// password).
    fn accepts(&self) -> bool {
        programs::command_in(&self.bin, "pg_isready")
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-t",
                "2",
                "-p",
                &self.port.to_string(),
            ])
            .stdin(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn create_role_and_database(&self) {
        let admin = self.superuser_url();
        // Separate statements: CREATE DATABASE cannot run inside a transaction block.
        Postgres::psql(
            &admin,
            &format!("CREATE ROLE pki LOGIN PASSWORD '{}'", self.password),
        );
        Postgres::psql(&admin, "CREATE DATABASE pki OWNER pki");
    }

    /// `pg_ctl stop -m fast` (every session ends, the server shuts down cleanly), then waits for
    /// the postmaster; kills it by its handle when it is still there after `STOP_TIMEOUT`.
    fn stop(&mut self) {
        let Some(mut child) = self.postmaster.take() else {
            return;
        };
        let _ = self
            .as_owner("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(self.data())
            .args([
                "-m",
                "fast",
                "-w",
                "-t",
                &STOP_TIMEOUT.as_secs().to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The directory of the PostgreSQL server programs: where `initdb` of the programs' list really
/// is (Debian links some of them into PATH, not all; off PATH, the newest
/// `/usr/lib/postgresql/VERSION/bin`). It must hold `postgres`, `pg_ctl` and `pg_isready` too.
fn bindir() -> PathBuf {
    let initdb = programs::path("initdb");
    let initdb = fs::canonicalize(&initdb).unwrap_or(initdb);
    let dir = initdb
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| panic!("{}: no directory", initdb.display()));
    for program in ["postgres", "pg_ctl", "pg_isready"] {
        programs::in_dir(&dir, program);
    }
    dir
}

/// Whether the tests run as root (`id -u` says 0).
fn is_root() -> bool {
    programs::command("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A port on 127.0.0.1 that was free a moment ago (bound, read back, released).
fn free_port() -> u16 {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// 32 random hex digits (128 bits from the OS): a password that needs no quoting in a URL or
/// in SQL.
fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("16 random bytes from /dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `text` to `path`; panics naming it.
fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
