//! A worker's N3 side: its GTP-U socket, the G-PDUs it sends to UPFs (uplink, batched), and what
//! it does with each datagram from a UPF: G-PDUs go down the PDU session's Child SA for their
//! QFI, Echo Requests are answered, Error Indications and Echo Responses are reported to the
//! owner (rate-limited), End Markers are swallowed; everything is counted.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use esp::OutboundSa;
use ipsec_sys::{RecvMeta, UdpSocket};

use crate::admission::SourceLimiter;
use crate::config::{DataplaneEvent, Direction};
use crate::downlink::{Body, Part, fragment_header_len, fragments, header_len, write_inner};
use crate::packet::Ip;
use crate::report::ReportLimiter;
use crate::stats::DataplaneStats;
use crate::table::{OutboundEntry, SaTable, lock};
use crate::tx::{Net, TxBatch};
use crate::up_table::UpEntry;
use crate::uplink::ul_packet;
use crate::user_plane::OversizePolicy;
use crate::worker::Shared;
use userplane::{
    ErrorIndication, GPDU_HEADER_LEN, GRE_HEADER_LEN, GreKey, GtpuMessage, IpVersion,
    PduSessionInfo, Teid, write_echo_response, write_error_indication, write_gre_header,
};

/// GTP-U reports (Echo Responses, Error Indications) per second from one UPF passed on.
pub(crate) const REPORTS_PER_SOURCE: u32 = 20;
/// `recvmmsg` batches on N3 per wake-up before the other sockets get their turn.
const BATCHES_PER_WAKE: usize = 4;
/// N3 send buffer: G-PDUs of a whole receive batch of ESP.
pub(crate) const N3_TX_LEN: usize = 1 << 20;

/// The N3 socket of a worker and its receive buffers.
pub(crate) struct N3Port {
    pub(crate) out: N3Out,
    rx_buf: Vec<u8>,
    rx_meta: Vec<RecvMeta>,
}

/// How the worker's N3 side is set up.
pub(crate) struct N3Setup {
    /// The worker's number and how many there are (IPv4 fragment identifications are
    /// interleaved so that workers never pick the same one).
    pub(crate) worker: usize,
    pub(crate) workers: usize,
    pub(crate) mtu: u16,
    pub(crate) oversize: OversizePolicy,
}

/// Where a worker's downlink ESP leaves.
pub(crate) struct EspOut<'a> {
    pub(crate) tx: &'a mut TxBatch,
    pub(crate) net: &'a Net,
}

impl N3Port {
    pub(crate) fn new(
        sock: Arc<UdpSocket>,
        setup: &N3Setup,
        rx_stride: usize,
        rx_slots: usize,
    ) -> Self {
        let gso = sock.is_gso_supported();
        let local = sock.local_addr().ip();
        Self {
            out: N3Out {
                net: Net::Udp(sock),
                local,
                tx: TxBatch::new_n3(N3_TX_LEN, gso),
                error_indications: ReportLimiter::new(),
                reports: SourceLimiter::new(REPORTS_PER_SOURCE),
                next_id: u32::try_from(setup.worker).unwrap_or(0),
                id_stride: u32::try_from(setup.workers.max(1)).unwrap_or(1),
                mtu: usize::from(setup.mtu),
                oversize: setup.oversize,
                rx_stride,
            },
            rx_buf: vec![0; rx_stride * rx_slots],
            rx_meta: vec![RecvMeta::default(); rx_slots],
        }
    }

    /// Receives and handles up to [`BATCHES_PER_WAKE`] batches; returns whether there was any.
    pub(crate) fn drain(
        &mut self,
        shared: &Shared,
        esp: &mut EspOut<'_>,
        stats: &mut DataplaneStats,
    ) -> bool {
        let mut busy = false;
        for _ in 0..BATCHES_PER_WAKE {
            let stride = self.out.rx_stride;
            match self
                .out
                .net
                .recv_batch(&mut self.rx_buf, stride, &mut self.rx_meta)
            {
                Ok(0) => break,
                Ok(n) => {
                    busy = true;
                    self.handle_batch(n, shared, esp, stats);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    stats.gtpu_malformed += 1;
                    break;
                }
            }
        }
        busy
    }

    fn handle_batch(
        &mut self,
        n: usize,
        shared: &Shared,
        esp: &mut EspOut<'_>,
        stats: &mut DataplaneStats,
    ) {
        let table = shared.table.read();
        for m in &self.rx_meta[..n] {
            if m.truncated || m.len == 0 {
                stats.gtpu_malformed += 1;
                continue;
            }
            let data = &self.rx_buf[m.offset..m.offset + m.len];
            for datagram in data.chunks(m.segment_size.max(1)) {
                self.out
                    .on_datagram(datagram, m.src, &table, esp, shared, stats);
            }
        }
        drop(table);
        self.out.flush(stats);
        if !esp.tx.is_empty() {
            esp.tx.flush(esp.net, stats);
        }
    }
}

/// What a worker sends on N3, and its state for handling what arrives there.
pub(crate) struct N3Out {
    pub(crate) net: Net,
    local: IpAddr,
    tx: TxBatch,
    /// Limits Error Indications we send (by source address).
    error_indications: ReportLimiter<Option<IpAddr>>,
    /// Limits reports to the owner per UPF.
    reports: SourceLimiter,
    /// Fragment identification: worker `i` of `n` takes i, i + n, i + 2n, …
    next_id: u32,
    id_stride: u32,
    mtu: usize,
    oversize: OversizePolicy,
    rx_stride: usize,
}

impl N3Out {
    /// Handles one datagram from N3.
    pub(crate) fn on_datagram(
        &mut self,
        d: &[u8],
        from: SocketAddr,
        table: &SaTable,
        esp: &mut EspOut<'_>,
        shared: &Shared,
        stats: &mut DataplaneStats,
    ) {
        stats.gtpu_rx += 1;
        let Ok(message) = GtpuMessage::parse(d) else {
            stats.gtpu_malformed += 1;
            return;
        };
        match message {
            GtpuMessage::GPdu {
                teid,
                pdu_session,
                payload,
            } => {
                let g = Downlink {
                    teid,
                    pdu_session,
                    payload,
                };
                self.downlink(&g, from, table, esp, shared, stats);
            }
            GtpuMessage::EchoRequest { sequence_number } => {
                self.echo_response(sequence_number, from, stats);
            }
            GtpuMessage::EchoResponse {
                sequence_number: sequence,
                ..
            } => {
                stats.gtpu_echo_responses += 1;
                let e = DataplaneEvent::GtpuEchoResponse { from, sequence };
                self.report(e, from, shared, stats);
            }
            GtpuMessage::ErrorIndication(indication) => {
                stats.gtpu_error_indications_received += 1;
                let teid = indication.teid_data;
                let e = DataplaneEvent::GtpuErrorIndication { from, teid };
                self.report(e, from, shared, stats);
            }
            GtpuMessage::EndMarker { .. } => stats.gtpu_end_markers += 1,
            _ => stats.gtpu_other += 1,
        }
    }

    /// Queues the UL G-PDU for `inner`, decrypted on one of `up`'s inbound SAs.
    pub(crate) fn uplink(&mut self, up: &UpEntry, inner: &[u8], stats: &mut DataplaneStats) {
        if !self.tx.has_room(GPDU_HEADER_LEN + inner.len()) {
            self.tx.flush(&self.net, stats);
        }
        let (at, buf) = self.tx.next_slot();
        let Some(out) = buf.get_mut(at..) else {
            return;
        };
        match ul_packet(up, inner, out, stats) {
            Some(n) => {
                self.tx.push(up.upf, at..at + n);
                stats.gtpu_tx += 1;
                up.counters.uplink(n - GPDU_HEADER_LEN);
            }
            None => up.counters.ul_drop(),
        }
    }

    /// Sends what is queued.
    pub(crate) fn flush(&mut self, stats: &mut DataplaneStats) {
        if !self.tx.is_empty() {
            self.tx.flush(&self.net, stats);
        }
    }

    fn downlink(
        &mut self,
        g: &Downlink<'_>,
        from: SocketAddr,
        table: &SaTable,
        esp: &mut EspOut<'_>,
        shared: &Shared,
        stats: &mut DataplaneStats,
    ) {
        let Some(up) = table.up.by_teid(g.teid) else {
            stats.gtpu_unknown_teid += 1;
            self.error_indication(g.teid, from, stats);
            return;
        };
        let version = match Ip::parse(g.payload).map(|ip| ip.version) {
            Some(4) => IpVersion::V4,
            Some(6) => IpVersion::V6,
            _ => {
                stats.gtpu_malformed += 1;
                return;
            }
        };
        let (qfi, rqi) = match g.pdu_session {
            Some(s) => (s.qfi(), s.rqi()),
            None => {
                stats.gtpu_no_qfi += 1;
                (up.default_qfi, false)
            }
        };
        let (spi, own) = up.outbound_for(qfi);
        if !own {
            stats.gtpu_qfi_unmapped += 1;
        }
        let Some(entry) = table.outbound.get(&spi) else {
            stats.up_no_sa += 1;
            up.counters.dl_drop();
            return;
        };
        let mut hdr = [0; GRE_HEADER_LEN];
        // Cannot fail: the buffer is the header's size.
        let _ = write_gre_header(&mut hdr, GreKey::new(qfi, rqi), version, up.gre_protocol);
        let body = Body {
            gre: &hdr,
            payload: g.payload,
        };
        self.seal_down(up, &body, entry, esp, shared, stats);
    }

    /// Seals `body` for the UE, whole or in fragments as the path MTU and policy say.
    fn seal_down(
        &mut self,
        up: &UpEntry,
        body: &Body<'_>,
        entry: &OutboundEntry,
        esp: &mut EspOut<'_>,
        shared: &Shared,
        stats: &mut DataplaneStats,
    ) {
        let mut sa = lock(&entry.sa);
        let max_esp = self
            .mtu
            .saturating_sub(outer_overhead(entry.peer, esp.net.is_udp()));
        let whole = Part::whole(body);
        let inner_len = header_len(up, &whole) + body.len();
        if sa.packet_len(inner_len) <= max_esp {
            // A refusal by the SA is counted in its drop counters.
            if seal_part(&mut sa, entry.peer, up, body, &whole, 0, esp, stats) {
                stats.gre_tx += 1;
                up.counters.downlink(body.payload.len());
            } else {
                up.counters.dl_drop();
            }
        } else if self.oversize == OversizePolicy::Fragment {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(self.id_stride);
            let max = max_inner(&sa, max_esp);
            let parts = fragments(body.len(), max, fragment_header_len(up));
            let ok = parts.is_some_and(|mut parts| {
                parts.all(|p| seal_part(&mut sa, entry.peer, up, body, &p, id, esp, stats))
            });
            if ok {
                stats.mtu_fragmented += 1;
                stats.gre_tx += 1;
                up.counters.downlink(body.payload.len());
            } else {
                stats.mtu_drops += 1;
                up.counters.dl_drop();
            }
        } else {
            stats.mtu_drops += 1;
            up.counters.dl_drop();
        }
        let spi = sa.spi();
        while let Some(event) = sa.poll_event() {
            shared.raise(spi, Direction::Outbound, event, stats);
        }
    }

    fn echo_response(&mut self, seq: u16, to: SocketAddr, stats: &mut DataplaneStats) {
        stats.gtpu_echo_requests += 1;
        self.queue(to, stats, |out| write_echo_response(out, seq).ok());
    }

    /// Tells the sender of a G-PDU for an unknown TEID (TS 29.281 §7.3.1), at a limited rate.
    fn error_indication(&mut self, teid: Teid, to: SocketAddr, stats: &mut DataplaneStats) {
        if !self.error_indications.allow(Some(to.ip()), Instant::now()) {
            return;
        }
        stats.gtpu_error_indications_sent += 1;
        let indication = ErrorIndication {
            teid_data: teid,
            peer_address: self.local,
            udp_port: Some(to.port()),
        };
        self.queue(to, stats, |out| {
            write_error_indication(out, 0, &indication).ok()
        });
    }

    /// Queues a message `write` builds (at most 64 octets) for `to`.
    fn queue(
        &mut self,
        to: SocketAddr,
        stats: &mut DataplaneStats,
        write: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) {
        if !self.tx.has_room(64) {
            self.tx.flush(&self.net, stats);
        }
        let (at, buf) = self.tx.next_slot();
        if let Some(n) = buf.get_mut(at..).and_then(write) {
            self.tx.push(to, at..at + n);
        }
    }

    /// Passes a report to the owner unless its source exceeds its rate.
    fn report(
        &mut self,
        event: DataplaneEvent,
        from: SocketAddr,
        shared: &Shared,
        stats: &mut DataplaneStats,
    ) {
        if self.reports.allow(from.ip(), Instant::now()) {
            shared.emit(event, stats);
        } else {
            stats.gtpu_reports_limited += 1;
        }
    }
}

/// A G-PDU as the downlink path reads it.
struct Downlink<'a> {
    teid: Teid,
    pdu_session: Option<PduSessionInfo>,
    payload: &'a [u8],
}

/// Seals one inner packet into the ESP batch; false if it cannot be built or sealed (the SA
/// counts its own refusals).
#[allow(clippy::too_many_arguments)]
fn seal_part(
    sa: &mut OutboundSa,
    peer: SocketAddr,
    up: &UpEntry,
    body: &Body<'_>,
    part: &Part,
    id: u32,
    esp: &mut EspOut<'_>,
    stats: &mut DataplaneStats,
) -> bool {
    let headroom = sa.headroom();
    let need = headroom + header_len(up, part) + part.range.len() + OutboundSa::TAILROOM;
    if !esp.tx.has_room(need) {
        esp.tx.flush(esp.net, stats);
    }
    let (at, buf) = esp.tx.next_slot();
    let inner = at + headroom;
    let Some(n) = buf
        .get_mut(inner..)
        .and_then(|out| write_inner(up, body, part, id, out))
    else {
        return false;
    };
    match sa.seal(buf, inner, n) {
        Ok(range) => {
            esp.tx.push(peer, range);
            true
        }
        Err(_) => false,
    }
}

/// Outer IP (and UDP) header octets in front of ESP towards `peer`.
fn outer_overhead(peer: SocketAddr, udp: bool) -> usize {
    let ip = if peer.is_ipv4() { 20 } else { 40 };
    ip + if udp { 8 } else { 0 }
}

/// The longest inner packet whose ESP packet is at most `max_esp` octets.
fn max_inner(sa: &OutboundSa, max_esp: usize) -> usize {
    // Padding varies by less than one cipher block (16 octets) with the length.
    let mut len = max_esp.saturating_sub(sa.packet_len(0) + 16);
    for _ in 0..32 {
        if sa.packet_len(len + 1) > max_esp {
            break;
        }
        len += 1;
    }
    len
}
