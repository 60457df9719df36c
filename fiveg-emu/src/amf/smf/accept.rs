//! The 5GSM messages the SMF writes: ACCEPT with the session's address and QoS, REJECT, and
//! RELEASE COMMAND.

use std::net::Ipv4Addr;

use n3iwf::ids::PduSessionId;

use super::config::SmfConfig;
use crate::nas::SNssai;
use crate::nas::sm::{
    PacketFilter, PduAddress, PduSessionEstablishmentAccept, PduSessionType, Pti,
    QosFlowDescription, QosRule, SmCause, SmCauseMessage, SmMessage, SmPdu, SscMode,
};

/// Packet filter components (TS 24.501 table 9.11.4.13.1): protocol identifier and single
/// remote port.
const COMPONENT_PROTOCOL: u8 = 0x30;
const COMPONENT_REMOTE_PORT: u8 = 0x50;
const UDP: u8 = 17;

/// The ACCEPT of a session with `address`; `cause` #50 when the UE asked for IPv4v6.
pub(super) fn accept(
    config: &SmfConfig,
    id: PduSessionId,
    pti: Pti,
    address: Ipv4Addr,
    snssai: SNssai,
    cause: Option<SmCause>,
) -> SmPdu {
    let mut qos_rules = vec![QosRule::default_rule(1, config.default_flow.qfi)];
    if let Some(second) = config.second_flow {
        let [hi, lo] = second.remote_port.to_be_bytes();
        qos_rules.push(QosRule {
            id: 2,
            filters: vec![PacketFilter {
                direction: 3,
                id: 1,
                contents: vec![COMPONENT_PROTOCOL, UDP, COMPONENT_REMOTE_PORT, hi, lo],
            }],
            default: false,
            precedence: Some(10),
            ..QosRule::default_rule(2, second.flow.qfi)
        });
    }
    let qos_flow_descriptions = config
        .flows()
        .iter()
        .map(|flow| QosFlowDescription::create(flow.qfi, flow.five_qi))
        .collect();
    let accept = PduSessionEstablishmentAccept {
        pdu_session_type: PduSessionType::IPV4,
        ssc_mode: SscMode::MODE_1,
        qos_rules,
        session_ambr: config.session_ambr,
        cause,
        pdu_address: Some(PduAddress::Ipv4(address)),
        snssai: Some(snssai),
        qos_flow_descriptions,
        dnn: Some(config.dnn.clone()),
        other_ies: Vec::new(),
    };
    SmPdu {
        pdu_session_id: id,
        pti,
        message: SmMessage::PduSessionEstablishmentAccept(Box::new(accept)),
    }
}

pub(super) fn reject(id: PduSessionId, pti: Pti, cause: SmCause) -> SmPdu {
    SmPdu {
        pdu_session_id: id,
        pti,
        message: SmMessage::PduSessionEstablishmentReject(SmCauseMessage::new(cause)),
    }
}

pub(super) fn release_command(id: PduSessionId, pti: Pti, cause: SmCause) -> SmPdu {
    SmPdu {
        pdu_session_id: id,
        pti,
        message: SmMessage::PduSessionReleaseCommand(SmCauseMessage::new(cause)),
    }
}
