//! GTP-U (TS 29.281) with the PDU Session Container of N3/N9 (TS 38.415 §5.5.2).
//!
//! [`GtpuHeader::parse`] reads the header and its extension header chain and gives the payload
//! range; [`GtpuMessage::parse`] goes on to the information elements of the path management
//! and tunnel management messages. The `write_*` functions put a header into the front of the
//! caller's buffer and return its length; for a G-PDU the payload follows it.
//!
//! Panic freedom: every read is a `get` checked against the enclosing slice; every length from
//! the wire is checked before it is used; the extension header chain is walked at most
//! [`MAX_EXTENSION_HEADERS`] times.

mod container;
mod emit;
mod header;
mod message;

use core::fmt;

pub use container::{DlPduSessionInfo, PduSessionInfo, Ppi, UlPduSessionInfo};
pub use emit::{
    write_echo_request, write_echo_response, write_end_marker, write_error_indication,
    write_gpdu_header,
};
pub use header::GtpuHeader;
pub use message::{ErrorIndication, GtpuMessage};

/// The most extension headers a packet may carry before it is dropped. N3 needs one (the PDU
/// Session Container); an Error Indication may add the UDP Port.
pub const MAX_EXTENSION_HEADERS: usize = 4;

/// The mandatory part of the GTP-U header (TS 29.281 §5.1).
pub const GTPU_MANDATORY_HEADER_LEN: usize = 8;

/// A G-PDU header with a PDU Session Container without PPI: 8 mandatory octets, 4 optional
/// (sequence number, N-PDU number, next extension header type) and a 4-octet container.
pub const GPDU_HEADER_LEN: usize = 16;

/// The UDP port of GTP-U (TS 29.281 §4.4.2.3).
pub const GTPU_PORT: u16 = 2152;

/// A GTP-U message type (TS 29.281 §6.1): an open set, unknown values are kept as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageType(pub u8);

impl MessageType {
    /// Echo Request (path management).
    pub const ECHO_REQUEST: Self = Self(1);
    /// Echo Response.
    pub const ECHO_RESPONSE: Self = Self(2);
    /// Error Indication (tunnel management).
    pub const ERROR_INDICATION: Self = Self(26);
    /// Supported Extension Headers Notification.
    pub const SUPPORTED_EXTENSION_HEADERS_NOTIFICATION: Self = Self(31);
    /// Tunnel Status.
    pub const TUNNEL_STATUS: Self = Self(253);
    /// End Marker.
    pub const END_MARKER: Self = Self(254);
    /// G-PDU: a user packet (T-PDU) follows the header.
    pub const G_PDU: Self = Self(255);
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            Self::ECHO_REQUEST => "Echo Request",
            Self::ECHO_RESPONSE => "Echo Response",
            Self::ERROR_INDICATION => "Error Indication",
            Self::SUPPORTED_EXTENSION_HEADERS_NOTIFICATION => {
                "Supported Extension Headers Notification"
            }
            Self::TUNNEL_STATUS => "Tunnel Status",
            Self::END_MARKER => "End Marker",
            Self::G_PDU => "G-PDU",
            Self(other) => return write!(f, "message type {other}"),
        };
        f.write_str(name)
    }
}

/// Extension header types we read or write (TS 29.281 §5.2.1, figure 5.2.1-3).
pub(crate) mod ext {
    /// No more extension headers.
    pub(crate) const NONE: u8 = 0x00;
    /// UDP Port (Error Indication: the source port of the packet that caused it).
    pub(crate) const UDP_PORT: u8 = 0x40;
    /// PDU Session Container (TS 38.415).
    pub(crate) const PDU_SESSION_CONTAINER: u8 = 0x85;
    /// The next-type bits that say the receiving endpoint must comprehend the header
    /// (TS 29.281 §5.2.1: bit 8 set, "comprehension required for endpoint receiver").
    pub(crate) const ENDPOINT_MUST_COMPREHEND: u8 = 0x80;
}

/// Flag bits of the first octet (TS 29.281 §5.1).
pub(crate) mod flags {
    /// Version 1 in bits 8..6.
    pub(crate) const VERSION_1: u8 = 0x20;
    pub(crate) const VERSION_MASK: u8 = 0xE0;
    /// Protocol type: 1 for GTP, 0 for GTP'.
    pub(crate) const PT: u8 = 0x10;
    /// Extension header present.
    pub(crate) const E: u8 = 0x04;
    /// Sequence number present.
    pub(crate) const S: u8 = 0x02;
    /// N-PDU number present.
    pub(crate) const PN: u8 = 0x01;
}

/// Information element types (TS 29.281 §8.1).
pub(crate) mod ie {
    /// Recovery: TV, one octet (restart counter, sent as 0, TS 29.281 §8.2).
    pub(crate) const RECOVERY: u8 = 14;
    /// Tunnel Endpoint Identifier Data I: TV, four octets.
    pub(crate) const TEID_DATA_I: u8 = 16;
    /// GTP-U Peer Address: TLV, 4 or 16 octets.
    pub(crate) const PEER_ADDRESS: u8 = 133;
    /// Types at or above this are TLV with a two-octet length; below, TV of a fixed length.
    pub(crate) const FIRST_TLV: u8 = 128;
}

#[cfg(test)]
mod tests;
