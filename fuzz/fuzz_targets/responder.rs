//! A responder endpoint fed arbitrary datagrams: it must never panic, and whatever it sends
//! back must parse.
//!
//! Input: one mode byte, then either one datagram (mode 0) or a sequence of datagrams each
//! preceded by a 2-octet length (any other mode), with time advancing between them so that
//! retransmission, reassembly and half-open timers fire too.
#![no_main]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ikev2::{Endpoint, EndpointConfig};
use ikev2_fuzz::engine::{connection, drain, endpoint_config, length_prefixed};
use libfuzzer_sys::fuzz_target;

/// Datagrams per input.
const MAX_DATAGRAMS: usize = 16;

fn config() -> EndpointConfig {
    let mut e = endpoint_config(Arc::new(connection("responder.example")));
    e.cookie_threshold = 2;
    e
}

fn datagrams(data: &[u8]) -> Vec<&[u8]> {
    match data.split_first() {
        None => Vec::new(),
        Some((0, rest)) => vec![rest],
        Some((_, rest)) => length_prefixed(rest, MAX_DATAGRAMS),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut ep = Endpoint::new(config(), ipsec_crypto::default_provider());
    let local: SocketAddr = ([192, 0, 2, 2], 500).into();
    let remote: SocketAddr = ([192, 0, 2, 1], 500).into();
    let mut now = Instant::now();
    for d in datagrams(data) {
        ep.handle_datagram(now, local, remote, d);
        now += Duration::from_millis(700);
        ep.handle_timeout(now);
        drain(&mut ep);
    }
    ep.handle_timeout(now + Duration::from_secs(120));
    assert!(
        ep.sa_count() == 0 || ep.stats().ike_sas_established > 0,
        "half-open SAs expire"
    );
});
