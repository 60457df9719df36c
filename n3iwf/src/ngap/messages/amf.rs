//! AMF CONFIGURATION UPDATE (TS 38.413 §8.7.3) and AMF STATUS INDICATION (§8.7.6): the AMF
//! tells the N3IWF of new served GUAMIs, capacity and slices, or of GUAMIs going away.

use oxirush_ngap::ngap::{self as asn, NGAP_PDU, NGAPPDU};
use oxirush_ngap::{build_ngap_ie, ie};

use super::super::convert::{
    guami_from_asn, guami_to_asn, plmn_support_from_asn, plmn_support_to_asn,
    served_guamis_from_asn, served_guamis_to_asn,
};
use super::super::diagnostics::CriticalityDiagnostics;
use super::super::error::EncodeError;
use super::super::ies::{ReadError, opt, pdu_of, req};
use super::super::types::{PlmnSlices, ServedGuami, UnavailableGuami};
use super::{diagnostics_ie, optional_ie};

/// AMF CONFIGURATION UPDATE (AMF → N3IWF). Each field is present when it changed. The TNL
/// association lists are not read: one association per AMF is all this N3IWF uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AmfConfigurationUpdate {
    pub amf_name: Option<String>,
    pub served_guamis: Option<Vec<ServedGuami>>,
    pub relative_amf_capacity: Option<u8>,
    pub plmn_support: Option<Vec<PlmnSlices>>,
}

/// AMF CONFIGURATION UPDATE ACKNOWLEDGE (N3IWF → AMF).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AmfConfigurationUpdateAcknowledge {
    pub diagnostics: Option<CriticalityDiagnostics>,
}

/// AMF STATUS INDICATION (AMF → N3IWF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmfStatusIndication {
    pub unavailable_guamis: Vec<UnavailableGuami>,
}

impl AmfConfigurationUpdate {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = Vec::new();
        optional_ie!(ies, AMFConfigurationUpdate,
            name = &self.amf_name => AMFName(asn::AMFName(name.clone().into())));
        optional_ie!(ies, AMFConfigurationUpdate,
            guamis = &self.served_guamis => ServedGUAMIList(served_guamis_to_asn(guamis)?));
        optional_ie!(ies, AMFConfigurationUpdate,
            c = self.relative_amf_capacity => RelativeAMFCapacity(asn::RelativeAMFCapacity(c)));
        optional_ie!(ies, AMFConfigurationUpdate,
            support = &self.plmn_support => PLMNSupportList(plmn_support_to_asn(support)));
        pdu_of(&asn::AMFConfigurationUpdate::new(asn::ProtocolIEContainer(
            ies,
        )))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        Ok(Self {
            amf_name: opt::<ie::AMFName>(pdu)?.map(|n| n.0.into_owned()),
            served_guamis: opt::<ie::ServedGUAMIList>(pdu)?
                .map(|l| served_guamis_from_asn(&l))
                .transpose()?,
            relative_amf_capacity: opt::<ie::RelativeAMFCapacity>(pdu)?.map(|c| c.0),
            plmn_support: opt::<ie::PLMNSupportList>(pdu)?
                .map(|l| plmn_support_from_asn(&l))
                .transpose()?,
        })
    }
}

impl AmfConfigurationUpdateAcknowledge {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = Vec::new();
        optional_ie!(ies, AMFConfigurationUpdateAcknowledge,
            diagnostics = &self.diagnostics => CriticalityDiagnostics(diagnostics.to_asn()));
        pdu_of(&asn::AMFConfigurationUpdateAcknowledge::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        Ok(Self {
            diagnostics: diagnostics_ie(pdu)?,
        })
    }
}

impl AmfStatusIndication {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let items = self.unavailable_guamis.iter().map(|u| {
            Ok(asn::UnavailableGUAMIItem::new(
                guami_to_asn(u.guami)?,
                u.apply_timer
                    .then_some(asn::TimerApproachForGUAMIRemoval::apply_timer),
                u.backup_amf_name.clone().map(|n| asn::AMFName(n.into())),
                None,
            ))
        });
        let list = asn::UnavailableGUAMIList(items.collect::<Result<_, EncodeError>>()?);
        let ies = vec![build_ngap_ie!(
            AMFStatusIndication,
            UnavailableGUAMIList(list)
        )?];
        pdu_of(&asn::AMFStatusIndication::new(asn::ProtocolIEContainer(
            ies,
        )))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let list = req::<ie::UnavailableGUAMIList>(pdu)?;
        let unavailable_guamis = list
            .0
            .iter()
            .map(|item| {
                Ok(UnavailableGuami {
                    guami: guami_from_asn(&item.guami)?,
                    apply_timer: item.timer_approach_for_guami_removal.is_some(),
                    backup_amf_name: item.backup_amf_name.as_ref().map(|n| n.0.to_string()),
                })
            })
            .collect::<Result<_, ReadError>>()?;
        Ok(Self { unavailable_guamis })
    }
}
