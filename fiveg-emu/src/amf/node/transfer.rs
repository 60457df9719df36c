//! The NGAP transfers of the emulated SMF: the setup request transfer it writes (UPF tunnel end,
//! session type, QoS flows, AMBR), the setup response transfer it reads (the N3IWF's end), and
//! the release command transfer.

use n3iwf::ids::{FiveQi, Qfi};
use n3iwf::ngap::{
    Arp, EncodeError, GtpTunnel, PduSessionResourceSetupRequestTransfer,
    PduSessionResourceSetupResponseTransfer, PduSessionType, QosCharacteristics, QosFlowRequest,
    SessionAmbr, TransportAddress,
};
use oxirush_ngap::ngap::{self as asn, encode_open_type};

use crate::amf::smf::{SessionSetup, TunnelEnd};

/// ARP of every flow: priority 8 of 15, no pre-emption either way (a best-effort session).
const ARP: Arp = Arp {
    priority_level: 8,
    may_trigger_pre_emption: false,
    pre_emptable: false,
};

/// PDU Session Resource Setup Request Transfer (TS 38.413 §9.3.4.1) of a session.
///
/// # Errors
/// [`EncodeError`] when the binding refuses a value.
pub fn setup_request_transfer(setup: &SessionSetup) -> Result<Vec<u8>, EncodeError> {
    let qos_flows = setup
        .flows
        .iter()
        .map(|flow| QosFlowRequest {
            qfi: flow.qfi,
            characteristics: QosCharacteristics::NonDynamic {
                five_qi: FiveQi(flow.five_qi),
            },
            arp: ARP,
            gbr: None,
        })
        .collect();
    let (downlink, uplink) = setup.ambr_bps;
    PduSessionResourceSetupRequestTransfer {
        ul_tunnel: GtpTunnel {
            address: TransportAddress::from(setup.uplink.address),
            teid: setup.uplink.teid,
        },
        session_type: PduSessionType::Ipv4,
        qos_flows,
        session_ambr: Some(SessionAmbr { downlink, uplink }),
        security: None,
        network_instance: None,
    }
    .encode()
}

/// The N3IWF's tunnel end and the QFIs it carries, from a setup response transfer; `None` for
/// octets that are no such transfer or a tunnel end without an address the emulator can use.
pub fn setup_response_tunnel(octets: &[u8]) -> Option<(TunnelEnd, Vec<Qfi>)> {
    let transfer = PduSessionResourceSetupResponseTransfer::decode(octets).ok()?;
    let address = match transfer.dl_tunnel.address {
        TransportAddress::V4(v4) | TransportAddress::Dual(v4, _) => v4.into(),
        TransportAddress::V6(v6) => v6.into(),
    };
    let end = TunnelEnd {
        address,
        teid: transfer.dl_tunnel.teid,
    };
    Some((end, transfer.qos_flows))
}

/// PDU Session Resource Release Command Transfer (§9.3.4.12) with cause NAS normal-release.
///
/// # Errors
/// The binding's encoding error, which a value without constrained fields does not have.
pub fn release_command_transfer() -> Result<Vec<u8>, EncodeError> {
    let cause = asn::Cause::nas(asn::CauseNas::normal_release);
    let transfer = asn::PDUSessionResourceReleaseCommandTransfer::new(cause, None);
    Ok(encode_open_type(&transfer)?.to_vec())
}
