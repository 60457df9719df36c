//! Established IKE SAs: CREATE_CHILD_SA (new, Child rekey, IKE rekey) with PFS and RFC 9370
//! IKE_FOLLOWUP_KE, simultaneous rekeys, DELETE, liveness checks and lifetimes.

mod sim;

use std::sync::Arc;
use std::time::Duration;

use ikev2::wire::{ExchangeType, Header};
use ikev2::{ConnectionConfig, EndpointConfig, Error, EspSpi, Event, Lifetime};
use sim::{Fate, Pair, conn, current_sa, default_provider, live_children, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
const ESP_PFS: &str = "aes256gcm16-x25519-ke1_mlkem768";

fn established_pair(tune: impl Fn(&mut ConnectionConfig)) -> Pair {
    let p = default_provider();
    let mut r = conn("responder", PSK, HYBRID, ESP_PFS);
    let mut i = conn("initiator", PSK, HYBRID, ESP_PFS);
    tune(&mut r);
    tune(&mut i);
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(r), p);
    pair.connect(Arc::new(i));
    pair.drive(1000);
    assert!(
        pair.a_established().is_some(),
        "{:?} {:?}",
        pair.a_error(),
        pair.b_error()
    );
    assert_eq!(pair.assert_live_children_match(), 1);
    pair
}

fn no_timers(c: &mut ConnectionConfig) {
    c.ike_lifetime = Lifetime::NONE;
    for ch in &mut c.children {
        ch.lifetime = Lifetime::NONE;
    }
}

/// Requests of exchange type `ex` (fragments and retransmissions counted once).
fn count(pair: &Pair, ex: ExchangeType) -> usize {
    let mut seen = std::collections::HashSet::new();
    pair.wire
        .iter()
        .filter_map(|s| Header::parse(&s.data).ok())
        .filter(|h| h.exchange == ex && !h.flags.is_response())
        .filter(|h| seen.insert((h.spi_i, h.spi_r, h.flags.is_initiator(), h.message_id)))
        .count()
}

fn deleted(events: &[Event]) -> Vec<EspSpi> {
    events
        .iter()
        .filter_map(|e| {
            if let Event::ChildSaDeleted { inbound_spi, .. } = e {
                Some(*inbound_spi)
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn child_rekey_with_pfs_and_followup_ke_from_each_side() {
    for by_initiator in [true, false] {
        let mut pair = established_pair(no_timers);
        let (old_a, old_b) = (
            live_children(&pair.a_events)[0].inbound_spi,
            live_children(&pair.b_events)[0].inbound_spi,
        );
        let now = pair.now;
        if by_initiator {
            let sa = current_sa(&pair.a_events).expect("sa");
            pair.a
                .rekey_child(now, sa, old_a)
                .expect("the engine takes the command");
        } else {
            let sa = current_sa(&pair.b_events).expect("sa");
            pair.b
                .rekey_child(now, sa, old_b)
                .expect("the engine takes the command");
        }
        pair.drive(1000);
        assert_eq!(
            pair.assert_live_children_match(),
            1,
            "by_initiator={by_initiator}"
        );
        let new_a = live_children(&pair.a_events)[0];
        assert_ne!(new_a.inbound_spi, old_a);
        assert!(new_a.replaces.is_some());
        assert!(
            deleted(&pair.a_events).contains(&old_a) && deleted(&pair.b_events).contains(&old_b),
            "old SA deleted on both sides"
        );
        assert_eq!(count(&pair, ExchangeType::CREATE_CHILD_SA), 1);
        assert_eq!(
            count(&pair, ExchangeType::IKE_FOLLOWUP_KE),
            1,
            "ML-KEM-768 as ADDKE1 runs in IKE_FOLLOWUP_KE"
        );
    }
}

#[test]
fn make_before_break_the_new_child_is_announced_before_the_old_is_deleted() {
    let mut pair = established_pair(no_timers);
    let old = live_children(&pair.a_events)[0].inbound_spi;
    let sa = current_sa(&pair.a_events).expect("sa");
    let now = pair.now;
    pair.a
        .rekey_child(now, sa, old)
        .expect("the engine takes the command");
    pair.drive(1000);
    for events in [&pair.a_events, &pair.b_events] {
        let new_at = events.iter().rposition(
            |e| matches!(e, Event::ChildSaEstablished { child, .. } if child.replaces.is_some()),
        );
        let del_at = events
            .iter()
            .position(|e| matches!(e, Event::ChildSaDeleted { .. }));
        assert!(new_at.expect("new child") < del_at.expect("old deleted"));
    }
}

#[test]
fn simultaneous_child_rekey_leaves_exactly_one_new_child() {
    let mut pair = established_pair(no_timers);
    let (old_a, old_b) = (
        live_children(&pair.a_events)[0].inbound_spi,
        live_children(&pair.b_events)[0].inbound_spi,
    );
    let (sa_a, sa_b) = (
        current_sa(&pair.a_events).expect("a"),
        current_sa(&pair.b_events).expect("b"),
    );
    let now = pair.now;
    pair.a
        .rekey_child(now, sa_a, old_a)
        .expect("the engine takes the command");
    pair.b
        .rekey_child(now, sa_b, old_b)
        .expect("the engine takes the command");
    pair.drive(2000);
    assert_eq!(pair.assert_live_children_match(), 1);
    let live = live_children(&pair.a_events)[0].inbound_spi;
    assert!(live != old_a);
    assert_eq!(count(&pair, ExchangeType::CREATE_CHILD_SA), 2);
}

#[test]
fn ike_rekey_with_additional_key_exchange_moves_children() {
    for by_initiator in [true, false] {
        let mut pair = established_pair(no_timers);
        let (old_a, old_b) = (
            current_sa(&pair.a_events).expect("a"),
            current_sa(&pair.b_events).expect("b"),
        );
        let now = pair.now;
        if by_initiator {
            pair.a
                .rekey_ike(now, old_a)
                .expect("the engine takes the command");
        } else {
            pair.b
                .rekey_ike(now, old_b)
                .expect("the engine takes the command");
        }
        pair.drive(1000);
        let (new_a, new_b) = (
            current_sa(&pair.a_events).expect("a"),
            current_sa(&pair.b_events).expect("b"),
        );
        assert_ne!(new_a, old_a);
        assert!(
            !pair.a.has_sa(old_a) && !pair.b.has_sa(old_b),
            "old IKE SA deleted"
        );
        assert!(pair.a.has_sa(new_a) && pair.b.has_sa(new_b));
        assert_eq!(
            pair.a.sas()[0].children.len(),
            1,
            "children moved to the new IKE SA"
        );
        assert_eq!(count(&pair, ExchangeType::IKE_FOLLOWUP_KE), 1);
        // The new IKE SA works: rekey the child on it and compare keys.
        let child = live_children(&pair.a_events)[0].inbound_spi;
        let now = pair.now;
        pair.a
            .rekey_child(now, new_a, child)
            .expect("the engine takes the command");
        pair.drive(1000);
        assert_eq!(pair.assert_live_children_match(), 1);
        assert!(pair.a_error().is_none() && pair.b_error().is_none());
    }
}

#[test]
fn rekeys_survive_loss_and_reordering() {
    let mut pair = established_pair(no_timers);
    let mut n = 0u32;
    pair.policy = Box::new(move |_| {
        n += 1;
        match n % 4 {
            0 => Fate::Drop,
            1 => Fate::Delay(Duration::from_millis(7)),
            2 => Fate::Duplicate,
            _ => Fate::Deliver,
        }
    });
    for round in 0..3 {
        let sa = current_sa(&pair.a_events).expect("sa");
        let child = live_children(&pair.a_events)[0].inbound_spi;
        let now = pair.now;
        if round == 1 {
            pair.a
                .rekey_ike(now, sa)
                .expect("the engine takes the command");
        } else {
            pair.a
                .rekey_child(now, sa, child)
                .expect("the engine takes the command");
        }
        pair.drive(5000);
        assert_eq!(pair.assert_live_children_match(), 1, "round {round}");
    }
    assert!(
        pair.a_error().is_none() && pair.b_error().is_none(),
        "{:?} {:?}",
        pair.a_error(),
        pair.b_error()
    );
}

#[test]
fn new_child_sa_through_create_child_sa() {
    let mut pair = established_pair(no_timers);
    let sa = current_sa(&pair.a_events).expect("sa");
    let now = pair.now;
    pair.a
        .create_child(now, sa, "net")
        .expect("the engine takes the command");
    pair.drive(1000);
    assert_eq!(pair.assert_live_children_match(), 2);
}

#[test]
fn delete_child_and_ike_sa_from_each_side() {
    for by_initiator in [true, false] {
        let mut pair = established_pair(no_timers);
        let (sa_a, sa_b) = (
            current_sa(&pair.a_events).expect("a"),
            current_sa(&pair.b_events).expect("b"),
        );
        let (ca, cb) = (
            live_children(&pair.a_events)[0].inbound_spi,
            live_children(&pair.b_events)[0].inbound_spi,
        );
        let now = pair.now;
        if by_initiator {
            pair.a.close_child(now, sa_a, ca)
        } else {
            pair.b.close_child(now, sa_b, cb)
        }
        .expect("the engine takes the command");
        pair.drive(1000);
        assert_eq!(pair.assert_live_children_match(), 0);
        let now = pair.now;
        if by_initiator {
            pair.a.close(now, sa_a)
        } else {
            pair.b.close(now, sa_b)
        }
        .expect("the engine takes the command");
        pair.drive(1000);
        assert_eq!(pair.a.sa_count() + pair.b.sa_count(), 0);
        assert!(
            pair.a_error().is_none() && pair.b_error().is_none(),
            "a clean close is not a failure"
        );
        assert!(
            pair.a_events
                .iter()
                .any(|e| matches!(e, Event::IkeSaClosed { .. }))
        );
    }
}

#[test]
fn dpd_detects_a_dead_peer_and_removes_the_children() {
    let mut pair = established_pair(|c| {
        no_timers(c);
        c.dpd_delay = Some(Duration::from_secs(30));
    });
    pair.policy = Box::new(|s| if s.from_a { Fate::Deliver } else { Fate::Drop });
    let start = pair.now;
    pair.drive(1000);
    assert_eq!(pair.a_error(), Some(&Error::Timeout));
    assert!(pair.now - start >= Duration::from_secs(30));
    assert_eq!(live_children(&pair.a_events).len(), 0);
    assert_eq!(pair.a.sa_count(), 0);
}

#[test]
fn dpd_keeps_a_live_peer() {
    let mut pair = established_pair(|c| {
        no_timers(c);
        c.dpd_delay = Some(Duration::from_secs(30));
    });
    // Ten liveness periods pass with an answering peer.
    let until = pair.now + Duration::from_secs(300);
    pair.run_until(until);
    assert!(pair.a_error().is_none() && pair.b_error().is_none());
    assert!(count(&pair, ExchangeType::INFORMATIONAL) >= 9);
    assert_eq!(pair.assert_live_children_match(), 1);
}

#[test]
fn soft_lifetimes_rekey_and_hard_lifetimes_hold() {
    let mut pair = established_pair(|c| {
        c.ike_lifetime = Lifetime {
            rekey_after: Some(Duration::from_secs(600)),
            expire_after: Some(Duration::from_secs(700)),
            jitter: Duration::from_secs(60),
        };
        for ch in &mut c.children {
            ch.lifetime = Lifetime {
                rekey_after: Some(Duration::from_secs(120)),
                expire_after: Some(Duration::from_secs(150)),
                jitter: Duration::from_secs(20),
            };
        }
    });
    let until = pair.now + Duration::from_secs(1300);
    pair.run_until(until);
    // A rekey may be half done at that instant: let it finish before counting.
    assert!(pair.run_until_quiet(Duration::from_secs(5)));
    assert!(
        pair.a_error().is_none() && pair.b_error().is_none(),
        "{:?} {:?}",
        pair.a_error(),
        pair.b_error()
    );
    assert_eq!(pair.assert_live_children_match(), 1);
    assert!(
        count(&pair, ExchangeType::CREATE_CHILD_SA) >= 8,
        "children rekeyed every ~2 min, IKE SA every ~10 min"
    );
    assert_eq!(pair.a.sa_count(), 1);
    assert_eq!(pair.b.sa_count(), 1);
}

#[test]
fn simultaneous_ike_rekeys_settle_on_one_new_ike_sa() {
    let mut pair = established_pair(no_timers);
    let (a0, _) = pair.rekey_ike_on_both();
    let until = pair.now + Duration::from_secs(120);
    pair.run_until(until);
    assert!(
        pair.a_error().is_none() && pair.b_error().is_none(),
        "{:?} {:?}",
        pair.a_error(),
        pair.b_error()
    );
    assert_eq!(pair.a.sa_count(), 1);
    assert_eq!(pair.b.sa_count(), 1);
    assert_ne!(current_sa(&pair.a_events), Some(a0));
    assert_eq!(pair.assert_live_children_match(), 1);
}

#[test]
fn invalid_spi_from_the_peer_removes_the_half_closed_child() {
    let mut pair = established_pair(no_timers);
    let a_child = live_children(&pair.a_events)[0];
    let (spi, a_ip) = (a_child.outbound_spi, pair.a_addr.ip());
    let now = pair.now;
    // B's datapath gets ESP for an SPI it does not know (as after a datapath restart).
    pair.b
        .report_invalid_spi(now, a_ip, spi)
        .expect("the engine takes the command");
    pair.drive(1000);
    assert!(
        live_children(&pair.a_events).is_empty(),
        "A dropped the Child SA B no longer has"
    );
    assert!(pair.a_error().is_none() && pair.b_error().is_none());
    let now = pair.now;
    assert!(
        pair.b.report_invalid_spi(now, a_ip, spi).is_ok(),
        "reported once per SPI"
    );
    assert!(pair.b.poll_transmit().is_none());
}
