//! Identifiers of the user plane: the GTP-U TEID and the QoS Flow Identifier.

use core::fmt;
use core::num::NonZeroU32;

use crate::Error;

/// A GTP-U Tunnel Endpoint Identifier as it appears on the wire (TS 29.281 §5.1). Any value,
/// 0 included: Echo and Error Indication messages carry TEID 0. A TEID we hand out is a
/// [`LocalTeid`], which cannot be 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Teid(pub u32);

impl Teid {
    /// The TEID of path management and Error Indication messages (TS 29.281 §5.1).
    pub const ZERO: Self = Self(0);

    /// The TEID as a number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Teid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

impl From<LocalTeid> for Teid {
    fn from(t: LocalTeid) -> Self {
        Self(t.0.get())
    }
}

/// A TEID allocated by this node for its receiving end of a tunnel: never 0 (TEID 0 is reserved
/// for path management, TS 29.281 §5.1, and G-PDUs to it are refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTeid(NonZeroU32);

impl LocalTeid {
    /// `None` for 0, which is not a valid local TEID.
    pub const fn new(value: u32) -> Option<Self> {
        match NonZeroU32::new(value) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// The TEID as a number (never 0).
    pub const fn get(self) -> u32 {
        self.0.get()
    }

    /// The TEID as the wire carries it.
    pub const fn teid(self) -> Teid {
        Teid(self.0.get())
    }
}

impl TryFrom<Teid> for LocalTeid {
    type Error = Error;

    /// # Errors
    /// [`Error::ZeroTeid`] for TEID 0.
    fn try_from(t: Teid) -> Result<Self, Error> {
        Self::new(t.0).ok_or(Error::ZeroTeid)
    }
}

impl fmt::Display for LocalTeid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Teid::from(*self).fmt(f)
    }
}

/// A QoS Flow Identifier: 6 bits, 0 to 63 (TS 23.501 §5.7.1, TS 38.415 §5.5.3.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Qfi(u8);

impl Qfi {
    /// The largest QFI.
    pub const MAX: Self = Self(0x3F);

    /// A QFI from a number.
    ///
    /// # Errors
    /// [`Error::QfiOutOfRange`] above 63.
    pub const fn new(value: u8) -> Result<Self, Error> {
        if value > Self::MAX.0 {
            return Err(Error::QfiOutOfRange);
        }
        Ok(Self(value))
    }

    /// The QFI in the low 6 bits of a wire octet; the two high bits (flags or spare) are
    /// ignored.
    pub const fn from_low_bits(octet: u8) -> Self {
        Self(octet & Self::MAX.0)
    }

    /// The QFI as a number, 0 to 63.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Qfi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl TryFrom<u8> for Qfi {
    type Error = Error;

    fn try_from(value: u8) -> Result<Self, Error> {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qfi_accepts_six_bits_and_rejects_more() {
        assert_eq!(Qfi::new(0).map(Qfi::get), Ok(0));
        assert_eq!(Qfi::new(63).map(Qfi::get), Ok(63));
        assert_eq!(Qfi::new(64), Err(Error::QfiOutOfRange));
        assert_eq!(Qfi::try_from(0xFF), Err(Error::QfiOutOfRange));
        assert_eq!(Qfi::from_low_bits(0xC5).get(), 5);
    }

    #[test]
    fn local_teid_is_never_zero() {
        assert_eq!(LocalTeid::new(0), None);
        assert_eq!(LocalTeid::try_from(Teid::ZERO), Err(Error::ZeroTeid));
        let t = LocalTeid::new(0x0102_0304).expect("non-zero");
        assert_eq!(Teid::from(t), Teid(0x0102_0304));
        assert_eq!(t.to_string(), "0x01020304");
    }
}
