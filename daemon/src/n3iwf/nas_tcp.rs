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

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::timeout;

    use super::*;

    async fn next(inputs: &mut mpsc::Receiver<N3iwfInput>) -> N3iwfInput {
        timeout(Duration::from_secs(10), inputs.recv())
            .await
            .expect("an input in time")
            .expect("the acceptor runs")
    }

    /// Starts an acceptor on 127.0.0.1 allowing `max` connections.
    async fn acceptor(
        max: usize,
    ) -> (
        std::net::SocketAddr,
        mpsc::Receiver<N3iwfInput>,
        watch::Sender<bool>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("addr");
        let (tx, rx) = mpsc::channel(16);
        let (stop, shutdown) = watch::channel(false);
        tokio::spawn(Acceptor::new(listener, tx, shutdown, max).run());
        (address, rx, stop)
    }

    #[tokio::test]
    async fn octets_go_both_ways_and_the_cores_close_ends_the_connection() {
        let (address, mut inputs, _stop) = acceptor(4).await;
        let mut ue = TcpStream::connect(address).await.expect("connect");
        let N3iwfInput::NasConnected { conn, peer, writer } = next(&mut inputs).await else {
            panic!("not a connection");
        };
        assert_eq!(peer, IpAddr::from([127, 0, 0, 1]));
        ue.write_all(&[0, 3, 1, 2, 3]).await.expect("write");
        let mut read = Vec::new();
        while read.len() < 5 {
            match next(&mut inputs).await {
                N3iwfInput::NasData { conn: c, data } if c == conn => read.extend(data),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(read, [0, 3, 1, 2, 3]);
        writer.send(vec![0, 1, 0x7e]).await.expect("queued");
        drop(writer);
        let mut back = Vec::new();
        timeout(Duration::from_secs(10), ue.read_to_end(&mut back))
            .await
            .expect("closed in time")
            .expect("read");
        assert_eq!(
            back,
            [0, 1, 0x7e],
            "queued octets are written before the close"
        );
        assert!(matches!(next(&mut inputs).await, N3iwfInput::NasClosed { conn: c } if c == conn));
    }

    #[tokio::test]
    async fn connections_beyond_the_limit_are_closed_at_once() {
        let (address, mut inputs, _stop) = acceptor(1).await;
        let _first = TcpStream::connect(address).await.expect("connect");
        let N3iwfInput::NasConnected { writer: _kept, .. } = next(&mut inputs).await else {
            panic!("not a connection");
        };
        let mut second = TcpStream::connect(address).await.expect("connect");
        let mut buf = [0u8; 1];
        let n = timeout(Duration::from_secs(10), second.read(&mut buf))
            .await
            .expect("closed in time");
        assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
        assert!(
            inputs.try_recv().is_err(),
            "no input for a refused connection"
        );
    }
}
