//! Batched UDP I/O on loopback; runs unprivileged.

#![allow(clippy::unwrap_used)]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use ipsec_sys::{RecvMeta, SocketOptions, Transmit, UdpSocket, poll_readable};

fn bind(gro: bool) -> UdpSocket {
    let opts = SocketOptions {
        gro,
        recv_buffer: 1 << 22,
        ..SocketOptions::default()
    };
    UdpSocket::bind("127.0.0.1:0".parse().unwrap(), &opts).unwrap()
}

/// Receives until `want` datagrams (counting GRO segments) arrived or 2 s passed.
fn recv_all(sock: &UdpSocket, stride: usize, want: usize) -> Vec<(Vec<u8>, usize)> {
    use std::os::fd::AsFd;
    let mut buf = vec![0u8; stride * 16];
    let mut meta = [RecvMeta::default(); 16];
    let mut out = Vec::new();
    let mut segments = 0;
    let mut ready = [false];
    for _ in 0..200 {
        if segments >= want {
            break;
        }
        match sock.recv_batch(&mut buf, stride, &mut meta) {
            Ok(n) => {
                for m in &meta[..n] {
                    assert!(!m.truncated);
                    segments += m.len.div_ceil(m.segment_size);
                    out.push((buf[m.offset..m.offset + m.len].to_vec(), m.segment_size));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                poll_readable(&[sock.as_fd()], Duration::from_millis(10), &mut ready).unwrap();
            }
            Err(e) => panic!("recv: {e}"),
        }
    }
    out
}

#[test]
fn sendmmsg_recvmmsg_batch_preserves_order_and_content() {
    let (tx, rx) = (bind(false), bind(false));
    let mut buf = vec![0u8; 32 * 100];
    let mut msgs = Vec::new();
    for i in 0..32 {
        buf[i * 100..(i + 1) * 100].fill(i as u8);
        msgs.push(Transmit {
            dst: rx.local_addr(),
            offset: i * 100,
            len: 50 + i,
            segment_size: 0,
        });
    }
    let mut sent = 0;
    for _ in 0..10 {
        if sent == msgs.len() {
            break;
        }
        sent += tx.send_batch(&buf, &msgs[sent..]).unwrap();
    }
    assert_eq!(sent, 32);
    let got = recv_all(&rx, 2048, 32);
    assert_eq!(got.len(), 32);
    for (i, (data, _)) in got.iter().enumerate() {
        assert_eq!(data.len(), 50 + i);
        assert!(data.iter().all(|&b| b == i as u8));
    }
}

#[test]
fn gso_send_arrives_as_separate_datagrams_without_gro() {
    let (tx, rx) = (bind(false), bind(false));
    assert!(tx.is_gso_supported());
    let buf: Vec<u8> = (0..1400 * 5 + 300).map(|i| (i / 1400) as u8).collect();
    let t = Transmit {
        dst: rx.local_addr(),
        offset: 0,
        len: buf.len(),
        segment_size: 1400,
    };
    assert_eq!(tx.send_batch(&buf, &[t]).unwrap(), 1);
    let got = recv_all(&rx, 2048, 6);
    let lens: Vec<usize> = got.iter().map(|(d, _)| d.len()).collect();
    assert_eq!(lens, [1400, 1400, 1400, 1400, 1400, 300]);
    for (i, (d, _)) in got.iter().enumerate() {
        assert!(d.iter().all(|&b| b == i as u8));
    }
}

#[test]
fn gso_send_is_coalesced_by_gro_receive() {
    let (tx, rx) = (bind(false), bind(true));
    let buf: Vec<u8> = (0..1400 * 40 + 77).map(|i| (i % 251) as u8).collect();
    let t = Transmit {
        dst: rx.local_addr(),
        offset: 0,
        len: buf.len(),
        segment_size: 1400,
    };
    assert_eq!(tx.send_batch(&buf, &[t]).unwrap(), 1);
    let got = recv_all(&rx, 65_536, 41);
    let joined: Vec<u8> = got.iter().flat_map(|(d, _)| d.iter().copied()).collect();
    assert_eq!(joined, buf);
    // Loopback keeps the GSO train whole, so GRO hands it over in one read.
    assert!(
        got.iter().any(|(d, s)| *s == 1400 && d.len() > 1400),
        "no coalesced read"
    );
}

#[test]
fn transmit_outside_buffer_is_rejected() {
    let tx = bind(false);
    let dst: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let t = Transmit {
        dst,
        offset: 10,
        len: 100,
        segment_size: 0,
    };
    let err = tx.send_batch(&[0u8; 50], &[t]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn reuse_port_lets_two_sockets_share_a_port() {
    let opts = SocketOptions {
        reuse_port: true,
        ..SocketOptions::default()
    };
    let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap(), &opts).unwrap();
    let b = UdpSocket::bind(a.local_addr(), &opts).unwrap();
    assert_eq!(a.local_addr(), b.local_addr());
    let plain = SocketOptions::default();
    assert!(UdpSocket::bind(a.local_addr(), &plain).is_err());
}

#[test]
fn ipv6_loopback_batch_when_available() {
    let opts = SocketOptions::default();
    let Ok(rx) = UdpSocket::bind("[::1]:0".parse().unwrap(), &opts) else {
        println!("SKIPPED ipv6_loopback_batch_when_available: no IPv6 loopback");
        return;
    };
    let tx = UdpSocket::bind("[::1]:0".parse().unwrap(), &opts).unwrap();
    tx.send_to(b"hello", rx.local_addr()).unwrap();
    let got = recv_all(&rx, 2048, 1);
    assert_eq!(got[0].0, b"hello");
}
