//! 5G-GUTI (TS 23.003 §2.10): PLMN, AMF identifier (region 8 bits, set 10 bits, pointer 6 bits)
//! and 5G-TMSI.

use super::plmn::Plmn;

/// AMF identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AmfId {
    region: u8,
    set: u16,
    pointer: u8,
}

impl AmfId {
    /// `None` when the set does not fit 10 bits or the pointer 6 bits.
    pub fn new(region: u8, set: u16, pointer: u8) -> Option<Self> {
        (set < 1 << 10 && pointer < 1 << 6).then_some(Self {
            region,
            set,
            pointer,
        })
    }

    /// From the three octets of the wire (region, then set and pointer packed).
    pub fn from_octets(octets: [u8; 3]) -> Self {
        Self {
            region: octets[0],
            set: u16::from(octets[1]) << 2 | u16::from(octets[2] >> 6),
            pointer: octets[2] & 0x3F,
        }
    }

    /// The three octets.
    pub fn octets(self) -> [u8; 3] {
        let [set_high, set_low] = (self.set << 6).to_be_bytes();
        [self.region, set_high, set_low | self.pointer]
    }

    /// AMF region ID.
    pub fn region(self) -> u8 {
        self.region
    }

    /// AMF set ID (10 bits).
    pub fn set(self) -> u16 {
        self.set
    }

    /// AMF pointer (6 bits).
    pub fn pointer(self) -> u8 {
        self.pointer
    }
}

/// 5G-TMSI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FiveGTmsi(pub u32);

/// 5G-GUTI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FiveGGuti {
    /// PLMN of the AMF.
    pub plmn: Plmn,
    /// AMF identifier.
    pub amf_id: AmfId,
    /// 5G-TMSI.
    pub tmsi: FiveGTmsi,
}
