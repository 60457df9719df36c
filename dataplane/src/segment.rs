//! Cutting the super-packets a TUN device with offloads hands over into wire-sized packets
//! (what a NIC does for TSO/USO), and completing partial checksums.
//!
//! The caller owns the output: [`Segmenter::next_len`] tells how many bytes the next segment
//! needs and [`Segmenter::write_next`] writes it into any slice that long, so segments go
//! straight into the ESP buffer with room for the ESP header before them.

use std::fmt;

use ipsec_sys::{GsoType, VirtioNetHdr};

use crate::checksum;
use crate::packet::{Ip, PROTO_TCP, PROTO_UDP, TCP_CWR, TCP_FIN, TCP_PSH, tcp_header_len};

/// Why a packet from the TUN device cannot be segmented (it is dropped and counted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SegmentError {
    /// The checksum offsets point outside the packet.
    BadChecksumOffset,
    /// The GSO kind is not one we enabled (UFO or unknown).
    UnsupportedGso,
    /// The IP or L4 header does not parse or does not match the GSO kind.
    Malformed,
}

impl fmt::Display for SegmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadChecksumOffset => "checksum offsets outside the packet",
            Self::UnsupportedGso => "unsupported GSO type",
            Self::Malformed => "malformed super-packet",
        })
    }
}

impl std::error::Error for SegmentError {}

/// Walks one packet from the TUN device, segment by segment.
#[derive(Debug)]
pub struct Segmenter<'a> {
    pkt: &'a [u8],
    plan: Plan,
    /// Offset of the next segment's payload in `pkt`.
    next: usize,
    index: u16,
}

#[derive(Debug)]
enum Plan {
    /// Copy as is.
    Whole,
    /// Copy and store the folded sum from `start` at `start + offset`.
    CompleteChecksum { start: usize, offset: usize },
    /// TSO/USO: repeat the `header_len` bytes of headers before each `mss` of payload.
    Segments {
        ip: Ip,
        l4_start: usize,
        header_len: usize,
        mss: usize,
        tcp: bool,
        addr_sum: u32,
    },
}

impl<'a> Segmenter<'a> {
    /// Plans the segmentation of `pkt` (the IP packet after the virtio-net header `hdr`).
    ///
    /// # Errors
    /// When the header asks for something the packet cannot hold ([`SegmentError`]).
    pub fn new(hdr: &VirtioNetHdr, pkt: &'a [u8]) -> Result<Self, SegmentError> {
        let plan = match hdr.gso_type {
            GsoType::None if hdr.needs_csum() => {
                let (start, offset) = (usize::from(hdr.csum_start), usize::from(hdr.csum_offset));
                if start + offset + 2 > pkt.len() {
                    return Err(SegmentError::BadChecksumOffset);
                }
                Plan::CompleteChecksum { start, offset }
            }
            GsoType::None => Plan::Whole,
            GsoType::TcpV4 | GsoType::TcpV6 | GsoType::UdpL4 => plan_segments(hdr, pkt)?,
            _ => return Err(SegmentError::UnsupportedGso),
        };
        let next = match &plan {
            Plan::Segments { header_len, .. } => *header_len,
            _ => 0,
        };
        Ok(Self {
            pkt,
            plan,
            next,
            index: 0,
        })
    }

    /// How many bytes the next segment needs; `None` when all are written.
    pub fn next_len(&self) -> Option<usize> {
        match &self.plan {
            Plan::Whole | Plan::CompleteChecksum { .. } => {
                (self.index == 0).then_some(self.pkt.len())
            }
            Plan::Segments {
                ip,
                header_len,
                mss,
                ..
            } => {
                let left = ip.total_len.checked_sub(self.next).filter(|&l| l > 0)?;
                Some(header_len + left.min(*mss))
            }
        }
    }

    /// Writes the next segment at the start of `out`; returns its length (0 when done).
    ///
    /// # Panics
    /// When `out` is shorter than [`Segmenter::next_len`].
    pub fn write_next(&mut self, out: &mut [u8]) -> usize {
        let Some(len) = self.next_len() else { return 0 };
        let out = &mut out[..len];
        match &self.plan {
            Plan::Whole => out.copy_from_slice(self.pkt),
            Plan::CompleteChecksum { start, offset } => {
                out.copy_from_slice(self.pkt);
                let c = checksum::finish(checksum::sum(&out[*start..]));
                let c = if c == 0 { 0xffff } else { c };
                out[start + offset..start + offset + 2].copy_from_slice(&c.to_be_bytes());
            }
            Plan::Segments {
                ip,
                l4_start,
                header_len,
                tcp,
                addr_sum,
                ..
            } => {
                let payload_len = len - header_len;
                out[..*header_len].copy_from_slice(&self.pkt[..*header_len]);
                out[*header_len..].copy_from_slice(&self.pkt[self.next..self.next + payload_len]);
                let is_last = self.next + payload_len == ip.total_len;
                let orig_id = u16::from_be_bytes([self.pkt[4], self.pkt[5]]);
                let id = (ip.version == 4).then(|| orig_id.wrapping_add(self.index));
                ip.set_len(out, len, id);
                let l4 = *l4_start;
                let csum_at = if *tcp {
                    let seq =
                        u32::from_be_bytes([out[l4 + 4], out[l4 + 5], out[l4 + 6], out[l4 + 7]]);
                    let seq = seq.wrapping_add((self.next - header_len) as u32);
                    out[l4 + 4..l4 + 8].copy_from_slice(&seq.to_be_bytes());
                    if !is_last {
                        out[l4 + 13] &= !(TCP_FIN | TCP_PSH);
                    }
                    if self.index > 0 {
                        out[l4 + 13] &= !TCP_CWR;
                    }
                    l4 + 16
                } else {
                    out[l4 + 4..l4 + 6].copy_from_slice(&((len - l4) as u16).to_be_bytes());
                    l4 + 6
                };
                out[csum_at..csum_at + 2].fill(0);
                let proto = if *tcp { PROTO_TCP } else { PROTO_UDP };
                let ps = checksum::pseudo_header_from(*addr_sum, proto, len - l4);
                let c = checksum::finish(checksum::add(ps, checksum::sum(&out[l4..])));
                let c = if c == 0 && !*tcp { 0xffff } else { c };
                out[csum_at..csum_at + 2].copy_from_slice(&c.to_be_bytes());
                self.next += payload_len;
            }
        }
        self.index = self.index.wrapping_add(1);
        len
    }
}

fn plan_segments(hdr: &VirtioNetHdr, pkt: &[u8]) -> Result<Plan, SegmentError> {
    let ip = Ip::parse(pkt).ok_or(SegmentError::Malformed)?;
    let tcp = hdr.gso_type != GsoType::UdpL4;
    let version_ok = match hdr.gso_type {
        GsoType::TcpV4 => ip.version == 4,
        GsoType::TcpV6 => ip.version == 6,
        _ => true,
    };
    let proto = if tcp { PROTO_TCP } else { PROTO_UDP };
    if !version_ok || ip.proto != proto || ip.is_fragment {
        return Err(SegmentError::Malformed);
    }
    let l4_start = ip.header_len;
    let l4_len = if tcp {
        tcp_header_len(pkt, l4_start, ip.total_len).ok_or(SegmentError::Malformed)?
    } else {
        8
    };
    let header_len = l4_start + l4_len;
    let mss = usize::from(hdr.gso_size);
    if header_len > ip.total_len || mss == 0 {
        return Err(SegmentError::Malformed);
    }
    let addr_sum = checksum::add(checksum::sum(ip.src(pkt)), checksum::sum(ip.dst(pkt)));
    Ok(Plan::Segments {
        ip,
        l4_start,
        header_len,
        mss,
        tcp,
        addr_sum,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::{l4_checksum_ok, tcp_packet};
    use crate::packet::{TCP_ACK, TCP_PSH};

    fn gso_hdr(v6: bool, mss: u16) -> VirtioNetHdr {
        VirtioNetHdr {
            flags: VirtioNetHdr::F_NEEDS_CSUM,
            gso_type: if v6 { GsoType::TcpV6 } else { GsoType::TcpV4 },
            gso_size: mss,
            csum_offset: 16,
            ..VirtioNetHdr::plain()
        }
    }

    fn all_segments(hdr: &VirtioNetHdr, pkt: &[u8]) -> Vec<Vec<u8>> {
        let mut s = Segmenter::new(hdr, pkt).unwrap();
        let mut out = Vec::new();
        for _ in 0..1000 {
            let Some(len) = s.next_len() else { break };
            let mut buf = vec![0u8; len + 5];
            assert_eq!(s.write_next(&mut buf), len);
            buf.truncate(len);
            out.push(buf);
        }
        out
    }

    #[test]
    fn tso_segments_carry_fixed_headers_and_valid_checksums() {
        for v6 in [false, true] {
            let payload: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
            let opts = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2];
            let big = tcp_packet(
                v6,
                0xffff_f000,
                TCP_ACK | TCP_PSH | TCP_CWR,
                &opts,
                &payload,
            );
            let segs = all_segments(&gso_hdr(v6, 1448), &big);
            assert_eq!(segs.len(), 7);
            let mut joined = Vec::new();
            for (i, s) in segs.iter().enumerate() {
                let ip = Ip::parse(s).unwrap();
                assert_eq!(ip.total_len, s.len());
                assert!(l4_checksum_ok(s), "segment {i} checksum (v6 {v6})");
                if !v6 {
                    assert_eq!(checksum::fold(checksum::sum(&s[..20])), 0xffff);
                    assert_eq!(u16::from_be_bytes([s[4], s[5]]), 0x1234 + i as u16);
                }
                let l4 = ip.header_len;
                let seq = u32::from_be_bytes(s[l4 + 4..l4 + 8].try_into().unwrap());
                assert_eq!(seq, 0xffff_f000u32.wrapping_add(1448 * i as u32));
                let flags = s[l4 + 13];
                assert_eq!(flags & TCP_PSH != 0, i == 6, "PSH only on the last");
                assert_eq!(flags & TCP_CWR != 0, i == 0, "CWR only on the first");
                assert_eq!(&s[l4 + 20..l4 + 32], &opts);
                joined.extend_from_slice(&s[l4 + 32..]);
                assert!(s.len() - l4 - 32 <= 1448);
            }
            assert_eq!(joined, payload);
        }
    }

    #[test]
    fn partial_checksum_is_completed() {
        let mut p = tcp_packet(false, 5, TCP_ACK, &[], b"hello world");
        let ip = Ip::parse(&p).unwrap();
        // What the kernel hands over with CHECKSUM_PARTIAL: the pseudo-header sum only.
        let ps = checksum::pseudo_header(ip.src(&p), ip.dst(&p), PROTO_TCP, p.len() - 20);
        p[36..38].copy_from_slice(&checksum::fold(ps).to_be_bytes());
        assert!(!l4_checksum_ok(&p));
        let hdr = VirtioNetHdr {
            flags: VirtioNetHdr::F_NEEDS_CSUM,
            csum_start: 20,
            csum_offset: 16,
            ..VirtioNetHdr::plain()
        };
        let segs = all_segments(&hdr, &p);
        assert_eq!(segs.len(), 1);
        assert!(l4_checksum_ok(&segs[0]));
    }

    #[test]
    fn uso_cuts_udp_datagrams() {
        let mut p = vec![0u8; 20 + 8 + 3000];
        p[0] = 0x45;
        p[9] = PROTO_UDP;
        p[12..16].copy_from_slice(&[10, 0, 0, 1]);
        p[16..20].copy_from_slice(&[10, 0, 0, 2]);
        p[20..22].copy_from_slice(&1000u16.to_be_bytes());
        p[22..24].copy_from_slice(&2000u16.to_be_bytes());
        let len = p.len();
        p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        let hdr = VirtioNetHdr {
            flags: VirtioNetHdr::F_NEEDS_CSUM,
            gso_type: GsoType::UdpL4,
            gso_size: 1200,
            csum_start: 20,
            csum_offset: 6,
            ..VirtioNetHdr::plain()
        };
        let segs = all_segments(&hdr, &p);
        let lens: Vec<usize> = segs.iter().map(Vec::len).collect();
        assert_eq!(lens, [1228, 1228, 628]);
        for s in &segs {
            assert!(l4_checksum_ok(s));
            assert_eq!(
                usize::from(u16::from_be_bytes([s[24], s[25]])),
                s.len() - 20
            );
        }
    }

    #[test]
    fn lies_are_errors_not_panics() {
        let p = tcp_packet(false, 1, TCP_ACK, &[], &[0; 100]);
        let mut hdr = gso_hdr(true, 50);
        assert_eq!(
            Segmenter::new(&hdr, &p).unwrap_err(),
            SegmentError::Malformed
        );
        hdr = gso_hdr(false, 0);
        assert_eq!(
            Segmenter::new(&hdr, &p).unwrap_err(),
            SegmentError::Malformed
        );
        hdr = VirtioNetHdr {
            flags: 1,
            csum_start: 130,
            csum_offset: 16,
            ..VirtioNetHdr::plain()
        };
        assert_eq!(
            Segmenter::new(&hdr, &p).unwrap_err(),
            SegmentError::BadChecksumOffset
        );
        hdr = VirtioNetHdr {
            gso_type: GsoType::Unknown(3),
            ..VirtioNetHdr::plain()
        };
        assert_eq!(
            Segmenter::new(&hdr, &p).unwrap_err(),
            SegmentError::UnsupportedGso
        );
        let mut bad = p.clone();
        bad[32] = 0xf0; // TCP data offset of 60 bytes, beyond the packet's end is fine here, but
        bad.truncate(70); // the claimed IP length no longer fits
        assert!(Segmenter::new(&gso_hdr(false, 50), &bad).is_err());
        for cut in 0..p.len() {
            let _ = Segmenter::new(&gso_hdr(false, 7), &p[..cut]).map(|mut s| {
                let mut out = vec![0u8; 200];
                for _ in 0..100 {
                    if s.write_next(&mut out) == 0 {
                        break;
                    }
                }
            });
        }
    }
}
