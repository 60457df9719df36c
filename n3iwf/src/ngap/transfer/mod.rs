//! The transfers of PDU session resource management: each is an OCTET STRING of a PDU session
//! list item holding its own aligned-PER value (TS 38.413 §9.3.4).

mod error;
mod qos;
mod setup_request;
mod setup_response;
mod values;

use oxirush_ngap::ngap::{
    PDUSessionResourceNotifyReleasedTransfer, PDUSessionResourceReleaseResponseTransfer,
    PDUSessionResourceSetupUnsuccessfulTransfer, encode_open_type,
};

use super::cause::Cause;
use super::error::EncodeError;

pub use error::TransferError;
pub use setup_request::{MAX_QOS_FLOWS, PduSessionResourceSetupRequestTransfer};
pub use setup_response::PduSessionResourceSetupResponseTransfer;
pub use values::{
    Arp, DynamicQos, GbrQos, GtpTunnel, PduSessionType, ProtectionIndication, QosCharacteristics,
    QosFlowRequest, SecurityIndication, SecurityResult, SessionAmbr,
};

/// The longest transfer read. 64 QoS flows with every optional field fit in a few kilobytes; the
/// bound keeps a hostile one from costing more.
pub const MAX_TRANSFER_LEN: usize = 16 * 1024;

/// PDU Session Resource Setup Unsuccessful Transfer (§9.3.4.16): why a session was not set up.
///
/// # Errors
/// [`EncodeError::UnknownValue`] for a cause this release lacks.
pub fn setup_unsuccessful_transfer(cause: Cause) -> Result<Vec<u8>, EncodeError> {
    let transfer = PDUSessionResourceSetupUnsuccessfulTransfer::new(cause.to_asn()?, None, None);
    Ok(encode_open_type(&transfer)?.to_vec())
}

/// PDU Session Resource Notify Released Transfer (§9.3.4.13): why the N3IWF released a session
/// on its own.
///
/// # Errors
/// [`EncodeError::UnknownValue`] for a cause this release lacks.
pub fn notify_released_transfer(cause: Cause) -> Result<Vec<u8>, EncodeError> {
    let transfer = PDUSessionResourceNotifyReleasedTransfer::new(cause.to_asn()?, None);
    Ok(encode_open_type(&transfer)?.to_vec())
}

/// PDU Session Resource Release Response Transfer (§9.3.4.21), which carries nothing an N3IWF
/// fills in.
///
/// # Errors
/// None in practice: the value has no constrained field; the codec's error is passed on.
pub fn release_response_transfer() -> Result<Vec<u8>, EncodeError> {
    let transfer = PDUSessionResourceReleaseResponseTransfer::new(None);
    Ok(encode_open_type(&transfer)?.to_vec())
}

#[cfg(test)]
mod tests {
    use oxirush_ngap::ngap::decode_open_type;

    use super::*;
    use crate::ngap::RadioNetworkCause;

    #[test]
    fn unsuccessful_transfer_decodes_to_its_cause() {
        let cause = Cause::RadioNetwork(RadioNetworkCause::RADIO_RESOURCES_NOT_AVAILABLE);
        let octets = setup_unsuccessful_transfer(cause).unwrap();
        let transfer: PDUSessionResourceSetupUnsuccessfulTransfer =
            decode_open_type(&octets).unwrap();
        assert_eq!(Cause::from_asn(&transfer.cause), cause);
    }

    #[test]
    fn release_response_transfer_decodes() {
        let octets = release_response_transfer().unwrap();
        let transfer: PDUSessionResourceReleaseResponseTransfer =
            decode_open_type(&octets).unwrap();
        assert!(transfer.ie_extensions.is_none());
    }
}
