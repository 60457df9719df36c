//! The few facts about an inner IP packet the datapath needs: its version, the length it
//! claims, and the selector fields of RFC 4301 §4.4.1.1.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Next Header value of an inner IPv4 packet (IP-in-IP).
pub const NEXT_HEADER_IPV4: u8 = 4;
/// Next Header value of an inner IPv6 packet.
pub const NEXT_HEADER_IPV6: u8 = 41;
/// Next Header value of a dummy packet, "no next header" (RFC 4303 §2.6).
pub const NEXT_HEADER_NONE: u8 = 59;

const IPV4_MIN_HEADER_LEN: usize = 20;
const IPV6_HEADER_LEN: usize = 40;
/// Extension headers walked before giving up on finding the upper-layer protocol.
const MAX_IPV6_EXTENSION_HEADERS: usize = 8;

/// The selector fields of an inner packet, outbound view: source is local, destination remote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketFields {
    /// Source address.
    pub source: IpAddr,
    /// Destination address.
    pub destination: IpAddr,
    /// Upper-layer protocol (after IPv6 extension headers).
    pub protocol: u8,
    /// Source and destination ports, for TCP, UDP, SCTP, DCCP and UDP-Lite. `None` for other
    /// protocols, for non-first fragments and for a truncated transport header: such packets
    /// have OPAQUE ports (RFC 4301 §4.4.1.1) and only match selectors with any port.
    pub ports: Option<(u16, u16)>,
}

impl PacketFields {
    /// Reads the fields from an IPv4 or IPv6 packet; `None` if it is neither or is truncated.
    pub fn parse(packet: &[u8]) -> Option<Self> {
        match packet.first()? >> 4 {
            4 => parse_ipv4(packet),
            6 => parse_ipv6(packet),
            _ => None,
        }
    }
}

/// The tunnel-mode Next Header for an inner packet, from its version nibble.
pub(crate) fn next_header_for(packet: &[u8]) -> Option<u8> {
    match packet.first()? >> 4 {
        4 => Some(NEXT_HEADER_IPV4),
        6 => Some(NEXT_HEADER_IPV6),
        _ => None,
    }
}

/// The length the inner packet's header claims, if it is a plausible IPv4 or IPv6 header that
/// fits in `packet`. Anything after that length is TFC padding (RFC 4303 §2.7).
pub(crate) fn claimed_len(packet: &[u8]) -> Option<usize> {
    let version = packet.first()? >> 4;
    let field = usize::from(u16::from_be_bytes(*packet.get(2..4)?.first_chunk::<2>()?));
    let len = match version {
        4 if packet.len() >= IPV4_MIN_HEADER_LEN && field >= IPV4_MIN_HEADER_LEN => field,
        6 if packet.len() >= IPV6_HEADER_LEN => {
            let payload = usize::from(u16::from_be_bytes(*packet.get(4..6)?.first_chunk::<2>()?));
            // A zero Payload Length marks a jumbogram (RFC 2675): take the whole payload.
            if payload == 0 {
                packet.len()
            } else {
                IPV6_HEADER_LEN + payload
            }
        }
        _ => return None,
    };
    (len <= packet.len()).then_some(len)
}

fn parse_ipv4(packet: &[u8]) -> Option<PacketFields> {
    let header_len = usize::from(packet.first()? & 0x0f) * 4;
    if header_len < IPV4_MIN_HEADER_LEN || packet.len() < header_len {
        return None;
    }
    let protocol = *packet.get(9)?;
    let source = Ipv4Addr::from(*packet.get(12..16)?.first_chunk::<4>()?);
    let destination = Ipv4Addr::from(*packet.get(16..20)?.first_chunk::<4>()?);
    let flags_offset = u16::from_be_bytes(*packet.get(6..8)?.first_chunk::<2>()?);
    let first_fragment = flags_offset & 0x1fff == 0;
    let ports = if first_fragment {
        ports(protocol, packet.get(header_len..)?)
    } else {
        None
    };
    Some(PacketFields {
        source: source.into(),
        destination: destination.into(),
        protocol,
        ports,
    })
}

fn parse_ipv6(packet: &[u8]) -> Option<PacketFields> {
    let source = Ipv6Addr::from(*packet.get(8..24)?.first_chunk::<16>()?);
    let destination = Ipv6Addr::from(*packet.get(24..40)?.first_chunk::<16>()?);
    let mut protocol = *packet.get(6)?;
    let mut at = IPV6_HEADER_LEN;
    let mut first_fragment = true;
    for _ in 0..MAX_IPV6_EXTENSION_HEADERS {
        let Some(ext) = packet.get(at..at + 8) else {
            break;
        };
        let [next, len_field, o0, o1, ..] = *ext.first_chunk::<8>()?;
        let ext_len = match protocol {
            // Hop-by-Hop, Routing, Destination Options: 8-octet units beyond the first.
            0 | 43 | 60 => (usize::from(len_field) + 1) * 8,
            // Fragment: fixed size; only the first fragment carries the ports.
            44 => {
                first_fragment = u16::from_be_bytes([o0, o1]) & 0xfff8 == 0;
                8
            }
            // AH: 4-octet units, less two.
            51 => (usize::from(len_field) + 2) * 4,
            _ => break,
        };
        protocol = next;
        at += ext_len;
    }
    let ports = if first_fragment {
        packet.get(at..).and_then(|t| ports(protocol, t))
    } else {
        None
    };
    Some(PacketFields {
        source: source.into(),
        destination: destination.into(),
        protocol,
        ports,
    })
}

/// Ports of the protocols whose header starts with source and destination port.
fn ports(protocol: u8, transport: &[u8]) -> Option<(u16, u16)> {
    // TCP, UDP, DCCP, SCTP, UDP-Lite.
    if !matches!(protocol, 6 | 17 | 33 | 132 | 136) {
        return None;
    }
    let [s0, s1, d0, d1] = *transport.first_chunk::<4>()?;
    Some((u16::from_be_bytes([s0, s1]), u16::from_be_bytes([d0, d1])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0];
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(&sport.to_be_bytes());
        p.extend_from_slice(&dport.to_be_bytes());
        p.extend_from_slice(&[0, 8, 0, 0]);
        p
    }

    #[test]
    fn parses_ipv4_udp() {
        let p = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1234, 53);
        let f = PacketFields::parse(&p).unwrap();
        assert_eq!(f.source, IpAddr::from([10, 0, 0, 1]));
        assert_eq!(f.destination, IpAddr::from([10, 0, 0, 2]));
        assert_eq!(f.protocol, 17);
        assert_eq!(f.ports, Some((1234, 53)));
        assert_eq!(claimed_len(&p), Some(28));
        assert_eq!(next_header_for(&p), Some(NEXT_HEADER_IPV4));
    }

    #[test]
    fn non_first_ipv4_fragment_has_opaque_ports() {
        let mut p = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1234, 53);
        p[7] = 1;
        assert_eq!(PacketFields::parse(&p).unwrap().ports, None);
    }

    #[test]
    fn ipv6_extension_headers_are_skipped() {
        let mut p = vec![0x60, 0, 0, 0, 0, 16, 0, 64];
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8].repeat(4));
        p.extend_from_slice(&[0xfe, 0x80, 0, 0].repeat(4));
        // Destination Options (8 octets) then TCP.
        p.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
        p.extend_from_slice(&[0x01, 0xbb, 0xc0, 0x00]);
        p.extend_from_slice(&[0; 4]);
        let f = PacketFields::parse(&p).unwrap();
        assert_eq!(f.protocol, 6);
        assert_eq!(f.ports, Some((443, 0xc000)));
        assert_eq!(claimed_len(&p), Some(56));
        assert_eq!(next_header_for(&p), Some(NEXT_HEADER_IPV6));
    }

    #[test]
    fn truncated_headers_never_panic() {
        let p = ipv4_udp([1, 2, 3, 4], [5, 6, 7, 8], 1, 2);
        for len in 0..p.len() {
            let _ = PacketFields::parse(&p[..len]);
            let _ = claimed_len(&p[..len]);
        }
        assert_eq!(PacketFields::parse(&[0x45]), None);
        assert_eq!(claimed_len(&[0x45, 0, 0, 200]), None);
    }
}
