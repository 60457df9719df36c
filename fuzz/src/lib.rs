//! What the fuzz targets share: round-trip checks (whatever a codec accepts must emit and parse
//! back to the same value: parse → emit → parse → equal), and the builders of the endpoint
//! targets ([`engine`]).

pub mod engine;
pub mod n3iwf;
pub mod userplane;

use ikev2::wire::{
    GENERIC_HEADER_LEN, Message, Payload, PayloadType, emit_payloads, parse_payloads,
};

/// Parses `datagram`; when it is accepted, checks that emitting and parsing again gives the same
/// message and the same number of octets.
pub fn message_round_trip(datagram: &[u8]) {
    let Ok(msg) = Message::parse(datagram) else {
        return;
    };
    let bytes = msg.emit();
    assert_eq!(bytes.len(), datagram.len(), "emit changed the length");
    assert_eq!(
        Message::parse(&bytes).as_ref(),
        Ok(&msg),
        "emit then parse changed the message"
    );
}

/// Parses the chain `bytes` starting with `first`; when it is accepted, checks that emitting and
/// parsing again gives the same payloads. Returns them.
pub fn chain_round_trip(first: PayloadType, bytes: &[u8]) -> Option<Vec<Payload>> {
    let payloads = parse_payloads(first, bytes).ok()?;
    let mut out = Vec::with_capacity(bytes.len());
    let emitted_first = emit_payloads(&payloads, &mut out);
    assert_eq!(emitted_first, first, "emit changed the first payload type");
    assert_eq!(out.len(), bytes.len(), "emit changed the length");
    assert_eq!(
        parse_payloads(first, &out).as_ref(),
        Ok(&payloads),
        "emit then parse changed the chain"
    );
    Some(payloads)
}

/// Wraps `body` in a last-payload generic header and round-trips it as a payload of type
/// `payload_type`. Bodies too long for the 16-bit length field are skipped.
pub fn body_round_trip(payload_type: PayloadType, body: &[u8]) -> Option<Payload> {
    let length = u16::try_from(body.len() + GENERIC_HEADER_LEN).ok()?;
    let mut bytes = Vec::with_capacity(body.len() + GENERIC_HEADER_LEN);
    bytes.extend_from_slice(&[0, 0]);
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(body);
    chain_round_trip(payload_type, &bytes)?.pop()
}
