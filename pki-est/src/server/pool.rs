//! The server's register connections: a bounded pool. Requests take an idle connection, open
//! a new one while fewer than the bound are open, or wait for one to be put back; so a server
//! holds at most [`REGISTER_CONNECTIONS`] connections however many requests it serves at once
//! (several servers sharing one PostgreSQL stay within its `max_connections`, 100 by default),
//! and opens none per request once warm. A connection whose work failed is closed, not reused:
//! it may be broken.
//!
//! The connections are closed off tokio's threads: a PostgreSQL connection (the `postgres`
//! crate's blocking client) closes by blocking on a runtime of its own, which panics on a
//! thread that drives tokio's, where the server drops its pool when it stops.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use pki_core::register::Register;

/// How many register connections one server holds at most. Signing happens outside them; each
/// request holds one only for a few short statements.
pub const REGISTER_CONNECTIONS: usize = 16;

/// The pool.
pub(super) struct Pool {
    state: Mutex<State>,
    /// Signalled when a connection is put back or closed.
    freed: Condvar,
    max: usize,
}

struct State {
    idle: Vec<Register>,
    /// Connections open, idle or in use.
    open: usize,
}

/// A place in the pool, taken by a request: freed when dropped, unless its connection was put
/// back idle.
struct Place<'a> {
    pool: &'a Pool,
    put_back: bool,
}

impl Place<'_> {
    /// Puts `register` back, idle, for the next request.
    fn put_back(mut self, register: Register) {
        self.pool.lock().idle.push(register);
        self.put_back = true;
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        if !self.put_back {
            let mut state = self.pool.lock();
            state.open = state.open.saturating_sub(1);
        }
        self.pool.freed.notify_one();
    }
}

impl Pool {
    /// An empty pool of at most `max` connections (at least one).
    pub(super) fn new(max: usize) -> Pool {
        Pool {
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
            max: max.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere leaves the state consistent: each change is one statement.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `work` on a connection: an idle one, one `open` makes while fewer than the bound
    /// are open, or the first put back. Blocking: called on tokio's blocking threads.
    pub(super) fn with<T>(
        &self,
        open: impl FnOnce() -> pki_core::Result<Register>,
        work: impl FnOnce(&mut Register) -> pki_core::Result<T>,
    ) -> pki_core::Result<T> {
        let (place, idle) = self.take();
        // Declared after its place: a connection that is not put back is closed before its
        // place is freed.
        let mut register = match idle {
            Some(r) => r,
            None => open()?,
        };
        let out = work(&mut register);
        if out.is_ok() {
            place.put_back(register);
        }
        out
    }

    /// A place in the pool, with an idle connection when there is one (none: open one in it).
    /// Waits while every place is taken.
    fn take(&self) -> (Place<'_>, Option<Register>) {
        let place = || Place {
            pool: self,
            put_back: false,
        };
        let mut state = self.lock();
        loop {
            if let Some(register) = state.idle.pop() {
                return (place(), Some(register));
            }
            if state.open < self.max {
                state.open += 1;
                return (place(), None);
            }
            state = self
                .freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.lock().idle);
        if idle.is_empty() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        // A panic while closing is the closing thread's; the connections are gone either way.
        let _ = std::thread::spawn(move || drop(idle)).join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn sqlite(dir: &std::path::Path) -> pki_core::Result<Register> {
        let location = pki_core::register::Location::Sqlite(dir.join("register.sqlite3"));
        Ok(Register::open(location)?)
    }

    #[test]
    fn never_more_than_the_bound_open_and_a_failed_connection_is_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let pool = Pool::new(3);
        let opened = AtomicUsize::new(0);
        let busy = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let start = Barrier::new(12);
        std::thread::scope(|s| {
            for _ in 0..12 {
                s.spawn(|| {
                    start.wait();
                    for _ in 0..5 {
                        pool.with(
                            || {
                                opened.fetch_add(1, Ordering::SeqCst);
                                sqlite(dir.path())
                            },
                            |r| {
                                let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                                most.fetch_max(now, Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_millis(5));
                                busy.fetch_sub(1, Ordering::SeqCst);
                                r.is_empty().map_err(pki_core::Error::from)
                            },
                        )
                        .unwrap();
                    }
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 3, "60 uses at once share 3");
        assert_eq!(opened.load(Ordering::SeqCst), 3, "opened once each");
        assert_eq!(pool.lock().idle.len(), 3);

        // Work that fails closes its connection and frees its place.
        let failed: pki_core::Result<()> = pool.with(
            || unreachable!("an idle one is there"),
            |_| {
                Err(pki_core::Error::from(pki_core::register::Error::Database {
                    location: "test".into(),
                    reason: "broken".into(),
                }))
            },
        );
        assert!(failed.is_err());
        assert_eq!(pool.lock().open, 2);
        // A connection that cannot be made frees its place.
        let unopened = Pool::new(1);
        let refused = unopened.with(|| sqlite(&dir.path().join("missing/dir")), |_| Ok(()));
        assert!(refused.is_err());
        assert_eq!(unopened.lock().open, 0);
        unopened.with(|| sqlite(dir.path()), |_| Ok(())).unwrap();
    }

    /// The server drops its pool on a thread that drives tokio, where closing a PostgreSQL
    /// connection used to panic (and abort the server on SIGTERM).
    #[test]
    #[cfg(unix)] // PostgreSQL's programs
    fn postgres_connections_close_when_the_pool_is_dropped_inside_the_runtime() {
        let pg = pki_testkit::postgres::Postgres::start();
        let location = pki_core::register::Location::parse(&pg.url()).unwrap();
        let pool = Pool::new(2);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    pool.with(
                        || Ok(Register::open(location.clone())?),
                        |r| {
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            r.is_empty().map_err(pki_core::Error::from)
                        },
                    )
                    .unwrap();
                });
            }
        });
        assert_eq!(pool.lock().idle.len(), 2);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        runtime.block_on(async move { drop(pool) });
        let sessions = pki_testkit::postgres::Postgres::psql(
            &pg.url(),
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pki'",
        );
        assert_eq!(sessions.trim(), "0", "the connections are closed");
    }
}
