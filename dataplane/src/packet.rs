//! Just enough IPv4/IPv6/TCP/UDP parsing for segmentation, coalescing and policy lookup. Every
//! offset is checked against the slice; nothing here panics on any input.

pub(crate) const PROTO_TCP: u8 = 6;
pub(crate) const PROTO_UDP: u8 = 17;
pub(crate) const TCP_FIN: u8 = 0x01;
#[cfg(test)]
pub(crate) const TCP_SYN: u8 = 0x02;
pub(crate) const TCP_PSH: u8 = 0x08;
pub(crate) const TCP_ACK: u8 = 0x10;
pub(crate) const TCP_CWR: u8 = 0x80;

/// The IP layer of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ip {
    /// 4 or 6.
    pub(crate) version: u8,
    /// IPv4 header length, or 40 for IPv6 (extension headers are not walked).
    pub(crate) header_len: usize,
    /// Protocol / next header.
    pub(crate) proto: u8,
    /// Length the header claims for the whole packet (never more than the slice).
    pub(crate) total_len: usize,
    /// IPv4 fragment (MF set or a non-zero offset).
    pub(crate) is_fragment: bool,
}

impl Ip {
    /// Parses the IP header of `pkt`; `None` if it is not a well-formed IPv4/IPv6 header whose
    /// claimed length fits in `pkt`.
    pub(crate) fn parse(pkt: &[u8]) -> Option<Self> {
        match pkt.first()? >> 4 {
            4 => {
                let header_len = usize::from(pkt[0] & 0x0f) * 4;
                let total_len = usize::from(u16::from_be_bytes([*pkt.get(2)?, *pkt.get(3)?]));
                if header_len < 20 || total_len < header_len || total_len > pkt.len() {
                    return None;
                }
                let frag = u16::from_be_bytes([pkt[6], pkt[7]]);
                Some(Self {
                    version: 4,
                    header_len,
                    proto: pkt[9],
                    total_len,
                    is_fragment: frag & 0x3fff != 0,
                })
            }
            6 => {
                let payload = usize::from(u16::from_be_bytes([*pkt.get(4)?, *pkt.get(5)?]));
                let total_len = 40 + payload;
                if pkt.len() < 40 || total_len > pkt.len() {
                    return None;
                }
                Some(Self {
                    version: 6,
                    header_len: 40,
                    proto: pkt[6],
                    total_len,
                    is_fragment: false,
                })
            }
            _ => None,
        }
    }

    /// Source address bytes (4 or 16).
    pub(crate) fn src<'a>(&self, pkt: &'a [u8]) -> &'a [u8] {
        if self.version == 4 {
            &pkt[12..16]
        } else {
            &pkt[8..24]
        }
    }

    /// Destination address bytes (4 or 16).
    pub(crate) fn dst<'a>(&self, pkt: &'a [u8]) -> &'a [u8] {
        if self.version == 4 {
            &pkt[16..20]
        } else {
            &pkt[24..40]
        }
    }

    /// Writes the length fields for a packet of `total_len` bytes (and the IPv4 header
    /// checksum, after setting the identification to `id` when given).
    pub(crate) fn set_len(&self, pkt: &mut [u8], total_len: usize, id: Option<u16>) {
        if self.version == 4 {
            pkt[2..4].copy_from_slice(&(total_len as u16).to_be_bytes());
            if let Some(id) = id {
                pkt[4..6].copy_from_slice(&id.to_be_bytes());
            }
            pkt[10..12].fill(0);
            let c = crate::checksum::finish(crate::checksum::sum(&pkt[..self.header_len]));
            pkt[10..12].copy_from_slice(&c.to_be_bytes());
        } else {
            pkt[4..6].copy_from_slice(&((total_len - 40) as u16).to_be_bytes());
        }
    }
}

/// Length of the TCP header at `at`, checked against the packet end.
pub(crate) fn tcp_header_len(pkt: &[u8], at: usize, end: usize) -> Option<usize> {
    let len = usize::from(*pkt.get(at + 12)? >> 4) * 4;
    (len >= 20 && at + len <= end).then_some(len)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::net::Ipv6Addr;

    use super::*;
    use crate::checksum;

    /// Builds a TCP/IP packet with correct checksums (used by the other modules' tests too).
    pub(crate) fn tcp_packet(
        v6: bool,
        seq: u32,
        flags: u8,
        options: &[u8],
        payload: &[u8],
    ) -> Vec<u8> {
        let tcp_len = 20 + options.len() + payload.len();
        let mut p = if v6 {
            let mut h = vec![0u8; 40];
            h[0] = 0x60;
            h[4..6].copy_from_slice(&(tcp_len as u16).to_be_bytes());
            h[6] = PROTO_TCP;
            h[7] = 64;
            h[8..24].copy_from_slice(&"fd00::1".parse::<Ipv6Addr>().unwrap().octets());
            h[24..40].copy_from_slice(&"fd00::2".parse::<Ipv6Addr>().unwrap().octets());
            h
        } else {
            let mut h = vec![0u8; 20];
            h[0] = 0x45;
            h[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
            h[6] = 0x40;
            h[8] = 64;
            h[9] = PROTO_TCP;
            h[12..16].copy_from_slice(&[10, 0, 0, 1]);
            h[16..20].copy_from_slice(&[10, 0, 0, 2]);
            h
        };
        let ip_len = p.len();
        p.extend_from_slice(&5001u16.to_be_bytes());
        p.extend_from_slice(&443u16.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&7u32.to_be_bytes());
        p.push((((20 + options.len()) / 4) << 4) as u8);
        p.push(flags);
        p.extend_from_slice(&512u16.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 0]);
        p.extend_from_slice(options);
        p.extend_from_slice(payload);
        let ip = Ip::parse_unchecked_len(&p, ip_len);
        ip.set_len(&mut p, ip_len + tcp_len, None);
        let ps = checksum::pseudo_header(ip.src(&p), ip.dst(&p), PROTO_TCP, tcp_len);
        let c = checksum::finish(checksum::add(ps, checksum::sum(&p[ip_len..])));
        p[ip_len + 16..ip_len + 18].copy_from_slice(&c.to_be_bytes());
        p
    }

    impl Ip {
        fn parse_unchecked_len(p: &[u8], header_len: usize) -> Self {
            Self {
                version: p[0] >> 4,
                header_len,
                proto: PROTO_TCP,
                total_len: p.len(),
                is_fragment: false,
            }
        }
    }

    /// Whether the L4 checksum of `pkt` verifies.
    pub(crate) fn l4_checksum_ok(pkt: &[u8]) -> bool {
        let ip = Ip::parse(pkt).unwrap();
        let l4 = &pkt[ip.header_len..ip.total_len];
        let ps = checksum::pseudo_header(ip.src(pkt), ip.dst(pkt), ip.proto, l4.len());
        checksum::fold(checksum::add(ps, checksum::sum(l4))) == 0xffff
    }

    #[test]
    fn parses_v4_and_v6_and_rejects_lies() {
        let p4 = tcp_packet(false, 1, TCP_ACK, &[], b"abc");
        let ip = Ip::parse(&p4).unwrap();
        assert_eq!(
            (ip.version, ip.header_len, ip.proto, ip.total_len),
            (4, 20, 6, 43)
        );
        assert!(l4_checksum_ok(&p4));
        let p6 = tcp_packet(true, 1, TCP_ACK, &[], b"abc");
        assert_eq!(Ip::parse(&p6).unwrap().total_len, 63);
        assert!(l4_checksum_ok(&p6));
        assert!(
            Ip::parse(&p4[..30]).is_none(),
            "claimed length beyond the slice"
        );
        assert!(Ip::parse(&p6[..39]).is_none());
        assert!(Ip::parse(&[0x45]).is_none());
        assert!(Ip::parse(&[]).is_none());
    }
}
