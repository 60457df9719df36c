//! 5G user-plane encapsulations: GTP-U on N3/N9 (TS 29.281 with the PDU Session Container of
//! TS 38.415 §5.5.2) and GRE with the QFI in the key inside NWu Child SAs (TS 24.502 §9.3.3).
//!
//! The datapath calls these codecs for every packet, so they never allocate: parsers read a
//! `&[u8]` and return the fields and the payload's range; writers put a header into the front
//! of the caller's `&mut [u8]` and return its length. They do no I/O and read no clock.
//!
//! Untrusted input never panics: every read is bounds-checked, every length from the wire is
//! checked against its enclosing slice, and loops are bounded (at most
//! [`MAX_EXTENSION_HEADERS`] GTP-U extension headers). A rejected packet gives an [`Error`]
//! for the caller to count.
#![forbid(unsafe_code)]

mod checksum;
mod error;
mod gre;
mod gtpu;
mod ids;

pub use checksum::{checksum_add, checksum_finish, internet_checksum};
pub use error::Error;
pub use gre::{
    GRE_HEADER_LEN, GreChecksum, GreHeader, GreKey, GreProtocolType, IPPROTO_GRE, IpVersion,
    write_gre_header,
};
pub use gtpu::{
    DlPduSessionInfo, ErrorIndication, GPDU_HEADER_LEN, GTPU_MANDATORY_HEADER_LEN, GTPU_PORT,
    GtpuHeader, GtpuMessage, MAX_EXTENSION_HEADERS, MessageType, PduSessionInfo, Ppi,
    UlPduSessionInfo, write_echo_request, write_echo_response, write_end_marker,
    write_error_indication, write_gpdu_header,
};
pub use ids::{LocalTeid, Qfi, Teid};
