//! The worker's N3 paths without a TUN device (no root): real SAs, real loopback sockets for
//! the UE's ESP and the UPF's GTP-U, the datagram handler called as the worker calls it.

use std::net::{SocketAddr, UdpSocket as StdUdp};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

use esp::{Cipher, InboundSa, OutboundSa, SaConfig, Spi, TrafficSelector};
use ipsec_crypto::{AeadAlgorithm, SecretBytes, default_provider};
use ipsec_sys::{SocketOptions, UdpSocket};

use crate::admission::SourceLimiter;
use crate::config::DataplaneEvent;
use crate::n3::{EspOut, N3Port, N3Setup, REPORTS_PER_SOURCE};
use crate::packet::Ip;
use crate::sa_events::SaEventBox;
use crate::stats::{DataplaneStats, SharedCounters};
use crate::table::{InboundEntry, OutboundEntry, TableCell};
use crate::tx::{Net, TxBatch};
use crate::up_table::tests::session;
use crate::uplink::tests::qos;
use crate::uplink::tests::{gre_packet, user};
use crate::user_plane::{OversizePolicy, UserPlaneChildren};
use crate::worker::Shared;
use userplane::{
    ErrorIndication, GreChecksum, GreHeader, GreKey, GtpuHeader, GtpuMessage, Qfi, Teid,
    write_echo_request, write_echo_response, write_error_indication,
};

fn sa(spi: u32) -> SaConfig {
    let keymat = SecretBytes::new(vec![spi as u8; 36]);
    SaConfig::new(Spi(spi), Cipher::Aead(AeadAlgorithm::Aes256Gcm16), keymat)
}

fn udp() -> Arc<UdpSocket> {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    Arc::new(UdpSocket::bind(addr, &SocketOptions::default()).unwrap())
}

fn peer() -> StdUdp {
    let s = StdUdp::bind("127.0.0.1:0").unwrap();
    s.set_nonblocking(true).unwrap();
    s
}

/// A worker's N3 side, its ESP socket, and the sockets of the UE and the UPF.
struct Rig {
    shared: Shared,
    events: Receiver<DataplaneEvent>,
    n3: N3Port,
    esp_tx: TxBatch,
    esp_net: Net,
    ue: StdUdp,
    upf: StdUdp,
    stats: DataplaneStats,
}

impl Rig {
    fn new(mtu: u16, oversize: OversizePolicy) -> Self {
        let (events_tx, events) = mpsc::sync_channel(64);
        let (ike_tx, _) = mpsc::sync_channel(1);
        let shared = Shared {
            table: TableCell::default(),
            counters: SharedCounters::default(),
            stop: AtomicBool::new(false),
            events: events_tx,
            sa_events: SaEventBox::default(),
            ike: ike_tx,
            ike_admission: Mutex::new(SourceLimiter::new(0)),
        };
        let setup = N3Setup {
            worker: 0,
            workers: 1,
            mtu,
            oversize,
        };
        let (ue, upf) = (peer(), peer());
        let mut s = session(7);
        s.upf = upf.local_addr().unwrap();
        let ue_addr = ue.local_addr().unwrap();
        shared.table.edit(|t| {
            for spi in [0x100, 0x101, 0x301] {
                let out = OutboundSa::new(default_provider(), sa(spi)).unwrap();
                let entry = OutboundEntry {
                    sa: Mutex::new(out),
                    peer: ue_addr,
                };
                t.outbound.insert(Spi(spi), Box::new(entry));
            }
            let inbound = InboundEntry {
                sa: Mutex::new(InboundSa::new(default_provider(), sa(0x200)).unwrap()),
                selector: TrafficSelector::new(esp::AddrRange::ANY_V4, esp::AddrRange::ANY_V4),
                selector_mismatches: AtomicU64::new(0),
            };
            t.inbound.insert(Spi(0x200), Box::new(inbound));
            t.up.add(&s).unwrap();
        });
        Self {
            shared,
            events,
            n3: N3Port::new(udp(), &setup, 65_536, 4),
            esp_tx: TxBatch::new(1 << 20, false),
            esp_net: Net::Udp(udp()),
            ue,
            upf,
            stats: DataplaneStats::default(),
        }
    }

    /// Hands `d` to the N3 handler as coming from the UPF, and sends what it queued.
    fn upf_sends(&mut self, d: &[u8]) {
        let from = self.upf.local_addr().unwrap();
        let table = self.shared.table.read();
        let mut esp = EspOut {
            tx: &mut self.esp_tx,
            net: &self.esp_net,
        };
        self.n3
            .out
            .on_datagram(d, from, &table, &mut esp, &self.shared, &mut self.stats);
        drop(table);
        self.n3.out.flush(&mut self.stats);
        if !self.esp_tx.is_empty() {
            self.esp_tx.flush(&self.esp_net, &mut self.stats);
        }
    }

    /// The ESP packets the UE got, opened: (SPI, inner packet). Loopback delivers before
    /// `sendmmsg` returns, so nothing is waited for.
    fn n3_addr(&self) -> SocketAddr {
        match &self.n3.out.net {
            Net::Udp(sock) => sock.local_addr(),
            Net::Raw(_) => unreachable!("N3 is UDP"),
        }
    }

    fn ue_received(&self) -> Vec<(Spi, Vec<u8>)> {
        let mut out = Vec::new();
        let mut buf = [0u8; 2048];
        while let Ok(n) = self.ue.recv(&mut buf) {
            let spi = Spi::from_wire(buf[..4].try_into().unwrap());
            let mut open = InboundSa::new(default_provider(), sa(spi.0)).unwrap();
            let opened = open.open(&mut buf[..n]).unwrap();
            out.push((spi, buf[opened.inner].to_vec()));
        }
        out
    }

    fn upf_received(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = [0u8; 2048];
        while let Ok(n) = self.upf.recv(&mut buf) {
            out.push(buf[..n].to_vec());
        }
        out
    }
}

/// A DL G-PDU to `teid` with a DL PDU Session Container (TS 38.415 §5.5.2.1) for `qfi`/`rqi`.
fn dl_gpdu(teid: u32, qfi: u8, rqi: bool, payload: &[u8]) -> Vec<u8> {
    let mut d = vec![0x34, 0xff, 0, 0];
    d.extend_from_slice(&teid.to_be_bytes());
    d.extend_from_slice(&[0, 0, 0, 0x85, 1, 0x00, qfi | if rqi { 0x40 } else { 0 }, 0]);
    d.extend_from_slice(payload);
    let len = (d.len() - 8) as u16;
    d[2..4].copy_from_slice(&len.to_be_bytes());
    d
}

/// The GRE key and payload of a DL inner packet, after checking its IP header.
fn gre_of(inner: &[u8]) -> ((Qfi, bool), Vec<u8>) {
    let ip = Ip::parse(inner).unwrap();
    assert_eq!((ip.proto, ip.total_len), (47, inner.len()));
    assert_eq!(
        &inner[12..20],
        &[10, 45, 0, 1, 10, 45, 0, 2],
        "UP address → UE"
    );
    let gre = GreHeader::parse(&inner[ip.header_len..], GreChecksum::Skip).unwrap();
    let key = gre.key.unwrap();
    (
        (key.qfi, key.rqi),
        inner[ip.header_len..][gre.payload].to_vec(),
    )
}

fn q(v: u8) -> Qfi {
    Qfi::new(v).unwrap()
}

#[test]
fn dl_gpdu_goes_down_the_child_sa_of_its_qfi_with_qfi_and_rqi_in_the_gre_key() {
    let mut r = Rig::new(1500, OversizePolicy::Drop);
    let payload = user([198, 51, 100, 1]);
    r.upf_sends(&dl_gpdu(7, 1, true, &payload));
    let got = r.ue_received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, Spi(0x101), "QFI 1's own Child SA");
    assert_eq!(gre_of(&got[0].1), ((q(1), true), payload.clone()));
    assert_eq!(got[0].1[6] & 0x40, 0x40, "DF set");

    // QFI 5 has no Child SA of its own: the default one, counted.
    r.upf_sends(&dl_gpdu(7, 5, false, &payload));
    let got = r.ue_received();
    assert_eq!(got[0].0, Spi(0x100));
    assert_eq!(gre_of(&got[0].1).0, (q(5), false));
    assert_eq!((r.stats.gtpu_qfi_unmapped, r.stats.gre_tx), (1, 2));
    let table = r.shared.table.read();
    let counted = table.up.stats();
    assert_eq!(
        (counted[0].dl_packets, counted[0].dl_bytes),
        (2, 2 * payload.len() as u64)
    );
}

#[test]
fn unknown_teid_gets_an_error_indication_at_a_limited_rate() {
    let mut r = Rig::new(1500, OversizePolicy::Drop);
    let payload = user([198, 51, 100, 1]);
    r.upf_sends(&dl_gpdu(99, 1, false, &payload));
    r.upf_sends(&dl_gpdu(99, 1, false, &payload));
    let got = r.upf_received();
    assert_eq!(got.len(), 1, "one Error Indication per source per second");
    let GtpuMessage::ErrorIndication(e) = GtpuMessage::parse(&got[0]).unwrap() else {
        panic!("not an Error Indication: {:?}", got[0]);
    };
    assert_eq!(e.teid_data, Teid(99));
    assert_eq!(e.peer_address, r.n3_addr().ip(), "our N3 address");
    assert_eq!(e.udp_port, Some(r.upf.local_addr().unwrap().port()));
    assert_eq!(r.stats.gtpu_unknown_teid, 2);
    assert_eq!(r.stats.gtpu_error_indications_sent, 1);
    assert!(r.ue_received().is_empty());
}

#[test]
fn echo_is_answered_end_marker_swallowed_and_reports_reach_the_owner() {
    let mut r = Rig::new(1500, OversizePolicy::Drop);
    let mut echo = [0u8; 14];
    let n = write_echo_request(&mut echo, 0x4242).unwrap();
    r.upf_sends(&echo[..n]);
    let got = r.upf_received();
    assert_eq!(got.len(), 1);
    assert!(matches!(
        GtpuMessage::parse(&got[0]).unwrap(),
        GtpuMessage::EchoResponse {
            sequence_number: 0x4242,
            ..
        }
    ));

    r.upf_sends(&[0x30, 254, 0, 0, 0, 0, 0, 7]);
    assert!(r.upf_received().is_empty() && r.ue_received().is_empty());
    assert_eq!(r.stats.gtpu_end_markers, 1);

    let n = write_echo_response(&mut echo, 9).unwrap();
    r.upf_sends(&echo[..n]);
    let mut ei = [0u8; 64];
    let indication = ErrorIndication {
        teid_data: Teid(7),
        peer_address: "192.0.2.1".parse().unwrap(),
        udp_port: None,
    };
    let n = write_error_indication(&mut ei, 0, &indication).unwrap();
    r.upf_sends(&ei[..n]);
    let from = r.upf.local_addr().unwrap();
    let events: Vec<DataplaneEvent> = r.events.try_iter().collect();
    assert_eq!(
        events,
        vec![
            DataplaneEvent::GtpuEchoResponse { from, sequence: 9 },
            DataplaneEvent::GtpuErrorIndication {
                from,
                teid: Teid(7)
            },
        ]
    );
    r.upf_sends(&[0x30, 31, 0, 0, 0, 0, 0, 0]);
    r.upf_sends(&[0x20, 0xff, 0, 0]);
    assert_eq!((r.stats.gtpu_other, r.stats.gtpu_malformed), (1, 1));
    assert_eq!(r.stats.gtpu_rx, 6);
}

#[test]
fn ul_gre_leaves_as_a_gpdu_with_its_qfi() {
    let mut r = Rig::new(1500, OversizePolicy::Drop);
    let payload = user([10, 60, 0, 7]);
    let table = r.shared.table.read();
    let up = table.up.by_inbound(Spi(0x200)).unwrap();
    r.n3.out
        .uplink(up, &gre_packet(Some(3), &payload), &mut r.stats);
    r.n3.out
        .uplink(up, &gre_packet(Some(3), &[1, 2, 3]), &mut r.stats);
    drop(table);
    r.n3.out.flush(&mut r.stats);
    let got = r.upf_received();
    assert_eq!(got.len(), 1, "the malformed one was dropped");
    let g = GtpuHeader::parse(&got[0]).unwrap();
    assert_eq!((g.teid, qos(&g)), (Teid(0xaa07), Some((q(3), false))));
    assert_eq!(&got[0][g.payload], &payload[..]);
    assert_eq!(
        (r.stats.gtpu_tx, r.stats.n3_sent, r.stats.gre_malformed),
        (1, 1, 1)
    );
    let counted = r.shared.table.read().up.stats()[0];
    assert_eq!(
        (counted.ul_packets, counted.ul_bytes, counted.ul_drops),
        (1, payload.len() as u64, 1)
    );
}

#[test]
fn oversized_dl_packets_are_dropped_and_counted() {
    let mut r = Rig::new(600, OversizePolicy::Drop);
    let big = crate::uplink::tests::ipv4([198, 51, 100, 1], [10, 60, 0, 7], 17, &[7; 1000]);
    r.upf_sends(&dl_gpdu(7, 1, false, &big));
    assert!(r.ue_received().is_empty());
    assert_eq!((r.stats.mtu_drops, r.stats.gre_tx), (1, 0));
    assert_eq!(r.shared.table.read().up.stats()[0].dl_drops, 1);
}

#[test]
fn oversized_dl_packets_are_fragmented_to_fit_and_reassemble() {
    let mut r = Rig::new(600, OversizePolicy::Fragment);
    let big = crate::uplink::tests::ipv4([198, 51, 100, 1], [10, 60, 0, 7], 17, &[7; 1000]);
    r.upf_sends(&dl_gpdu(7, 1, false, &big));
    let mut buf = [0u8; 2048];
    let mut sizes = Vec::new();
    let mut body = Vec::new();
    let mut open = InboundSa::new(default_provider(), sa(0x101)).unwrap();
    while let Ok(n) = r.ue.recv(&mut buf) {
        sizes.push(n);
        let range = open.open(&mut buf[..n]).unwrap().inner;
        let inner = &buf[range];
        let off = usize::from(u16::from_be_bytes([inner[6], inner[7]]) & 0x1fff) * 8;
        assert_eq!(off, body.len(), "in order, no gaps");
        body.extend_from_slice(&inner[20..]);
    }
    assert!(
        sizes.len() >= 2 && sizes.iter().all(|&n| n + 28 <= 600),
        "{sizes:?}"
    );
    let gre = GreHeader::parse(&body, GreChecksum::Skip).unwrap();
    assert_eq!(gre.key, Some(GreKey::new(q(1), false)));
    assert_eq!(&body[gre.payload], &big[..]);
    assert_eq!((r.stats.mtu_fragmented, r.stats.mtu_drops), (1, 0));
}

#[test]
fn a_rekey_moves_dl_to_the_new_child_sa_at_once() {
    let mut r = Rig::new(1500, OversizePolicy::Drop);
    let payload = user([198, 51, 100, 1]);
    r.upf_sends(&dl_gpdu(7, 1, false, &payload));
    assert_eq!(r.ue_received()[0].0, Spi(0x101));
    let children = UserPlaneChildren {
        default_spi: Spi(0x100),
        by_qfi: vec![(q(1), Spi(0x301))],
        inbound: vec![Spi(0x400)],
    };
    r.shared
        .table
        .update(|t| t.up.update(Teid(7), &children))
        .unwrap();
    r.upf_sends(&dl_gpdu(7, 1, false, &payload));
    assert_eq!(r.ue_received()[0].0, Spi(0x301));
    let table = r.shared.table.read();
    assert!(
        table.up.by_inbound(Spi(0x200)).is_some(),
        "old inbound SA kept"
    );
    drop(table);
    // A QFI whose SA went away is dropped and counted, never sent elsewhere.
    r.shared.table.edit(|t| t.outbound.remove(&Spi(0x301)));
    r.upf_sends(&dl_gpdu(7, 1, false, &payload));
    assert!(r.ue_received().is_empty());
    assert_eq!(r.stats.up_no_sa, 1);
}

#[test]
fn the_socket_path_answers_echo_through_recvmmsg() {
    let mut r = Rig::new(1500, OversizePolicy::Drop);
    let n3_addr = r.n3_addr();
    let mut esp = EspOut {
        tx: &mut r.esp_tx,
        net: &r.esp_net,
    };
    assert!(
        !r.n3.drain(&r.shared, &mut esp, &mut r.stats),
        "nothing there, no blocking"
    );
    let mut echo = [0u8; 14];
    for seq in 0..3 {
        let n = write_echo_request(&mut echo, seq).unwrap();
        r.upf.send_to(&echo[..n], n3_addr).unwrap();
    }
    assert!(r.n3.drain(&r.shared, &mut esp, &mut r.stats));
    let got = r.upf_received();
    let seqs: Vec<Option<u16>> = got
        .iter()
        .map(|d| GtpuHeader::parse(d).unwrap().sequence_number)
        .collect();
    assert_eq!(seqs, vec![Some(0), Some(1), Some(2)]);
    assert_eq!(r.stats.gtpu_echo_requests, 3);
}

#[test]
fn reports_from_one_upf_are_limited_per_second() {
    let mut r = Rig::new(1500, OversizePolicy::Drop);
    let mut echo = [0u8; 14];
    for seq in 0..25 {
        let n = write_echo_response(&mut echo, seq).unwrap();
        r.upf_sends(&echo[..n]);
    }
    let passed = r.events.try_iter().count() as u64;
    // A burst of one second's worth; a stalled test thread may see a token refilled.
    let burst = u64::from(REPORTS_PER_SOURCE);
    assert!((burst..25).contains(&passed), "{passed} passed");
    assert_eq!(r.stats.gtpu_reports_limited, 25 - passed);
    assert_eq!(r.stats.gtpu_echo_responses, 25, "all counted");
}
