//! A realistic post-quantum IKE_SA_INIT request (RFC 7296 §1.2, RFC 9370 §2.2), assembled by
//! hand from the payload figures of RFC 7296 §3.

use super::*;
use crate::wire::PrfId;
use crate::wire::types::KeyExchangePayload;

/// HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
/// N(IKEV2_FRAGMENTATION_SUPPORTED), N(INTERMEDIATE_EXCHANGE_SUPPORTED).
pub(super) const IKE_SA_INIT_REQUEST: &[u8] = &[
    // RFC 7296 §3.1, Figure 4: IKE header.
    0x8a, 0x3c, 0x41, 0xf2, 0x0b, 0x9d, 0x6e, 0x17, // initiator SPI
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // responder SPI: not yet known
    0x21, 0x20, 0x22, 0x08, // next SA, version 2.0, IKE_SA_INIT, Initiator
    0x00, 0x00, 0x00, 0x00, // message ID 0
    0x00, 0x00, 0x00, 0xe0, // length 224
    // Figures 5-9: SA payload with one proposal of four transforms.
    0x22, 0x00, 0x00, 0x30, // next KE, length 48
    0x00, 0x00, 0x00, 0x2c, // last proposal, length 44
    0x01, 0x01, 0x00, 0x04, // proposal 1, IKE, no SPI, 4 transforms
    0x03, 0x00, 0x00, 0x0c, // more transforms, length 12
    0x01, 0x00, 0x00, 0x14, // ENCR, AES-GCM with 16-octet ICV (20)
    0x80, 0x0e, 0x01, 0x00, // TV Key Length (14) = 256
    0x03, 0x00, 0x00, 0x08, // more transforms, length 8
    0x02, 0x00, 0x00, 0x06, // PRF, HMAC-SHA2-384 (6)
    0x03, 0x00, 0x00, 0x08, // more transforms, length 8
    0x04, 0x00, 0x00, 0x1f, // KE, Curve25519 (31)
    0x00, 0x00, 0x00, 0x08, // last transform, length 8
    0x06, 0x00, 0x00, 0x24, // ADDKE1 (6), ML-KEM-768 (36)
    // Figure 10: KE payload.
    0x28, 0x00, 0x00, 0x28, // next Nonce, length 40
    0x00, 0x1f, 0x00, 0x00, // Curve25519, RESERVED
    0xa5, 0x4d, 0xca, 0x18, 0x25, 0x30, 0xbb, 0x1d, 0x6d, 0x13, 0x2c, 0xde, 0xd6, 0x23, 0x7b, 0x2e,
    0xd9, 0x1e, 0x3f, 0x72, 0x1f, 0xcb, 0x19, 0x71, 0x17, 0x44, 0x94, 0xd6, 0x49, 0x3c, 0x9d, 0x5c,
    // Figure 15: Nonce payload.
    0x29, 0x00, 0x00, 0x24, // next Notify, length 36
    0x34, 0x60, 0xbe, 0x31, 0x20, 0x1e, 0x69, 0xfe, 0xda, 0xa0, 0xee, 0xe8, 0xb9, 0x99, 0x7f, 0x5c,
    0x7c, 0x29, 0x99, 0xfd, 0xaf, 0xe5, 0x93, 0x25, 0x3c, 0xd6, 0x54, 0xaf, 0x4d, 0xfa, 0xd7, 0x14,
    // Figure 16: Notify NAT_DETECTION_SOURCE_IP (16388) with a SHA-1 digest.
    0x29, 0x00, 0x00, 0x1c, // next Notify, length 28
    0x00, 0x00, 0x40, 0x04, // no protocol, no SPI, 16388
    0x27, 0xa0, 0xae, 0xb3, 0xfe, 0xe9, 0x23, 0x2f, 0x8a, 0xf2, 0x21, 0x1f, 0x9e, 0xe4, 0x91, 0xc5,
    0xb1, 0x0b, 0xec, 0xb5, // Notify NAT_DETECTION_DESTINATION_IP (16389).
    0x29, 0x00, 0x00, 0x1c, // next Notify, length 28
    0x00, 0x00, 0x40, 0x05, // no protocol, no SPI, 16389
    0x56, 0x3b, 0xfc, 0x1e, 0x6f, 0x93, 0x42, 0x7e, 0xcb, 0xc8, 0xfe, 0x29, 0x55, 0xe5, 0xcd, 0x8e,
    0x46, 0xdc, 0x8e, 0xd4,
    // Notify IKEV2_FRAGMENTATION_SUPPORTED (16430, RFC 7383 §2.3).
    0x29, 0x00, 0x00, 0x08, // next Notify, length 8
    0x00, 0x00, 0x40, 0x2e, // no protocol, no SPI, 16430
    // Notify INTERMEDIATE_EXCHANGE_SUPPORTED (16438, RFC 9242 §3).
    0x00, 0x00, 0x00, 0x08, // last payload, length 8
    0x00, 0x00, 0x40, 0x36, // no protocol, no SPI, 16438
];

/// The same request as values.
pub(super) fn ike_sa_init_request() -> Message {
    let data =
        |range: std::ops::Range<usize>| IKE_SA_INIT_REQUEST.get(range).unwrap_or_default().to_vec();
    let mut header = header(ExchangeType::IKE_SA_INIT, 0, false);
    header.spi_r = IkeSpi(0);
    header.next_payload = PayloadType::SA;
    header.length = 224;
    let proposal = Proposal {
        number: 1,
        protocol: ProtocolId::IKE,
        spi: Vec::new(),
        transforms: vec![
            Transform::encr(EncrId::AES_GCM_16, Some(256)),
            Transform::new(TransformType::PRF, PrfId::HMAC_SHA2_384.0),
            Transform::ke(TransformType::KE, KeId::CURVE25519),
            Transform::ke(TransformType::ADDKE1, KeId::ML_KEM_768),
        ],
    };
    let payloads = vec![
        Payload::Sa(vec![proposal]),
        Payload::Ke(KeyExchangePayload {
            group: KeId::CURVE25519,
            data: data(84..116),
        }),
        Payload::Nonce(data(120..152)),
        Payload::Notify(Notify::new(
            NotifyType::NAT_DETECTION_SOURCE_IP,
            data(160..180),
        )),
        Payload::Notify(Notify::new(
            NotifyType::NAT_DETECTION_DESTINATION_IP,
            data(188..208),
        )),
        Payload::Notify(Notify::new(
            NotifyType::IKEV2_FRAGMENTATION_SUPPORTED,
            Vec::new(),
        )),
        Payload::Notify(Notify::new(
            NotifyType::INTERMEDIATE_EXCHANGE_SUPPORTED,
            Vec::new(),
        )),
    ];
    Message { header, payloads }
}

#[test]
fn ike_sa_init_request_parses() {
    assert_eq!(IKE_SA_INIT_REQUEST.len(), 224);
    assert_eq!(
        Message::parse(IKE_SA_INIT_REQUEST),
        Ok(ike_sa_init_request())
    );
}

#[test]
fn ike_sa_init_request_emits_byte_exact() {
    let mut msg = ike_sa_init_request();
    msg.header.next_payload = PayloadType::NONE;
    msg.header.length = 0;
    assert_eq!(msg.emit(), IKE_SA_INIT_REQUEST);
}

#[test]
fn ike_sa_init_request_header_alone() {
    let header = Header::parse(IKE_SA_INIT_REQUEST);
    assert_eq!(header, Ok(ike_sa_init_request().header));
    let mut out = Vec::new();
    ike_sa_init_request().header.emit(&mut out);
    assert_eq!(out, IKE_SA_INIT_REQUEST.get(..28).unwrap_or_default());
}

#[test]
fn ike_sa_init_request_proposal_reads_back() {
    let msg = ike_sa_init_request();
    let Some(Payload::Sa(proposals)) = msg.payloads.first() else {
        panic!("SA first");
    };
    let encr = proposals.first().and_then(|p| p.transforms.first());
    assert_eq!(encr.and_then(Transform::key_length), Some(256));
}

#[test]
fn protected_and_fragment_messages_round_trip() {
    for msg in [protected_request(), fragment_response()] {
        let bytes = msg.emit();
        let parsed = Message::parse(&bytes).expect("valid");
        assert_eq!(parsed.payloads, msg.payloads);
        assert_eq!(parsed.header.length as usize, bytes.len());
        assert_eq!(parsed.emit(), bytes);
    }
    let mut inner = Vec::new();
    let first = emit_payloads(&ike_auth_inner(), &mut inner);
    assert_eq!(first, PayloadType::IDI);
    assert_eq!(parse_payloads(first, &inner), Ok(ike_auth_inner()));
}
