//! PDU Session Resource Setup Response Transfer (TS 38.413 §9.3.4.2): where the UPF sends the
//! session's downlink, and which QoS flows that tunnel carries.

use oxirush_ngap::ngap::{self as asn, decode_open_type, encode_open_type};

use crate::ids::Qfi;

use super::super::error::EncodeError;
use super::MAX_TRANSFER_LEN;
use super::error::TransferError;
use super::setup_request::MAX_QOS_FLOWS;
use super::values::{GtpTunnel, SecurityResult, qfi_from_asn, qfi_to_asn};

/// PDU Session Resource Setup Response Transfer, as the N3IWF fills it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceSetupResponseTransfer {
    /// DL NG-U UP TNL Information: our N3 address and the session's DL TEID.
    pub dl_tunnel: GtpTunnel,
    /// Associated QoS Flow List: 1 ..= 64 QFIs, those the tunnel carries.
    pub qos_flows: Vec<Qfi>,
    /// Sent when the request had a Security Indication (§8.2.1.2).
    pub security_result: Option<SecurityResult>,
}

impl PduSessionResourceSetupResponseTransfer {
    /// The aligned-PER octets an item of the setup list of a response holds.
    ///
    /// # Errors
    /// [`EncodeError::Constraint`] for no QFI or more than 64.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        if self.qos_flows.is_empty() || self.qos_flows.len() > MAX_QOS_FLOWS {
            return Err(EncodeError::Constraint(format!(
                "{} associated QoS flows: 1 to {MAX_QOS_FLOWS}",
                self.qos_flows.len()
            )));
        }
        let flows = self
            .qos_flows
            .iter()
            .map(|qfi| asn::AssociatedQosFlowItem::new(qfi_to_asn(*qfi), None, None))
            .collect();
        let dl = asn::QosFlowPerTNLInformation::new(
            self.dl_tunnel.to_asn(),
            asn::AssociatedQosFlowList(flows),
            None,
        );
        let transfer = asn::PDUSessionResourceSetupResponseTransfer::new(
            dl,
            None,
            self.security_result.map(SecurityResult::to_asn),
            None,
            None,
        );
        Ok(encode_open_type(&transfer)?.to_vec())
    }

    /// Reads one (for the AMF emulator and tests).
    ///
    /// # Errors
    /// [`TransferError`] for octets that are no such transfer, or values that mean nothing here.
    pub fn decode(octets: &[u8]) -> Result<Self, TransferError> {
        if octets.len() > MAX_TRANSFER_LEN {
            return Err(TransferError::TooLong { len: octets.len() });
        }
        let transfer: asn::PDUSessionResourceSetupResponseTransfer<'_> =
            decode_open_type(octets).map_err(|_| TransferError::Malformed)?;
        let dl = &transfer.dl_qos_flow_per_tnl_information;
        let qos_flows = dl
            .associated_qos_flow_list
            .0
            .iter()
            .map(|item| qfi_from_asn(item.qos_flow_identifier))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            dl_tunnel: GtpTunnel::from_asn(&dl.up_transport_layer_information)?,
            qos_flows,
            security_result: transfer
                .security_result
                .as_ref()
                .map(SecurityResult::from_asn),
        })
    }
}
