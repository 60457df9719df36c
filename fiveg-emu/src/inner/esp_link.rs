//! One Child SA pair as a link for inner IP packets: outer datagrams (ESP in UDP, or raw ESP)
//! in, decrypted inner packets out; inner packets in, ESP packets out.

use std::fmt;
use std::net::SocketAddr;

use esp::natt::{self, NatTPayload};
use esp::{
    Cipher, DropCounters, DropReason, EspError, InboundSa, OutboundSa, PacketFields, SaConfig,
    SaCounters, SaEvent, Spi, TrafficSelector,
};
use ikev2::{ChildSa, Negotiated};
use ipsec_crypto::CryptoProvider;

use super::selectors::selector_pairs;

/// What a [`EspLink`] is set up with. Holds key material (in the two [`SaConfig`]s), so it is
/// neither `Clone` nor `Debug`.
pub struct LinkConfig {
    /// The SA of packets we receive (our SPI).
    pub inbound: SaConfig,
    /// The SA of packets we send (the peer's SPI).
    pub outbound: SaConfig,
    /// The selector pairs, seen from this side; inner packets must match one of them.
    pub selectors: Vec<TrafficSelector>,
    /// Our outer address (port 4500 with UDP encapsulation).
    pub local: SocketAddr,
    /// The peer's outer address.
    pub remote: SocketAddr,
    /// ESP in UDP (RFC 3948) rather than raw ESP (IP protocol 50).
    pub udp_encapsulation: bool,
}

impl LinkConfig {
    /// The configuration of the Child SA the engine negotiated; its keys move into it.
    ///
    /// # Errors
    /// [`LinkError::UnsupportedSuite`] when the suite has no ESP transform here, and
    /// [`LinkError::NoSelectorPair`] when no local/remote selector pair can match a packet.
    pub fn from_child_sa(child: ChildSa) -> Result<Self, LinkError> {
        let cipher = cipher(&child.suite)?;
        let selectors = selector_pairs(&child.local_ts, &child.remote_ts);
        if selectors.is_empty() {
            return Err(LinkError::NoSelectorPair);
        }
        let esn = child.suite.esn_enabled();
        let sa = |spi: ikev2::EspSpi, keys| {
            // The SPI crosses from the engine's type to the datapath's here.
            let mut config = SaConfig::new(Spi(spi.0), cipher, keys);
            config.esn = esn;
            config
        };
        Ok(Self {
            inbound: sa(child.inbound_spi, child.inbound_keys),
            outbound: sa(child.outbound_spi, child.outbound_keys),
            selectors,
            local: child.local,
            remote: child.remote,
            udp_encapsulation: child.udp_encapsulation,
        })
    }
}

/// Why a [`EspLink`] could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The negotiated suite has no ESP transform in the datapath.
    #[error("no ESP transform for {0}")]
    UnsupportedSuite(String),
    /// No pair of the negotiated selectors can match a packet.
    #[error("no usable traffic selector pair")]
    NoSelectorPair,
    /// The ESP datapath refused the keys.
    #[error("ESP SA: {0}")]
    Esp(#[from] EspError),
}

/// What an outer datagram carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received<'a> {
    /// A decrypted inner IP packet that matches the Child SA's selectors.
    Inner(&'a [u8]),
    /// An IKE message after the non-ESP marker (UDP encapsulation only): the engine's.
    Ike(&'a [u8]),
    /// A NAT-keepalive (RFC 3948 §2.3), discarded.
    Keepalive,
}

/// Why a packet did not pass the link. Each is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkDrop {
    /// The ESP datapath refused it (bad ICV, replay, unknown SPI, …).
    Esp(DropReason),
    /// A UDP payload that is neither ESP, IKE nor a keepalive (RFC 3948 §2.2).
    NotEsp,
    /// The inner packet is not IPv4 or IPv6, or is truncated.
    NotIp,
    /// The inner packet matches none of the Child SA's selectors (RFC 4301 §5.2).
    SelectorMismatch,
}

impl fmt::Display for LinkDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Esp(reason) => write!(f, "ESP: {reason}"),
            Self::NotEsp => f.write_str("not ESP, IKE or a keepalive"),
            Self::NotIp => f.write_str("inner packet is not IP"),
            Self::SelectorMismatch => f.write_str("outside the traffic selectors"),
        }
    }
}

impl std::error::Error for LinkDrop {}

/// Packets a link passed and dropped, per direction and reason. ESP drops are in
/// [`EspLink::inbound_drops`] and [`EspLink::outbound_drops`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkCounters {
    /// Inner packets decrypted and delivered.
    pub received: u64,
    /// Inner packets sealed.
    pub sent: u64,
    /// IKE messages handed back.
    pub ike: u64,
    /// NAT-keepalives discarded.
    pub keepalives: u64,
    /// UDP payloads that were not ESP, IKE or a keepalive.
    pub not_esp: u64,
    /// Decrypted packets refused by the selector check.
    pub inbound_selector_mismatch: u64,
    /// Packets to send refused by the selector check, or not IP.
    pub outbound_selector_mismatch: u64,
    /// Decrypted payloads that were not IP packets.
    pub inbound_not_ip: u64,
}

/// Which half of the Child SA an [`SaEvent`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The SA of received packets.
    Inbound,
    /// The SA of sent packets.
    Outbound,
}

/// One Child SA pair, sans-IO. The caller receives outer datagrams from its socket (the UDP
/// payload on port 4500, or the payload of IP protocol 50) and sends what [`EspLink::send`]
/// writes to [`EspLink::remote`] the same way.
pub struct EspLink {
    inbound: InboundSa,
    outbound: OutboundSa,
    selectors: Vec<TrafficSelector>,
    local: SocketAddr,
    remote: SocketAddr,
    udp_encapsulation: bool,
    counters: LinkCounters,
}

impl EspLink {
    /// Keys both SAs of `config`.
    ///
    /// # Errors
    /// [`LinkError::Esp`] when the provider lacks the transform or the keys have the wrong
    /// length; [`LinkError::NoSelectorPair`] for an empty selector list.
    pub fn new(provider: &dyn CryptoProvider, config: LinkConfig) -> Result<Self, LinkError> {
        if config.selectors.is_empty() {
            return Err(LinkError::NoSelectorPair);
        }
        Ok(Self {
            inbound: InboundSa::new(provider, config.inbound)?,
            outbound: OutboundSa::new(provider, config.outbound)?,
            selectors: config.selectors,
            local: config.local,
            remote: config.remote,
            udp_encapsulation: config.udp_encapsulation,
            counters: LinkCounters::default(),
        })
    }

    /// A link for the Child SA the engine negotiated.
    ///
    /// # Errors
    /// As [`LinkConfig::from_child_sa`] and [`EspLink::new`].
    pub fn from_child_sa(provider: &dyn CryptoProvider, child: ChildSa) -> Result<Self, LinkError> {
        Self::new(provider, LinkConfig::from_child_sa(child)?)
    }

    /// Takes one outer datagram, decrypting it in place.
    ///
    /// # Errors
    /// The [`LinkDrop`] for the datagram, which is also counted.
    pub fn receive<'a>(&mut self, datagram: &'a mut [u8]) -> Result<Received<'a>, LinkDrop> {
        if self.udp_encapsulation {
            match natt::classify(datagram) {
                Some(NatTPayload::Esp(_)) => {}
                Some(NatTPayload::Ike(ike)) => {
                    self.counters.ike += 1;
                    let start = datagram.len() - ike.len();
                    return Ok(Received::Ike(&datagram[start..]));
                }
                Some(NatTPayload::Keepalive) => {
                    self.counters.keepalives += 1;
                    return Ok(Received::Keepalive);
                }
                None => {
                    self.counters.not_esp += 1;
                    return Err(LinkDrop::NotEsp);
                }
            }
        }
        let opened = self.inbound.open(datagram).map_err(LinkDrop::Esp)?;
        let inner = &datagram[opened.inner];
        self.check_inbound(inner)?;
        self.counters.received += 1;
        Ok(Received::Inner(inner))
    }

    /// Seals one inner IP packet into `out` (cleared first): the ESP packet to send.
    ///
    /// # Errors
    /// [`LinkDrop::SelectorMismatch`] or [`LinkDrop::NotIp`] when the packet does not belong
    /// to this Child SA, [`LinkDrop::Esp`] when the SA refuses it (lifetime, sequence numbers).
    pub fn send(&mut self, inner: &[u8], out: &mut Vec<u8>) -> Result<(), LinkDrop> {
        let Some(fields) = PacketFields::parse(inner) else {
            self.counters.outbound_selector_mismatch += 1;
            return Err(LinkDrop::NotIp);
        };
        if !self.selectors.iter().any(|s| s.matches_outbound(&fields)) {
            self.counters.outbound_selector_mismatch += 1;
            return Err(LinkDrop::SelectorMismatch);
        }
        self.seal(inner, out)
    }

    /// Seals `inner` whatever it is, skipping the selector check: for tests where this side
    /// misbehaves and the peer must drop the packet.
    ///
    /// # Errors
    /// [`LinkDrop::Esp`] when the SA refuses it.
    pub fn send_outside_selectors(
        &mut self,
        inner: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), LinkDrop> {
        self.seal(inner, out)
    }

    /// The next lifetime or sequence-number event of either SA.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<(Direction, SaEvent)> {
        if let Some(event) = self.inbound.poll_event() {
            return Some((Direction::Inbound, event));
        }
        self.outbound
            .poll_event()
            .map(|event| (Direction::Outbound, event))
    }

    /// Our outer address.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// Where the ESP packets go.
    pub fn remote(&self) -> SocketAddr {
        self.remote
    }

    /// Whether the ESP packets travel in UDP (port 4500) rather than as IP protocol 50.
    pub fn is_udp_encapsulated(&self) -> bool {
        self.udp_encapsulation
    }

    /// Our SPI (of the packets we receive).
    pub fn inbound_spi(&self) -> Spi {
        self.inbound.spi()
    }

    /// The peer's SPI (of the packets we send).
    pub fn outbound_spi(&self) -> Spi {
        self.outbound.spi()
    }

    /// The selector pairs inner packets must match.
    pub fn selectors(&self) -> &[TrafficSelector] {
        &self.selectors
    }

    /// Packets passed and dropped by the link itself.
    pub fn counters(&self) -> LinkCounters {
        self.counters
    }

    /// Received packets the ESP SA dropped, by reason.
    pub fn inbound_drops(&self) -> &DropCounters {
        self.inbound.drops()
    }

    /// Packets to send the ESP SA refused, by reason.
    pub fn outbound_drops(&self) -> &DropCounters {
        self.outbound.drops()
    }

    /// Packets and bytes the inbound and outbound SAs carried.
    pub fn sa_counters(&self) -> (SaCounters, SaCounters) {
        (self.inbound.counters(), self.outbound.counters())
    }

    fn check_inbound(&mut self, inner: &[u8]) -> Result<(), LinkDrop> {
        let Some(fields) = PacketFields::parse(inner) else {
            self.counters.inbound_not_ip += 1;
            return Err(LinkDrop::NotIp);
        };
        // RFC 4301 §5.2: a packet an inbound SA opened must match that SA's selectors.
        if !self.selectors.iter().any(|s| s.matches_inbound(&fields)) {
            self.counters.inbound_selector_mismatch += 1;
            return Err(LinkDrop::SelectorMismatch);
        }
        Ok(())
    }

    fn seal(&mut self, inner: &[u8], out: &mut Vec<u8>) -> Result<(), LinkDrop> {
        let start = OutboundSa::HEADROOM;
        out.clear();
        out.resize(start + inner.len() + OutboundSa::TAILROOM, 0);
        out[start..start + inner.len()].copy_from_slice(inner);
        let range = self
            .outbound
            .seal(out, start, inner.len())
            .map_err(LinkDrop::Esp)?;
        out.truncate(range.end);
        out.drain(..range.start);
        self.counters.sent += 1;
        Ok(())
    }
}

fn cipher(suite: &Negotiated) -> Result<Cipher, LinkError> {
    if let Some(aead) = suite.aead() {
        return Ok(Cipher::Aead(aead));
    }
    if let Some((cipher, integ)) = suite.cbc() {
        return Ok(Cipher::Cbc { cipher, integ });
    }
    Err(LinkError::UnsupportedSuite(suite.to_string()))
}
