//! The 5GMM message and the NAS PDU around it: plain (security header type 0) or security
//! protected (TS 24.501 §9.1: EPD, security header type, MAC, sequence number, then the plain
//! message, possibly ciphered).

use super::codec::{DecodeError, EncodeError, Reader};
use super::messages::{
    AuthenticationFailure, AuthenticationReject, AuthenticationRequest, AuthenticationResponse,
    DeregistrationRequest, NasTransport, RegistrationAccept, RegistrationComplete,
    RegistrationReject, RegistrationRequest, SecurityModeCommand, SecurityModeComplete,
    SecurityModeReject,
};

/// Extended protocol discriminator of 5GS mobility management.
pub const EPD_5GMM: u8 = 0x7E;
/// Extended protocol discriminator of 5GS session management.
pub const EPD_5GSM: u8 = 0x2E;

/// Message types (TS 24.501 §9.7).
mod message_type {
    pub(super) const REGISTRATION_REQUEST: u8 = 0x41;
    pub(super) const REGISTRATION_ACCEPT: u8 = 0x42;
    pub(super) const REGISTRATION_COMPLETE: u8 = 0x43;
    pub(super) const REGISTRATION_REJECT: u8 = 0x44;
    pub(super) const DEREGISTRATION_REQUEST_UE_ORIGINATING: u8 = 0x45;
    pub(super) const DEREGISTRATION_ACCEPT_UE_ORIGINATING: u8 = 0x46;
    pub(super) const AUTHENTICATION_REQUEST: u8 = 0x56;
    pub(super) const AUTHENTICATION_RESPONSE: u8 = 0x57;
    pub(super) const AUTHENTICATION_REJECT: u8 = 0x58;
    pub(super) const AUTHENTICATION_FAILURE: u8 = 0x59;
    pub(super) const SECURITY_MODE_COMMAND: u8 = 0x5D;
    pub(super) const SECURITY_MODE_COMPLETE: u8 = 0x5E;
    pub(super) const SECURITY_MODE_REJECT: u8 = 0x5F;
    pub(super) const UL_NAS_TRANSPORT: u8 = 0x67;
    pub(super) const DL_NAS_TRANSPORT: u8 = 0x68;
}

/// A plain 5GMM message of the subset this codec implements.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum GmmMessage {
    /// REGISTRATION REQUEST.
    RegistrationRequest(RegistrationRequest),
    /// REGISTRATION ACCEPT.
    RegistrationAccept(RegistrationAccept),
    /// REGISTRATION COMPLETE.
    RegistrationComplete(RegistrationComplete),
    /// REGISTRATION REJECT.
    RegistrationReject(RegistrationReject),
    /// DEREGISTRATION REQUEST (UE originating).
    DeregistrationRequest(DeregistrationRequest),
    /// DEREGISTRATION ACCEPT (UE originating).
    DeregistrationAccept,
    /// AUTHENTICATION REQUEST.
    AuthenticationRequest(AuthenticationRequest),
    /// AUTHENTICATION RESPONSE.
    AuthenticationResponse(AuthenticationResponse),
    /// AUTHENTICATION REJECT.
    AuthenticationReject(AuthenticationReject),
    /// AUTHENTICATION FAILURE.
    AuthenticationFailure(AuthenticationFailure),
    /// SECURITY MODE COMMAND.
    SecurityModeCommand(SecurityModeCommand),
    /// SECURITY MODE COMPLETE.
    SecurityModeComplete(SecurityModeComplete),
    /// SECURITY MODE REJECT.
    SecurityModeReject(SecurityModeReject),
    /// UL NAS TRANSPORT.
    UlNasTransport(NasTransport),
    /// DL NAS TRANSPORT.
    DlNasTransport(NasTransport),
}

impl GmmMessage {
    /// Decodes a plain 5GMM message (EPD, security header type 0, message type, IEs).
    ///
    /// # Errors
    ///
    /// [`DecodeError`] for anything that is not a well-formed message of the subset.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let epd = reader.u8("EPD")?;
        if epd != EPD_5GMM {
            return Err(DecodeError::NotMobilityManagement(epd));
        }
        if reader.u8("security header type")? & 0x0F != 0 {
            return Err(DecodeError::Invalid(
                "protected message where a plain one is expected",
            ));
        }
        let message = decode_body(reader.u8("message type")?, &mut reader)?;
        reader.finish()?;
        Ok(message)
    }

    /// Encodes the message with a plain header.
    ///
    /// # Errors
    ///
    /// [`EncodeError::TooLong`] when a value does not fit its length field.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![EPD_5GMM, 0x00, self.message_type()];
        self.encode_body(&mut out)?;
        Ok(out)
    }

    /// The message type octet.
    pub fn message_type(&self) -> u8 {
        use message_type as t;
        match self {
            Self::RegistrationRequest(_) => t::REGISTRATION_REQUEST,
            Self::RegistrationAccept(_) => t::REGISTRATION_ACCEPT,
            Self::RegistrationComplete(_) => t::REGISTRATION_COMPLETE,
            Self::RegistrationReject(_) => t::REGISTRATION_REJECT,
            Self::DeregistrationRequest(_) => t::DEREGISTRATION_REQUEST_UE_ORIGINATING,
            Self::DeregistrationAccept => t::DEREGISTRATION_ACCEPT_UE_ORIGINATING,
            Self::AuthenticationRequest(_) => t::AUTHENTICATION_REQUEST,
            Self::AuthenticationResponse(_) => t::AUTHENTICATION_RESPONSE,
            Self::AuthenticationReject(_) => t::AUTHENTICATION_REJECT,
            Self::AuthenticationFailure(_) => t::AUTHENTICATION_FAILURE,
            Self::SecurityModeCommand(_) => t::SECURITY_MODE_COMMAND,
            Self::SecurityModeComplete(_) => t::SECURITY_MODE_COMPLETE,
            Self::SecurityModeReject(_) => t::SECURITY_MODE_REJECT,
            Self::UlNasTransport(_) => t::UL_NAS_TRANSPORT,
            Self::DlNasTransport(_) => t::DL_NAS_TRANSPORT,
        }
    }

    fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Self::RegistrationRequest(m) => m.encode(out),
            Self::RegistrationAccept(m) => m.encode(out),
            Self::RegistrationComplete(m) => m.encode(out),
            Self::RegistrationReject(m) => m.encode(out),
            Self::DeregistrationRequest(m) => m.encode(out),
            Self::DeregistrationAccept => Ok(()),
            Self::AuthenticationRequest(m) => m.encode(out),
            Self::AuthenticationResponse(m) => m.encode(out),
            Self::AuthenticationReject(m) => m.encode(out),
            Self::AuthenticationFailure(m) => m.encode(out),
            Self::SecurityModeCommand(m) => m.encode(out),
            Self::SecurityModeComplete(m) => m.encode(out),
            Self::SecurityModeReject(m) => {
                m.encode(out);
                Ok(())
            }
            Self::UlNasTransport(m) | Self::DlNasTransport(m) => m.encode(out),
        }
    }
}

fn decode_body(kind: u8, reader: &mut Reader<'_>) -> Result<GmmMessage, DecodeError> {
    use message_type as t;
    Ok(match kind {
        t::REGISTRATION_REQUEST => {
            GmmMessage::RegistrationRequest(RegistrationRequest::decode(reader)?)
        }
        t::REGISTRATION_ACCEPT => {
            GmmMessage::RegistrationAccept(RegistrationAccept::decode(reader)?)
        }
        t::REGISTRATION_COMPLETE => {
            GmmMessage::RegistrationComplete(RegistrationComplete::decode(reader)?)
        }
        t::REGISTRATION_REJECT => {
            GmmMessage::RegistrationReject(RegistrationReject::decode(reader)?)
        }
        t::DEREGISTRATION_REQUEST_UE_ORIGINATING => {
            GmmMessage::DeregistrationRequest(DeregistrationRequest::decode(reader)?)
        }
        t::DEREGISTRATION_ACCEPT_UE_ORIGINATING => GmmMessage::DeregistrationAccept,
        t::AUTHENTICATION_REQUEST => {
            GmmMessage::AuthenticationRequest(AuthenticationRequest::decode(reader)?)
        }
        t::AUTHENTICATION_RESPONSE => {
            GmmMessage::AuthenticationResponse(AuthenticationResponse::decode(reader)?)
        }
        t::AUTHENTICATION_REJECT => {
            GmmMessage::AuthenticationReject(AuthenticationReject::decode(reader)?)
        }
        t::AUTHENTICATION_FAILURE => {
            GmmMessage::AuthenticationFailure(AuthenticationFailure::decode(reader)?)
        }
        t::SECURITY_MODE_COMMAND => {
            GmmMessage::SecurityModeCommand(SecurityModeCommand::decode(reader)?)
        }
        t::SECURITY_MODE_COMPLETE => {
            GmmMessage::SecurityModeComplete(SecurityModeComplete::decode(reader)?)
        }
        t::SECURITY_MODE_REJECT => {
            GmmMessage::SecurityModeReject(SecurityModeReject::decode(reader)?)
        }
        t::UL_NAS_TRANSPORT => GmmMessage::UlNasTransport(NasTransport::decode(reader, false)?),
        t::DL_NAS_TRANSPORT => GmmMessage::DlNasTransport(NasTransport::decode(reader, true)?),
        other => return Err(DecodeError::UnsupportedMessageType(other)),
    })
}

/// Security header types 1 to 4 (TS 24.501 §9.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityHeaderType {
    /// 1: integrity protected.
    IntegrityProtected,
    /// 2: integrity protected and ciphered.
    IntegrityProtectedAndCiphered,
    /// 3: integrity protected with new 5G NAS security context (SECURITY MODE COMMAND only).
    IntegrityProtectedNewContext,
    /// 4: integrity protected and ciphered with new 5G NAS security context (SECURITY MODE
    /// COMPLETE only).
    IntegrityProtectedAndCipheredNewContext,
}

impl SecurityHeaderType {
    /// The four-bit value.
    pub fn value(self) -> u8 {
        match self {
            Self::IntegrityProtected => 1,
            Self::IntegrityProtectedAndCiphered => 2,
            Self::IntegrityProtectedNewContext => 3,
            Self::IntegrityProtectedAndCipheredNewContext => 4,
        }
    }

    /// Whether the payload is ciphered.
    pub fn is_ciphered(self) -> bool {
        matches!(
            self,
            Self::IntegrityProtectedAndCiphered | Self::IntegrityProtectedAndCipheredNewContext
        )
    }

    /// Whether the header announces a new security context.
    pub fn is_new_context(self) -> bool {
        matches!(
            self,
            Self::IntegrityProtectedNewContext | Self::IntegrityProtectedAndCipheredNewContext
        )
    }

    fn from_value(value: u8) -> Result<Option<Self>, DecodeError> {
        Ok(Some(match value {
            0 => return Ok(None),
            1 => Self::IntegrityProtected,
            2 => Self::IntegrityProtectedAndCiphered,
            3 => Self::IntegrityProtectedNewContext,
            4 => Self::IntegrityProtectedAndCipheredNewContext,
            other => return Err(DecodeError::ReservedSecurityHeaderType(other)),
        }))
    }
}

/// A security protected 5GS NAS message, before its MAC is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtectedPdu {
    /// Security header type.
    pub header_type: SecurityHeaderType,
    /// Message authentication code.
    pub mac: [u8; 4],
    /// Sequence number: the low eight bits of the sender's NAS COUNT.
    pub sqn: u8,
    /// The plain message, ciphered when the header type says so.
    pub payload: Vec<u8>,
}

impl ProtectedPdu {
    /// The octets the MAC covers: the sequence number and the (ciphered) payload.
    pub fn mac_input(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.payload.len());
        out.push(self.sqn);
        out.extend_from_slice(&self.payload);
        out
    }

    /// The whole protected message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(7 + self.payload.len());
        out.extend_from_slice(&[EPD_5GMM, self.header_type.value()]);
        out.extend_from_slice(&self.mac);
        out.push(self.sqn);
        out.extend_from_slice(&self.payload);
        out
    }
}

/// A received 5GMM NAS PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NasPdu {
    /// Security header type 0.
    Plain(GmmMessage),
    /// Security header types 1 to 4.
    Protected(ProtectedPdu),
}

impl NasPdu {
    /// Decodes the outer layer: a plain message completely, a protected one up to its payload.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] on a malformed PDU.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let epd = reader.u8("EPD")?;
        if epd != EPD_5GMM {
            return Err(DecodeError::NotMobilityManagement(epd));
        }
        let Some(header_type) =
            SecurityHeaderType::from_value(reader.u8("security header")? & 0x0F)?
        else {
            return GmmMessage::decode(bytes).map(Self::Plain);
        };
        let mac = reader.array("MAC")?;
        let sqn = reader.u8("sequence number")?;
        let payload = reader.rest().to_vec();
        if payload.is_empty() {
            return Err(DecodeError::Truncated("protected payload"));
        }
        Ok(Self::Protected(ProtectedPdu {
            header_type,
            mac,
            sqn,
            payload,
        }))
    }

    /// Encodes the PDU.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] when a plain message does not encode.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        match self {
            Self::Plain(message) => message.encode(),
            Self::Protected(pdu) => Ok(pdu.encode()),
        }
    }
}
