//! The N3IWF user plane through running workers: a TUN device, the ESP socket and the N3
//! socket, with the test playing the UE (ESP through the `esp` crate) and the UPF (plain UDP
//! on N3). Runs in a private network namespace of its own thread; needs root, and prints
//! SKIPPED and passes without it.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::mpsc::Receiver;
use std::thread;
use std::time::Duration;

use common::{poll_until, wait_event};
use dataplane::{
    ChildSa, Dataplane, DataplaneConfig, DataplaneEvent, DataplaneHandle, Direction, Encapsulation,
    GreProtocolType, OversizePolicy, Qfi, Teid, TunConfig, UserPlaneChildren, UserPlaneSession,
};
use esp::{AddrRange, Cipher, InboundSa, OutboundSa, SaConfig, Spi, TrafficSelector};
use ipsec_crypto::{AeadAlgorithm, SecretBytes, default_provider};
use ipsec_sys::{interface, unshare_network_namespace};

const N3IWF: Ipv4Addr = Ipv4Addr::new(10, 45, 0, 1);
const UE: Ipv4Addr = Ipv4Addr::new(10, 45, 0, 2);
const PDU: Ipv4Addr = Ipv4Addr::new(10, 60, 0, 7);
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const ESP_PORT: u16 = 14_501;
const N3: &str = "127.0.0.1:2152";

fn sa(spi: u32) -> SaConfig {
    let keymat = SecretBytes::new(vec![spi as u8; 36]);
    SaConfig::new(Spi(spi), Cipher::Aead(AeadAlgorithm::Aes256Gcm16), keymat)
}

fn selector() -> TrafficSelector {
    TrafficSelector::new(
        AddrRange::from_prefix(N3IWF.into(), 32).unwrap(),
        AddrRange::from_prefix(UE.into(), 32).unwrap(),
    )
}

/// An IPv4 packet (header checksum set; nothing here needs the L4 one).
fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0];
    p[2..4].copy_from_slice(&((20 + body.len()) as u16).to_be_bytes());
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let mut s: u32 = p
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    p[10..12].copy_from_slice(&(!(s as u16)).to_be_bytes());
    p.extend_from_slice(body);
    p
}

/// IP(UE → N3IWF) / GRE(K, QFI) / `payload`, as the UE sends it (TS 24.502 §9.3.3).
fn gre_from_ue(qfi: u8, payload: &[u8]) -> Vec<u8> {
    let mut g = vec![0x20, 0, 0x08, 0, qfi, 0, 0, 0];
    g.extend_from_slice(payload);
    ipv4(UE, N3IWF, 47, &g)
}

/// A DL G-PDU with a DL PDU Session Container (TS 29.281 §5, TS 38.415 §5.5.2.1).
fn dl_gpdu(teid: u32, qfi: u8, rqi: bool, payload: &[u8]) -> Vec<u8> {
    let mut d = vec![0x34, 0xff, 0, 0];
    d.extend_from_slice(&teid.to_be_bytes());
    d.extend_from_slice(&[0, 0, 0, 0x85, 1, 0, qfi | if rqi { 0x40 } else { 0 }, 0]);
    d.extend_from_slice(payload);
    let len = (d.len() - 8) as u16;
    d[2..4].copy_from_slice(&len.to_be_bytes());
    d
}

/// The UE's side: a UDP socket and the mirror SAs by SPI.
struct Ue {
    sock: UdpSocket,
    seal: HashMap<u32, OutboundSa>,
}

impl Ue {
    fn send(&mut self, spi: u32, inner: &[u8]) {
        let seal = self
            .seal
            .entry(spi)
            .or_insert_with(|| OutboundSa::new(default_provider(), sa(spi)).unwrap());
        let h = OutboundSa::HEADROOM;
        let mut buf = vec![0u8; h + inner.len() + OutboundSa::TAILROOM];
        buf[h..h + inner.len()].copy_from_slice(inner);
        let r = seal.seal(&mut buf, h, inner.len()).unwrap();
        self.sock.send_to(&buf[r], ("127.0.0.1", ESP_PORT)).unwrap();
    }

    fn recv(&self) -> (Spi, Vec<u8>) {
        let mut buf = vec![0u8; 2048];
        let n = self.sock.recv(&mut buf).unwrap();
        let spi = Spi::from_wire(buf[..4].try_into().unwrap());
        let mut open = InboundSa::new(default_provider(), sa(spi.0)).unwrap();
        let r = open.open(&mut buf[..n]).unwrap().inner;
        (spi, buf[r].to_vec())
    }
}

#[test]
fn user_plane_through_the_workers() {
    let h = thread::spawn(|| {
        if let Err(e) = unshare_network_namespace() {
            println!("SKIPPED user_plane_through_the_workers: needs root ({e})");
            return;
        }
        interface::set_up("lo").unwrap();
        run();
    });
    h.join().unwrap();
}

fn start() -> (DataplaneHandle, Receiver<DataplaneEvent>) {
    let mut tun = TunConfig::new("pqdpup0");
    tun.addresses.push((N3IWF.into(), 24));
    let mut config = DataplaneConfig::new(
        tun,
        Ipv4Addr::LOCALHOST.into(),
        Encapsulation::Udp { port: ESP_PORT },
    );
    config.workers = 1;
    config.n3 = Some(N3.parse().unwrap());
    config.n3_oversize = OversizePolicy::Drop;
    Dataplane::start(config, default_provider()).unwrap()
}

fn run() {
    let (dp, events) = start();
    let mut ue = Ue {
        sock: UdpSocket::bind("127.0.0.1:0").unwrap(),
        seal: HashMap::new(),
    };
    ue.sock
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let upf = UdpSocket::bind("127.0.0.1:0").unwrap();
    upf.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let ue_addr = ue.sock.local_addr().unwrap();
    let child = |inbound, outbound| ChildSa {
        selector: selector(),
        peer: ue_addr,
        inbound: sa(inbound),
        outbound: sa(outbound),
    };
    // The signalling SA, then a user-plane SA with the same selector (same addresses).
    dp.install_child_sa(child(0x2001, 0x1001)).unwrap();
    dp.install_child_sa_unrouted(child(0x2002, 0x1002)).unwrap();
    dp.add_user_plane(UserPlaneSession {
        dl_teid: Teid(7),
        upf: upf.local_addr().unwrap(),
        ul_teid: Teid(0x99),
        ue_address: UE.into(),
        up_address: N3IWF.into(),
        pdu_address: Some(PDU.into()),
        children: UserPlaneChildren {
            default_spi: Spi(0x1002),
            by_qfi: Vec::new(),
            inbound: vec![Spi(0x2002)],
        },
        default_qfi: Qfi::new(9).unwrap(),
        gre_protocol: GreProtocolType::InnerEtherType,
    })
    .unwrap();
    assert_eq!(dp.user_plane_sessions(), 1);

    // NAS from the N3IWF still leaves on the signalling SA.
    let app = UdpSocket::bind((N3IWF, 7000)).unwrap();
    app.send_to(b"nas", (UE, 7001)).unwrap();
    assert_eq!(ue.recv().0, Spi(0x1001));

    // UL: GRE with QFI 1 on the user-plane SA → G-PDU to the UPF's TEID with QFI 1.
    let user = ipv4(PDU, SERVER, 17, b"uplink");
    ue.send(0x2002, &gre_from_ue(1, &user));
    let mut buf = [0u8; 2048];
    let (n, from) = upf.recv_from(&mut buf).unwrap();
    assert_eq!(from, N3.parse::<SocketAddr>().unwrap());
    assert_eq!(
        &buf[..16],
        &[
            0x34,
            0xff,
            0,
            8 + user.len() as u8,
            0,
            0,
            0,
            0x99,
            0,
            0,
            0,
            0x85,
            1,
            0x10,
            1,
            0
        ]
    );
    assert_eq!(&buf[16..n], &user[..]);

    // DL: G-PDU to our TEID with QFI 1, RQI → ESP on the (default) user-plane SA.
    let down = ipv4(SERVER, PDU, 17, b"downlink");
    upf.send_to(&dl_gpdu(7, 1, true, &down), N3).unwrap();
    let (spi, inner) = ue.recv();
    assert_eq!(spi, Spi(0x1002));
    assert_eq!(&inner[12..20], &[10, 45, 0, 1, 10, 45, 0, 2]);
    assert_eq!(&inner[20..28], &[0x20, 0, 0x08, 0, 1, 0, 0, 0x80]);
    assert_eq!(&inner[28..], &down[..]);

    // GRE to the UP address on the signalling SA, and anything but GRE on the user-plane SA,
    // are dropped and counted; the user-plane SA never delivers to TUN.
    ue.send(0x2001, &gre_from_ue(1, &user));
    app.set_nonblocking(true).unwrap();
    // UDP 7001 → 7000 without checksum: the app socket would get it if it reached TUN.
    ue.send(
        0x2002,
        &ipv4(UE, N3IWF, 17, &[0x1b, 0x59, 0x1b, 0x58, 0, 9, 0, 0, b'x']),
    );
    poll_until(|| dp.stats().up_policy_drops >= 2);

    // Unknown TEID → Error Indication back to the sender.
    upf.send_to(&dl_gpdu(8, 1, false, &down), N3).unwrap();
    let n = upf.recv(&mut buf).unwrap();
    assert_eq!((buf[1], &buf[16..21]), (26, &[16, 0, 0, 0, 8][..]));
    assert!(n > 21);

    // Path supervision: our Echo Request, the UPF's answer reported.
    let seq = dp.send_gtpu_echo(upf.local_addr().unwrap()).unwrap();
    let n = upf.recv(&mut buf).unwrap();
    assert_eq!(
        (n, buf[1], u16::from_be_bytes([buf[8], buf[9]])),
        (12, 1, seq)
    );
    // Echo Response: same sequence number, Recovery IE (TS 29.281 §7.2.2).
    let [s0, s1] = seq.to_be_bytes();
    let response = [0x32, 2, 0, 6, 0, 0, 0, 0, s0, s1, 0, 0, 14, 0];
    upf.send_to(&response, N3).unwrap();
    let reported = wait_event(&events, |e| match e {
        DataplaneEvent::GtpuEchoResponse { from, sequence } => Some((from, sequence)),
        _ => None,
    });
    assert_eq!(reported, (upf.local_addr().unwrap(), seq));

    let s = dp.stats();
    assert_eq!((s.gtpu_tx, s.gre_tx, s.gtpu_unknown_teid), (1, 1, 1));
    assert_eq!(s.tun_writes, 0);
    let session = dp.user_plane_stats()[0];
    assert_eq!(session.dl_teid, Teid(7));
    assert_eq!(
        (session.ul_packets, session.ul_bytes),
        (1, user.len() as u64)
    );
    assert_eq!(
        (session.dl_packets, session.dl_bytes),
        (1, down.len() as u64)
    );
    assert_eq!(session.ul_drops, 1, "the UDP packet on the user-plane SA");
    let up_sa = dp
        .sa_stats()
        .into_iter()
        .find(|s| s.spi == Spi(0x1002) && s.direction == Direction::Outbound)
        .unwrap();
    assert!(
        up_sa.is_active,
        "in use by the session, though not in the SPD"
    );
    assert_eq!(up_sa.packets, 1);
    let inbound = |spi| {
        dp.sa_stats()
            .into_iter()
            .find(|s| s.spi == Spi(spi) && s.direction == Direction::Inbound)
            .unwrap()
    };
    assert_eq!(
        inbound(0x2002).user_plane_drops,
        1,
        "UDP on the user-plane SA"
    );
    assert_eq!(
        inbound(0x2001).user_plane_drops,
        1,
        "GRE on the signalling SA"
    );
    assert_eq!(s.gtpu_error_indications_sent, 1);
    let mut nothing = [0u8; 16];
    assert!(
        app.recv(&mut nothing).is_err(),
        "nothing reached the TUN side"
    );
    dp.remove_user_plane(Teid(7)).unwrap();
    assert_eq!(dp.user_plane_sessions(), 0);
    dp.shutdown();
}
