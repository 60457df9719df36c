//! GTP-U tunnel endpoint identifiers.

use core::fmt;

/// GTP-U Tunnel Endpoint Identifier (TS 29.281 §5.1), the GTP-TEID of NGAP (TS 38.413
/// §9.3.2.5): four octets, in network order on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Teid(pub u32);

impl Teid {
    /// The TEID of four octets in network order.
    pub fn from_bytes(octets: [u8; 4]) -> Self {
        Self(u32::from_be_bytes(octets))
    }

    /// The four octets in network order.
    pub fn to_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }
}

impl fmt::Debug for Teid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Teid({:#010x})", self.0)
    }
}

impl fmt::Display for Teid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octets_are_network_order() {
        let teid = Teid::from_bytes([0x12, 0x34, 0x56, 0x78]);
        assert_eq!(teid, Teid(0x1234_5678));
        assert_eq!(teid.to_bytes(), [0x12, 0x34, 0x56, 0x78]);
        assert_eq!(format!("{teid:?}"), "Teid(0x12345678)");
    }
}
