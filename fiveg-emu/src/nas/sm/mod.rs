//! 5GS session management messages (TS 24.501 §8.3, header §9.1.1): what a UE and the SMF
//! exchange, in the payload container of UL and DL NAS TRANSPORT (type N1 SM information), to
//! establish and release PDU sessions.
//!
//! Decoders are total and bounded like the 5GMM ones; unlike them, a known optional IE with a
//! wrong value is refused in an ACCEPT, which the UE could not act on.

mod establishment;
mod qos;
mod release;
mod values;

pub use establishment::{
    PduSessionEstablishmentAccept, PduSessionEstablishmentRequest, SmCauseMessage,
};
pub use qos::{
    COMPONENT_MATCH_ALL, MAX_QOS_FLOW_DESCRIPTIONS, MAX_QOS_RULES, OP_CREATE, OP_DELETE,
    PacketFilter, QosFlowDescription, QosRule, parameter,
};
pub use release::SmOptionalCause;
pub use values::{
    Dnn, IntegrityProtectionMaxDataRate, PduAddress, PduSessionType, Pti, RequestType, SessionAmbr,
    SmBitRate, SmCause, SscMode,
};

use n3iwf::ids::PduSessionId;

use super::codec::{DecodeError, EncodeError, Reader};
use super::message::EPD_5GSM;

/// 5GSM message types (TS 24.501 §9.7, table 9.7.2).
mod message_type {
    pub(super) const ESTABLISHMENT_REQUEST: u8 = 0xC1;
    pub(super) const ESTABLISHMENT_ACCEPT: u8 = 0xC2;
    pub(super) const ESTABLISHMENT_REJECT: u8 = 0xC3;
    pub(super) const RELEASE_REQUEST: u8 = 0xD1;
    pub(super) const RELEASE_REJECT: u8 = 0xD2;
    pub(super) const RELEASE_COMMAND: u8 = 0xD3;
    pub(super) const RELEASE_COMPLETE: u8 = 0xD4;
    pub(super) const STATUS: u8 = 0xD6;
}

/// The 5GSM messages of this subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmMessage {
    /// PDU SESSION ESTABLISHMENT REQUEST.
    PduSessionEstablishmentRequest(PduSessionEstablishmentRequest),
    /// PDU SESSION ESTABLISHMENT ACCEPT.
    PduSessionEstablishmentAccept(Box<PduSessionEstablishmentAccept>),
    /// PDU SESSION ESTABLISHMENT REJECT.
    PduSessionEstablishmentReject(SmCauseMessage),
    /// PDU SESSION RELEASE REQUEST.
    PduSessionReleaseRequest(SmOptionalCause),
    /// PDU SESSION RELEASE REJECT.
    PduSessionReleaseReject(SmCauseMessage),
    /// PDU SESSION RELEASE COMMAND.
    PduSessionReleaseCommand(SmCauseMessage),
    /// PDU SESSION RELEASE COMPLETE.
    PduSessionReleaseComplete(SmOptionalCause),
    /// 5GSM STATUS.
    Status(SmCauseMessage),
}

/// A 5GSM message with its header: the PDU session and the procedure transaction it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmPdu {
    pub pdu_session_id: PduSessionId,
    pub pti: Pti,
    pub message: SmMessage,
}

impl SmPdu {
    /// The longest 5GSM message decoded: the payload container's own bound.
    pub const MAX_LEN: usize = u16::MAX as usize;

    /// Decodes a 5GSM message (EPD 0x2E, PDU session ID, PTI, message type, IEs).
    ///
    /// # Errors
    ///
    /// [`DecodeError`] for anything that is not a well-formed message of the subset.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > Self::MAX_LEN {
            return Err(DecodeError::Invalid("5GSM message length"));
        }
        let mut reader = Reader::new(bytes);
        let epd = reader.u8("EPD")?;
        if epd != EPD_5GSM {
            return Err(DecodeError::NotSessionManagement(epd));
        }
        let pdu_session_id = PduSessionId(reader.u8("PDU session ID")?);
        let pti = Pti(reader.u8("PTI")?);
        let message = decode_body(reader.u8("message type")?, &mut reader)?;
        reader.finish()?;
        Ok(Self {
            pdu_session_id,
            pti,
            message,
        })
    }

    /// Encodes the message.
    ///
    /// # Errors
    ///
    /// [`EncodeError::TooLong`] when a value does not fit its length field.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![
            EPD_5GSM,
            self.pdu_session_id.0,
            self.pti.0,
            self.message.message_type(),
        ];
        self.message.encode_body(&mut out)?;
        Ok(out)
    }
}

impl SmMessage {
    /// The message type octet.
    pub fn message_type(&self) -> u8 {
        use message_type as t;
        match self {
            Self::PduSessionEstablishmentRequest(_) => t::ESTABLISHMENT_REQUEST,
            Self::PduSessionEstablishmentAccept(_) => t::ESTABLISHMENT_ACCEPT,
            Self::PduSessionEstablishmentReject(_) => t::ESTABLISHMENT_REJECT,
            Self::PduSessionReleaseRequest(_) => t::RELEASE_REQUEST,
            Self::PduSessionReleaseReject(_) => t::RELEASE_REJECT,
            Self::PduSessionReleaseCommand(_) => t::RELEASE_COMMAND,
            Self::PduSessionReleaseComplete(_) => t::RELEASE_COMPLETE,
            Self::Status(_) => t::STATUS,
        }
    }

    fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Self::PduSessionEstablishmentRequest(m) => m.encode(out),
            Self::PduSessionEstablishmentAccept(m) => m.encode(out),
            Self::PduSessionEstablishmentReject(m)
            | Self::PduSessionReleaseReject(m)
            | Self::PduSessionReleaseCommand(m)
            | Self::Status(m) => m.encode(out),
            Self::PduSessionReleaseRequest(m) | Self::PduSessionReleaseComplete(m) => m.encode(out),
        }
    }
}

fn decode_body(kind: u8, reader: &mut Reader<'_>) -> Result<SmMessage, DecodeError> {
    use message_type as t;
    Ok(match kind {
        t::ESTABLISHMENT_REQUEST => SmMessage::PduSessionEstablishmentRequest(
            PduSessionEstablishmentRequest::decode(reader)?,
        ),
        t::ESTABLISHMENT_ACCEPT => SmMessage::PduSessionEstablishmentAccept(Box::new(
            PduSessionEstablishmentAccept::decode(reader)?,
        )),
        t::ESTABLISHMENT_REJECT => {
            SmMessage::PduSessionEstablishmentReject(SmCauseMessage::decode(reader)?)
        }
        t::RELEASE_REQUEST => SmMessage::PduSessionReleaseRequest(SmOptionalCause::decode(reader)?),
        t::RELEASE_REJECT => SmMessage::PduSessionReleaseReject(SmCauseMessage::decode(reader)?),
        t::RELEASE_COMMAND => SmMessage::PduSessionReleaseCommand(SmCauseMessage::decode(reader)?),
        t::RELEASE_COMPLETE => {
            SmMessage::PduSessionReleaseComplete(SmOptionalCause::decode(reader)?)
        }
        t::STATUS => SmMessage::Status(SmCauseMessage::decode(reader)?),
        other => return Err(DecodeError::UnsupportedMessageType(other)),
    })
}
