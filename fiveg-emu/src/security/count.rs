//! NAS COUNT (TS 24.501 §4.4.3.1): a 16-bit overflow counter and the 8-bit sequence number
//! sent in each protected message, 24 bits in all. It is used as a 32-bit input with the top
//! eight bits zero.

/// A NAS COUNT value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NasCount(u32);

impl NasCount {
    /// The first COUNT of a new security context.
    pub const ZERO: Self = Self(0);
    /// The last COUNT before the context must be replaced.
    pub const MAX: Self = Self(0x00FF_FFFF);

    /// From the overflow counter and the sequence number.
    pub fn new(overflow: u16, sqn: u8) -> Self {
        Self(u32::from(overflow) << 8 | u32::from(sqn))
    }

    /// The 32-bit algorithm input (and the KDF parameter of KN3IWF/KgNB).
    pub fn value(self) -> u32 {
        self.0
    }

    /// The sequence number: the eight low bits, sent in the header.
    pub fn sqn(self) -> u8 {
        self.0.to_be_bytes()[3]
    }

    /// The overflow counter.
    pub fn overflow(self) -> u16 {
        let [_, high, low, _] = self.0.to_be_bytes();
        u16::from_be_bytes([high, low])
    }

    /// The following COUNT, `None` past [`Self::MAX`].
    pub fn next(self) -> Option<Self> {
        (self < Self::MAX).then_some(Self(self.0 + 1))
    }

    /// The COUNT the receiver estimates for a received sequence number, given the last COUNT it
    /// accepted: same overflow if the sequence number went up, otherwise the next overflow
    /// value. `None` when the overflow counter would wrap.
    pub fn estimate(last_accepted: Option<Self>, sqn: u8) -> Option<Self> {
        let Some(last) = last_accepted else {
            return Some(Self::new(0, sqn));
        };
        if sqn > last.sqn() {
            return Some(Self::new(last.overflow(), sqn));
        }
        last.overflow()
            .checked_add(1)
            .map(|overflow| Self::new(overflow, sqn))
    }
}
