//! Half-open IKE SAs under floods: the byte budget (many small requests, and large fragmented
//! IKE_AUTH requests that never complete), the cap per SA, per-source limits by prefix (an
//! IPv6 /64 is one source), and COOKIE secret rotation (RFC 7296 §2.6), on the virtual clock.

mod sim;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ikev2::wire::{ExchangeType, Header, Message, NotifyType, Payload, PayloadType};
use ikev2::{ConnectionConfig, Endpoint, EndpointConfig, Identity};
use sim::{conn, default_provider, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
/// No additional key exchange: IKE_AUTH follows IKE_SA_INIT directly.
const IKE: &str = "aes256gcm16-prfsha384-x25519";

fn responder_addr() -> SocketAddr {
    "192.0.2.2:500".parse().expect("addr")
}

/// A responder with cookies off and count limits out of the way, so the bound under test is
/// the one that acts.
fn open_responder(tune: impl FnOnce(&mut EndpointConfig)) -> Endpoint {
    let mut rc = responder(conn("responder", PSK, IKE, "aes256gcm16"));
    rc.cookie_threshold = usize::MAX;
    rc.cookie_threshold_per_source = usize::MAX;
    rc.half_open_limit = usize::MAX;
    rc.half_open_limit_per_source = usize::MAX;
    tune(&mut rc);
    Endpoint::new(rc, default_provider())
}

/// One IKE_SA_INIT request from a fresh initiator endpoint.
fn init_request(now: Instant, c: &Arc<ConnectionConfig>, from: SocketAddr) -> Vec<u8> {
    let mut ep = Endpoint::new(EndpointConfig::default(), default_provider());
    ep.connect(now, c.clone(), from, responder_addr())
        .expect("connect");
    ep.poll_transmit().expect("request").data
}

fn drain(ep: &mut Endpoint) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| ep.poll_transmit().map(|t| t.data)).collect()
}

fn v4_source(i: usize) -> SocketAddr {
    SocketAddr::new(
        std::net::Ipv4Addr::from(0xc633_0000 + u32::try_from(i).expect("small")).into(),
        500,
    )
}

#[test]
fn a_flood_of_small_requests_stops_at_the_byte_budget_and_frees_it_on_expiry() {
    const BUDGET: usize = 256 << 10;
    let mut b = open_responder(|c| c.half_open_memory = BUDGET);
    let c = Arc::new(conn("initiator", PSK, IKE, "aes256gcm16"));
    let now = Instant::now();
    let mut answered = 0;
    for i in 0..400 {
        let req = init_request(now, &c, v4_source(i));
        b.handle_datagram(now, responder_addr(), v4_source(i), &req);
        answered += drain(&mut b).len();
        let (_, bytes) = b.half_open();
        assert!(
            bytes <= BUDGET,
            "{bytes} bytes charged over a {BUDGET} budget"
        );
    }
    let (count, bytes) = b.half_open();
    assert_eq!(count, b.sa_count());
    assert_eq!(answered, count, "a dropped request gets no answer");
    assert!(count > 10 && count < 400, "{count} half-open SAs");
    assert!(bytes > BUDGET - bytes / count * 2, "the budget was used up");
    assert_eq!(b.stats().dropped_half_open_memory, 400 - count as u64);
    assert_eq!(b.stats().dropped_half_open_limit, 0);

    // Expiry gives the budget back: a new request is answered again.
    let later = now + EndpointConfig::default().half_open_timeout + Duration::from_secs(1);
    b.handle_timeout(later);
    assert_eq!(b.half_open(), (0, 0));
    let req = init_request(later, &c, v4_source(1000));
    b.handle_datagram(later, responder_addr(), v4_source(1000), &req);
    assert_eq!(drain(&mut b).len(), 1);
    assert_eq!(b.half_open().0, 1);
}

#[test]
fn an_ike_sa_init_request_larger_than_the_cap_per_sa_is_dropped_before_any_key_exchange() {
    let mut b = open_responder(|c| c.half_open_sa_memory = 4096);
    let c = Arc::new(conn("initiator", PSK, IKE, "aes256gcm16"));
    let now = Instant::now();
    let mut req = init_request(now, &c, v4_source(1));
    // The same request with 8 KiB of vendor ID appended still parses.
    let msg = Message::parse(&req).expect("parses");
    let mut payloads = msg.payloads.clone();
    payloads.push(Payload::Unknown {
        payload_type: PayloadType(43),
        critical: false,
        body: vec![0x55; 8192],
    });
    req = Message {
        header: msg.header,
        payloads,
    }
    .emit();
    b.handle_datagram(now, responder_addr(), v4_source(1), &req);
    assert!(drain(&mut b).is_empty());
    assert_eq!(b.sa_count(), 0);
    assert_eq!(b.stats().dropped_half_open_memory, 1);
}

/// An initiator at `from` whose IKE_AUTH (a 30 KB identity) is sent in small fragments, after
/// its IKE_SA_INIT went through `b`; returns the IKE_AUTH fragments, not yet delivered.
fn fragmented_auth(now: Instant, b: &mut Endpoint, from: SocketAddr) -> Option<Vec<Vec<u8>>> {
    let mut c = conn("initiator", PSK, IKE, "aes256gcm16");
    c.local_id = Identity::fqdn(&"a".repeat(30_000));
    c.fragment_size = Some(1200);
    let mut a = Endpoint::new(EndpointConfig::default(), default_provider());
    a.connect(now, Arc::new(c), from, responder_addr())
        .expect("connect");
    for d in drain(&mut a) {
        b.handle_datagram(now, responder_addr(), from, &d);
    }
    let answer = drain(b);
    if answer.is_empty() {
        return None;
    }
    for d in answer {
        a.handle_datagram(now, from, responder_addr(), &d);
    }
    let frags = drain(&mut a);
    assert!(frags.len() > 20, "IKE_AUTH in {} fragments", frags.len());
    assert_eq!(
        Header::parse(&frags[0]).expect("header").exchange,
        ExchangeType::IKE_AUTH
    );
    Some(frags)
}

#[test]
fn a_flood_of_large_fragmented_requests_stays_within_the_byte_budget() {
    const BUDGET: usize = 200 << 10;
    let mut b = open_responder(|c| c.half_open_memory = BUDGET);
    let now = Instant::now();
    let mut complete_partials = 0;
    for i in 0..12 {
        let Some(frags) = fragmented_auth(now, &mut b, v4_source(i)) else {
            continue;
        };
        // Every fragment but the last: the message never completes and is held.
        let before = b.stats().dropped_fragments;
        for f in &frags[..frags.len() - 1] {
            b.handle_datagram(now, responder_addr(), v4_source(i), f);
            let (_, bytes) = b.half_open();
            assert!(
                bytes <= BUDGET,
                "{bytes} bytes charged over a {BUDGET} budget"
            );
        }
        complete_partials += usize::from(b.stats().dropped_fragments == before);
        assert!(drain(&mut b).is_empty(), "nothing is answered");
    }
    let (count, bytes) = b.half_open();
    assert!(count >= 2, "{count} half-open SAs");
    assert!(complete_partials >= 2 && complete_partials < count);
    assert!(b.stats().dropped_half_open_memory > 0);
    assert!(
        bytes > BUDGET / 2,
        "{bytes} bytes: the partial messages were held"
    );
}

#[test]
fn one_half_open_sa_cannot_hold_more_than_its_cap() {
    const CAP: usize = 20 << 10;
    let mut b = open_responder(|c| c.half_open_sa_memory = CAP);
    let now = Instant::now();
    let frags = fragmented_auth(now, &mut b, v4_source(1)).expect("admitted");
    for f in &frags[..frags.len() - 1] {
        b.handle_datagram(now, responder_addr(), v4_source(1), f);
        let (_, bytes) = b.half_open();
        assert!(bytes <= CAP, "{bytes} bytes held over a {CAP} cap");
    }
    // The message was given up when it outgrew the cap; the SA itself stays half-open.
    assert_eq!(b.stats().dropped_half_open_memory, 1);
    assert_eq!(b.half_open().0, 1);
    let (_, bytes) = b.half_open();
    assert!(bytes < CAP / 2, "{bytes}: the partial message was freed");
}

fn admit_from(b: &mut Endpoint, c: &Arc<ConnectionConfig>, from: &str) -> bool {
    let now = Instant::now();
    let from: SocketAddr = from.parse().expect("addr");
    let req = init_request(now, c, from);
    let before = b.sa_count();
    b.handle_datagram(now, responder_addr(), from, &req);
    drain(b);
    b.sa_count() > before
}

#[test]
fn an_ipv6_slash_64_is_one_source_and_another_slash_64_is_not() {
    let mut b = open_responder(|c| c.half_open_limit_per_source = 3);
    let c = Arc::new(conn("initiator", PSK, IKE, "aes256gcm16"));
    for host in ["1", "2", "8000:1:2"] {
        assert!(admit_from(
            &mut b,
            &c,
            &format!("[2001:db8:1:2::{host}]:500")
        ));
    }
    assert!(!admit_from(
        &mut b,
        &c,
        "[2001:db8:1:2:ffff:ffff:ffff:ffff]:500"
    ));
    assert_eq!(b.stats().dropped_half_open_limit, 1);
    assert!(admit_from(&mut b, &c, "[2001:db8:1:3::1]:500"));
}

#[test]
fn the_ipv6_prefix_length_is_configurable() {
    let mut b = open_responder(|c| {
        c.half_open_limit_per_source = 1;
        c.source_prefix_v6 = 48;
    });
    let c = Arc::new(conn("initiator", PSK, IKE, "aes256gcm16"));
    assert!(admit_from(&mut b, &c, "[2001:db8:1:2::1]:500"));
    assert!(!admit_from(&mut b, &c, "[2001:db8:1:ffff::1]:500"));
    assert!(admit_from(&mut b, &c, "[2001:db8:2::1]:500"));
}

#[test]
fn ipv4_counts_each_address_by_default_or_a_configured_prefix() {
    let c = Arc::new(conn("initiator", PSK, IKE, "aes256gcm16"));
    let mut per_address = open_responder(|c| c.half_open_limit_per_source = 1);
    assert!(admit_from(&mut per_address, &c, "198.51.100.1:500"));
    assert!(admit_from(&mut per_address, &c, "198.51.100.2:500"));
    assert!(!admit_from(&mut per_address, &c, "198.51.100.2:4500"));

    let mut per_24 = open_responder(|c| {
        c.half_open_limit_per_source = 1;
        c.source_prefix_v4 = 24;
    });
    assert!(admit_from(&mut per_24, &c, "198.51.100.1:500"));
    assert!(!admit_from(&mut per_24, &c, "198.51.100.2:500"));
    assert!(admit_from(&mut per_24, &c, "198.51.101.1:500"));
}

/// The COOKIE notify in a response, if any.
fn cookie_of(datagram: &[u8]) -> Option<Vec<u8>> {
    let msg = Message::parse(datagram).expect("parses");
    msg.payloads.iter().find_map(|p| match p {
        Payload::Notify(n) if n.notify_type == NotifyType::COOKIE => Some(n.data.clone()),
        _ => None,
    })
}

/// An initiator at `from` that was told a cookie by `b` at `now`, with its repeated request
/// (carrying the cookie) not yet delivered.
fn told_cookie(b: &mut Endpoint, now: Instant, from: SocketAddr) -> (Vec<u8>, Vec<u8>) {
    let c = Arc::new(conn("initiator", PSK, IKE, "aes256gcm16"));
    let mut a = Endpoint::new(EndpointConfig::default(), default_provider());
    a.connect(now, c, from, responder_addr()).expect("connect");
    for d in drain(&mut a) {
        b.handle_datagram(now, responder_addr(), from, &d);
    }
    let answer = drain(b);
    let cookie = cookie_of(&answer[0]).expect("a COOKIE is demanded");
    a.handle_datagram(now, from, responder_addr(), &answer[0]);
    let repeated = drain(&mut a).remove(0);
    (cookie, repeated)
}

#[test]
fn cookie_secrets_rotate_and_the_previous_one_is_accepted_only_within_the_grace_period() {
    const LIFETIME: Duration = Duration::from_secs(60);
    const GRACE: Duration = Duration::from_secs(10);
    let mut b = open_responder(|c| {
        c.cookie_threshold = 0;
        c.cookie_secret_lifetime = LIFETIME;
        c.cookie_grace = GRACE;
    });
    let t0 = Instant::now();
    let (old, within) = told_cookie(&mut b, t0, v4_source(1));
    let (_, after) = told_cookie(&mut b, t0, v4_source(2));
    // Still the first secret a little later.
    let (same, _) = told_cookie(&mut b, t0 + LIFETIME / 2, v4_source(3));
    assert_eq!(same[0], old[0]);

    // The secret is replaced once it is a lifetime old; the version octet says so.
    let rotated = t0 + LIFETIME;
    let (new, _) = told_cookie(&mut b, rotated, v4_source(4));
    assert_eq!(new[0], old[0].wrapping_add(1));

    // A cookie of the previous secret within the grace period: the SA is created.
    let at = rotated + GRACE - Duration::from_secs(1);
    b.handle_datagram(at, responder_addr(), v4_source(1), &within);
    let answer = drain(&mut b);
    assert!(cookie_of(&answer[0]).is_none(), "accepted");
    assert_eq!(b.half_open().0, 1);

    // After it: refused with a fresh cookie of the current secret.
    let at = rotated + GRACE;
    b.handle_datagram(at, responder_addr(), v4_source(2), &after);
    let answer = drain(&mut b);
    let fresh = cookie_of(&answer[0]).expect("refused with a new COOKIE");
    assert_eq!(fresh[0], new[0]);
    assert_eq!(b.half_open().0, 1);
}

#[test]
fn over_the_budget_a_new_source_evicts_the_oldest_sa_of_the_heaviest_source() {
    const BUDGET: usize = 256 << 10;
    let mut b = open_responder(|c| c.half_open_memory = BUDGET);
    let c = Arc::new(conn("initiator", PSK, IKE, "aes256gcm16"));
    let now = Instant::now();
    // One source fills the budget.
    let heavy = v4_source(1);
    let mut first = None;
    for _ in 0..200 {
        let req = init_request(now, &c, heavy);
        b.handle_datagram(now, responder_addr(), heavy, &req);
        for d in drain(&mut b) {
            first.get_or_insert_with(|| Header::parse(&d).expect("header").spi_r);
        }
    }
    let (full, _) = b.half_open();
    assert!(
        b.stats().dropped_half_open_memory > 0,
        "the budget was reached"
    );
    assert_eq!(
        b.stats().half_open_evicted,
        0,
        "a source never evicts its own"
    );
    let oldest = ikev2::SaId(first.expect("some were answered"));

    // Sources holding one SA each get in, each by pushing out one of the heavy source's.
    for i in 2..12 {
        let req = init_request(now, &c, v4_source(i));
        b.handle_datagram(now, responder_addr(), v4_source(i), &req);
        assert_eq!(drain(&mut b).len(), 1, "answered");
    }
    assert_eq!(b.stats().half_open_evicted, 10);
    assert_eq!(b.half_open().0, full, "each admission evicted one");
    assert!(b.half_open().1 <= BUDGET);
    let failed: Vec<_> = std::iter::from_fn(|| b.poll_event())
        .filter_map(|e| match e {
            ikev2::Event::IkeSaFailed { sa, error } => Some((sa, error)),
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 10);
    assert!(failed.iter().all(|(_, e)| *e == ikev2::Error::Evicted));
    assert_eq!(failed[0].0, oldest, "the oldest goes first");
    assert!(!b.has_sa(oldest));

    // Sources of one SA each are never evicted: with the heavy source gone from the picture,
    // a further new source is dropped rather than push out a peer in its handshake.
    let mut singles = open_responder(|c| c.half_open_memory = BUDGET);
    let mut i = 100;
    while singles.stats().dropped_half_open_memory == 0 && i < 400 {
        let req = init_request(now, &c, v4_source(i));
        singles.handle_datagram(now, responder_addr(), v4_source(i), &req);
        drain(&mut singles);
        i += 1;
    }
    assert_eq!(singles.stats().dropped_half_open_memory, 1);
    assert_eq!(singles.stats().half_open_evicted, 0);
}
