//! The Security Policy Database for outbound traffic: traffic selectors → outbound SA handle
//! (RFC 4301 §4.4.1).
//!
//! Only PROTECT entries live here; traffic that matches nothing is the driver's to bypass or
//! discard.

use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::ip::PacketFields;
use crate::spi::Spi;

/// The driver's name for an outbound SA; the SPD only hands it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SaHandle(pub u32);

/// A driver that keys its outbound SAs by SPI names them by it.
impl From<Spi> for SaHandle {
    fn from(spi: Spi) -> Self {
        Self(spi.0)
    }
}

/// An inclusive range of addresses of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddrRange {
    start: IpAddr,
    end: IpAddr,
}

impl AddrRange {
    /// Every IPv4 address.
    pub const ANY_V4: Self = Self {
        start: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        end: IpAddr::V4(Ipv4Addr::BROADCAST),
    };
    /// Every IPv6 address.
    pub const ANY_V6: Self = Self {
        start: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        end: IpAddr::V6(Ipv6Addr::from_bits(u128::MAX)),
    };

    /// `start..=end`; `None` if the families differ or `start > end`.
    pub fn new(start: IpAddr, end: IpAddr) -> Option<Self> {
        let ordered = match (start, end) {
            (IpAddr::V4(s), IpAddr::V4(e)) => s <= e,
            (IpAddr::V6(s), IpAddr::V6(e)) => s <= e,
            _ => false,
        };
        ordered.then_some(Self { start, end })
    }

    /// The addresses of `addr/prefix_len`; `None` if the prefix is longer than the address.
    pub fn from_prefix(addr: IpAddr, prefix_len: u8) -> Option<Self> {
        let bits = u32::from(prefix_len);
        match addr {
            IpAddr::V4(a) if bits <= 32 => {
                let host = u32::MAX.checked_shr(bits).unwrap_or(0);
                let start = a.to_bits() & !host;
                Some(Self {
                    start: Ipv4Addr::from_bits(start).into(),
                    end: Ipv4Addr::from_bits(start | host).into(),
                })
            }
            IpAddr::V6(a) if bits <= 128 => {
                let host = u128::MAX.checked_shr(bits).unwrap_or(0);
                let start = a.to_bits() & !host;
                Some(Self {
                    start: Ipv6Addr::from_bits(start).into(),
                    end: Ipv6Addr::from_bits(start | host).into(),
                })
            }
            _ => None,
        }
    }

    /// The first address.
    pub fn start(&self) -> IpAddr {
        self.start
    }

    /// The last address.
    pub fn end(&self) -> IpAddr {
        self.end
    }

    /// Whether `addr` is in the range (never for the other family).
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.bits().contains(&addr)
    }

    fn bits(&self) -> BitRange {
        BitRange {
            v6: self.start.is_ipv6(),
            start: to_bits(self.start),
            end: to_bits(self.end),
        }
    }
}

/// An inclusive range of ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// First port.
    pub start: u16,
    /// Last port.
    pub end: u16,
}

impl PortRange {
    /// Every port, including the OPAQUE ports of fragments and portless protocols.
    pub const ANY: Self = Self {
        start: 0,
        end: u16::MAX,
    };

    /// Exactly `port`.
    pub fn single(port: u16) -> Self {
        Self {
            start: port,
            end: port,
        }
    }

    /// Whether `port` is in the range.
    pub fn contains(&self, port: u16) -> bool {
        (self.start..=self.end).contains(&port)
    }

    fn is_any(&self) -> bool {
        *self == Self::ANY
    }

    fn span(&self) -> u16 {
        self.end.saturating_sub(self.start)
    }
}

/// A traffic selector pair as seen from this host: local and remote address ranges, the
/// upper-layer protocol (`None` for any) and the ports on each side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TrafficSelector {
    /// Our side's addresses (source of outbound packets).
    pub local: AddrRange,
    /// The peer's side (destination of outbound packets).
    pub remote: AddrRange,
    /// Upper-layer protocol, or `None` for any.
    pub protocol: Option<u8>,
    /// Our side's ports.
    pub local_ports: PortRange,
    /// The peer's side's ports.
    pub remote_ports: PortRange,
}

impl TrafficSelector {
    /// A selector over two address ranges with any protocol and port.
    pub fn new(local: AddrRange, remote: AddrRange) -> Self {
        Self {
            local,
            remote,
            protocol: None,
            local_ports: PortRange::ANY,
            remote_ports: PortRange::ANY,
        }
    }

    /// Whether an outbound packet (source local, destination remote) matches.
    pub fn matches_outbound(&self, packet: &PacketFields) -> bool {
        self.matches(
            packet.source,
            packet.destination,
            packet.protocol,
            packet.ports,
        )
    }

    /// Whether a decrypted inbound packet (source remote, destination local) matches: the
    /// check RFC 4301 §5.2 asks for after an inbound SA opened it.
    pub fn matches_inbound(&self, packet: &PacketFields) -> bool {
        let ports = packet.ports.map(|(s, d)| (d, s));
        self.matches(packet.destination, packet.source, packet.protocol, ports)
    }

    fn matches(
        &self,
        local: IpAddr,
        remote: IpAddr,
        protocol: u8,
        ports: Option<(u16, u16)>,
    ) -> bool {
        self.local.contains(local)
            && self.remote.contains(remote)
            && self.protocol.is_none_or(|p| p == protocol)
            && self.ports_match(ports)
    }

    fn ports_match(&self, ports: Option<(u16, u16)>) -> bool {
        if self.local_ports.is_any() && self.remote_ports.is_any() {
            return true;
        }
        ports.is_some_and(|(local, remote)| {
            self.local_ports.contains(local) && self.remote_ports.contains(remote)
        })
    }

    /// Narrower first: remote range, local range, a given protocol before any, remote ports,
    /// local ports.
    fn specificity(&self, other: &Self) -> Ordering {
        let span = |r: &AddrRange| r.bits().span();
        span(&self.remote)
            .cmp(&span(&other.remote))
            .then(span(&self.local).cmp(&span(&other.local)))
            .then(self.protocol.is_none().cmp(&other.protocol.is_none()))
            .then(self.remote_ports.span().cmp(&other.remote_ports.span()))
            .then(self.local_ports.span().cmp(&other.local_ports.span()))
    }
}

/// One PROTECT policy: traffic matching `selector` goes out through `sa`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpdEntry {
    /// Which traffic.
    pub selector: TrafficSelector,
    /// Through which outbound SA.
    pub sa: SaHandle,
}

/// Outbound policies, searched most specific first.
///
/// Order: an entry with a narrower remote range comes first; ties are broken by a narrower
/// local range, then a given protocol before any protocol, then narrower remote ports, then
/// narrower local ports, and finally by insertion order (earlier first). [`Spd::lookup`]
/// returns the first entry that matches, scanning the entries in that order: cost is linear
/// in the number of entries, with no allocation.
#[derive(Clone, Debug, Default)]
pub struct Spd {
    entries: Vec<SpdEntry>,
}

impl Spd {
    /// An empty SPD.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a policy at its place in the search order.
    pub fn insert(&mut self, entry: SpdEntry) {
        let at = self
            .entries
            .partition_point(|e| e.selector.specificity(&entry.selector) != Ordering::Greater);
        self.entries.insert(at, entry);
    }

    /// Removes every policy that points at `sa`; returns how many.
    pub fn remove(&mut self, sa: SaHandle) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| e.sa != sa);
        before - self.entries.len()
    }

    /// Points every policy of `old` at `new` (after a rekey); returns how many.
    pub fn replace_sa(&mut self, old: SaHandle, new: SaHandle) -> usize {
        let mut n = 0;
        for e in self.entries.iter_mut().filter(|e| e.sa == old) {
            e.sa = new;
            n += 1;
        }
        n
    }

    /// The SA for an outbound inner IPv4 or IPv6 packet; `None` if no policy matches or the
    /// packet cannot be parsed.
    pub fn lookup(&self, inner_packet: &[u8]) -> Option<SaHandle> {
        let fields = PacketFields::parse(inner_packet)?;
        self.lookup_fields(&fields)
    }

    /// As [`Spd::lookup`], for fields already parsed.
    pub fn lookup_fields(&self, fields: &PacketFields) -> Option<SaHandle> {
        self.entries
            .iter()
            .find(|e| e.selector.matches_outbound(fields))
            .map(|e| e.sa)
    }

    /// The policies in search order.
    pub fn entries(&self) -> &[SpdEntry] {
        &self.entries
    }

    /// Number of policies.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no policies.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// An address range as integers, IPv4 in the low 32 bits.
#[derive(Clone, Copy)]
struct BitRange {
    v6: bool,
    start: u128,
    end: u128,
}

impl BitRange {
    fn contains(&self, addr: &IpAddr) -> bool {
        addr.is_ipv6() == self.v6 && (self.start..=self.end).contains(&to_bits(*addr))
    }

    fn span(&self) -> u128 {
        self.end - self.start
    }
}

fn to_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(a.to_bits()),
        IpAddr::V6(a) => a.to_bits(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> AddrRange {
        let (addr, len) = s.split_once('/').unwrap();
        AddrRange::from_prefix(addr.parse().unwrap(), len.parse().unwrap()).unwrap()
    }

    fn fields(src: &str, dst: &str, protocol: u8, ports: Option<(u16, u16)>) -> PacketFields {
        PacketFields {
            source: src.parse().unwrap(),
            destination: dst.parse().unwrap(),
            protocol,
            ports,
        }
    }

    #[test]
    fn most_specific_entry_wins_whatever_the_insertion_order() {
        let mut spd = Spd::new();
        spd.insert(SpdEntry {
            selector: TrafficSelector::new(net("10.1.0.0/16"), net("0.0.0.0/0")),
            sa: SaHandle(1),
        });
        spd.insert(SpdEntry {
            selector: TrafficSelector::new(net("10.1.0.0/16"), net("10.2.0.0/16")),
            sa: SaHandle(2),
        });
        let mut dns = TrafficSelector::new(net("10.1.0.0/16"), net("10.2.0.0/16"));
        dns.protocol = Some(17);
        dns.remote_ports = PortRange::single(53);
        spd.insert(SpdEntry {
            selector: dns,
            sa: SaHandle(3),
        });

        let f = |d: &str, p, ports| fields("10.1.2.3", d, p, ports);
        assert_eq!(
            spd.lookup_fields(&f("10.2.0.9", 17, Some((5000, 53)))),
            Some(SaHandle(3))
        );
        assert_eq!(
            spd.lookup_fields(&f("10.2.0.9", 17, Some((5000, 54)))),
            Some(SaHandle(2))
        );
        assert_eq!(
            spd.lookup_fields(&f("10.2.0.9", 1, None)),
            Some(SaHandle(2))
        );
        assert_eq!(
            spd.lookup_fields(&f("192.0.2.1", 6, Some((1, 2)))),
            Some(SaHandle(1))
        );
        assert_eq!(
            spd.lookup_fields(&fields("10.9.0.1", "10.2.0.1", 6, None)),
            None
        );
        assert_eq!(
            spd.lookup_fields(&fields("2001:db8::1", "2001:db8::2", 6, None)),
            None
        );
    }

    #[test]
    fn equal_entries_keep_insertion_order_and_can_be_retargeted() {
        let mut spd = Spd::new();
        let ts = TrafficSelector::new(AddrRange::ANY_V6, AddrRange::ANY_V6);
        spd.insert(SpdEntry {
            selector: ts,
            sa: SaHandle(7),
        });
        spd.insert(SpdEntry {
            selector: ts,
            sa: SaHandle(8),
        });
        let f = fields("2001:db8::1", "2001:db8::2", 58, None);
        assert_eq!(spd.lookup_fields(&f), Some(SaHandle(7)));
        assert_eq!(spd.replace_sa(SaHandle(7), SaHandle(9)), 1);
        assert_eq!(spd.lookup_fields(&f), Some(SaHandle(9)));
        assert_eq!(spd.remove(SaHandle(9)), 1);
        assert_eq!(spd.lookup_fields(&f), Some(SaHandle(8)));
    }

    #[test]
    fn inbound_check_swaps_the_sides() {
        let mut ts = TrafficSelector::new(net("10.1.0.0/16"), net("10.2.0.0/16"));
        ts.remote_ports = PortRange::single(443);
        let reply = fields("10.2.0.5", "10.1.0.5", 6, Some((443, 40000)));
        assert!(ts.matches_inbound(&reply));
        assert!(!ts.matches_outbound(&reply));
    }

    #[test]
    fn ranges_validate_their_bounds() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "::1".parse().unwrap();
        assert!(AddrRange::new(a, b).is_none());
        assert!(AddrRange::new("10.0.0.2".parse().unwrap(), a).is_none());
        assert!(AddrRange::from_prefix(a, 33).is_none());
        assert_eq!(
            net("10.1.2.3/8").start(),
            "10.0.0.0".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            net("10.1.2.3/8").end(),
            "10.255.255.255".parse::<IpAddr>().unwrap()
        );
        assert!(AddrRange::ANY_V4.contains(a) && !AddrRange::ANY_V4.contains(b));
    }
}
