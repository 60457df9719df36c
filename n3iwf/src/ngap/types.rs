//! Values of NGAP IEs, as the rest of the N3IWF sees them (TS 38.413 §9.3).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::ids::{AmfPointer, AmfSetId, Plmn, Snssai, Tac};
use crate::macros::open_enum;
use crate::wire::an_params::EstablishmentCause;

/// AMF UE NGAP ID (TS 38.413 §9.3.3.1): 0..=2⁴⁰−1, allocated by the AMF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AmfUeNgapId(u64);

impl AmfUeNgapId {
    /// The largest AMF UE NGAP ID.
    pub const MAX: u64 = (1 << 40) - 1;

    /// `None` above [`AmfUeNgapId::MAX`].
    pub fn new(value: u64) -> Option<Self> {
        (value <= Self::MAX).then_some(Self(value))
    }

    pub fn value(self) -> u64 {
        self.0
    }
}

/// RAN UE NGAP ID (TS 38.413 §9.3.3.2): 0..=2³²−1, allocated by the N3IWF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RanUeNgapId(pub u32);

/// The pair that names a UE-associated logical NG connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UeNgapIds {
    pub amf: AmfUeNgapId,
    pub ran: RanUeNgapId,
}

/// N3IWF ID (BIT STRING (SIZE(16)), TS 38.413 §9.3.1.57).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct N3iwfId(pub u16);

/// Global N3IWF ID: how the N3IWF names itself in NG SETUP REQUEST.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalN3iwfId {
    pub plmn: Plmn,
    pub n3iwf_id: N3iwfId,
}

open_enum! {
    /// Default Paging DRX (TS 38.413 §9.3.1.90), by its index in the ASN.1 enumeration.
    PagingDrx(u8) {
        V32 = 0,
        V64 = 1,
        V128 = 2,
        V256 = 3,
    }
}

open_enum! {
    /// RRC Establishment Cause (TS 38.413 §9.3.1.111), by its index. For an N3IWF it comes from
    /// the AN parameter establishment cause, whose values line up with these indexes.
    RrcEstablishmentCause(u8) {
        EMERGENCY = 0,
        HIGH_PRIORITY_ACCESS = 1,
        MT_ACCESS = 2,
        MO_SIGNALLING = 3,
        MO_DATA = 4,
        MO_VOICE_CALL = 5,
        MO_VIDEO_CALL = 6,
        MO_SMS = 7,
        MPS_PRIORITY_ACCESS = 8,
        MCS_PRIORITY_ACCESS = 9,
        NOT_AVAILABLE = 10,
        MO_EXCEPTION_DATA = 11,
    }
}

impl From<EstablishmentCause> for RrcEstablishmentCause {
    /// The AN parameter's values are the NGAP indexes of the same names (TS 24.502
    /// §9.3.2.2.2); a value TS 24.502 leaves reserved counts as MO signalling.
    fn from(cause: EstablishmentCause) -> Self {
        match cause {
            EstablishmentCause::EMERGENCY
            | EstablishmentCause::HIGH_PRIORITY_ACCESS
            | EstablishmentCause::MO_SIGNALLING
            | EstablishmentCause::MO_DATA
            | EstablishmentCause::MPS_PRIORITY_ACCESS
            | EstablishmentCause::MCS_PRIORITY_ACCESS => Self(cause.0),
            _ => Self::MO_SIGNALLING,
        }
    }
}

open_enum! {
    /// Time to Wait (TS 38.413 §9.3.1.56), by its index.
    TimeToWait(u8) {
        V1S = 0,
        V2S = 1,
        V5S = 2,
        V10S = 3,
        V20S = 4,
        V60S = 5,
    }
}

/// A tracking area the N3IWF serves, with the slices of each broadcast PLMN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportedTa {
    pub tac: Tac,
    pub broadcast_plmns: Vec<PlmnSlices>,
}

/// A PLMN and the slices supported in it (BroadcastPLMNItem and PLMNSupportItem).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlmnSlices {
    pub plmn: Plmn,
    pub slices: Vec<Snssai>,
}

/// A GUAMI the AMF serves, with the name of its backup AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedGuami {
    pub guami: crate::ids::Guami,
    pub backup_amf_name: Option<String>,
}

/// A GUAMI that became unavailable (AMF STATUS INDICATION).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnavailableGuami {
    pub guami: crate::ids::Guami,
    /// Timer Approach for GUAMI Removal = apply-timer.
    pub apply_timer: bool,
    pub backup_amf_name: Option<String>,
}

/// An address of the transport layer (TS 38.413 §9.3.2.4): IPv4 (32 bits), IPv6 (128) or both
/// (160).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportAddress {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Dual(Ipv4Addr, Ipv6Addr),
}

impl From<IpAddr> for TransportAddress {
    fn from(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(v4) => Self::V4(v4),
            IpAddr::V6(v6) => Self::V6(v6),
        }
    }
}

/// User Location Information of a UE behind an N3IWF (TS 38.413 §9.3.1.16): the UE's outer IP
/// address and UDP source port as the N3IWF sees them, after any NAT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct N3iwfUserLocation {
    pub address: TransportAddress,
    pub port: u16,
}

/// 5G-S-TMSI (TS 38.413 §9.3.3.20).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FiveGSTmsi {
    pub set: AmfSetId,
    pub pointer: AmfPointer,
    pub tmsi: [u8; 4],
}

/// UE Security Capabilities (TS 38.413 §9.3.1.86): the first 16 bits of each algorithm bitmap,
/// bit 15 (the most significant) for algorithm 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UeSecurityCapabilities {
    pub nr_encryption: u16,
    pub nr_integrity: u16,
    pub eutra_encryption: u16,
    pub eutra_integrity: u16,
}

/// UE Aggregate Maximum Bit Rate, bits per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UeAmbr {
    pub downlink: u64,
    pub uplink: u64,
}

/// A PDU session the AMF asks to set up, with its transfer left encoded (an OCTET STRING
/// holding a separately APER-encoded PDU Session Resource Setup Request Transfer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionSetupItem {
    pub pdu_session_id: crate::ids::PduSessionId,
    pub nas_pdu: Option<Vec<u8>>,
    pub snssai: Snssai,
    pub transfer: Vec<u8>,
}

/// A PDU session and an encoded transfer (setup response, unsuccessful, release command or
/// release response transfer, by the list it is in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionTransfer {
    pub pdu_session_id: crate::ids::PduSessionId,
    pub transfer: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn establishment_causes_keep_their_number() {
        for (cause, rrc) in [
            (
                EstablishmentCause::EMERGENCY,
                RrcEstablishmentCause::EMERGENCY,
            ),
            (
                EstablishmentCause::HIGH_PRIORITY_ACCESS,
                RrcEstablishmentCause::HIGH_PRIORITY_ACCESS,
            ),
            (
                EstablishmentCause::MO_SIGNALLING,
                RrcEstablishmentCause::MO_SIGNALLING,
            ),
            (EstablishmentCause::MO_DATA, RrcEstablishmentCause::MO_DATA),
            (
                EstablishmentCause::MPS_PRIORITY_ACCESS,
                RrcEstablishmentCause::MPS_PRIORITY_ACCESS,
            ),
            (
                EstablishmentCause::MCS_PRIORITY_ACCESS,
                RrcEstablishmentCause::MCS_PRIORITY_ACCESS,
            ),
            (EstablishmentCause(2), RrcEstablishmentCause::MO_SIGNALLING),
            (EstablishmentCause(15), RrcEstablishmentCause::MO_SIGNALLING),
        ] {
            assert_eq!(RrcEstablishmentCause::from(cause), rrc, "{cause:?}");
        }
    }

    #[test]
    fn amf_ue_ngap_id_is_40_bits() {
        assert_eq!(
            AmfUeNgapId::new(AmfUeNgapId::MAX).map(AmfUeNgapId::value),
            Some((1 << 40) - 1)
        );
        assert_eq!(AmfUeNgapId::new(1 << 40), None);
    }
}
