//! Property tests: arbitrary messages and chains that the wire can carry survive emit → parse.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::*;
use crate::wire::MAX_ITEMS;
use crate::wire::enums::{CertEncoding, TsType};
use crate::wire::types::{CertPayload, KeyExchangePayload, TransformAttribute};

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

/// A payload type that the codec does not know (and not NONE).
fn unknown_payload_type() -> impl Strategy<Value = PayloadType> {
    (1..=u8::MAX)
        .prop_filter("known payload type", |t| {
            !((33..=48).contains(t) || *t == 53)
        })
        .prop_map(PayloadType)
}

fn attribute() -> impl Strategy<Value = TransformAttribute> {
    prop_oneof![
        (0..0x8000u16, any::<u16>())
            .prop_map(|(attr_type, value)| TransformAttribute::Tv { attr_type, value }),
        (0..0x8000u16, bytes(12))
            .prop_map(|(attr_type, value)| TransformAttribute::Tlv { attr_type, value }),
    ]
}

fn transform() -> impl Strategy<Value = Transform> {
    (any::<u8>(), any::<u16>(), vec(attribute(), 0..3)).prop_map(|(t, id, attributes)| Transform {
        transform_type: TransformType(t),
        id,
        attributes,
    })
}

fn proposal() -> impl Strategy<Value = Proposal> {
    (any::<u8>(), any::<u8>(), bytes(8), vec(transform(), 0..6)).prop_map(
        |(number, protocol, spi, transforms)| Proposal {
            number,
            protocol: ProtocolId(protocol),
            spi,
            transforms,
        },
    )
}

fn ip_selector() -> impl Strategy<Value = IpSelector> {
    let v4 =
        (any::<[u8; 4]>(), any::<[u8; 4]>()).prop_map(|(a, b)| (IpAddr::from(a), IpAddr::from(b)));
    let v6 = (any::<[u8; 16]>(), any::<[u8; 16]>())
        .prop_map(|(a, b)| (IpAddr::from(a), IpAddr::from(b)));
    (any::<u8>(), any::<u16>(), any::<u16>(), prop_oneof![v4, v6]).prop_map(
        |(ip_protocol, start_port, end_port, (start_addr, end_addr))| IpSelector {
            ip_protocol,
            start_port,
            end_port,
            start_addr,
            end_addr,
        },
    )
}

fn selector() -> impl Strategy<Value = TrafficSelector> {
    let unknown = (any::<u8>(), any::<u8>(), bytes(20))
        .prop_filter("address range type", |(t, ..)| *t != 7 && *t != 8)
        .prop_map(|(t, ip_protocol, body)| TrafficSelector::Unknown {
            ts_type: TsType(t),
            ip_protocol,
            body,
        });
    prop_oneof![3 => ip_selector().prop_map(TrafficSelector::Ip), 1 => unknown]
}

fn delete() -> impl Strategy<Value = Delete> {
    (any::<u8>(), 0..=8u8, 0..5usize).prop_flat_map(|(protocol, spi_size, count)| {
        vec(vec(any::<u8>(), usize::from(spi_size)), count).prop_map(move |spis| Delete {
            protocol: ProtocolId(protocol),
            spi_size,
            spis,
        })
    })
}

fn configuration() -> impl Strategy<Value = Configuration> {
    let attribute = (0..0x8000u16, bytes(16)).prop_map(|(t, value)| CfgAttribute {
        attr_type: CfgAttrType(t),
        value,
    });
    (any::<u8>(), vec(attribute, 0..5)).prop_map(|(t, attributes)| Configuration {
        cfg_type: CfgType(t),
        attributes,
    })
}

/// Any payload except the encrypted ones, which must end a chain.
fn plain_payload() -> impl Strategy<Value = Payload> {
    let id = || {
        (any::<u8>(), bytes(24)).prop_map(|(t, data)| Identification {
            id_type: IdType(t),
            data,
        })
    };
    let cert = || {
        (any::<u8>(), bytes(24)).prop_map(|(e, data)| CertPayload {
            encoding: CertEncoding(e),
            data,
        })
    };
    prop_oneof![
        vec(proposal(), 0..4).prop_map(Payload::Sa),
        (any::<u16>(), bytes(64)).prop_map(|(g, data)| Payload::Ke(KeyExchangePayload {
            group: KeId(g),
            data
        })),
        id().prop_map(Payload::IdI),
        id().prop_map(Payload::IdR),
        cert().prop_map(Payload::Cert),
        cert().prop_map(Payload::CertReq),
        (any::<u8>(), bytes(32)).prop_map(|(m, data)| Payload::Auth(AuthPayload {
            method: AuthMethod(m),
            data
        })),
        bytes(64).prop_map(Payload::Nonce),
        (any::<u8>(), bytes(8), any::<u16>(), bytes(24)).prop_map(|(p, spi, t, data)| {
            Payload::Notify(Notify {
                protocol: ProtocolId(p),
                spi,
                notify_type: NotifyType(t),
                data,
            })
        }),
        delete().prop_map(Payload::Delete),
        bytes(24).prop_map(Payload::VendorId),
        vec(selector(), 0..5).prop_map(Payload::TsI),
        vec(selector(), 0..5).prop_map(Payload::TsR),
        configuration().prop_map(Payload::Cp),
        bytes(24).prop_map(Payload::Eap),
        (unknown_payload_type(), any::<bool>(), bytes(24)).prop_map(
            |(payload_type, critical, body)| Payload::Unknown {
                payload_type,
                critical,
                body
            }
        ),
    ]
}

fn encrypted_payload() -> impl Strategy<Value = Payload> {
    let sk = (any::<u8>(), bytes(64)).prop_map(|(t, body)| {
        Payload::Sk(EncryptedPayload {
            first_inner: PayloadType(t),
            body,
        })
    });
    let skf = (any::<u8>(), 1..=u16::MAX, bytes(64)).prop_flat_map(|(t, total, body)| {
        (1..=total).prop_map(move |number| {
            Payload::Skf(EncryptedFragment {
                first_inner: PayloadType(t),
                fragment_number: number,
                total_fragments: total,
                body: body.clone(),
            })
        })
    });
    prop_oneof![sk, skf]
}

/// A chain the wire can carry: plain payloads, optionally ending with SK or SKF.
fn chain() -> impl Strategy<Value = Vec<Payload>> {
    (vec(plain_payload(), 0..8), option::of(encrypted_payload())).prop_map(|(mut chain, last)| {
        chain.extend(last);
        chain
    })
}

fn message() -> impl Strategy<Value = Message> {
    let header = (
        any::<u64>(),
        any::<u64>(),
        0x20..=0x2fu8,
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
    );
    (header, chain()).prop_map(
        |((spi_i, spi_r, version, exchange, flags, id), payloads)| Message {
            header: Header {
                spi_i: IkeSpi(spi_i),
                spi_r: IkeSpi(spi_r),
                next_payload: PayloadType::NONE,
                version,
                exchange: ExchangeType(exchange),
                flags: Flags(flags),
                message_id: MessageId(id),
                length: 0,
            },
            payloads,
        },
    )
}

proptest! {
    #[test]
    fn wire_message_emit_then_parse_is_identity(msg in message()) {
        let bytes = msg.emit();
        let mut expected = msg.clone();
        let first = msg.payloads.first().map_or(PayloadType::NONE, Payload::payload_type);
        expected.header.next_payload = first;
        expected.header.length = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        let parsed = Message::parse(&bytes);
        prop_assert_eq!(parsed.as_ref(), Ok(&expected));
        prop_assert_eq!(parsed.map(|m| m.emit()), Ok(bytes));
    }

    #[test]
    fn wire_chain_emit_then_parse_is_identity(payloads in chain()) {
        prop_assume!(payloads.len() <= MAX_ITEMS);
        let mut bytes = Vec::new();
        let first = emit_payloads(&payloads, &mut bytes);
        prop_assert_eq!(parse_payloads(first, &bytes), Ok(payloads));
    }

    #[test]
    fn wire_arbitrary_chain_bytes_never_panic(first in any::<u8>(), bytes in bytes(512)) {
        if let Ok(payloads) = parse_payloads(PayloadType(first), &bytes) {
            let mut out = Vec::new();
            emit_payloads(&payloads, &mut out);
            prop_assert_eq!(parse_payloads(PayloadType(first), &out), Ok(payloads));
        }
    }
}
