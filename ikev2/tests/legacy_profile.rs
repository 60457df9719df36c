//! The legacy profile of free5GC's UE: IKE `aes256-sha1-modp2048` (AES-CBC-256, HMAC-SHA1-96,
//! PRF-HMAC-SHA1, MODP-2048) and ESP `aes256-sha1` without ESN. A responder that lists it next
//! to its hybrid post-quantum proposal establishes with such a UE; one that does not list it
//! answers NO_PROPOSAL_CHOSEN. SHA-1 is never chosen unless configured.

mod sim;

use std::sync::Arc;

use ikev2::wire::{IntegId, NotifyType, PrfId};
use ikev2::{ConnectionConfig, EndpointConfig, Error, Event, ProposalSpec};
use ipsec_crypto::{CbcAlgorithm, IntegAlgorithm};
use sim::{Pair, conn, default_provider, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
/// What free5GC's UE offers: one IKE proposal and one ESP proposal.
const UE_IKE: &str = "aes256-sha1-prfsha1-modp2048";
const UE_ESP: &str = "aes256-sha1";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

/// A responder with the hybrid proposal first and, when `legacy`, the UE's profile listed too.
fn gateway(legacy: bool) -> ConnectionConfig {
    let mut c = conn("responder", PSK, HYBRID, "aes256gcm16");
    if legacy {
        c.ike_proposals
            .push(ProposalSpec::parse_ike("aes256-sha1-modp2048").expect("legacy IKE"));
        c.children[0]
            .esp_proposals
            .push(ProposalSpec::parse_esp(UE_ESP).expect("legacy ESP"));
    }
    c
}

fn run(gateway: ConnectionConfig) -> Pair {
    let p = default_provider();
    let mut cfg = responder(gateway);
    cfg.export_keys = true;
    let mut pair = Pair::new(EndpointConfig::default(), p, cfg, p);
    pair.connect(Arc::new(conn("initiator", PSK, UE_IKE, UE_ESP)));
    pair.drive(1000);
    pair
}

#[test]
fn a_ue_offering_only_the_legacy_profile_establishes_with_a_gateway_that_lists_it() {
    let pair = run(gateway(true));
    pair.assert_up();
    for info in [pair.a_established(), pair.b_established()] {
        assert_eq!(info.expect("established").proposal, UE_IKE);
    }
    let (a, b) = (&pair.a_children()[0], &pair.b_children()[0]);
    assert_eq!(a.suite.to_string(), UE_ESP);
    assert_eq!(
        b.suite.cbc(),
        Some((CbcAlgorithm::Aes256Cbc, IntegAlgorithm::HmacSha1_96))
    );
    assert!(!b.suite.esn_enabled());
    // KEYMAT per direction: the AES-256 key, then the 20-octet HMAC-SHA1-96 key (RFC 2404 §3).
    assert_eq!(b.inbound_keys.len(), 32 + 20);

    let keys = pair
        .b_events
        .iter()
        .find_map(|e| match e {
            Event::IkeSaKeys { keys, .. } => Some(keys),
            _ => None,
        })
        .expect("keys exported");
    assert_eq!(keys.proposal, UE_IKE);
    assert_eq!((keys.sk_ei.len(), keys.sk_er.len()), (32, 32));
    assert_eq!((keys.sk_ai.len(), keys.sk_ar.len()), (20, 20), "SK_a");
    assert!(!keys.sk_ai.ct_eq(keys.sk_ar.expose()));
}

#[test]
fn a_gateway_without_the_legacy_profile_answers_no_proposal_chosen() {
    let pair = run(gateway(false));
    assert_eq!(
        pair.a_error(),
        Some(&Error::PeerError(NotifyType::NO_PROPOSAL_CHOSEN))
    );
    assert_eq!(pair.b.stats().init_no_proposal_chosen, 1);
    assert_eq!(pair.b.sa_count(), 0, "the responder keeps no state");
    let reason = pair
        .b_events
        .iter()
        .find_map(|e| match e {
            Event::Rejected { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
        .expect("rejection reported");
    assert!(
        reason.contains("offered aes256-prfsha1-sha1-modp2048"),
        "{reason}"
    );
}

#[test]
fn a_gateway_offering_both_keeps_the_hybrid_suite_for_a_modern_peer() {
    let p = default_provider();
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(gateway(true)), p);
    let mut modern = conn("initiator", PSK, HYBRID, "aes256gcm16");
    // The modern peer accepts SHA-1 too, last: the gateway must not pick it.
    modern
        .ike_proposals
        .push(ProposalSpec::parse_ike(UE_IKE).expect("legacy"));
    pair.connect(Arc::new(modern));
    pair.drive(1000);
    pair.assert_up();
    let proposal = &pair.b_established().expect("established").proposal;
    assert_eq!(proposal, HYBRID);
    let suite = &pair.b_children()[0].suite;
    assert!(suite.aead().is_some(), "{suite}");
    assert!(
        suite.integ != Some(IntegId::HMAC_SHA1_96) && suite.prf != Some(PrfId::HMAC_SHA1),
        "{suite}"
    );
}
