//! Coalescing decrypted TCP segments into super-packets for the TUN device (what GRO does on a
//! NIC), so that one `write` hands the kernel up to 64 KiB of one flow.
//!
//! Segments join a run when the kernel could have cut them from one super-packet: same
//! addresses, ports, IP fields, ACK number, window and TCP options, consecutive sequence
//! numbers, only ACK (and PSH, which ends the run) set, and every segment but the last exactly as
//! long as the first. Per flow the order of packets is kept: a packet that cannot join the
//! flow's newest run closes it and starts a new entry behind it.
//!
//! With `verify_checksums`, a segment joins a run only if its TCP checksum is right; written as
//! a super-packet, a run carries a partial checksum the kernel does not check again.

use ipsec_sys::{GsoType, VirtioNetHdr};

use crate::checksum;
use crate::packet::{Ip, PROTO_TCP, TCP_ACK, TCP_PSH, tcp_header_len};

/// The arena is full: flush, then push the same packet again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

/// Counters of what the coalescer did, for profiles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoalesceStats {
    /// Packets pushed.
    pub packets: u64,
    /// Packets written to the TUN device (super-packets count once).
    pub writes: u64,
    /// Segments that joined an existing run.
    pub merged: u64,
    /// TCP segments whose checksum did not verify (passed on alone for the kernel to drop).
    pub bad_checksums: u64,
}

/// Collects the packets of one receive batch, merging TCP runs, then writes them out in order.
#[derive(Debug)]
pub struct Coalescer {
    arena: Vec<u8>,
    used: usize,
    entries: Vec<Entry>,
    max_entries: usize,
    verify_checksums: bool,
    stats: CoalesceStats,
}

#[derive(Debug)]
struct Entry {
    /// Start of the virtio-net header in the arena.
    start: usize,
    /// Bytes used, virtio-net header included.
    len: usize,
    run: Option<Run>,
    /// A lone packet whose L4 checksum was verified.
    verified: bool,
}

#[derive(Debug)]
struct Run {
    ip: Ip,
    tcp_len: usize,
    next_seq: u32,
    gso_size: usize,
    segments: u32,
    closed: bool,
}

impl Coalescer {
    /// A coalescer with an arena of `capacity` bytes (at least 128 KiB is used) and at most
    /// `max_entries` packets or runs per flush.
    pub fn new(capacity: usize, max_entries: usize, verify_checksums: bool) -> Self {
        let capacity = capacity.max(2 * (VirtioNetHdr::LEN + RUN_RESERVE));
        Self {
            arena: vec![0; capacity],
            used: 0,
            entries: Vec::with_capacity(max_entries.max(1)),
            max_entries: max_entries.max(1),
            verify_checksums,
            stats: CoalesceStats::default(),
        }
    }

    /// Adds a decrypted IP packet.
    ///
    /// # Errors
    /// [`Full`] when the arena or entry table is full; nothing was added.
    pub fn push(&mut self, pkt: &[u8]) -> Result<(), Full> {
        let seg = Segment::parse(pkt);
        let seg = match seg {
            Some(s) if s.is_candidate(pkt) => {
                if !self.verify_checksums || s.checksum_ok(pkt) {
                    if self.try_append(&s, pkt) {
                        self.stats.packets += 1;
                        self.stats.merged += 1;
                        return Ok(());
                    }
                    Some(s)
                } else {
                    self.stats.bad_checksums += 1;
                    None
                }
            }
            _ => None,
        };
        let reserve = VirtioNetHdr::LEN
            + if seg.is_some() {
                RUN_RESERVE
            } else {
                pkt.len()
            };
        if self.entries.len() == self.max_entries || self.used + reserve > self.arena.len() {
            return Err(Full);
        }
        if let Some(s) = Segment::parse(pkt) {
            self.close_flow(&s, pkt);
        }
        let start = self.used;
        let data = start + VirtioNetHdr::LEN;
        self.arena[data..data + pkt.len()].copy_from_slice(pkt);
        let run = seg.map(|s| Run {
            ip: s.ip,
            tcp_len: s.tcp_len,
            next_seq: s.seq.wrapping_add(s.payload_len as u32),
            gso_size: s.payload_len,
            segments: 1,
            closed: s.flags & TCP_PSH != 0,
        });
        let verified = run.is_some() && self.verify_checksums;
        self.entries.push(Entry {
            start,
            len: VirtioNetHdr::LEN + pkt.len(),
            run,
            verified,
        });
        self.used += reserve;
        self.stats.packets += 1;
        Ok(())
    }

    /// Writes every entry in order (each with its virtio-net header) through `write`, then
    /// empties the coalescer.
    pub fn flush(&mut self, mut write: impl FnMut(&[u8])) {
        for e in &self.entries {
            let buf = &mut self.arena[e.start..e.start + e.len];
            let (hdr_bytes, pkt) = buf.split_at_mut(VirtioNetHdr::LEN);
            let hdr = match &e.run {
                Some(run) if run.segments > 1 => finish_run(run, pkt),
                _ if e.verified => VirtioNetHdr {
                    flags: VirtioNetHdr::F_DATA_VALID,
                    ..VirtioNetHdr::plain()
                },
                _ => VirtioNetHdr::plain(),
            };
            hdr.emit(hdr_bytes);
            write(buf);
        }
        self.stats.writes += self.entries.len() as u64;
        self.entries.clear();
        self.used = 0;
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What the coalescer did so far.
    pub fn stats(&self) -> CoalesceStats {
        self.stats
    }

    fn try_append(&mut self, s: &Segment, pkt: &[u8]) -> bool {
        let Some(i) = self.latest_of_flow(s, pkt) else {
            return false;
        };
        let e = &mut self.entries[i];
        let Some(run) = e.run.as_mut() else {
            return false;
        };
        let stored = &self.arena[e.start + VirtioNetHdr::LEN..e.start + e.len];
        let fits = e.len - VirtioNetHdr::LEN + s.payload_len <= MAX_IP_LEN;
        if run.closed
            || !fits
            || s.seq != run.next_seq
            || s.payload_len > run.gso_size
            || s.ip.header_len != run.ip.header_len
            || s.tcp_len != run.tcp_len
            || !same_headers(stored, pkt, s)
        {
            run.closed = true;
            return false;
        }
        let at = e.start + e.len;
        self.arena[at..at + s.payload_len].copy_from_slice(&pkt[s.payload_start()..s.end()]);
        e.len += s.payload_len;
        run.segments += 1;
        run.next_seq = run.next_seq.wrapping_add(s.payload_len as u32);
        if s.flags & TCP_PSH != 0 {
            let flags_at = e.start + VirtioNetHdr::LEN + run.ip.header_len + 13;
            self.arena[flags_at] |= TCP_PSH;
            run.closed = true;
        }
        if s.payload_len < run.gso_size {
            run.closed = true;
        }
        true
    }

    /// Closes the newest run of the packet's flow, so nothing joins it past this packet.
    fn close_flow(&mut self, s: &Segment, pkt: &[u8]) {
        if let Some(i) = self.latest_of_flow(s, pkt)
            && let Some(run) = self.entries[i].run.as_mut()
        {
            run.closed = true;
        }
    }

    /// The newest entry holding a run of the same TCP flow (addresses and ports).
    fn latest_of_flow(&self, s: &Segment, pkt: &[u8]) -> Option<usize> {
        let (a_at, a_len) = if s.ip.version == 4 { (12, 8) } else { (8, 32) };
        let ports = s.ip.header_len..s.ip.header_len + 4;
        self.entries.iter().rposition(|e| {
            let Some(run) = &e.run else { return false };
            let stored = &self.arena[e.start + VirtioNetHdr::LEN..];
            run.ip.version == s.ip.version
                && stored[a_at..a_at + a_len] == pkt[a_at..a_at + a_len]
                && stored[run.ip.header_len..run.ip.header_len + 4] == pkt[ports.clone()]
        })
    }
}

/// A TCP segment's fields.
#[derive(Debug)]
struct Segment {
    ip: Ip,
    tcp_len: usize,
    seq: u32,
    flags: u8,
    payload_len: usize,
}

impl Segment {
    fn parse(pkt: &[u8]) -> Option<Self> {
        let ip = Ip::parse(pkt)?;
        if ip.proto != PROTO_TCP || ip.is_fragment {
            return None;
        }
        let at = ip.header_len;
        let tcp_len = tcp_header_len(pkt, at, ip.total_len)?;
        Some(Self {
            ip,
            tcp_len,
            seq: u32::from_be_bytes([pkt[at + 4], pkt[at + 5], pkt[at + 6], pkt[at + 7]]),
            flags: pkt[at + 13],
            payload_len: ip.total_len - at - tcp_len,
        })
    }

    /// Whether this segment may be part of a super-packet at all.
    fn is_candidate(&self, pkt: &[u8]) -> bool {
        let flags_ok = self.flags & !TCP_PSH == TCP_ACK;
        let ip_ok = self.ip.header_len == if self.ip.version == 4 { 20 } else { 40 };
        flags_ok && ip_ok && self.payload_len > 0 && self.ip.total_len == pkt.len()
    }

    fn checksum_ok(&self, pkt: &[u8]) -> bool {
        let l4 = &pkt[self.ip.header_len..self.ip.total_len];
        let ps = checksum::pseudo_header(self.ip.src(pkt), self.ip.dst(pkt), PROTO_TCP, l4.len());
        checksum::fold(checksum::add(ps, checksum::sum(l4))) == 0xffff
    }

    fn payload_start(&self) -> usize {
        self.ip.header_len + self.tcp_len
    }

    fn end(&self) -> usize {
        self.ip.total_len
    }
}

/// Whether `pkt` carries the same IP and TCP header fields as the run's first segment `stored`,
/// except lengths, identification, checksums, sequence number and PSH.
fn same_headers(stored: &[u8], pkt: &[u8], s: &Segment) -> bool {
    let ip_same = if s.ip.version == 4 {
        // Version/IHL, TOS; DF/MF bits; TTL, protocol; addresses.
        stored[..2] == pkt[..2]
            && stored[6] & 0xe0 == pkt[6] & 0xe0
            && stored[8..10] == pkt[8..10]
            && stored[12..20] == pkt[12..20]
    } else {
        // Version, traffic class, flow label; next header, hop limit; addresses.
        stored[..4] == pkt[..4] && stored[6..40] == pkt[6..40]
    };
    let t = s.ip.header_len;
    // Ports; ACK number; data offset; window; urgent pointer; options.
    ip_same
        && stored[t..t + 4] == pkt[t..t + 4]
        && stored[t + 8..t + 13] == pkt[t + 8..t + 13]
        && stored[t + 14..t + 16] == pkt[t + 14..t + 16]
        && stored[t + 18..t + s.tcp_len] == pkt[t + 18..t + s.tcp_len]
}

/// Fixes the lengths of a merged run and returns its virtio-net header: a partial checksum (the
/// pseudo-header sum) the kernel completes when it needs to.
fn finish_run(run: &Run, pkt: &mut [u8]) -> VirtioNetHdr {
    let total = pkt.len();
    run.ip.set_len(pkt, total, None);
    let t = run.ip.header_len;
    let ps = checksum::pseudo_header(run.ip.src(pkt), run.ip.dst(pkt), PROTO_TCP, total - t);
    pkt[t + 16..t + 18].copy_from_slice(&checksum::fold(ps).to_be_bytes());
    VirtioNetHdr {
        flags: VirtioNetHdr::F_NEEDS_CSUM,
        gso_type: if run.ip.version == 4 {
            GsoType::TcpV4
        } else {
            GsoType::TcpV6
        },
        ecn: false,
        hdr_len: (t + run.tcp_len) as u16,
        gso_size: run.gso_size as u16,
        csum_start: t as u16,
        csum_offset: 16,
    }
}

/// Longest IP packet a run may grow to (the IPv4 total length field; IPv6 keeps the same cap).
const MAX_IP_LEN: usize = 65_535;
/// Arena bytes reserved for a run that may grow.
const RUN_RESERVE: usize = MAX_IP_LEN;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::{l4_checksum_ok, tcp_packet};
    use crate::packet::{TCP_FIN, TCP_SYN};
    use crate::segment::Segmenter;

    fn flush_all(c: &mut Coalescer) -> Vec<(VirtioNetHdr, Vec<u8>)> {
        let mut out = Vec::new();
        c.flush(|b| {
            out.push((
                VirtioNetHdr::parse(b).unwrap(),
                b[VirtioNetHdr::LEN..].to_vec(),
            ))
        });
        out
    }

    fn payload_of(p: &[u8]) -> &[u8] {
        let ip = Ip::parse(p).unwrap();
        let t = tcp_header_len(p, ip.header_len, ip.total_len).unwrap();
        &p[ip.header_len + t..ip.total_len]
    }

    #[test]
    fn consecutive_segments_merge_and_resegment_to_the_originals() {
        for v6 in [false, true] {
            let mut c = Coalescer::new(1 << 20, 64, true);
            let opts = [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 3];
            let mut originals = Vec::new();
            for i in 0..10u32 {
                let len = if i == 9 { 700 } else { 1000 };
                let flags = if i == 9 { TCP_ACK | TCP_PSH } else { TCP_ACK };
                let payload = vec![i as u8; len];
                let p = tcp_packet(v6, 100 + 1000 * i, flags, &opts, &payload);
                c.push(&p).unwrap();
                originals.push(p);
            }
            let out = flush_all(&mut c);
            assert_eq!(out.len(), 1, "one super-packet (v6 {v6})");
            let (hdr, big) = &out[0];
            assert_eq!(
                hdr.gso_type,
                if v6 { GsoType::TcpV6 } else { GsoType::TcpV4 }
            );
            assert_eq!(hdr.gso_size, 1000);
            assert!(hdr.needs_csum());
            assert_eq!(Ip::parse(big).unwrap().total_len, big.len());
            // Cutting the super-packet again gives back the original segments, byte for byte.
            let mut s = Segmenter::new(hdr, big).unwrap();
            for (i, orig) in originals.iter().enumerate() {
                let mut seg = vec![0u8; s.next_len().unwrap()];
                s.write_next(&mut seg);
                if !v6 {
                    // The identification field is renumbered from the first segment's.
                    assert_eq!(&seg[..4], &orig[..4]);
                    assert_eq!(&seg[6..10], &orig[6..10]);
                    assert_eq!(&seg[12..], &orig[12..], "segment {i}");
                } else {
                    assert_eq!(&seg, orig, "segment {i}");
                }
            }
            assert_eq!(s.next_len(), None);
            assert_eq!(c.stats().merged, 9);
        }
    }

    #[test]
    fn gaps_flag_changes_and_other_flows_keep_order() {
        let mut c = Coalescer::new(1 << 20, 64, true);
        let a0 = tcp_packet(false, 0, TCP_ACK, &[], &[1; 100]);
        let a1 = tcp_packet(false, 100, TCP_ACK, &[], &[2; 100]);
        let gap = tcp_packet(false, 300, TCP_ACK, &[], &[3; 100]);
        let fin = tcp_packet(false, 400, TCP_ACK | TCP_FIN, &[], &[4; 10]);
        let after_fin = tcp_packet(false, 410, TCP_ACK, &[], &[5; 100]);
        let other = {
            let mut o = tcp_packet(false, 0, TCP_ACK, &[], &[6; 100]);
            o[23] ^= 1; // another destination port
            // Recompute the checksum for the changed port.
            o[36..38].fill(0);
            let ip = Ip::parse(&o).unwrap();
            let ps = checksum::pseudo_header(ip.src(&o), ip.dst(&o), PROTO_TCP, o.len() - 20);
            let v = checksum::finish(checksum::add(ps, checksum::sum(&o[20..])));
            o[36..38].copy_from_slice(&v.to_be_bytes());
            o
        };
        for p in [&a0, &other, &a1, &gap, &fin, &after_fin] {
            c.push(p).unwrap();
        }
        let out = flush_all(&mut c);
        let payloads: Vec<Vec<u8>> = out.iter().map(|(_, p)| payload_of(p).to_vec()).collect();
        assert_eq!(payloads.len(), 5);
        assert_eq!(payloads[0], [[1u8; 100], [2u8; 100]].concat());
        assert_eq!(payloads[1], [6u8; 100]);
        assert_eq!(payloads[2], [3u8; 100]);
        assert_eq!(payloads[3], [4u8; 10]);
        assert_eq!(payloads[4], [5u8; 100]);
        for (h, p) in &out[1..] {
            assert_eq!(h.gso_type, GsoType::None);
            assert!(l4_checksum_ok(p));
        }
    }

    #[test]
    fn bad_checksums_and_syns_pass_alone() {
        let mut c = Coalescer::new(1 << 20, 64, true);
        let a0 = tcp_packet(false, 0, TCP_ACK, &[], &[1; 100]);
        let mut a1 = tcp_packet(false, 100, TCP_ACK, &[], &[2; 100]);
        a1[60] ^= 0xff;
        let syn = tcp_packet(false, 200, TCP_SYN, &[], &[]);
        for p in [&a0, &a1, &syn] {
            c.push(p).unwrap();
        }
        let out = flush_all(&mut c);
        assert_eq!(out.len(), 3);
        assert_eq!(out[1].1, a1, "passed unchanged for the kernel to judge");
        assert_eq!(out[1].0.flags, 0, "not marked valid");
        assert_eq!(out[0].0.flags, VirtioNetHdr::F_DATA_VALID);
        assert_eq!(c.stats().bad_checksums, 1);
    }

    #[test]
    fn arena_full_asks_for_a_flush_and_runs_stop_at_64k() {
        let mut c = Coalescer::new(0, 3, false);
        let mut n = 0u32;
        let mut pushed = 0;
        for _ in 0..200 {
            let p = tcp_packet(false, n * 1400, TCP_ACK, &[], &[7; 1400]);
            match c.push(&p) {
                Ok(()) => {
                    n += 1;
                    pushed += 1;
                }
                Err(Full) => break,
            }
        }
        let out = flush_all(&mut c);
        assert!(out.iter().all(|(_, p)| p.len() <= MAX_IP_LEN));
        assert!(out.len() >= 2, "a run is cut before 64 KiB");
        assert_eq!(
            out.iter().map(|(_, p)| payload_of(p).len()).sum::<usize>(),
            pushed * 1400
        );
        assert!(c.is_empty());
    }

    #[test]
    fn non_tcp_and_garbage_pass_through() {
        let mut c = Coalescer::new(1 << 20, 64, true);
        c.push(&[0x45, 0, 0]).unwrap();
        c.push(&[]).unwrap();
        let out = flush_all(&mut c);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].1, [0x45, 0, 0]);
    }
}
