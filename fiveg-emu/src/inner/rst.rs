//! Spotting a TCP RST in a received packet, so that a connection closed by the peer's reset is
//! told apart from one that timed out (the socket forgets its peer when it takes the RST).

use std::net::{IpAddr, SocketAddr};

use smoltcp::wire::{IpProtocol, Ipv4Packet, Ipv6Packet, TcpPacket};

/// For a TCP segment with RST set: the sender's address and port, and the port it was sent to.
/// `None` for anything else, and for packets that do not parse (the stack drops those).
pub(crate) fn tcp_reset_tuple(packet: &[u8]) -> Option<(SocketAddr, u16)> {
    let (source, payload) = match packet.first()? >> 4 {
        4 => {
            let ip = Ipv4Packet::new_checked(packet).ok()?;
            (ip.next_header() == IpProtocol::Tcp && !ip.more_frags() && ip.frag_offset() == 0)
                .then_some(())?;
            (IpAddr::V4(ip.src_addr()), ipv4_payload(packet, &ip)?)
        }
        6 => {
            let ip = Ipv6Packet::new_checked(packet).ok()?;
            (ip.next_header() == IpProtocol::Tcp).then_some(())?;
            (IpAddr::V6(ip.src_addr()), packet.get(40..)?)
        }
        _ => return None,
    };
    let tcp = TcpPacket::new_checked(payload).ok()?;
    tcp.rst()
        .then(|| (SocketAddr::new(source, tcp.src_port()), tcp.dst_port()))
}

fn ipv4_payload<'a>(packet: &'a [u8], ip: &Ipv4Packet<&[u8]>) -> Option<&'a [u8]> {
    let start = usize::from(ip.header_len());
    let end = usize::from(ip.total_len());
    packet.get(start..end)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// IPv4 (20) + TCP (20) from 10.0.0.1:20000 to port 49153 with the given flags.
    fn segment(flags: u8) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&40u16.to_be_bytes());
        p[8] = 64;
        p[9] = 6;
        p[12..16].copy_from_slice(&[10, 0, 0, 1]);
        p[16..20].copy_from_slice(&[10, 0, 0, 2]);
        p[20..22].copy_from_slice(&20000u16.to_be_bytes());
        p[22..24].copy_from_slice(&49153u16.to_be_bytes());
        p[32] = 0x50;
        p[33] = flags;
        p
    }

    #[test]
    fn finds_the_reset_and_nothing_else() {
        let remote: SocketAddr = "10.0.0.1:20000".parse().unwrap();
        assert_eq!(tcp_reset_tuple(&segment(0x14)), Some((remote, 49153)));
        assert_eq!(tcp_reset_tuple(&segment(0x10)), None);
        assert_eq!(tcp_reset_tuple(&segment(0x14)[..30]), None);
        assert_eq!(tcp_reset_tuple(&[]), None);
        assert_eq!(tcp_reset_tuple(&[0x60; 10]), None);
    }
}
