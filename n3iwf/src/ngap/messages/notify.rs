//! PDU SESSION RESOURCE NOTIFY (TS 38.413 §8.2.4): sessions the N3IWF released on its own.

use oxirush_ngap::ngap::{self as asn, NGAP_PDU, NGAPPDU};
use oxirush_ngap::{build_ngap_ie, ie};

use super::super::convert::location_to_asn;
use super::super::error::EncodeError;
use super::super::ies::{ReadError, opt, pdu_of};
use super::super::types::{N3iwfUserLocation, PduSessionTransfer, UeNgapIds};
use super::{location_ie, optional_ie, transfers_from_asn, transfers_to_asn, ue_ids, ue_ies};

/// PDU SESSION RESOURCE NOTIFY (N3IWF → AMF), with the released list only: the N3IWF notifies
/// no QoS flow changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceNotify {
    pub ids: UeNgapIds,
    /// Each with its PDU Session Resource Notify Released Transfer (the cause).
    pub released: Vec<PduSessionTransfer>,
    pub location: Option<N3iwfUserLocation>,
}

impl PduSessionResourceNotify {
    pub(in super::super) fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
        let mut ies = ue_ies!(PDUSessionResourceNotify, self.ids);
        if !self.released.is_empty() {
            let list = transfers_to_asn!(
                PDUSessionResourceReleasedListNot,
                PDUSessionResourceReleasedItemNot,
                self.released
            );
            ies.push(build_ngap_ie!(
                PDUSessionResourceNotify,
                PDUSessionResourceReleasedListNot(list)
            )?);
        }
        optional_ie!(ies, PDUSessionResourceNotify,
            location = self.location => UserLocationInformation(location_to_asn(location)));
        pdu_of(&asn::PDUSessionResourceNotify::new(
            asn::ProtocolIEContainer(ies),
        ))
    }

    pub(in super::super) fn from_pdu(pdu: &NGAPPDU<'_>) -> Result<Self, ReadError> {
        let released = opt::<ie::PDUSessionResourceReleasedListNot>(pdu)?
            .map(|list| transfers_from_asn!(list, pdu_session_resource_notify_released_transfer))
            .unwrap_or_default();
        Ok(Self {
            ids: ue_ids(pdu)?,
            released,
            location: location_ie(pdu)?,
        })
    }
}
