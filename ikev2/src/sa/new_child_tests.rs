//! The responder's bound on the status notifies of a new Child SA request, reached with a
//! request that only a peer past our own command checks can send.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use super::ChildAsk;
use super::tests::{conn, provider};
use crate::auth_reply::{MAX_STATUS_NOTIFIES, MAX_STATUS_NOTIFY_DATA, StatusNotify};
use crate::child_request::ChildTag;
use crate::config::EndpointConfig;
use crate::endpoint::Endpoint;
use crate::event::{Event, SaId};
use crate::wire::IpSelector;

fn host(a: &str) -> IpSelector {
    IpSelector {
        ip_protocol: 0,
        start_port: 0,
        end_port: u16::MAX,
        start_addr: a.parse().expect("addr"),
        end_addr: a.parse().expect("addr"),
    }
}

/// Moves datagrams both ways until neither side sends (bounded).
fn shuttle(now: Instant, a: &mut Endpoint, b: &mut Endpoint, addrs: (SocketAddr, SocketAddr)) {
    let (a_addr, b_addr) = addrs;
    for _ in 0..1000 {
        let mut moved = false;
        while let Some(t) = a.poll_transmit() {
            b.handle_datagram(now, b_addr, a_addr, &t.data);
            moved = true;
        }
        while let Some(t) = b.poll_transmit() {
            a.handle_datagram(now, a_addr, b_addr, &t.data);
            moved = true;
        }
        if !moved {
            return;
        }
    }
    panic!("the exchange did not settle");
}

fn events(ep: &mut Endpoint) -> Vec<Event> {
    std::iter::from_fn(|| ep.poll_event()).collect()
}

#[test]
fn over_the_bound_peer_notifies_are_dropped_and_counted_and_the_child_still_comes() {
    let now = Instant::now();
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
    let b_sa: SaId = b.sas()[0].id;
    events(&mut a);

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
