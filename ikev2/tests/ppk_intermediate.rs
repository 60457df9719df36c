//! RFC 9867: the PPK mixed in the last IKE_INTERMEDIATE (USE_PPK_INT, PPK_IDENTITY_KEY with
//! its confirmation), so the whole initial IKE SA is PPK-protected; fallback to RFC 8784.

mod sim;

use std::sync::Arc;

use ikev2::wire::{ExchangeType, Header, NotifyType};
use ikev2::{EndpointConfig, Error, PpkConfig, PpkMode};
use ipsec_crypto::SecretBytes;
use sim::{Pair, conn, default_provider, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";

fn ppk(key: u8, required: bool, mode: PpkMode) -> Option<PpkConfig> {
    let mut p = PpkConfig::fixed(b"qkd-key-1", SecretBytes::new(vec![key; 32]), required);
    p.mode = mode;
    Some(p)
}

fn run(ike: &str, i: Option<PpkConfig>, r: Option<PpkConfig>) -> Pair {
    let p = default_provider();
    let mut rc = conn("responder", PSK, ike, "aes256gcm16");
    rc.ppk = r;
    let mut ic = conn("initiator", PSK, ike, "aes256gcm16");
    ic.ppk = i;
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(rc), p);
    pair.connect(Arc::new(ic));
    pair.drive(1000);
    pair
}

fn requests(pair: &Pair, ex: ExchangeType) -> usize {
    let mut seen = std::collections::HashSet::new();
    pair.wire
        .iter()
        .filter_map(|s| Header::parse(&s.data).ok())
        .filter(|h| h.exchange == ex && !h.flags.is_response() && seen.insert(h.message_id))
        .count()
}

#[test]
fn ppk_in_the_intermediate_exchange_of_an_addke() {
    let ike = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
    let pair = run(
        ike,
        ppk(7, true, PpkMode::Rfc9867),
        ppk(7, true, PpkMode::Rfc9867),
    );
    assert!(pair.a_established().expect("up").ppk_used);
    assert!(pair.b_established().expect("up").ppk_used);
    assert_eq!(
        requests(&pair, ExchangeType::IKE_INTERMEDIATE),
        1,
        "the PPK rides in the ADDKE exchange"
    );
    pair.assert_child_keys_match();
}

#[test]
fn ppk_gets_its_own_intermediate_exchange_without_addke() {
    let pair = run(
        "aes256gcm16-prfsha384-x25519",
        ppk(7, true, PpkMode::Rfc9867),
        ppk(7, true, PpkMode::Rfc9867),
    );
    assert!(pair.a_established().expect("up").ppk_used);
    assert_eq!(pair.a_established().expect("up").intermediate_exchanges, 1);
    pair.assert_child_keys_match();
}

#[test]
fn rfc9867_and_rfc8784_each_agree_and_only_rfc9867_adds_an_exchange() {
    let ike = "aes256gcm16-prfsha384-x25519";
    let a = run(
        ike,
        ppk(7, true, PpkMode::Rfc9867),
        ppk(7, true, PpkMode::Rfc9867),
    );
    let b = run(
        ike,
        ppk(7, true, PpkMode::Rfc8784),
        ppk(7, true, PpkMode::Rfc8784),
    );
    a.assert_child_keys_match();
    b.assert_child_keys_match();
    assert_eq!(
        b.a_established().expect("up").intermediate_exchanges,
        0,
        "RFC 8784 needs no IKE_INTERMEDIATE"
    );
}

#[test]
fn a_wrong_ppk_fails_at_the_confirmation() {
    let ike = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
    let pair = run(
        ike,
        ppk(7, true, PpkMode::Rfc9867),
        ppk(8, true, PpkMode::Rfc9867),
    );
    assert_eq!(
        pair.a_error(),
        Some(&Error::PeerError(NotifyType::AUTHENTICATION_FAILED))
    );
    assert_eq!(
        requests(&pair, ExchangeType::IKE_AUTH),
        0,
        "rejected before IKE_AUTH: identities never sent"
    );
}

#[test]
fn optional_ppk_with_a_wrong_key_continues_without_it() {
    let ike = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
    let pair = run(
        ike,
        ppk(7, false, PpkMode::Rfc9867),
        ppk(8, false, PpkMode::Rfc9867),
    );
    assert!(!pair.a_established().expect("up").ppk_used);
    pair.assert_child_keys_match();
}

#[test]
fn falls_back_to_rfc8784_with_a_peer_that_only_knows_it() {
    let ike = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
    let pair = run(
        ike,
        ppk(7, true, PpkMode::Rfc9867),
        ppk(7, true, PpkMode::Rfc8784),
    );
    assert!(pair.a_established().expect("up").ppk_used);
    assert!(pair.b_established().expect("up").ppk_used);
    assert_eq!(
        requests(&pair, ExchangeType::IKE_INTERMEDIATE),
        1,
        "only the ADDKE exchange"
    );
    pair.assert_child_keys_match();
}
