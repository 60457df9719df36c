//! The send side of a worker: ESP packets laid end to end in one buffer, merged into UDP GSO
//! trains where they can be, and handed to the kernel with one `sendmmsg` per batch.

use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;

use ipsec_sys::{MAX_BATCH, RawEspSocket, RecvMeta, Transmit, UdpSocket};

use crate::stats::DataplaneStats;

/// The worker's socket.
#[derive(Debug, Clone)]
pub(crate) enum Net {
    Raw(Arc<RawEspSocket>),
    Udp(Arc<UdpSocket>),
}

impl Net {
    fn send_batch(&self, buf: &[u8], msgs: &[Transmit]) -> io::Result<usize> {
        match self {
            Self::Raw(s) => s.send_batch(buf, msgs),
            Self::Udp(s) => s.send_batch(buf, msgs),
        }
    }

    pub(crate) fn recv_batch(
        &self,
        buf: &mut [u8],
        stride: usize,
        meta: &mut [RecvMeta],
    ) -> io::Result<usize> {
        match self {
            Self::Raw(s) => s.recv_batch(buf, stride, meta),
            Self::Udp(s) => s.recv_batch(buf, stride, meta),
        }
    }

    pub(crate) fn is_udp(&self) -> bool {
        matches!(self, Self::Udp(_))
    }
}

impl AsFd for Net {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Self::Raw(s) => s.as_fd(),
            Self::Udp(s) => s.as_fd(),
        }
    }
}

/// ESP packets waiting to be sent.
#[derive(Debug)]
pub(crate) struct TxBatch {
    buf: Vec<u8>,
    cursor: usize,
    msgs: Vec<Transmit>,
    gso: bool,
    /// Counts into the N3 counters rather than the ESP ones.
    n3: bool,
}

impl TxBatch {
    /// A batch over a buffer of `capacity` bytes; `gso` merges equal-sized packets to one peer.
    pub(crate) fn new(capacity: usize, gso: bool) -> Self {
        Self {
            buf: vec![0; capacity],
            cursor: 0,
            msgs: Vec::with_capacity(MAX_BATCH),
            gso,
            n3: false,
        }
    }

    /// A batch of GTP-U datagrams for the N3 socket (counted as `n3_sent`, `n3_send_errors`).
    pub(crate) fn new_n3(capacity: usize, gso: bool) -> Self {
        Self {
            n3: true,
            ..Self::new(capacity, gso)
        }
    }

    /// Whether `need` more bytes and one more message fit.
    pub(crate) fn has_room(&self, need: usize) -> bool {
        self.buf.len() - self.cursor >= need && self.msgs.len() < MAX_BATCH
    }

    /// Where the next packet may start, and the buffer to build it in.
    pub(crate) fn next_slot(&mut self) -> (usize, &mut [u8]) {
        (self.cursor, &mut self.buf)
    }

    /// Queues the packet at `range` (at or after the cursor) for `dst`.
    pub(crate) fn push(&mut self, dst: SocketAddr, range: Range<usize>) {
        let len = range.len();
        self.cursor = range.end;
        if self.gso
            && let Some(last) = self.msgs.last_mut()
            && can_extend(last, dst, range.start, len)
        {
            last.len += len;
            return;
        }
        let segment_size = u16::try_from(len).unwrap_or(0);
        self.msgs.push(Transmit {
            dst,
            offset: range.start,
            len,
            segment_size,
        });
    }

    /// Bytes queued.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.cursor
    }

    /// Whether nothing is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.msgs.is_empty()
    }

    /// Sends everything queued and empties the batch. Errors are counted, never returned: a
    /// datagram the kernel refuses is lost as it would be on the wire.
    pub(crate) fn flush(&mut self, net: &Net, stats: &mut DataplaneStats) {
        let mut i = 0;
        // Each round sends at least one message or drops one, so this ends.
        for _ in 0..2 * MAX_BATCH {
            if i >= self.msgs.len() {
                break;
            }
            stats.send_calls += 1;
            match net.send_batch(&self.buf, &self.msgs[i..]) {
                Ok(k) => {
                    let n = self.msgs[i..i + k].iter().map(datagrams).sum::<u64>();
                    *sent(stats, self.n3) += n;
                    i += k.max(1);
                }
                Err(e) if datagrams(&self.msgs[i]) > 1 && is_gso_error(&e) => {
                    stats.gso_fallbacks += 1;
                    if e.raw_os_error() == Some(LIBC_EIO) {
                        self.gso = false;
                    }
                    send_one_by_one(net, &self.buf, self.msgs[i], self.n3, stats);
                    i += 1;
                }
                Err(_) => {
                    *send_errors(stats, self.n3) += datagrams(&self.msgs[i]);
                    i += 1;
                }
            }
        }
        self.msgs.clear();
        self.cursor = 0;
    }
}

/// Whether a packet of `len` bytes at `start` can join the GSO train `last`: same peer, right
/// behind it, not longer than its segments, the train not ended by a shorter one, and within
/// the kernel's limits.
fn can_extend(last: &Transmit, dst: SocketAddr, start: usize, len: usize) -> bool {
    let seg = usize::from(last.segment_size);
    seg != 0
        && last.dst == dst
        && last.offset + last.len == start
        && len <= seg
        && last.len.is_multiple_of(seg)
        && last.len / seg < MAX_GSO_SEGMENTS
        && last.len + len <= MAX_GSO_BYTES
}

fn datagrams(t: &Transmit) -> u64 {
    match t.segment_size {
        0 => 1,
        s => t.len.div_ceil(usize::from(s)) as u64,
    }
}

/// EIO: the route's device cannot checksum for GSO; EINVAL: a segment does not fit the path.
fn is_gso_error(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(c) if c == LIBC_EIO || c == LIBC_EINVAL)
}

/// The counter of datagrams sent on the ESP or the N3 socket.
fn sent(stats: &mut DataplaneStats, n3: bool) -> &mut u64 {
    if n3 {
        &mut stats.n3_sent
    } else {
        &mut stats.esp_sent
    }
}

fn send_errors(stats: &mut DataplaneStats, n3: bool) -> &mut u64 {
    if n3 {
        &mut stats.n3_send_errors
    } else {
        &mut stats.send_errors
    }
}

fn send_one_by_one(net: &Net, buf: &[u8], train: Transmit, n3: bool, stats: &mut DataplaneStats) {
    let seg = usize::from(train.segment_size).max(1);
    let mut singles = [train; MAX_BATCH];
    let mut n = 0;
    let mut at = train.offset;
    while at < train.offset + train.len && n < MAX_BATCH {
        let len = seg.min(train.offset + train.len - at);
        singles[n] = Transmit {
            dst: train.dst,
            offset: at,
            len,
            segment_size: 0,
        };
        n += 1;
        at += len;
    }
    let mut i = 0;
    for _ in 0..2 * MAX_BATCH {
        if i >= n {
            break;
        }
        stats.send_calls += 1;
        match net.send_batch(buf, &singles[i..n]) {
            Ok(k) => {
                *sent(stats, n3) += k as u64;
                i += k.max(1);
            }
            Err(_) => {
                *send_errors(stats, n3) += 1;
                i += 1;
            }
        }
    }
}

const LIBC_EIO: i32 = 5;
const LIBC_EINVAL: i32 = 22;
/// UDP_MAX_SEGMENTS in older kernels (newer ones allow 128).
const MAX_GSO_SEGMENTS: usize = 64;
/// A GSO train is one UDP datagram to the stack: 65,535 minus IPv6 and UDP headers.
const MAX_GSO_BYTES: usize = 65_535 - 40 - 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_packets_to_one_peer_form_trains_that_a_short_one_ends() {
        let a: SocketAddr = "192.0.2.1:4500".parse().unwrap();
        let b: SocketAddr = "192.0.2.2:4500".parse().unwrap();
        let mut t = TxBatch::new(1 << 20, true);
        let mut at = 0;
        let mut push = |t: &mut TxBatch, dst, len| {
            t.push(dst, at..at + len);
            at += len;
        };
        for _ in 0..3 {
            push(&mut t, a, 100);
        }
        push(&mut t, a, 60); // ends the train
        push(&mut t, a, 60); // a new one
        push(&mut t, b, 60); // another peer
        push(&mut t, b, 80); // longer than the train's segments
        let got: Vec<(usize, usize, u16)> = t
            .msgs
            .iter()
            .map(|m| (m.offset, m.len, m.segment_size))
            .collect();
        assert_eq!(
            got,
            [(0, 360, 100), (360, 60, 60), (420, 60, 60), (480, 80, 80)]
        );
        assert_eq!(t.msgs.iter().map(datagrams).sum::<u64>(), 7);
    }

    #[test]
    fn trains_respect_kernel_limits() {
        let a: SocketAddr = "192.0.2.1:4500".parse().unwrap();
        let mut t = TxBatch::new(1 << 20, true);
        for i in 0..100 {
            t.push(a, i * 1456..(i + 1) * 1456);
        }
        assert!(
            t.msgs
                .iter()
                .all(|m| m.len <= MAX_GSO_BYTES && datagrams(m) <= 64)
        );
        assert_eq!(t.msgs.iter().map(datagrams).sum::<u64>(), 100);
        let mut raw = TxBatch::new(1 << 20, false);
        raw.push(a, 0..100);
        raw.push(a, 100..200);
        assert_eq!(raw.msgs.len(), 2);
    }
}
