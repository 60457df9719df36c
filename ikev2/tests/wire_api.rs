//! The wire codec through the public API only, as the engine and other crates use it.

use ikev2::wire::{
    EncryptedPayload, ExchangeType, Flags, HEADER_LEN, Header, IKE_VERSION, IkeSpi, Message,
    MessageId, Notify, NotifyType, ParseError, Payload, PayloadType, emit_payloads, parse_payloads,
};

fn informational(payloads: Vec<Payload>) -> Message {
    Message {
        header: Header {
            spi_i: IkeSpi(0x0102_0304_0506_0708),
            spi_r: IkeSpi(0x1112_1314_1516_1718),
            next_payload: PayloadType::NONE,
            version: IKE_VERSION,
            exchange: ExchangeType::INFORMATIONAL,
            flags: Flags::new(true, false),
            message_id: MessageId(2),
            length: 0,
        },
        payloads,
    }
}

#[test]
fn wire_protected_message_round_trips_through_public_api() {
    let mut plain = Vec::new();
    let inner = [Payload::Notify(Notify::new(
        NotifyType::INITIAL_CONTACT,
        Vec::new(),
    ))];
    let first = emit_payloads(&inner, &mut plain);
    assert_eq!(first, PayloadType::NOTIFY);
    assert_eq!(parse_payloads(first, &plain).as_deref(), Ok(&inner[..]));

    let sk = EncryptedPayload {
        first_inner: first,
        body: plain,
    };
    let msg = informational(vec![Payload::Sk(sk)]);
    let bytes = msg.emit();
    let header = Header::parse(&bytes).expect("header");
    assert_eq!(header.next_payload, PayloadType::SK);
    assert_eq!(header.length as usize, bytes.len());
    let parsed = Message::parse(&bytes).expect("message");
    assert_eq!(parsed.payloads, msg.payloads);
}

#[test]
fn wire_errors_say_what_to_notify() {
    let bytes = informational(Vec::new()).emit();
    assert_eq!(bytes.len(), HEADER_LEN);

    let short = Message::parse(&bytes[..HEADER_LEN - 1]).expect_err("short");
    assert_eq!(short.notify(), None);

    let mut v3 = bytes.clone();
    v3[17] = 0x30;
    let version = Message::parse(&v3).expect_err("version 3");
    assert_eq!(
        version,
        ParseError::UnsupportedMajorVersion { version: 0x30 }
    );
    assert_eq!(version.notify(), Some(NotifyType::INVALID_MAJOR_VERSION));

    let mut dangling = bytes;
    dangling[16] = PayloadType::NONCE.0;
    let syntax = Message::parse(&dangling).expect_err("missing payload");
    assert_eq!(syntax.notify(), Some(NotifyType::INVALID_SYNTAX));
    assert!(!syntax.to_string().is_empty());
    let _: &dyn std::error::Error = &syntax;
}
