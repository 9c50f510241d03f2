//! The EST server: TLS connections accepted up to a bound, each served by hyper's HTTP/1.1
//! with its timeouts, requests answered by [`http`] from the [`Authority`], and a drain on
//! shutdown (no new connections; requests in flight finish, idle connections close).
//!
//! - [`Authority`]: the CA, the register and the policy; enrolment without HTTP.
//! - [`tls::server_config`]: TLS 1.2+ with an optional client certificate.
//! - [`Audit`]: the JSON Lines audit log.
//! - `register`: the register's connections: a SQLite register's one connection in turn with
//!   group commit, a PostgreSQL register's `pool` of at most [`REGISTER_CONNECTIONS`].
//! - [`serve`]: the accept loop.

mod audit;
mod authority;
mod http;
mod pool;
mod register;
pub mod tls;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

pub use audit::{Audit, RequestLine};
pub use authority::{
    AZIOT_EST_ID_CN, AuthKind, Authority, BOOTSTRAP_PATH_PREFIX, Credentials, Denied,
    EST_PATH_PREFIX, LabelIssuer, Policy, Verdict, label_profile,
};
pub use http::{PKCS7_CERTS_ONLY, REALM};
pub use pool::REGISTER_CONNECTIONS;

/// The server's bounds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: usize,
    /// From a connection's start (or the end of its previous answer) to a request's whole head,
    /// the TLS handshake included.
    pub header_timeout: Duration,
    /// A connection with no bytes moving and no request in flight for this long is closed.
    pub idle_timeout: Duration,
    /// A request's body must arrive within this.
    pub body_timeout: Duration,
    /// On shutdown, how long requests in flight may take to finish.
    pub drain_timeout: Duration,
}

/// What the request handlers share.
pub(crate) struct Shared {
    authority: Arc<Authority>,
    audit: Arc<Audit>,
    limits: Limits,
    clock: fn() -> OffsetDateTime,
    served: AtomicU64,
}

/// Counts a request in flight on its connection while it lives, and as served when done.
pub(crate) struct InFlight<'a> {
    shared: &'a Shared,
    peer: &'a http::Peer,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.peer.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.shared.served.fetch_add(1, Ordering::SeqCst);
    }
}

impl Shared {
    fn in_flight<'a>(&'a self, peer: &'a http::Peer) -> InFlight<'a> {
        peer.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight { shared: self, peer }
    }
}

/// How a server run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Requests answered.
    pub served: u64,
    /// Connections still open when the drain's time ran out (closed unanswered).
    pub cut: usize,
}

/// Serves EST on `listener` until `shutdown` completes, then drains: stops accepting, lets
/// the requests in flight finish (within [`Limits::drain_timeout`]) and closes the idle
/// connections. `clock` is the time enrolment judges at.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    authority: Arc<Authority>,
    audit: Arc<Audit>,
    limits: Limits,
    clock: fn() -> OffsetDateTime,
    shutdown: impl Future<Output = ()>,
) -> Stopped {
    let shared = Arc::new(Shared {
        authority,
        audit,
        limits,
        clock,
        served: AtomicU64::new(0),
    });
    let max = limits.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max));
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            () = &mut shutdown => break,
        };
        let (tcp, address) = tokio::select! {
            r = listener.accept() => match r {
                Ok(r) => r,
                // Out of descriptors and the like: wait a little, go on.
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            connection(acceptor, tcp, address, shared, stop).await;
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(
        limits.drain_timeout,
        slots.acquire_many(u32::try_from(max).unwrap_or(u32::MAX)),
    )
    .await;
    let cut = match drained {
        Ok(_) => 0,
        Err(_) => max - slots.available_permits(),
    };
    Stopped {
        served: shared.served.load(Ordering::SeqCst),
        cut,
    }
}

/// Serves one connection: the TLS handshake within the header timeout, then HTTP/1.1 until
/// the client closes, a timeout, or the drain.
async fn connection(
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: tokio::net::TcpStream,
    address: std::net::SocketAddr,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let limits = shared.limits;
    let Ok(Ok(tls)) = tokio::time::timeout(limits.header_timeout, acceptor.accept(tcp)).await
    else {
        return;
    };
    let chain = tls
        .get_ref()
        .1
        .peer_certificates()
        .map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect())
        .unwrap_or_default();
    let peer = Arc::new(http::Peer {
        address,
        chain,
        in_flight: AtomicUsize::new(0),
    });
    let watched_peer = peer.clone();
    let activity = Arc::new(Activity::default());
    let io = TokioIo::new(Watched {
        inner: tls,
        activity: activity.clone(),
    });
    let service = {
        let shared = shared.clone();
        service_fn(move |req| http::handle(shared.clone(), peer.clone(), req))
    };
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024)
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let tick = (limits.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let mut closing = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            r = stop.changed(), if !closing => {
                if r.is_err() || *stop.borrow() {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
            () = tokio::time::sleep(tick), if !closing => {
                if activity.idle_for() > limits.idle_timeout
                    && watched_peer.in_flight.load(Ordering::SeqCst) == 0
                {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// When a connection last moved bytes.
struct Activity {
    start: std::time::Instant,
    last_ms: AtomicU64,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            start: std::time::Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// A stream that records when bytes moved.
struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Watched<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
