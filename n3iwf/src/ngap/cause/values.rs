//! The cause values of TS 38.413 §9.3.1.2 (ASN.1 of V19.4.0), as open enums over their index
//! in the ASN.1 enumeration, and the tables that map an index to the value of the bindings.
//! The tables are checked against the bindings' own numbering in the tests of `super`.

use oxirush_ngap::ngap::{CauseMisc, CauseNas, CauseProtocol, CauseRadioNetwork, CauseTransport};

use crate::macros::open_enum;

open_enum! {
    /// Radio network layer causes (TS 38.413 §9.3.1.2), by index in the ASN.1 enumeration.
    RadioNetworkCause(u8) {
        UNSPECIFIED = 0,
        TXNRELOCOVERALL_EXPIRY = 1,
        SUCCESSFUL_HANDOVER = 2,
        RELEASE_DUE_TO_NGRAN_GENERATED_REASON = 3,
        RELEASE_DUE_TO_5GC_GENERATED_REASON = 4,
        HANDOVER_CANCELLED = 5,
        PARTIAL_HANDOVER = 6,
        HO_FAILURE_IN_TARGET_5GC_NGRAN_NODE_OR_TARGET_SYSTEM = 7,
        HO_TARGET_NOT_ALLOWED = 8,
        TNGRELOCOVERALL_EXPIRY = 9,
        TNGRELOCPREP_EXPIRY = 10,
        CELL_NOT_AVAILABLE = 11,
        UNKNOWN_TARGETID = 12,
        NO_RADIO_RESOURCES_AVAILABLE_IN_TARGET_CELL = 13,
        UNKNOWN_LOCAL_UE_NGAP_ID = 14,
        INCONSISTENT_REMOTE_UE_NGAP_ID = 15,
        HANDOVER_DESIRABLE_FOR_RADIO_REASON = 16,
        TIME_CRITICAL_HANDOVER = 17,
        RESOURCE_OPTIMISATION_HANDOVER = 18,
        REDUCE_LOAD_IN_SERVING_CELL = 19,
        USER_INACTIVITY = 20,
        RADIO_CONNECTION_WITH_UE_LOST = 21,
        RADIO_RESOURCES_NOT_AVAILABLE = 22,
        INVALID_QOS_COMBINATION = 23,
        FAILURE_IN_RADIO_INTERFACE_PROCEDURE = 24,
        INTERACTION_WITH_OTHER_PROCEDURE = 25,
        UNKNOWN_PDU_SESSION_ID = 26,
        UNKOWN_QOS_FLOW_ID = 27,
        MULTIPLE_PDU_SESSION_ID_INSTANCES = 28,
        MULTIPLE_QOS_FLOW_ID_INSTANCES = 29,
        ENCRYPTION_AND_OR_INTEGRITY_PROTECTION_ALGORITHMS_NOT_SUPPORTED = 30,
        NG_INTRA_SYSTEM_HANDOVER_TRIGGERED = 31,
        NG_INTER_SYSTEM_HANDOVER_TRIGGERED = 32,
        XN_HANDOVER_TRIGGERED = 33,
        NOT_SUPPORTED_5QI_VALUE = 34,
        UE_CONTEXT_TRANSFER = 35,
        IMS_VOICE_EPS_FALLBACK_OR_RAT_FALLBACK_TRIGGERED = 36,
        UP_INTEGRITY_PROTECTION_NOT_POSSIBLE = 37,
        UP_CONFIDENTIALITY_PROTECTION_NOT_POSSIBLE = 38,
        SLICE_NOT_SUPPORTED = 39,
        UE_IN_RRC_INACTIVE_STATE_NOT_REACHABLE = 40,
        REDIRECTION = 41,
        RESOURCES_NOT_AVAILABLE_FOR_THE_SLICE = 42,
        UE_MAX_INTEGRITY_PROTECTED_DATA_RATE_REASON = 43,
        RELEASE_DUE_TO_CN_DETECTED_MOBILITY = 44,
        N26_INTERFACE_NOT_AVAILABLE = 45,
        RELEASE_DUE_TO_PRE_EMPTION = 46,
        MULTIPLE_LOCATION_REPORTING_REFERENCE_ID_INSTANCES = 47,
        RSN_NOT_AVAILABLE_FOR_THE_UP = 48,
        NPN_ACCESS_DENIED = 49,
        CAG_ONLY_ACCESS_DENIED = 50,
        INSUFFICIENT_UE_CAPABILITIES = 51,
        REDCAP_UE_NOT_SUPPORTED = 52,
        UNKNOWN_MBS_SESSION_ID = 53,
        INDICATED_MBS_SESSION_AREA_INFORMATION_NOT_SERVED_BY_THE_GNB = 54,
        INCONSISTENT_SLICE_INFO_FOR_THE_SESSION = 55,
        MISALIGNED_ASSOCIATION_FOR_MULTICAST_UNICAST = 56,
        EREDCAP_UE_NOT_SUPPORTED = 57,
        TWO_RX_XR_UE_NOT_SUPPORTED = 58,
        AERIAL_UE_FLIGHT_INFORMATION_REPORTING_INITIATION_FAILURE = 59,
        UNKNOWN_RAN_AIOT_DEVICE_NGAP_ID = 60,
        REQUESTED_AIOT_SERVICE_AREA_INFORMATION_NOT_SERVED_BY_THE_GNB = 61,
        UNKNOWN_AIOT_SESSION = 62,
        AIOT_DEVICE_NOT_REACHABLE = 63,
        MULTIPLE_AIOT_SESSION_ID_INSTANCES = 64,
    }
}

open_enum! {
    /// Transport layer causes (TS 38.413 §9.3.1.2), by index in the ASN.1 enumeration.
    TransportCause(u8) {
        TRANSPORT_RESOURCE_UNAVAILABLE = 0,
        UNSPECIFIED = 1,
    }
}

open_enum! {
    /// NAS causes (TS 38.413 §9.3.1.2), by index in the ASN.1 enumeration.
    NasCause(u8) {
        NORMAL_RELEASE = 0,
        AUTHENTICATION_FAILURE = 1,
        DEREGISTER = 2,
        UNSPECIFIED = 3,
        UE_NOT_IN_PLMN_SERVING_AREA = 4,
        MOBILE_IAB_NOT_AUTHORIZED = 5,
        IAB_NOT_AUTHORIZED = 6,
        NO_AIOT_NAS_RESPONSE = 7,
    }
}

open_enum! {
    /// Protocol causes (TS 38.413 §9.3.1.2), by index in the ASN.1 enumeration.
    ProtocolCause(u8) {
        TRANSFER_SYNTAX_ERROR = 0,
        ABSTRACT_SYNTAX_ERROR_REJECT = 1,
        ABSTRACT_SYNTAX_ERROR_IGNORE_AND_NOTIFY = 2,
        MESSAGE_NOT_COMPATIBLE_WITH_RECEIVER_STATE = 3,
        SEMANTIC_ERROR = 4,
        ABSTRACT_SYNTAX_ERROR_FALSELY_CONSTRUCTED_MESSAGE = 5,
        UNSPECIFIED = 6,
    }
}

open_enum! {
    /// Miscellaneous causes (TS 38.413 §9.3.1.2), by index in the ASN.1 enumeration.
    MiscCause(u8) {
        CONTROL_PROCESSING_OVERLOAD = 0,
        NOT_ENOUGH_USER_PLANE_PROCESSING_RESOURCES = 1,
        HARDWARE_FAILURE = 2,
        OM_INTERVENTION = 3,
        UNKNOWN_PLMN_OR_SNPN = 4,
        UNSPECIFIED = 5,
    }
}

// The values of the bindings, in the order of their indexes: index i is value i.
pub(super) const RADIO_NETWORK: [CauseRadioNetwork; 65] = [
    CauseRadioNetwork::unspecified,
    CauseRadioNetwork::txnrelocoverall_expiry,
    CauseRadioNetwork::successful_handover,
    CauseRadioNetwork::release_due_to_ngran_generated_reason,
    CauseRadioNetwork::release_due_to_5gc_generated_reason,
    CauseRadioNetwork::handover_cancelled,
    CauseRadioNetwork::partial_handover,
    CauseRadioNetwork::ho_failure_in_target_5GC_ngran_node_or_target_system,
    CauseRadioNetwork::ho_target_not_allowed,
    CauseRadioNetwork::tngrelocoverall_expiry,
    CauseRadioNetwork::tngrelocprep_expiry,
    CauseRadioNetwork::cell_not_available,
    CauseRadioNetwork::unknown_targetID,
    CauseRadioNetwork::no_radio_resources_available_in_target_cell,
    CauseRadioNetwork::unknown_local_UE_NGAP_ID,
    CauseRadioNetwork::inconsistent_remote_UE_NGAP_ID,
    CauseRadioNetwork::handover_desirable_for_radio_reason,
    CauseRadioNetwork::time_critical_handover,
    CauseRadioNetwork::resource_optimisation_handover,
    CauseRadioNetwork::reduce_load_in_serving_cell,
    CauseRadioNetwork::user_inactivity,
    CauseRadioNetwork::radio_connection_with_ue_lost,
    CauseRadioNetwork::radio_resources_not_available,
    CauseRadioNetwork::invalid_qos_combination,
    CauseRadioNetwork::failure_in_radio_interface_procedure,
    CauseRadioNetwork::interaction_with_other_procedure,
    CauseRadioNetwork::unknown_PDU_session_ID,
    CauseRadioNetwork::unkown_qos_flow_ID,
    CauseRadioNetwork::multiple_PDU_session_ID_instances,
    CauseRadioNetwork::multiple_qos_flow_ID_instances,
    CauseRadioNetwork::encryption_and_or_integrity_protection_algorithms_not_supported,
    CauseRadioNetwork::ng_intra_system_handover_triggered,
    CauseRadioNetwork::ng_inter_system_handover_triggered,
    CauseRadioNetwork::xn_handover_triggered,
    CauseRadioNetwork::not_supported_5QI_value,
    CauseRadioNetwork::ue_context_transfer,
    CauseRadioNetwork::ims_voice_eps_fallback_or_rat_fallback_triggered,
    CauseRadioNetwork::up_integrity_protection_not_possible,
    CauseRadioNetwork::up_confidentiality_protection_not_possible,
    CauseRadioNetwork::slice_not_supported,
    CauseRadioNetwork::ue_in_rrc_inactive_state_not_reachable,
    CauseRadioNetwork::redirection,
    CauseRadioNetwork::resources_not_available_for_the_slice,
    CauseRadioNetwork::ue_max_integrity_protected_data_rate_reason,
    CauseRadioNetwork::release_due_to_cn_detected_mobility,
    CauseRadioNetwork::n26_interface_not_available,
    CauseRadioNetwork::release_due_to_pre_emption,
    CauseRadioNetwork::multiple_location_reporting_reference_ID_instances,
    CauseRadioNetwork::rsn_not_available_for_the_up,
    CauseRadioNetwork::npn_access_denied,
    CauseRadioNetwork::cag_only_access_denied,
    CauseRadioNetwork::insufficient_ue_capabilities,
    CauseRadioNetwork::redcap_ue_not_supported,
    CauseRadioNetwork::unknown_MBS_Session_ID,
    CauseRadioNetwork::indicated_MBS_session_area_information_not_served_by_the_gNB,
    CauseRadioNetwork::inconsistent_slice_info_for_the_session,
    CauseRadioNetwork::misaligned_association_for_multicast_unicast,
    CauseRadioNetwork::eredcap_ue_not_supported,
    CauseRadioNetwork::two_rx_xr_ue_not_supported,
    CauseRadioNetwork::aerial_ue_flight_information_reporting_initiation_failure,
    CauseRadioNetwork::unknown_RAN_AIoT_Device_NGAP_ID,
    CauseRadioNetwork::requested_AIoT_service_area_information_not_served_by_the_gNB,
    CauseRadioNetwork::unknown_AIoT_session,
    CauseRadioNetwork::aiot_device_not_reachable,
    CauseRadioNetwork::multiple_AIoT_session_ID_instances,
];

pub(super) const TRANSPORT: [CauseTransport; 2] = [
    CauseTransport::transport_resource_unavailable,
    CauseTransport::unspecified,
];

pub(super) const NAS: [CauseNas; 8] = [
    CauseNas::normal_release,
    CauseNas::authentication_failure,
    CauseNas::deregister,
    CauseNas::unspecified,
    CauseNas::uE_not_in_PLMN_serving_area,
    CauseNas::mobile_IAB_not_authorized,
    CauseNas::iAB_not_authorized,
    CauseNas::no_aiot_NAS_response,
];

pub(super) const PROTOCOL: [CauseProtocol; 7] = [
    CauseProtocol::transfer_syntax_error,
    CauseProtocol::abstract_syntax_error_reject,
    CauseProtocol::abstract_syntax_error_ignore_and_notify,
    CauseProtocol::message_not_compatible_with_receiver_state,
    CauseProtocol::semantic_error,
    CauseProtocol::abstract_syntax_error_falsely_constructed_message,
    CauseProtocol::unspecified,
];

pub(super) const MISC: [CauseMisc; 6] = [
    CauseMisc::control_processing_overload,
    CauseMisc::not_enough_user_plane_processing_resources,
    CauseMisc::hardware_failure,
    CauseMisc::om_intervention,
    CauseMisc::unknown_PLMN_or_SNPN,
    CauseMisc::unspecified,
];
