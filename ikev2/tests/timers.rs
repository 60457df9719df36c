//! The endpoint's timer heap: with many IKE SAs, `poll_timeout` is the earliest deadline of
//! any of them and `handle_timeout` fires exactly the SAs that are due.

mod sim;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ikev2::{Endpoint, EndpointConfig, Error, Event};
use sim::{conn, default_provider};

const PSK: &[u8] = b"correct horse battery staple 0123456789";

#[test]
fn every_sa_retransmits_and_gives_up_on_its_own_schedule() {
    let mut c = conn(
        "initiator",
        PSK,
        "aes256gcm16-prfsha384-x25519",
        "aes256gcm16",
    );
    c.retransmit.initial = Duration::from_millis(500);
    c.retransmit.max_retransmits = 3;
    let c = Arc::new(c);
    let (initial, tries) = (c.retransmit.initial, c.retransmit.max_retransmits);
    let mut a = Endpoint::new(EndpointConfig::default(), default_provider());
    let remote: SocketAddr = "192.0.2.2:500".parse().expect("addr");
    let t0 = Instant::now();
    // 40 SAs started 7 ms apart; nobody ever answers.
    let n = 40u32;
    for i in 0..n {
        let local = SocketAddr::new(format!("10.0.0.{}", i + 1).parse().expect("ip"), 500);
        a.connect(
            t0 + Duration::from_millis(7 * u64::from(i)),
            c.clone(),
            local,
            remote,
        )
        .expect("connect");
    }
    assert_eq!(
        a.poll_timeout(),
        Some(t0 + initial),
        "the first SA's deadline"
    );
    while a.poll_transmit().is_some() {}

    let mut now = t0 + Duration::from_millis(7 * u64::from(n - 1));
    let mut resent_by: Vec<SocketAddr> = Vec::new();
    for _ in 0..10_000 {
        let Some(t) = a.poll_timeout() else { break };
        assert!(t > now, "handle_timeout left a due deadline behind");
        now = t;
        a.handle_timeout(now);
        while let Some(x) = a.poll_transmit() {
            resent_by.push(x.local);
        }
    }
    assert_eq!(a.poll_timeout(), None, "nothing left to wait for");
    assert_eq!(a.sa_count(), 0);
    let timeouts = std::iter::from_fn(|| a.poll_event())
        .filter(|e| {
            matches!(
                e,
                Event::IkeSaFailed {
                    error: Error::Timeout,
                    ..
                }
            )
        })
        .count();
    assert_eq!(timeouts, n as usize);
    assert_eq!(resent_by.len(), (n * tries) as usize);
    for i in 0..n {
        let local = SocketAddr::new(format!("10.0.0.{}", i + 1).parse().expect("ip"), 500);
        let mine = resent_by.iter().filter(|l| **l == local).count();
        assert_eq!(mine, tries as usize, "SA {i} retransmitted {mine} times");
    }
}
