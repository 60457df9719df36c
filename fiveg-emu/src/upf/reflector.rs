//! The N6 reflector: a stand-in for the data network that answers ICMP echo requests and echoes
//! UDP datagrams sent to port 7 (RFC 862), building the reply itself, so that user-plane tests
//! need no TUN device and no root. IPv4 (RFC 791, 792) and IPv6 (RFC 8200, 4443) without
//! extension headers or fragments.

use userplane::{checksum_add, checksum_finish, internet_checksum};

/// The UDP echo port (RFC 862).
pub const ECHO_PORT: u16 = 7;

/// Writes into `out` the reply to `packet` and returns its length, or `None` when `packet` is
/// not an ICMP/ICMPv6 echo request or a UDP datagram to port 7, is malformed, or does not fit.
pub fn reflect(packet: &[u8], out: &mut [u8]) -> Option<usize> {
    match packet.first()? >> 4 {
        4 => reflect_v4(packet, out),
        6 => reflect_v6(packet, out),
        _ => None,
    }
}

fn reflect_v4(packet: &[u8], out: &mut [u8]) -> Option<usize> {
    let header_len = usize::from(packet.first()? & 0x0F) * 4;
    let total = usize::from(u16::from_be_bytes([*packet.get(2)?, *packet.get(3)?]));
    if header_len < 20 || total < header_len || total > packet.len() {
        return None;
    }
    // Fragments (MF or an offset) are not reassembled.
    if u16::from_be_bytes([*packet.get(6)?, *packet.get(7)?]) & 0x3FFF != 0 {
        return None;
    }
    let protocol = *packet.get(9)?;
    let reply = out.get_mut(..total)?;
    reply.copy_from_slice(packet.get(..total)?);
    let (header, body) = reply.split_at_mut(header_len);
    let src: [u8; 4] = header[12..16].try_into().ok()?;
    let dst: [u8; 4] = header[16..20].try_into().ok()?;
    header[12..16].copy_from_slice(&dst);
    header[16..20].copy_from_slice(&src);
    header[8] = 64; // TTL
    match protocol {
        PROTO_ICMP => icmp_echo_reply(body, ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY, None)?,
        PROTO_UDP => udp_echo(body, &pseudo_v4(&dst, &src, body.len()))?,
        _ => return None,
    }
    header[10..12].fill(0);
    let c = internet_checksum(header);
    header[10..12].copy_from_slice(&c.to_be_bytes());
    Some(total)
}

fn reflect_v6(packet: &[u8], out: &mut [u8]) -> Option<usize> {
    let payload_len = usize::from(u16::from_be_bytes([*packet.get(4)?, *packet.get(5)?]));
    let total = 40 + payload_len;
    if total > packet.len() {
        return None;
    }
    let next = *packet.get(6)?;
    let reply = out.get_mut(..total)?;
    reply.copy_from_slice(packet.get(..total)?);
    let (header, body) = reply.split_at_mut(40);
    let src: [u8; 16] = header[8..24].try_into().ok()?;
    let dst: [u8; 16] = header[24..40].try_into().ok()?;
    header[8..24].copy_from_slice(&dst);
    header[24..40].copy_from_slice(&src);
    header[7] = 64; // hop limit
    let pseudo = pseudo_v6(&dst, &src, body.len(), next);
    match next {
        PROTO_ICMPV6 => {
            icmp_echo_reply(body, ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY, Some(&pseudo))?
        }
        PROTO_UDP => udp_echo(body, &pseudo)?,
        _ => return None,
    }
    Some(total)
}

/// Turns an echo request in `icmp` into the reply and fixes its checksum (ICMPv6 covers a
/// pseudo-header, ICMP does not).
fn icmp_echo_reply(icmp: &mut [u8], request: u8, reply: u8, pseudo: Option<&[u8]>) -> Option<()> {
    if icmp.len() < 8 || icmp[0] != request || icmp[1] != 0 {
        return None;
    }
    icmp[0] = reply;
    icmp[2..4].fill(0);
    let sum = checksum_add(pseudo.unwrap_or_default(), 0);
    let c = checksum_finish(checksum_add(icmp, sum));
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    Some(())
}

/// Swaps the ports of a UDP datagram to port 7 and recomputes its checksum over `pseudo` (the
/// reply's pseudo-header).
fn udp_echo(udp: &mut [u8], pseudo: &[u8]) -> Option<()> {
    if udp.len() < 8 || usize::from(u16::from_be_bytes([udp[4], udp[5]])) != udp.len() {
        return None;
    }
    if u16::from_be_bytes([udp[2], udp[3]]) != ECHO_PORT {
        return None;
    }
    let (src, dst) = ([udp[0], udp[1]], [udp[2], udp[3]]);
    udp[0..2].copy_from_slice(&dst);
    udp[2..4].copy_from_slice(&src);
    udp[6..8].fill(0);
    let mut c = checksum_finish(checksum_add(udp, checksum_add(pseudo, 0)));
    // RFC 768: a computed 0 is sent as all ones (0 means "no checksum").
    if c == 0 {
        c = 0xFFFF;
    }
    udp[6..8].copy_from_slice(&c.to_be_bytes());
    Some(())
}

/// The IPv4 pseudo-header of UDP (RFC 768).
fn pseudo_v4(src: &[u8; 4], dst: &[u8; 4], len: usize) -> [u8; 12] {
    let mut p = [0u8; 12];
    p[..4].copy_from_slice(src);
    p[4..8].copy_from_slice(dst);
    p[9] = PROTO_UDP;
    // `len` comes from a 16-bit total length.
    p[10..12].copy_from_slice(&(len as u16).to_be_bytes());
    p
}

/// The IPv6 pseudo-header (RFC 8200 §8.1).
fn pseudo_v6(src: &[u8; 16], dst: &[u8; 16], len: usize, next: u8) -> [u8; 40] {
    let mut p = [0u8; 40];
    p[..16].copy_from_slice(src);
    p[16..32].copy_from_slice(dst);
    p[32..36].copy_from_slice(&(len as u32).to_be_bytes());
    p[39] = next;
    p
}

const PROTO_ICMP: u8 = 1;
const PROTO_UDP: u8 = 17;
const PROTO_ICMPV6: u8 = 58;
const ICMP_ECHO_REQUEST: u8 = 8;
const ICMP_ECHO_REPLY: u8 = 0;
const ICMPV6_ECHO_REQUEST: u8 = 128;
const ICMPV6_ECHO_REPLY: u8 = 129;

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 ICMP echo request 10.60.0.1 → 10.60.0.254, id 0x1234, seq 1, 4 payload octets,
    /// checksums computed by `internet_checksum` (checked against RFC 1071 in userplane).
    fn ping_v4() -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 32, 0, 1, 0x40, 0, 64, 1, 0, 0, 10, 60, 0, 1, 10, 60, 0, 254, //
            8, 0, 0, 0, 0x12, 0x34, 0, 1, 0xDE, 0xAD, 0xBE, 0xEF,
        ];
        let c = internet_checksum(&p[20..]);
        p[22..24].copy_from_slice(&c.to_be_bytes());
        let c = internet_checksum(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p
    }

    #[test]
    fn icmp_echo_request_gets_a_reply_with_valid_checksums() {
        let ping = ping_v4();
        let mut out = [0u8; 64];
        let n = reflect(&ping, &mut out).expect("reflected");
        let reply = &out[..n];
        assert_eq!(n, ping.len());
        assert_eq!(reply[12..16], [10, 60, 0, 254]);
        assert_eq!(reply[16..20], [10, 60, 0, 1]);
        assert_eq!(reply[20], ICMP_ECHO_REPLY);
        assert_eq!(
            reply[24..],
            ping[24..],
            "identifier, sequence and data kept"
        );
        assert_eq!(internet_checksum(&reply[..20]), 0, "IPv4 header checksum");
        assert_eq!(internet_checksum(&reply[20..]), 0, "ICMP checksum");
    }

    #[test]
    fn udp_to_port_7_is_echoed_with_a_valid_checksum() {
        let mut p = vec![
            0x45, 0, 0, 31, 0, 2, 0, 0, 64, 17, 0, 0, 10, 60, 0, 1, 10, 60, 0, 254, //
            0xC0, 0x00, 0x00, 0x07, 0x00, 11, 0, 0, b'a', b'b', b'c',
        ];
        let c = internet_checksum(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        let mut out = [0u8; 64];
        let n = reflect(&p, &mut out).expect("echoed");
        let reply = &out[..n];
        assert_eq!(reply[20..24], [0x00, 0x07, 0xC0, 0x00], "ports swapped");
        assert_eq!(&reply[28..], b"abc");
        let pseudo = pseudo_v4(&[10, 60, 0, 254], &[10, 60, 0, 1], 11);
        assert_eq!(
            checksum_finish(checksum_add(&reply[20..], checksum_add(&pseudo, 0))),
            0
        );
        // Another port is not echoed.
        p[23] = 9;
        assert_eq!(reflect(&p, &mut out), None);
    }

    #[test]
    fn icmpv6_echo_request_gets_a_reply() {
        let src = [0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let dst = [0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        let mut p = vec![0x60, 0, 0, 0, 0, 8, PROTO_ICMPV6, 64];
        p.extend(src);
        p.extend(dst);
        p.extend([ICMPV6_ECHO_REQUEST, 0, 0, 0, 0, 7, 0, 1]);
        let mut out = [0u8; 64];
        let n = reflect(&p, &mut out).expect("reflected");
        let reply = &out[..n];
        assert_eq!(reply[8..24], dst);
        assert_eq!(reply[40], ICMPV6_ECHO_REPLY);
        let pseudo = pseudo_v6(&dst, &src, 8, PROTO_ICMPV6);
        assert_eq!(
            checksum_finish(checksum_add(&reply[40..], checksum_add(&pseudo, 0))),
            0
        );
    }

    #[test]
    fn other_packets_and_short_buffers_are_not_reflected() {
        let ping = ping_v4();
        let mut out = [0u8; 64];
        assert_eq!(
            reflect(&ping[..30], &mut out),
            None,
            "total length past the packet"
        );
        assert_eq!(reflect(&ping, &mut out[..20]), None, "reply does not fit");
        let mut reply = ping.clone();
        reply[20] = ICMP_ECHO_REPLY;
        assert_eq!(reflect(&reply, &mut out), None, "a reply is not answered");
        let mut fragment = ping;
        fragment[6] = 0x20; // MF
        assert_eq!(reflect(&fragment, &mut out), None);
        assert_eq!(reflect(&[], &mut out), None);
        assert_eq!(reflect(&[0x50; 40], &mut out), None);
    }
}
