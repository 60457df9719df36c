//! Owned representations of IKEv2 messages and payloads (the `Repr` side of the codec).

use std::net::IpAddr;

use super::enums::{
    AuthMethod, CertEncoding, CfgAttrType, CfgType, EncrId, ExchangeType, IdType, KeId, NotifyType,
    PayloadType, ProtocolId, TransformType, TsType,
};

/// Length of the fixed IKE header (RFC 7296 §3.1).
pub const HEADER_LEN: usize = 28;
/// Length of a generic payload header (RFC 7296 §3.2).
pub const GENERIC_HEADER_LEN: usize = 4;
/// The only major/minor version we speak: 2.0.
pub const IKE_VERSION: u8 = 0x20;

use super::ids::{IkeSpi, MessageId};

/// Header flags (RFC 7296 §3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags(pub u8);

impl Flags {
    /// Set by the original initiator of the IKE SA.
    pub const INITIATOR: u8 = 0x08;
    /// "Version" flag: we never set it.
    pub const VERSION: u8 = 0x10;
    /// Set in responses.
    pub const RESPONSE: u8 = 0x20;

    /// Flags for a message sent by the original initiator (`initiator`) as a request or response.
    pub fn new(initiator: bool, response: bool) -> Self {
        let mut f = 0;
        if initiator {
            f |= Self::INITIATOR;
        }
        if response {
            f |= Self::RESPONSE;
        }
        Self(f)
    }

    /// Whether the sender is the original initiator.
    pub fn is_initiator(self) -> bool {
        self.0 & Self::INITIATOR != 0
    }

    /// Whether this is a response.
    pub fn is_response(self) -> bool {
        self.0 & Self::RESPONSE != 0
    }
}

/// The fixed IKE header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub spi_i: IkeSpi,
    pub spi_r: IkeSpi,
    /// Type of the first payload.
    pub next_payload: PayloadType,
    /// Major version in the high nibble, minor in the low one (0x20 for IKEv2).
    pub version: u8,
    pub exchange: ExchangeType,
    pub flags: Flags,
    pub message_id: MessageId,
    /// Total message length in octets, as on the wire (computed on emit).
    pub length: u32,
}

/// A whole IKE message: the header and its (outer, unencrypted) payload chain.
///
/// For a protected message the chain ends with an [`Payload::Sk`] or [`Payload::Skf`] whose body
/// is still encrypted; the engine decrypts it and parses the inner chain with
/// [`parse_payloads`](super::parse_payloads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub header: Header,
    pub payloads: Vec<Payload>,
}

/// One payload of a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    Sa(Vec<Proposal>),
    Ke(KeyExchangePayload),
    IdI(Identification),
    IdR(Identification),
    Cert(CertPayload),
    CertReq(CertPayload),
    Auth(AuthPayload),
    Nonce(Vec<u8>),
    Notify(Notify),
    Delete(Delete),
    VendorId(Vec<u8>),
    TsI(Vec<TrafficSelector>),
    TsR(Vec<TrafficSelector>),
    /// Encrypted payload: `first_inner` is the type of the first inner payload (the SK generic
    /// header's Next Payload); `body` is IV | ciphertext | ICV as on the wire.
    Sk(EncryptedPayload),
    /// Encrypted fragment (RFC 7383 §2.5).
    Skf(EncryptedFragment),
    Cp(Configuration),
    /// EAP message (RFC 7296 §3.16), kept as the raw EAP packet.
    Eap(Vec<u8>),
    /// A payload type we do not know; `critical` is the C bit. The engine answers
    /// UNSUPPORTED_CRITICAL_PAYLOAD when it is set (RFC 7296 §2.5).
    Unknown {
        payload_type: PayloadType,
        critical: bool,
        body: Vec<u8>,
    },
}

impl Payload {
    /// The payload type of this payload on the wire.
    pub fn payload_type(&self) -> PayloadType {
        match self {
            Self::Sa(_) => PayloadType::SA,
            Self::Ke(_) => PayloadType::KE,
            Self::IdI(_) => PayloadType::IDI,
            Self::IdR(_) => PayloadType::IDR,
            Self::Cert(_) => PayloadType::CERT,
            Self::CertReq(_) => PayloadType::CERTREQ,
            Self::Auth(_) => PayloadType::AUTH,
            Self::Nonce(_) => PayloadType::NONCE,
            Self::Notify(_) => PayloadType::NOTIFY,
            Self::Delete(_) => PayloadType::DELETE,
            Self::VendorId(_) => PayloadType::VENDOR_ID,
            Self::TsI(_) => PayloadType::TSI,
            Self::TsR(_) => PayloadType::TSR,
            Self::Sk(_) => PayloadType::SK,
            Self::Skf(_) => PayloadType::SKF,
            Self::Cp(_) => PayloadType::CP,
            Self::Eap(_) => PayloadType::EAP,
            Self::Unknown { payload_type, .. } => *payload_type,
        }
    }
}

/// A proposal substructure (RFC 7296 §3.3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// 1-based proposal number; the responder echoes the chosen one.
    pub number: u8,
    pub protocol: ProtocolId,
    /// Empty for the first IKE SA; 8 octets for an IKE rekey; 4 for ESP/AH.
    pub spi: Vec<u8>,
    pub transforms: Vec<Transform>,
}

/// A transform substructure (RFC 7296 §3.3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transform {
    pub transform_type: TransformType,
    /// Transform ID, interpreted by `transform_type`'s registry.
    pub id: u16,
    pub attributes: Vec<TransformAttribute>,
}

impl Transform {
    /// A transform without attributes.
    pub fn new(transform_type: TransformType, id: u16) -> Self {
        Self {
            transform_type,
            id,
            attributes: Vec::new(),
        }
    }

    /// An ENCR transform with a Key Length attribute (bits).
    pub fn encr(id: EncrId, key_bits: Option<u16>) -> Self {
        let attributes = key_bits
            .map(|k| vec![TransformAttribute::key_length(k)])
            .unwrap_or_default();
        Self {
            transform_type: TransformType::ENCR,
            id: id.0,
            attributes,
        }
    }

    /// A KE or ADDKE transform.
    pub fn ke(transform_type: TransformType, id: KeId) -> Self {
        Self::new(transform_type, id.0)
    }

    /// The Key Length attribute, if present.
    pub fn key_length(&self) -> Option<u16> {
        self.attributes.iter().find_map(|a| match a {
            TransformAttribute::Tv { attr_type, value } if *attr_type == ATTR_KEY_LENGTH => {
                Some(*value)
            }
            _ => None,
        })
    }
}

/// Transform attribute type for Key Length (RFC 7296 §3.3.5).
pub const ATTR_KEY_LENGTH: u16 = 14;

/// A transform attribute, in TV (AF bit set) or TLV form (RFC 7296 §3.3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransformAttribute {
    /// `attr_type` without the AF bit.
    Tv { attr_type: u16, value: u16 },
    /// `attr_type` without the AF bit.
    Tlv { attr_type: u16, value: Vec<u8> },
}

impl TransformAttribute {
    /// A Key Length attribute in bits.
    pub fn key_length(bits: u16) -> Self {
        Self::Tv {
            attr_type: ATTR_KEY_LENGTH,
            value: bits,
        }
    }
}

/// KE payload (RFC 7296 §3.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyExchangePayload {
    pub group: KeId,
    pub data: Vec<u8>,
}

/// IDi / IDr payload body (RFC 7296 §3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identification {
    pub id_type: IdType,
    pub data: Vec<u8>,
}

/// CERT and CERTREQ payload body (RFC 7296 §3.6, §3.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertPayload {
    pub encoding: CertEncoding,
    pub data: Vec<u8>,
}

/// AUTH payload (RFC 7296 §3.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthPayload {
    pub method: AuthMethod,
    pub data: Vec<u8>,
}

/// Notify payload (RFC 7296 §3.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notify {
    pub protocol: ProtocolId,
    /// SPI (its length is the SPI Size field).
    pub spi: Vec<u8>,
    pub notify_type: NotifyType,
    pub data: Vec<u8>,
}

impl Notify {
    /// A notify with no SPI.
    pub fn new(notify_type: NotifyType, data: Vec<u8>) -> Self {
        Self {
            protocol: ProtocolId::NONE,
            spi: Vec::new(),
            notify_type,
            data,
        }
    }
}

/// Delete payload (RFC 7296 §3.11).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delete {
    pub protocol: ProtocolId,
    /// SPI size: 0 for IKE, 4 for ESP/AH.
    pub spi_size: u8,
    /// Each SPI is `spi_size` octets.
    pub spis: Vec<Vec<u8>>,
}

/// One traffic selector (RFC 7296 §3.13.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrafficSelector {
    /// TS_IPV4_ADDR_RANGE or TS_IPV6_ADDR_RANGE; both addresses are of the same family.
    Ip(IpSelector),
    /// A selector type we do not know, kept as its body after the Selector Length.
    Unknown {
        ts_type: TsType,
        ip_protocol: u8,
        body: Vec<u8>,
    },
}

/// An address and port range selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IpSelector {
    /// 0 = any.
    pub ip_protocol: u8,
    pub start_port: u16,
    pub end_port: u16,
    pub start_addr: IpAddr,
    pub end_addr: IpAddr,
}

/// SK payload (RFC 7296 §3.14).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedPayload {
    pub first_inner: PayloadType,
    /// IV | ciphertext (incl. padding and pad length) | ICV.
    pub body: Vec<u8>,
}

/// SKF payload (RFC 7383 §2.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedFragment {
    /// Type of the first inner payload in fragment 1; [`PayloadType::NONE`] in the others.
    pub first_inner: PayloadType,
    /// 1-based, non-zero.
    pub fragment_number: u16,
    /// Non-zero, and at least `fragment_number`.
    pub total_fragments: u16,
    /// IV | ciphertext | ICV.
    pub body: Vec<u8>,
}

/// Configuration payload (RFC 7296 §3.15).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Configuration {
    pub cfg_type: CfgType,
    pub attributes: Vec<CfgAttribute>,
}

/// One configuration attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CfgAttribute {
    pub attr_type: CfgAttrType,
    pub value: Vec<u8>,
}
