//! Loss, duplication, reordering, retransmission (RFC 7296 §2.1, RFC 7383 §2.6.1) and hostile
//! input against established SAs.

mod sim;

use std::sync::Arc;
use std::time::Duration;

use ikev2::wire::{ExchangeType, Header};
use ikev2::{EndpointConfig, Error};
use sim::{Fate, Pair, conn, default_provider, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

fn pair() -> (Pair, Arc<ikev2::ConnectionConfig>) {
    let p = default_provider();
    let pair = Pair::new(
        EndpointConfig::default(),
        p,
        responder(conn("responder", PSK, HYBRID, "aes256gcm16")),
        p,
    );
    (
        pair,
        Arc::new(conn("initiator", PSK, HYBRID, "aes256gcm16")),
    )
}

fn exchange_of(data: &[u8]) -> Option<(ExchangeType, bool)> {
    Header::parse(data)
        .ok()
        .map(|h| (h.exchange, h.flags.is_response()))
}

/// Drops the first datagram matching `exchange`/`response`.
fn drop_first(exchange: ExchangeType, response: bool) -> sim::Policy {
    let mut done = false;
    Box::new(move |s| {
        if !done && exchange_of(&s.data) == Some((exchange, response)) {
            done = true;
            return Fate::Drop;
        }
        Fate::Deliver
    })
}

#[test]
fn initiator_retransmits_a_lost_request_in_every_exchange() {
    for ex in [
        ExchangeType::IKE_SA_INIT,
        ExchangeType::IKE_INTERMEDIATE,
        ExchangeType::IKE_AUTH,
    ] {
        let (mut pair, c) = pair();
        pair.policy = drop_first(ex, false);
        pair.connect(c);
        pair.drive(1000);
        assert!(
            pair.a_established().is_some(),
            "{ex:?}: {:?}",
            pair.a_error()
        );
        assert!(pair.a.stats().retransmits >= 1, "{ex:?}");
        pair.assert_child_keys_match();
    }
}

#[test]
fn responder_resends_cached_response_on_duplicate_request() {
    for ex in [
        ExchangeType::IKE_SA_INIT,
        ExchangeType::IKE_INTERMEDIATE,
        ExchangeType::IKE_AUTH,
    ] {
        let (mut pair, c) = pair();
        pair.policy = drop_first(ex, true);
        pair.connect(c);
        pair.drive(1000);
        assert!(
            pair.a_established().is_some(),
            "{ex:?}: {:?}",
            pair.a_error()
        );
        assert_eq!(pair.b.stats().responses_resent, 1, "{ex:?}");
        pair.assert_child_keys_match();
    }
}

#[test]
fn duplicated_and_reordered_datagrams_do_not_disturb_the_handshake() {
    let (mut pair, c) = pair();
    let mut n = 0;
    pair.policy = Box::new(move |_| {
        n += 1;
        match n % 3 {
            0 => Fate::Duplicate,
            1 => Fate::Delay(Duration::from_millis(3)),
            _ => Fate::Deliver,
        }
    });
    pair.connect(c);
    pair.drive(1000);
    assert!(pair.a_established().is_some(), "{:?}", pair.a_error());
    pair.assert_child_keys_match();
}

/// ML-KEM-1024 with a small fragment size: every protected message is several fragments.
fn fragmenting_pair(size: usize) -> (Pair, ikev2::ConnectionConfig) {
    let p = default_provider();
    let ike = "aes256gcm16-prfsha384-x25519-ke1_mlkem1024";
    let mut r = conn("responder", PSK, ike, "aes256gcm16");
    let mut i = conn("initiator", PSK, ike, "aes256gcm16");
    r.fragment_size = Some(size);
    i.fragment_size = Some(size);
    (Pair::new(EndpointConfig::default(), p, responder(r), p), i)
}

#[test]
fn fragmented_request_lost_fragment_is_recovered_by_retransmission() {
    let (mut pair, i) = fragmenting_pair(400);
    // Drop the second datagram of the first IKE_INTERMEDIATE request (a non-first fragment).
    let mut seen = 0;
    pair.policy = Box::new(move |s| {
        if exchange_of(&s.data) == Some((ExchangeType::IKE_INTERMEDIATE, false)) {
            seen += 1;
            if seen == 2 {
                return Fate::Drop;
            }
        }
        Fate::Deliver
    });
    pair.connect(Arc::new(i));
    pair.drive(2000);
    assert!(pair.a_established().is_some(), "{:?}", pair.a_error());
    pair.assert_child_keys_match();
}

#[test]
fn fragmented_response_is_resent_only_on_first_fragment() {
    let (mut pair, i) = fragmenting_pair(400);
    // Lose the whole first IKE_INTERMEDIATE response (every fragment of it).
    let mut first_mid = None;
    pair.policy = Box::new(move |s| {
        let Ok(h) = Header::parse(&s.data) else {
            return Fate::Deliver;
        };
        if h.exchange == ExchangeType::IKE_INTERMEDIATE && h.flags.is_response() && s.index < 40 {
            if first_mid.is_none() {
                first_mid = Some(h.message_id);
            }
            if first_mid == Some(h.message_id) && s.index < 12 {
                return Fate::Drop;
            }
        }
        Fate::Deliver
    });
    pair.connect(Arc::new(i));
    pair.drive(2000);
    assert!(pair.a_established().is_some(), "{:?}", pair.a_error());
    // The retransmitted request has several fragments; the response went out again once.
    assert_eq!(pair.b.stats().responses_resent, 1);
}

#[test]
fn initiator_gives_up_after_the_retransmit_budget() {
    let (mut pair, c) = pair();
    pair.policy = Box::new(|s| if s.from_a { Fate::Drop } else { Fate::Deliver });
    let budget = c.retransmit.max_retransmits;
    pair.connect(c);
    let start = pair.now;
    pair.drive(1000);
    assert_eq!(pair.a_error(), Some(&Error::Timeout));
    assert_eq!(pair.a.stats().retransmits, u64::from(budget));
    assert_eq!(pair.a.sa_count(), 0);
    assert!(
        pair.now - start >= Duration::from_secs(10),
        "exponential backoff takes time"
    );
}

#[test]
fn responder_forgets_half_open_sas() {
    let (mut pair, c) = pair();
    // Only IKE_SA_INIT gets through; everything after is lost.
    pair.policy = Box::new(|s| {
        if exchange_of(&s.data).is_some_and(|(e, _)| e == ExchangeType::IKE_SA_INIT) {
            Fate::Deliver
        } else {
            Fate::Drop
        }
    });
    pair.connect(c);
    pair.drive(1000);
    assert_eq!(pair.b.sa_count(), 0, "half-open SA expired");
    assert_eq!(pair.b_error(), Some(&Error::Timeout));
}

#[test]
fn garbage_truncated_and_replayed_datagrams_never_change_an_established_sa() {
    let (mut pair, c) = pair();
    pair.connect(c);
    pair.drive(1000);
    pair.assert_child_keys_match();
    let before_a = pair.a.stats().clone();
    let recorded: Vec<(bool, Vec<u8>)> = pair
        .wire
        .iter()
        .map(|s| (s.from_a, s.data.clone()))
        .collect();
    let mut x: u32 = 0x1234_5678;
    for (from_a, data) in &recorded {
        // Replays of every datagram, every truncation, and single bit flips.
        pair.inject(*from_a, data);
        for cut in 0..data.len() {
            pair.inject(*from_a, &data[..cut]);
        }
        for _ in 0..64 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let mut d = data.clone();
            let pos = (x as usize >> 8) % d.len();
            d[pos] ^= 1 << (x % 8);
            pair.inject(*from_a, &d);
        }
    }
    for len in [0, 1, 27, 28, 29, 100, 1500] {
        let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
        pair.inject(true, &junk);
        pair.inject(false, &junk);
    }
    pair.drive(1000);
    // Bit-flipped IKE_SA_INIT requests are new requests and may create (and expire) half-open
    // SAs; the established SA itself must see no failure and no close.
    let ids = [
        sim::current_sa(&pair.a_events).expect("a"),
        sim::current_sa(&pair.b_events).expect("b"),
    ];
    let touched = pair.a_events.iter().chain(&pair.b_events).any(|e| match e {
        ikev2::Event::IkeSaFailed { sa, .. } | ikev2::Event::IkeSaClosed { sa, .. } => {
            ids.contains(sa)
        }
        _ => false,
    });
    assert!(!touched, "the established SA was disturbed");
    assert!(pair.a.has_sa(ids[0]) && pair.b.has_sa(ids[1]));
    assert_eq!(pair.a_children().len(), 1);
    assert_eq!(pair.b_children().len(), 1);
    assert!(
        pair.a.stats().dropped_malformed
            + pair.a.stats().dropped_integrity
            + pair.a.stats().dropped_unexpected
            > before_a.dropped_malformed
    );
}
