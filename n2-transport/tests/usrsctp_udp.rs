//! usrsctp over UDP encapsulation (RFC 6951) on loopback, without privileges: both endpoints
//! run on this process's stack, whose packets leave through its UDP socket and come back.
//!
//! Without `libusrsctp.so.2` these tests print SKIPPED and pass, unless
//! `N2_REQUIRE_USRSCTP=1` (set by the project's test command, which installs the library).

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use n2_transport::{
    Association, AssociationConfig, DownReason, LowerLayer, N2Error, N2Event, N2Listener,
    N2Transport, Ppid, StackError, StreamCounts, StreamId, Transport, TransportKind, UserspaceSctp,
};
use tokio::time::timeout;

mod common;

fn transport(config: AssociationConfig) -> Option<UserspaceSctp> {
    common::looped_transport(config)
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Connects a client to a new listener on `port`; returns both ends.
async fn pair(
    port: u16,
    client: AssociationConfig,
    server: AssociationConfig,
) -> Option<(Association, Association, N2Listener)> {
    let listener = transport(server)?.listen(addr(port)).unwrap();
    let t = transport(client)?;
    let (c, s) = tokio::join!(t.connect(addr(port)), listener.accept());
    Some((c.unwrap(), s.unwrap(), listener))
}

async fn next(a: &mut Association) -> N2Event {
    timeout(Duration::from_secs(20), a.recv())
        .await
        .expect("an event within 20 s")
        .expect("an event before the end")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn association_comes_up_with_negotiated_stream_counts() {
    let client = AssociationConfig {
        outbound_streams: 20,
        max_inbound_streams: 6,
        ..AssociationConfig::default()
    };
    let server = AssociationConfig {
        outbound_streams: 8,
        max_inbound_streams: 32,
        ..AssociationConfig::default()
    };
    let Some((c, s, _l)) = pair(38501, client, server).await else {
        return;
    };
    assert_eq!(
        c.streams(),
        StreamCounts {
            outbound: 20,
            inbound: 6
        }
    );
    assert_eq!(
        s.streams(),
        StreamCounts {
            outbound: 6,
            inbound: 20
        }
    );
    c.send(StreamId(0), Ppid::NGAP, b"ng setup").await.unwrap();
    let mut s = s;
    match next(&mut s).await {
        N2Event::Message(m) => {
            assert_eq!((m.stream, m.ppid), (StreamId(0), Ppid::NGAP));
            assert_eq!(m.payload, b"ng setup");
        }
        other => panic!("{other:?}"),
    }
}

/// Stream `s` carries PPID 60 on even streams and 61 on odd ones, so that a mix-up shows.
fn ppid_of(stream: u16) -> Ppid {
    Ppid(60 + u32::from(stream % 2))
}

/// Message `seq` on `stream`: the two numbers, then filler of a length that varies.
fn payload(stream: u16, seq: u32) -> Vec<u8> {
    let mut p = stream.to_be_bytes().to_vec();
    p.extend_from_slice(&seq.to_be_bytes());
    p.resize(6 + (seq as usize * 37) % 1500, (seq % 251) as u8);
    p
}

const STREAMS: u16 = 5;
const MESSAGES: u32 = 1000;

async fn send_all(a: &n2_transport::N2Sender) {
    for seq in 0..MESSAGES {
        let stream = (seq % u32::from(STREAMS)) as u16;
        a.send(StreamId(stream), ppid_of(stream), &payload(stream, seq))
            .await
            .unwrap();
    }
}

/// Receives `MESSAGES` and checks each one's stream, PPID, bytes and per-stream order.
async fn receive_all(mut r: n2_transport::N2Receiver) -> n2_transport::N2Receiver {
    let mut last: HashMap<u16, u32> = HashMap::new();
    for _ in 0..MESSAGES {
        let event = timeout(Duration::from_secs(20), r.recv())
            .await
            .unwrap()
            .unwrap();
        let N2Event::Message(m) = event else {
            panic!("{event:?}");
        };
        let stream = u16::from_be_bytes([m.payload[0], m.payload[1]]);
        let seq = u32::from_be_bytes(m.payload[2..6].try_into().unwrap());
        assert_eq!(m.stream, StreamId(stream), "stream of message {seq}");
        assert_eq!(m.ppid, ppid_of(stream), "PPID of message {seq}");
        assert_eq!(m.payload, payload(stream, seq), "bytes of message {seq}");
        if let Some(prev) = last.insert(stream, seq) {
            assert_eq!(seq, prev + u32::from(STREAMS), "order on stream {stream}");
        }
    }
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_messages_each_way_keep_stream_ppid_and_order() {
    let config = AssociationConfig::default();
    let Some((c, s, _l)) = pair(38502, config, config).await else {
        return;
    };
    let (c_tx, c_rx) = c.into_split();
    let (s_tx, s_rx) = s.into_split();
    let to_server = tokio::spawn(async move { send_all(&c_tx).await });
    let to_client = tokio::spawn(async move { send_all(&s_tx).await });
    let (s_rx, c_rx) = tokio::join!(receive_all(s_rx), receive_all(c_rx));
    to_server.await.unwrap();
    to_client.await.unwrap();
    drop((s_rx, c_rx));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_at_the_size_bound_pass_and_larger_ones_do_not() {
    let small = AssociationConfig {
        max_message_size: 64 * 1024,
        ..AssociationConfig::default()
    };
    let large = AssociationConfig {
        max_message_size: 64 * 1024 + 1,
        ..small
    };
    let Some((c, mut s, _l)) = pair(38503, large, small).await else {
        return;
    };
    // Exactly at the receiver's bound: delivered whole, in several socket reads.
    let at_bound: Vec<u8> = (0..64 * 1024).map(|i| (i % 253) as u8).collect();
    c.send(StreamId(1), Ppid::NGAP, &at_bound).await.unwrap();
    match next(&mut s).await {
        N2Event::Message(m) => assert_eq!(m.payload, at_bound),
        other => panic!("{other:?}"),
    }
    // One byte more: the receiver drops it, counts it, and the association goes on.
    let past = vec![7u8; 64 * 1024 + 1];
    c.send(StreamId(1), Ppid::NGAP, &past).await.unwrap();
    c.send(StreamId(1), Ppid::NGAP, b"after").await.unwrap();
    match next(&mut s).await {
        N2Event::Message(m) => assert_eq!(m.payload, b"after"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.stats().oversized_dropped, 1);
    assert_eq!(s.stats().messages_received, 2);
    // The sender refuses to send past its own bound, and empty messages.
    let s_past = s.send(StreamId(0), Ppid::NGAP, &past).await;
    assert!(matches!(
        s_past,
        Err(N2Error::MessageTooLarge {
            len: 65537,
            max: 65536
        })
    ));
    let empty = s.send(StreamId(0), Ppid::NGAP, b"").await;
    assert!(matches!(
        empty,
        Err(N2Error::MessageTooLarge { len: 0, .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_beyond_the_negotiated_count_are_refused() {
    let client = AssociationConfig {
        outbound_streams: 4,
        ..AssociationConfig::default()
    };
    let Some((c, _s, _l)) = pair(38504, client, AssociationConfig::default()).await else {
        return;
    };
    let r = c.send(StreamId(4), Ppid::NGAP, b"x").await;
    assert!(matches!(
        r,
        Err(N2Error::StreamOutOfRange {
            stream: StreamId(4),
            outbound: 4
        })
    ));
    c.send(StreamId(3), Ppid::NGAP, b"x").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_few_streams_fail_the_set_up() {
    let client = AssociationConfig {
        min_outbound_streams: 4,
        ..AssociationConfig::default()
    };
    let server = AssociationConfig {
        max_inbound_streams: 3,
        ..AssociationConfig::default()
    };
    let Some(t) = transport(client) else {
        return;
    };
    let listener = transport(server).unwrap().listen(addr(38505)).unwrap();
    let (c, _s) = tokio::join!(t.connect(addr(38505)), listener.accept());
    assert!(matches!(
        c,
        Err(N2Error::TooFewStreams {
            outbound: 3,
            min: 4
        })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_where_nobody_listens_is_refused() {
    let Some(t) = transport(AssociationConfig::default()) else {
        return;
    };
    let r = t.connect(addr(38506)).await;
    assert!(
        matches!(&r, Err(N2Error::ConnectFailed { .. })),
        "{:?}",
        r.err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_close_is_reported_and_the_client_reconnects() {
    let config = AssociationConfig::default();
    let Some((c, mut s, listener)) = pair(38507, config, config).await else {
        return;
    };
    c.send(StreamId(0), Ppid::NGAP, b"bye").await.unwrap();
    let sender = c.into_split().0;
    // Closing through the association (a clone of the sender keeps the socket open).
    let t = transport(config).unwrap();
    let (c2, s2) = tokio::join!(t.connect(addr(38507)), listener.accept());
    let (c2, mut s2) = (c2.unwrap(), s2.unwrap());
    c2.close().await;
    match next(&mut s2).await {
        N2Event::Down(DownReason::PeerShutdown) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        timeout(Duration::from_secs(5), s2.recv()).await.unwrap(),
        None
    );
    // The first association still works, then goes down when its last handle is dropped.
    match next(&mut s).await {
        N2Event::Message(m) => assert_eq!(m.payload, b"bye"),
        other => panic!("{other:?}"),
    }
    drop(sender);
    match next(&mut s).await {
        N2Event::Down(DownReason::PeerShutdown) => {}
        other => panic!("{other:?}"),
    }
    let gone = s.send(StreamId(0), Ppid::NGAP, b"late").await;
    assert!(matches!(gone, Err(N2Error::AssociationDown)), "{gone:?}");
    // Reconnect to the same listener.
    let (c3, s3) = tokio::join!(t.connect(addr(38507)), listener.accept());
    let (c3, mut s3) = (c3.unwrap(), s3.unwrap());
    c3.send(StreamId(1), Ppid::NGAP, b"again").await.unwrap();
    match next(&mut s3).await {
        N2Event::Message(m) => assert_eq!((m.stream, &m.payload[..]), (StreamId(1), &b"again"[..])),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_receive_queue_holds_the_sender_back() {
    let server = AssociationConfig {
        receive_queue: 4,
        ..AssociationConfig::default()
    };
    let Some((c, s, _l)) = pair(38508, AssociationConfig::default(), server).await else {
        return;
    };
    const TOTAL: u32 = 400;
    let (tx, mut progress) = tokio::sync::watch::channel(0u32);
    let sender = tokio::spawn(async move {
        let big = vec![1u8; 64 * 1024];
        for i in 0..TOTAL {
            c.send(StreamId(1), Ppid::NGAP, &big).await.unwrap();
            tx.send_replace(i + 1);
        }
        c
    });
    // 400 × 64 KiB is 25 MiB; with the server not reading, the sender must stall far below.
    let all_sent = timeout(Duration::from_secs(3), progress.wait_for(|&n| n == TOTAL))
        .await
        .is_ok();
    assert!(!all_sent, "all {TOTAL} messages sent while nobody read");
    let sent = *progress.borrow();
    assert!(sent < 100, "{sent} messages in flight");
    // Reading again lets every message through.
    let (_s_tx, mut s_rx) = s.into_split();
    for _ in 0..TOTAL {
        let e = timeout(Duration::from_secs(20), s_rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(e, N2Event::Message(m) if m.payload.len() == 64 * 1024));
    }
    sender.await.unwrap();
}

/// The inodes of this process's sockets that `/proc/net/raw{,6}` lists for IP protocol 132.
fn own_raw_sctp_sockets() -> Vec<String> {
    let mut raw = Vec::new();
    for table in ["/proc/net/raw", "/proc/net/raw6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // local_address is ADDR:PROTO in hex; inode is the tenth column.
            if cols.len() > 9 && cols[1].ends_with(":0084") {
                raw.push(format!("socket:[{}]", cols[9]));
            }
        }
    }
    let mut own = Vec::new();
    for fd in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        if let Ok(target) = std::fs::read_link(fd.path()) {
            let target = target.to_string_lossy().into_owned();
            if raw.contains(&target) {
                own.push(target);
            }
        }
    }
    own
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_udp_only_stack_holds_no_raw_sctp_socket() {
    // usrsctp opens raw SCTP sockets whenever it may; a UDP-only stack is started without
    // CAP_NET_RAW so that it cannot see (and ABORT) other applications' SCTP. As root this
    // test would fail without that; unprivileged it holds trivially.
    let Some(_t) = transport(AssociationConfig::default()) else {
        return;
    };
    assert_eq!(own_raw_sctp_sockets(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_stack_per_process_and_the_error_says_so() {
    let Some(_udp) = transport(AssociationConfig::default()) else {
        return;
    };
    let kind = TransportKind::Usrsctp(LowerLayer::RawIp);
    let e = Transport::new(kind, AssociationConfig::default()).unwrap_err();
    assert!(
        matches!(&e, N2Error::UsrsctpStack(StackError::AlreadyStarted { .. })),
        "{e:?}"
    );
    assert!(e.to_string().contains("one stack per process"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn associations_dropped_under_traffic_close_cleanly() {
    // Each round drops the client while the server floods it, so that usrsctp's threads are
    // busy calling the upcall of a socket being closed.
    let config = AssociationConfig::default();
    let Some(t) = transport(config) else {
        return;
    };
    let listener = t.listen(addr(38509)).unwrap();
    for round in 0..20 {
        let (c, s) = tokio::join!(t.connect(addr(38509)), listener.accept());
        let (mut c, s) = (c.unwrap(), s.unwrap());
        let (s_tx, mut s_rx) = s.into_split();
        let flood = tokio::spawn(async move {
            let mut sent = 0u32;
            while s_tx
                .send(StreamId(1), Ppid::NGAP, &[round; 1000])
                .await
                .is_ok()
                && sent < 5000
            {
                sent += 1;
            }
            sent
        });
        // Take a few, then drop the client mid-flood.
        for _ in 0..(round as usize * 5) {
            assert!(matches!(next(&mut c).await, N2Event::Message(_)));
        }
        drop(c);
        let end = loop {
            match next_on(&mut s_rx).await {
                N2Event::Down(reason) => break reason,
                N2Event::Message(_) => {}
                other => panic!("{other:?}"),
            }
        };
        assert!(
            matches!(end, DownReason::PeerShutdown | DownReason::Lost),
            "round {round}: {end:?}"
        );
        let sent = timeout(Duration::from_secs(20), flood)
            .await
            .unwrap()
            .unwrap();
        assert!(
            sent < 5000,
            "round {round}: the flood never noticed the end"
        );
    }
}

async fn next_on(r: &mut n2_transport::N2Receiver) -> N2Event {
    timeout(Duration::from_secs(20), r.recv())
        .await
        .expect("an event within 20 s")
        .expect("an event before the end")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_peers_work_the_same() {
    let config = AssociationConfig::default();
    let Some(t) = transport(config) else {
        return;
    };
    let server = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 38510));
    let listener = t.listen(server).unwrap();
    let (c, s) = tokio::join!(t.connect(server), listener.accept());
    let (c, mut s) = (c.unwrap(), s.unwrap());
    assert!(s.peer().is_ipv6(), "{}", s.peer());
    c.send(StreamId(2), Ppid::NGAP, b"over IPv6").await.unwrap();
    match next(&mut s).await {
        N2Event::Message(m) => {
            assert_eq!((m.stream, &m.payload[..]), (StreamId(2), &b"over IPv6"[..]))
        }
        other => panic!("{other:?}"),
    }
}
