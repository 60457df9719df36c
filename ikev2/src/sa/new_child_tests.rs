//! The responder's bound on the status notifies of a new Child SA request, reached with a
//! request that only a peer past our own command checks can send.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use super::ChildAsk;
use super::tests::{Sink, conn, provider};
use crate::auth_reply::{MAX_STATUS_NOTIFIES, MAX_STATUS_NOTIFY_DATA, StatusNotify};
use crate::child_request::ChildTag;
use crate::config::EndpointConfig;
use crate::endpoint::Endpoint;
use crate::event::{Event, SaId};
use crate::keys::child_keymat;
use crate::wire::{ExchangeType, Header, IpSelector, Payload, parse_payloads};

fn host(a: &str) -> IpSelector {
    IpSelector {
        ip_protocol: 0,
        start_port: 0,
        end_port: u16::MAX,
        start_addr: a.parse().expect("addr"),
        end_addr: a.parse().expect("addr"),
    }
}

/// Moves datagrams both ways until neither side sends (bounded); returns them, each with
/// whether A sent it.
fn shuttle(
    now: Instant,
    a: &mut Endpoint,
    b: &mut Endpoint,
    addrs: (SocketAddr, SocketAddr),
) -> Vec<(bool, Vec<u8>)> {
    let (a_addr, b_addr) = addrs;
    let mut wire = Vec::new();
    for _ in 0..1000 {
        let mut moved = false;
        while let Some(t) = a.poll_transmit() {
            b.handle_datagram(now, b_addr, a_addr, &t.data);
            wire.push((true, t.data));
            moved = true;
        }
        while let Some(t) = b.poll_transmit() {
            a.handle_datagram(now, a_addr, b_addr, &t.data);
            wire.push((false, t.data));
            moved = true;
        }
        if !moved {
            return wire;
        }
    }
    panic!("the exchange did not settle");
}

/// A and B with an established IKE SA: (A, B, B's SA id, the addresses).
fn established(now: Instant) -> (Endpoint, Endpoint, SaId, (SocketAddr, SocketAddr)) {
    let addrs: (SocketAddr, SocketAddr) = (
        "192.0.2.1:500".parse().expect("addr"),
        "192.0.2.2:500".parse().expect("addr"),
    );
    let r_cfg = EndpointConfig {
        connections: vec![Arc::new(conn("responder"))],
        ..EndpointConfig::default()
    };
    let mut a = Endpoint::new(EndpointConfig::default(), provider());
    let mut b = Endpoint::new(r_cfg, provider());
    a.connect(now, Arc::new(conn("initiator")), addrs.0, addrs.1)
        .expect("connect");
    shuttle(now, &mut a, &mut b, addrs);
    let b_sa = b.sas()[0].id;
    events(&mut a);
    events(&mut b);
    (a, b, b_sa, addrs)
}

/// The nonce of a protected CREATE_CHILD_SA message, opened by `ep`'s SA `sa`.
fn nonce_of(ep: &mut Endpoint, sa: SaId, now: Instant, datagram: &[u8]) -> Vec<u8> {
    let mut sink = Sink::default();
    let mut ctx = sink.ctx();
    let s = ep.sa_mut(sa).expect("SA");
    let (first, plain) = s.open(now, datagram, &mut ctx).expect("opens");
    let payloads = parse_payloads(first, &plain).expect("parses");
    payloads
        .into_iter()
        .find_map(|p| match p {
            Payload::Nonce(n) => Some(n),
            _ => None,
        })
        .expect("nonce")
}

#[test]
fn keymat_of_an_exchange_the_original_responder_starts_gives_it_the_first_keys() {
    let now = Instant::now();
    let (mut a, mut b, b_sa, addrs) = established(now);
    let a_sa = a.sas()[0].id;
    let ask = ChildAsk {
        config: 0,
        local_ts: vec![host("10.2.0.1")],
        remote_ts: vec![host("10.1.0.1")],
        notifies: Vec::new(),
        tag: Some(ChildTag(1)),
    };
    b.request_child_unchecked(now, b_sa, ask);
    let wire = shuttle(now, &mut a, &mut b, addrs);
    let cc = |from_a: bool| {
        let (_, d) = (wire.iter())
            .find(|(f, d)| {
                *f == from_a
                    && Header::parse(d).is_ok_and(|h| h.exchange == ExchangeType::CREATE_CHILD_SA)
            })
            .expect("CREATE_CHILD_SA");
        d.clone()
    };
    // B's request is opened by A, A's response by B: Ni is B's nonce (RFC 7296 §2.17).
    let ni = nonce_of(&mut a, a_sa, now, &cc(false));
    let nr = nonce_of(&mut b, b_sa, now, &cc(true));
    let child = events(&mut b).into_iter().find_map(|e| match e {
        Event::ChildSaEstablished { child, .. } => Some(child),
        _ => None,
    });
    let child = child.expect("B's Child SA");
    let sink_cfg = &mut Sink::default();
    let ctx = sink_cfg.ctx();
    let s = b.sa_mut(b_sa).expect("B's SA");
    let prf = s.prf(&ctx).expect("prf");
    let sk_d = &s.keys.as_ref().expect("keys").sk_d;
    let len = child.outbound_keys.expose().len();
    let (i_to_r, r_to_i) = child_keymat(prf, sk_d, None, &ni, &nr, &[], len).expect("KEYMAT");
    assert!(
        child.outbound_keys.ct_eq(i_to_r.expose()),
        "B, the exchange's initiator, sends with the first keys"
    );
    assert!(child.inbound_keys.ct_eq(r_to_i.expose()));
}

fn events(ep: &mut Endpoint) -> Vec<Event> {
    std::iter::from_fn(|| ep.poll_event()).collect()
}

#[test]
fn over_the_bound_peer_notifies_are_dropped_and_counted_and_the_child_still_comes() {
    let now = Instant::now();
    let (mut a, mut b, b_sa, addrs) = established(now);

    let kept = |i: u16| StatusNotify {
        notify_type: 50000 + i,
        data: vec![7; 4],
    };
    let mut notifies: Vec<StatusNotify> = (0..3).map(kept).collect();
    notifies.push(StatusNotify {
        notify_type: 55501,
        data: vec![1; MAX_STATUS_NOTIFY_DATA + 1],
    });
    notifies.extend((3..MAX_STATUS_NOTIFIES as u16 + 2).map(kept));
    let ask = ChildAsk {
        config: 0,
        local_ts: vec![host("10.2.0.1")],
        remote_ts: vec![host("10.1.0.1")],
        notifies,
        tag: Some(ChildTag(9)),
    };
    b.request_child_unchecked(now, b_sa, ask);
    shuttle(now, &mut a, &mut b, addrs);

    let child = events(&mut a).into_iter().find_map(|e| match e {
        Event::ChildSaEstablished { child, .. } => Some(child),
        _ => None,
    });
    let child = child.expect("the Child SA is created all the same");
    let want: Vec<StatusNotify> = (0..MAX_STATUS_NOTIFIES as u16).map(kept).collect();
    assert_eq!(child.peer_notifies, want, "the first 16 that fit, in order");
    // One too large, two over the count.
    assert_eq!(a.stats().child_notifies_dropped, 3);
    assert_eq!(a.stats().auth_reply_notifies_dropped, 0);
}

#[test]
fn a_rekey_cannot_widen_a_child_sa() {
    let now = Instant::now();
    let (mut a, mut b, b_sa, addrs) = established(now);
    let a_sa = a.sas()[0].id;
    let ask = ChildAsk {
        config: 0,
        local_ts: vec![host("10.2.0.1")],
        remote_ts: vec![host("10.1.0.1")],
        notifies: Vec::new(),
        tag: Some(ChildTag(1)),
    };
    b.request_child_unchecked(now, b_sa, ask);
    shuttle(now, &mut a, &mut b, addrs);
    events(&mut b);
    // A's record of the child claims the template's whole subnets, so its rekey offers them.
    let a_child = {
        let s = a.sa_mut(a_sa).expect("A's SA");
        let c = s.children.last_mut().expect("the new child");
        c.local_ts = s.conn.children[0].local_ts.clone();
        c.remote_ts = s.conn.children[0].remote_ts.clone();
        c.inbound_spi
    };
    a.rekey_child(now, a_sa, a_child).expect("rekey");
    shuttle(now, &mut a, &mut b, addrs);
    let successor = events(&mut b).into_iter().find_map(|e| match e {
        Event::ChildSaEstablished { child, .. } => Some(child),
        _ => None,
    });
    let successor = successor.expect("B's successor");
    assert!(successor.replaces.is_some());
    assert_eq!(successor.tag, Some(ChildTag(1)));
    assert_eq!(
        successor.local_ts,
        vec![host("10.2.0.1")],
        "narrowed to the old SA"
    );
    assert_eq!(successor.remote_ts, vec![host("10.1.0.1")]);
}
