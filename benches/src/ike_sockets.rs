//! UDP sockets for engine-driven initiators in the load generators: one on an ephemeral port
//! and one on 4500 per local address, so that an IKE SA that floats to NAT-T (RFC 3948, as iked
//! does when its datapath encapsulates ESP in UDP) keeps working. On 4500 IKE messages carry the
//! 4-octet non-ESP marker; anything else arriving there (ESP) is dropped.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ikev2::Transmit;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

const NAT_T_PORT: u16 = 4500;
const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// A datagram received for the engine (marker stripped).
pub struct Datagram {
    pub local: SocketAddr,
    pub from: SocketAddr,
    pub data: Vec<u8>,
}

/// The sockets of all local addresses, by their bound address.
pub struct IkeSockets {
    by_local: HashMap<SocketAddr, Arc<UdpSocket>>,
    /// The ephemeral-port address of each local IP, in the order given: where to initiate from.
    pub initial: Vec<SocketAddr>,
}

impl IkeSockets {
    /// Binds the sockets and starts a receiving task per socket that feeds `tx`.
    ///
    /// # Panics
    /// When an ephemeral-port socket cannot be bound (a wrong `--local`); a taken port 4500 is
    /// only a warning (SAs that float then fail).
    pub async fn bind(ips: &[IpAddr], tx: &mpsc::Sender<Datagram>) -> Self {
        let mut s = Self {
            by_local: HashMap::new(),
            initial: Vec::new(),
        };
        for ip in ips {
            let sock = UdpSocket::bind(SocketAddr::new(*ip, 0))
                .await
                .unwrap_or_else(|e| panic!("bind {ip}: {e}"));
            let local = s.add(sock, tx);
            s.initial.push(local);
            match UdpSocket::bind(SocketAddr::new(*ip, NAT_T_PORT)).await {
                Ok(sock) => {
                    s.add(sock, tx);
                }
                Err(e) => {
                    eprintln!("bind {ip}:{NAT_T_PORT}: {e} (IKE SAs that float to NAT-T fail)")
                }
            }
        }
        s
    }

    fn add(&mut self, sock: UdpSocket, tx: &mpsc::Sender<Datagram>) -> SocketAddr {
        let sock = Arc::new(sock);
        let local = sock.local_addr().expect("local address");
        self.by_local.insert(local, Arc::clone(&sock));
        tokio::spawn(receive(sock, local, tx.clone()));
        local
    }

    /// Sends one of the engine's datagrams from its local address (with the marker on 4500).
    /// A full socket buffer loses it; the engine retransmits.
    pub async fn send(&self, t: &Transmit) {
        let Some(s) = self.by_local.get(&t.local) else {
            return;
        };
        if t.local.port() == NAT_T_PORT && !t.is_nat_keepalive() {
            let mut d = NON_ESP_MARKER.to_vec();
            d.extend_from_slice(&t.data);
            let _ = s.send_to(&d, t.remote).await;
        } else {
            let _ = s.send_to(&t.data, t.remote).await;
        }
    }
}

async fn receive(s: Arc<UdpSocket>, local: SocketAddr, tx: mpsc::Sender<Datagram>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((n, from)) = s.recv_from(&mut buf).await else {
            continue;
        };
        let data = if local.port() == NAT_T_PORT {
            match buf[..n].strip_prefix(&NON_ESP_MARKER) {
                Some(ike) => ike.to_vec(),
                None => continue,
            }
        } else {
            buf[..n].to_vec()
        };
        if tx.send(Datagram { local, from, data }).await.is_err() {
            return;
        }
    }
}
