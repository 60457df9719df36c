//! IKEv2 wire codec: checked parsing of untrusted bytes into owned representations, and emission
//! with lengths computed on the way out.
//!
//! API:
//! - [`Message::parse`] / [`Message::emit`]: a whole datagram (without any non-ESP marker);
//! - [`Header::parse`] / [`Header::emit`]: the 28-octet header alone, for cheap demultiplexing;
//! - [`parse_payloads`] / [`emit_payloads`]: a payload chain, used for the plaintext inside SK.
//!
//! # Contract
//!
//! - **Parsing never panics**, whatever the input, and allocates at most in proportion to its
//!   input: every length field is checked against its enclosing structure through a bounded
//!   sub-reader, and counts of payloads, proposals, transforms, attributes and selectors are
//!   capped at [`MAX_ITEMS`].
//! - **Nothing is silently skipped**: octets left over inside a payload body, after the last
//!   payload or after an SK/SKF payload are a [`ParseError`], except where a format ends with
//!   free-form data (KE, ID, CERT, AUTH, Nonce, Notify data, Vendor ID, SK, SKF, EAP and
//!   unknown payloads). RESERVED fields are ignored on receipt and sent as zero.
//! - **Open registries stay open**: unknown payload types, transform types and IDs, notify
//!   types and selector types parse into values; whether they are acceptable (for instance the
//!   critical bit of an unknown payload, RFC 7296 §2.5) is the engine's decision.
//! - **Emission writes every length** (header, generic headers, proposals, transforms,
//!   selectors), never panics, and produces exactly what parsing accepts:
//!   `Message::parse(&m.emit())` gives back `m` (with the computed header Length and Next
//!   Payload) for every `m` the wire can carry, and `emit(parse(x)) == x` for every valid `x`
//!   whose RESERVED fields (and critical bits of known payloads) are zero. Values the wire
//!   cannot carry (a body over 65,535 octets, more than [`MAX_ITEMS`] items, a Delete SPI of
//!   another size than `spi_size`, an address range mixing families, a type with its top bit
//!   set where that bit is a flag, an SK/SKF payload that is not last, a
//!   [`Payload::Unknown`] using a known or zero type code) are written saturated or as given,
//!   and the result does not parse back.

mod chain;
mod cp;
mod delete;
mod enums;
mod error;
mod header;
mod ids;
mod message;
mod notify;
mod opaque;
mod reader;
mod sa;
mod sk;
mod ts;
mod types;

#[cfg(test)]
mod tests;

pub use chain::{emit_payloads, parse_payloads};
pub use enums::{
    AuthMethod, CertEncoding, CfgAttrType, CfgType, EncrId, EsnId, ExchangeType, HashAlgorithm,
    IdType, IntegId, KeId, NotifyType, PayloadType, PpkIdType, PrfId, ProtocolId, TransformType,
    TsType,
};
pub use error::ParseError;
pub use ids::{EspSpi, IkeSpi, MessageId};
pub use types::{
    ATTR_KEY_LENGTH, AuthPayload, CertPayload, CfgAttribute, Configuration, Delete,
    EncryptedFragment, EncryptedPayload, Flags, GENERIC_HEADER_LEN, HEADER_LEN, Header,
    IKE_VERSION, Identification, IpSelector, KeyExchangePayload, Message, Notify, Payload,
    Proposal, TrafficSelector, Transform, TransformAttribute,
};

/// The most items of one kind that parsing accepts in one structure: payloads in a chain,
/// proposals in an SA payload, transforms in a proposal, attributes in a transform or a CP
/// payload, selectors in a TS payload, and zero-size SPIs in a Delete payload. More is a
/// [`ParseError::TooMany`].
pub const MAX_ITEMS: usize = 64;
