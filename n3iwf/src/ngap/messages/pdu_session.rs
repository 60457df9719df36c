//! PDU SESSION RESOURCE SETUP and RELEASE (TS 38.413 §8.2.1, §8.2.2). The transfers stay
//! encoded here: each is an OCTET STRING holding a separately APER-encoded structure.

use oxirush_ngap::ngap::{self as asn, NGAP_PDU, NGAPPDU};
use oxirush_ngap::{build_ngap_ie, ie};

use super::super::convert::{ambr_from_asn, ambr_to_asn, location_to_asn};
use super::super::diagnostics::CriticalityDiagnostics;
use super::super::error::EncodeError;
use super::super::ies::{ReadError, opt, pdu_of, req};
use super::super::types::{
    N3iwfUserLocation, PduSessionSetupItem, PduSessionTransfer, UeAmbr, UeNgapIds,
};
use super::{
    diagnostics_ie, location_ie, nas_pdu_ie, optional_ie, optional_transfers,
    setup_item_conversions, setup_response_codec, transfers_from_asn, transfers_ie,
    transfers_to_asn, ue_ids, ue_ies,
};

/// PDU SESSION RESOURCE SETUP REQUEST (AMF → N3IWF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceSetupRequest {
    pub ids: UeNgapIds,
    pub nas_pdu: Option<Vec<u8>>,
    /// At least one session.
    pub sessions: Vec<PduSessionSetupItem>,
    pub ue_ambr: Option<UeAmbr>,
}

/// PDU SESSION RESOURCE SETUP RESPONSE (N3IWF → AMF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceSetupResponse {
    pub ids: UeNgapIds,
    /// Each with its PDU Session Resource Setup Response Transfer.
    pub setup: Vec<PduSessionTransfer>,
    /// Each with its PDU Session Resource Setup Unsuccessful Transfer.
    pub failed: Vec<PduSessionTransfer>,
    pub diagnostics: Option<CriticalityDiagnostics>,
}

/// PDU SESSION RESOURCE RELEASE COMMAND (AMF → N3IWF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceReleaseCommand {
    pub ids: UeNgapIds,
    pub nas_pdu: Option<Vec<u8>>,
    /// Each with its PDU Session Resource Release Command Transfer; at least one.
    pub sessions: Vec<PduSessionTransfer>,
}

/// PDU SESSION RESOURCE RELEASE RESPONSE (N3IWF → AMF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceReleaseResponse {
    pub ids: UeNgapIds,
    /// Each with its PDU Session Resource Release Response Transfer; at least one.
    pub released: Vec<PduSessionTransfer>,
    pub location: Option<N3iwfUserLocation>,
    pub diagnostics: Option<CriticalityDiagnostics>,
}

impl PduSessionResourceSetupRequest {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = ue_ies!(PDUSessionResourceSetupRequest, self.ids);
        optional_ie!(ies, PDUSessionResourceSetupRequest,
            nas = &self.nas_pdu => NAS_PDU(asn::NASPDU::from(nas.clone())));
        let list =
            asn::PDUSessionResourceSetupListSUReq(self.sessions.iter().map(item_to_asn).collect());
        ies.push(build_ngap_ie!(
            PDUSessionResourceSetupRequest,
            PDUSessionResourceSetupListSUReq(list)
        )?);
        optional_ie!(ies, PDUSessionResourceSetupRequest,
            ambr = self.ue_ambr => UEAggregateMaximumBitRate(ambr_to_asn(ambr)));
        pdu_of(&asn::PDUSessionResourceSetupRequest::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let list = req::<ie::PDUSessionResourceSetupListSUReq>(pdu)?;
        Ok(Self {
            ids: ue_ids(pdu)?,
            nas_pdu: nas_pdu_ie(pdu)?,
            sessions: list.0.iter().map(item_from_asn).collect(),
            ue_ambr: opt::<ie::UEAggregateMaximumBitRate>(pdu)?.map(|a| ambr_from_asn(&a)),
        })
    }
}

setup_item_conversions!(
    item_to_asn,
    item_from_asn,
    PDUSessionResourceSetupItemSUReq,
    pdu_session_nas_pdu
);

setup_response_codec!(
    PduSessionResourceSetupResponse,
    PDUSessionResourceSetupResponse,
    PDUSessionResourceSetupListSURes(PDUSessionResourceSetupItemSURes),
    PDUSessionResourceFailedToSetupListSURes(PDUSessionResourceFailedToSetupItemSURes)
);

impl PduSessionResourceReleaseCommand {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = ue_ies!(PDUSessionResourceReleaseCommand, self.ids);
        optional_ie!(ies, PDUSessionResourceReleaseCommand,
            nas = &self.nas_pdu => NAS_PDU(asn::NASPDU::from(nas.clone())));
        let list = transfers_to_asn!(
            PDUSessionResourceToReleaseListRelCmd,
            PDUSessionResourceToReleaseItemRelCmd,
            self.sessions
        );
        ies.push(build_ngap_ie!(
            PDUSessionResourceReleaseCommand,
            PDUSessionResourceToReleaseListRelCmd(list)
        )?);
        pdu_of(&asn::PDUSessionResourceReleaseCommand::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let list = req::<ie::PDUSessionResourceToReleaseListRelCmd>(pdu)?;
        Ok(Self {
            ids: ue_ids(pdu)?,
            nas_pdu: nas_pdu_ie(pdu)?,
            sessions: transfers_from_asn!(list, pdu_session_resource_release_command_transfer),
        })
    }
}

impl PduSessionResourceReleaseResponse {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let list = transfers_to_asn!(
            PDUSessionResourceReleasedListRelRes,
            PDUSessionResourceReleasedItemRelRes,
            self.released
        );
        let mut ies = ue_ies!(
            PDUSessionResourceReleaseResponse,
            self.ids,
            PDUSessionResourceReleasedListRelRes(list),
        );
        optional_ie!(ies, PDUSessionResourceReleaseResponse,
            location = self.location => UserLocationInformation(location_to_asn(location)));
        optional_ie!(ies, PDUSessionResourceReleaseResponse,
            d = &self.diagnostics => CriticalityDiagnostics(d.to_asn()));
        pdu_of(&asn::PDUSessionResourceReleaseResponse::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let list = req::<ie::PDUSessionResourceReleasedListRelRes>(pdu)?;
        Ok(Self {
            ids: ue_ids(pdu)?,
            released: transfers_from_asn!(list, pdu_session_resource_release_response_transfer),
            location: location_ie(pdu)?,
            diagnostics: diagnostics_ie(pdu)?,
        })
    }
}
