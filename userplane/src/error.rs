//! The one error type of the codecs: what was wrong with a packet, or why a header could not be
//! written. The caller drops the packet and counts the variant; none of them is a reason to
//! answer, except [`Error::UnsupportedExtensionHeader`] (TS 29.281 §5.2.1: a Supported
//! Extension Headers Notification may go back).

use core::fmt;

/// Why a packet was rejected or a header not written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The caller's buffer is too short for the header to be written.
    BufferTooSmall,
    /// The GRE checksum does not verify (RFC 2784 §2.5).
    Checksum,
    /// A GTP-U extension header has length 0 or runs past the end of the message.
    ExtensionHeaderLength,
    /// RFC 2784 §2.3 bits the receiver must reject (routing, strict source route, recursion).
    GreFlags,
    /// A GTP-U information element is malformed, unknown with no way to skip it (a TV type we
    /// do not know), repeated, or a mandatory one is missing.
    InformationElement,
    /// The GRE payload is not an IPv4 or IPv6 packet (first nibble), or is empty.
    InnerVersion,
    /// The GTP-U Length field disagrees with the datagram's size.
    Length,
    /// The message lacks the sequence number its type requires (TS 29.281 §5.1: S=1).
    MissingSequenceNumber,
    /// A PDU Session Container is too short, repeated, or of an unknown PDU type
    /// (TS 38.415 §5.5.2).
    PduSessionContainer,
    /// The payload is too long for the 16-bit GTP-U Length field.
    PayloadTooLong,
    /// A QFI above 63 (TS 23.501 §5.7.1: 6 bits).
    QfiOutOfRange,
    /// More extension headers than [`MAX_EXTENSION_HEADERS`](crate::MAX_EXTENSION_HEADERS).
    TooManyExtensionHeaders,
    /// The packet is shorter than its fixed header.
    Truncated,
    /// The message type is not the one the function handles.
    UnexpectedMessageType(u8),
    /// An extension header whose next-type says the receiving endpoint must comprehend it, and
    /// we do not (TS 29.281 §5.2.1): the packet is dropped.
    UnsupportedExtensionHeader(u8),
    /// TEID 0 where a local TEID is needed (TS 29.281 §5.1: 0 is for path management).
    ZeroTeid,
    /// GTP version other than 1, PT=0 (GTP'), or GRE version other than 0.
    Version,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall => f.write_str("buffer too small for the header"),
            Self::Checksum => f.write_str("GRE checksum does not verify"),
            Self::ExtensionHeaderLength => f.write_str("GTP-U extension header length invalid"),
            Self::GreFlags => f.write_str("GRE routing, strict route or recursion bits set"),
            Self::InformationElement => f.write_str("GTP-U information element invalid"),
            Self::InnerVersion => f.write_str("GRE payload is not an IPv4 or IPv6 packet"),
            Self::Length => f.write_str("GTP-U length disagrees with the datagram"),
            Self::MissingSequenceNumber => f.write_str("GTP-U sequence number missing"),
            Self::PduSessionContainer => f.write_str("PDU Session Container invalid"),
            Self::PayloadTooLong => f.write_str("payload too long for GTP-U"),
            Self::QfiOutOfRange => f.write_str("QFI above 63"),
            Self::TooManyExtensionHeaders => f.write_str("too many GTP-U extension headers"),
            Self::Truncated => f.write_str("packet truncated"),
            Self::UnexpectedMessageType(t) => write!(f, "unexpected GTP-U message type {t}"),
            Self::UnsupportedExtensionHeader(t) => {
                write!(f, "GTP-U extension header {t:#04x} must be comprehended")
            }
            Self::Version => f.write_str("unsupported GTP or GRE version"),
            Self::ZeroTeid => f.write_str("TEID 0 is not a valid local TEID"),
        }
    }
}

impl core::error::Error for Error {}
