//! Initial exchanges between two in-memory endpoints (RFC 7296 §1.2, RFC 9242, RFC 9370,
//! RFC 7383, RFC 8784).

mod sim;

use std::sync::Arc;

use ikev2::wire::{ExchangeType, Header, NotifyType};
use ikev2::{EndpointConfig, Error, PpkConfig};
use ipsec_crypto::SecretBytes;
use sim::{Pair, conn, default_provider, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

fn pair_with(ike_i: &str, ike_r: &str) -> (Pair, Arc<ikev2::ConnectionConfig>) {
    let p = default_provider();
    let r = conn("responder", PSK, ike_r, "aes256gcm16");
    let pair = Pair::new(EndpointConfig::default(), p, responder(r), p);
    (pair, Arc::new(conn("initiator", PSK, ike_i, "aes256gcm16")))
}

fn run(ike_i: &str, ike_r: &str) -> Pair {
    let (mut pair, c) = pair_with(ike_i, ike_r);
    pair.connect(c);
    pair.drive(1000);
    pair
}

/// Request exchanges in order, one entry per request (fragments and retransmits counted once).
fn exchanges(pair: &Pair) -> Vec<ExchangeType> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for h in pair
        .wire
        .iter()
        .filter_map(|s| Header::parse(&s.data).ok())
        .filter(|h| !h.flags.is_response())
    {
        let key = (h.spi_i, h.message_id, h.exchange);
        if !seen.contains(&key) {
            seen.push(key);
            out.push(h.exchange);
        }
    }
    out
}

#[test]
fn classic_x25519_establishes_with_matching_child_keys() {
    let pair = run(
        "aes256gcm16-prfsha256-x25519",
        "aes256gcm16-prfsha256-x25519",
    );
    let a = pair.a_established().expect("initiator up");
    let b = pair.b_established().expect("responder up");
    assert_eq!(a.proposal, "aes256gcm16-prfsha256-x25519");
    assert_eq!(b.proposal, a.proposal);
    assert_eq!(a.intermediate_exchanges, 0);
    assert_eq!(
        exchanges(&pair),
        vec![ExchangeType::IKE_SA_INIT, ExchangeType::IKE_AUTH]
    );
    pair.assert_child_keys_match();
}

#[test]
fn hybrid_x25519_mlkem768_runs_one_intermediate() {
    let pair = run(HYBRID, HYBRID);
    let a = pair.a_established().expect("initiator up");
    assert_eq!(a.proposal, HYBRID);
    assert_eq!(a.intermediate_exchanges, 1);
    assert_eq!(
        exchanges(&pair),
        vec![
            ExchangeType::IKE_SA_INIT,
            ExchangeType::IKE_INTERMEDIATE,
            ExchangeType::IKE_AUTH
        ]
    );
    pair.assert_child_keys_match();
}

#[test]
fn two_additional_exchanges_mlkem1024_then_mlkem768() {
    let ike = "aes256gcm16-prfsha512-ecp384-ke1_mlkem1024-ke2_mlkem768";
    let pair = run(ike, ike);
    assert_eq!(pair.a_established().expect("up").intermediate_exchanges, 2);
    assert_eq!(pair.b_established().expect("up").intermediate_exchanges, 2);
    pair.assert_child_keys_match();
}

#[test]
fn pq_only_mlkem768_in_ike_sa_init() {
    let ike = "aes256gcm16-prfsha384-mlkem768";
    let pair = run(ike, ike);
    assert_eq!(pair.a_established().expect("up").proposal, ike);
    pair.assert_child_keys_match();
}

#[test]
fn chacha20poly1305_and_cbc_suites() {
    for ike in [
        "chacha20poly1305-prfsha256-x25519-ke1_mlkem512",
        "aes128-sha256-modp2048",
    ] {
        let pair = run(ike, ike);
        assert!(
            pair.a_established().is_some(),
            "{ike}: {:?}",
            pair.a_error()
        );
        pair.assert_child_keys_match();
    }
}

#[test]
fn mlkem1024_over_a_576_byte_mtu_fragments_intermediate_and_auth() {
    let ike = "aes256gcm16-prfsha384-x25519-ke1_mlkem1024";
    let p = default_provider();
    let mut r = conn("responder", PSK, ike, "aes256gcm16");
    let mut i = conn("initiator", PSK, ike, "aes256gcm16");
    // 576-byte IPv4 datagrams: minus 20 octets of IP and 8 of UDP.
    r.fragment_size = Some(548);
    i.fragment_size = Some(548);
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(r), p);
    pair.mtu = 548;
    pair.connect(Arc::new(i));
    pair.drive(2000);
    assert!(
        pair.a_established().is_some(),
        "{:?} / {:?}",
        pair.a_error(),
        pair.b_error()
    );
    pair.assert_child_keys_match();
    let fragments = pair
        .wire
        .iter()
        .filter_map(|s| Header::parse(&s.data).ok())
        .filter(|h| h.next_payload.0 == 53)
        .count();
    assert!(
        fragments >= 6,
        "expected several SKF datagrams each way, saw {fragments}"
    );
    assert!(pair.wire.iter().all(|s| {
        s.data.len() <= 548
            || Header::parse(&s.data)
                .map(|h| h.exchange == ExchangeType::IKE_SA_INIT)
                .unwrap_or(false)
    }));
}

#[test]
fn wrong_psk_fails_with_authentication_failed() {
    let p = default_provider();
    let r = conn(
        "responder",
        b"another secret entirely",
        HYBRID,
        "aes256gcm16",
    );
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(r), p);
    pair.connect(Arc::new(conn("initiator", PSK, HYBRID, "aes256gcm16")));
    pair.drive(1000);
    assert_eq!(
        pair.a_error(),
        Some(&Error::PeerError(NotifyType::AUTHENTICATION_FAILED))
    );
    assert!(matches!(
        pair.b_error(),
        Some(Error::AuthenticationFailed(_))
    ));
    assert!(pair.a_established().is_none() && pair.b_established().is_none());
    assert_eq!(
        pair.a.sa_count() + pair.b.sa_count(),
        0,
        "failed SAs are removed"
    );
}

#[test]
fn no_common_proposal_gives_no_proposal_chosen() {
    let pair = run(
        "aes256gcm16-prfsha384-x25519",
        "aes128gcm16-prfsha256-ecp256",
    );
    assert_eq!(
        pair.a_error(),
        Some(&Error::PeerError(NotifyType::NO_PROPOSAL_CHOSEN))
    );
    assert_eq!(pair.b.sa_count(), 0, "responder keeps no state");
}

#[test]
fn invalid_ke_payload_then_success_with_the_requested_group() {
    let pair = run(
        "aes256gcm16-prfsha256-x25519-ecp256",
        "aes256gcm16-prfsha256-ecp256",
    );
    assert_eq!(
        pair.a_established().expect("up").proposal,
        "aes256gcm16-prfsha256-ecp256"
    );
    let inits = pair
        .wire
        .iter()
        .filter_map(|s| Header::parse(&s.data).ok())
        .filter(|h| h.exchange == ExchangeType::IKE_SA_INIT && !h.flags.is_response())
        .count();
    assert_eq!(inits, 2, "one retry after INVALID_KE_PAYLOAD");
    pair.assert_child_keys_match();
}

#[test]
fn cookie_is_required_above_the_threshold_and_the_initiator_retries() {
    let p = default_provider();
    let mut rc = responder(conn("responder", PSK, HYBRID, "aes256gcm16"));
    rc.cookie_threshold = 0;
    let mut pair = Pair::new(EndpointConfig::default(), p, rc, p);
    pair.connect(Arc::new(conn("initiator", PSK, HYBRID, "aes256gcm16")));
    pair.drive(1000);
    assert!(pair.a_established().is_some(), "{:?}", pair.a_error());
    assert_eq!(pair.b.stats().cookies_sent, 1);
    pair.assert_child_keys_match();
}

fn ppk(id: &[u8], key: &[u8], required: bool) -> Option<PpkConfig> {
    Some(PpkConfig::fixed(id, SecretBytes::from_slice(key), required))
}

fn run_ppk(i: Option<PpkConfig>, r: Option<PpkConfig>) -> Pair {
    let p = default_provider();
    let mut rc = conn("responder", PSK, HYBRID, "aes256gcm16");
    rc.ppk = r;
    let mut ic = conn("initiator", PSK, HYBRID, "aes256gcm16");
    ic.ppk = i;
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(rc), p);
    pair.connect(Arc::new(ic));
    pair.drive(1000);
    pair
}

#[test]
fn ppk_required_with_matching_keys_is_used() {
    let key = [7u8; 32];
    let pair = run_ppk(ppk(b"qkd-1", &key, true), ppk(b"qkd-1", &key, true));
    assert!(pair.a_established().expect("up").ppk_used);
    assert!(pair.b_established().expect("up").ppk_used);
    pair.assert_child_keys_match();
}

#[test]
fn runs_with_different_ppks_each_agree_on_their_keys() {
    let with = run_ppk(
        ppk(b"qkd-1", &[7u8; 32], true),
        ppk(b"qkd-1", &[7u8; 32], true),
    );
    let other = run_ppk(
        ppk(b"qkd-1", &[8u8; 32], true),
        ppk(b"qkd-1", &[8u8; 32], true),
    );
    // Different PPKs, same everything else: both work, keys are independent (nonces differ too,
    // so this checks only that each run is self-consistent).
    with.assert_child_keys_match();
    other.assert_child_keys_match();
}

#[test]
fn ppk_mismatching_keys_fail_authentication() {
    let pair = run_ppk(
        ppk(b"qkd-1", &[7u8; 32], true),
        ppk(b"qkd-1", &[9u8; 32], true),
    );
    assert_eq!(
        pair.a_error(),
        Some(&Error::PeerError(NotifyType::AUTHENTICATION_FAILED))
    );
    assert!(pair.b_error().is_some());
}

#[test]
fn ppk_optional_falls_back_with_no_ppk_auth() {
    // The responder has no PPK configured, so it does not answer USE_PPK; the initiator, whose
    // PPK is optional, authenticates without it.
    let pair = run_ppk(ppk(b"qkd-1", &[7u8; 32], false), None);
    assert!(!pair.a_established().expect("up").ppk_used);
    pair.assert_child_keys_match();
}

#[test]
fn ppk_optional_with_unknown_id_uses_no_ppk_auth() {
    // Both negotiate USE_PPK, but the responder knows a different PPK_ID: it must verify the
    // NO_PPK_AUTH value and both sides use the keys without the PPK.
    let pair = run_ppk(
        ppk(b"qkd-1", &[7u8; 32], false),
        ppk(b"other-id", &[7u8; 32], false),
    );
    assert!(!pair.a_established().expect("up").ppk_used);
    assert!(!pair.b_established().expect("up").ppk_used);
    pair.assert_child_keys_match();
}

#[test]
fn ppk_required_by_responder_but_missing_at_initiator_fails() {
    let pair = run_ppk(None, ppk(b"qkd-1", &[7u8; 32], true));
    assert_eq!(
        pair.a_error(),
        Some(&Error::PeerError(NotifyType::AUTHENTICATION_FAILED))
    );
}

#[test]
fn ppk_required_by_initiator_but_peer_without_ppk_fails_locally() {
    let pair = run_ppk(ppk(b"qkd-1", &[7u8; 32], true), None);
    assert!(matches!(
        pair.a_error(),
        Some(Error::AuthenticationFailed(_))
    ));
}

#[cfg(all(feature = "default-provider", feature = "rustcrypto"))]
#[test]
fn handshake_across_providers_in_both_directions() {
    let providers = [
        ipsec_crypto::default_provider(),
        ipsec_crypto::rustcrypto_provider(),
    ];
    for (pi, pr) in [(providers[0], providers[1]), (providers[1], providers[0])] {
        let r = conn("responder", PSK, HYBRID, "aes256gcm16");
        let mut pair = Pair::new(EndpointConfig::default(), pi, responder(r), pr);
        pair.connect(Arc::new(conn("initiator", PSK, HYBRID, "aes256gcm16")));
        pair.drive(1000);
        assert!(
            pair.a_established().is_some(),
            "{} -> {}",
            pi.name(),
            pr.name()
        );
        pair.assert_child_keys_match();
    }
}

#[test]
fn traffic_selectors_are_narrowed_to_the_responders_policy() {
    let p = default_provider();
    let mut r = conn("responder", PSK, HYBRID, "aes256gcm16");
    r.children[0].local_ts = vec![sim::subnet("10.2.3.0", "10.2.3.255")];
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(r), p);
    pair.connect(Arc::new(conn("initiator", PSK, HYBRID, "aes256gcm16")));
    pair.drive(1000);
    pair.assert_child_keys_match();
    assert_eq!(
        pair.a_children()[0].remote_ts,
        vec![sim::subnet("10.2.3.0", "10.2.3.255")]
    );
}

#[test]
fn esn_is_negotiated_when_both_allow_it() {
    let p = default_provider();
    let r = conn("responder", PSK, HYBRID, "aes256gcm16-esn");
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(r), p);
    pair.connect(Arc::new(conn(
        "initiator",
        PSK,
        HYBRID,
        "aes256gcm16-esn-noesn",
    )));
    pair.drive(1000);
    pair.assert_child_keys_match();
    assert!(pair.a_children()[0].suite.esn_enabled());
}

#[test]
fn mlkem_key_failing_the_modulus_check_gets_invalid_syntax() {
    use ikev2::wire::{Message, Payload};
    let ike = "aes256gcm16-prfsha384-mlkem768";
    let (mut pair, c) = pair_with(ike, ike);
    // Set the first 12-bit coefficient of the encapsulation key to 4095 >= q = 3329.
    pair.mutate = Some(Box::new(|from_a, data: &mut Vec<u8>| {
        let Ok(mut msg) = Message::parse(data) else {
            return;
        };
        if !from_a
            || msg.header.exchange != ExchangeType::IKE_SA_INIT
            || msg.header.flags.is_response()
        {
            return;
        }
        for p in &mut msg.payloads {
            if let Payload::Ke(k) = p {
                k.data[0] = 0xff;
                k.data[1] |= 0x0f;
            }
        }
        *data = msg.emit();
    }));
    pair.connect(c);
    pair.drive(1000);
    assert_eq!(
        pair.a_error(),
        Some(&Error::PeerError(NotifyType::INVALID_SYNTAX))
    );
    assert_eq!(pair.b.sa_count(), 0);
}

#[test]
fn responder_picks_the_connection_for_the_peer_address() {
    let p = default_provider();
    let mut other = conn(
        "responder",
        b"a psk for another peer entirely",
        HYBRID,
        "aes256gcm16",
    );
    other.remote_addrs = vec!["198.51.100.99".parse().expect("addr")];
    let mut ours = conn("responder", PSK, HYBRID, "aes256gcm16");
    ours.remote_addrs = vec!["192.0.2.1".parse().expect("addr")];
    let cfg = EndpointConfig {
        connections: vec![Arc::new(other), Arc::new(ours)],
        ..EndpointConfig::default()
    };
    let mut pair = Pair::new(EndpointConfig::default(), p, cfg, p);
    pair.connect(Arc::new(conn("initiator", PSK, HYBRID, "aes256gcm16")));
    pair.drive(1000);
    pair.assert_child_keys_match();
}

#[test]
fn reloaded_connections_apply_to_new_sas_and_keys_can_be_exported() {
    let p = default_provider();
    let mut rc = responder(conn(
        "responder",
        b"old secret that no longer matches",
        HYBRID,
        "aes256gcm16",
    ));
    rc.export_keys = true;
    let mut pair = Pair::new(EndpointConfig::default(), p, rc, p);
    pair.b.set_connections(vec![Arc::new(conn(
        "responder",
        PSK,
        HYBRID,
        "aes256gcm16",
    ))]);
    pair.connect(Arc::new(conn("initiator", PSK, HYBRID, "aes256gcm16")));
    pair.drive(1000);
    pair.assert_child_keys_match();
    let exported = pair
        .b_events
        .iter()
        .find_map(|e| {
            if let ikev2::Event::IkeSaKeys { keys, .. } = e {
                Some(keys)
            } else {
                None
            }
        })
        .expect("keys exported");
    assert_eq!(exported.sk_ei.len(), 36, "AES-256-GCM key and salt");
    assert!(
        pair.a_events
            .iter()
            .all(|e| !matches!(e, ikev2::Event::IkeSaKeys { .. })),
        "off by default"
    );
}
