//! Denial-of-service protection (RFC 7296 §2.6): COOKIE above the half-open thresholds, limits
//! per source, bounded state, while an established SA keeps working.

mod sim;

use std::sync::Arc;

use ikev2::wire::{ExchangeType, Header, Message, NotifyType, Payload};
use ikev2::{ConnectionConfig, Endpoint, EndpointConfig, Lifetime};
use sim::{Pair, conn, current_sa, default_provider, live_children, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const IKE: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

/// IKE_SA_INIT requests from a real initiator endpoint, each with a fresh SPI.
fn init_requests(n: usize) -> Vec<Vec<u8>> {
    let c = Arc::new(conn("initiator", PSK, IKE, "aes256gcm16"));
    let mut ep = Endpoint::new(EndpointConfig::default(), default_provider());
    let now = std::time::Instant::now();
    (0..n)
        .map(|_| {
            ep.connect(
                now,
                c.clone(),
                "203.0.113.9:500".parse().expect("addr"),
                "192.0.2.2:500".parse().expect("addr"),
            )
            .expect("connect");
            ep.poll_transmit().expect("request").data
        })
        .collect()
}

fn no_rekeys(c: &mut ConnectionConfig) {
    c.ike_lifetime = Lifetime::NONE;
    c.children[0].lifetime = Lifetime::NONE;
}

#[test]
fn a_flood_of_ike_sa_init_gets_cookies_and_bounded_state_while_the_sa_keeps_working() {
    let p = default_provider();
    let mut r = conn("responder", PSK, IKE, "aes256gcm16");
    let mut i = conn("initiator", PSK, IKE, "aes256gcm16");
    no_rekeys(&mut r);
    no_rekeys(&mut i);
    let mut rc = responder(r);
    rc.cookie_threshold_per_source = 5;
    rc.half_open_limit_per_source = 20;
    let mut pair = Pair::new(EndpointConfig::default(), p, rc, p);
    pair.connect(Arc::new(i));
    pair.drive(1000);
    assert_eq!(pair.assert_live_children_match(), 1);

    // 200 spoofed-looking requests from one address that never complete.
    let attacker = "203.0.113.9:500".parse().expect("addr");
    let mut cookies = 0;
    for req in init_requests(200) {
        let now = pair.now;
        pair.b.handle_datagram(now, pair.b_addr, attacker, &req);
        while let Some(t) = pair.b.poll_transmit() {
            let msg = Message::parse(&t.data).expect("response parses");
            cookies += msg
                .payloads
                .iter()
                .filter(|p| matches!(p, Payload::Notify(n) if n.notify_type == NotifyType::COOKIE))
                .count();
        }
    }
    assert_eq!(
        pair.b.sa_count(),
        1 + 5,
        "only the threshold's worth of half-open SAs were created"
    );
    assert_eq!(
        cookies, 195,
        "every later request was answered with a COOKIE, before any key exchange"
    );
    assert_eq!(pair.b.stats().cookies_sent, 195);

    // The established SA still rekeys during the flood.
    let sa = current_sa(&pair.a_events).expect("sa");
    let child = live_children(&pair.a_events)[0].inbound_spi;
    let now = pair.now;
    pair.a
        .rekey_child(now, sa, child)
        .expect("the engine takes the command");
    pair.drive(1000);
    assert_eq!(pair.assert_live_children_match(), 1);
    assert!(pair.a_error().is_none());
}

#[test]
fn requests_above_the_per_source_limit_are_dropped_even_with_cookies_disabled() {
    let p = default_provider();
    let mut rc = responder(conn("responder", PSK, IKE, "aes256gcm16"));
    rc.cookie_threshold_per_source = usize::MAX;
    rc.cookie_threshold = usize::MAX;
    rc.half_open_limit_per_source = 7;
    let mut b = Endpoint::new(rc, p);
    let now = std::time::Instant::now();
    for req in init_requests(30) {
        b.handle_datagram(
            now,
            "192.0.2.2:500".parse().expect("addr"),
            "203.0.113.9:500".parse().expect("addr"),
            &req,
        );
        while b.poll_transmit().is_some() {}
    }
    assert_eq!(b.sa_count(), 7);
    assert_eq!(b.stats().dropped_half_open_limit, 23);
    // Another source is not affected.
    let req = &init_requests(1)[0];
    b.handle_datagram(
        now,
        "192.0.2.2:500".parse().expect("addr"),
        "203.0.113.10:500".parse().expect("addr"),
        req,
    );
    assert_eq!(b.sa_count(), 8);
    let t = b.poll_transmit().expect("answered");
    assert_eq!(
        Header::parse(&t.data).expect("header").exchange,
        ExchangeType::IKE_SA_INIT
    );
}
