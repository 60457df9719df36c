//! The control API against a real TUN device and sockets, with the test playing the peer
//! gateway through the `esp` crate. Runs in a private network namespace of its own thread;
//! needs root, and prints SKIPPED and passes without it.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::mpsc::Receiver;
use std::thread;
use std::time::Duration;

use common::{poll_until, wait_event};
use dataplane::{
    ChildSa, ChildSaId, Dataplane, DataplaneConfig, DataplaneError, DataplaneEvent, Direction,
    Encapsulation, SaEventReport, TunConfig,
};
use esp::{AddrRange, Cipher, InboundSa, OutboundSa, SaConfig, SaEvent, Spi, TrafficSelector};
use ipsec_crypto::{AeadAlgorithm, SecretBytes, default_provider};
use ipsec_sys::{interface, unshare_network_namespace};

const OURS: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
const THEIRS: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 2);
const PORT: u16 = 14_500;

fn sa(spi: u32, key_byte: u8) -> SaConfig {
    let keymat = SecretBytes::new(vec![key_byte; 36]);
    SaConfig::new(Spi(spi), Cipher::Aead(AeadAlgorithm::Aes256Gcm16), keymat)
}

fn selector() -> TrafficSelector {
    TrafficSelector::new(
        AddrRange::from_prefix(OURS.into(), 32).unwrap(),
        AddrRange::from_prefix(THEIRS.into(), 32).unwrap(),
    )
}

/// An IPv4/UDP packet with correct checksums.
fn udp_packet(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 28];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&((28 + payload.len()) as u16).to_be_bytes());
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    p[20..22].copy_from_slice(&sport.to_be_bytes());
    p[22..24].copy_from_slice(&dport.to_be_bytes());
    p[24..26].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(payload);
    let sum = |data: &[u8], init: u32| {
        let mut s = init;
        for c in data.chunks(2) {
            s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        s
    };
    let c = !(sum(&p[..20], 0) as u16);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&p[12..20]);
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&p[24..26]);
    let c = !(sum(&p[20..], sum(&pseudo, 0)) as u16);
    p[26..28].copy_from_slice(&c.to_be_bytes());
    p
}

/// The test's side of the tunnel: a UDP socket and the mirror SAs.
struct Peer {
    sock: UdpSocket,
    seal: OutboundSa,
    open: InboundSa,
}

impl Peer {
    /// Seals an inner packet and sends it to the dataplane.
    fn send_inner(&mut self, inner: &[u8]) {
        let h = OutboundSa::HEADROOM;
        let mut buf = vec![0u8; h + inner.len() + OutboundSa::TAILROOM];
        buf[h..h + inner.len()].copy_from_slice(inner);
        let r = self.seal.seal(&mut buf, h, inner.len()).unwrap();
        self.sock.send_to(&buf[r], ("127.0.0.1", PORT)).unwrap();
    }

    /// Receives one ESP packet; returns its SPI and inner packet (opened when `open` is ours).
    fn recv_esp(&mut self) -> (Spi, Option<Vec<u8>>) {
        let mut buf = vec![0u8; 2048];
        let (n, _) = self.sock.recv_from(&mut buf).unwrap();
        let spi = Spi::from_wire(buf[..4].try_into().unwrap());
        if spi != self.open.spi() {
            return (spi, None);
        }
        let opened = self.open.open(&mut buf[..n]).unwrap();
        (spi, Some(buf[opened.inner].to_vec()))
    }
}

fn next_event(events: &Receiver<DataplaneEvent>) -> DataplaneEvent {
    events.recv_timeout(Duration::from_secs(3)).unwrap()
}

#[test]
fn dataplane_api_round_trip_rekey_and_ike() {
    let h = thread::spawn(|| {
        if let Err(e) = unshare_network_namespace() {
            println!("SKIPPED dataplane_api_round_trip_rekey_and_ike: needs root ({e})");
            return;
        }
        interface::set_up("lo").unwrap();
        run();
    });
    h.join().unwrap();
}

fn run() {
    let mut tun = TunConfig::new("pqdpapi0");
    tun.addresses.push((OURS.into(), 24));
    let mut config = DataplaneConfig::new(
        tun,
        Ipv4Addr::LOCALHOST.into(),
        Encapsulation::Udp { port: PORT },
    );
    config.workers = 1;
    let (dp, events) = Dataplane::start(config, default_provider()).unwrap();
    let provider = default_provider();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let peer_addr = sock.local_addr().unwrap();
    let mut peer = Peer {
        sock,
        seal: OutboundSa::new(provider, sa(0x2001, 1)).unwrap(),
        open: InboundSa::new(provider, sa(0x1001, 2)).unwrap(),
    };
    let first = dp
        .install_child_sa(ChildSa {
            selector: selector(),
            peer: peer_addr,
            inbound: sa(0x2001, 1),
            outbound: sa(0x1001, 2),
        })
        .unwrap();
    assert_eq!(
        first,
        ChildSaId {
            inbound_spi: Spi(0x2001),
            outbound_spi: Spi(0x1001)
        }
    );
    let again = ChildSa {
        selector: selector(),
        peer: peer_addr,
        inbound: sa(0x2001, 1),
        outbound: sa(0x1009, 2),
    };
    assert!(matches!(
        dp.install_child_sa(again),
        Err(DataplaneError::SpiInUse(Spi(0x2001)))
    ));

    // Peer → us: ESP opened, written to TUN, delivered to a local socket.
    let app = UdpSocket::bind((OURS, 7000)).unwrap();
    app.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    peer.send_inner(&udp_packet(THEIRS, OURS, 7001, 7000, b"hello"));
    let mut buf = [0u8; 64];
    let (n, from) = app.recv_from(&mut buf).unwrap();
    assert_eq!(
        (&buf[..n], from),
        (&b"hello"[..], SocketAddr::from((THEIRS, 7001)))
    );

    // A packet outside the selector decrypts but is dropped and counted.
    peer.send_inner(&udp_packet(
        Ipv4Addr::new(10, 99, 0, 3),
        OURS,
        7001,
        7000,
        b"spoofed",
    ));

    // Us → peer: sealed with the outbound SA.
    app.send_to(b"world", (THEIRS, 7001)).unwrap();
    let (spi, inner) = peer.recv_esp();
    assert_eq!(spi, Spi(0x1001));
    assert_eq!(&inner.unwrap()[28..], b"world");

    // IKE behind the non-ESP marker goes to the daemon; keepalives are counted and dropped.
    peer.sock
        .send_to(&[0, 0, 0, 0, 0x21, 0x20, 0x22, 0x08], ("127.0.0.1", PORT))
        .unwrap();
    peer.sock.send_to(&[0xff], ("127.0.0.1", PORT)).unwrap();
    let ike = dp.take_ike_messages().expect("IKE channel");
    let m = ike
        .recv_timeout(Duration::from_secs(3))
        .expect("IKE message");
    assert_eq!(
        (m.from, m.message),
        (peer_addr, vec![0x21, 0x20, 0x22, 0x08])
    );
    assert!(dp.take_ike_messages().is_none(), "taken once");
    dp.send_ike(peer_addr, b"ike").unwrap();
    let (n, _) = peer.sock.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"\0\0\0\0ike");

    // Make-before-break: a second pair with the same selector takes over outbound at once.
    let mut out2 = sa(0x1002, 3);
    out2.lifetime.soft_packets = Some(2);
    let second = dp
        .install_child_sa(ChildSa {
            selector: selector(),
            peer: peer_addr,
            inbound: sa(0x2002, 4),
            outbound: out2,
        })
        .unwrap();
    app.send_to(b"rekeyed", (THEIRS, 7001)).unwrap();
    assert_eq!(peer.recv_esp().0, Spi(0x1002));
    app.send_to(b"rekeyed", (THEIRS, 7001)).unwrap();
    assert_eq!(peer.recv_esp().0, Spi(0x1002));
    // The old inbound SA still works until it is removed.
    peer.send_inner(&udp_packet(THEIRS, OURS, 7001, 7000, b"late"));
    let (n, _) = app.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"late");
    assert_eq!(next_event(&events), DataplaneEvent::SaEvents);
    assert_eq!(
        dp.take_sa_events(),
        vec![SaEventReport {
            spi: Spi(0x1002),
            direction: Direction::Outbound,
            event: SaEvent::SoftLifetime
        }]
    );

    let stats = dp.sa_stats();
    let find = |spi, dir| {
        stats
            .iter()
            .find(|s| s.spi == spi && s.direction == dir)
            .unwrap()
    };
    assert!(!find(Spi(0x1001), Direction::Outbound).is_active);
    assert!(find(Spi(0x1002), Direction::Outbound).is_active);
    assert_eq!(find(Spi(0x1001), Direction::Outbound).packets, 1);
    assert_eq!(find(Spi(0x1002), Direction::Outbound).packets, 2);
    assert_eq!(find(Spi(0x2001), Direction::Inbound).packets, 3);
    assert_eq!(find(Spi(0x2001), Direction::Inbound).selector_mismatches, 1);

    dp.remove_child_sa(first).unwrap();
    assert!(matches!(
        dp.remove_child_sa(first),
        Err(DataplaneError::UnknownChildSa(_))
    ));
    // After removal the old SPI is unknown. Workers adopt a change at their next batch, so
    // the packet is resent until it is counted (bounded); its SPI is reported once.
    poll_until(|| {
        peer.send_inner(&udp_packet(THEIRS, OURS, 7001, 7000, b"gone"));
        dp.stats().unknown_spi >= 1
    });
    let (spi, from) = wait_event(&events, |e| match e {
        DataplaneEvent::UnknownSpi { spi, from } => Some((spi, from)),
        _ => None,
    });
    assert_eq!((spi, from), (Spi(0x2001), peer_addr));

    // A NAT-keepalive leaves the shared port as one 0xFF octet, without the non-ESP marker.
    dp.send_nat_keepalive(peer_addr).unwrap();
    let (n, _) = peer.sock.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], &[0xff]);

    dp.remove_child_sa(second).unwrap();
    poll_until(|| {
        app.send_to(b"no policy", (THEIRS, 7001)).unwrap();
        dp.stats().no_policy >= 1
    });

    // A trap policy turns traffic without SA into an acquire (the packet is dropped).
    dp.install_trap(7, selector());
    poll_until(|| {
        app.send_to(b"trapped", (THEIRS, 7001)).unwrap();
        dp.stats().acquires >= 1
    });
    let acquire = wait_event(&events, |e| match e {
        DataplaneEvent::Acquire { trap, src, dst } => Some((trap, src, dst)),
        _ => None,
    });
    assert_eq!(acquire, (7, OURS.into(), THEIRS.into()));
    assert!(dp.remove_trap(7));
    assert!(!dp.remove_trap(7));

    let s = dp.stats();
    assert_eq!(s.keepalives, 1);
    assert_eq!(s.ike_packets, 1);
    assert!(s.unknown_spi >= 1);
    assert_eq!(s.unknown_spi_reports, 1, "one report per SPI per second");
    assert!(s.no_policy >= 1);
    assert!(s.trapped >= 1);
    dp.shutdown();
}
