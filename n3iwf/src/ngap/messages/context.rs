//! INITIAL CONTEXT SETUP (TS 38.413 §8.3.1): the AMF gives the N3IWF the UE's context, and
//! KN3IWF in the Security Key IE.

use core::fmt;

use oxirush_ngap::ngap::{self as asn, NGAP_PDU, NGAPPDU};
use oxirush_ngap::{BitString, Octets, build_ngap_ie, ie};

use crate::ids::{Guami, PduSessionId, Snssai};

use super::super::cause::Cause;
use super::super::convert::{
    allowed_nssai_from_asn, allowed_nssai_to_asn, ambr_from_asn, ambr_to_asn, guami_from_asn,
    guami_to_asn, security_capabilities_from_asn, security_capabilities_to_asn, snssai_from_asn,
    snssai_to_asn,
};
use super::super::diagnostics::CriticalityDiagnostics;
use super::super::error::EncodeError;
use super::super::ies::{ReadError, opt, pdu_of, req};
use super::super::security_key::SecurityKey;
use super::super::types::{
    PduSessionSetupItem, PduSessionTransfer, UeAmbr, UeNgapIds, UeSecurityCapabilities,
};
use super::{
    amf_id_to_asn, cause_ie, diagnostics_ie, transfers_from_asn, transfers_to_asn, ue_ids,
};

/// INITIAL CONTEXT SETUP REQUEST (AMF → N3IWF). Not `Clone`, and its `Debug` leaves the key
/// out.
#[derive(PartialEq, Eq)]
pub struct InitialContextSetupRequest {
    pub ids: UeNgapIds,
    pub ue_ambr: Option<UeAmbr>,
    pub guami: Guami,
    /// PDU sessions to set up with the context (empty: the IE is absent).
    pub pdu_sessions: Vec<PduSessionSetupItem>,
    pub allowed_nssai: Vec<Snssai>,
    pub security_capabilities: UeSecurityCapabilities,
    /// KN3IWF.
    pub security_key: SecurityKey,
    /// A NAS PDU for the UE (some AMFs put the REGISTRATION ACCEPT here).
    pub nas_pdu: Option<Vec<u8>>,
}

/// INITIAL CONTEXT SETUP RESPONSE (N3IWF → AMF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialContextSetupResponse {
    pub ids: UeNgapIds,
    /// Sessions set up, each with its PDU Session Resource Setup Response Transfer.
    pub setup: Vec<PduSessionTransfer>,
    /// Sessions not set up, each with its PDU Session Resource Setup Unsuccessful Transfer.
    pub failed: Vec<PduSessionTransfer>,
    pub diagnostics: Option<CriticalityDiagnostics>,
}

/// INITIAL CONTEXT SETUP FAILURE (N3IWF → AMF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialContextSetupFailure {
    pub ids: UeNgapIds,
    /// Sessions not set up, each with its PDU Session Resource Setup Unsuccessful Transfer.
    pub failed: Vec<PduSessionTransfer>,
    pub cause: Cause,
    pub diagnostics: Option<CriticalityDiagnostics>,
}

impl InitialContextSetupRequest {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let key = BitString::new(self.security_key.dangerous_as_bytes().to_vec(), 256)?;
        let mut ies = vec![
            build_ngap_ie!(
                InitialContextSetupRequest,
                AMF_UE_NGAP_ID(amf_id_to_asn(self.ids.amf))
            )?,
            build_ngap_ie!(
                InitialContextSetupRequest,
                RAN_UE_NGAP_ID(asn::RANUENGAPID(self.ids.ran.0))
            )?,
        ];
        if let Some(ambr) = self.ue_ambr {
            ies.push(build_ngap_ie!(
                InitialContextSetupRequest,
                UEAggregateMaximumBitRate(ambr_to_asn(ambr))
            )?);
        }
        ies.push(build_ngap_ie!(
            InitialContextSetupRequest,
            GUAMI(guami_to_asn(self.guami)?)
        )?);
        if !self.pdu_sessions.is_empty() {
            let list = asn::PDUSessionResourceSetupListCxtReq(
                self.pdu_sessions.iter().map(setup_item_to_asn).collect(),
            );
            ies.push(build_ngap_ie!(
                InitialContextSetupRequest,
                PDUSessionResourceSetupListCxtReq(list)
            )?);
        }
        ies.push(build_ngap_ie!(
            InitialContextSetupRequest,
            AllowedNSSAI(allowed_nssai_to_asn(&self.allowed_nssai))
        )?);
        ies.push(build_ngap_ie!(
            InitialContextSetupRequest,
            UESecurityCapabilities(security_capabilities_to_asn(self.security_capabilities))
        )?);
        ies.push(build_ngap_ie!(
            InitialContextSetupRequest,
            SecurityKey(asn::SecurityKey(key))
        )?);
        if let Some(nas) = &self.nas_pdu {
            ies.push(build_ngap_ie!(
                InitialContextSetupRequest,
                NAS_PDU(asn::NASPDU::from(nas.clone()))
            )?);
        }
        pdu_of(&asn::InitialContextSetupRequest::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let key = req::<ie::SecurityKey>(pdu)?;
        let key: [u8; SecurityKey::LEN] = key
            .0
            .as_octets()
            .try_into()
            .map_err(|_| ReadError::Value("SecurityKey"))?;
        let sessions = opt::<ie::PDUSessionResourceSetupListCxtReq>(pdu)?;
        Ok(Self {
            ids: ue_ids(pdu)?,
            ue_ambr: opt::<ie::UEAggregateMaximumBitRate>(pdu)?.map(|a| ambr_from_asn(&a)),
            guami: guami_from_asn(&req::<ie::GUAMI>(pdu)?)?,
            pdu_sessions: sessions
                .map(|l| l.0.iter().map(setup_item_from_asn).collect())
                .unwrap_or_default(),
            allowed_nssai: allowed_nssai_from_asn(&req::<ie::AllowedNSSAI>(pdu)?),
            security_capabilities: security_capabilities_from_asn(&req::<
                ie::UESecurityCapabilities,
            >(pdu)?),
            security_key: SecurityKey::new(key),
            nas_pdu: opt::<ie::NAS_PDU>(pdu)?.map(|n| n.0.to_vec()),
        })
    }
}

impl fmt::Debug for InitialContextSetupRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InitialContextSetupRequest")
            .field("ids", &self.ids)
            .field("ue_ambr", &self.ue_ambr)
            .field("guami", &self.guami)
            .field("pdu_sessions", &self.pdu_sessions)
            .field("allowed_nssai", &self.allowed_nssai)
            .field("security_capabilities", &self.security_capabilities)
            .field("security_key", &"<redacted>")
            .field("nas_pdu", &self.nas_pdu)
            .finish()
    }
}

fn setup_item_to_asn(
    item: &PduSessionSetupItem,
) -> asn::PDUSessionResourceSetupItemCxtReq<'static> {
    asn::PDUSessionResourceSetupItemCxtReq::new(
        asn::PDUSessionID(item.pdu_session_id.0),
        item.nas_pdu.clone().map(asn::NASPDU::from),
        snssai_to_asn(item.snssai),
        Octets::from(item.transfer.clone()),
        None,
    )
}

fn setup_item_from_asn(item: &asn::PDUSessionResourceSetupItemCxtReq<'_>) -> PduSessionSetupItem {
    PduSessionSetupItem {
        pdu_session_id: PduSessionId(item.pdu_session_id.0),
        nas_pdu: item.nas_pdu.as_ref().map(|n| n.0.to_vec()),
        snssai: snssai_from_asn(&item.s_nssai),
        transfer: item.pdu_session_resource_setup_request_transfer.to_vec(),
    }
}

impl InitialContextSetupResponse {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = vec![
            build_ngap_ie!(
                InitialContextSetupResponse,
                AMF_UE_NGAP_ID(amf_id_to_asn(self.ids.amf))
            )?,
            build_ngap_ie!(
                InitialContextSetupResponse,
                RAN_UE_NGAP_ID(asn::RANUENGAPID(self.ids.ran.0))
            )?,
        ];
        if !self.setup.is_empty() {
            let list = transfers_to_asn!(
                PDUSessionResourceSetupListCxtRes,
                PDUSessionResourceSetupItemCxtRes,
                self.setup
            );
            ies.push(build_ngap_ie!(
                InitialContextSetupResponse,
                PDUSessionResourceSetupListCxtRes(list)
            )?);
        }
        if !self.failed.is_empty() {
            let list = transfers_to_asn!(
                PDUSessionResourceFailedToSetupListCxtRes,
                PDUSessionResourceFailedToSetupItemCxtRes,
                self.failed
            );
            ies.push(build_ngap_ie!(
                InitialContextSetupResponse,
                PDUSessionResourceFailedToSetupListCxtRes(list)
            )?);
        }
        if let Some(diagnostics) = &self.diagnostics {
            ies.push(build_ngap_ie!(
                InitialContextSetupResponse,
                CriticalityDiagnostics(diagnostics.to_asn())
            )?);
        }
        pdu_of(&asn::InitialContextSetupResponse::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let setup = opt::<ie::PDUSessionResourceSetupListCxtRes>(pdu)?;
        let failed = opt::<ie::PDUSessionResourceFailedToSetupListCxtRes>(pdu)?;
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

impl InitialContextSetupFailure {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = vec![
            build_ngap_ie!(
                InitialContextSetupFailure,
                AMF_UE_NGAP_ID(amf_id_to_asn(self.ids.amf))
            )?,
            build_ngap_ie!(
                InitialContextSetupFailure,
                RAN_UE_NGAP_ID(asn::RANUENGAPID(self.ids.ran.0))
            )?,
        ];
        if !self.failed.is_empty() {
            let list = transfers_to_asn!(
                PDUSessionResourceFailedToSetupListCxtFail,
                PDUSessionResourceFailedToSetupItemCxtFail,
                self.failed
            );
            ies.push(build_ngap_ie!(
                InitialContextSetupFailure,
                PDUSessionResourceFailedToSetupListCxtFail(list)
            )?);
        }
        ies.push(build_ngap_ie!(
            InitialContextSetupFailure,
            Cause(self.cause.to_asn()?)
        )?);
        if let Some(diagnostics) = &self.diagnostics {
            ies.push(build_ngap_ie!(
                InitialContextSetupFailure,
                CriticalityDiagnostics(diagnostics.to_asn())
            )?);
        }
        pdu_of(&asn::InitialContextSetupFailure::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let failed = opt::<ie::PDUSessionResourceFailedToSetupListCxtFail>(pdu)?;
        Ok(Self {
            ids: ue_ids(pdu)?,
            failed: failed
                .map(|l| transfers_from_asn!(l, pdu_session_resource_setup_unsuccessful_transfer))
                .unwrap_or_default(),
            cause: cause_ie(pdu)?,
            diagnostics: diagnostics_ie(pdu)?,
        })
    }
}
