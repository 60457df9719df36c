//! NAT traversal (RFC 7296 §2.23, RFC 3948): the NAT_DETECTION hashes, the move to port 4500,
//! following the peer's address, and keepalives.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use sha1::{Digest, Sha1};

use super::{Ctx, IKE_PORT, IkeSa, NAT_T_PORT};
use crate::endpoint::Transmit;
use crate::event::Event;
use crate::wire::IkeSpi;

impl IkeSa {
    /// RFC 7296 §2.23: with a NAT in the path, the peer's address is the one of its latest
    /// authenticated message (NAT bindings change; the initiator floats to port 4500).
    pub(super) fn follow_peer(&mut self, local: SocketAddr, remote: SocketAddr, ctx: &mut Ctx<'_>) {
        if (local, remote) == (self.local, self.remote)
            || !(self.nat_detected() || local.port() == NAT_T_PORT)
        {
            return;
        }
        tracing::info!(sa = %self.id, from = %self.remote, to = %remote, "peer address changed");
        self.local = local;
        self.remote = remote;
        if self.is_established() {
            ctx.events.push_back(Event::PeerAddressChanged {
                sa: self.id,
                local,
                remote,
            });
        }
    }

    /// Whether either side is behind a NAT (or encapsulation is forced).
    pub(crate) fn nat_detected(&self) -> bool {
        self.nat_local || self.nat_peer
    }

    /// Moves IKE to port 4500 after NAT detection (RFC 7296 §2.23, RFC 3948).
    pub(super) fn float_to_nat_t(&mut self) {
        if self.nat_detected() && self.local.port() != NAT_T_PORT {
            self.local.set_port(NAT_T_PORT);
            if self.remote.port() == IKE_PORT {
                self.remote.set_port(NAT_T_PORT);
            }
        }
    }

    /// Sends a NAT keepalive when due (we are behind the NAT).
    pub(super) fn keepalive_timeout(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if self.timers.keepalive.is_some_and(|t| t <= now) {
            ctx.transmits.push_back(Transmit {
                local: self.local,
                remote: self.remote,
                data: vec![0xff],
            });
            self.timers.keepalive = Some(now + self.conn.nat_keepalive);
        }
    }
}

/// `SHA-1(SPIi | SPIr | IP | Port)`. SHA-1 is what the RFC fixes for this public, non-secret
/// hash, so it is computed here rather than through the crypto provider.
pub(crate) fn nat_hash(spi_i: IkeSpi, spi_r: IkeSpi, addr: SocketAddr) -> Vec<u8> {
    let mut h = Sha1::new();
    h.update(spi_i.to_be_bytes());
    h.update(spi_r.to_be_bytes());
    match addr.ip() {
        IpAddr::V4(a) => h.update(a.octets()),
        IpAddr::V6(a) => h.update(a.octets()),
    }
    h.update(addr.port().to_be_bytes());
    h.finalize().to_vec()
}
