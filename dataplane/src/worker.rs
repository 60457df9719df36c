//! One worker per core: it owns a TUN queue and a socket and moves packets both ways, in
//! bounded batches per wake-up, without allocating per packet.
//!
//! Outbound: TUN read (up to a 64 KiB super-packet) → SPD lookup → segment straight into the
//! send buffer → `OutboundSa::seal` in place → UDP GSO trains or raw ESP → one `sendmmsg`.
//! Inbound: `recvmmsg` (UDP GRO trains or raw ESP) → NAT-T classification → `InboundSa::open`
//! in place → selector check → coalesce TCP runs → one TUN write per run.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use esp::natt::{self, NatTPayload};
use esp::{InboundSa, OutboundSa, SaEvent, Spi};
use ipsec_sys::{EventFd, RecvMeta, Tun, VirtioNetHdr, poll_readable};

use crate::admission::SourceLimiter;
use crate::coalesce::{CoalesceStats, Coalescer, Full};
use crate::config::{DataplaneEvent, Direction, IkeMessage};
use crate::n3::{EspOut, N3Out, N3Port};
use crate::report::ReportLimiter;
use crate::sa_events::SaEventBox;
use crate::segment::Segmenter;
use crate::stats::{DataplaneStats, SharedCounters};
use crate::table::{InboundEntry, Route, SaTable, TableCell, lock};
use crate::tx::{Net, TxBatch};
use crate::up_table::UpEntry;
use crate::uplink::is_gre_to_up;

/// What the workers share with the control handle.
pub(crate) struct Shared {
    pub(crate) table: TableCell,
    pub(crate) counters: SharedCounters,
    pub(crate) stop: std::sync::atomic::AtomicBool,
    pub(crate) events: SyncSender<DataplaneEvent>,
    pub(crate) sa_events: SaEventBox,
    pub(crate) ike: SyncSender<IkeMessage>,
    pub(crate) ike_admission: Mutex<SourceLimiter>,
}

impl Shared {
    /// Queues an event without blocking; a full channel loses it (counted).
    pub(crate) fn emit(&self, event: DataplaneEvent, stats: &mut DataplaneStats) {
        if let Err(TrySendError::Full(_)) = self.events.try_send(event) {
            stats.events_dropped += 1;
        }
    }

    /// Keeps an SA event until the owner collects it, and rings the doorbell.
    pub(crate) fn raise(
        &self,
        spi: Spi,
        direction: Direction,
        event: SaEvent,
        stats: &mut DataplaneStats,
    ) {
        stats.sa_events += 1;
        if self.sa_events.raise(spi, direction, event)
            && self.events.try_send(DataplaneEvent::SaEvents).is_err()
        {
            self.sa_events.doorbell_lost();
            stats.sa_event_doorbells_lost += 1;
        }
    }

    /// Queues an IKE message for the daemon if its source is within its rate and the queue has
    /// room; counts it otherwise.
    fn forward_ike(&self, from: SocketAddr, message: &[u8], stats: &mut DataplaneStats) {
        let admitted = lock(&self.ike_admission).allow(from.ip(), Instant::now());
        if !admitted {
            stats.ike_rate_limited += 1;
            return;
        }
        let m = IkeMessage {
            from,
            message: message.to_vec(),
        };
        match self.ike.try_send(m) {
            Ok(()) => stats.ike_packets += 1,
            Err(TrySendError::Full(_)) => stats.ike_dropped += 1,
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// A worker's I/O and buffers.
pub(crate) struct Worker {
    pub(crate) shared: Arc<Shared>,
    pub(crate) tun: Tun,
    pub(crate) net: Net,
    /// Whether this worker reads the socket (raw sockets all see every packet: only one does).
    pub(crate) receives: bool,
    pub(crate) wake: Arc<EventFd>,
    pub(crate) tun_buf: Vec<u8>,
    pub(crate) tx: TxBatch,
    pub(crate) rx_buf: Vec<u8>,
    pub(crate) rx_meta: Vec<RecvMeta>,
    pub(crate) coalescer: Coalescer,
    /// The coalescer's counters already added to `stats`.
    pub(crate) coalesce_seen: CoalesceStats,
    pub(crate) stats: DataplaneStats,
    /// Limits acquires (by trap id).
    pub(crate) acquires: ReportLimiter<u32>,
    /// Limits unknown-SPI reports (by SPI); apart from `acquires` so that ESP with made-up
    /// SPIs from the network cannot starve acquires.
    pub(crate) unknown_spis: ReportLimiter<Spi>,
    /// The N3 (GTP-U) socket, when the dataplane carries an N3IWF user plane.
    pub(crate) n3: Option<N3Port>,
}

impl Worker {
    /// Runs until the handle asks to stop.
    pub(crate) fn run(mut self) {
        let mut ready = [false; 4];
        while !self.shared.stop.load(Ordering::Relaxed) {
            let mut busy = self.drain_tun();
            if self.receives {
                busy |= self.drain_net();
            }
            busy |= self.drain_n3();
            self.stats.drain_into(&self.shared.counters);
            if !busy {
                let mut fds = [
                    self.tun.as_fd(),
                    self.wake.as_fd(),
                    self.net.as_fd(),
                    self.net.as_fd(),
                ];
                let mut n = if self.receives { 3 } else { 2 };
                if let Some(p) = &self.n3 {
                    fds[n] = p.out.net.as_fd();
                    n += 1;
                }
                if poll_readable(&fds[..n], IDLE_POLL, &mut ready[..n]).is_ok() && ready[1] {
                    self.wake.drain();
                }
            }
        }
    }

    /// Handles what arrived on the N3 socket; returns whether there was any.
    fn drain_n3(&mut self) -> bool {
        let Self {
            n3,
            tx,
            net,
            shared,
            stats,
            ..
        } = self;
        let Some(n3) = n3 else {
            return false;
        };
        n3.drain(shared, &mut EspOut { tx, net }, stats)
    }

    /// Reads and sends up to [`TUN_READS_PER_WAKE`] packets; returns whether there was any.
    fn drain_tun(&mut self) -> bool {
        let shared = Arc::clone(&self.shared);
        let table = shared.table.read();
        let mut busy = false;
        for _ in 0..TUN_READS_PER_WAKE {
            match self.tun.read(&mut self.tun_buf) {
                Ok(0) => break,
                Ok(n) => {
                    busy = true;
                    self.stats.tun_reads += 1;
                    self.seal_tun_packet(&table, n);
                    if self.tx.queued_bytes() >= TX_FLUSH_BYTES {
                        self.tx.flush(&self.net, &mut self.stats);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.stats.tun_errors += 1;
                    break;
                }
            }
        }
        if !self.tx.is_empty() {
            self.tx.flush(&self.net, &mut self.stats);
        }
        busy
    }

    /// Segments, seals and queues the packet in `tun_buf[..n]`.
    fn seal_tun_packet(&mut self, table: &SaTable, n: usize) {
        let Self {
            tun,
            tun_buf,
            tx,
            net,
            stats,
            shared,
            acquires,
            ..
        } = self;
        let (hdr, pkt) = if tun.has_vnet_hdr() {
            let Some(hdr) = VirtioNetHdr::parse(&tun_buf[..n]) else {
                stats.segment_errors += 1;
                return;
            };
            (hdr, &tun_buf[VirtioNetHdr::LEN..n])
        } else {
            (VirtioNetHdr::plain(), &tun_buf[..n])
        };
        let entry = match table.route(pkt) {
            Route::Sa(entry) => entry,
            Route::Trap(trap, fields) => {
                stats.trapped += 1;
                if acquires.allow(trap, Instant::now()) {
                    stats.acquires += 1;
                    let (src, dst) = (fields.source, fields.destination);
                    shared.emit(DataplaneEvent::Acquire { trap, src, dst }, stats);
                }
                return;
            }
            Route::NoPolicy => {
                stats.no_policy += 1;
                return;
            }
        };
        let Ok(mut segments) = Segmenter::new(&hdr, pkt) else {
            stats.segment_errors += 1;
            return;
        };
        let mut sa = lock(&entry.sa);
        let headroom = sa.headroom();
        // Bounded by the packet: each round consumes one segment of at least one byte.
        while let Some(len) = segments.next_len() {
            if !tx.has_room(headroom + len + OutboundSa::TAILROOM) {
                tx.flush(net, stats);
            }
            let (at, buf) = tx.next_slot();
            let inner = at + headroom;
            segments.write_next(&mut buf[inner..]);
            stats.segments_out += 1;
            // A refused packet is counted in the SA's drop counters.
            if let Ok(range) = sa.seal(buf, inner, len) {
                tx.push(entry.peer, range);
            }
        }
        while let Some(event) = sa.poll_event() {
            shared.raise(sa.spi(), Direction::Outbound, event, stats);
        }
    }

    /// Receives and delivers up to [`NET_BATCHES_PER_WAKE`] batches; returns whether there was
    /// any.
    fn drain_net(&mut self) -> bool {
        let mut busy = false;
        for _ in 0..NET_BATCHES_PER_WAKE {
            match self
                .net
                .recv_batch(&mut self.rx_buf, RX_STRIDE, &mut self.rx_meta)
            {
                Ok(0) => break,
                Ok(n) => {
                    busy = true;
                    self.stats.recv_calls += 1;
                    self.open_batch(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.stats.malformed += 1;
                    break;
                }
            }
        }
        busy
    }

    /// Opens the `n` received messages and writes what they carry to the TUN device.
    fn open_batch(&mut self, n: usize) {
        let Self {
            rx_buf,
            rx_meta,
            coalescer,
            tun,
            stats,
            shared,
            net,
            unknown_spis,
            n3,
            ..
        } = self;
        let shared: &Shared = shared;
        let table = shared.table.read();
        let udp = net.is_udp();
        let mut out = Delivery {
            tun,
            coalescer,
            stats,
            n3: n3.as_mut().map(|p| &mut p.out),
        };
        let mut current: Option<Current<'_>> = None;
        for m in &rx_meta[..n] {
            if m.truncated || m.len == 0 {
                out.stats.malformed += 1;
                continue;
            }
            let data = &mut rx_buf[m.offset..m.offset + m.len];
            for datagram in data.chunks_mut(m.segment_size.max(1)) {
                out.stats.datagrams_in += 1;
                if udp && !is_esp(datagram, m.src, shared, out.stats) {
                    continue;
                }
                let unknown = open_one(datagram, &table, &mut current, &mut out, shared);
                if let Some(spi) = unknown {
                    report_unknown(spi, m.src, unknown_spis, shared, out.stats);
                }
            }
        }
        if let Some(c) = current.take() {
            c.release(shared, out.stats);
        }
        out.flush();
        if let Some(n3) = out.n3.as_mut() {
            n3.flush(out.stats);
        }
        let now = self.coalescer.stats();
        self.stats.coalesced += now.merged - self.coalesce_seen.merged;
        self.stats.inner_bad_checksums += now.bad_checksums - self.coalesce_seen.bad_checksums;
        self.coalesce_seen = now;
    }
}

/// Sorts a UDP/4500 payload (RFC 3948 §2.2): ESP goes on; IKE goes to the daemon; keepalives
/// and junk are counted and dropped.
fn is_esp(datagram: &[u8], from: SocketAddr, shared: &Shared, stats: &mut DataplaneStats) -> bool {
    match natt::classify(datagram) {
        Some(NatTPayload::Esp(_)) => true,
        Some(NatTPayload::Keepalive) => {
            stats.keepalives += 1;
            false
        }
        Some(NatTPayload::Ike(message)) => {
            shared.forward_ike(from, message, stats);
            false
        }
        None => {
            stats.malformed += 1;
            false
        }
    }
}

/// The inbound SA in use, kept locked across consecutive packets with its SPI.
struct Current<'t> {
    spi: Spi,
    entry: &'t InboundEntry,
    sa: MutexGuard<'t, InboundSa>,
    /// The PDU session whose user plane this SA carries.
    up: Option<&'t UpEntry>,
}

impl Current<'_> {
    /// Reports the SA's events and unlocks it.
    fn release(mut self, shared: &Shared, stats: &mut DataplaneStats) {
        while let Some(event) = self.sa.poll_event() {
            shared.raise(self.spi, Direction::Inbound, event, stats);
        }
    }
}

/// Tells the daemon about an unknown SPI, at a limited rate.
fn report_unknown(
    spi: Spi,
    from: SocketAddr,
    limiter: &mut ReportLimiter<Spi>,
    shared: &Shared,
    stats: &mut DataplaneStats,
) {
    if limiter.allow(spi, Instant::now()) {
        stats.unknown_spi_reports += 1;
        shared.emit(DataplaneEvent::UnknownSpi { spi, from }, stats);
    }
}

/// Opens one ESP packet in place and delivers its inner packet; returns the SPI if no SA has
/// it.
fn open_one<'t>(
    packet: &mut [u8],
    table: &'t SaTable,
    current: &mut Option<Current<'t>>,
    out: &mut Delivery<'_>,
    shared: &Shared,
) -> Option<Spi> {
    let Some(spi_bytes) = packet.first_chunk::<4>() else {
        out.stats.malformed += 1;
        return None;
    };
    let spi = Spi::from_wire(*spi_bytes);
    if current.as_ref().is_none_or(|c| c.spi != spi) {
        if let Some(c) = current.take() {
            c.release(shared, out.stats);
        }
        let Some(entry) = table.inbound.get(&spi) else {
            out.stats.unknown_spi += 1;
            return Some(spi);
        };
        *current = Some(Current {
            spi,
            entry,
            sa: lock(&entry.sa),
            up: table.up.by_inbound(spi),
        });
    }
    let c = current.as_mut()?;
    // A refused packet is counted in the SA's drop counters.
    let Ok(opened) = c.sa.open(packet) else {
        return None;
    };
    let inner = &packet[opened.inner];
    if !c.entry.admits(inner) {
        return None;
    }
    match c.up {
        Some(up) => out.uplink(up, inner),
        None if is_gre_to_up(&table.up, inner) => out.stats.up_policy_drops += 1,
        None => out.deliver(inner),
    }
    None
}

/// Where decrypted packets go: the coalescer (virtio-net header mode) or straight to TUN.
struct Delivery<'a> {
    tun: &'a Tun,
    coalescer: &'a mut Coalescer,
    stats: &'a mut DataplaneStats,
    /// User-plane packets go to N3 instead.
    n3: Option<&'a mut N3Out>,
}

impl Delivery<'_> {
    fn uplink(&mut self, up: &UpEntry, inner: &[u8]) {
        match self.n3.as_mut() {
            Some(n3) => n3.uplink(up, inner, self.stats),
            None => self.stats.up_no_n3 += 1,
        }
    }

    fn deliver(&mut self, inner: &[u8]) {
        if !self.tun.has_vnet_hdr() {
            write_tun(self.tun, inner, self.stats);
            return;
        }
        if let Err(Full) = self.coalescer.push(inner) {
            self.flush();
            // An empty coalescer takes any packet up to 64 KiB; a refusal here cannot happen,
            // and would only lose this packet.
            let _ = self.coalescer.push(inner);
        }
    }

    fn flush(&mut self) {
        let (tun, stats) = (self.tun, &mut *self.stats);
        self.coalescer.flush(|bytes| write_tun(tun, bytes, stats));
    }
}

fn write_tun(tun: &Tun, bytes: &[u8], stats: &mut DataplaneStats) {
    match tun.write(bytes) {
        Ok(_) => stats.tun_writes += 1,
        Err(_) => stats.tun_errors += 1,
    }
}

/// Super-packets read from TUN per wake-up before the socket gets its turn.
const TUN_READS_PER_WAKE: usize = 16;
/// Queued ESP bytes that trigger a send between TUN reads (keeps the peer busy meanwhile).
const TX_FLUSH_BYTES: usize = 256 << 10;
/// `recvmmsg` batches per wake-up before TUN gets its turn.
const NET_BATCHES_PER_WAKE: usize = 4;
/// Receive slot size: a whole UDP GRO train (or raw IPv4 packet) fits.
pub(crate) const RX_STRIDE: usize = 65_536;
/// Receive slots per `recvmmsg`.
pub(crate) const RX_SLOTS: usize = 16;
/// TUN read buffer: virtio-net header plus the largest IP packet.
pub(crate) const TUN_BUF_LEN: usize = VirtioNetHdr::LEN + 65_535;
/// Send buffer: room for several super-packets' worth of ESP.
pub(crate) const TX_BUF_LEN: usize = 1 << 20;
/// Coalescer arena and entries.
pub(crate) const COALESCE_ARENA: usize = 4 << 20;
pub(crate) const COALESCE_ENTRIES: usize = 512;
/// How long an idle worker sleeps before looking at the stop flag again.
const IDLE_POLL: Duration = Duration::from_millis(200);

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{self, Receiver};

    use super::*;

    fn shared(
        events: usize,
        ike: usize,
        rate: u32,
    ) -> (Shared, Receiver<DataplaneEvent>, Receiver<IkeMessage>) {
        let (events_tx, events_rx) = mpsc::sync_channel(events);
        let (ike_tx, ike_rx) = mpsc::sync_channel(ike);
        let s = Shared {
            table: TableCell::default(),
            counters: SharedCounters::default(),
            stop: std::sync::atomic::AtomicBool::new(false),
            events: events_tx,
            sa_events: SaEventBox::default(),
            ike: ike_tx,
            ike_admission: Mutex::new(SourceLimiter::new(rate)),
        };
        (s, events_rx, ike_rx)
    }

    /// The event channel is full of acquires: the SA events still reach the owner, and the
    /// doorbell is rung again once there is room.
    #[test]
    fn sa_events_survive_a_full_event_channel() {
        let (s, events, _ike) = shared(1, 1, 0);
        let mut stats = DataplaneStats::default();
        let acquire = DataplaneEvent::Acquire {
            trap: 1,
            src: [10, 0, 0, 1].into(),
            dst: [10, 0, 0, 2].into(),
        };
        s.emit(acquire.clone(), &mut stats);
        s.emit(acquire.clone(), &mut stats);
        assert_eq!(stats.events_dropped, 1, "the channel is full");
        s.raise(
            Spi(7),
            Direction::Outbound,
            SaEvent::SoftLifetime,
            &mut stats,
        );
        s.raise(
            Spi(8),
            Direction::Inbound,
            SaEvent::HardLifetime,
            &mut stats,
        );
        assert_eq!(stats.sa_event_doorbells_lost, 2);
        let got: Vec<(Spi, SaEvent)> = s
            .sa_events
            .take()
            .iter()
            .map(|r| (r.spi, r.event))
            .collect();
        assert_eq!(
            got,
            vec![
                (Spi(7), SaEvent::SoftLifetime),
                (Spi(8), SaEvent::HardLifetime)
            ]
        );
        assert_eq!(events.try_recv(), Ok(acquire));
        s.raise(
            Spi(9),
            Direction::Outbound,
            SaEvent::SequenceExhausted,
            &mut stats,
        );
        assert_eq!(
            events.try_recv(),
            Ok(DataplaneEvent::SaEvents),
            "rung once there was room"
        );
        assert_eq!(s.sa_events.take().len(), 1);
        assert_eq!(stats.sa_events, 3);
    }

    #[test]
    fn ike_is_admitted_per_source_into_a_bounded_queue() {
        let (s, _events, ike) = shared(1, 4, 2);
        let mut stats = DataplaneStats::default();
        let flooder: SocketAddr = "192.0.2.1:4500".parse().expect("addr");
        let peer: SocketAddr = "192.0.2.2:4500".parse().expect("addr");
        for _ in 0..10 {
            s.forward_ike(flooder, b"flood", &mut stats);
        }
        assert_eq!((stats.ike_packets, stats.ike_rate_limited), (2, 8));
        s.forward_ike(peer, b"hello", &mut stats);
        s.forward_ike(peer, b"again", &mut stats);
        s.forward_ike("192.0.2.3:4500".parse().expect("addr"), b"full", &mut stats);
        assert_eq!(
            (stats.ike_packets, stats.ike_dropped),
            (4, 1),
            "the queue holds 4"
        );
        let from: Vec<SocketAddr> = ike.try_iter().map(|m| m.from).collect();
        assert_eq!(from, vec![flooder, flooder, peer, peer]);
    }
}
