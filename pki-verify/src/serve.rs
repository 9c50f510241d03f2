//! A one-connection TLS server on loopback: `pki quickstart` serves the gateway certificate it
//! just made for a moment and probes it as a downstream device would.

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A server that answers one TLS handshake on 127.0.0.1 and then stops.
#[derive(Debug)]
pub struct OneShotServer {
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl OneShotServer {
    /// Starts serving `chain` (DER, leaf first) with the PKCS#8 `key` on a free loopback port.
    /// The server gives up after `timeout` if nobody connects.
    pub fn start(
        chain: Vec<Vec<u8>>,
        key_pkcs8: Vec<u8>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::try_from(key_pkcs8).map_err(|e| e.to_string())?;
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(chain.into_iter().map(CertificateDer::from).collect(), key)
            .map_err(|e| e.to_string())?;
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let config = Arc::new(config);
        let thread = std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + timeout;
            let mut sock = loop {
                match listener.accept() {
                    Ok((s, _)) => break s,
                    Err(e)
                        if e.kind() == ErrorKind::WouldBlock
                            && std::time::Instant::now() < deadline =>
                    {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => return,
                }
            };
            let _ = sock.set_nonblocking(false);
            let _ = sock.set_read_timeout(Some(timeout));
            let _ = sock.set_write_timeout(Some(timeout));
            let Ok(mut conn) = rustls::ServerConnection::new(config) else {
                return;
            };
            while conn.is_handshaking() {
                if conn.complete_io(&mut sock).is_err() {
                    return;
                }
            }
            // Wait for the client to go away (it reads once, briefly, after the handshake).
            let mut buf = [0u8; 256];
            let _ = conn.complete_io(&mut sock);
            let _ = conn.reader().read(&mut buf);
        });
        Ok(OneShotServer {
            addr,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for OneShotServer {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
