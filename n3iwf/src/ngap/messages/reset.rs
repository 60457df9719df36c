//! NG RESET (TS 38.413 §8.7.4): either side resets the whole interface or some UE-associated
//! connections; the other side releases them and acknowledges.

use oxirush_ngap::ngap::{self as asn, NGAP_PDU, NGAPPDU};
use oxirush_ngap::{build_ngap_ie, ie};

use super::super::cause::Cause;
use super::super::diagnostics::CriticalityDiagnostics;
use super::super::error::EncodeError;
use super::super::ies::{ReadError, opt, pdu_of, req};
use super::super::types::{AmfUeNgapId, RanUeNgapId};
use super::{amf_id_from_asn, amf_id_to_asn, cause_ie, diagnostics_ie, optional_ie};

/// One UE-associated logical NG connection, named by either ID or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UeAssociatedConnection {
    pub amf_ue_ngap_id: Option<AmfUeNgapId>,
    pub ran_ue_ngap_id: Option<RanUeNgapId>,
}

/// What an NG RESET resets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResetScope {
    /// Every UE-associated connection of the interface.
    Interface,
    /// The listed connections only.
    Connections(Vec<UeAssociatedConnection>),
}

/// NG RESET (either direction).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NgReset {
    pub cause: Cause,
    pub scope: ResetScope,
}

/// NG RESET ACKNOWLEDGE (either direction).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NgResetAcknowledge {
    /// The connections that were reset, when the reset listed them (empty: the IE is absent).
    pub connections: Vec<UeAssociatedConnection>,
    pub diagnostics: Option<CriticalityDiagnostics>,
}

impl NgReset {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let scope = match &self.scope {
            ResetScope::Interface => asn::ResetType::nG_Interface(asn::ResetAll::reset_all),
            ResetScope::Connections(list) => {
                asn::ResetType::partOfNG_Interface(connections_to_asn(list))
            }
        };
        let ies = vec![
            build_ngap_ie!(NGReset, Cause(self.cause.to_asn()?))?,
            build_ngap_ie!(NGReset, ResetType(scope))?,
        ];
        pdu_of(&asn::NGReset::new(asn::ProtocolIEContainer(ies)))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let scope = match req::<ie::ResetType>(pdu)? {
            asn::ResetType::nG_Interface(_) => ResetScope::Interface,
            asn::ResetType::partOfNG_Interface(list) => {
                ResetScope::Connections(connections_from_asn(&list)?)
            }
            _ => return Err(ReadError::Value("ResetType")),
        };
        Ok(Self {
            cause: cause_ie(pdu)?,
            scope,
        })
    }
}

impl NgResetAcknowledge {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = Vec::new();
        if !self.connections.is_empty() {
            let list = connections_to_asn(&self.connections);
            ies.push(build_ngap_ie!(
                NGResetAcknowledge,
                UE_associatedLogicalNG_connectionList(list)
            )?);
        }
        optional_ie!(ies, NGResetAcknowledge,
            diagnostics = &self.diagnostics => CriticalityDiagnostics(diagnostics.to_asn()));
        pdu_of(&asn::NGResetAcknowledge::new(asn::ProtocolIEContainer(ies)))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let list = opt::<ie::UE_associatedLogicalNG_connectionList>(pdu)?;
        Ok(Self {
            connections: list
                .map(|l| connections_from_asn(&l))
                .transpose()?
                .unwrap_or_default(),
            diagnostics: diagnostics_ie(pdu)?,
        })
    }
}

fn connections_to_asn(list: &[UeAssociatedConnection]) -> asn::UEAssociatedLogicalNGConnectionList {
    let items = list.iter().map(|c| {
        asn::UEAssociatedLogicalNGConnectionItem::new(
            c.amf_ue_ngap_id.map(amf_id_to_asn),
            c.ran_ue_ngap_id.map(|id| asn::RANUENGAPID(id.0)),
            None,
        )
    });
    asn::UEAssociatedLogicalNGConnectionList(items.collect())
}

fn connections_from_asn(
    list: &asn::UEAssociatedLogicalNGConnectionList,
) -> Result<Vec<UeAssociatedConnection>, ReadError> {
    list.0
        .iter()
        .map(|item| {
            Ok(UeAssociatedConnection {
                amf_ue_ngap_id: item.amf_ue_ngap_id.map(amf_id_from_asn).transpose()?,
                ran_ue_ngap_id: item.ran_ue_ngap_id.map(|id| RanUeNgapId(id.0)),
            })
        })
        .collect()
}
