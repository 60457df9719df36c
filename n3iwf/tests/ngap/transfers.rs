//! The setup transfers (TS 38.413 §9.3.4.1, §9.3.4.2): round trips, transfers built by hand
//! with the bindings and by pycrate, and what a faulty one fails its session with.

use std::net::{Ipv4Addr, Ipv6Addr};

use n3iwf::ids::{FiveQi, Qfi, Teid};
use n3iwf::ngap::*;
use oxirush_ngap::aper::BitString;
use oxirush_ngap::build_ngap_ie;
use oxirush_ngap::ngap as asn;

use crate::samples;

fn qfi(value: u8) -> Qfi {
    Qfi::new(value).unwrap()
}

fn flow(qfi_value: u8, five_qi: u8) -> QosFlowRequest {
    QosFlowRequest {
        qfi: qfi(qfi_value),
        characteristics: QosCharacteristics::NonDynamic {
            five_qi: FiveQi(five_qi),
        },
        arp: Arp {
            priority_level: 8,
            may_trigger_pre_emption: false,
            pre_emptable: false,
        },
        gbr: None,
    }
}

/// Every field set: both address families, a non-GBR flow and a dynamic GBR one.
pub(crate) fn full_request() -> PduSessionResourceSetupRequestTransfer {
    let gbr = QosFlowRequest {
        qfi: qfi(5),
        characteristics: QosCharacteristics::Dynamic {
            five_qi: Some(FiveQi(1)),
            descriptor: DynamicQos {
                priority_level: 20,
                packet_delay_budget: 200,
                per_scalar: 1,
                per_exponent: 2,
            },
        },
        arp: Arp {
            priority_level: 2,
            may_trigger_pre_emption: true,
            pre_emptable: true,
        },
        gbr: Some(GbrQos {
            max_dl: 2_000_000,
            max_ul: 1_000_000,
            guaranteed_dl: 128_000,
            guaranteed_ul: 64_000,
        }),
    };
    PduSessionResourceSetupRequestTransfer {
        ul_tunnel: GtpTunnel {
            address: TransportAddress::Dual(
                Ipv4Addr::new(192, 0, 2, 1),
                "2001:db8::1".parse::<Ipv6Addr>().unwrap(),
            ),
            teid: Teid(0xdead_beef),
        },
        session_type: PduSessionType::Ipv4v6,
        qos_flows: vec![flow(1, 9), gbr],
        session_ambr: Some(SessionAmbr {
            downlink: 100_000_000,
            uplink: 50_000_000,
        }),
        security: Some(SecurityIndication {
            integrity: ProtectionIndication::Required,
            confidentiality: ProtectionIndication::Preferred,
        }),
        network_instance: Some(256),
    }
}

pub(crate) fn response() -> PduSessionResourceSetupResponseTransfer {
    PduSessionResourceSetupResponseTransfer {
        dl_tunnel: GtpTunnel {
            address: TransportAddress::V4(Ipv4Addr::new(192, 0, 2, 2)),
            teid: Teid(0x0000_0102),
        },
        qos_flows: vec![qfi(1), qfi(5)],
        security_result: Some(SecurityResult {
            integrity_performed: true,
            confidentiality_performed: true,
        }),
    }
}

fn minimal_request() -> PduSessionResourceSetupRequestTransfer {
    PduSessionResourceSetupRequestTransfer {
        ul_tunnel: GtpTunnel {
            address: TransportAddress::V4(Ipv4Addr::new(192, 0, 2, 1)),
            teid: Teid(1),
        },
        session_type: PduSessionType::Ipv4,
        qos_flows: vec![flow(1, 9)],
        session_ambr: None,
        security: None,
        network_instance: None,
    }
}

#[test]
fn request_transfer_round_trips() {
    for transfer in [full_request(), minimal_request()] {
        let octets = transfer.encode().unwrap();
        assert_eq!(
            PduSessionResourceSetupRequestTransfer::decode(&octets),
            Ok(transfer)
        );
    }
}

#[test]
fn response_transfer_round_trips() {
    let transfer = response();
    let octets = transfer.encode().unwrap();
    assert_eq!(
        PduSessionResourceSetupResponseTransfer::decode(&octets),
        Ok(transfer)
    );
}

/// The request transfer of the golden vectors, which pycrate encoded.
#[test]
fn decodes_the_transfer_pycrate_built() {
    let transfer =
        PduSessionResourceSetupRequestTransfer::decode(&samples::SETUP_REQUEST_TRANSFER).unwrap();
    assert_eq!(transfer, minimal_request());
    // And we write the same octets back: same IEs, same order.
    assert_eq!(
        transfer.encode().unwrap(),
        samples::SETUP_REQUEST_TRANSFER.to_vec()
    );
    let response =
        PduSessionResourceSetupResponseTransfer::decode(&samples::SETUP_RESPONSE_TRANSFER).unwrap();
    assert_eq!(response.dl_tunnel.teid, Teid(2));
    assert_eq!(response.qos_flows, vec![qfi(1)]);
    assert_eq!(response.security_result, None);
}

fn gtp_tunnel(address: BitString<'static>, teid: u32) -> asn::UPTransportLayerInformation<'static> {
    asn::UPTransportLayerInformation::gTPTunnel(asn::GTPTunnel::new(
        asn::TransportLayerAddress(address),
        asn::GTPTEID(teid.to_be_bytes()),
        None,
    ))
}

fn asn_flow(qfi: u64) -> asn::QosFlowSetupRequestItem {
    asn::QosFlowSetupRequestItem::new(
        asn::QosFlowIdentifier(qfi),
        asn::QosFlowLevelQosParameters::new(
            asn::QosCharacteristics::nonDynamic5QI(asn::NonDynamic5QIDescriptor::new(
                asn::FiveQI(9),
                None,
                None,
                None,
                None,
            )),
            asn::AllocationAndRetentionPriority::new(
                asn::PriorityLevelARP(15),
                asn::PreEmptionCapability::shall_not_trigger_pre_emption,
                asn::PreEmptionVulnerability::pre_emptable,
                None,
            ),
            None,
            None,
            None,
            None,
        ),
        None,
        None,
    )
}

/// A transfer built by hand with the bindings, IE by IE, from the given pieces.
fn by_hand(
    address: BitString<'static>,
    flows: Vec<asn::QosFlowSetupRequestItem>,
    extra: Vec<asn::ProtocolIEField<'static>>,
) -> Vec<u8> {
    let mut ies = vec![
        build_ngap_ie!(
            PDUSessionResourceSetupRequestTransfer,
            UL_NGU_UP_TNLInformation(gtp_tunnel(address, 0x0102_0304))
        )
        .unwrap(),
        build_ngap_ie!(
            PDUSessionResourceSetupRequestTransfer,
            PDUSessionType(asn::PDUSessionType::ipv6)
        )
        .unwrap(),
    ];
    ies.extend(extra);
    if !flows.is_empty() {
        ies.push(
            build_ngap_ie!(
                PDUSessionResourceSetupRequestTransfer,
                QosFlowSetupRequestList(asn::QosFlowSetupRequestList(flows))
            )
            .unwrap(),
        );
    }
    let transfer = asn::PDUSessionResourceSetupRequestTransfer::new(asn::ProtocolIEContainer(ies));
    asn::encode_open_type(&transfer).unwrap().to_vec()
}

fn v6_bits() -> BitString<'static> {
    BitString::from("2001:db8::5".parse::<Ipv6Addr>().unwrap().octets().to_vec())
}

#[test]
fn decodes_a_transfer_built_by_hand() {
    let octets = by_hand(v6_bits(), vec![asn_flow(7), asn_flow(63)], vec![]);
    let transfer = PduSessionResourceSetupRequestTransfer::decode(&octets).unwrap();
    assert_eq!(
        transfer.ul_tunnel,
        GtpTunnel {
            address: TransportAddress::V6("2001:db8::5".parse().unwrap()),
            teid: Teid(0x0102_0304),
        }
    );
    assert_eq!(transfer.session_type, PduSessionType::Ipv6);
    let qfis: Vec<_> = transfer.qos_flows.iter().map(|f| f.qfi.value()).collect();
    assert_eq!(qfis, [7, 63]);
    assert_eq!(transfer.qos_flows[0].arp.priority_level, 15);
    assert!(transfer.qos_flows[0].arp.pre_emptable);
    assert_eq!(
        transfer.qos_flows[1].characteristics.five_qi(),
        Some(FiveQi(9))
    );
}

fn cause_of(octets: &[u8]) -> Cause {
    PduSessionResourceSetupRequestTransfer::decode(octets)
        .unwrap_err()
        .cause()
}

#[test]
fn missing_qos_flow_list_is_an_abstract_syntax_error() {
    let octets = by_hand(v6_bits(), vec![], vec![]);
    let error = PduSessionResourceSetupRequestTransfer::decode(&octets).unwrap_err();
    assert!(
        matches!(error, TransferError::Rejected { ie: Some(136), .. }),
        "{error:?}"
    );
    assert_eq!(
        error.cause(),
        Cause::Protocol(ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT)
    );
}

#[test]
fn a_repeated_ie_is_a_falsely_constructed_transfer() {
    let again = build_ngap_ie!(
        PDUSessionResourceSetupRequestTransfer,
        PDUSessionType(asn::PDUSessionType::ipv4)
    )
    .unwrap();
    let octets = by_hand(v6_bits(), vec![asn_flow(1)], vec![again]);
    assert_eq!(
        cause_of(&octets),
        Cause::Protocol(ProtocolCause::ABSTRACT_SYNTAX_ERROR_FALSELY_CONSTRUCTED_MESSAGE)
    );
}

#[test]
fn an_ie_of_criticality_ignore_we_do_not_use_is_passed_over() {
    // Direct Forwarding Path Availability (IE 22, ignore) is in the object set but of no use to
    // an N3IWF; an unknown IE id with criticality ignore is not comprehended.
    let unknown = asn::ProtocolIEField::new(
        asn::ProtocolIEID(999),
        asn::Criticality::ignore,
        vec![0x00].into(),
    );
    let octets = by_hand(v6_bits(), vec![asn_flow(1)], vec![unknown]);
    assert!(PduSessionResourceSetupRequestTransfer::decode(&octets).is_ok());
    let unknown_reject = asn::ProtocolIEField::new(
        asn::ProtocolIEID(999),
        asn::Criticality::reject,
        vec![0x00].into(),
    );
    let octets = by_hand(v6_bits(), vec![asn_flow(1)], vec![unknown_reject]);
    assert_eq!(
        cause_of(&octets),
        Cause::Protocol(ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT)
    );
}

#[test]
fn a_qfi_twice_fails_with_multiple_qos_flow_id_instances() {
    let octets = by_hand(v6_bits(), vec![asn_flow(3), asn_flow(3)], vec![]);
    assert_eq!(
        PduSessionResourceSetupRequestTransfer::decode(&octets),
        Err(TransferError::DuplicateQfi(qfi(3)))
    );
    assert_eq!(
        cause_of(&octets),
        Cause::RadioNetwork(RadioNetworkCause::MULTIPLE_QOS_FLOW_ID_INSTANCES)
    );
}

/// QFI is `INTEGER (0..63, ...)`: 64 is a later release's value, outside the root, in an IE of
/// criticality reject.
#[test]
fn a_qfi_beyond_63_is_refused() {
    let octets = by_hand(v6_bits(), vec![asn_flow(64)], vec![]);
    assert_eq!(
        PduSessionResourceSetupRequestTransfer::decode(&octets),
        Err(TransferError::Rejected {
            ie: Some(136),
            cause: ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT
        })
    );
}

#[test]
fn an_address_of_64_bits_is_a_semantic_error() {
    let odd = BitString::new(vec![0xc0, 0, 2, 1, 0, 0, 0, 0], 64).unwrap();
    let octets = by_hand(odd, vec![asn_flow(1)], vec![]);
    assert_eq!(
        PduSessionResourceSetupRequestTransfer::decode(&octets),
        Err(TransferError::Value("Transport Layer Address"))
    );
    assert_eq!(
        cause_of(&octets),
        Cause::Protocol(ProtocolCause::SEMANTIC_ERROR)
    );
}

/// maxnoofQosFlows: 64 flows are read, and we never encode 65.
#[test]
fn the_qos_flow_bound_is_64() {
    let flows = (0..64).map(asn_flow).collect();
    let octets = by_hand(v6_bits(), flows, vec![]);
    let transfer = PduSessionResourceSetupRequestTransfer::decode(&octets).unwrap();
    assert_eq!(transfer.qos_flows.len(), MAX_QOS_FLOWS);
    let mut too_many = transfer.clone();
    too_many.qos_flows.push(flow(1, 9));
    assert!(matches!(too_many.encode(), Err(EncodeError::Constraint(_))));
    let mut none = transfer;
    none.qos_flows.clear();
    assert!(none.encode().is_err());
}

#[test]
fn truncated_garbage_and_over_long_octets_fail_without_panic() {
    let octets = full_request().encode().unwrap();
    for len in 0..octets.len() {
        let error = PduSessionResourceSetupRequestTransfer::decode(&octets[..len]).unwrap_err();
        assert!(matches!(
            error.cause(),
            Cause::Protocol(ProtocolCause::TRANSFER_SYNTAX_ERROR)
                | Cause::Protocol(ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT)
        ));
    }
    let long = vec![0u8; MAX_TRANSFER_LEN + 1];
    assert_eq!(
        PduSessionResourceSetupRequestTransfer::decode(&long),
        Err(TransferError::TooLong {
            len: MAX_TRANSFER_LEN + 1
        })
    );
    assert_eq!(
        PduSessionResourceSetupResponseTransfer::decode(&long),
        Err(TransferError::TooLong {
            len: MAX_TRANSFER_LEN + 1
        })
    );
}

proptest::proptest! {
    #[test]
    fn decoding_arbitrary_octets_never_panics(octets in proptest::collection::vec(0u8.., 0..200)) {
        let _ = PduSessionResourceSetupRequestTransfer::decode(&octets);
        let _ = PduSessionResourceSetupResponseTransfer::decode(&octets);
    }
}
