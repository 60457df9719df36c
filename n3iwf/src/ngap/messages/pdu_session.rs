//! PDU SESSION RESOURCE SETUP and RELEASE (TS 38.413 §8.2.1, §8.2.2). The transfers stay
//! encoded here: each is an OCTET STRING holding a separately APER-encoded structure.

use oxirush_ngap::ngap::{self as asn, NGAP_PDU, NGAPPDU};
use oxirush_ngap::{Octets, build_ngap_ie, ie};

use crate::ids::PduSessionId;

use super::super::convert::{
    ambr_from_asn, ambr_to_asn, location_from_asn, location_to_asn, snssai_from_asn, snssai_to_asn,
};
use super::super::diagnostics::CriticalityDiagnostics;
use super::super::error::EncodeError;
use super::super::ies::{ReadError, opt, pdu_of, req};
use super::super::types::{
    N3iwfUserLocation, PduSessionSetupItem, PduSessionTransfer, UeAmbr, UeNgapIds,
};
use super::{amf_id_to_asn, diagnostics_ie, transfers_from_asn, transfers_to_asn, ue_ids};

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
        let mut ies = vec![
            build_ngap_ie!(
                PDUSessionResourceSetupRequest,
                AMF_UE_NGAP_ID(amf_id_to_asn(self.ids.amf))
            )?,
            build_ngap_ie!(
                PDUSessionResourceSetupRequest,
                RAN_UE_NGAP_ID(asn::RANUENGAPID(self.ids.ran.0))
            )?,
        ];
        if let Some(nas) = &self.nas_pdu {
            ies.push(build_ngap_ie!(
                PDUSessionResourceSetupRequest,
                NAS_PDU(asn::NASPDU::from(nas.clone()))
            )?);
        }
        let list =
            asn::PDUSessionResourceSetupListSUReq(self.sessions.iter().map(item_to_asn).collect());
        ies.push(build_ngap_ie!(
            PDUSessionResourceSetupRequest,
            PDUSessionResourceSetupListSUReq(list)
        )?);
        if let Some(ambr) = self.ue_ambr {
            ies.push(build_ngap_ie!(
                PDUSessionResourceSetupRequest,
                UEAggregateMaximumBitRate(ambr_to_asn(ambr))
            )?);
        }
        pdu_of(&asn::PDUSessionResourceSetupRequest::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let list = req::<ie::PDUSessionResourceSetupListSUReq>(pdu)?;
        Ok(Self {
            ids: ue_ids(pdu)?,
            nas_pdu: opt::<ie::NAS_PDU>(pdu)?.map(|n| n.0.to_vec()),
            sessions: list.0.iter().map(item_from_asn).collect(),
            ue_ambr: opt::<ie::UEAggregateMaximumBitRate>(pdu)?.map(|a| ambr_from_asn(&a)),
        })
    }
}

fn item_to_asn(item: &PduSessionSetupItem) -> asn::PDUSessionResourceSetupItemSUReq<'static> {
    asn::PDUSessionResourceSetupItemSUReq::new(
        asn::PDUSessionID(item.pdu_session_id.0),
        item.nas_pdu.clone().map(asn::NASPDU::from),
        snssai_to_asn(item.snssai),
        Octets::from(item.transfer.clone()),
        None,
    )
}

fn item_from_asn(item: &asn::PDUSessionResourceSetupItemSUReq<'_>) -> PduSessionSetupItem {
    PduSessionSetupItem {
        pdu_session_id: PduSessionId(item.pdu_session_id.0),
        nas_pdu: item.pdu_session_nas_pdu.as_ref().map(|n| n.0.to_vec()),
        snssai: snssai_from_asn(&item.s_nssai),
        transfer: item.pdu_session_resource_setup_request_transfer.to_vec(),
    }
}

impl PduSessionResourceSetupResponse {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = vec![
            build_ngap_ie!(
                PDUSessionResourceSetupResponse,
                AMF_UE_NGAP_ID(amf_id_to_asn(self.ids.amf))
            )?,
            build_ngap_ie!(
                PDUSessionResourceSetupResponse,
                RAN_UE_NGAP_ID(asn::RANUENGAPID(self.ids.ran.0))
            )?,
        ];
        if !self.setup.is_empty() {
            let list = transfers_to_asn!(
                PDUSessionResourceSetupListSURes,
                PDUSessionResourceSetupItemSURes,
                self.setup
            );
            ies.push(build_ngap_ie!(
                PDUSessionResourceSetupResponse,
                PDUSessionResourceSetupListSURes(list)
            )?);
        }
        if !self.failed.is_empty() {
            let list = transfers_to_asn!(
                PDUSessionResourceFailedToSetupListSURes,
                PDUSessionResourceFailedToSetupItemSURes,
                self.failed
            );
            ies.push(build_ngap_ie!(
                PDUSessionResourceSetupResponse,
                PDUSessionResourceFailedToSetupListSURes(list)
            )?);
        }
        if let Some(diagnostics) = &self.diagnostics {
            ies.push(build_ngap_ie!(
                PDUSessionResourceSetupResponse,
                CriticalityDiagnostics(diagnostics.to_asn())
            )?);
        }
        pdu_of(&asn::PDUSessionResourceSetupResponse::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let setup = opt::<ie::PDUSessionResourceSetupListSURes>(pdu)?;
        let failed = opt::<ie::PDUSessionResourceFailedToSetupListSURes>(pdu)?;
        Ok(Self {
            ids: ue_ids(pdu)?,
            setup: setup
                .map(|l| transfers_from_asn!(l, pdu_session_resource_setup_response_transfer))
                .unwrap_or_default(),
            failed: failed
                .map(|l| transfers_from_asn!(l, pdu_session_resource_setup_unsuccessful_transfer))
                .unwrap_or_default(),
            diagnostics: diagnostics_ie(pdu)?,
        })
    }
}

impl PduSessionResourceReleaseCommand {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = vec![
            build_ngap_ie!(
                PDUSessionResourceReleaseCommand,
                AMF_UE_NGAP_ID(amf_id_to_asn(self.ids.amf))
            )?,
            build_ngap_ie!(
                PDUSessionResourceReleaseCommand,
                RAN_UE_NGAP_ID(asn::RANUENGAPID(self.ids.ran.0))
            )?,
        ];
        if let Some(nas) = &self.nas_pdu {
            ies.push(build_ngap_ie!(
                PDUSessionResourceReleaseCommand,
                NAS_PDU(asn::NASPDU::from(nas.clone()))
            )?);
        }
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
            nas_pdu: opt::<ie::NAS_PDU>(pdu)?.map(|n| n.0.to_vec()),
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
        let mut ies = vec![
            build_ngap_ie!(
                PDUSessionResourceReleaseResponse,
                AMF_UE_NGAP_ID(amf_id_to_asn(self.ids.amf))
            )?,
            build_ngap_ie!(
                PDUSessionResourceReleaseResponse,
                RAN_UE_NGAP_ID(asn::RANUENGAPID(self.ids.ran.0))
            )?,
            build_ngap_ie!(
                PDUSessionResourceReleaseResponse,
                PDUSessionResourceReleasedListRelRes(list)
            )?,
        ];
        if let Some(location) = self.location {
            ies.push(build_ngap_ie!(
                PDUSessionResourceReleaseResponse,
                UserLocationInformation(location_to_asn(location))
            )?);
        }
        if let Some(diagnostics) = &self.diagnostics {
            ies.push(build_ngap_ie!(
                PDUSessionResourceReleaseResponse,
                CriticalityDiagnostics(diagnostics.to_asn())
            )?);
        }
        pdu_of(&asn::PDUSessionResourceReleaseResponse::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let list = req::<ie::PDUSessionResourceReleasedListRelRes>(pdu)?;
        Ok(Self {
            ids: ue_ids(pdu)?,
            released: transfers_from_asn!(list, pdu_session_resource_release_response_transfer),
            location: opt::<ie::UserLocationInformation>(pdu)?
                .map(|l| location_from_asn(&l))
                .transpose()?,
            diagnostics: diagnostics_ie(pdu)?,
        })
    }
}
