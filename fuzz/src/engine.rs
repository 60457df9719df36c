//! What the endpoint targets (`responder`, `initiator`) share: one connection offering the
//! algorithms worth reaching, inputs cut into length-prefixed datagrams, and draining an
//! endpoint while checking that whatever it sends parses.

use std::sync::Arc;

use ikev2::wire::{IpSelector, Message};
use ikev2::{
    ChildConfig, ConnectionConfig, Endpoint, EndpointConfig, Identity, PpkConfig, ProposalSpec,
};
use ipsec_crypto::SecretBytes;

/// Hybrid ML-KEM with X25519, a MODP group with CBC and a KEM alone, so that a fuzzed proposal
/// can select any key exchange path.
const IKE_PROPOSALS: [&str; 3] = [
    "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
    "aes128-sha256-modp2048",
    "chacha20poly1305-prfsha256-mlkem512",
];

/// A PSK connection with identity `id`, the proposals above, a static optional PPK and one
/// Child SA for any traffic.
pub fn connection(id: &str) -> ConnectionConfig {
    let proposals = IKE_PROPOSALS
        .iter()
        .filter_map(|p| ProposalSpec::parse_ike(p).ok())
        .collect();
    let mut c = ConnectionConfig::new(
        "fuzz",
        Identity::fqdn(id),
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
    c
}

/// An endpoint configuration with `conn` as its only connection.
pub fn endpoint_config(conn: Arc<ConnectionConfig>) -> EndpointConfig {
    EndpointConfig {
        connections: vec![conn],
        ..EndpointConfig::default()
    }
}

/// Cuts `rest` into at most `max` pieces, each preceded by a 2-octet length (a length past the
/// end takes what is left).
pub fn length_prefixed(mut rest: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while rest.len() >= 2 && out.len() < max {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        out.push(&rest[2..2 + len]);
        rest = &rest[2 + len..];
    }
    out
}

/// Everything `ep` wants to send but NAT keepalives, each checked to parse; its events are
/// discarded.
pub fn drain(ep: &mut Endpoint) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(t) = ep.poll_transmit() {
        if !t.is_nat_keepalive() {
            assert!(
                Message::parse(&t.data).is_ok(),
                "the endpoint sent an unparsable datagram"
            );
            out.push(t.data);
        }
    }
    while ep.poll_event().is_some() {}
    out
}
