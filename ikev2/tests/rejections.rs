//! Refused IKE_SA_INIT requests (NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD, COOKIE) and failed
//! IKE_AUTH exchanges are counted in `Stats` and reported as `Event::Rejected` with the peer,
//! the connection when known and a short reason (offered vs configured for a mismatch).

mod sim;

use std::sync::Arc;

use ikev2::wire::ExchangeType;
use ikev2::{EndpointConfig, Event};
use sim::{Pair, conn, default_provider, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";

fn pair_with(r_ike: &str, i_ike: &str, i_psk: &[u8], tune: impl Fn(&mut EndpointConfig)) -> Pair {
    let p = default_provider();
    let mut b = responder(conn("responder", PSK, r_ike, "aes256gcm16"));
    tune(&mut b);
    let mut pair = Pair::new(EndpointConfig::default(), p, b, p);
    pair.connect(Arc::new(conn("initiator", i_psk, i_ike, "aes256gcm16")));
    pair.drive(1000);
    pair
}

/// The `Rejected` events of one side: (exchange, connection, reason).
fn rejected(events: &[Event]) -> Vec<(ExchangeType, Option<String>, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Rejected {
                exchange,
                connection,
                reason,
                ..
            } => Some((*exchange, connection.clone(), reason.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn no_proposal_chosen_is_counted_and_says_offered_and_configured() {
    let pair = pair_with(
        "aes256gcm16-prfsha384-x25519",
        "aes128gcm16-prfsha256-ecp256",
        PSK,
        |_| {},
    );
    assert!(pair.a_established().is_none());
    assert_eq!(pair.b.stats().init_no_proposal_chosen, 1);
    assert_eq!(pair.b.sa_count(), 0);
    let r = rejected(&pair.b_events);
    assert_eq!(r.len(), 1, "{r:?}");
    let (ex, connection, reason) = &r[0];
    assert_eq!(*ex, ExchangeType::IKE_SA_INIT);
    assert_eq!(connection.as_deref(), Some("test"), "the only candidate");
    assert!(
        reason.contains("offered aes128gcm16-prfsha256-ecp256")
            && reason.contains("configured test: aes256gcm16-prfsha384-x25519"),
        "{reason}"
    );
}

#[test]
fn invalid_ke_payload_is_counted_and_the_retry_succeeds() {
    let pair = pair_with(
        "aes256gcm16-prfsha384-ecp256",
        "aes256gcm16-prfsha384-x25519-ecp256",
        PSK,
        |_| {},
    );
    assert!(pair.a_established().is_some(), "{:?}", pair.a_error());
    assert_eq!(pair.b.stats().init_invalid_ke, 1);
    assert_eq!(pair.b.stats().init_no_proposal_chosen, 0);
    let r = rejected(&pair.b_events);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].1.as_deref(), Some("test"));
    assert!(r[0].2.contains("KE x25519 sent"), "{}", r[0].2);
}

#[test]
fn cookie_demand_is_counted_and_reported() {
    let pair = pair_with(
        "aes256gcm16-prfsha384-x25519",
        "aes256gcm16-prfsha384-x25519",
        PSK,
        |c| c.cookie_threshold = 0,
    );
    assert!(pair.a_established().is_some(), "{:?}", pair.a_error());
    assert_eq!(pair.b.stats().cookies_sent, 1);
    let r = rejected(&pair.b_events);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].2.contains("COOKIE"), "{}", r[0].2);
}

#[test]
fn wrong_psk_is_counted_on_both_ends_with_the_connection_name() {
    let pair = pair_with(
        "aes256gcm16-prfsha384-x25519",
        "aes256gcm16-prfsha384-x25519",
        b"a different secret, also long enough 0123",
        |_| {},
    );
    assert!(pair.a_established().is_none());
    assert_eq!(
        pair.b.stats().auth_failed,
        1,
        "responder: AUTH did not verify"
    );
    assert_eq!(
        pair.a.stats().auth_failed,
        1,
        "initiator: AUTHENTICATION_FAILED"
    );
    for events in [&pair.a_events, &pair.b_events] {
        let r = rejected(events);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].0, ExchangeType::IKE_AUTH);
        assert_eq!(r[0].1.as_deref(), Some("test"));
    }
    assert!(
        rejected(&pair.b_events)[0]
            .2
            .contains("initiator AUTH does not verify"),
        "{:?}",
        rejected(&pair.b_events)
    );
    assert_eq!(pair.b.stats().init_no_proposal_chosen, 0);
}

#[test]
fn stats_fields_name_the_new_counters() {
    let names: Vec<&str> = ikev2::Stats::default()
        .fields()
        .iter()
        .map(|f| f.0)
        .collect();
    for n in [
        "init_no_proposal_chosen",
        "init_invalid_ke",
        "init_rejected_other",
        "auth_failed",
    ] {
        assert!(names.contains(&n), "{n}");
    }
}
