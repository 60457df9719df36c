//! RFC 7296 §2.8.1 with RFC 9370: a simultaneous Child SA rekey where our own rekey (a
//! CREATE_CHILD_SA and its IKE_FOLLOWUP_KE) completes while the peer's is still waiting for its
//! IKE_FOLLOWUP_KE. The collision must still be resolved by the lowest nonce (one side deletes
//! its redundant new SA, the other the old SA), leaving exactly one Child SA on both ends. Seen
//! against strongSwan 6 (`interop/tests/rfc7296_rekey.rs`): the side that finished first deleted
//! the old SA under the peer's rekey, and both ends were left with two Child SAs.

mod sim;

use std::sync::Arc;
use std::time::Duration;

use ikev2::wire::{ExchangeType, Header};
use ikev2::{EndpointConfig, Lifetime};
use sim::{Fate, Pair, conn, current_sa, default_provider, live_children, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
const ESP_PFS: &str = "aes256gcm16-x25519-ke1_mlkem768";

fn established_pair() -> Pair {
    let p = default_provider();
    let mut r = conn("responder", PSK, HYBRID, ESP_PFS);
    let mut i = conn("initiator", PSK, HYBRID, ESP_PFS);
    for c in [&mut r, &mut i] {
        c.ike_lifetime = Lifetime::NONE;
        for ch in &mut c.children {
            ch.lifetime = Lifetime::NONE;
        }
    }
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(r), p);
    pair.connect(Arc::new(i));
    pair.drive(1000);
    assert!(pair.a_established().is_some(), "{:?}", pair.a_error());
    assert_eq!(pair.assert_live_children_match(), 1);
    pair
}

/// Both sides rekey the Child SA at once; the IKE_FOLLOWUP_KE requests of the side `slow` (a or
/// b) are held back, so the other side's rekey completes first.
fn collide(slow_is_a: bool) {
    let mut pair = established_pair();
    let (old_a, old_b) = (
        live_children(&pair.a_events)[0].inbound_spi,
        live_children(&pair.b_events)[0].inbound_spi,
    );
    let (sa_a, sa_b) = (
        current_sa(&pair.a_events).expect("a"),
        current_sa(&pair.b_events).expect("b"),
    );
    pair.policy = Box::new(move |seen| match Header::parse(&seen.data) {
        Ok(h)
            if seen.from_a == slow_is_a
                && h.exchange == ExchangeType::IKE_FOLLOWUP_KE
                && !h.flags.is_response() =>
        {
            Fate::Delay(Duration::from_millis(50))
        }
        _ => Fate::Deliver,
    });
    let now = pair.now;
    pair.a
        .rekey_child(now, sa_a, old_a)
        .expect("the engine takes the command");
    pair.b
        .rekey_child(now, sa_b, old_b)
        .expect("the engine takes the command");
    pair.drive(2000);
    assert!(pair.a_error().is_none() && pair.b_error().is_none());
    // Crossed SPIs and equal keys on the one live Child SA of each end.
    assert_eq!(
        pair.assert_live_children_match(),
        1,
        "exactly one Child SA left on both ends"
    );
    let live = live_children(&pair.a_events)[0].inbound_spi;
    assert_ne!(live, old_a, "the old Child SA is gone");
    assert_ne!(live_children(&pair.b_events)[0].inbound_spi, old_b);
}

#[test]
fn collision_resolved_when_the_initiator_finishes_first() {
    collide(false);
}

#[test]
fn collision_resolved_when_the_responder_finishes_first() {
    collide(true);
}
