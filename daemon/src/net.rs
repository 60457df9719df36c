//! The IKE sockets: UDP 500, and UDP 4500 where IKE messages follow a 4-octet zero non-ESP
//! marker (RFC 3948 §2.2) that is stripped on receipt and added on send.
//!
//! Datagrams are admitted per source (a token bucket per address, one for all sockets) before
//! they are queued for the engine, and a full queue drops rather than waits: a flood from one
//! sender cannot fill the queue, and no sender can stall the receivers. Both drops are counted.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use dataplane::SourceLimiter;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::config::DaemonSettings;
use crate::essential::Essential;

/// A received IKE message, without any non-ESP marker.
#[derive(Debug)]
pub(crate) struct Datagram {
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) data: Vec<u8>,
}

/// One bound socket.
#[derive(Debug)]
pub(crate) struct IkeSocket {
    pub(crate) socket: UdpSocket,
    pub(crate) local: SocketAddr,
    /// Port 4500 style: IKE behind a non-ESP marker.
    pub(crate) natt: bool,
}

/// All IKE sockets of the daemon.
#[derive(Debug)]
pub(crate) struct Sockets {
    pub(crate) all: Vec<Arc<IkeSocket>>,
    admission: Mutex<SourceLimiter>,
    pub(crate) counters: IngressCounters,
}

/// What the receivers dropped, shown by `ikectl stats` and the metrics.
#[derive(Debug, Default)]
pub(crate) struct IngressCounters {
    /// Datagrams whose source exceeded `daemon.ike_rate_per_source`.
    pub(crate) rate_limited: AtomicU64,
    /// Datagrams that found the engine's queue full.
    pub(crate) queue_full: AtomicU64,
}

impl IngressCounters {
    pub(crate) fn fields(&self) -> [(&'static str, u64); 2] {
        [
            (
                "ike_datagrams_rate_limited",
                self.rate_limited.load(Ordering::Relaxed),
            ),
            (
                "ike_datagrams_queue_full",
                self.queue_full.load(Ordering::Relaxed),
            ),
        ]
    }
}

impl Sockets {
    /// Binds the IKE port, and the NAT-T port unless the datapath owns it, on every listen
    /// address.
    pub(crate) async fn bind(
        settings: &DaemonSettings,
        natt_in_datapath: bool,
    ) -> io::Result<Self> {
        let mut all = Vec::new();
        let natt = settings.natt_port.filter(|_| !natt_in_datapath);
        for ip in &settings.listen {
            let ports = std::iter::once((settings.ike_port, false)).chain(natt.map(|p| (p, true)));
            for (port, natt) in ports {
                let addr = SocketAddr::new(*ip, port);
                let socket = UdpSocket::bind(addr).await.map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot bind UDP {addr}: {e}"))
                })?;
                let local = socket.local_addr()?;
                all.push(Arc::new(IkeSocket {
                    socket,
                    local,
                    natt,
                }));
            }
        }
        Ok(Self {
            all,
            admission: Mutex::new(SourceLimiter::new(settings.ike_rate_per_source)),
            counters: IngressCounters::default(),
        })
    }

    /// Queues a received datagram for the engine if its source is within its rate and the
    /// queue has room; counts it otherwise. `false` once the engine is gone.
    pub(crate) fn admit(&self, d: Datagram, tx: &mpsc::Sender<Datagram>) -> bool {
        let allowed = self
            .admission
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .allow(d.remote.ip(), Instant::now());
        if !allowed {
            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        match tx.try_send(d) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.counters.queue_full.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }

    /// Starts one receive task per socket, feeding `tx`.
    pub(crate) fn spawn_receivers(
        self: &Arc<Self>,
        tx: &mpsc::Sender<Datagram>,
        essential: &Essential,
    ) {
        for (i, s) in self.all.iter().enumerate() {
            let name = format!("the UDP receiver on {}", s.local);
            essential.spawn(name, receive(Arc::clone(self), i, tx.clone()));
        }
    }

    /// The addresses of the plain IKE sockets (not NAT-T).
    pub(crate) fn ike_addrs(&self) -> Vec<SocketAddr> {
        self.all
            .iter()
            .filter(|s| !s.natt)
            .map(|s| s.local)
            .collect()
    }

    /// The plain IKE socket to initiate to `remote` from.
    pub(crate) fn for_initiating(&self, remote: SocketAddr) -> Option<&IkeSocket> {
        self.all
            .iter()
            .map(AsRef::as_ref)
            .find(|s| !s.natt && s.local.is_ipv4() == remote.is_ipv4())
    }

    /// Sends one IKE message from the socket bound to `local` (or to its wildcard address). A
    /// NAT keepalive goes out without the non-ESP marker.
    pub(crate) async fn send(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
        keepalive: bool,
    ) -> io::Result<()> {
        let socket = self.all.iter().find(|s| s.local == local).or_else(|| {
            self.all.iter().find(|s| {
                s.local.port() == local.port()
                    && s.local.ip().is_unspecified()
                    && s.local.is_ipv4() == local.is_ipv4()
            })
        });
        let Some(s) = socket else {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("no IKE socket for {local}"),
            ));
        };
        if s.natt && !keepalive {
            let mut framed = Vec::with_capacity(data.len() + NON_ESP_MARKER.len());
            framed.extend_from_slice(&NON_ESP_MARKER);
            framed.extend_from_slice(data);
            s.socket.send_to(&framed, remote).await?;
        } else {
            s.socket.send_to(data, remote).await?;
        }
        Ok(())
    }
}

/// The source address the kernel would use towards `remote`, found with an unsent connect.
pub(crate) fn route_source(remote: SocketAddr) -> Option<IpAddr> {
    let any: SocketAddr = if remote.is_ipv4() {
        (IpAddr::from([0u8; 4]), 0).into()
    } else {
        (IpAddr::from([0u16; 8]), 0).into()
    };
    let probe = std::net::UdpSocket::bind(any).ok()?;
    probe.connect(remote).ok()?;
    probe.local_addr().ok().map(|a| a.ip())
}

async fn receive(sockets: Arc<Sockets>, index: usize, tx: mpsc::Sender<Datagram>) {
    let s = Arc::clone(&sockets.all[index]);
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, remote) = match s.socket.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                // ICMP errors surface here on Linux (ECONNREFUSED); they are not fatal.
                tracing::debug!(local = %s.local, error = %e, "UDP receive error");
                continue;
            }
        };
        let data = &buf[..n];
        let ike = if s.natt {
            match data.split_first_chunk::<4>() {
                Some((marker, rest)) if *marker == NON_ESP_MARKER => rest,
                // A NAT-keepalive (RFC 3948 §2.3), or ESP in UDP without a datapath on this port.
                _ => continue,
            }
        } else {
            data
        };
        let d = Datagram {
            local: s.local,
            remote,
            data: ike.to_vec(),
        };
        if !sockets.admit(d, &tx) {
            return;
        }
    }
}

const NON_ESP_MARKER: [u8; 4] = [0; 4];
