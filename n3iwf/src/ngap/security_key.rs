//! The Security Key IE (TS 38.413 §9.3.1.87): for a UE behind an N3IWF it is KN3IWF, which
//! both sides then use as the EAP MSK of the final IKE_AUTH (TS 33.501 §7.2.1).

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A 256-bit key from the AMF. Not `Clone`, not `Debug`, zeroized on drop, compared in constant
/// time; its octets are reached through [`SecurityKey::dangerous_as_bytes`] only.
///
/// The NGAP PDU that carried or will carry the key is ordinary memory: the caller clears the
/// buffers of received and encoded PDUs when it is done with them.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SecurityKey([u8; 32]);

impl SecurityKey {
    /// Length in octets (256 bits).
    pub const LEN: usize = 32;

    /// Takes ownership of the key octets.
    pub fn new(octets: [u8; Self::LEN]) -> Self {
        Self(octets)
    }

    /// The key octets, for the key derivation or MSK that needs them.
    pub fn dangerous_as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

impl PartialEq for SecurityKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecurityKey {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_is_by_value() {
        assert!(SecurityKey::new([7; 32]) == SecurityKey::new([7; 32]));
        assert!(SecurityKey::new([7; 32]) != SecurityKey::new([8; 32]));
    }
}
