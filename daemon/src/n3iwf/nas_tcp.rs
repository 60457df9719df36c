//! NAS over TCP (TS 24.502 §9.4) with the kernel's TCP: a listener on NAS_IP:NAS_TCP_PORT
//! (an address of the datapath's TUN device, so connections come from UEs through their
//! signalling SAs) and one task per connection. The core matches each connection to a UE by
//! its source, the UE's inner address, and frames and parses the NAS envelopes.
//!
//! Bounds: reads of at most [`READ_CHUNK`] octets wait for room in the engine task's input
//! queue (TCP's window then holds the UE back); writes queue at most [`WRITE_QUEUE`] messages
//! per connection, and a connection whose queue is full is closed; at most `max` connections
//! are open at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ::n3iwf::NasConnId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use super::N3iwfInput;

/// Accepts NAS TCP connections until shutdown.
pub(crate) struct Acceptor {
    listener: TcpListener,
    inputs: mpsc::Sender<N3iwfInput>,
    shutdown: watch::Receiver<bool>,
    max: usize,
    open: Arc<AtomicUsize>,
    next: u64,
}

impl Acceptor {
    pub(crate) fn new(
        listener: TcpListener,
        inputs: mpsc::Sender<N3iwfInput>,
        shutdown: watch::Receiver<bool>,
        max: usize,
    ) -> Self {
        Self {
            listener,
            inputs,
            shutdown,
            max,
            open: Arc::new(AtomicUsize::new(0)),
            next: 0,
        }
    }

    pub(crate) async fn run(mut self) {
        loop {
            let accepted = tokio::select! {
                _ = self.shutdown.changed() => return,
                r = self.listener.accept() => r,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %e, "NAS TCP accept failed");
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                    continue;
                }
            };
            if self.open.load(Ordering::Relaxed) >= self.max {
                tracing::debug!(%peer, "NAS TCP connection refused: at the connection limit");
                continue;
            }
            self.next += 1;
            let conn = NasConnId(self.next);
            let (writer, writes) = mpsc::channel(WRITE_QUEUE);
            let connected = N3iwfInput::NasConnected {
                conn,
                peer: peer.ip(),
                writer,
            };
            if self.inputs.send(connected).await.is_err() {
                return;
            }
            self.open.fetch_add(1, Ordering::Relaxed);
            let task = Connection {
                conn,
                stream,
                writes,
                inputs: self.inputs.clone(),
                shutdown: self.shutdown.clone(),
                open: Arc::clone(&self.open),
            };
            tokio::spawn(task.run());
        }
    }
}

/// One accepted connection.
struct Connection {
    conn: NasConnId,
    stream: TcpStream,
    /// Framed NAS messages from the core; closed when the core closes the connection.
    writes: mpsc::Receiver<Vec<u8>>,
    inputs: mpsc::Sender<N3iwfInput>,
    shutdown: watch::Receiver<bool>,
    open: Arc<AtomicUsize>,
}

impl Connection {
    async fn run(mut self) {
        let conn = self.conn;
        let (mut read, mut write) = self.stream.into_split();
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            tokio::select! {
                _ = self.shutdown.changed() => break,
                n = read.read(&mut buf) => match n {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let data = buf[..n].to_vec();
                        if self.inputs.send(N3iwfInput::NasData { conn, data }).await.is_err() {
                            break;
                        }
                    }
                },
                m = self.writes.recv() => match m {
                    Some(octets) => {
                        if write.write_all(&octets).await.is_err() {
                            break;
                        }
                    }
                    // The core closed it, after everything it queued was written.
                    None => break,
                },
            }
        }
        let _ = write.shutdown().await;
        self.open.fetch_sub(1, Ordering::Relaxed);
        let _ = self.inputs.send(N3iwfInput::NasClosed { conn }).await;
    }
}

/// The most octets read from a connection at a time.
pub(crate) const READ_CHUNK: usize = 4096;
/// Framed NAS messages queued for one connection (each at most 65,537 octets).
pub(crate) const WRITE_QUEUE: usize = 64;
/// Connections allowed beyond the UE limit (UEs reconnecting while the old one closes).
pub(crate) const EXTRA_CONNECTIONS: usize = 64;
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
