//! Why the engine refused a driver's command.

use std::fmt;
use std::net::IpAddr;

use crate::auth_reply::{MAX_STATUS_NOTIFIES, MAX_STATUS_NOTIFY_DATA};
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
    /// A [`ChildRequest`](crate::ChildRequest)'s selectors: none, more than
    /// [`MAX_REQUEST_SELECTORS`](crate::MAX_REQUEST_SELECTORS), mixed families, or wider than
    /// its template's.
    BadSelectors(&'static str),
    /// More status notifies than [`MAX_STATUS_NOTIFIES`](crate::MAX_STATUS_NOTIFIES).
    TooManyNotifies(usize),
    /// A notify type outside the private-use status range (40960-65535).
    NotifyNotPrivate(u16),
    /// Notify data longer than [`MAX_STATUS_NOTIFY_DATA`](crate::MAX_STATUS_NOTIFY_DATA).
    NotifyTooLarge { notify_type: u16, len: usize },
    /// The IKE SA already holds
    /// [`MAX_PENDING_CHILD_REQUESTS`](crate::MAX_PENDING_CHILD_REQUESTS) new Child SAs queued or
    /// in flight.
    TooManyChildRequests(SaId),
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
            Self::BadSelectors(why) => write!(f, "traffic selectors: {why}"),
            Self::TooManyNotifies(n) => {
                write!(f, "{n} status notifies (at most {MAX_STATUS_NOTIFIES})")
            }
            Self::NotifyNotPrivate(t) => {
                write!(
                    f,
                    "notify type {t} is not a private-use status type (40960-65535)"
                )
            }
            Self::NotifyTooLarge { notify_type, len } => {
                write!(
                    f,
                    "notify {notify_type} carries {len} octets (at most {MAX_STATUS_NOTIFY_DATA})"
                )
            }
            Self::TooManyChildRequests(sa) => {
                write!(f, "IKE SA {sa} has too many Child SAs queued")
            }
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
