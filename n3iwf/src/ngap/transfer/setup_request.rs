//! PDU Session Resource Setup Request Transfer (TS 38.413 §9.3.4.1): what the SMF asks the
//! N3IWF to set up for one PDU session.

use std::collections::HashSet;

use oxirush_ngap::aper::protocol::Ie;
use oxirush_ngap::ngap::{self as asn, decode_open_type, encode_open_type};
use oxirush_ngap::{Deviation, Ngap, build_ngap_ie, ie};

use super::super::cause::ProtocolCause;
use super::super::error::EncodeError;
use super::MAX_TRANSFER_LEN;
use super::error::TransferError;
use super::values::{GtpTunnel, PduSessionType, QosFlowRequest, SecurityIndication, SessionAmbr};

/// The most QoS flows a session has (maxnoofQoSFlows, TS 38.413 §9.4.7); the codec refuses a
/// longer list.
pub const MAX_QOS_FLOWS: usize = 64;

type AsnTransfer<'a> = asn::PDUSessionResourceSetupRequestTransfer<'a>;

/// PDU Session Resource Setup Request Transfer, as the N3IWF uses it. The IEs of dual
/// connectivity and redundant transmission (Additional UL NG-U UP TNL Information, which
/// free5GC sends, and the like) are comprehended and left out: an N3IWF has one UL tunnel per
/// session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceSetupRequestTransfer {
    /// UL NG-U UP TNL Information: the UPF's end of the uplink tunnel.
    pub ul_tunnel: GtpTunnel,
    pub session_type: PduSessionType,
    /// 1 ..= [`MAX_QOS_FLOWS`] flows, each QFI once.
    pub qos_flows: Vec<QosFlowRequest>,
    /// Present when the session has a non-GBR flow (§9.3.4.1, conditional).
    pub session_ambr: Option<SessionAmbr>,
    pub security: Option<SecurityIndication>,
    /// Network Instance (§9.3.1.117), 1 ..= 256.
    pub network_instance: Option<u16>,
}

impl PduSessionResourceSetupRequestTransfer {
    /// Reads the transfer an item of a setup list holds. Never panics; reads at most
    /// [`MAX_TRANSFER_LEN`] octets.
    ///
    /// # Errors
    /// [`TransferError`], whose [`TransferError::cause`] the session fails with.
    pub fn decode(octets: &[u8]) -> Result<Self, TransferError> {
        if octets.len() > MAX_TRANSFER_LEN {
            return Err(TransferError::TooLong { len: octets.len() });
        }
        let transfer: AsnTransfer<'_> =
            decode_open_type(octets).map_err(|_| TransferError::Malformed)?;
        let deviations = AsnTransfer::check(octets).map_err(|_| TransferError::Malformed)?;
        reject_on(&deviations)?;
        let flows = required::<ie::QosFlowSetupRequestList>(&transfer)?;
        Ok(Self {
            ul_tunnel: GtpTunnel::from_asn(&required::<ie::UL_NGU_UP_TNLInformation>(&transfer)?)?,
            session_type: PduSessionType::from_asn(required::<ie::PDUSessionType>(&transfer)?)?,
            qos_flows: flows_from_asn(&flows)?,
            session_ambr: optional::<ie::PDUSessionAggregateMaximumBitRate>(&transfer)?
                .map(|a| SessionAmbr::from_asn(&a)),
            security: optional::<ie::SecurityIndication>(&transfer)?
                .map(|s| SecurityIndication::from_asn(&s))
                .transpose()?,
            network_instance: optional::<ie::NetworkInstance>(&transfer)?
                .map(|n| u16::try_from(n.0).map_err(|_| TransferError::Value("Network Instance")))
                .transpose()?,
        })
    }

    /// The aligned-PER octets an item of a setup list holds (for the AMF emulator and tests).
    ///
    /// # Errors
    /// [`EncodeError::Constraint`] for no QoS flow or more than [`MAX_QOS_FLOWS`], or a value
    /// outside its range.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        if self.qos_flows.is_empty() || self.qos_flows.len() > MAX_QOS_FLOWS {
            return Err(EncodeError::Constraint(format!(
                "{} QoS flows: 1 to {MAX_QOS_FLOWS}",
                self.qos_flows.len()
            )));
        }
        let mut ies = Vec::with_capacity(6);
        if let Some(ambr) = self.session_ambr {
            ies.push(build_ngap_ie!(
                PDUSessionResourceSetupRequestTransfer,
                PDUSessionAggregateMaximumBitRate(ambr.to_asn())
            )?);
        }
        ies.push(build_ngap_ie!(
            PDUSessionResourceSetupRequestTransfer,
            UL_NGU_UP_TNLInformation(self.ul_tunnel.to_asn())
        )?);
        ies.push(build_ngap_ie!(
            PDUSessionResourceSetupRequestTransfer,
            PDUSessionType(self.session_type.to_asn())
        )?);
        self.push_optional(&mut ies)?;
        let flows = self.qos_flows.iter().map(|f| f.to_asn()).collect();
        ies.push(build_ngap_ie!(
            PDUSessionResourceSetupRequestTransfer,
            QosFlowSetupRequestList(asn::QosFlowSetupRequestList(flows))
        )?);
        let transfer = AsnTransfer::new(asn::ProtocolIEContainer(ies));
        Ok(encode_open_type(&transfer)?.to_vec())
    }

    /// Security Indication and Network Instance, in the order of the object set.
    fn push_optional(
        &self,
        ies: &mut Vec<asn::ProtocolIEField<'static>>,
    ) -> Result<(), EncodeError> {
        if let Some(security) = self.security {
            ies.push(build_ngap_ie!(
                PDUSessionResourceSetupRequestTransfer,
                SecurityIndication(security.to_asn())
            )?);
        }
        if let Some(instance) = self.network_instance {
            ies.push(build_ngap_ie!(
                PDUSessionResourceSetupRequestTransfer,
                NetworkInstance(asn::NetworkInstance(u64::from(instance)))
            )?);
        }
        Ok(())
    }
}

/// The first deviation that rejects the transfer (TS 38.413 §10.3): an IE of criticality
/// *reject* missing, not comprehended or undecodable, or any IE repeated or out of order. IEs
/// of criticality *ignore* or *notify* that are not comprehended are passed over: a transfer
/// has no ERROR INDICATION of its own to notify with.
fn reject_on(deviations: &[Deviation]) -> Result<(), TransferError> {
    for deviation in deviations {
        let rejects = match deviation {
            Deviation::RepeatedIe { .. } | Deviation::OutOfOrder { .. } => true,
            Deviation::UnexpectedIe { .. }
            | Deviation::MissingIe { .. }
            | Deviation::OutsideRoot { .. }
            | Deviation::UndecodableIe { .. } => {
                matches!(deviation.ie(), Some((_, asn::Criticality::reject)))
            }
            _ => false,
        };
        if rejects {
            let cause = deviation.cause().map_or(
                ProtocolCause::ABSTRACT_SYNTAX_ERROR_FALSELY_CONSTRUCTED_MESSAGE,
                |c| ProtocolCause(c as u8),
            );
            let ie = deviation.ie().map(|(id, _)| id).or(match deviation {
                Deviation::RepeatedIe { id, .. } | Deviation::OutOfOrder { id, .. } => Some(*id),
                _ => None,
            });
            return Err(TransferError::Rejected { ie, cause });
        }
    }
    Ok(())
}

fn required<'t, T: Ie<Protocol = Ngap>>(
    transfer: &'t AsnTransfer<'_>,
) -> Result<T::Value<'t>, TransferError> {
    optional::<T>(transfer)?.ok_or(TransferError::Rejected {
        ie: Some(T::ID),
        cause: ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT,
    })
}

fn optional<'t, T: Ie<Protocol = Ngap>>(
    transfer: &'t AsnTransfer<'_>,
) -> Result<Option<T::Value<'t>>, TransferError> {
    transfer
        .ie::<T>()
        .transpose()
        .map_err(|_| TransferError::Rejected {
            ie: Some(T::ID),
            cause: ProtocolCause::TRANSFER_SYNTAX_ERROR,
        })
}

fn flows_from_asn(
    list: &asn::QosFlowSetupRequestList,
) -> Result<Vec<QosFlowRequest>, TransferError> {
    if list.0.is_empty() || list.0.len() > MAX_QOS_FLOWS {
        return Err(TransferError::Value("QoS Flow Setup Request List"));
    }
    let mut seen = HashSet::with_capacity(list.0.len());
    list.0
        .iter()
        .map(|item| {
            let flow = QosFlowRequest::from_asn(item)?;
            match seen.insert(flow.qfi) {
                true => Ok(flow),
                false => Err(TransferError::DuplicateQfi(flow.qfi)),
            }
        })
        .collect()
}
