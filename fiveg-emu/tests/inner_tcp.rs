//! TCP between a UE inner stack and an N3IWF inner stack through two ESP links, on a virtual
//! clock: bulk transfer, loss and reordering on the outer wire, and every way a connection
//! ends.

#![allow(clippy::unwrap_used)]

mod inner_sim;

use std::time::Duration;

use fiveg_emu::inner::{CloseReason, ConnError, EspLink, StackConfig, StackEvent, TcpState};
use inner_sim::ike::negotiate;
use inner_sim::{Fate, NAS_IP, Net, Pump, Rng, UE_INNER, crafted_links, ip, nas_addr};

const MIB: usize = 1 << 20;

fn negotiated_net() -> Net {
    let (ue, n3iwf) = negotiate("aes256gcm16", true);
    let p = ipsec_crypto::default_provider();
    Net::new(
        EspLink::from_child_sa(p, ue).unwrap(),
        EspLink::from_child_sa(p, n3iwf).unwrap(),
    )
}

/// Sends `size` octets each way at once and returns what each side received.
fn transfer_both_ways(net: &mut Net, size: usize, max_steps: usize) -> (Pump, Pump) {
    let (ue_conn, n3iwf_conn) = net.open_nas_connection();
    let mut ue = Pump::new(Rng(0x1234).bytes(size));
    let mut n3iwf = Pump::new(Rng(0x5678).bytes(size));
    let done = net.run(max_steps, |net| {
        ue.pump(&mut net.ue.stack, ue_conn);
        n3iwf.pump(&mut net.n3iwf.stack, n3iwf_conn);
        ue.received.len() == size && n3iwf.received.len() == size
    });
    assert!(
        done,
        "stalled: UE got {} octets, N3IWF {}",
        ue.received.len(),
        n3iwf.received.len()
    );
    (ue, n3iwf)
}

#[test]
fn one_mib_each_way_through_a_negotiated_child_sa() {
    let mut net = negotiated_net();
    let (ue, n3iwf) = transfer_both_ways(&mut net, MIB, 100_000);
    assert!(ue.received == n3iwf.to_send, "downlink octets differ");
    assert!(n3iwf.received == ue.to_send, "uplink octets differ");
    assert_eq!(net.ue.link.counters().inbound_selector_mismatch, 0);
    assert!(net.ue.link.counters().sent > (MIB / 1400) as u64);
}

#[test]
fn tcp_recovers_from_loss_and_reordering_on_the_outer_wire() {
    let mut net = negotiated_net();
    let mut rng = Rng(0xfeed);
    let reordered = std::rc::Rc::new(std::cell::Cell::new(0));
    let count = reordered.clone();
    net.policy = Box::new(move |_, _, _| match rng.next() % 100 {
        0..5 => Fate::Drop,
        5..15 => {
            count.set(count.get() + 1);
            Fate::Delay(Duration::from_millis(25))
        }
        _ => Fate::Deliver,
    });
    let (ue, n3iwf) = transfer_both_ways(&mut net, MIB, 200_000);
    assert!(ue.received == n3iwf.to_send, "downlink octets differ");
    assert!(n3iwf.received == ue.to_send, "uplink octets differ");
    assert!(net.dropped > 50, "only {} datagrams lost", net.dropped);
    assert!(
        reordered.get() > 100,
        "only {} datagrams reordered",
        reordered.get()
    );
    // Reordering stays inside the replay window: ESP dropped nothing.
    assert_eq!(net.n3iwf.link.inbound_drops().total(), 0);
    assert_eq!(net.ue.link.inbound_drops().total(), 0);
}

#[test]
fn transfer_works_over_crafted_keys_and_raw_esp() {
    let (ue, n3iwf) = crafted_links(false);
    let mut net = Net::new(ue, n3iwf);
    let (ue, n3iwf) = transfer_both_ways(&mut net, 64 * 1024, 10_000);
    assert!(ue.received == n3iwf.to_send && n3iwf.received == ue.to_send);
}

#[test]
fn connecting_where_nothing_listens_is_refused() {
    let (ue, n3iwf) = crafted_links(true);
    let mut net = Net::new(ue, n3iwf);
    let conn = net.ue.stack.connect(nas_addr()).unwrap();
    let closed = StackEvent::Closed(conn, CloseReason::Refused);
    assert!(
        net.run(1000, |net| net.ue.events.contains(&closed)),
        "{:?}",
        net.ue.events
    );
    assert!(!net.ue.events.contains(&StackEvent::Connected(conn)));
    assert_eq!(net.ue.stack.send(conn, b"x"), Err(ConnError::Unknown));
}

#[test]
fn abort_resets_the_peer() {
    let (ue, n3iwf) = crafted_links(true);
    let mut net = Net::new(ue, n3iwf);
    let (ue_conn, n3iwf_conn) = net.open_nas_connection();
    net.n3iwf.stack.abort(n3iwf_conn).unwrap();
    let reset = StackEvent::Closed(ue_conn, CloseReason::Reset);
    assert!(
        net.run(1000, |net| net.ue.events.contains(&reset)),
        "{:?}",
        net.ue.events
    );
    assert!(
        net.n3iwf
            .events
            .contains(&StackEvent::Closed(n3iwf_conn, CloseReason::Aborted))
    );
    assert_eq!(net.ue.stack.connections().count(), 0);
}

#[test]
fn graceful_close_delivers_the_last_octets_first() {
    let (ue, n3iwf) = crafted_links(true);
    let mut net = Net::new(ue, n3iwf);
    let (ue_conn, n3iwf_conn) = net.open_nas_connection();
    net.ue.stack.send(ue_conn, b"last words").unwrap();
    net.ue.stack.close(ue_conn).unwrap();
    let peer_closed = StackEvent::PeerClosed(n3iwf_conn);
    assert!(net.run(1000, |net| net.n3iwf.events.contains(&peer_closed)));
    let mut buf = [0u8; 64];
    let n = net.n3iwf.stack.recv(n3iwf_conn, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"last words");
    assert_eq!(
        net.n3iwf.stack.recv(n3iwf_conn, &mut buf),
        Err(ConnError::Finished)
    );
    net.n3iwf.stack.close(n3iwf_conn).unwrap();
    let both = |net: &mut Net| {
        net.ue
            .events
            .contains(&StackEvent::Closed(ue_conn, CloseReason::Graceful))
            && net
                .n3iwf
                .events
                .contains(&StackEvent::Closed(n3iwf_conn, CloseReason::Graceful))
    };
    assert!(
        net.run(1000, both),
        "UE {:?}\nN3IWF {:?}",
        net.ue.events,
        net.n3iwf.events
    );
}

#[test]
fn graceful_close_waits_until_the_caller_read_everything() {
    let (ue, n3iwf) = crafted_links(true);
    let mut net = Net::new(ue, n3iwf);
    let (ue_conn, n3iwf_conn) = net.open_nas_connection();
    net.n3iwf.stack.send(n3iwf_conn, b"unread").unwrap();
    net.n3iwf.stack.close(n3iwf_conn).unwrap();
    // The UE closes its half as soon as the peer's FIN is seen, without reading.
    net.run(1000, |net| {
        net.ue.events.contains(&StackEvent::PeerClosed(ue_conn))
    });
    net.ue.stack.close(ue_conn).unwrap();
    net.run(1000, |net| {
        net.ue.stack.state(ue_conn) == Ok(TcpState::TimeWait)
    });
    let closed = StackEvent::Closed(ue_conn, CloseReason::Graceful);
    assert!(!net.ue.events.contains(&closed), "closed with data unread");
    let mut buf = [0u8; 16];
    assert_eq!(net.ue.stack.recv(ue_conn, &mut buf), Ok(6));
    assert!(net.run(10, |net| net.ue.events.contains(&closed)));
}

#[test]
fn a_black_hole_times_out() {
    let (ue, n3iwf) = crafted_links(true);
    let mut config = StackConfig::new(ip(UE_INNER));
    config.tcp_timeout = Some(Duration::from_secs(5));
    let mut net = Net::with_configs(ue, config, n3iwf, StackConfig::new(ip(NAS_IP)));
    let (ue_conn, _) = net.open_nas_connection();
    net.policy = Box::new(|_, _, _| Fate::Drop);
    net.ue.stack.send(ue_conn, b"anyone?").unwrap();
    let start = net.now;
    let timed_out = StackEvent::Closed(ue_conn, CloseReason::TimedOut);
    assert!(net.run(10_000, |net| net.ue.events.contains(&timed_out)));
    let waited = net.now - start;
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
}
