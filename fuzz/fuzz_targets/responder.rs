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

use ikev2::wire::{IpSelector, Message};
use ikev2::{
    ChildConfig, ConnectionConfig, Endpoint, EndpointConfig, Identity, PpkConfig, ProposalSpec,
};
use ipsec_crypto::SecretBytes;
use libfuzzer_sys::fuzz_target;

fn config() -> EndpointConfig {
    let ike = [
        "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
        "aes128-sha256-modp2048",
        "chacha20poly1305-prfsha256-mlkem512",
    ];
    let proposals = ike
        .iter()
        .filter_map(|p| ProposalSpec::parse_ike(p).ok())
        .collect();
    let mut c = ConnectionConfig::new(
        "fuzz",
        Identity::fqdn("responder.example"),
        b"fuzzing pre-shared key",
        proposals,
    );
    let any = IpSelector {
        ip_protocol: 0,
        start_port: 0,
        end_port: 65535,
        start_addr: [0, 0, 0, 0].into(),
        end_addr: [255, 255, 255, 255].into(),
    };
    let esp = ProposalSpec::parse_esp("aes256gcm16-x25519-esn-noesn")
        .into_iter()
        .collect();
    c.children
        .push(ChildConfig::new("any", esp, vec![any.clone()], vec![any]));
    c.ppk = Some(PpkConfig::fixed(
        b"ppk",
        SecretBytes::new(vec![7; 32]),
        false,
    ));
    let mut e = EndpointConfig {
        connections: vec![Arc::new(c)],
        ..EndpointConfig::default()
    };
    e.cookie_threshold = 2;
    e
}

fn datagrams(data: &[u8]) -> Vec<&[u8]> {
    let Some((&mode, mut rest)) = data.split_first() else {
        return Vec::new();
    };
    if mode == 0 {
        return vec![rest];
    }
    let mut out = Vec::new();
    while rest.len() >= 2 && out.len() < 16 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        out.push(&rest[2..2 + len]);
        rest = &rest[2 + len..];
    }
    out
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
        while let Some(t) = ep.poll_transmit() {
            if !t.is_nat_keepalive() {
                assert!(
                    Message::parse(&t.data).is_ok(),
                    "the responder sent an unparsable datagram"
                );
            }
        }
        while ep.poll_event().is_some() {}
    }
    ep.handle_timeout(now + Duration::from_secs(120));
    assert!(
        ep.sa_count() == 0 || ep.stats().ike_sas_established > 0,
        "half-open SAs expire"
    );
});
