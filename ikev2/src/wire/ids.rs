//! The identifiers on the wire: IKE SA SPIs, ESP SPIs and Message IDs. Each prints as
//! fixed-width hex (`Display` and `Debug` alike), so that every log line names an SA the same
//! way.

use std::fmt;

/// An IKE SA SPI (8 octets, RFC 7296 §3.1); zero means "not yet known" for the responder SPI.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IkeSpi(pub u64);

/// An ESP SPI (4 octets, RFC 4303 §2.1). The values 1 to 255 are reserved; 0 is never sent.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EspSpi(pub u32);

/// A Message ID (RFC 7296 §3.1): requests are numbered in sequence from 0.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub u32);

impl IkeSpi {
    /// The SPI as it goes on the wire.
    pub fn to_be_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// An SPI from exactly 8 octets.
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        Some(Self(u64::from_be_bytes(b.try_into().ok()?)))
    }
}

impl EspSpi {
    /// The SPI as it goes on the wire.
    pub fn to_be_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }

    /// An SPI from exactly 4 octets.
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        Some(Self(u32::from_be_bytes(b.try_into().ok()?)))
    }

    /// Whether an SA may use it: not 0 and not in the reserved range 1-255 (RFC 4303 §2.1).
    pub fn is_assignable(self) -> bool {
        self.0 > 255
    }
}

impl MessageId {
    /// The ID after this one (RFC 7296 §2.2; wrapping is the caller's concern).
    pub fn next(self) -> Self {
        Self(self.0.wrapping_add(1))
    }

    /// The ID before this one.
    pub fn prev(self) -> Self {
        Self(self.0.wrapping_sub(1))
    }
}

impl fmt::Display for IkeSpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Display for EspSpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

impl fmt::Debug for IkeSpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Debug for EspSpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// For formats that need another width or a prefix (`0x{spi:08x}` in a key log).
impl fmt::LowerHex for IkeSpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

impl fmt::LowerHex for EspSpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

impl fmt::LowerHex for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_print_as_fixed_width_hex_in_display_and_debug() {
        let ike = IkeSpi(0x0123_4567_89ab_cdef);
        assert_eq!(ike.to_string(), "0123456789abcdef");
        assert_eq!(format!("{ike:?}"), "0123456789abcdef");
        assert_eq!(EspSpi(0xbf24_9608).to_string(), "bf249608");
        assert_eq!(format!("{:?}", EspSpi(0x100)), "00000100");
        assert_eq!(MessageId(3).to_string(), "00000003");
        assert_eq!(format!("{:?}", Some(MessageId(0x10))), "Some(00000010)");
        assert_eq!(format!("0x{:08x}", EspSpi(0xab)), "0x000000ab");
    }

    #[test]
    fn spis_from_slices_need_their_exact_length() {
        assert_eq!(EspSpi::from_slice(&[0, 0, 1, 0]), Some(EspSpi(0x100)));
        assert_eq!(EspSpi::from_slice(&[0, 1, 0]), None);
        assert_eq!(IkeSpi::from_slice(&[0; 9]), None);
        assert_eq!(
            IkeSpi::from_slice(&[1; 8]),
            Some(IkeSpi(0x0101_0101_0101_0101))
        );
        assert!(!EspSpi(255).is_assignable() && !EspSpi(0).is_assignable());
        assert!(EspSpi(256).is_assignable());
        assert_eq!(MessageId(u32::MAX).next(), MessageId(0));
        assert_eq!(MessageId(0).prev(), MessageId(u32::MAX));
    }
}
