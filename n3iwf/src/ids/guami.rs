//! GUAMI: PLMN + AMF Region ID + AMF Set ID + AMF Pointer (TS 23.003 §2.10.1).

use crate::wire::WireError;

use super::Plmn;

/// AMF Region ID (8 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AmfRegionId(pub u8);

/// AMF Set ID (10 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AmfSetId(u16);

/// AMF Pointer (6 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AmfPointer(u8);

impl AmfSetId {
    /// The largest AMF Set ID (10 bits).
    pub const MAX: u16 = 0x03ff;

    /// `None` above [`AmfSetId::MAX`].
    pub fn new(value: u16) -> Option<Self> {
        (value <= Self::MAX).then_some(Self(value))
    }

    pub fn value(self) -> u16 {
        self.0
    }
}

impl AmfPointer {
    /// The largest AMF Pointer (6 bits).
    pub const MAX: u8 = 0x3f;

    /// `None` above [`AmfPointer::MAX`].
    pub fn new(value: u8) -> Option<Self> {
        (value <= Self::MAX).then_some(Self(value))
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

/// Globally Unique AMF Identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Guami {
    pub plmn: Plmn,
    pub region: AmfRegionId,
    pub set: AmfSetId,
    pub pointer: AmfPointer,
}

impl Guami {
    /// Length of the GUAMI value part (TS 24.502 §9.2.1 without its IEI).
    pub const NAS_LEN: usize = 6;

    /// Parses the value part of the GUAMI IE of TS 24.502 §9.2.1 (the AN parameter GUAMI of
    /// §9.3.2.2.2): PLMN in NAS layout (3), AMF Region ID (1), AMF Set ID (10 bits) and AMF
    /// Pointer (6 bits).
    ///
    /// # Errors
    /// [`WireError::BadValue`] for a PLMN whose digits are not decimal.
    pub fn from_nas(value: [u8; Self::NAS_LEN]) -> Result<Self, WireError> {
        let [p0, p1, p2, region, s0, s1] = value;
        let set_and_pointer = u16::from_be_bytes([s0, s1]);
        Ok(Self {
            plmn: Plmn::from_nas([p0, p1, p2])?,
            region: AmfRegionId(region),
            set: AmfSetId(set_and_pointer >> 6),
            pointer: AmfPointer(s1 & AmfPointer::MAX),
        })
    }

    /// The value part of TS 24.502 §9.2.1, PLMN in NAS layout.
    pub fn to_nas(self) -> [u8; Self::NAS_LEN] {
        let [p0, p1, p2] = self.plmn.to_nas();
        let [s0, s1] = (self.set.0 << 6 | u16::from(self.pointer.0)).to_be_bytes();
        [p0, p1, p2, self.region.0, s0, s1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TS 24.502 Figure 9.2.1-1 for 310-410, region 0xca, set 0x3fe, pointer 0x01.
    #[test]
    fn nas_value_layout() {
        let guami = Guami {
            plmn: Plmn::new("310", "410").unwrap(),
            region: AmfRegionId(0xca),
            set: AmfSetId::new(0x3fe).unwrap(),
            pointer: AmfPointer::new(0x01).unwrap(),
        };
        let octets = [0x13, 0x00, 0x14, 0xca, 0xff, 0x81];
        assert_eq!(guami.to_nas(), octets);
        assert_eq!(Guami::from_nas(octets), Ok(guami));
    }

    #[test]
    fn bit_field_bounds() {
        assert!(AmfSetId::new(AmfSetId::MAX).is_some());
        assert!(AmfSetId::new(AmfSetId::MAX + 1).is_none());
        assert!(AmfPointer::new(AmfPointer::MAX).is_some());
        assert!(AmfPointer::new(AmfPointer::MAX + 1).is_none());
    }
}
