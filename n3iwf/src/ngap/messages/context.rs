//! INITIAL CONTEXT SETUP (TS 38.413 §8.3.1): the AMF gives the N3IWF the UE's context, and
//! KN3IWF in the Security Key IE.

use core::fmt;

use oxirush_ngap::ngap::{self as asn, NGAP_PDU, NGAPPDU};
use oxirush_ngap::{BitString, build_ngap_ie, ie};

use crate::ids::{Guami, Snssai};

use super::super::cause::Cause;
use super::super::convert::{
    allowed_nssai_from_asn, allowed_nssai_to_asn, ambr_from_asn, ambr_to_asn, guami_from_asn,
    guami_to_asn, security_capabilities_from_asn, security_capabilities_to_asn,
};
use super::super::diagnostics::CriticalityDiagnostics;
use super::super::error::EncodeError;
use super::super::ies::{ReadError, opt, pdu_of, req};
use super::super::security_key::SecurityKey;
use super::super::types::{
    PduSessionSetupItem, PduSessionTransfer, UeAmbr, UeNgapIds, UeSecurityCapabilities,
};
use super::{
    cause_ie, diagnostics_ie, nas_pdu_ie, optional_ie, optional_transfers, setup_item_conversions,
    setup_response_codec, transfers_ie, ue_ids, ue_ies,
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
        let mut ies = ue_ies!(InitialContextSetupRequest, self.ids);
        optional_ie!(ies, InitialContextSetupRequest,
            ambr = self.ue_ambr => UEAggregateMaximumBitRate(ambr_to_asn(ambr)));
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
        optional_ie!(ies, InitialContextSetupRequest,
            nas = &self.nas_pdu => NAS_PDU(asn::NASPDU::from(nas.clone())));
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
            nas_pdu: nas_pdu_ie(pdu)?,
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

setup_item_conversions!(
    setup_item_to_asn,
    setup_item_from_asn,
    PDUSessionResourceSetupItemCxtReq,
    nas_pdu
);

setup_response_codec!(
    InitialContextSetupResponse,
    InitialContextSetupResponse,
    PDUSessionResourceSetupListCxtRes(PDUSessionResourceSetupItemCxtRes),
    PDUSessionResourceFailedToSetupListCxtRes(PDUSessionResourceFailedToSetupItemCxtRes)
);

impl InitialContextSetupFailure {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = ue_ies!(InitialContextSetupFailure, self.ids);
        transfers_ie!(
            ies,
            InitialContextSetupFailure,
            PDUSessionResourceFailedToSetupListCxtFail(PDUSessionResourceFailedToSetupItemCxtFail),
            self.failed
        );
        ies.push(build_ngap_ie!(
            InitialContextSetupFailure,
            Cause(self.cause.to_asn()?)
        )?);
        optional_ie!(ies, InitialContextSetupFailure,
            d = &self.diagnostics => CriticalityDiagnostics(d.to_asn()));
        pdu_of(&asn::InitialContextSetupFailure::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        Ok(Self {
            ids: ue_ids(pdu)?,
            failed: optional_transfers!(
                pdu,
                PDUSessionResourceFailedToSetupListCxtFail,
                pdu_session_resource_setup_unsuccessful_transfer
            ),
            cause: cause_ie(pdu)?,
            diagnostics: diagnostics_ie(pdu)?,
        })
    }
}
