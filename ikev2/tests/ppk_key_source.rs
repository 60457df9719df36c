//! PPKs from an external key source (QKD through ETSI GS QKD 014): the engine asks with
//! `PpkNeeded`, waits without blocking, and applies the fail-closed or fallback policy.

mod sim;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use ikev2::wire::{ExchangeType, Header, NotifyType};
use ikev2::{EndpointConfig, Error, Event, PpkConfig};
use ipsec_crypto::SecretBytes;
use sim::{Pair, PpkAnswer, conn, default_provider, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

/// A pair of KMEs in miniature: the initiator's fetch creates a key under a new ID, the
/// responder's fetch by ID returns the same bytes once.
#[derive(Default)]
struct Kme {
    keys: HashMap<Vec<u8>, Vec<u8>>,
    next: u8,
    corrupt_responder: bool,
}

fn pair(
    initiator: PpkConfig,
    responder_ppk: PpkConfig,
    kme: Rc<RefCell<Kme>>,
    delay: Duration,
    answer: bool,
) -> Pair {
    let p = default_provider();
    let mut r = conn("responder", PSK, HYBRID, "aes256gcm16");
    r.ppk = Some(responder_ppk);
    let mut i = conn("initiator", PSK, HYBRID, "aes256gcm16");
    i.ppk = Some(initiator);
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(r), p);
    pair.key_source = Some(Box::new(move |is_a, id| {
        if !answer {
            return None;
        }
        let mut k = kme.borrow_mut();
        let ppk = match (is_a, id) {
            (true, None) => {
                k.next += 1;
                let id = format!("5f9a2c1e-0000-4000-8000-0000000000{:02x}", k.next).into_bytes();
                let key = vec![k.next; 32];
                k.keys.insert(id.clone(), key.clone());
                Some((id, SecretBytes::new(key)))
            }
            (false, Some(id)) => {
                let corrupt = k.corrupt_responder;
                k.keys.remove(id).map(|mut key| {
                    if corrupt {
                        key[0] ^= 1;
                    }
                    (id.to_vec(), SecretBytes::new(key))
                })
            }
            _ => None,
        };
        Some(PpkAnswer { delay, ppk })
    }));
    pair.connect(Arc::new(i));
    pair.drive(2000);
    pair
}

fn external(required: bool) -> PpkConfig {
    PpkConfig::external(Duration::from_secs(10), required)
}

#[test]
fn ppk_from_the_key_source_on_both_sides() {
    let kme = Rc::new(RefCell::new(Kme::default()));
    let pair = pair(
        external(true),
        external(true),
        kme.clone(),
        Duration::from_millis(2),
        true,
    );
    assert!(pair.a_established().expect("up").ppk_used);
    assert!(pair.b_established().expect("up").ppk_used);
    pair.assert_child_keys_match();
    assert!(
        kme.borrow().keys.is_empty(),
        "the key was consumed exactly once"
    );
    let asks: Vec<_> = pair
        .a_events
        .iter()
        .chain(&pair.b_events)
        .filter(|e| matches!(e, Event::PpkNeeded { .. }))
        .collect();
    assert_eq!(asks.len(), 2);
}

#[test]
fn a_slow_key_source_delays_ike_auth_without_breaking_it() {
    // 3 s per fetch: longer than several retransmission intervals of IKE_AUTH.
    let kme = Rc::new(RefCell::new(Kme::default()));
    let pair = pair(
        external(true),
        external(true),
        kme,
        Duration::from_secs(3),
        true,
    );
    assert!(pair.a_established().expect("up").ppk_used);
    pair.assert_child_keys_match();
    assert_eq!(
        pair.b.stats().responses_resent,
        0,
        "the parked request is answered once"
    );
    let auth_requests = pair
        .wire
        .iter()
        .filter_map(|s| Header::parse(&s.data).ok())
        .filter(|h| h.exchange == ExchangeType::IKE_AUTH && !h.flags.is_response())
        .count();
    assert!(
        auth_requests > 1,
        "the initiator retransmitted while the responder fetched its key"
    );
}

#[test]
fn unknown_key_id_at_the_responder_fails_authentication() {
    let p = default_provider();
    let mut r = conn("responder", PSK, HYBRID, "aes256gcm16");
    r.ppk = Some(external(true));
    let mut i = conn("initiator", PSK, HYBRID, "aes256gcm16");
    i.ppk = Some(external(true));
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(r), p);
    // The initiator's KME hands out a key; the responder's KME does not know its ID.
    pair.key_source = Some(Box::new(|is_a, _| {
        let ppk = is_a.then(|| {
            (
                b"00000000-dead-4000-8000-000000000000".to_vec(),
                SecretBytes::new(vec![1; 32]),
            )
        });
        Some(PpkAnswer {
            delay: Duration::from_millis(1),
            ppk,
        })
    }));
    pair.connect(Arc::new(i));
    pair.drive(2000);
    assert_eq!(
        pair.a_error(),
        Some(&Error::PeerError(NotifyType::AUTHENTICATION_FAILED))
    );
    assert!(matches!(
        pair.b_error(),
        Some(Error::AuthenticationFailed(_))
    ));
}

#[test]
fn mismatching_keys_fail_authentication() {
    let kme = Rc::new(RefCell::new(Kme {
        corrupt_responder: true,
        ..Kme::default()
    }));
    let pair = pair(
        external(true),
        external(true),
        kme,
        Duration::from_millis(2),
        true,
    );
    assert_eq!(
        pair.a_error(),
        Some(&Error::PeerError(NotifyType::AUTHENTICATION_FAILED))
    );
}

#[test]
fn kme_down_fails_closed_by_default() {
    let pair = pair(
        external(true),
        external(true),
        Rc::new(RefCell::new(Kme::default())),
        Duration::ZERO,
        false,
    );
    assert!(
        matches!(pair.a_error(), Some(Error::AuthenticationFailed(_))),
        "{:?}",
        pair.a_error()
    );
    assert!(pair.a_established().is_none());
}

#[test]
fn kme_down_falls_back_to_pq_only_when_configured_so() {
    let pair = pair(
        external(false),
        external(false),
        Rc::new(RefCell::new(Kme::default())),
        Duration::ZERO,
        false,
    );
    let a = pair.a_established().expect("up without the PPK");
    assert!(!a.ppk_used);
    assert_eq!(a.proposal, HYBRID, "still protected by ML-KEM");
    pair.assert_child_keys_match();
}
