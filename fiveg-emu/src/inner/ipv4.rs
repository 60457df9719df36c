//! The few IPv4 packets the UE builds itself rather than through its TCP/IP stack: the outer
//! header of GRE on a user-plane Child SA, and ICMP echo (RFC 791, RFC 792).

use std::net::Ipv4Addr;

use userplane::internet_checksum;

/// Octets of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// IP protocol number of ICMP.
pub const IP_PROTOCOL_ICMP: u8 = 1;
const ECHO_REQUEST: u8 = 8;
const ECHO_REPLY: u8 = 0;
const ICMP_HEADER_LEN: usize = 8;
const TTL: u8 = 64;

/// Appends an IPv4 header (no options, DF clear, TTL 64) for `payload_len` octets to `out`.
pub fn push_header(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    payload_len: usize,
    out: &mut Vec<u8>,
) {
    let total = u16::try_from(IPV4_HEADER_LEN + payload_len).unwrap_or(u16::MAX);
    let start = out.len();
    out.extend_from_slice(&[0x45, 0]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, TTL, protocol, 0, 0]);
    out.extend_from_slice(&src.octets());
    out.extend_from_slice(&dst.octets());
    let sum = internet_checksum(&out[start..]);
    out[start + 10..start + 12].copy_from_slice(&sum.to_be_bytes());
}

/// An IPv4 packet's protocol, addresses and payload; `None` when it is not a well-formed,
/// unfragmented IPv4 packet.
pub fn parse(packet: &[u8]) -> Option<(u8, Ipv4Addr, Ipv4Addr, &[u8])> {
    let first = *packet.first()?;
    let header_len = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header_len < IPV4_HEADER_LEN {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([*packet.get(2)?, *packet.get(3)?]));
    if total < header_len || total > packet.len() {
        return None;
    }
    if u16::from_be_bytes([*packet.get(6)?, *packet.get(7)?]) & 0x3fff != 0 {
        return None;
    }
    let src: [u8; 4] = packet.get(12..16)?.try_into().ok()?;
    let dst: [u8; 4] = packet.get(16..20)?.try_into().ok()?;
    Some((
        packet[9],
        src.into(),
        dst.into(),
        &packet[header_len..total],
    ))
}

/// An ICMP echo request from `src` to `dst` with `payload`.
pub fn echo_request(src: Ipv4Addr, dst: Ipv4Addr, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut icmp = vec![ECHO_REQUEST, 0, 0, 0];
    icmp.extend_from_slice(&id.to_be_bytes());
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend_from_slice(payload);
    let sum = internet_checksum(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let mut packet = Vec::with_capacity(IPV4_HEADER_LEN + icmp.len());
    push_header(src, dst, IP_PROTOCOL_ICMP, icmp.len(), &mut packet);
    packet.extend_from_slice(&icmp);
    packet
}

/// An ICMP echo reply to `to`: (source, identifier, sequence number, payload). `None` for any
/// other packet, or one whose ICMP checksum is wrong.
pub fn echo_reply(packet: &[u8], to: Ipv4Addr) -> Option<(Ipv4Addr, u16, u16, &[u8])> {
    let (protocol, src, dst, icmp) = parse(packet)?;
    if protocol != IP_PROTOCOL_ICMP || dst != to || icmp.len() < ICMP_HEADER_LEN {
        return None;
    }
    if icmp[0] != ECHO_REPLY || icmp[1] != 0 || internet_checksum(icmp) != 0 {
        return None;
    }
    let id = u16::from_be_bytes([icmp[4], icmp[5]]);
    let seq = u16::from_be_bytes([icmp[6], icmp[7]]);
    Some((src, id, seq, &icmp[ICMP_HEADER_LEN..]))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::upf::reflect;

    const UE: Ipv4Addr = Ipv4Addr::new(10, 60, 0, 1);
    const DN: Ipv4Addr = Ipv4Addr::new(10, 61, 0, 1);

    #[test]
    fn echo_request_is_answered_by_an_independent_reflector() {
        let request = echo_request(UE, DN, 0x1234, 7, b"pattern");
        assert_eq!(internet_checksum(&request[..IPV4_HEADER_LEN]), 0);
        let mut out = [0u8; 128];
        let n = reflect(&request, &mut out).expect("a reply");
        let (src, id, seq, payload) = echo_reply(&out[..n], UE).unwrap();
        assert_eq!((src, id, seq, payload), (DN, 0x1234, 7, &b"pattern"[..]));
        assert_eq!(echo_reply(&request, DN), None, "a request is no reply");
        assert_eq!(echo_reply(&out[..n], DN), None, "not ours");
    }

    #[test]
    fn truncated_fragmented_or_corrupt_packets_are_refused() {
        let request = echo_request(UE, DN, 1, 1, b"x");
        let mut out = [0u8; 64];
        let n = reflect(&request, &mut out).unwrap();
        assert_eq!(parse(&out[..n - 1]), None);
        let mut corrupt = out[..n].to_vec();
        *corrupt.last_mut().unwrap() ^= 1;
        assert_eq!(echo_reply(&corrupt, UE), None);
        let mut fragment = out[..n].to_vec();
        fragment[6] = 0x20;
        assert_eq!(parse(&fragment), None);
        assert_eq!(parse(&[0x46, 0, 0, 20]), None);
    }
}
