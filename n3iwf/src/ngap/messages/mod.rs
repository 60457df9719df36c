//! The NGAP messages of the N3IWF, one file per group of procedures, and the helpers they
//! share.

mod amf;
mod context;
mod error_indication;
mod nas;
mod notify;
mod pdu_session;
mod release;
mod reset;
mod setup;

use oxirush_ngap::ie;
use oxirush_ngap::ngap::{self as asn, NGAPPDU};

pub use amf::{AmfConfigurationUpdate, AmfConfigurationUpdateAcknowledge, AmfStatusIndication};
pub use context::{
    InitialContextSetupFailure, InitialContextSetupRequest, InitialContextSetupResponse,
};
pub use error_indication::ErrorIndication;
pub use nas::{
    DownlinkNasTransport, InitialUeMessage, NasNonDeliveryIndication, UplinkNasTransport,
};
pub use notify::PduSessionResourceNotify;
pub use pdu_session::{
    PduSessionResourceReleaseCommand, PduSessionResourceReleaseResponse,
    PduSessionResourceSetupRequest, PduSessionResourceSetupResponse,
};
pub use release::{
    UeContextReleaseCommand, UeContextReleaseComplete, UeContextReleaseRequest, UeNgapIdentity,
};
pub use reset::{NgReset, NgResetAcknowledge, ResetScope, UeAssociatedConnection};
pub use setup::{NgSetupFailure, NgSetupRequest, NgSetupResponse};

use super::cause::Cause;
use super::convert::location_from_asn;
use super::diagnostics::CriticalityDiagnostics;
use super::ies::{ReadError, opt, req};
use super::types::{AmfUeNgapId, N3iwfUserLocation, RanUeNgapId, UeNgapIds};

fn amf_id_to_asn(id: AmfUeNgapId) -> asn::AMFUENGAPID {
    asn::AMFUENGAPID(id.value())
}

fn amf_id_from_asn(id: asn::AMFUENGAPID) -> Result<AmfUeNgapId, ReadError> {
    AmfUeNgapId::new(id.0).ok_or(ReadError::Value("AMF-UE-NGAP-ID"))
}

/// The AMF-UE-NGAP-ID and RAN-UE-NGAP-ID IEs, both required.
fn ue_ids(pdu: &NGAPPDU<'_>) -> Result<UeNgapIds, ReadError> {
    Ok(UeNgapIds {
        amf: amf_id_from_asn(req::<ie::AMF_UE_NGAP_ID>(pdu)?)?,
        ran: RanUeNgapId(req::<ie::RAN_UE_NGAP_ID>(pdu)?.0),
    })
}

fn cause_ie(pdu: &NGAPPDU<'_>) -> Result<Cause, ReadError> {
    Ok(Cause::from_asn(&req::<ie::Cause>(pdu)?))
}

fn diagnostics_ie(pdu: &NGAPPDU<'_>) -> Result<Option<CriticalityDiagnostics>, ReadError> {
    Ok(opt::<ie::CriticalityDiagnostics>(pdu)?.map(|d| CriticalityDiagnostics::from_asn(&d)))
}

fn location_ie(pdu: &NGAPPDU<'_>) -> Result<Option<N3iwfUserLocation>, ReadError> {
    opt::<ie::UserLocationInformation>(pdu)?
        .map(|l| location_from_asn(&l))
        .transpose()
}

fn nas_pdu_ie(pdu: &NGAPPDU<'_>) -> Result<Option<Vec<u8>>, ReadError> {
    Ok(opt::<ie::NAS_PDU>(pdu)?.map(|n| n.0.to_vec()))
}

/// A list of `{ PDU Session ID, transfer }` items of the bindings from the facade's
/// [`PduSessionTransfer`](super::types::PduSessionTransfer)s.
macro_rules! transfers_to_asn {
    ($list:ident, $item:ident, $transfers:expr) => {
        oxirush_ngap::ngap::$list(
            $transfers
                .iter()
                .map(|t| {
                    oxirush_ngap::ngap::$item::new(
                        oxirush_ngap::ngap::PDUSessionID(t.pdu_session_id.0),
                        oxirush_ngap::Octets::from(t.transfer.clone()),
                        None,
                    )
                })
                .collect(),
        )
    };
}

/// The facade's [`PduSessionTransfer`](super::types::PduSessionTransfer)s of a list of the
/// bindings, whose items keep their transfer in `$field`.
macro_rules! transfers_from_asn {
    ($list:expr, $field:ident) => {
        $list
            .0
            .iter()
            .map(|item| crate::ngap::types::PduSessionTransfer {
                pdu_session_id: crate::ids::PduSessionId(item.pdu_session_id.0),
                transfer: item.$field.to_vec(),
            })
            .collect::<Vec<_>>()
    };
}

/// The IE list of UE-associated message `$msg`: AMF-UE-NGAP-ID and RAN-UE-NGAP-ID from `$ids`,
/// then each `IE(value)` given. Returns from the caller with the error of an IE that does not
/// encode.
macro_rules! ue_ies {
    ($msg:ident, $ids:expr $(, $ie:ident($value:expr))* $(,)?) => {
        vec![
            oxirush_ngap::build_ngap_ie!(
                $msg,
                AMF_UE_NGAP_ID(crate::ngap::messages::amf_id_to_asn($ids.amf))
            )?,
            oxirush_ngap::build_ngap_ie!(
                $msg,
                RAN_UE_NGAP_ID(oxirush_ngap::ngap::RANUENGAPID($ids.ran.0))
            )?,
            $(oxirush_ngap::build_ngap_ie!($msg, $ie($value))?,)*
        ]
    };
}

/// Appends IE `$ie` of message `$msg` to `$ies` when `$option` matches `Some($binding)`, as
/// `if let` would.
macro_rules! optional_ie {
    ($ies:ident, $msg:ident, $binding:pat = $option:expr => $ie:ident($value:expr)) => {
        if let Some($binding) = $option {
            $ies.push(oxirush_ngap::build_ngap_ie!($msg, $ie($value))?);
        }
    };
}

/// Appends the list IE `$list` of `$item`s of message `$msg` to `$ies` unless `$transfers`
/// (the facade's [`PduSessionTransfer`](super::types::PduSessionTransfer)s) is empty, in which
/// case the IE is absent.
macro_rules! transfers_ie {
    ($ies:ident, $msg:ident, $list:ident($item:ident), $transfers:expr) => {
        if !$transfers.is_empty() {
            let list = crate::ngap::messages::transfers_to_asn!($list, $item, $transfers);
            $ies.push(oxirush_ngap::build_ngap_ie!($msg, $list(list))?);
        }
    };
}

/// The transfers of the optional list IE `$list` of `$pdu`, whose items keep their transfer in
/// `$field`; none when the IE is absent.
macro_rules! optional_transfers {
    ($pdu:expr, $list:ident, $field:ident) => {
        crate::ngap::ies::opt::<oxirush_ngap::ie::$list>($pdu)?
            .map(|l| crate::ngap::messages::transfers_from_asn!(l, $field))
            .unwrap_or_default()
    };
}

/// `to_pdu` and `from_pdu` of a setup response (`$type`, message `$msg`): the UE's IDs, the
/// sessions set up (list `$setup` of `$setup_item`s with their Setup Response Transfers), those
/// that failed (list `$failed` of `$failed_item`s with their Setup Unsuccessful Transfers), and
/// optional Criticality Diagnostics. INITIAL CONTEXT SETUP RESPONSE and PDU SESSION RESOURCE
/// SETUP RESPONSE differ only in these names.
macro_rules! setup_response_codec {
    (
        $type:ident,
        $msg:ident,
        $setup:ident($setup_item:ident),
        $failed:ident($failed_item:ident)
    ) => {
        impl $type {
            pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
                let mut ies = ue_ies!($msg, self.ids);
                transfers_ie!(ies, $msg, $setup($setup_item), self.setup);
                transfers_ie!(ies, $msg, $failed($failed_item), self.failed);
                optional_ie!(ies, $msg,
                    d = &self.diagnostics => CriticalityDiagnostics(d.to_asn()));
                pdu_of(&asn::$msg::new(asn::ProtocolIEContainer(ies)))
            }

            pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
                Ok(Self {
                    ids: ue_ids(pdu)?,
                    setup: optional_transfers!(
                        pdu,
                        $setup,
                        pdu_session_resource_setup_response_transfer
                    ),
                    failed: optional_transfers!(
                        pdu,
                        $failed,
                        pdu_session_resource_setup_unsuccessful_transfer
                    ),
                    diagnostics: diagnostics_ie(pdu)?,
                })
            }
        }
    };
}

/// Appends the list IE `$list` of `$item`s, each a PDU Session ID alone, of message `$msg` to
/// `$ies` unless `$ids` is empty, in which case the IE is absent.
macro_rules! session_ids_ie {
    ($ies:ident, $msg:ident, $list:ident($item:ident), $ids:expr) => {
        if !$ids.is_empty() {
            let items = $ids.iter().map(|id| {
                oxirush_ngap::ngap::$item::new(oxirush_ngap::ngap::PDUSessionID(id.0), None)
            });
            let list = oxirush_ngap::ngap::$list(items.collect());
            $ies.push(oxirush_ngap::build_ngap_ie!($msg, $list(list))?);
        }
    };
}

/// The PDU Session IDs of the optional list IE `$list` of `$pdu`; none when it is absent.
macro_rules! optional_session_ids {
    ($pdu:expr, $list:ident) => {
        crate::ngap::ies::opt::<oxirush_ngap::ie::$list>($pdu)?
            .iter()
            .flat_map(|l| &l.0)
            .map(|i| crate::ids::PduSessionId(i.pdu_session_id.0))
            .collect()
    };
}

/// Functions `$to` and `$from` between the facade's
/// [`PduSessionSetupItem`](super::types::PduSessionSetupItem) and the bindings' `$item`, whose
/// NAS PDU field is `$nas`.
macro_rules! setup_item_conversions {
    ($to:ident, $from:ident, $item:ident, $nas:ident) => {
        fn $to(item: &PduSessionSetupItem) -> oxirush_ngap::ngap::$item<'static> {
            oxirush_ngap::ngap::$item::new(
                oxirush_ngap::ngap::PDUSessionID(item.pdu_session_id.0),
                item.nas_pdu.clone().map(oxirush_ngap::ngap::NASPDU::from),
                crate::ngap::convert::snssai_to_asn(item.snssai),
                oxirush_ngap::Octets::from(item.transfer.clone()),
                None,
            )
        }

        fn $from(item: &oxirush_ngap::ngap::$item<'_>) -> PduSessionSetupItem {
            PduSessionSetupItem {
                pdu_session_id: crate::ids::PduSessionId(item.pdu_session_id.0),
                nas_pdu: item.$nas.as_ref().map(|n| n.0.to_vec()),
                snssai: crate::ngap::convert::snssai_from_asn(&item.s_nssai),
                transfer: item.pdu_session_resource_setup_request_transfer.to_vec(),
            }
        }
    };
}

use {
    optional_ie, optional_session_ids, optional_transfers, session_ids_ie, setup_item_conversions,
    setup_response_codec, transfers_from_asn, transfers_ie, transfers_to_asn, ue_ies,
};
/// The procedure code of each message's elementary procedure (TS 38.413 §9.4.7).
macro_rules! procedure_codes {
    ($($message:ident = $code:expr,)*) => {
        $(impl $message {
            pub(in super::super) const PROCEDURE_CODE: u8 = $code;
        })*
    };
}

procedure_codes! {
    AmfConfigurationUpdate = 0,
    AmfConfigurationUpdateAcknowledge = 0,
    AmfStatusIndication = 1,
    DownlinkNasTransport = 4,
    ErrorIndication = 9,
    InitialContextSetupRequest = 14,
    InitialContextSetupResponse = 14,
    InitialContextSetupFailure = 14,
    InitialUeMessage = 15,
    NasNonDeliveryIndication = 19,
    NgReset = 20,
    NgResetAcknowledge = 20,
    NgSetupRequest = 21,
    NgSetupResponse = 21,
    NgSetupFailure = 21,
    PduSessionResourceReleaseCommand = 28,
    PduSessionResourceReleaseResponse = 28,
    PduSessionResourceSetupRequest = 29,
    PduSessionResourceSetupResponse = 29,
    PduSessionResourceNotify = 30,
    UeContextReleaseCommand = 41,
    UeContextReleaseComplete = 41,
    UeContextReleaseRequest = 42,
    UplinkNasTransport = 46,
}
