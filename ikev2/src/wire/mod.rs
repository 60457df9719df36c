//! IKEv2 wire codec: checked parsing of untrusted bytes into owned representations, and emission
//! with lengths computed on the way out.
//!
//! API (implemented in `parse.rs` and `emit.rs`):
//! - [`Message::parse`] / [`Message::emit`]: a whole datagram (without any non-ESP marker);
//! - [`Header::parse`] / [`Header::emit`]: the 28-octet header alone, for cheap demultiplexing;
//! - [`parse_payloads`] / [`emit_payloads`]: a payload chain, used for the plaintext inside SK.

mod enums;
mod types;

pub use enums::{
    AuthMethod, CertEncoding, CfgAttrType, CfgType, EncrId, EsnId, ExchangeType, HashAlgorithm,
    IdType, IntegId, KeId, NotifyType, PayloadType, PpkIdType, PrfId, ProtocolId, TransformType,
    TsType,
};
pub use types::{
    ATTR_KEY_LENGTH, AuthPayload, CertPayload, CfgAttribute, Configuration, Delete,
    EncryptedFragment, EncryptedPayload, Flags, GENERIC_HEADER_LEN, HEADER_LEN, Header,
    IKE_VERSION, Identification, IkeSpi, IpSelector, KeyExchangePayload, Message, MessageId,
    Notify, Payload, Proposal, TrafficSelector, Transform, TransformAttribute,
};
