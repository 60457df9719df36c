//! The NGAP messages of the N3IWF, one file per group of procedures, and the helpers they
//! share.

mod amf;
mod context;
mod error_indication;
mod nas;
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
use super::diagnostics::CriticalityDiagnostics;
use super::ies::{ReadError, opt, req};
use super::types::{AmfUeNgapId, RanUeNgapId, UeNgapIds};

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

use {transfers_from_asn, transfers_to_asn};

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
    UeContextReleaseCommand = 41,
    UeContextReleaseComplete = 41,
    UeContextReleaseRequest = 42,
    UplinkNasTransport = 46,
}
