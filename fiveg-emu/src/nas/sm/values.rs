//! The small 5GSM information elements (TS 24.501 §9.11.4 and §9.11.2.1B): PDU session type,
//! SSC mode, 5GSM cause, PDU address, session AMBR, integrity protection maximum data rate, DNN.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::nas::codec::DecodeError;

/// Procedure transaction identity (TS 24.007 §11.2.3.1a): 0 is "none assigned", 255 reserved;
/// a UE picks 1..=254 for the procedures it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pti(pub u8);

impl Pti {
    /// No procedure transaction identity assigned (network-requested procedures).
    pub const UNASSIGNED: Self = Self(0);
}

/// PDU session type (§9.11.4.11), three bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PduSessionType(pub u8);

impl PduSessionType {
    pub const IPV4: Self = Self(1);
    pub const IPV6: Self = Self(2);
    pub const IPV4V6: Self = Self(3);
    pub const UNSTRUCTURED: Self = Self(4);
    pub const ETHERNET: Self = Self(5);
}

/// SSC mode (§9.11.4.16), three bits: 1, 2 or 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SscMode(pub u8);

impl SscMode {
    pub const MODE_1: Self = Self(1);
}

/// Request type (§9.11.3.47) of UL NAS TRANSPORT, three bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestType(pub u8);

impl RequestType {
    pub const INITIAL_REQUEST: Self = Self(1);
    pub const EXISTING_PDU_SESSION: Self = Self(2);
}

/// 5GSM cause (§9.11.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SmCause(pub u8);

impl SmCause {
    /// #26 Insufficient resources.
    pub const INSUFFICIENT_RESOURCES: Self = Self(26);
    /// #27 Missing or unknown DNN.
    pub const UNKNOWN_DNN: Self = Self(27);
    /// #28 Unknown PDU session type.
    pub const UNKNOWN_PDU_SESSION_TYPE: Self = Self(28);
    /// #31 Request rejected, unspecified.
    pub const REQUEST_REJECTED: Self = Self(31);
    /// #36 Regular deactivation.
    pub const REGULAR_DEACTIVATION: Self = Self(36);
    /// #43 Invalid PDU session identity.
    pub const INVALID_PDU_SESSION_IDENTITY: Self = Self(43);
    /// #50 PDU session type IPv4 only allowed.
    pub const IPV4_ONLY_ALLOWED: Self = Self(50);
    /// #54 PDU session does not exist.
    pub const PDU_SESSION_DOES_NOT_EXIST: Self = Self(54);
    /// #69 Insufficient resources for specific slice.
    pub const INSUFFICIENT_RESOURCES_FOR_SLICE: Self = Self(69);
    /// #111 Protocol error, unspecified.
    pub const PROTOCOL_ERROR: Self = Self(111);
}

/// PDU address (§9.11.4.10): the UE's IPv4 address, IPv6 interface identifier, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PduAddress {
    /// Type IPv4: the address.
    Ipv4(Ipv4Addr),
    /// Type IPv6: the interface identifier of the link-local address.
    Ipv6([u8; 8]),
    /// Type IPv4v6: the IPv6 interface identifier, then the IPv4 address.
    Ipv4v6([u8; 8], Ipv4Addr),
}

impl PduAddress {
    /// From the IE value. An SMF-provided link-local address (SI6LLA) is not read.
    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let invalid = DecodeError::Invalid("PDU address");
        let Some((&first, rest)) = value.split_first() else {
            return Err(invalid);
        };
        let v4 = |octets: &[u8]| <[u8; 4]>::try_from(octets).map(Ipv4Addr::from);
        let iid = |octets: &[u8]| <[u8; 8]>::try_from(octets);
        match (first & 0x07, rest.len()) {
            (1, 4) => v4(rest).map(Self::Ipv4).map_err(|_| invalid),
            (2, 8) => iid(rest).map(Self::Ipv6).map_err(|_| invalid),
            (3, 12) => match (iid(&rest[..8]), v4(&rest[8..])) {
                (Ok(iid), Ok(v4)) => Ok(Self::Ipv4v6(iid, v4)),
                _ => Err(invalid),
            },
            _ => Err(invalid),
        }
    }

    /// The IE value.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Ipv4(v4) => [&[1][..], &v4.octets()].concat(),
            Self::Ipv6(iid) => [&[2][..], iid].concat(),
            Self::Ipv4v6(iid, v4) => [&[3][..], iid, &v4.octets()].concat(),
        }
    }

    /// The IPv4 address, if any.
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        match self {
            Self::Ipv4(v4) | Self::Ipv4v6(_, v4) => Some(*v4),
            Self::Ipv6(_) => None,
        }
    }

    /// The link-local IPv6 address fe80::/64 with the interface identifier, if any.
    pub fn ipv6_link_local(&self) -> Option<Ipv6Addr> {
        let (Self::Ipv6(iid) | Self::Ipv4v6(iid, _)) = self else {
            return None;
        };
        let mut octets = [0u8; 16];
        octets[..2].copy_from_slice(&[0xfe, 0x80]);
        octets[8..].copy_from_slice(iid);
        Some(Ipv6Addr::from(octets))
    }
}

/// A bit rate as 5GSM writes it (§9.11.4.14): a unit and a 16-bit multiple of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmBitRate {
    /// Unit: 1 to 5 are 1, 4, 16, 64 and 256 kbps, 6 to 10 the same in Mbps, 11 to 15 in Gbps,
    /// then Tbps and Pbps, up to 25.
    pub unit: u8,
    /// The multiple of the unit.
    pub value: u16,
}

impl SmBitRate {
    /// The highest unit TS 24.501 defines (1 Pbps ... multiples of 4 Pbps: 0x19).
    pub const MAX_UNIT: u8 = 0x19;

    /// `mbps` megabits per second.
    pub fn mbps(mbps: u16) -> Self {
        Self {
            unit: 6,
            value: mbps,
        }
    }

    /// Bits per second; `None` for a unit outside 1..=25 or beyond `u64`.
    pub fn bits_per_second(self) -> Option<u64> {
        if !(1..=Self::MAX_UNIT).contains(&self.unit) {
            return None;
        }
        let step = u32::from(self.unit - 1);
        let unit = 1000u64
            .checked_pow(step / 5 + 1)?
            .checked_mul(4u64.pow(step % 5))?;
        unit.checked_mul(u64::from(self.value))
    }
}

/// Session-AMBR (§9.11.4.14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionAmbr {
    pub downlink: SmBitRate,
    pub uplink: SmBitRate,
}

impl SessionAmbr {
    /// From the six-octet value.
    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let [dl_unit, dl0, dl1, ul_unit, ul0, ul1] =
            <[u8; 6]>::try_from(value).map_err(|_| DecodeError::Invalid("session AMBR length"))?;
        let rate = |unit, hi, lo| SmBitRate {
            unit,
            value: u16::from_be_bytes([hi, lo]),
        };
        Ok(Self {
            downlink: rate(dl_unit, dl0, dl1),
            uplink: rate(ul_unit, ul0, ul1),
        })
    }

    /// The six-octet value.
    pub fn encode(&self) -> [u8; 6] {
        let [dl0, dl1] = self.downlink.value.to_be_bytes();
        let [ul0, ul1] = self.uplink.value.to_be_bytes();
        [self.downlink.unit, dl0, dl1, self.uplink.unit, ul0, ul1]
    }
}

/// Integrity protection maximum data rate (§9.11.4.7): uplink then downlink octet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntegrityProtectionMaxDataRate {
    pub uplink: u8,
    pub downlink: u8,
}

impl IntegrityProtectionMaxDataRate {
    /// 64 kbps.
    pub const KBPS_64: u8 = 0x00;
    /// NULL: no user-plane integrity protection.
    pub const NULL: u8 = 0x01;
    /// Full data rate.
    pub const FULL: u8 = 0xFF;
}

/// Data network name (§9.11.2.1B): an APN in the label encoding of TS 23.003 §9.1.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dnn(String);

impl Dnn {
    /// The longest DNN value (the IE's length is 1 to 100 octets).
    pub const MAX_LEN: usize = 100;

    /// A DNN of dot-separated labels, each 1 to 63 characters of letters, digits and hyphens.
    pub fn new(name: &str) -> Option<Self> {
        let labels_ok = name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        (labels_ok && name.len() < Self::MAX_LEN).then(|| Self(name.to_owned()))
    }

    /// From the IE value.
    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let invalid = DecodeError::Invalid("DNN");
        if value.is_empty() || value.len() > Self::MAX_LEN {
            return Err(invalid);
        }
        let mut reader = crate::nas::codec::Reader::new(value);
        let mut labels = Vec::new();
        while !reader.is_empty() {
            let label = reader.lv("DNN label")?;
            labels.push(std::str::from_utf8(label).map_err(|_| invalid.clone())?);
        }
        Self::new(&labels.join(".")).ok_or(invalid)
    }

    /// The IE value.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        for label in self.0.split('.') {
            // `new` bounds every label to 63 octets.
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
        out
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dnn_internet_is_one_label() {
        let dnn = Dnn::new("internet").unwrap();
        assert_eq!(dnn.encode(), b"\x08internet");
        assert_eq!(Dnn::decode(b"\x08internet").unwrap(), dnn);
        let two = Dnn::decode(b"\x03ims\x03mnc").unwrap();
        assert_eq!(two.as_str(), "ims.mnc");
    }

    #[test]
    fn dnn_refuses_bad_labels_and_lengths() {
        assert_eq!(Dnn::new(""), None);
        assert_eq!(Dnn::new("a..b"), None);
        assert_eq!(Dnn::new("in ternet"), None);
        assert!(Dnn::decode(b"\x09internet").is_err());
        assert!(Dnn::decode(&[0u8; 0]).is_err());
        assert!(Dnn::decode(&[0x01; 101]).is_err());
    }

    #[test]
    fn pdu_address_layouts() {
        let v4 = PduAddress::Ipv4(Ipv4Addr::new(10, 60, 0, 1));
        assert_eq!(v4.encode(), [0x01, 10, 60, 0, 1]);
        assert_eq!(PduAddress::decode(&v4.encode()).unwrap(), v4);
        let both = PduAddress::Ipv4v6([1, 2, 3, 4, 5, 6, 7, 8], Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(PduAddress::decode(&both.encode()).unwrap(), both);
        assert_eq!(
            both.ipv6_link_local().unwrap().to_string(),
            "fe80::102:304:506:708"
        );
        assert!(PduAddress::decode(&[0x01, 10, 0, 0]).is_err());
        assert!(PduAddress::decode(&[0x05, 1, 2, 3, 4]).is_err());
        assert!(PduAddress::decode(&[]).is_err());
    }

    #[test]
    fn ambr_units_multiply_by_four() {
        assert_eq!(SmBitRate::mbps(100).bits_per_second(), Some(100_000_000));
        let gbps = SmBitRate { unit: 11, value: 2 };
        assert_eq!(gbps.bits_per_second(), Some(2_000_000_000));
        assert_eq!(SmBitRate { unit: 0, value: 1 }.bits_per_second(), None);
        assert_eq!(SmBitRate { unit: 26, value: 1 }.bits_per_second(), None);
        let ambr = SessionAmbr {
            downlink: SmBitRate::mbps(1000),
            uplink: SmBitRate::mbps(500),
        };
        assert_eq!(ambr.encode(), [6, 0x03, 0xE8, 6, 0x01, 0xF4]);
        assert_eq!(SessionAmbr::decode(&ambr.encode()).unwrap(), ambr);
        assert!(SessionAmbr::decode(&[6, 0, 1]).is_err());
    }
}
