//! ERROR INDICATION (TS 38.413 §8.7.5): reports a protocol error that has no failure message
//! of its own. Every IE is optional.

use oxirush_ngap::ie;
use oxirush_ngap::ngap::{self as asn, NGAP_PDU, NGAPPDU};

use super::super::cause::Cause;
use super::super::diagnostics::CriticalityDiagnostics;
use super::super::error::EncodeError;
use super::super::ies::{ReadError, opt, pdu_of};
use super::super::types::{AmfUeNgapId, RanUeNgapId};
use super::{amf_id_from_asn, amf_id_to_asn, diagnostics_ie, optional_ie};

/// ERROR INDICATION (either direction).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorIndication {
    pub amf_ue_ngap_id: Option<AmfUeNgapId>,
    pub ran_ue_ngap_id: Option<RanUeNgapId>,
    pub cause: Option<Cause>,
    pub diagnostics: Option<CriticalityDiagnostics>,
}

impl ErrorIndication {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = Vec::new();
        optional_ie!(ies, ErrorIndication,
            amf = self.amf_ue_ngap_id => AMF_UE_NGAP_ID(amf_id_to_asn(amf)));
        optional_ie!(ies, ErrorIndication,
            ran = self.ran_ue_ngap_id => RAN_UE_NGAP_ID(asn::RANUENGAPID(ran.0)));
        optional_ie!(ies, ErrorIndication,
            cause = self.cause => Cause(cause.to_asn()?));
        optional_ie!(ies, ErrorIndication,
            diagnostics = &self.diagnostics => CriticalityDiagnostics(diagnostics.to_asn()));
        pdu_of(&asn::ErrorIndication::new(asn::ProtocolIEContainer(ies)))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        Ok(Self {
            amf_ue_ngap_id: opt::<ie::AMF_UE_NGAP_ID>(pdu)?
                .map(amf_id_from_asn)
                .transpose()?,
            ran_ue_ngap_id: opt::<ie::RAN_UE_NGAP_ID>(pdu)?.map(|id| RanUeNgapId(id.0)),
            cause: opt::<ie::Cause>(pdu)?.map(|c| Cause::from_asn(&c)),
            diagnostics: diagnostics_ie(pdu)?,
        })
    }
}
