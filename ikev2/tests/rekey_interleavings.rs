//! RFC 7296 §2.8.1 and §2.8.2 with RFC 9370: every way two rekeys of one SA can interleave
//! leaves exactly one successor. Both ends run on the virtual clock with seeded randomness, so
//! each run (and which side's rekey has the lowest nonce) is the same every time; each scenario
//! runs with and without IKE_FOLLOWUP_KE (ML-KEM-768 as ADDKE1 in the ESP proposal) and over
//! several seeds, and checks that the seeds cover the case it is about.

mod sim;

use std::sync::Arc;
use std::time::Duration;

use ikev2::wire::{ExchangeType, Header};
use ikev2::{EndpointConfig, EspSpi, Event, Lifetime};
use sim::{Fate, Pair, Seeded, conn, current_sa, live_children, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
/// With PFS and one additional key exchange: CREATE_CHILD_SA then IKE_FOLLOWUP_KE.
const ESP_FOLLOWUP: &str = "aes256gcm16-x25519-ke1_mlkem768";
/// Without PFS: the rekey is one CREATE_CHILD_SA exchange.
const ESP_PLAIN: &str = "aes256gcm16";
const SEEDS: u64 = 6;
/// One-way latency of the simulated path (the harness default).
const LATENCY: Duration = Duration::from_millis(5);

fn established(seed: u64, esp: &str) -> Pair {
    let mut r = conn("responder", PSK, HYBRID, esp);
    let mut i = conn("initiator", PSK, HYBRID, esp);
    for c in [&mut r, &mut i] {
        c.ike_lifetime = Lifetime::NONE;
        for ch in &mut c.children {
            ch.lifetime = Lifetime::NONE;
        }
    }
    let (pa, pb) = (
        Seeded::provider(2 * seed + 1),
        Seeded::provider(2 * seed + 2),
    );
    let mut pair = Pair::new(EndpointConfig::default(), pa, responder(r), pb);
    pair.connect(Arc::new(i));
    pair.drive(1000);
    assert!(pair.a_established().is_some(), "{:?}", pair.a_error());
    assert_eq!(pair.assert_live_children_match(), 1);
    assert_eq!(pair.latency, LATENCY);
    pair
}

/// The one Child SA of each end before the rekeys: (A's inbound SPI, B's inbound SPI).
fn old_children(pair: &Pair) -> (EspSpi, EspSpi) {
    (
        live_children(&pair.a_events)[0].inbound_spi,
        live_children(&pair.b_events)[0].inbound_spi,
    )
}

/// A asks for a Child SA rekey now, B `b_after` later (B first for a negative offset, in µs).
fn rekey_both(pair: &mut Pair, b_offset_us: i64) {
    let (old_a, old_b) = old_children(pair);
    let sa_a = current_sa(&pair.a_events).expect("a");
    let sa_b = current_sa(&pair.b_events).expect("b");
    let gap = Duration::from_micros(b_offset_us.unsigned_abs());
    let t0 = pair.now;
    if b_offset_us >= 0 {
        pair.a
            .rekey_child(t0, sa_a, old_a)
            .expect("the engine takes the command");
        pair.run_until(t0 + gap);
        let now = pair.now;
        pair.b
            .rekey_child(now, sa_b, old_b)
            .expect("the engine takes the command");
    } else {
        pair.b
            .rekey_child(t0, sa_b, old_b)
            .expect("the engine takes the command");
        pair.run_until(t0 + gap);
        let now = pair.now;
        pair.a
            .rekey_child(now, sa_a, old_a)
            .expect("the engine takes the command");
    }
}

/// Requests of exchange type `ex` (retransmissions counted once).
fn requests(pair: &Pair, ex: ExchangeType) -> usize {
    let mut seen = std::collections::HashSet::new();
    pair.wire
        .iter()
        .filter_map(|s| Header::parse(&s.data).ok())
        .filter(|h| h.exchange == ex && !h.flags.is_response())
        .filter(|h| seen.insert((h.spi_i, h.spi_r, h.flags.is_initiator(), h.message_id)))
        .count()
}

/// Exactly one Child SA left, the same on both ends (crossed SPIs, equal keys), not the old one,
/// and no error. Returns whether A's rekey created it.
fn one_successor(pair: &Pair, old: (EspSpi, EspSpi), what: &str) -> bool {
    assert!(
        pair.a_error().is_none() && pair.b_error().is_none(),
        "{what}: {:?} {:?}",
        pair.a_error(),
        pair.b_error()
    );
    assert_eq!(pair.assert_live_children_match(), 1, "{what}");
    let live = live_children(&pair.a_events)[0];
    assert_ne!(live.inbound_spi, old.0, "{what}: the old Child SA is gone");
    assert_eq!(live.replaces, Some(old.0), "{what}");
    live.we_initiated
}

/// Whether `events` show the old Child SA deleted before the rekey of ours that replaced it
/// was established (the peer's DELETE overtook our response).
fn old_deleted_before_ours(events: &[Event], old: EspSpi) -> bool {
    let deleted = events.iter().position(
        |e| matches!(e, Event::ChildSaDeleted { inbound_spi, .. } if *inbound_spi == old),
    );
    let ours = events.iter().position(|e| {
        matches!(e, Event::ChildSaEstablished { child, .. }
            if child.we_initiated && child.replaces == Some(old))
    });
    matches!((deleted, ours), (Some(d), Some(o)) if d < o)
}

#[test]
fn crossing_child_rekeys_leave_one_child_whoever_wins() {
    for esp in [ESP_FOLLOWUP, ESP_PLAIN] {
        let mut winners = [false; 2];
        // Each side sends its request before the other's arrives (within one latency).
        for offset in (-4500..=4500).step_by(1500) {
            for seed in 0..SEEDS {
                let mut pair = established(seed, esp);
                let old = old_children(&pair);
                rekey_both(&mut pair, offset);
                pair.drive(3000);
                let what = format!("{esp} offset {offset}µs seed {seed}");
                let a_won = one_successor(&pair, old, &what);
                winners[usize::from(a_won)] = true;
                assert_eq!(requests(&pair, ExchangeType::CREATE_CHILD_SA), 2, "{what}");
            }
        }
        assert_eq!(
            winners,
            [true, true],
            "{esp}: both sides won some collision"
        );
    }
}

/// B's rekey becomes due after B answered A's rekey of the same SA but before A's DELETE of the
/// old SA arrives: with IKE_FOLLOWUP_KE still to come, or with A's rekey complete at B. B must
/// not rekey the replaced SA again (A sees no collision and would keep both successors).
#[test]
fn a_rekey_due_after_answering_the_peers_is_not_started() {
    // A's request reaches B at 5 ms; its IKE_FOLLOWUP_KE at 15 ms; the DELETE of the old SA at
    // 15 ms (plain) or 25 ms (with IKE_FOLLOWUP_KE).
    let cases = [
        (ESP_FOLLOWUP, 7_000, "A's IKE_FOLLOWUP_KE still to come"),
        (ESP_FOLLOWUP, 17_000, "A's rekey complete at B"),
        (ESP_PLAIN, 7_000, "A's rekey complete at B"),
        (ESP_PLAIN, 12_000, "A's rekey complete at both ends"),
    ];
    for (esp, offset, stage) in cases {
        for seed in 0..SEEDS {
            let mut pair = established(seed, esp);
            let old = old_children(&pair);
            rekey_both(&mut pair, offset);
            pair.drive(3000);
            let what = format!("{esp} B due {offset}µs after A ({stage}), seed {seed}");
            assert!(one_successor(&pair, old, &what), "{what}: A's rekey stays");
            assert_eq!(
                requests(&pair, ExchangeType::CREATE_CHILD_SA),
                1,
                "{what}: B sent no rekey of a replaced SA"
            );
        }
    }
}

/// Crossing rekeys where the responses to one side are slow: when that side lost, the winner's
/// DELETE of the old SA reaches it before its own rekey completes. It must still delete its own
/// redundant SA (the collision is remembered with its exchange, not only with the old SA).
#[test]
fn the_winners_delete_overtaking_the_losers_response_still_settles() {
    for esp in [ESP_FOLLOWUP, ESP_PLAIN] {
        let mut overtaken = false;
        for slow_is_a in [true, false] {
            for seed in 0..SEEDS {
                let mut pair = established(seed, esp);
                let old = old_children(&pair);
                pair.policy = Box::new(move |seen| match Header::parse(&seen.data) {
                    Ok(h)
                        if seen.from_a != slow_is_a
                            && h.flags.is_response()
                            && matches!(
                                h.exchange,
                                ExchangeType::CREATE_CHILD_SA | ExchangeType::IKE_FOLLOWUP_KE
                            ) =>
                    {
                        Fate::Delay(Duration::from_millis(30))
                    }
                    _ => Fate::Deliver,
                });
                rekey_both(&mut pair, 0);
                pair.drive(3000);
                let what = format!(
                    "{esp} slow {} seed {seed}",
                    if slow_is_a { "A" } else { "B" }
                );
                one_successor(&pair, old, &what);
                overtaken |= old_deleted_before_ours(&pair.a_events, old.0)
                    || old_deleted_before_ours(&pair.b_events, old.1);
            }
        }
        assert!(
            overtaken,
            "{esp}: some run had the DELETE overtake a response"
        );
    }
}

/// B's rekey request is delayed on the wire until A's own (crossing) rekey has completed and A
/// is deleting the old SA: A refuses it with TEMPORARY_FAILURE (RFC 7296 §2.25.1) instead of
/// creating a second successor.
#[test]
fn a_rekey_request_for_an_sa_being_deleted_is_refused() {
    // A's rekey completes at 10 ms (plain) or 20 ms (IKE_FOLLOWUP_KE); its DELETE is answered
    // 10 ms later. B's request, sent at 4 ms, arrives in between.
    for (esp, delay) in [(ESP_PLAIN, 8), (ESP_FOLLOWUP, 14)] {
        for seed in 0..SEEDS {
            let mut pair = established(seed, esp);
            let old = old_children(&pair);
            let base = pair.wire.len();
            // Index `base` is A's request; `base + 1` is B's.
            pair.policy = Box::new(move |seen| {
                if seen.index == base + 1 {
                    Fate::Delay(Duration::from_millis(delay))
                } else {
                    Fate::Deliver
                }
            });
            rekey_both(&mut pair, 4_000);
            pair.drive(3000);
            let what = format!("{esp} seed {seed}");
            assert!(one_successor(&pair, old, &what), "{what}: A's rekey stays");
            let b_created = pair.b_events.iter().any(|e| {
                matches!(e, Event::ChildSaEstablished { child, .. } if child.we_initiated && child.replaces.is_some())
            });
            assert!(!b_created, "{what}: B's late rekey created nothing");
        }
    }
}

/// The IKE SA: B's rekey becomes due while A's rekey of the IKE SA waits for its
/// IKE_FOLLOWUP_KE at B. B waits instead of starting a rekey A would not see as a collision
/// (both ends then moved the Child SAs to different new IKE SAs).
#[test]
fn an_ike_rekey_due_while_the_peers_is_unfinished_waits() {
    for seed in 0..SEEDS {
        let mut pair = established(seed, ESP_FOLLOWUP);
        let (a0, b0) = pair.current_sas();
        let t0 = pair.now;
        pair.a
            .rekey_ike(t0, a0)
            .expect("the engine takes the command");
        // A's CREATE_CHILD_SA reaches B at 5 ms, its IKE_FOLLOWUP_KE at 15 ms.
        pair.run_until(t0 + Duration::from_millis(7));
        let now = pair.now;
        pair.b
            .rekey_ike(now, b0)
            .expect("the engine takes the command");
        pair.drive(3000);
        let what = format!("seed {seed}");
        assert!(
            pair.a_error().is_none() && pair.b_error().is_none(),
            "{what}: {:?} {:?}",
            pair.a_error(),
            pair.b_error()
        );
        assert_eq!((pair.a.sa_count(), pair.b.sa_count()), (1, 1), "{what}");
        assert_eq!(requests(&pair, ExchangeType::CREATE_CHILD_SA), 1, "{what}");
        assert_eq!(pair.a.sas()[0].children.len(), 1, "{what}: children moved");
        assert_eq!(pair.assert_live_children_match(), 1, "{what}");
        let (a1, b1) = (current_sa(&pair.a_events), current_sa(&pair.b_events));
        assert!(
            a1 != Some(a0) && b1 != Some(b0),
            "{what}: both on the new IKE SA"
        );
    }
}

/// The lifetimes of `lifecycle.rs` (Child SAs rekeyed every ~2 min with 20 s of jitter, the
/// IKE SA every ~10 min) on both ends over many seeds: the jitter makes both sides' rekeys
/// overlap in some of them. Every run ends with one Child SA on one IKE SA per end.
#[test]
fn jittered_lifetimes_on_both_ends_leave_one_child_over_many_seeds() {
    let mut runs_with_both_rekeying = 0;
    for seed in 0..LIFETIME_SEEDS {
        let mut r = conn("responder", PSK, HYBRID, ESP_FOLLOWUP);
        let mut i = conn("initiator", PSK, HYBRID, ESP_FOLLOWUP);
        for c in [&mut r, &mut i] {
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
        }
        let (pa, pb) = (
            Seeded::provider(2 * seed + 1),
            Seeded::provider(2 * seed + 2),
        );
        let mut pair = Pair::new(EndpointConfig::default(), pa, responder(r), pb);
        pair.connect(Arc::new(i));
        let until = pair.now + Duration::from_secs(1300);
        pair.run_until(until);
        assert!(pair.run_until_quiet(Duration::from_secs(5)), "seed {seed}");
        let what = format!("seed {seed}");
        assert!(
            pair.a_error().is_none() && pair.b_error().is_none(),
            "{what}"
        );
        assert_eq!((pair.a.sa_count(), pair.b.sa_count()), (1, 1), "{what}");
        assert_eq!(pair.assert_live_children_match(), 1, "{what}");
        let rekeyed_by = |events: &[Event]| {
            events.iter().any(|e| matches!(e, Event::ChildSaEstablished { child, .. } if child.we_initiated && child.replaces.is_some()))
        };
        runs_with_both_rekeying +=
            usize::from(rekeyed_by(&pair.a_events) && rekeyed_by(&pair.b_events));
    }
    assert!(runs_with_both_rekeying > 0);
}

const LIFETIME_SEEDS: u64 = 300;
