//! One message of each kind the N3IWF sends or accepts, with the values their golden vector
//! and their pycrate description (tests/vectors/ngap/) hold.

use std::net::{Ipv4Addr, Ipv6Addr};

use n3iwf::ids::{AmfPointer, AmfRegionId, AmfSetId, Guami, PduSessionId, Plmn, Snssai, Tac};
use n3iwf::ngap::*;

pub(crate) fn plmn() -> Plmn {
    Plmn::new("310", "410").unwrap()
}

pub(crate) fn plmn2() -> Plmn {
    Plmn::new("208", "93").unwrap()
}

pub(crate) fn ids() -> UeNgapIds {
    UeNgapIds {
        amf: AmfUeNgapId::new(0x01_0000_0002).unwrap(),
        ran: RanUeNgapId(7),
    }
}

pub(crate) fn guami() -> Guami {
    Guami {
        plmn: plmn(),
        region: AmfRegionId(0xca),
        set: AmfSetId::new(0x3f8).unwrap(),
        pointer: AmfPointer::new(1).unwrap(),
    }
}

pub(crate) fn location() -> N3iwfUserLocation {
    N3iwfUserLocation {
        address: TransportAddress::V4(Ipv4Addr::new(192, 0, 2, 10)),
        port: 4500,
    }
}

pub(crate) fn slices() -> Vec<Snssai> {
    vec![Snssai::new(1), Snssai::with_sd(1, [0x01, 0x02, 0x03])]
}

pub(crate) const REGISTRATION_REQUEST: [u8; 8] = [0x7e, 0x00, 0x41, 0x79, 0x00, 0x0d, 0x01, 0x13];
pub(crate) const AUTHENTICATION_REQUEST: [u8; 5] = [0x7e, 0x00, 0x56, 0x00, 0x02];
/// UL NG-U tunnel 192.0.2.1 TEID 1, IPv4, QoS flow 1 with 5QI 9 and ARP 8.
pub(crate) const SETUP_REQUEST_TRANSFER: [u8; 33] = [
    0x00, 0x00, 0x03, 0x00, 0x8b, 0x00, 0x0a, 0x01, 0xf0, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x86, 0x00, 0x01, 0x00, 0x00, 0x88, 0x00, 0x07, 0x00, 0x01, 0x00, 0x00, 0x09, 0x1c,
    0x00,
];
/// DL tunnel 192.0.2.2 TEID 2 carrying QoS flow 1.
pub(crate) const SETUP_RESPONSE_TRANSFER: [u8; 13] = [
    0x00, 0x03, 0xe0, 0xc0, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01,
];
pub(crate) const KN3IWF: [u8; 32] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
];

fn ng_setup_request() -> NgapMessage {
    NgSetupRequest {
        global_n3iwf_id: GlobalN3iwfId {
            plmn: plmn(),
            n3iwf_id: N3iwfId(0x0135),
        },
        ran_node_name: Some("n3iwf-1".into()),
        supported_tas: vec![SupportedTa {
            tac: Tac([0x00, 0x00, 0x01]),
            broadcast_plmns: vec![
                PlmnSlices {
                    plmn: plmn(),
                    slices: slices(),
                },
                PlmnSlices {
                    plmn: plmn2(),
                    slices: vec![Snssai::new(2)],
                },
            ],
        }],
        default_paging_drx: PagingDrx::V128,
    }
    .into()
}

fn ng_setup_response() -> NgapMessage {
    NgSetupResponse {
        amf_name: "amf-1".into(),
        served_guamis: vec![ServedGuami {
            guami: guami(),
            backup_amf_name: Some("amf-2".into()),
        }],
        relative_amf_capacity: 255,
        plmn_support: vec![PlmnSlices {
            plmn: plmn(),
            slices: slices(),
        }],
        diagnostics: None,
    }
    .into()
}

fn ng_setup_failure() -> NgapMessage {
    NgSetupFailure {
        cause: Cause::Misc(MiscCause::UNKNOWN_PLMN_OR_SNPN),
        time_to_wait: Some(TimeToWait::V5S),
        diagnostics: None,
    }
    .into()
}

fn initial_ue_message() -> NgapMessage {
    InitialUeMessage {
        ran_ue_ngap_id: RanUeNgapId(7),
        nas_pdu: REGISTRATION_REQUEST.to_vec(),
        location: location(),
        rrc_establishment_cause: RrcEstablishmentCause::MO_SIGNALLING,
        five_g_s_tmsi: Some(FiveGSTmsi {
            set: AmfSetId::new(0x3f8).unwrap(),
            pointer: AmfPointer::new(1).unwrap(),
            tmsi: [0xde, 0xad, 0xbe, 0xef],
        }),
        amf_set_id: None,
        ue_context_requested: true,
        allowed_nssai: Some(vec![Snssai::new(1)]),
        selected_plmn: Some(plmn()),
    }
    .into()
}

fn downlink_nas_transport() -> NgapMessage {
    DownlinkNasTransport {
        ids: ids(),
        nas_pdu: AUTHENTICATION_REQUEST.to_vec(),
        allowed_nssai: None,
    }
    .into()
}

fn uplink_nas_transport() -> NgapMessage {
    UplinkNasTransport {
        ids: ids(),
        nas_pdu: vec![0x7e, 0x00, 0x57, 0x2d, 0x10],
        location: N3iwfUserLocation {
            address: TransportAddress::V6("2001:db8::a".parse::<Ipv6Addr>().unwrap()),
            port: 50_000,
        },
    }
    .into()
}

fn nas_non_delivery_indication() -> NgapMessage {
    NasNonDeliveryIndication {
        ids: ids(),
        nas_pdu: vec![0x7e, 0x02, 0x11, 0x22, 0x33, 0x44, 0x01, 0x7e, 0x00, 0x42],
        cause: Cause::RadioNetwork(RadioNetworkCause::RADIO_CONNECTION_WITH_UE_LOST),
    }
    .into()
}

fn initial_context_setup_request() -> NgapMessage {
    InitialContextSetupRequest {
        ids: ids(),
        ue_ambr: Some(UeAmbr {
            downlink: 1_000_000_000,
            uplink: 500_000_000,
        }),
        guami: guami(),
        pdu_sessions: vec![PduSessionSetupItem {
            pdu_session_id: PduSessionId(1),
            nas_pdu: None,
            snssai: Snssai::new(1),
            transfer: SETUP_REQUEST_TRANSFER.to_vec(),
        }],
        allowed_nssai: vec![Snssai::new(1)],
        security_capabilities: UeSecurityCapabilities {
            nr_encryption: 0xe000,
            nr_integrity: 0xe000,
            eutra_encryption: 0xe000,
            eutra_integrity: 0xe000,
        },
        security_key: SecurityKey::new(KN3IWF),
        nas_pdu: Some(vec![
            0x7e, 0x02, 0x01, 0x02, 0x03, 0x04, 0x01, 0x7e, 0x00, 0x42, 0x01,
        ]),
    }
    .into()
}

fn initial_context_setup_response() -> NgapMessage {
    InitialContextSetupResponse {
        ids: ids(),
        setup: vec![PduSessionTransfer {
            pdu_session_id: PduSessionId(1),
            transfer: SETUP_RESPONSE_TRANSFER.to_vec(),
        }],
        failed: vec![PduSessionTransfer {
            pdu_session_id: PduSessionId(2),
            transfer: vec![0x00, 0x00], // cause radioNetwork/unspecified
        }],
        diagnostics: None,
    }
    .into()
}

fn initial_context_setup_failure() -> NgapMessage {
    InitialContextSetupFailure {
        ids: ids(),
        failed: Vec::new(),
        cause: Cause::RadioNetwork(RadioNetworkCause::FAILURE_IN_RADIO_INTERFACE_PROCEDURE),
        diagnostics: None,
    }
    .into()
}

fn ue_context_release_request() -> NgapMessage {
    UeContextReleaseRequest {
        ids: ids(),
        pdu_sessions: vec![PduSessionId(1), PduSessionId(5)],
        cause: Cause::RadioNetwork(RadioNetworkCause::RADIO_CONNECTION_WITH_UE_LOST),
    }
    .into()
}

fn ue_context_release_command() -> NgapMessage {
    UeContextReleaseCommand {
        ue: UeNgapIdentity::Pair(ids()),
        cause: Cause::Nas(NasCause::NORMAL_RELEASE),
    }
    .into()
}

fn ue_context_release_complete() -> NgapMessage {
    UeContextReleaseComplete {
        ids: ids(),
        location: Some(location()),
        pdu_sessions: vec![PduSessionId(1)],
        diagnostics: None,
    }
    .into()
}

fn error_indication() -> NgapMessage {
    ErrorIndication {
        amf_ue_ngap_id: Some(ids().amf),
        ran_ue_ngap_id: Some(ids().ran),
        cause: Some(Cause::Protocol(ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT)),
        diagnostics: Some(CriticalityDiagnostics {
            procedure_code: Some(4),
            triggering_message: Some(TriggeringMessage::InitiatingMessage),
            procedure_criticality: Some(Criticality::Ignore),
            ies: vec![DiagnosedIe {
                criticality: Criticality::Reject,
                id: 900,
                type_of_error: TypeOfError::NotUnderstood,
            }],
        }),
    }
    .into()
}

fn ng_reset() -> NgapMessage {
    NgReset {
        cause: Cause::Misc(MiscCause::OM_INTERVENTION),
        scope: ResetScope::Connections(vec![
            UeAssociatedConnection {
                amf_ue_ngap_id: Some(ids().amf),
                ran_ue_ngap_id: Some(ids().ran),
            },
            UeAssociatedConnection {
                amf_ue_ngap_id: None,
                ran_ue_ngap_id: Some(RanUeNgapId(9)),
            },
        ]),
    }
    .into()
}

fn ng_reset_all() -> NgapMessage {
    NgReset {
        cause: Cause::Transport(TransportCause::TRANSPORT_RESOURCE_UNAVAILABLE),
        scope: ResetScope::Interface,
    }
    .into()
}

fn ng_reset_acknowledge() -> NgapMessage {
    NgResetAcknowledge {
        connections: vec![UeAssociatedConnection {
            amf_ue_ngap_id: Some(ids().amf),
            ran_ue_ngap_id: Some(ids().ran),
        }],
        diagnostics: None,
    }
    .into()
}

fn amf_configuration_update() -> NgapMessage {
    AmfConfigurationUpdate {
        amf_name: Some("amf-1b".into()),
        served_guamis: Some(vec![ServedGuami {
            guami: guami(),
            backup_amf_name: None,
        }]),
        relative_amf_capacity: Some(10),
        plmn_support: Some(vec![PlmnSlices {
            plmn: plmn2(),
            slices: vec![Snssai::with_sd(2, [0xaa, 0xbb, 0xcc])],
        }]),
    }
    .into()
}

fn amf_configuration_update_acknowledge() -> NgapMessage {
    AmfConfigurationUpdateAcknowledge { diagnostics: None }.into()
}

fn amf_status_indication() -> NgapMessage {
    AmfStatusIndication {
        unavailable_guamis: vec![UnavailableGuami {
            guami: guami(),
            apply_timer: true,
            backup_amf_name: Some("amf-2".into()),
        }],
    }
    .into()
}

fn pdu_session_resource_setup_request() -> NgapMessage {
    PduSessionResourceSetupRequest {
        ids: ids(),
        nas_pdu: None,
        sessions: vec![PduSessionSetupItem {
            pdu_session_id: PduSessionId(5),
            nas_pdu: Some(vec![
                0x7e, 0x00, 0x68, 0x01, 0x00, 0x05, 0x2e, 0x05, 0x01, 0xc2,
            ]),
            snssai: Snssai::with_sd(1, [0x01, 0x02, 0x03]),
            transfer: SETUP_REQUEST_TRANSFER.to_vec(),
        }],
        ue_ambr: None,
    }
    .into()
}

fn pdu_session_resource_setup_response() -> NgapMessage {
    PduSessionResourceSetupResponse {
        ids: ids(),
        setup: vec![PduSessionTransfer {
            pdu_session_id: PduSessionId(5),
            transfer: SETUP_RESPONSE_TRANSFER.to_vec(),
        }],
        failed: Vec::new(),
        diagnostics: None,
    }
    .into()
}

fn pdu_session_resource_release_command() -> NgapMessage {
    PduSessionResourceReleaseCommand {
        ids: ids(),
        nas_pdu: Some(vec![
            0x7e, 0x00, 0x68, 0x01, 0x00, 0x04, 0x2e, 0x05, 0x01, 0xd3,
        ]),
        sessions: vec![PduSessionTransfer {
            pdu_session_id: PduSessionId(5),
            transfer: vec![0x10], // cause nas/normal-release
        }],
    }
    .into()
}

fn pdu_session_resource_release_response() -> NgapMessage {
    PduSessionResourceReleaseResponse {
        ids: ids(),
        released: vec![PduSessionTransfer {
            pdu_session_id: PduSessionId(5),
            transfer: vec![0x00], // empty
        }],
        location: Some(location()),
        diagnostics: None,
    }
    .into()
}

/// Each sample by the name of its vector files.
pub(crate) fn all() -> Vec<(&'static str, NgapMessage)> {
    vec![
        ("ng_setup_request", ng_setup_request()),
        ("ng_setup_response", ng_setup_response()),
        ("ng_setup_failure", ng_setup_failure()),
        ("initial_ue_message", initial_ue_message()),
        ("downlink_nas_transport", downlink_nas_transport()),
        ("uplink_nas_transport", uplink_nas_transport()),
        ("nas_non_delivery_indication", nas_non_delivery_indication()),
        (
            "initial_context_setup_request",
            initial_context_setup_request(),
        ),
        (
            "initial_context_setup_response",
            initial_context_setup_response(),
        ),
        (
            "initial_context_setup_failure",
            initial_context_setup_failure(),
        ),
        ("ue_context_release_request", ue_context_release_request()),
        ("ue_context_release_command", ue_context_release_command()),
        ("ue_context_release_complete", ue_context_release_complete()),
        ("error_indication", error_indication()),
        ("ng_reset", ng_reset()),
        ("ng_reset_all", ng_reset_all()),
        ("ng_reset_acknowledge", ng_reset_acknowledge()),
        ("amf_configuration_update", amf_configuration_update()),
        (
            "amf_configuration_update_acknowledge",
            amf_configuration_update_acknowledge(),
        ),
        ("amf_status_indication", amf_status_indication()),
        (
            "pdu_session_resource_setup_request",
            pdu_session_resource_setup_request(),
        ),
        (
            "pdu_session_resource_setup_response",
            pdu_session_resource_setup_response(),
        ),
        (
            "pdu_session_resource_release_command",
            pdu_session_resource_release_command(),
        ),
        (
            "pdu_session_resource_release_response",
            pdu_session_resource_release_response(),
        ),
    ]
}
