//! A UE and an N3IWF inner stack joined by two ESP links and an outer wire in memory, on a
//! virtual clock, with loss and reordering on the wire. The Child SA pair comes from a real
//! IKEv2 exchange between two engines, or from crafted matching keys.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

pub mod ike;

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use esp::{AddrRange, Cipher, SaConfig, Spi, TrafficSelector};
use fiveg_emu::inner::{
    ConnId, EspLink, InnerStack, LinkConfig, Received, StackConfig, StackEvent,
};
use ipsec_crypto::{AeadAlgorithm, SecretBytes};

/// The UE's inner address (CP reply) and the N3IWF's NAS address and port (notifies).
pub const UE_INNER: &str = "10.0.0.2";
pub const NAS_IP: &str = "10.0.0.1";
pub const NAS_PORT: u16 = 20000;

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn nas_addr() -> SocketAddr {
    SocketAddr::new(ip(NAS_IP), NAS_PORT)
}

/// What the wire does with one outer datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Deliver,
    Drop,
    Delay(Duration),
}

/// Decides the fate of datagram number `index` (from 0, both directions), sent towards the
/// N3IWF when `uplink`.
pub type Policy = Box<dyn FnMut(usize, bool, &[u8]) -> Fate>;

/// Sees an inner packet a stack sends (`true` for the UE's) at a time, before sealing.
pub type Tap = Box<dyn FnMut(bool, Instant, &[u8])>;

/// One side: its ESP link and its inner stack.
pub struct Side {
    pub link: EspLink,
    pub stack: InnerStack,
    pub events: Vec<StackEvent>,
}

pub struct Net {
    pub now: Instant,
    pub ue: Side,
    pub n3iwf: Side,
    pub latency: Duration,
    pub policy: Policy,
    /// Sees every inner packet a stack sends (`true` for the UE's), before sealing.
    pub tap: Option<Tap>,
    /// (delivery time, towards the N3IWF, datagram)
    wire: VecDeque<(Instant, bool, Vec<u8>)>,
    pub sent: usize,
    pub dropped: usize,
    /// Datagrams handed to a link, and those the link or the stack refused.
    pub delivered: usize,
    pub refused: usize,
}

impl Net {
    /// Stacks with default settings over the given links.
    pub fn new(ue_link: EspLink, n3iwf_link: EspLink) -> Self {
        Self::with_configs(
            ue_link,
            StackConfig::new(ip(UE_INNER)),
            n3iwf_link,
            StackConfig::new(ip(NAS_IP)),
        )
    }

    pub fn with_configs(
        ue_link: EspLink,
        ue: StackConfig,
        n3iwf_link: EspLink,
        n3iwf: StackConfig,
    ) -> Self {
        let now = Instant::now();
        let mut n3iwf_cfg = n3iwf;
        n3iwf_cfg.random_seed ^= 0xa5a5;
        Self {
            now,
            ue: Side {
                link: ue_link,
                stack: InnerStack::new(ue, now),
                events: Vec::new(),
            },
            n3iwf: Side {
                link: n3iwf_link,
                stack: InnerStack::new(n3iwf_cfg, now),
                events: Vec::new(),
            },
            latency: Duration::from_millis(10),
            policy: Box::new(|_, _, _| Fate::Deliver),
            tap: None,
            wire: VecDeque::new(),
            sent: 0,
            dropped: 0,
            delivered: 0,
            refused: 0,
        }
    }

    /// Runs until `done` says so, at most `max_steps` steps; true if it did. Each step polls
    /// both stacks, carries their packets through the links, and moves virtual time to the
    /// next delivery or timer.
    pub fn run(&mut self, max_steps: usize, mut done: impl FnMut(&mut Self) -> bool) -> bool {
        for _ in 0..max_steps {
            self.exchange();
            if done(self) {
                return true;
            }
            let Some(next) = self.next_wakeup() else {
                return done(self);
            };
            self.now = self.now.max(next);
            self.deliver_due();
        }
        false
    }

    /// Polls both stacks and puts what they send on the wire.
    pub fn exchange(&mut self) {
        for uplink in [true, false] {
            let now = self.now;
            let side = if uplink {
                &mut self.ue
            } else {
                &mut self.n3iwf
            };
            side.stack.poll(now);
            side.events
                .extend(std::iter::from_fn(|| side.stack.poll_event()));
            let mut out = Vec::new();
            let mut sealed = Vec::new();
            while let Some(packet) = side.stack.poll_transmit() {
                if let Some(tap) = self.tap.as_mut() {
                    tap(uplink, now, &packet);
                }
                side.link.send(&packet, &mut out).unwrap();
                sealed.push(out.clone());
            }
            for datagram in sealed {
                self.put_on_wire(uplink, datagram);
            }
        }
    }

    /// Puts an outer datagram on the wire as if `uplink` (UE → N3IWF) or not.
    pub fn put_on_wire(&mut self, uplink: bool, datagram: Vec<u8>) {
        let index = self.sent;
        self.sent += 1;
        let at = self.now + self.latency;
        match (self.policy)(index, uplink, &datagram) {
            Fate::Deliver => self.wire.push_back((at, uplink, datagram)),
            Fate::Drop => self.dropped += 1,
            Fate::Delay(d) => self.wire.push_back((at + d, uplink, datagram)),
        }
    }

    fn next_wakeup(&mut self) -> Option<Instant> {
        let now = self.now;
        let wire = self.wire.iter().map(|w| w.0).min();
        let ue = self.ue.stack.poll_at(now);
        let n3iwf = self.n3iwf.stack.poll_at(now);
        [wire, ue, n3iwf].into_iter().flatten().min()
    }

    /// Hands every datagram due by now to the receiving link and stack, in delivery order.
    fn deliver_due(&mut self) {
        let now = self.now;
        let mut due: Vec<(Instant, bool, Vec<u8>)> = Vec::new();
        self.wire.retain(|w| {
            let ready = w.0 <= now;
            if ready {
                due.push(w.clone());
            }
            !ready
        });
        due.sort_by_key(|w| w.0);
        for (_, uplink, mut datagram) in due {
            let side = if uplink {
                &mut self.n3iwf
            } else {
                &mut self.ue
            };
            self.delivered += 1;
            let pushed = match side.link.receive(&mut datagram) {
                Ok(Received::Inner(packet)) => side.stack.push_inbound(packet).is_ok(),
                _ => false,
            };
            if !pushed {
                self.refused += 1;
            }
        }
    }
}

/// A pair of links with crafted matching AES-GCM keys and /32 selectors between the UE's inner
/// address and the NAS address: (UE, N3IWF).
pub fn crafted_links(udp_encapsulation: bool) -> (EspLink, EspLink) {
    let up = || SecretBytes::from_slice(&[0x11; 20]);
    let down = || SecretBytes::from_slice(&[0x22; 20]);
    let cipher = Cipher::Aead(AeadAlgorithm::Aes128Gcm16);
    let ue_addr: SocketAddr = "192.0.2.10:4500".parse().unwrap();
    let n3iwf_addr: SocketAddr = "192.0.2.1:4500".parse().unwrap();
    let ue = LinkConfig {
        inbound: SaConfig::new(Spi(0xc000_0001), cipher, down()),
        outbound: SaConfig::new(Spi(0xd000_0001), cipher, up()),
        selectors: vec![selector(UE_INNER, NAS_IP)],
        local: ue_addr,
        remote: n3iwf_addr,
        udp_encapsulation,
    };
    let n3iwf = LinkConfig {
        inbound: SaConfig::new(Spi(0xd000_0001), cipher, up()),
        outbound: SaConfig::new(Spi(0xc000_0001), cipher, down()),
        selectors: vec![selector(NAS_IP, UE_INNER)],
        local: n3iwf_addr,
        remote: ue_addr,
        udp_encapsulation,
    };
    let p = ipsec_crypto::default_provider();
    (
        EspLink::new(p, ue).unwrap(),
        EspLink::new(p, n3iwf).unwrap(),
    )
}

/// Any protocol and port between two single addresses, seen from `local`.
pub fn selector(local: &str, remote: &str) -> TrafficSelector {
    TrafficSelector::new(
        AddrRange::from_prefix(ip(local), 32).unwrap(),
        AddrRange::from_prefix(ip(remote), 32).unwrap(),
    )
}

/// Deterministic pseudo-random numbers (xorshift) for loss patterns and payloads.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// An IPv4 packet carrying `payload` as IP protocol `protocol` (ports are the payload's first
/// four octets for TCP and UDP).
pub fn ipv4(src: &str, dst: &str, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut p = vec![0u8; 20];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[8] = 64;
    p[9] = protocol;
    let (IpAddr::V4(s), IpAddr::V4(d)) = (ip(src), ip(dst)) else {
        panic!("IPv4 only");
    };
    p[12..16].copy_from_slice(&s.octets());
    p[16..20].copy_from_slice(&d.octets());
    let sum = checksum(&p);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// A UDP datagram (checksum 0, which IPv4 allows) in an IPv4 packet.
pub fn ipv4_udp(src: &str, dst: &str, ports: (u16, u16), payload: &[u8]) -> Vec<u8> {
    let mut udp = Vec::new();
    udp.extend_from_slice(&ports.0.to_be_bytes());
    udp.extend_from_slice(&ports.1.to_be_bytes());
    udp.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    ipv4(src, dst, 17, &udp)
}

fn checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

impl Net {
    /// The N3IWF listens on the NAS port and the UE connects to it: (UE conn, N3IWF conn).
    pub fn open_nas_connection(&mut self) -> (ConnId, ConnId) {
        self.n3iwf.stack.listen(NAS_PORT).unwrap();
        let ue = self.ue.stack.connect(nas_addr()).unwrap();
        let mut accepted = None;
        let up = self.run(1000, |net| {
            accepted = net.n3iwf.events.iter().find_map(|e| match e {
                StackEvent::Accepted { conn, .. } => Some(*conn),
                _ => None,
            });
            accepted.is_some() && net.ue.events.contains(&StackEvent::Connected(ue))
        });
        assert!(
            up,
            "no connection: UE {:?}, N3IWF {:?}",
            self.ue.events, self.n3iwf.events
        );
        (ue, accepted.unwrap())
    }
}

/// Octets one side still has to send, and what it received.
#[derive(Default)]
pub struct Pump {
    pub to_send: Vec<u8>,
    pub sent: usize,
    pub received: Vec<u8>,
}

impl Pump {
    pub fn new(to_send: Vec<u8>) -> Self {
        Self {
            to_send,
            ..Self::default()
        }
    }

    /// Writes what the send buffer takes and reads what arrived.
    pub fn pump(&mut self, stack: &mut InnerStack, conn: ConnId) {
        if self.sent < self.to_send.len() {
            self.sent += stack.send(conn, &self.to_send[self.sent..]).unwrap();
        }
        let mut buf = [0u8; 8192];
        while let Ok(n @ 1..) = stack.recv(conn, &mut buf) {
            self.received.extend_from_slice(&buf[..n]);
        }
    }
}
