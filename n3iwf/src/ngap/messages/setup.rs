//! NG SETUP (TS 38.413 §8.7.1): the N3IWF introduces itself to an AMF, which answers with the
//! GUAMIs and slices it serves.

use oxirush_ngap::ngap::{self as asn, NGAP_PDU, NGAPPDU};
use oxirush_ngap::{Bits, build_ngap_ie, ie};

use super::super::cause::Cause;
use super::super::convert::{
    plmn_from_asn, plmn_support_from_asn, plmn_support_to_asn, plmn_to_asn, served_guamis_from_asn,
    served_guamis_to_asn, slices_from_asn, slices_to_asn,
};
use super::super::diagnostics::CriticalityDiagnostics;
use super::super::enums::{index, paging_drx_to_asn, time_to_wait_to_asn};
use super::super::error::EncodeError;
use super::super::ies::{ReadError, opt, pdu_of, req};
use super::super::types::{
    GlobalN3iwfId, N3iwfId, PagingDrx, PlmnSlices, ServedGuami, SupportedTa, TimeToWait,
};
use super::{cause_ie, diagnostics_ie, optional_ie};
use crate::ids::Tac;

/// NG SETUP REQUEST (N3IWF → AMF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NgSetupRequest {
    pub global_n3iwf_id: GlobalN3iwfId,
    pub ran_node_name: Option<String>,
    pub supported_tas: Vec<SupportedTa>,
    /// Mandatory in the ASN.1 (free5GC's N3IWF leaves it out); v128 is the usual value.
    pub default_paging_drx: PagingDrx,
}

/// NG SETUP RESPONSE (AMF → N3IWF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NgSetupResponse {
    pub amf_name: String,
    pub served_guamis: Vec<ServedGuami>,
    pub relative_amf_capacity: u8,
    pub plmn_support: Vec<PlmnSlices>,
    pub diagnostics: Option<CriticalityDiagnostics>,
}

/// NG SETUP FAILURE (AMF → N3IWF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NgSetupFailure {
    pub cause: Cause,
    pub time_to_wait: Option<TimeToWait>,
    pub diagnostics: Option<CriticalityDiagnostics>,
}

impl NgSetupRequest {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let GlobalN3iwfId { plmn, n3iwf_id } = self.global_n3iwf_id;
        let id = asn::N3IWFID::n3IWF_ID(Bits::new(u64::from(n3iwf_id.0), 16)?);
        let node = asn::GlobalRANNodeID::globalN3IWF_ID(asn::GlobalN3IWFID::new(
            plmn_to_asn(plmn),
            id,
            None,
        ));
        let mut ies = vec![build_ngap_ie!(NGSetupRequest, GlobalRANNodeID(node))?];
        optional_ie!(ies, NGSetupRequest,
            name = &self.ran_node_name => RANNodeName(asn::RANNodeName(name.clone().into())));
        ies.push(build_ngap_ie!(
            NGSetupRequest,
            SupportedTAList(supported_tas_to_asn(&self.supported_tas))
        )?);
        ies.push(build_ngap_ie!(
            NGSetupRequest,
            DefaultPagingDRX(paging_drx_to_asn(self.default_paging_drx)?)
        )?);
        pdu_of(&asn::NGSetupRequest::new(asn::ProtocolIEContainer(ies)))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let asn::GlobalRANNodeID::globalN3IWF_ID(node) = req::<ie::GlobalRANNodeID>(pdu)? else {
            return Err(ReadError::Value("GlobalRANNodeID"));
        };
        let asn::N3IWFID::n3IWF_ID(bits) = node.n3iwf_id else {
            return Err(ReadError::Value("N3IWF-ID"));
        };
        let n3iwf_id = u16::try_from(bits.value()).map_err(|_| ReadError::Value("N3IWF-ID"))?;
        let drx = req::<ie::DefaultPagingDRX>(pdu)?;
        Ok(Self {
            global_n3iwf_id: GlobalN3iwfId {
                plmn: plmn_from_asn(&node.plmn_identity)?,
                n3iwf_id: N3iwfId(n3iwf_id),
            },
            ran_node_name: opt::<ie::RANNodeName>(pdu)?.map(|n| n.0.into_owned()),
            supported_tas: supported_tas_from_asn(&req::<ie::SupportedTAList>(pdu)?)?,
            default_paging_drx: PagingDrx(index(drx as u64)),
        })
    }
}

impl NgSetupResponse {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = vec![
            build_ngap_ie!(
                NGSetupResponse,
                AMFName(asn::AMFName(self.amf_name.clone().into()))
            )?,
            build_ngap_ie!(
                NGSetupResponse,
                ServedGUAMIList(served_guamis_to_asn(&self.served_guamis)?)
            )?,
            build_ngap_ie!(
                NGSetupResponse,
                RelativeAMFCapacity(asn::RelativeAMFCapacity(self.relative_amf_capacity))
            )?,
            build_ngap_ie!(
                NGSetupResponse,
                PLMNSupportList(plmn_support_to_asn(&self.plmn_support))
            )?,
        ];
        optional_ie!(ies, NGSetupResponse,
            diagnostics = &self.diagnostics => CriticalityDiagnostics(diagnostics.to_asn()));
        pdu_of(&asn::NGSetupResponse::new(asn::ProtocolIEContainer(ies)))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        Ok(Self {
            amf_name: req::<ie::AMFName>(pdu)?.0.into_owned(),
            served_guamis: served_guamis_from_asn(&req::<ie::ServedGUAMIList>(pdu)?)?,
            relative_amf_capacity: req::<ie::RelativeAMFCapacity>(pdu)?.0,
            plmn_support: plmn_support_from_asn(&req::<ie::PLMNSupportList>(pdu)?)?,
            diagnostics: diagnostics_ie(pdu)?,
        })
    }
}

impl NgSetupFailure {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = vec![build_ngap_ie!(NGSetupFailure, Cause(self.cause.to_asn()?))?];
        optional_ie!(ies, NGSetupFailure,
            time = self.time_to_wait => TimeToWait(time_to_wait_to_asn(time)?));
        optional_ie!(ies, NGSetupFailure,
            diagnostics = &self.diagnostics => CriticalityDiagnostics(diagnostics.to_asn()));
        pdu_of(&asn::NGSetupFailure::new(asn::ProtocolIEContainer(ies)))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        Ok(Self {
            cause: cause_ie(pdu)?,
            time_to_wait: opt::<ie::TimeToWait>(pdu)?.map(|t| TimeToWait(index(t as u64))),
            diagnostics: diagnostics_ie(pdu)?,
        })
    }
}

fn supported_tas_to_asn(tas: &[SupportedTa]) -> asn::SupportedTAList {
    let items = tas.iter().map(|ta| {
        let plmns = ta.broadcast_plmns.iter().map(|p| {
            asn::BroadcastPLMNItem::new(plmn_to_asn(p.plmn), slices_to_asn(&p.slices), None)
        });
        asn::SupportedTAItem::new(
            asn::TAC(ta.tac.0),
            asn::BroadcastPLMNList(plmns.collect()),
            None,
        )
    });
    asn::SupportedTAList(items.collect())
}

fn supported_tas_from_asn(list: &asn::SupportedTAList) -> Result<Vec<SupportedTa>, ReadError> {
    list.0
        .iter()
        .map(|item| {
            let broadcast_plmns = item
                .broadcast_plmn_list
                .0
                .iter()
                .map(|p| {
                    Ok(PlmnSlices {
                        plmn: plmn_from_asn(&p.plmn_identity)?,
                        slices: slices_from_asn(&p.tai_slice_support_list),
                    })
                })
                .collect::<Result<_, ReadError>>()?;
            Ok(SupportedTa {
                tac: Tac(item.tac.0),
                broadcast_plmns,
            })
        })
        .collect()
}
