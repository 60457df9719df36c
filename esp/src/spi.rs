//! The Security Parameters Index (RFC 4303 §2.1): the receiver's name for an SA.

use std::fmt;

/// An ESP SPI. It names an SA on the wire, in the [`Sad`](crate::Sad), in events and in
/// counters; it prints as eight hex digits without a prefix (`Display` and `Debug` alike), as
/// the IKE engine prints the SPIs it negotiates, so that one SPI reads the same in every log.
///
/// The values 1 to 255 are reserved by IANA and 0 is for local use only (RFC 4303 §2.1): see
/// [`Spi::is_reserved`]. The SA types do not refuse them, so that tests and vectors may use
/// any value; whoever assigns SPIs must.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Spi(pub u32);

impl Spi {
    /// The SPI in the first four octets of an ESP header, in network byte order.
    #[inline]
    pub const fn from_wire(octets: [u8; 4]) -> Self {
        Self(u32::from_be_bytes(octets))
    }

    /// The SPI as it goes on the wire.
    #[inline]
    pub const fn to_be_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }

    /// Whether RFC 4303 §2.1 keeps it from naming an SA: 0 (local use, never sent) or 1 to 255
    /// (reserved by IANA).
    #[inline]
    pub const fn is_reserved(self) -> bool {
        self.0 <= 255
    }
}

impl fmt::Display for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

impl fmt::Debug for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The bare hex digits, for formats that have their own prefix or width.
impl fmt::LowerHex for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_as_fixed_width_hex() {
        assert_eq!(Spi(0xbf24_9608).to_string(), "bf249608");
        assert_eq!(format!("{:?}", Some(Spi(0x100))), "Some(00000100)");
        assert_eq!(format!("{:08x}", Spi(0xab)), "000000ab");
    }

    #[test]
    fn wire_order_is_big_endian() {
        let spi = Spi::from_wire([0x12, 0x34, 0x56, 0x78]);
        assert_eq!(spi, Spi(0x1234_5678));
        assert_eq!(spi.to_be_bytes(), [0x12, 0x34, 0x56, 0x78]);
    }

    #[test]
    fn zero_to_255_are_reserved() {
        assert!(Spi(0).is_reserved());
        assert!(Spi(1).is_reserved());
        assert!(Spi(255).is_reserved());
        assert!(!Spi(256).is_reserved());
        assert!(!Spi(u32::MAX).is_reserved());
    }
}
