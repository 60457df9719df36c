//! The values a setup transfer carries, as our own types, and their conversions to and from the
//! bindings (TS 38.413 §9.3.1, §9.3.2).

use oxirush_ngap::ngap as asn;

use crate::ids::{FiveQi, Qfi, Teid};

use super::super::convert::{address_from_asn, address_to_asn};
use super::super::types::TransportAddress;
use super::error::TransferError;

/// PDU Session Type (TS 38.413 §9.3.1.52).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PduSessionType {
    Ipv4,
    Ipv6,
    Ipv4v6,
    Ethernet,
    Unstructured,
}

/// One end of a GTP-U tunnel (UP Transport Layer Information, §9.3.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GtpTunnel {
    pub address: TransportAddress,
    pub teid: Teid,
}

/// Allocation and Retention Priority (§9.3.1.19).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Arp {
    /// 1 (highest) ..= 15.
    pub priority_level: u8,
    pub may_trigger_pre_emption: bool,
    pub pre_emptable: bool,
}

/// GBR QoS Flow Information (§9.3.1.20), bits per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GbrQos {
    pub max_dl: u64,
    pub max_ul: u64,
    pub guaranteed_dl: u64,
    pub guaranteed_ul: u64,
}

/// The characteristics a Dynamic 5QI Descriptor (§9.3.1.18) signals instead of a standard 5QI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DynamicQos {
    /// 1 ..= 127.
    pub priority_level: u8,
    /// In units of 0.5 ms, 0 ..= 1023.
    pub packet_delay_budget: u16,
    /// Packet error rate scalar × 10^-exponent, each 0 ..= 9.
    pub per_scalar: u8,
    pub per_exponent: u8,
}

/// QoS Characteristics (§9.3.1.12): a standardized or pre-configured 5QI, or characteristics
/// signalled with the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QosCharacteristics {
    NonDynamic {
        five_qi: FiveQi,
    },
    Dynamic {
        five_qi: Option<FiveQi>,
        descriptor: DynamicQos,
    },
}

impl QosCharacteristics {
    /// The 5QI, when the characteristics name one.
    pub fn five_qi(&self) -> Option<FiveQi> {
        match self {
            Self::NonDynamic { five_qi } => Some(*five_qi),
            Self::Dynamic { five_qi, .. } => *five_qi,
        }
    }
}

/// One QoS flow of the QoS Flow Setup Request List (§9.3.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QosFlowRequest {
    pub qfi: Qfi,
    pub characteristics: QosCharacteristics,
    pub arp: Arp,
    pub gbr: Option<GbrQos>,
}

/// PDU Session Aggregate Maximum Bit Rate (§9.3.1.102), bits per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionAmbr {
    pub downlink: u64,
    pub uplink: u64,
}

/// What the core network asks of user-plane protection (§9.3.1.27).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtectionIndication {
    Required,
    Preferred,
    NotNeeded,
}

/// Security Indication (§9.3.1.27): integrity and confidentiality protection of the user plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SecurityIndication {
    pub integrity: ProtectionIndication,
    pub confidentiality: ProtectionIndication,
}

/// Security Result (§9.3.1.59): whether each protection is performed. Over NWu both always
/// are, by the ESP of the Child SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SecurityResult {
    pub integrity_performed: bool,
    pub confidentiality_performed: bool,
}

impl PduSessionType {
    pub(super) fn to_asn(self) -> asn::PDUSessionType {
        match self {
            Self::Ipv4 => asn::PDUSessionType::ipv4,
            Self::Ipv6 => asn::PDUSessionType::ipv6,
            Self::Ipv4v6 => asn::PDUSessionType::ipv4v6,
            Self::Ethernet => asn::PDUSessionType::ethernet,
            Self::Unstructured => asn::PDUSessionType::unstructured,
        }
    }

    pub(super) fn from_asn(kind: asn::PDUSessionType) -> Result<Self, TransferError> {
        Ok(match kind {
            asn::PDUSessionType::ipv4 => Self::Ipv4,
            asn::PDUSessionType::ipv6 => Self::Ipv6,
            asn::PDUSessionType::ipv4v6 => Self::Ipv4v6,
            asn::PDUSessionType::ethernet => Self::Ethernet,
            asn::PDUSessionType::unstructured => Self::Unstructured,
            _ => return Err(TransferError::Value("PDU Session Type")),
        })
    }

    /// True for the types whose packets are IP, which NWu's GRE carries (TS 24.502 §9.3.3).
    pub fn is_ip(self) -> bool {
        matches!(self, Self::Ipv4 | Self::Ipv6 | Self::Ipv4v6)
    }
}

impl GtpTunnel {
    pub(super) fn to_asn(self) -> asn::UPTransportLayerInformation<'static> {
        asn::UPTransportLayerInformation::gTPTunnel(asn::GTPTunnel::new(
            address_to_asn(self.address),
            asn::GTPTEID(self.teid.to_bytes()),
            None,
        ))
    }

    pub(super) fn from_asn(
        info: &asn::UPTransportLayerInformation<'_>,
    ) -> Result<Self, TransferError> {
        let asn::UPTransportLayerInformation::gTPTunnel(tunnel) = info else {
            return Err(TransferError::Value("UP Transport Layer Information"));
        };
        let address = address_from_asn(&tunnel.transport_layer_address)
            .map_err(|_| TransferError::Value("Transport Layer Address"))?;
        Ok(Self {
            address,
            teid: Teid::from_bytes(tunnel.gtp_teid.0),
        })
    }
}

impl ProtectionIndication {
    fn integrity_to_asn(self) -> asn::IntegrityProtectionIndication {
        match self {
            Self::Required => asn::IntegrityProtectionIndication::required,
            Self::Preferred => asn::IntegrityProtectionIndication::preferred,
            Self::NotNeeded => asn::IntegrityProtectionIndication::not_needed,
        }
    }

    fn confidentiality_to_asn(self) -> asn::ConfidentialityProtectionIndication {
        match self {
            Self::Required => asn::ConfidentialityProtectionIndication::required,
            Self::Preferred => asn::ConfidentialityProtectionIndication::preferred,
            Self::NotNeeded => asn::ConfidentialityProtectionIndication::not_needed,
        }
    }
}

impl SecurityIndication {
    pub(super) fn to_asn(self) -> asn::SecurityIndication {
        asn::SecurityIndication::new(
            self.integrity.integrity_to_asn(),
            self.confidentiality.confidentiality_to_asn(),
            None,
            None,
        )
    }

    pub(super) fn from_asn(indication: &asn::SecurityIndication) -> Result<Self, TransferError> {
        use asn::ConfidentialityProtectionIndication as C;
        use asn::IntegrityProtectionIndication as I;
        let integrity = match indication.integrity_protection_indication {
            I::required => ProtectionIndication::Required,
            I::preferred => ProtectionIndication::Preferred,
            I::not_needed => ProtectionIndication::NotNeeded,
            _ => return Err(TransferError::Value("Integrity Protection Indication")),
        };
        let confidentiality = match indication.confidentiality_protection_indication {
            C::required => ProtectionIndication::Required,
            C::preferred => ProtectionIndication::Preferred,
            C::not_needed => ProtectionIndication::NotNeeded,
            _ => {
                return Err(TransferError::Value(
                    "Confidentiality Protection Indication",
                ));
            }
        };
        Ok(Self {
            integrity,
            confidentiality,
        })
    }
}

impl SecurityResult {
    pub(super) fn to_asn(self) -> asn::SecurityResult {
        use asn::ConfidentialityProtectionResult as C;
        use asn::IntegrityProtectionResult as I;
        asn::SecurityResult::new(
            if self.integrity_performed {
                I::performed
            } else {
                I::not_performed
            },
            if self.confidentiality_performed {
                C::performed
            } else {
                C::not_performed
            },
            None,
        )
    }

    pub(super) fn from_asn(result: &asn::SecurityResult) -> Self {
        Self {
            integrity_performed: matches!(
                result.integrity_protection_result,
                asn::IntegrityProtectionResult::performed
            ),
            confidentiality_performed: matches!(
                result.confidentiality_protection_result,
                asn::ConfidentialityProtectionResult::performed
            ),
        }
    }
}

impl SessionAmbr {
    pub(super) fn to_asn(self) -> asn::PDUSessionAggregateMaximumBitRate {
        asn::PDUSessionAggregateMaximumBitRate::new(
            asn::BitRate(self.downlink),
            asn::BitRate(self.uplink),
            None,
        )
    }

    pub(super) fn from_asn(ambr: &asn::PDUSessionAggregateMaximumBitRate) -> Self {
        Self {
            downlink: ambr.pdu_session_aggregate_maximum_bit_rate_dl.0,
            uplink: ambr.pdu_session_aggregate_maximum_bit_rate_ul.0,
        }
    }
}

/// A QFI of the bindings (extensible 0..=63): beyond 63 it means nothing here.
pub(super) fn qfi_from_asn(qfi: asn::QosFlowIdentifier) -> Result<Qfi, TransferError> {
    u8::try_from(qfi.0)
        .ok()
        .and_then(Qfi::new)
        .ok_or(TransferError::Value("QoS Flow Identifier"))
}

pub(super) fn qfi_to_asn(qfi: Qfi) -> asn::QosFlowIdentifier {
    asn::QosFlowIdentifier(u64::from(qfi.value()))
}
