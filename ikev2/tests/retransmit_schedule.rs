//! The retransmission schedule as strongSwan defines it: the wait after send `n` is
//! `initial * base^n` (capped), and the exchange fails one wait after the last retransmission.

mod sim;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ikev2::{Endpoint, EndpointConfig, Event, RetransmitConfig};
use sim::{conn, default_provider};

const PSK: &[u8] = b"correct horse battery staple 0123456789";

/// The waits between sends of an unanswered IKE_SA_INIT, then the wait until it fails.
fn waits(rt: RetransmitConfig) -> (Vec<Duration>, Duration) {
    let mut c = conn(
        "initiator",
        PSK,
        "aes256gcm16-prfsha384-x25519",
        "aes256gcm16",
    );
    c.retransmit = rt;
    let mut ep = Endpoint::new(EndpointConfig::default(), default_provider());
    let mut now = Instant::now();
    let (local, remote) = (
        "192.0.2.1:500".parse().expect("addr"),
        "192.0.2.2:500".parse().expect("addr"),
    );
    ep.connect(now, Arc::new(c), local, remote)
        .expect("connect");
    let mut sends = vec![now];
    while ep.poll_transmit().is_some() {}
    for _ in 0..100 {
        let Some(t) = ep.poll_timeout() else { break };
        now = t;
        ep.handle_timeout(now);
        if ep.poll_transmit().is_some() {
            sends.push(now);
            while ep.poll_transmit().is_some() {}
        }
        if std::iter::from_fn(|| ep.poll_event()).any(|e| matches!(e, Event::IkeSaFailed { .. })) {
            break;
        }
    }
    let gaps = sends.windows(2).map(|w| w[1] - w[0]).collect();
    (gaps, now - *sends.last().expect("sent"))
}

fn ms(v: &[u64]) -> Vec<Duration> {
    v.iter().map(|m| Duration::from_millis(*m)).collect()
}

#[test]
fn waits_grow_by_the_base_and_the_exchange_fails_after_the_tries() {
    let rt = RetransmitConfig {
        initial: Duration::from_millis(200),
        max_interval: Duration::from_secs(60),
        max_retransmits: 3,
        base: 1.5,
    };
    let (gaps, last) = waits(rt);
    assert_eq!(gaps, ms(&[200, 300, 450]));
    assert_eq!(last, Duration::from_micros(675_000));
    assert_eq!(rt.give_up_after(), Duration::from_micros(1_625_000));
}

#[test]
fn the_cap_limits_each_wait_and_the_default_gives_up_after_31_5_s() {
    let rt = RetransmitConfig::default();
    let (gaps, last) = waits(rt);
    assert_eq!(gaps, ms(&[500, 1000, 2000, 4000, 8000, 8000]));
    assert_eq!(last, Duration::from_secs(8));
    assert_eq!(rt.give_up_after(), Duration::from_millis(31_500));
}
