//! RFC 7296 §2.8.2: both ends rekey the IKE SA at once. Each notices the collision, the new IKE
//! SA created with the lowest of the four nonces is deleted by its initiator, the other takes
//! every Child SA and its initiator deletes the old IKE SA. With and without RFC 9370
//! IKE_FOLLOWUP_KE, both nonce orderings (repeated until each side has lost once), the case of
//! a peer that does not notice (§2.8.2, last part) and a Child SA rekey crossing an IKE rekey
//! (§2.25.2: TEMPORARY_FAILURE, retried later).

mod sim;

use std::sync::Arc;
use std::time::Duration;

use ikev2::wire::{ExchangeType, Header};
use ikev2::{EndpointConfig, Event, Lifetime, SaId};
use sim::{Fate, Pair, conn, current_sa, default_provider, live_children, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
const CLASSIC: &str = "aes256gcm16-prfsha384-x25519";
const ESP: &str = "aes256gcm16";

/// An established pair with two Child SAs and exported IKE keys; no timers.
fn established_pair(ike: &str) -> Pair {
    let p = default_provider();
    let mut r = conn("responder", PSK, ike, ESP);
    let mut i = conn("initiator", PSK, ike, ESP);
    for c in [&mut r, &mut i] {
        c.ike_lifetime = Lifetime::NONE;
        for ch in &mut c.children {
            ch.lifetime = Lifetime::NONE;
        }
    }
    let a_cfg = EndpointConfig {
        export_keys: true,
        ..EndpointConfig::default()
    };
    let mut b_cfg = responder(r);
    b_cfg.export_keys = true;
    let mut pair = Pair::new(a_cfg, p, b_cfg, p);
    pair.connect(Arc::new(i));
    pair.drive(1000);
    assert!(pair.a_established().is_some(), "{:?}", pair.a_error());
    let sa = current_sa(&pair.a_events).expect("a");
    let now = pair.now;
    pair.a
        .create_child(now, sa, "net")
        .expect("the engine takes the command");
    pair.drive(1000);
    assert_eq!(pair.assert_live_children_match(), 2);
    pair
}

/// Whose new IKE SA survived.
#[derive(Debug, PartialEq, Eq)]
enum Survivor {
    A,
    B,
}

/// Both ends start an IKE SA rekey at the same instant; returns whose new SA survived.
fn collide(ike: &str) -> Survivor {
    let mut pair = established_pair(ike);
    let (a0, b0) = pair.current_sas();
    let (now, since) = (pair.now, pair.wire.len());
    pair.a
        .rekey_ike(now, a0)
        .expect("the engine takes the command");
    pair.b
        .rekey_ike(now, b0)
        .expect("the engine takes the command");
    pair.drive(2000);
    let survivor = assert_one_ike_sa_with_all_children(&pair, a0, b0);
    // Both noticed: neither refused the other's rekey.
    assert_eq!(temporary_failures(&pair, since), 0, "no side gave way");
    assert_eq!(rekey_events(&pair.a_events), 1);
    assert_eq!(rekey_events(&pair.b_events), 1);
    survivor
}

/// Exactly one IKE SA per end, a new one, holding both Child SAs, with equal IKE keys and a
/// working exchange (a Child SA rekey on it, keys compared).
fn assert_one_ike_sa_with_all_children(pair: &Pair, a0: SaId, b0: SaId) -> Survivor {
    assert!(
        pair.a_error().is_none() && pair.b_error().is_none(),
        "{:?} {:?}",
        pair.a_error(),
        pair.b_error()
    );
    assert_eq!(pair.a.sa_count(), 1, "a: {:?}", pair.a.sas());
    assert_eq!(pair.b.sa_count(), 1, "b: {:?}", pair.b.sas());
    let (a, b) = (&pair.a.sas()[0], &pair.b.sas()[0]);
    assert!(a.id != a0 && b.id != b0, "the old IKE SA is gone");
    assert_eq!(Some(a.id), current_sa(&pair.a_events));
    assert_eq!(Some(b.id), current_sa(&pair.b_events));
    assert_eq!(a.state, "ESTABLISHED");
    assert_eq!(b.state, "ESTABLISHED");
    assert_eq!(a.children.len(), 2, "a: every Child SA moved");
    assert_eq!(b.children.len(), 2, "b: every Child SA moved");
    assert_ne!(a.initiator, b.initiator, "the same new IKE SA on both ends");
    assert_eq!(pair.assert_live_children_match(), 2);
    assert_ike_keys_match(pair, a.id, b.id);
    if a.initiator {
        Survivor::A
    } else {
        Survivor::B
    }
}

fn assert_ike_keys_match(pair: &Pair, a: SaId, b: SaId) {
    fn keys(events: &[Event], sa: SaId) -> &ikev2::IkeKeyExport {
        events
            .iter()
            .rev()
            .find_map(|e| match e {
                Event::IkeSaKeys { sa: s, keys } if *s == sa => Some(keys),
                _ => None,
            })
            .expect("keys exported")
    }
    let (x, y) = (keys(&pair.a_events, a), keys(&pair.b_events, b));
    assert_eq!((x.spi_i, x.spi_r), (y.spi_i, y.spi_r), "same SPIs");
    for (p, q) in [
        (&x.sk_ei, &y.sk_ei),
        (&x.sk_er, &y.sk_er),
        (&x.sk_ai, &y.sk_ai),
        (&x.sk_ar, &y.sk_ar),
    ] {
        assert!(p.ct_eq(q.expose()), "IKE keys differ");
    }
}

/// Then the surviving SA carries a Child SA rekey (its keys work both ways).
fn rekey_a_child_on(pair: &mut Pair) {
    let sa = current_sa(&pair.a_events).expect("a");
    let child = live_children(&pair.a_events)[0].inbound_spi;
    let now = pair.now;
    pair.a
        .rekey_child(now, sa, child)
        .expect("the engine takes the command");
    pair.drive(1000);
    assert!(pair.a_error().is_none() && pair.b_error().is_none());
    assert_eq!(pair.assert_live_children_match(), 2);
    assert!(
        live_children(&pair.a_events)
            .iter()
            .all(|c| c.inbound_spi != child)
    );
}

fn rekey_events(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::IkeSaRekeyed { .. }))
        .count()
}

/// CREATE_CHILD_SA responses carrying TEMPORARY_FAILURE can't be seen encrypted; count the
/// requests instead: a refused rekey is retried, so more than two IKE rekey requests means a
/// side gave way.
fn temporary_failures(pair: &Pair, since: usize) -> usize {
    create_child_requests(pair, since).saturating_sub(2)
}

/// CREATE_CHILD_SA requests on the wire from index `since` on (retransmissions counted once).
fn create_child_requests(pair: &Pair, since: usize) -> usize {
    let mut seen = std::collections::HashSet::new();
    pair.wire[since..]
        .iter()
        .filter_map(|s| Header::parse(&s.data).ok())
        .filter(|h| h.exchange == ExchangeType::CREATE_CHILD_SA && !h.flags.is_response())
        .filter(|h| seen.insert((h.spi_i, h.spi_r, h.flags.is_initiator(), h.message_id)))
        .count()
}

/// Runs collisions until each end has lost once (a fair coin per run: 64 runs fail to show
/// both outcomes with probability 2^-63).
fn both_orderings(ike: &str) {
    let mut seen = Vec::new();
    for _ in 0..64 {
        let s = collide(ike);
        if !seen.contains(&s) {
            seen.push(s);
        }
        if seen.len() == 2 {
            return;
        }
    }
    panic!("only {seen:?} ever survived");
}

#[test]
fn simultaneous_ike_rekeys_both_orderings() {
    both_orderings(CLASSIC);
}

#[test]
fn simultaneous_ike_rekeys_with_followup_ke_both_orderings() {
    both_orderings(HYBRID);
}

#[test]
fn surviving_ike_sa_carries_later_exchanges() {
    for ike in [CLASSIC, HYBRID] {
        let mut pair = established_pair(ike);
        let (a0, b0) = pair.rekey_ike_on_both();
        pair.drive(2000);
        assert_one_ike_sa_with_all_children(&pair, a0, b0);
        rekey_a_child_on(&mut pair);
    }
}

/// §2.8.2, last part: B's request is held back until A's rekey is complete. A never sees the
/// collision (it answers B's late request with TEMPORARY_FAILURE and deletes the old SA); B
/// notices, and keeps A's new SA when the old one is deleted.
#[test]
fn collision_only_one_side_notices() {
    for ike in [CLASSIC, HYBRID] {
        let mut pair = established_pair(ike);
        let (a0, b0) = pair.current_sas();
        let mut held = false;
        pair.policy = Box::new(move |seen| match Header::parse(&seen.data) {
            Ok(h)
                if !seen.from_a
                    && !held
                    && h.exchange == ExchangeType::CREATE_CHILD_SA
                    && !h.flags.is_response() =>
            {
                held = true;
                Fate::Delay(Duration::from_millis(200))
            }
            _ => Fate::Deliver,
        });
        let now = pair.now;
        pair.a
            .rekey_ike(now, a0)
            .expect("the engine takes the command");
        pair.b
            .rekey_ike(now, b0)
            .expect("the engine takes the command");
        pair.drive(2000);
        let survivor = assert_one_ike_sa_with_all_children(&pair, a0, b0);
        assert_eq!(survivor, Survivor::A, "{ike}: A's rekey completed first");
        assert_eq!(
            rekey_events(&pair.b_events),
            1,
            "B moved its Child SAs once"
        );
        rekey_a_child_on(&mut pair);
    }
}

/// §2.25.2: a Child SA rekey request arriving while the IKE SA is being rekeyed gets
/// TEMPORARY_FAILURE; it is retried later on the new IKE SA.
#[test]
fn child_rekey_crossing_an_ike_rekey_is_retried() {
    for ike in [CLASSIC, HYBRID] {
        let mut pair = established_pair(ike);
        let (a0, b0) = pair.current_sas();
        let old_child = live_children(&pair.b_events)[0].inbound_spi;
        let (now, since) = (pair.now, pair.wire.len());
        pair.a
            .rekey_ike(now, a0)
            .expect("the engine takes the command");
        pair.b
            .rekey_child(now, b0, old_child)
            .expect("the engine takes the command");
        let until = pair.now + Duration::from_secs(60);
        pair.run_until(until);
        assert_one_ike_sa_with_all_children(&pair, a0, b0);
        assert!(
            live_children(&pair.b_events)
                .iter()
                .all(|c| c.inbound_spi != old_child),
            "{ike}: the Child SA rekey was retried and completed"
        );
        assert!(
            create_child_requests(&pair, since) >= 3,
            "a request was refused"
        );
    }
}
