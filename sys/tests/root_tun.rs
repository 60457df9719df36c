//! TUN, offload and raw-socket tests. They need root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and run in a
//! private network namespace of their own thread; without root they print SKIPPED and pass.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ipsec_sys::{
    GsoType, Offloads, RawEspSocket, RecvMeta, SocketOptions, Transmit, Tun, TunOptions, UdpSocket,
    VirtioNetHdr, interface, poll_readable, unshare_network_namespace,
};

const TUN_ADDR: Ipv4Addr = Ipv4Addr::new(10, 200, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 200, 0, 2);

/// Runs `f` on a thread moved into a fresh network namespace; false (after a SKIPPED line) when
/// that is not allowed.
fn in_private_netns(test: &'static str, f: impl FnOnce() + Send + 'static) -> bool {
    let h = thread::spawn(move || {
        if let Err(e) = unshare_network_namespace() {
            println!("SKIPPED {test}: needs root for a private network namespace ({e})");
            return false;
        }
        interface::set_up("lo").unwrap();
        f();
        true
    });
    h.join().unwrap()
}

fn tun_up(name: &str, options: &TunOptions) -> Tun {
    let tun = Tun::open(name, options).unwrap();
    interface::set_ipv4_address(tun.name(), TUN_ADDR, 24).unwrap();
    interface::set_mtu(tun.name(), 1500).unwrap();
    interface::set_up(tun.name()).unwrap();
    tun
}

/// Reads packets until `pick` accepts one (IPv6 noise is skipped); panics after 3 s.
fn read_until<T>(tun: &Tun, buf: &mut [u8], mut pick: impl FnMut(&[u8]) -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut ready = [false];
    while Instant::now() < deadline {
        poll_readable(&[tun.as_fd()], Duration::from_millis(50), &mut ready).unwrap();
        if !ready[0] {
            continue;
        }
        let n = tun.read(buf).unwrap();
        if let Some(t) = pick(&buf[..n]) {
            return t;
        }
    }
    panic!("expected packet not read from TUN");
}

fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum = 0u32;
    for p in parts {
        for c in p.chunks(2) {
            sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn ipv4_header(proto: u8, src: Ipv4Addr, dst: Ipv4Addr, payload_len: usize) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&((20 + payload_len) as u16).to_be_bytes());
    h[6] = 0x40;
    h[8] = 64;
    h[9] = proto;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let c = checksum(&[&h]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h
}

#[test]
fn tun_with_vnet_hdr_answers_ping_and_reports_partial_udp_checksum() {
    in_private_netns("tun_with_vnet_hdr_answers_ping", || {
        let tun = tun_up(
            "pqdpt0",
            &TunOptions {
                multi_queue: false,
                ..TunOptions::default()
            },
        );
        assert!(tun.has_vnet_hdr());
        let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1];
        icmp.extend_from_slice(b"pqdp-ping");
        let c = checksum(&[&icmp]);
        icmp[2..4].copy_from_slice(&c.to_be_bytes());
        let mut pkt = vec![0u8; VirtioNetHdr::LEN];
        VirtioNetHdr::plain().emit(&mut pkt);
        pkt.extend_from_slice(&ipv4_header(1, PEER, TUN_ADDR, icmp.len()));
        pkt.extend_from_slice(&icmp);
        assert_eq!(tun.write(&pkt).unwrap(), pkt.len());

        let mut buf = vec![0u8; 70_000];
        let reply = read_until(&tun, &mut buf, |p| {
            let ip = &p[VirtioNetHdr::LEN..];
            (ip[0] >> 4 == 4 && ip[9] == 1).then(|| ip.to_vec())
        });
        assert_eq!(reply[20], 0, "echo reply");
        assert_eq!(&reply[28..], b"pqdp-ping");

        let udp = UdpSocket::bind(
            SocketAddr::new(TUN_ADDR.into(), 0),
            &SocketOptions::default(),
        )
        .unwrap();
        udp.send_to(&[7u8; 100], SocketAddr::new(PEER.into(), 9999))
            .unwrap();
        let (hdr, len) = read_until(&tun, &mut buf, |p| {
            let ip = &p[VirtioNetHdr::LEN..];
            (ip[0] >> 4 == 4 && ip[9] == 17).then(|| (VirtioNetHdr::parse(p).unwrap(), ip.len()))
        });
        assert_eq!(len, 128);
        assert!(
            hdr.needs_csum(),
            "TUN_F_CSUM gives partial checksums: {hdr:?}"
        );
        assert_eq!((hdr.csum_start, hdr.csum_offset), (20, 6));
    });
}

#[test]
fn tun_tso_hands_over_tcp_super_packets() {
    in_private_netns("tun_tso_hands_over_tcp_super_packets", || {
        let tun = tun_up(
            "pqdpt1",
            &TunOptions {
                multi_queue: false,
                ..TunOptions::default()
            },
        );
        // The client keeps its socket open until the super-packet has been seen.
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let client = thread::spawn(move || {
            let mut s = TcpStream::connect_timeout(
                &SocketAddr::new(PEER.into(), 8080),
                Duration::from_secs(3),
            )
            .unwrap();
            s.write_all(&vec![0x5a; 60_000]).unwrap();
            let _ = done_rx.recv_timeout(Duration::from_secs(10));
        });
        let mut buf = vec![0u8; 70_000];
        let syn = read_until(&tun, &mut buf, |p| {
            let ip = &p[VirtioNetHdr::LEN..];
            (ip[0] >> 4 == 4 && ip[9] == 6 && ip[33] & 0x02 != 0).then(|| ip.to_vec())
        });
        let sport = [syn[20], syn[21]];
        let syn_seq = u32::from_be_bytes(syn[24..28].try_into().unwrap());
        let mut tcp = [0u8; 24];
        tcp[..2].copy_from_slice(&8080u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&sport);
        tcp[4..8].copy_from_slice(&1000u32.to_be_bytes());
        tcp[8..12].copy_from_slice(&(syn_seq.wrapping_add(1)).to_be_bytes());
        tcp[12] = 6 << 4;
        tcp[13] = 0x12;
        tcp[14..16].copy_from_slice(&0xffffu16.to_be_bytes());
        tcp[20..24].copy_from_slice(&[2, 4, 0x05, 0xb4]);
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&PEER.octets());
        pseudo.extend_from_slice(&TUN_ADDR.octets());
        pseudo.extend_from_slice(&[0, 6, 0, 24]);
        let c = checksum(&[&pseudo, &tcp]);
        tcp[16..18].copy_from_slice(&c.to_be_bytes());
        let mut pkt = vec![0u8; VirtioNetHdr::LEN];
        pkt.extend_from_slice(&ipv4_header(6, PEER, TUN_ADDR, tcp.len()));
        pkt.extend_from_slice(&tcp);
        tun.write(&pkt).unwrap();

        let hdr = read_until(&tun, &mut buf, |p| {
            let h = VirtioNetHdr::parse(p).unwrap();
            (h.gso_type == GsoType::TcpV4 && p.len() - VirtioNetHdr::LEN > 1500).then_some(h)
        });
        done_tx.send(()).unwrap();
        assert_eq!(hdr.gso_size, 1460);
        assert!(hdr.needs_csum());
        client.join().unwrap();
    });
}

#[test]
fn multi_queue_tun_opens_and_detaches_queues() {
    in_private_netns("multi_queue_tun_opens_and_detaches_queues", || {
        let opts = TunOptions {
            offloads: Offloads::TCP.union(Offloads::USO),
            ..TunOptions::default()
        };
        let queues = match Tun::open_queues("pqdpmq0", &opts, 2) {
            Ok(q) => q,
            // USO needs kernel 6.2; fall back to TCP offloads only.
            Err(_) => Tun::open_queues("pqdpmq0", &TunOptions::default(), 2).unwrap(),
        };
        assert_eq!(queues.len(), 2);
        assert_eq!(queues[0].name(), queues[1].name());
        queues[1].set_queue_attached(false).unwrap();
        queues[1].set_queue_attached(true).unwrap();
        queues[0].set_nonblocking(true).unwrap();
        let err = queues[0].read(&mut [0u8; 2048]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    });
}

#[test]
fn raw_esp_socket_strips_ipv4_header() {
    in_private_netns("raw_esp_socket_strips_ipv4_header", || {
        let lo = Ipv4Addr::LOCALHOST;
        let sock = RawEspSocket::open(lo.into(), 0, 0).unwrap();
        let esp: Vec<u8> = (0u8..64).collect();
        let t = Transmit {
            dst: SocketAddr::new(lo.into(), 0),
            offset: 0,
            len: 64,
            segment_size: 0,
        };
        assert_eq!(sock.send_batch(&esp, &[t, t]).unwrap(), 2);
        let mut buf = vec![0u8; 4096];
        let mut meta = [RecvMeta::default(); 2];
        let mut got = 0;
        let mut ready = [false];
        for _ in 0..100 {
            if got == 2 {
                break;
            }
            poll_readable(&[sock.as_fd()], Duration::from_millis(20), &mut ready).unwrap();
            if let Ok(n) = sock.recv_batch(&mut buf[got * 2048..], 2048, &mut meta[got..]) {
                for m in &meta[got..got + n] {
                    let off = got * 2048;
                    assert_eq!(&buf[off + m.offset..off + m.offset + m.len], &esp[..]);
                }
                got += n;
            }
        }
        assert_eq!(got, 2);
    });
}
