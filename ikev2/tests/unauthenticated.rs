//! Unauthenticated datagrams carrying an established IKE SA's real SPIs (anyone on the path
//! sees them in clear) never change that SA, its Child SAs or its Message ID counters
//! (RFC 7296 §2.1, §2.2): responses are handled only by the exchange that sent the request,
//! and anything that does not verify is dropped and counted.

mod sim;

use std::sync::Arc;

use ikev2::wire::ExchangeType;
use ikev2::{Event, Lifetime};
use proptest::prelude::*;
use sim::{Pair, conn, current_sa, default_provider, live_children, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const IKE: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
const FLAG_I: u8 = 0x08;
const FLAG_R: u8 = 0x20;

/// An established hybrid pair (A initiated) with no automatic rekeys.
fn established() -> Pair {
    let p = default_provider();
    let mut i = conn("initiator", PSK, IKE, "aes256gcm16");
    let mut r = conn("responder", PSK, IKE, "aes256gcm16");
    for c in [&mut i, &mut r] {
        c.ike_lifetime = Lifetime::NONE;
        c.children[0].lifetime = Lifetime::NONE;
    }
    let mut pair = Pair::new(ikev2::EndpointConfig::default(), p, responder(r), p);
    pair.connect(Arc::new(i));
    pair.drive(1000);
    assert_eq!(pair.assert_live_children_match(), 1);
    pair
}

/// The IKE SA's SPIs as the first exchange carried them.
fn spis(pair: &Pair) -> ([u8; 8], [u8; 8]) {
    let response = pair.wire.iter().find(|s| !s.from_a).expect("a response");
    let spi_i = response.data[..8].try_into().expect("8 octets");
    let spi_r = response.data[8..16].try_into().expect("8 octets");
    (spi_i, spi_r)
}

/// B, the responder, rekeys its Child SA; its request (its first, Message ID 0) is taken off
/// the wire and returned undelivered.
fn responder_rekey_outstanding(pair: &mut Pair) -> Vec<Vec<u8>> {
    let sa = current_sa(&pair.b_events).expect("B's SA");
    let child = live_children(&pair.b_events)[0].inbound_spi;
    let now = pair.now;
    pair.b
        .rekey_child(now, sa, child)
        .expect("the engine takes the command");
    let held: Vec<Vec<u8>> = std::iter::from_fn(|| pair.b.poll_transmit())
        .map(|t| t.data)
        .collect();
    assert!(!held.is_empty());
    let ids = pair.b.sas()[0].message_ids;
    assert_eq!(
        ids.outstanding.map(|m| m.0),
        Some(0),
        "B's request has Message ID 0"
    );
    held
}

/// A bare 28-octet IKE header with no payloads.
fn bare_header(spis: ([u8; 8], [u8; 8]), exchange: u8, flags: u8, mid: u32) -> Vec<u8> {
    let mut d = Vec::with_capacity(28);
    d.extend_from_slice(&spis.0);
    d.extend_from_slice(&spis.1);
    d.extend_from_slice(&[0, 0x20, exchange, flags]);
    d.extend_from_slice(&mid.to_be_bytes());
    d.extend_from_slice(&28u32.to_be_bytes());
    d
}

/// Everything an observer can compare about B's established IKE SA: state, addresses,
/// children, Message IDs. (A forged IKE_SA_INIT request may start another, half-open SA.)
fn b_state(pair: &Pair) -> String {
    let id = current_sa(&pair.b_events).expect("B's SA");
    format!("{:?}", pair.b.sas().into_iter().find(|s| s.id == id))
}

/// Delivers B's held request and runs the rekey to its end; asserts it replaced the child.
fn finish_rekey(pair: &mut Pair, held: Vec<Vec<u8>>) {
    let old = live_children(&pair.b_events)[0].inbound_spi;
    let (a_addr, b_addr, now) = (pair.a_addr, pair.b_addr, pair.now);
    for d in held {
        pair.a.handle_datagram(now, a_addr, b_addr, &d);
    }
    pair.drive(1000);
    assert_eq!(
        pair.assert_live_children_match(),
        1,
        "traffic keys still agree"
    );
    assert_ne!(
        live_children(&pair.b_events)[0].inbound_spi,
        old,
        "the rekey completed"
    );
    // Only a half-open SA that a forged IKE_SA_INIT request started may have failed.
    let established = [current_sa(&pair.a_events), current_sa(&pair.b_events)];
    for e in pair.a_events.iter().chain(&pair.b_events) {
        if let Event::IkeSaFailed { sa, error } = e {
            assert!(!established.contains(&Some(*sa)), "{sa:?} failed: {error}");
        }
    }
}

/// Whether an event concerns the IKE SA `id`.
fn about(e: &Event, id: Option<ikev2::SaId>) -> bool {
    let sa = match e {
        Event::IkeSaClosed { sa, .. } | Event::IkeSaFailed { sa, .. } => Some(*sa),
        Event::ChildSaEstablished { sa, .. } | Event::ChildSaDeleted { sa, .. } => Some(*sa),
        _ => return true,
    };
    sa == id
}

#[test]
fn bare_ike_sa_init_responses_with_the_real_spis_leave_an_sa_with_a_request_outstanding_alone() {
    let mut pair = established();
    let held = responder_rekey_outstanding(&mut pair);
    let before = b_state(&pair);
    let dropped_before = pair.b.stats().dropped_unexpected;
    let spoof = bare_header(spis(&pair), ExchangeType::IKE_SA_INIT.0, FLAG_I | FLAG_R, 0);
    let (a_addr, b_addr, now) = (pair.a_addr, pair.b_addr, pair.now);
    for _ in 0..100 {
        pair.b.handle_datagram(now, b_addr, a_addr, &spoof);
    }
    assert!(
        pair.b.poll_transmit().is_none(),
        "nothing is sent for a spoof"
    );
    let events: Vec<Event> = std::iter::from_fn(|| pair.b.poll_event()).collect();
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(b_state(&pair), before);
    assert_eq!(pair.b.stats().dropped_unexpected, dropped_before + 100);
    finish_rekey(&mut pair, held);
}

/// One forged datagram: a header with the real SPIs (or a variation) and arbitrary fields, a
/// body of arbitrary octets, or an old genuine datagram replayed, possibly with a flipped bit.
#[derive(Clone, Debug)]
enum Forgery {
    Header {
        swap_spis: bool,
        exchange: u8,
        flags: u8,
        mid: u32,
        next_payload: u8,
        body: Vec<u8>,
        honest_length: bool,
    },
    Replay {
        index: usize,
        flip: Option<(usize, u8)>,
    },
}

fn exchange() -> impl Strategy<Value = u8> {
    prop_oneof![
        prop::sample::select(vec![34u8, 35, 36, 37, 43, 44]),
        any::<u8>()
    ]
}

fn message_id() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..4, any::<u32>()]
}

fn forgery() -> impl Strategy<Value = Forgery> {
    let header = (
        any::<bool>(),
        exchange(),
        any::<u8>(),
        message_id(),
        prop::sample::select(vec![0u8, 33, 41, 46, 53, 255]),
        prop::collection::vec(any::<u8>(), 0..300),
        any::<bool>(),
    )
        .prop_map(
            |(swap_spis, exchange, flags, mid, next_payload, body, honest_length)| {
                Forgery::Header {
                    swap_spis,
                    exchange,
                    flags,
                    mid,
                    next_payload,
                    body,
                    honest_length,
                }
            },
        );
    let replay = (
        any::<usize>(),
        prop::option::of((any::<usize>(), 1u8..=255)),
    )
        .prop_map(|(index, flip)| Forgery::Replay { index, flip });
    prop_oneof![3 => header, 1 => replay]
}

fn forge(f: &Forgery, pair: &Pair, spis: ([u8; 8], [u8; 8])) -> Vec<u8> {
    match f {
        Forgery::Header {
            swap_spis,
            exchange,
            flags,
            mid,
            next_payload,
            body,
            honest_length,
        } => {
            let s = if *swap_spis { (spis.1, spis.0) } else { spis };
            let mut d = bare_header(s, *exchange, *flags, *mid);
            d[16] = *next_payload;
            d.extend_from_slice(body);
            let len = if *honest_length {
                d.len() as u32
            } else {
                28 + (body.len() as u32 / 2)
            };
            d[24..28].copy_from_slice(&len.to_be_bytes());
            d
        }
        Forgery::Replay { index, flip } => {
            // Genuine datagrams A sent to B earlier: authentic, but old.
            let from_a: Vec<&sim::Seen> = pair.wire.iter().filter(|s| s.from_a).collect();
            let mut d = from_a[index % from_a.len()].data.clone();
            if let Some((at, mask)) = flip {
                let at = at % d.len();
                d[at] ^= mask;
            }
            d
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn forged_and_replayed_datagrams_never_change_an_established_sa(
        forgeries in prop::collection::vec(forgery(), 1..24),
    ) {
        let mut pair = established();
        let held = responder_rekey_outstanding(&mut pair);
        let before = b_state(&pair);
        let spis = spis(&pair);
        let sent_before: Vec<Vec<u8>> =
            pair.wire.iter().filter(|s| !s.from_a).map(|s| s.data.clone()).collect();
        let (a_addr, b_addr, now) = (pair.a_addr, pair.b_addr, pair.now);
        for f in &forgeries {
            let d = forge(f, &pair, spis);
            pair.b.handle_datagram(now, b_addr, a_addr, &d);
        }
        // A replayed old request may only get its cached response again, byte for byte; a
        // forged IKE_SA_INIT request may get a response for a new half-open SA.
        while let Some(t) = pair.b.poll_transmit() {
            let new_sa = t.data.get(8..16) != Some(&spis.1[..]) && t.data.get(18) == Some(&34);
            prop_assert!(sent_before.contains(&t.data) || new_sa, "B sent something new");
        }
        let id = current_sa(&pair.b_events);
        let events: Vec<Event> = std::iter::from_fn(|| pair.b.poll_event()).collect();
        prop_assert!(!events.iter().any(|e| about(e, id)), "{:?}", events);
        prop_assert_eq!(b_state(&pair), before);
        finish_rekey(&mut pair, held);
    }
}
