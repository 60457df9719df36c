//! NAS transport: INITIAL UE MESSAGE, DOWNLINK and UPLINK NAS TRANSPORT, NAS NON DELIVERY
//! INDICATION (TS 38.413 §8.6, §9.2.5).

use oxirush_ngap::ngap::{self as asn, NGAP_PDU, NGAPPDU};
use oxirush_ngap::{build_ngap_ie, ie};

use crate::ids::{AmfSetId, Plmn, Snssai};

use super::super::cause::Cause;
use super::super::convert::{
    allowed_nssai_from_asn, allowed_nssai_to_asn, location_from_asn, location_to_asn,
    plmn_from_asn, plmn_to_asn, s_tmsi_from_asn, s_tmsi_to_asn,
};
use super::super::enums::{index as enum_index, rrc_cause_to_asn};
use super::super::error::EncodeError;
use super::super::ies::{ReadError, opt, pdu_of, req};
use super::super::types::{
    FiveGSTmsi, N3iwfUserLocation, RanUeNgapId, RrcEstablishmentCause, UeNgapIds,
};
use super::{cause_ie, optional_ie, ue_ids, ue_ies};

/// INITIAL UE MESSAGE (N3IWF → AMF): the UE's first NAS message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialUeMessage {
    pub ran_ue_ngap_id: RanUeNgapId,
    pub nas_pdu: Vec<u8>,
    /// The UE's outer address and port.
    pub location: N3iwfUserLocation,
    pub rrc_establishment_cause: RrcEstablishmentCause,
    pub five_g_s_tmsi: Option<FiveGSTmsi>,
    pub amf_set_id: Option<AmfSetId>,
    /// UE Context Request = requested: the N3IWF always needs the INITIAL CONTEXT SETUP
    /// REQUEST, which brings KN3IWF.
    pub ue_context_requested: bool,
    pub allowed_nssai: Option<Vec<Snssai>>,
    pub selected_plmn: Option<Plmn>,
}

/// DOWNLINK NAS TRANSPORT (AMF → N3IWF). The first one gives the N3IWF the AMF UE NGAP ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownlinkNasTransport {
    pub ids: UeNgapIds,
    pub nas_pdu: Vec<u8>,
    pub allowed_nssai: Option<Vec<Snssai>>,
}

/// UPLINK NAS TRANSPORT (N3IWF → AMF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UplinkNasTransport {
    pub ids: UeNgapIds,
    pub nas_pdu: Vec<u8>,
    pub location: N3iwfUserLocation,
}

/// NAS NON DELIVERY INDICATION (N3IWF → AMF): a downlink NAS PDU that could not reach the UE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NasNonDeliveryIndication {
    pub ids: UeNgapIds,
    pub nas_pdu: Vec<u8>,
    pub cause: Cause,
}

impl InitialUeMessage {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = vec![
            build_ngap_ie!(
                InitialUEMessage,
                RAN_UE_NGAP_ID(asn::RANUENGAPID(self.ran_ue_ngap_id.0))
            )?,
            build_ngap_ie!(
                InitialUEMessage,
                NAS_PDU(asn::NASPDU::from(self.nas_pdu.clone()))
            )?,
            build_ngap_ie!(
                InitialUEMessage,
                UserLocationInformation(location_to_asn(self.location))
            )?,
            build_ngap_ie!(
                InitialUEMessage,
                RRCEstablishmentCause(rrc_cause_to_asn(self.rrc_establishment_cause)?)
            )?,
        ];
        optional_ie!(ies, InitialUEMessage,
            s_tmsi = self.five_g_s_tmsi => FiveG_S_TMSI(s_tmsi_to_asn(s_tmsi)?));
        if let Some(set) = self.amf_set_id {
            let bits = oxirush_ngap::Bits::new(u64::from(set.value()), 10)?;
            ies.push(build_ngap_ie!(
                InitialUEMessage,
                AMFSetID(asn::AMFSetID(bits))
            )?);
        }
        if self.ue_context_requested {
            ies.push(build_ngap_ie!(
                InitialUEMessage,
                UEContextRequest(asn::UEContextRequest::requested)
            )?);
        }
        optional_ie!(ies, InitialUEMessage,
            nssai = &self.allowed_nssai => AllowedNSSAI(allowed_nssai_to_asn(nssai)));
        optional_ie!(ies, InitialUEMessage,
            plmn = self.selected_plmn => SelectedPLMNIdentity(plmn_to_asn(plmn)));
        pdu_of(&asn::InitialUEMessage::new(asn::ProtocolIEContainer(ies)))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let cause = req::<ie::RRCEstablishmentCause>(pdu)?;
        let amf_set_id = opt::<ie::AMFSetID>(pdu)?
            .map(|set| u16::try_from(set.0.value()).ok().and_then(AmfSetId::new))
            .map(|set| set.ok_or(ReadError::Value("AMF Set ID")))
            .transpose()?;
        Ok(Self {
            ran_ue_ngap_id: RanUeNgapId(req::<ie::RAN_UE_NGAP_ID>(pdu)?.0),
            nas_pdu: req::<ie::NAS_PDU>(pdu)?.0.to_vec(),
            location: location_from_asn(&req::<ie::UserLocationInformation>(pdu)?)?,
            rrc_establishment_cause: RrcEstablishmentCause(enum_index(cause as u64)),
            five_g_s_tmsi: opt::<ie::FiveG_S_TMSI>(pdu)?
                .map(|s| s_tmsi_from_asn(&s))
                .transpose()?,
            amf_set_id,
            ue_context_requested: opt::<ie::UEContextRequest>(pdu)?.is_some(),
            allowed_nssai: opt::<ie::AllowedNSSAI>(pdu)?.map(|n| allowed_nssai_from_asn(&n)),
            selected_plmn: opt::<ie::SelectedPLMNIdentity>(pdu)?
                .map(|p| plmn_from_asn(&p))
                .transpose()?,
        })
    }
}

impl DownlinkNasTransport {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = ue_ies!(
            DownlinkNASTransport,
            self.ids,
            NAS_PDU(asn::NASPDU::from(self.nas_pdu.clone())),
        );
        optional_ie!(ies, DownlinkNASTransport,
            nssai = &self.allowed_nssai => AllowedNSSAI(allowed_nssai_to_asn(nssai)));
        pdu_of(&asn::DownlinkNASTransport::new(asn::ProtocolIEContainer(
            ies,
        )))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        Ok(Self {
            ids: ue_ids(pdu)?,
            nas_pdu: req::<ie::NAS_PDU>(pdu)?.0.to_vec(),
            allowed_nssai: opt::<ie::AllowedNSSAI>(pdu)?.map(|n| allowed_nssai_from_asn(&n)),
        })
    }
}

impl UplinkNasTransport {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let ies = ue_ies!(
            UplinkNASTransport,
            self.ids,
            NAS_PDU(asn::NASPDU::from(self.nas_pdu.clone())),
            UserLocationInformation(location_to_asn(self.location)),
        );
        pdu_of(&asn::UplinkNASTransport::new(asn::ProtocolIEContainer(ies)))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        Ok(Self {
            ids: ue_ids(pdu)?,
            nas_pdu: req::<ie::NAS_PDU>(pdu)?.0.to_vec(),
            location: location_from_asn(&req::<ie::UserLocationInformation>(pdu)?)?,
        })
    }
}

impl NasNonDeliveryIndication {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let ies = ue_ies!(
            NASNonDeliveryIndication,
            self.ids,
            NAS_PDU(asn::NASPDU::from(self.nas_pdu.clone())),
            Cause(self.cause.to_asn()?),
        );
        pdu_of(&asn::NASNonDeliveryIndication::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        Ok(Self {
            ids: ue_ids(pdu)?,
            nas_pdu: req::<ie::NAS_PDU>(pdu)?.0.to_vec(),
            cause: cause_ie(pdu)?,
        })
    }
}
