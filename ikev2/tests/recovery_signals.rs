//! What a driver needs to restore service: why each IKE and Child SA ended (RFC 7296 §1.4,
//! §2.4), and INITIAL_CONTACT, with which a restarted peer makes us drop the SAs it lost.

mod sim;

use std::sync::Arc;
use std::time::Duration;

use ikev2::{CloseReason, ConnectionConfig, Endpoint, EndpointConfig, Error, Event, Lifetime};
use sim::{Fate, Pair, conn, current_sa, default_provider, live_children, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const IKE: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

fn quiet(c: &mut ConnectionConfig) {
    c.ike_lifetime = Lifetime::NONE;
    c.children[0].lifetime = Lifetime::NONE;
}

fn initiator() -> ConnectionConfig {
    let mut c = conn("initiator", PSK, IKE, "aes256gcm16");
    quiet(&mut c);
    c
}

fn established() -> Pair {
    let p = default_provider();
    let mut r = conn("responder", PSK, IKE, "aes256gcm16");
    quiet(&mut r);
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(r), p);
    pair.connect(Arc::new(initiator()));
    pair.drive(1000);
    assert_eq!(pair.assert_live_children_match(), 1);
    pair
}

fn ike_closed(events: &[Event]) -> Vec<CloseReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::IkeSaClosed { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

fn children_closed(events: &[Event]) -> Vec<CloseReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ChildSaDeleted { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

#[test]
fn a_delete_is_local_on_the_side_that_sent_it_and_peer_on_the_other() {
    let mut pair = established();
    let (sa, child) = (
        current_sa(&pair.b_events).expect("sa"),
        live_children(&pair.b_events)[0].inbound_spi,
    );
    let now = pair.now;
    pair.b
        .close_child(now, sa, child)
        .expect("the engine takes the command");
    pair.drive(1000);
    assert_eq!(children_closed(&pair.b_events), [CloseReason::Local]);
    assert_eq!(children_closed(&pair.a_events), [CloseReason::Peer]);
    let now = pair.now;
    pair.b.close(now, sa).expect("the engine takes the command");
    pair.drive(1000);
    assert_eq!(ike_closed(&pair.b_events), [CloseReason::Local]);
    assert_eq!(ike_closed(&pair.a_events), [CloseReason::Peer]);
}

#[test]
fn a_dead_peer_ends_the_sa_as_failed_with_a_timeout() {
    let mut pair = established();
    let sa = current_sa(&pair.a_events).expect("sa");
    pair.policy = Box::new(|s| if s.from_a { Fate::Drop } else { Fate::Deliver });
    let now = pair.now;
    // Any request of ours that is never answered ends the SA (DPD does the same).
    pair.a
        .rekey_ike(now, sa)
        .expect("the engine takes the command");
    pair.drive(1000);
    assert_eq!(pair.a_error(), Some(&Error::Timeout));
    assert_eq!(ike_closed(&pair.a_events), [CloseReason::Failed]);
    assert_eq!(children_closed(&pair.a_events), [CloseReason::Failed]);
}

#[test]
fn the_ike_sa_a_rekey_replaced_closes_as_rekeyed() {
    let mut pair = established();
    let sa = current_sa(&pair.a_events).expect("sa");
    let now = pair.now;
    pair.a
        .rekey_ike(now, sa)
        .expect("the engine takes the command");
    pair.drive(1000);
    assert_eq!(ike_closed(&pair.a_events), [CloseReason::Rekeyed]);
    assert_eq!(ike_closed(&pair.b_events), [CloseReason::Rekeyed]);
    assert!(
        children_closed(&pair.a_events).is_empty(),
        "the children moved"
    );
    assert_eq!(pair.assert_live_children_match(), 1);
}

/// Runs a new initiator endpoint (the peer after a restart, same address) against `pair.b`.
fn restarted_initiator(pair: &mut Pair) -> Endpoint {
    let mut a2 = Endpoint::new(EndpointConfig::default(), default_provider());
    let now = pair.now;
    a2.connect(now, Arc::new(initiator()), pair.a_addr, pair.b_addr)
        .expect("connect");
    for _ in 0..20 {
        let mut moved = false;
        while let Some(t) = a2.poll_transmit() {
            pair.b.handle_datagram(now, t.remote, t.local, &t.data);
            moved = true;
        }
        while let Some(t) = pair.b.poll_transmit() {
            a2.handle_datagram(now, t.remote, t.local, &t.data);
            moved = true;
        }
        if !moved {
            break;
        }
    }
    a2
}

#[test]
fn a_restarted_peer_sends_initial_contact_and_its_old_sa_is_dropped_without_a_delete() {
    let mut pair = established();
    let old = current_sa(&pair.b_events).expect("old sa");
    let mut a2 = restarted_initiator(&mut pair);
    let b_events: Vec<Event> = std::iter::from_fn(|| pair.b.poll_event()).collect();
    assert!(
        b_events
            .iter()
            .any(|e| matches!(e, Event::IkeSaEstablished { .. })),
        "{b_events:?}"
    );
    assert!(b_events.iter().any(
        |e| matches!(e, Event::IkeSaClosed { sa, reason } if *sa == old && *reason == CloseReason::PeerRestarted)
    ));
    assert_eq!(children_closed(&b_events), [CloseReason::PeerRestarted]);
    assert_eq!(pair.b.sa_count(), 1, "only the new IKE SA is left");
    assert!(a2.poll_event().is_some());
    assert!(
        pair.b.poll_transmit().is_none(),
        "no DELETE for an SA the peer lost"
    );
}

#[test]
fn a_second_ike_sa_to_the_same_peer_does_not_claim_initial_contact() {
    let mut pair = established();
    // The same initiator brings up a second IKE SA (another connection, same peer).
    let now = pair.now;
    pair.a
        .connect(now, Arc::new(initiator()), pair.a_addr, pair.b_addr)
        .expect("connect");
    pair.drive(1000);
    assert_eq!(pair.b.sa_count(), 2, "both IKE SAs stay");
    assert!(ike_closed(&pair.b_events).is_empty());
    assert_eq!(live_children(&pair.b_events).len(), 2);
}

#[test]
fn initial_contact_is_only_honoured_once_the_new_sa_is_authenticated() {
    let mut pair = established();
    // A restarted peer whose PSK is wrong: its INITIAL_CONTACT must not cost the old SA.
    let mut bad = initiator();
    bad.auth = ikev2::AuthConfig::Psk(ipsec_crypto::SecretBytes::new(b"wrong key".to_vec()));
    let mut a2 = Endpoint::new(EndpointConfig::default(), default_provider());
    let now = pair.now;
    a2.connect(now, Arc::new(bad), pair.a_addr, pair.b_addr)
        .expect("connect");
    for _ in 0..20 {
        while let Some(t) = a2.poll_transmit() {
            pair.b.handle_datagram(now, t.remote, t.local, &t.data);
        }
        while let Some(t) = pair.b.poll_transmit() {
            a2.handle_datagram(now, t.remote, t.local, &t.data);
        }
    }
    let b_events: Vec<Event> = std::iter::from_fn(|| pair.b.poll_event()).collect();
    assert!(
        !b_events.iter().any(|e| matches!(
            e,
            Event::IkeSaClosed {
                reason: CloseReason::PeerRestarted,
                ..
            }
        )),
        "{b_events:?}"
    );
    let until = pair.now + Duration::from_secs(1);
    pair.run_until(until);
    assert_eq!(pair.assert_live_children_match(), 1);
}
