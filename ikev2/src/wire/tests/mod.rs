//! Tests across payload types: a hand-assembled IKE_SA_INIT request, robustness against
//! truncation and corruption, property tests, and the fuzz seed corpus. Per-payload byte-exact
//! tests sit at the bottom of each payload's own file.

mod corpus;
mod init_request;
mod props;
mod robustness;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::enums::{
    AuthMethod, CfgAttrType, CfgType, EncrId, EsnId, ExchangeType, IdType, KeId, NotifyType,
    PayloadType, ProtocolId, TransformType,
};
use super::ids::{IkeSpi, MessageId};
use super::types::{
    AuthPayload, CfgAttribute, Configuration, Delete, EncryptedFragment, EncryptedPayload, Flags,
    Header, IKE_VERSION, Identification, IpSelector, Message, Notify, Payload, Proposal,
    TrafficSelector, Transform,
};
use super::{emit_payloads, parse_payloads};

/// Checks that `bytes` parses into `payloads`, that `payloads` emits exactly `bytes` and
/// reports `first`, and that the emitted bytes parse back.
#[track_caller]
pub(super) fn assert_codec(first: PayloadType, bytes: &[u8], payloads: &[Payload]) {
    assert_eq!(
        parse_payloads(first, bytes).as_deref(),
        Ok(payloads),
        "parse"
    );
    let mut out = Vec::new();
    assert_eq!(
        emit_payloads(payloads, &mut out),
        first,
        "first payload type"
    );
    assert_eq!(out, bytes, "emit");
    assert_eq!(
        parse_payloads(first, &out).as_deref(),
        Ok(payloads),
        "emit then parse"
    );
}

/// A header for the messages below; `next_payload` and `length` are left for emit to compute.
fn header(exchange: ExchangeType, message_id: u32, response: bool) -> Header {
    Header {
        spi_i: IkeSpi(0x8a3c_41f2_0b9d_6e17),
        spi_r: IkeSpi(0x52e1_07c4_9f3a_d680),
        next_payload: PayloadType::NONE,
        version: IKE_VERSION,
        exchange,
        flags: Flags::new(true, response),
        message_id: MessageId(message_id),
        length: 0,
    }
}

/// The plaintext chain of an IKE_AUTH request with configuration: IDi, AUTH, CP, SA (ESP),
/// TSi, TSr and a status notify.
fn ike_auth_inner() -> Vec<Payload> {
    let any_v4 = TrafficSelector::Ip(IpSelector {
        ip_protocol: 0,
        start_port: 0,
        end_port: 0xffff,
        start_addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        end_addr: IpAddr::V4(Ipv4Addr::BROADCAST),
    });
    let v6_net = TrafficSelector::Ip(IpSelector {
        ip_protocol: 17,
        start_port: 500,
        end_port: 4500,
        start_addr: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0)),
        end_addr: IpAddr::V6(Ipv6Addr::new(
            0x2001, 0xdb8, 0, 0, 0xffff, 0xffff, 0xffff, 0xffff,
        )),
    });
    vec![
        Payload::IdI(Identification {
            id_type: IdType::FQDN,
            data: b"ue.example.org".to_vec(),
        }),
        Payload::Auth(AuthPayload {
            method: AuthMethod::SHARED_KEY_MIC,
            data: vec![0xa5; 48],
        }),
        Payload::Cp(Configuration {
            cfg_type: CfgType::CFG_REQUEST,
            attributes: vec![
                CfgAttribute {
                    attr_type: CfgAttrType::INTERNAL_IP4_ADDRESS,
                    value: Vec::new(),
                },
                CfgAttribute {
                    attr_type: CfgAttrType::INTERNAL_IP6_DNS,
                    value: Vec::new(),
                },
            ],
        }),
        Payload::Sa(vec![Proposal {
            number: 1,
            protocol: ProtocolId::ESP,
            spi: vec![0xc1, 0x5e, 0x00, 0x01],
            transforms: vec![
                Transform::encr(EncrId::AES_GCM_16, Some(256)),
                Transform::ke(TransformType::ADDKE1, KeId::ML_KEM_768),
                Transform::new(TransformType::ESN, EsnId::NO_ESN.0),
            ],
        }]),
        Payload::TsI(vec![any_v4.clone(), v6_net]),
        Payload::TsR(vec![any_v4]),
        Payload::Notify(Notify::new(NotifyType::USE_PPK, Vec::new())),
        Payload::Delete(Delete {
            protocol: ProtocolId::ESP,
            spi_size: 4,
            spis: vec![vec![0xc1, 0x5e, 0x00, 0x00]],
        }),
    ]
}

/// An IKE_AUTH request whose payloads are protected: only SK on the outside.
fn protected_request() -> Message {
    let sk = EncryptedPayload {
        first_inner: PayloadType::IDI,
        body: vec![0x3c; 80],
    };
    Message {
        header: header(ExchangeType::IKE_AUTH, 1, false),
        payloads: vec![Payload::Sk(sk)],
    }
}

/// The second of three fragments of an IKE_AUTH response (RFC 7383).
fn fragment_response() -> Message {
    let skf = EncryptedFragment {
        first_inner: PayloadType::NONE,
        fragment_number: 2,
        total_fragments: 3,
        body: vec![0x7e; 60],
    };
    Message {
        header: header(ExchangeType::IKE_AUTH, 1, true),
        payloads: vec![Payload::Skf(skf)],
    }
}
