//! Why the engine refused a driver's command.

use std::fmt;
use std::net::IpAddr;

use crate::event::SaId;
use crate::wire::EspSpi;

/// A command of [`crate::Endpoint`] that could not be carried out. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandError {
    /// There is no IKE SA with this id (it never existed, or it is gone).
    UnknownSa(SaId),
    /// The IKE SA's connection has no Child SA template of this name.
    UnknownChildTemplate { sa: SaId, name: String },
    /// There is no established IKE SA with this peer address.
    NoSaWithPeer(IpAddr),
    /// SPIs 0-255 are reserved by IANA (RFC 4303 §2.1) and never assigned.
    ReservedSpi(EspSpi),
    /// The SPI is in use by a Child SA, an offer in flight or an earlier reservation.
    SpiTaken(EspSpi),
    /// The SPI was not reserved.
    NotReserved(EspSpi),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownSa(sa) => write!(f, "no IKE SA {sa}"),
            Self::UnknownChildTemplate { sa, name } => {
                write!(f, "the connection of IKE SA {sa} has no child {name:?}")
            }
            Self::NoSaWithPeer(ip) => write!(f, "no established IKE SA with {ip}"),
            Self::ReservedSpi(spi) => write!(f, "SPI {spi} is reserved (0-255)"),
            Self::SpiTaken(spi) => write!(f, "SPI {spi} is in use"),
            Self::NotReserved(spi) => write!(f, "SPI {spi} was not reserved"),
        }
    }
}

impl std::error::Error for CommandError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::IkeSpi;

    #[test]
    fn messages_name_the_sa_and_spi_in_hex() {
        let sa = SaId(IkeSpi(0xab));
        assert_eq!(
            CommandError::UnknownSa(sa).to_string(),
            "no IKE SA 00000000000000ab"
        );
        assert_eq!(
            CommandError::SpiTaken(EspSpi(0x1000)).to_string(),
            "SPI 00001000 is in use"
        );
    }
}
