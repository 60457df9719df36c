//! PDU session and QoS flow identifiers.

/// PDU Session Identity (TS 24.007 §11.2.3.1b: 1..=15 identify a session; NGAP carries
/// 0..=255).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PduSessionId(pub u8);

/// QoS Flow Identifier (6 bits, TS 23.501 §5.7.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Qfi(u8);

impl Qfi {
    /// The largest QFI.
    pub const MAX: u8 = 0x3f;

    /// `None` above [`Qfi::MAX`].
    pub fn new(value: u8) -> Option<Self> {
        (value <= Self::MAX).then_some(Self(value))
    }

    /// The QFI bits (bits 6..1) of an octet whose top two bits are spare.
    pub fn from_octet(octet: u8) -> Self {
        Self(octet & Self::MAX)
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

/// 5G QoS Identifier (TS 23.501 §5.7.2.1; NGAP's FiveQI, 0..=255).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FiveQi(pub u8);
