//! UE CONTEXT RELEASE (TS 38.413 §8.3.2, §8.3.3): releasing the UE's NG connection, asked by
//! the N3IWF or ordered by the AMF.

use oxirush_ngap::ngap::{self as asn, NGAP_PDU, NGAPPDU};
use oxirush_ngap::{build_ngap_ie, ie};

use crate::ids::PduSessionId;

use super::super::cause::Cause;
use super::super::convert::location_to_asn;
use super::super::diagnostics::CriticalityDiagnostics;
use super::super::error::EncodeError;
use super::super::ies::{ReadError, pdu_of, req};
use super::super::types::{AmfUeNgapId, N3iwfUserLocation, RanUeNgapId, UeNgapIds};
use super::{
    amf_id_from_asn, amf_id_to_asn, cause_ie, diagnostics_ie, location_ie, optional_ie,
    optional_session_ids, session_ids_ie, ue_ids, ue_ies,
};

/// UE CONTEXT RELEASE REQUEST (N3IWF → AMF), for instance after the UE deleted its IKE SA or
/// stopped answering liveness checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UeContextReleaseRequest {
    pub ids: UeNgapIds,
    /// The UE's active PDU sessions (empty: the IE is absent).
    pub pdu_sessions: Vec<PduSessionId>,
    pub cause: Cause,
}

/// How UE CONTEXT RELEASE COMMAND names the UE: the pair, or the AMF UE NGAP ID alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UeNgapIdentity {
    Pair(UeNgapIds),
    AmfOnly(AmfUeNgapId),
}

/// UE CONTEXT RELEASE COMMAND (AMF → N3IWF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UeContextReleaseCommand {
    pub ue: UeNgapIdentity,
    pub cause: Cause,
}

/// UE CONTEXT RELEASE COMPLETE (N3IWF → AMF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UeContextReleaseComplete {
    pub ids: UeNgapIds,
    pub location: Option<N3iwfUserLocation>,
    /// The PDU sessions that were active (empty: the IE is absent).
    pub pdu_sessions: Vec<PduSessionId>,
    pub diagnostics: Option<CriticalityDiagnostics>,
}

impl UeContextReleaseRequest {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = ue_ies!(UEContextReleaseRequest, self.ids);
        session_ids_ie!(
            ies,
            UEContextReleaseRequest,
            PDUSessionResourceListCxtRelReq(PDUSessionResourceItemCxtRelReq),
            self.pdu_sessions
        );
        ies.push(build_ngap_ie!(
            UEContextReleaseRequest,
            Cause(self.cause.to_asn()?)
        )?);
        pdu_of(&asn::UEContextReleaseRequest::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        Ok(Self {
            ids: ue_ids(pdu)?,
            pdu_sessions: optional_session_ids!(pdu, PDUSessionResourceListCxtRelReq),
            cause: cause_ie(pdu)?,
        })
    }
}

impl UeContextReleaseCommand {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let ids = match self.ue {
            UeNgapIdentity::Pair(ids) => asn::UENGAPIDs::uE_NGAP_ID_pair(asn::UENGAPIDPair::new(
                amf_id_to_asn(ids.amf),
                asn::RANUENGAPID(ids.ran.0),
                None,
            )),
            UeNgapIdentity::AmfOnly(amf) => asn::UENGAPIDs::aMF_UE_NGAP_ID(amf_id_to_asn(amf)),
        };
        let ies = vec![
            build_ngap_ie!(UEContextReleaseCommand, UE_NGAP_IDs(ids))?,
            build_ngap_ie!(UEContextReleaseCommand, Cause(self.cause.to_asn()?))?,
        ];
        pdu_of(&asn::UEContextReleaseCommand::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let ue = match req::<ie::UE_NGAP_IDs>(pdu)? {
            asn::UENGAPIDs::uE_NGAP_ID_pair(pair) => UeNgapIdentity::Pair(UeNgapIds {
                amf: amf_id_from_asn(pair.amf_ue_ngap_id)?,
                ran: RanUeNgapId(pair.ran_ue_ngap_id.0),
            }),
            asn::UENGAPIDs::aMF_UE_NGAP_ID(amf) => UeNgapIdentity::AmfOnly(amf_id_from_asn(amf)?),
            _ => return Err(ReadError::Value("UE-NGAP-IDs")),
        };
        Ok(Self {
            ue,
            cause: cause_ie(pdu)?,
        })
    }
}

impl UeContextReleaseComplete {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = ue_ies!(UEContextReleaseComplete, self.ids);
        optional_ie!(ies, UEContextReleaseComplete,
            location = self.location => UserLocationInformation(location_to_asn(location)));
        session_ids_ie!(
            ies,
            UEContextReleaseComplete,
            PDUSessionResourceListCxtRelCpl(PDUSessionResourceItemCxtRelCpl),
            self.pdu_sessions
        );
        optional_ie!(ies, UEContextReleaseComplete,
            diagnostics = &self.diagnostics => CriticalityDiagnostics(diagnostics.to_asn()));
        pdu_of(&asn::UEContextReleaseComplete::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        Ok(Self {
            ids: ue_ids(pdu)?,
            location: location_ie(pdu)?,
            pdu_sessions: optional_session_ids!(pdu, PDUSessionResourceListCxtRelCpl),
            diagnostics: diagnostics_ie(pdu)?,
        })
    }
}
