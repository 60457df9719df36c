//! RFC 9867 in CREATE_CHILD_SA: with USE_PPK_INT negotiated, every new Child SA, Child SA rekey
//! and IKE SA rekey takes a fresh PPK from the key source (N(PPK_IDENTITY_KEY) in the request,
//! N(PPK_IDENTITY) in the response); a PPK that does not match, or a key source that fails,
//! creates no SA and leaves the old ones working.

mod sim;

use std::time::Duration;

use ikev2::{ConnectionConfig, EspSpi, Event, Lifetime, PpkConfig, PpkExchange, PpkMode, SaId};
use ipsec_crypto::SecretBytes;
use sim::kme::{Kme, SharedKme};
use sim::{Pair, Scenario, current_sa, live_children};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
const ESP_PFS: &str = "aes256gcm16-x25519";

fn qkd(required: bool, mode: PpkMode) -> PpkConfig {
    let mut p = PpkConfig::external(Duration::from_secs(5), required);
    p.mode = mode;
    p
}

fn no_timers(c: &mut ConnectionConfig) {
    c.ike_lifetime = Lifetime::NONE;
    for ch in &mut c.children {
        ch.lifetime = Lifetime::NONE;
    }
}

/// Hybrid PSK connections without lifetimes, PPKs from `kme` as `a` and `b` say, run until
/// the initial IKE SA is up with its PPK and one Child SA.
fn pair_with(a: PpkConfig, b: PpkConfig, kme: &SharedKme) -> Pair {
    let pair = Scenario::psk(PSK, HYBRID, ESP_PFS)
        .both(no_timers)
        .initiator(|c| c.ppk = Some(a))
        .responder(|c| c.ppk = Some(b))
        .key_source(Kme::source(kme))
        .run(2000);
    assert!(
        pair.a_established().is_some_and(|i| i.ppk_used),
        "{:?} {:?}",
        pair.a_error(),
        pair.b_error()
    );
    assert_eq!(pair.assert_live_children_match(), 1);
    pair
}

fn established(required: bool, kme: &SharedKme) -> Pair {
    pair_with(
        qkd(required, PpkMode::Rfc9867),
        qkd(required, PpkMode::Rfc9867),
        kme,
    )
}

/// The exchanges PPKs were asked for on one side, in order.
fn asked(events: &[Event]) -> Vec<PpkExchange> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PpkNeeded { exchange, .. } => Some(*exchange),
            _ => None,
        })
        .collect()
}

fn first_child(pair: &Pair) -> EspSpi {
    live_children(&pair.a_events)[0].inbound_spi
}

fn rekey_child(pair: &mut Pair) -> EspSpi {
    let sa = current_sa(&pair.a_events).expect("sa");
    let old = first_child(pair);
    let now = pair.now;
    pair.a
        .rekey_child(now, sa, old)
        .expect("the engine takes the command");
    pair.drive(2000);
    old
}

/// Starts a rekey of the first Child SA and runs through its first attempt only (a retry
/// comes seconds later). Returns the IKE SA and the old Child SA's inbound SPI.
fn first_rekey_attempt(pair: &mut Pair) -> (SaId, EspSpi) {
    let sa = current_sa(&pair.a_events).expect("sa");
    let old = first_child(pair);
    let now = pair.now;
    pair.a
        .rekey_child(now, sa, old)
        .expect("the engine takes the command");
    pair.run_until(now + Duration::from_secs(1));
    (sa, old)
}

#[test]
fn every_create_child_sa_takes_a_fresh_ppk() {
    let kme = Kme::shared();
    let mut pair = established(true, &kme);
    let old = rekey_child(&mut pair);
    rekey_child(&mut pair);
    let sa = current_sa(&pair.a_events).expect("sa");
    let now = pair.now;
    pair.a
        .create_child(now, sa, "net")
        .expect("the engine takes the command");
    pair.drive(2000);
    pair.a
        .rekey_ike(now, sa)
        .expect("the engine takes the command");
    pair.drive(2000);
    // The rekeyed IKE SA keeps the negotiation: its Child SA rekey takes a PPK too.
    let new_sa = current_sa(&pair.a_events).expect("sa");
    assert_ne!(new_sa, sa, "IKE SA rekeyed");
    rekey_child(&mut pair);

    assert_eq!(pair.assert_live_children_match(), 2);
    assert!(
        !live_children(&pair.a_events)
            .iter()
            .any(|c| c.inbound_spi == old)
    );
    let k = kme.borrow();
    assert_eq!(k.issued.len(), 6, "one key per exchange: {:?}", k.issued);
    assert!(k.keys.is_empty(), "the responder took every key once");
    let mut distinct = k.issued.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 6);
    let a = asked(&pair.a_events);
    assert_eq!(a[0], PpkExchange::Initial);
    assert!(matches!(a[1], PpkExchange::RekeyChild { inbound_spi } if inbound_spi == old));
    assert_eq!(a[3], PpkExchange::NewChild);
    assert_eq!(a[4], PpkExchange::RekeyIke);
    assert_eq!(asked(&pair.b_events).len(), 6);
    assert_eq!(pair.a.stats().child_ppk_failures, 0);
    assert!(pair.a_error().is_none() && pair.b_error().is_none());
}

#[test]
fn a_ppk_that_does_not_match_creates_no_sa_and_keeps_the_old_one() {
    let kme = Kme::shared();
    let mut pair = established(true, &kme);
    kme.borrow_mut().corrupt_responder = true;
    let (sa, old) = first_rekey_attempt(&mut pair);
    assert_eq!(pair.b.stats().child_ppk_failures, 1);
    assert_eq!(live_children(&pair.a_events).len(), 1);
    assert_eq!(
        first_child(&pair),
        old,
        "the old Child SA still carries traffic"
    );
    assert_eq!(pair.assert_live_children_match(), 1);
    assert!(pair.a_error().is_none() && pair.b_error().is_none());
    assert!(pair.a.has_sa(sa) && pair.b.sa_count() == 1);
    // The rekey is retried later with a fresh key.
    kme.borrow_mut().corrupt_responder = false;
    pair.drive(4000);
    assert!(
        !live_children(&pair.a_events)
            .iter()
            .any(|c| c.inbound_spi == old),
        "the retried rekey replaced the old Child SA"
    );
    assert_eq!(pair.assert_live_children_match(), 1);
}

#[test]
fn initiator_key_source_down_at_rekey_fails_closed_and_retries() {
    let kme = Kme::shared();
    let mut pair = established(true, &kme);
    kme.borrow_mut().initiator_down = true;
    let (_, old) = first_rekey_attempt(&mut pair);
    assert_eq!(pair.a.stats().child_ppk_failures, 1);
    assert_eq!(first_child(&pair), old, "no rekey without the key");
    assert_eq!(pair.assert_live_children_match(), 1);
    assert_eq!(kme.borrow().issued.len(), 1, "only the initial key");
    kme.borrow_mut().initiator_down = false;
    pair.drive(4000);
    assert_ne!(first_child(&pair), old, "retried once the KME answered");
    assert_eq!(pair.assert_live_children_match(), 1);
    assert_eq!(kme.borrow().issued.len(), 2);
}

#[test]
fn responder_key_source_down_answers_temporary_failure() {
    let kme = Kme::shared();
    let mut pair = established(true, &kme);
    kme.borrow_mut().responder_down = true;
    let (_, old) = first_rekey_attempt(&mut pair);
    assert_eq!(pair.b.stats().child_ppk_failures, 1);
    assert_eq!(first_child(&pair), old);
    assert_eq!(pair.assert_live_children_match(), 1);
    assert!(pair.a_error().is_none() && pair.b_error().is_none());
}

#[test]
fn an_optional_ppk_lets_the_rekey_continue_without_it() {
    let kme = Kme::shared();
    let mut pair = established(false, &kme);
    let old = first_child(&pair);
    kme.borrow_mut().initiator_down = true;
    rekey_child(&mut pair);
    assert_ne!(first_child(&pair), old, "rekeyed without a fresh PPK");
    assert_eq!(pair.assert_live_children_match(), 1);
    assert_eq!(pair.a.stats().child_ppk_failures, 0);
    // The responder's key source fails too: still rekeyed, still matching keys.
    kme.borrow_mut().initiator_down = false;
    kme.borrow_mut().responder_down = true;
    let before = first_child(&pair);
    rekey_child(&mut pair);
    assert_ne!(first_child(&pair), before);
    assert_eq!(pair.assert_live_children_match(), 1);
}

#[test]
fn the_responder_rekeying_takes_a_ppk_the_other_way() {
    let kme = Kme::shared();
    let mut pair = established(true, &kme);
    let sa_b = current_sa(&pair.b_events).expect("sa");
    let old_b = live_children(&pair.b_events)[0].inbound_spi;
    // B now fetches fresh keys (enc_keys) and A looks them up (dec_keys).
    pair.key_source = Some(Kme::source_swapped(&kme));
    let now = pair.now;
    pair.b
        .rekey_child(now, sa_b, old_b)
        .expect("the engine takes the command");
    pair.drive(2000);
    assert!(
        !live_children(&pair.b_events)
            .iter()
            .any(|c| c.inbound_spi == old_b)
    );
    assert_eq!(pair.assert_live_children_match(), 1);
    assert!(matches!(
        asked(&pair.b_events).last(),
        Some(PpkExchange::RekeyChild { .. })
    ));
    assert!(kme.borrow().keys.is_empty());
}

#[test]
fn a_peer_without_use_ppk_int_rekeys_without_asking_for_keys() {
    let kme = Kme::shared();
    let mut pair = pair_with(
        qkd(true, PpkMode::Rfc9867),
        qkd(true, PpkMode::Rfc8784),
        &kme,
    );
    let old = rekey_child(&mut pair);
    assert_ne!(first_child(&pair), old);
    assert_eq!(pair.assert_live_children_match(), 1);
    assert_eq!(asked(&pair.a_events), vec![PpkExchange::Initial]);
    assert_eq!(
        kme.borrow().issued.len(),
        1,
        "RFC 8784 keys only the initial SA"
    );
}

#[test]
fn a_static_ppk_is_mixed_into_every_rekey_too() {
    let fixed = || {
        let mut c = PpkConfig::fixed(b"site-ppk", SecretBytes::new(vec![9; 32]), true);
        c.mode = PpkMode::Rfc9867;
        c
    };
    let mut pair = Scenario::psk(PSK, HYBRID, ESP_PFS)
        .both(|c| c.ppk = Some(fixed()))
        .run(1000);
    let old = rekey_child(&mut pair);
    assert_ne!(first_child(&pair), old);
    assert_eq!(pair.assert_live_children_match(), 1);
    let sa = current_sa(&pair.a_events).expect("sa");
    let now = pair.now;
    pair.a
        .rekey_ike(now, sa)
        .expect("the engine takes the command");
    pair.drive(1000);
    assert_ne!(current_sa(&pair.a_events), Some(sa));
    assert_eq!(pair.assert_live_children_match(), 1);
    assert!(asked(&pair.a_events).is_empty());
}

#[test]
fn a_responder_that_skips_a_required_ppk_gets_its_new_child_sa_deleted() {
    let kme = Kme::shared();
    // A requires the PPK; B would go on without one.
    let mut pair = pair_with(
        qkd(true, PpkMode::Rfc9867),
        qkd(false, PpkMode::Rfc9867),
        &kme,
    );
    kme.borrow_mut().responder_down = true;
    let (_, old) = first_rekey_attempt(&mut pair);
    assert_eq!(pair.a.stats().child_ppk_failures, 1);
    assert_eq!(first_child(&pair), old, "the old Child SA stays");
    assert_eq!(
        pair.assert_live_children_match(),
        1,
        "the SA B made without the PPK is gone on both sides"
    );
    kme.borrow_mut().responder_down = false;
    pair.drive(4000);
    assert_ne!(
        first_child(&pair),
        old,
        "the retry with a working KME rekeys"
    );
    assert_eq!(pair.assert_live_children_match(), 1);
}

#[test]
fn an_ike_rekey_without_a_required_ppk_closes_the_ike_sa() {
    let kme = Kme::shared();
    let mut pair = pair_with(
        qkd(true, PpkMode::Rfc9867),
        qkd(false, PpkMode::Rfc9867),
        &kme,
    );
    kme.borrow_mut().responder_down = true;
    let sa = current_sa(&pair.a_events).expect("sa");
    let now = pair.now;
    pair.a
        .rekey_ike(now, sa)
        .expect("the engine takes the command");
    pair.drive(2000);
    assert_eq!(pair.a.stats().child_ppk_failures, 1);
    assert_eq!(
        pair.a.sa_count(),
        0,
        "fail closed: no IKE SA keyed without the PPK"
    );
    assert_eq!(pair.b.sa_count(), 0);
    assert!(live_children(&pair.a_events).is_empty());
    assert!(live_children(&pair.b_events).is_empty());
}
