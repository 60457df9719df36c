//! Why a datagram or payload chain failed to parse, and what the peer should hear about it.

use std::error::Error as StdError;
use std::fmt;

use super::enums::NotifyType;

/// A parse failure. Each variant says which notification, if any, the peer should receive
/// ([`ParseError::notify`]); whether one is actually sent depends on the exchange (RFC 7296
/// §2.21).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The datagram is shorter than the 28-octet IKE header (dropped silently).
    HeaderTruncated {
        /// Octets received.
        length: usize,
    },
    /// The header's major version is not 2 (RFC 7296 §2.5).
    UnsupportedMajorVersion {
        /// The whole version octet as received.
        version: u8,
    },
    /// The header's Length field disagrees with the datagram length: the datagram was damaged
    /// or cut in transit, so it is dropped silently.
    LengthMismatch {
        /// The header's Length field.
        header: u32,
        /// The datagram's length.
        datagram: usize,
    },
    /// A fixed-size field runs past the end of its enclosing structure.
    Truncated(&'static str),
    /// A length field is below its structure's minimum or runs past its enclosing structure.
    BadLength(&'static str),
    /// Octets are left over after the named structure.
    TrailingData(&'static str),
    /// An SK or SKF payload is followed by more octets; it must end the chain (RFC 7296 §3.14,
    /// RFC 7383 §2.5).
    EncryptedNotLast,
    /// A field holds a value its format forbids.
    InvalidField(&'static str),
    /// A count field disagrees with the items that follow it.
    CountMismatch(&'static str),
    /// More items than we accept in one structure (see [`MAX_ITEMS`](super::MAX_ITEMS)).
    TooMany(&'static str),
}

impl ParseError {
    /// The notification this error calls for: INVALID_MAJOR_VERSION for a version other than
    /// 2, INVALID_SYNTAX for malformed content, and `None` where RFC 7296 has the datagram
    /// dropped silently (too short for a header, or damaged in transit).
    pub fn notify(&self) -> Option<NotifyType> {
        match self {
            Self::HeaderTruncated { .. } | Self::LengthMismatch { .. } => None,
            Self::UnsupportedMajorVersion { .. } => Some(NotifyType::INVALID_MAJOR_VERSION),
            Self::Truncated(_)
            | Self::BadLength(_)
            | Self::TrailingData(_)
            | Self::EncryptedNotLast
            | Self::InvalidField(_)
            | Self::CountMismatch(_)
            | Self::TooMany(_) => Some(NotifyType::INVALID_SYNTAX),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HeaderTruncated { length } => {
                write!(
                    f,
                    "datagram of {length} octets is too short for an IKE header"
                )
            }
            Self::UnsupportedMajorVersion { version } => {
                write!(f, "unsupported IKE major version {}", version >> 4)
            }
            Self::LengthMismatch { header, datagram } => {
                write!(
                    f,
                    "header length {header} does not match datagram length {datagram}"
                )
            }
            Self::Truncated(what) => write!(f, "truncated {what}"),
            Self::BadLength(what) => write!(f, "bad length field in {what}"),
            Self::TrailingData(what) => write!(f, "trailing data after {what}"),
            Self::EncryptedNotLast => f.write_str("encrypted payload is not the last payload"),
            Self::InvalidField(what) => write!(f, "invalid {what}"),
            Self::CountMismatch(what) => write!(f, "{what} does not match the items present"),
            Self::TooMany(what) => write!(f, "too many {what}"),
        }
    }
}

impl StdError for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_mapping_follows_rfc7296() {
        assert_eq!(ParseError::HeaderTruncated { length: 3 }.notify(), None);
        assert_eq!(
            ParseError::LengthMismatch {
                header: 40,
                datagram: 39
            }
            .notify(),
            None
        );
        assert_eq!(
            ParseError::UnsupportedMajorVersion { version: 0x30 }.notify(),
            Some(NotifyType::INVALID_MAJOR_VERSION)
        );
        assert_eq!(
            ParseError::EncryptedNotLast.notify(),
            Some(NotifyType::INVALID_SYNTAX)
        );
        assert_eq!(
            ParseError::TooMany("proposals").notify(),
            Some(NotifyType::INVALID_SYNTAX)
        );
    }

    #[test]
    fn display_names_the_structure() {
        assert_eq!(
            ParseError::BadLength("transform").to_string(),
            "bad length field in transform"
        );
        assert_eq!(
            ParseError::UnsupportedMajorVersion { version: 0x31 }.to_string(),
            "unsupported IKE major version 3"
        );
    }
}
