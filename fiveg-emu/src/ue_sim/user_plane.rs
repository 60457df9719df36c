//! One PDU session's user plane at the UE, sans-IO (TS 24.502 §9.3.3): user IP packets from
//! the PDU address go into GRE with the QFI in the Key, inside an outer IPv4 packet from the
//! UE's inner address to the N3IWF's UP_IP4_ADDRESS, sealed on the user-plane Child SA; the
//! way back is checked at each step, and each drop is counted.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::inner::gre::{self, GRE_HEADER_LEN, GreKey, IP_PROTOCOL_GRE, ProtocolType, Qfi};
use crate::inner::ipv4::{self, IPV4_HEADER_LEN};
use crate::inner::{EspLink, InnerStack, Received, StackConfig};

/// Echo requests awaiting a reply at once; older ones count as lost.
pub const MAX_PINGS_IN_FLIGHT: usize = 64;
const ECHO_ID: u16 = 0x5545;

/// What the PDU session and the Child SA's notifies say.
#[derive(Clone, Copy, Debug)]
pub struct UpSetup {
    /// The UE's inner address on NWu (the CP reply of IKE_AUTH).
    pub inner: Ipv4Addr,
    /// The N3IWF's GRE end (UP_IP4_ADDRESS).
    pub n3iwf: Ipv4Addr,
    /// The PDU address from the ACCEPT.
    pub pdu_address: Ipv4Addr,
    /// The QFI of the uplink (the default QoS rule's).
    pub qfi: Qfi,
    pub protocol: ProtocolType,
}

/// Packets through the user plane, and what was dropped.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct UpCounters {
    pub sent: u64,
    pub received: u64,
    /// ESP drops (bad ICV, replay, outside the selectors).
    pub esp_dropped: u64,
    /// Inner packets that were not GRE from the N3IWF to us, or bad GRE.
    pub gre_dropped: u64,
    /// GRE payloads not addressed to the PDU address.
    pub not_ours: u64,
    /// The QFI of the last downlink packet.
    pub last_downlink_qfi: Option<u8>,
}

/// The user plane of one PDU session.
pub struct UserPlane {
    link: EspLink,
    stack: InnerStack,
    setup: UpSetup,
    pings: BTreeMap<u16, Instant>,
    replies: Vec<(u16, Duration)>,
    pending: Vec<Vec<u8>>,
    counters: UpCounters,
}

impl UserPlane {
    /// A user plane on `link` with a TCP/IP stack on the PDU address.
    pub fn new(link: EspLink, setup: UpSetup, mut config: StackConfig, now: Instant) -> Self {
        config.address = IpAddr::V4(setup.pdu_address);
        config.mtu = config.mtu.saturating_sub(IPV4_HEADER_LEN + GRE_HEADER_LEN);
        Self {
            link,
            stack: InnerStack::new(config, now),
            setup,
            pings: BTreeMap::new(),
            replies: Vec::new(),
            pending: Vec::new(),
            counters: UpCounters::default(),
        }
    }

    /// Whether an ESP packet with `spi` (our inbound SPI) is this Child SA's.
    pub fn owns(&self, spi: u32) -> bool {
        self.link.inbound_spi().0 == spi
    }

    pub fn remote(&self) -> SocketAddr {
        self.link.remote()
    }

    pub fn stack(&mut self) -> &mut InnerStack {
        &mut self.stack
    }

    pub fn counters(&self) -> UpCounters {
        self.counters
    }

    /// One ESP datagram: echo replies are taken here, other user packets go to the stack.
    pub fn receive(&mut self, datagram: &mut [u8], now: Instant) {
        let Ok(Received::Inner(inner)) = self.link.receive(datagram) else {
            self.counters.esp_dropped += 1;
            return;
        };
        let Some(user) = user_packet(inner, &self.setup) else {
            self.counters.gre_dropped += 1;
            return;
        };
        let (key, packet) = user;
        self.counters.last_downlink_qfi = Some(key.qfi.value());
        match ipv4::parse(packet) {
            Some((_, _, dst, _)) if dst == self.setup.pdu_address => {}
            _ => {
                self.counters.not_ours += 1;
                return;
            }
        }
        self.counters.received += 1;
        if let Some((_, ECHO_ID, seq, _)) = ipv4::echo_reply(packet, self.setup.pdu_address) {
            if let Some(sent) = self.pings.remove(&seq) {
                self.replies.push((seq, now - sent));
            }
            return;
        }
        let _ = self.stack.push_inbound(packet);
    }

    /// Queues an echo request to `target` with sequence number `seq`.
    pub fn ping(&mut self, target: Ipv4Addr, seq: u16, payload: &[u8], now: Instant) {
        if self.pings.len() >= MAX_PINGS_IN_FLIGHT {
            self.pings.pop_first();
        }
        self.pings.insert(seq, now);
        let packet = ipv4::echo_request(self.setup.pdu_address, target, ECHO_ID, seq, payload);
        self.pending.push(packet);
    }

    /// Echo replies received so far (sequence number, round-trip time), taken.
    pub fn take_replies(&mut self) -> Vec<(u16, Duration)> {
        std::mem::take(&mut self.replies)
    }

    /// Runs the stack and seals what it and [`UserPlane::ping`] queued: ESP datagrams to send.
    pub fn poll_transmit(&mut self, now: Instant) -> Vec<Vec<u8>> {
        self.stack.poll(now);
        while let Some(packet) = self.stack.poll_transmit() {
            self.pending.push(packet);
        }
        let mut out = Vec::new();
        for packet in std::mem::take(&mut self.pending) {
            let mut inner = Vec::with_capacity(packet.len() + IPV4_HEADER_LEN + GRE_HEADER_LEN);
            let gre_len = packet.len() + GRE_HEADER_LEN;
            ipv4::push_header(
                self.setup.inner,
                self.setup.n3iwf,
                IP_PROTOCOL_GRE,
                gre_len,
                &mut inner,
            );
            let key = GreKey {
                qfi: self.setup.qfi,
                rqi: false,
            };
            gre::encapsulate(key, self.setup.protocol, &packet, &mut inner);
            let mut sealed = Vec::new();
            if self.link.send(&inner, &mut sealed).is_ok() {
                self.counters.sent += 1;
                out.push(sealed);
            }
        }
        out
    }

    /// When the stack wants to run next.
    pub fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        self.stack.poll_at(now)
    }
}

/// The GRE key and user packet of an inner packet from the N3IWF's GRE end to us.
fn user_packet<'a>(inner: &'a [u8], setup: &UpSetup) -> Option<(GreKey, &'a [u8])> {
    let (protocol, src, dst, payload) = ipv4::parse(inner)?;
    if protocol != IP_PROTOCOL_GRE || src != setup.n3iwf || dst != setup.inner {
        return None;
    }
    gre::decapsulate(payload).ok()
}

/// The ESP SPI of a UDP-encapsulated ESP datagram (RFC 3948 §2.1).
pub fn esp_spi(datagram: &[u8]) -> Option<u32> {
    let spi: [u8; 4] = datagram.get(..4)?.try_into().ok()?;
    Some(u32::from_be_bytes(spi))
}
