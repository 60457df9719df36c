//! EAP-5G (TS 24.502 §9.3.2): the EAP method that carries NAS between the UE and the N3IWF
//! inside IKE_AUTH until the UE has a key.
//!
//! Every EAP-5G packet is an RFC 3748 §5.7 expanded-type packet:
//!
//! ```text
//! Code(1) Identifier(1) Length(2) Type=254(1) Vendor-Id=10415(3) Vendor-Type=3(4)
//! Message-Id(1) Spare(1) body...
//! ```
//!
//! | Message-Id | direction | body |
//! | --- | --- | --- |
//! | 1 5G-Start | Request | optional extensions (spare octets, ignored) |
//! | 2 5G-NAS | Request | NAS-PDU length (2), NAS-PDU |
//! | 2 5G-NAS | Response | AN-parameters length (2), AN-parameters, NAS-PDU length (2), NAS-PDU |
//! | 3 5G-Notification | either | parsed and ignored (the N3IWF never sends it) |
//! | 4 5G-Stop | Response | optional extensions (spare octets, ignored) |
//!
//! EAP-Success and EAP-Failure (RFC 3748 §4.2) end the method and are 4 octets long.
//!
//! The IKEv2 EAP payload carries exactly one EAP packet (RFC 7296 §3.16), so the EAP Length
//! must equal the payload's length: octets after it are refused rather than taken as link
//! padding.

use super::WireError;
use super::an_params::AnParameters;
use super::reader::{Reader, put_lv16};
use crate::macros::open_enum;

open_enum! {
    /// EAP Code (RFC 3748 §4).
    EapCode(u8) {
        REQUEST = 1,
        RESPONSE = 2,
        SUCCESS = 3,
        FAILURE = 4,
    }
}

open_enum! {
    /// EAP-5G Message-Id (TS 24.502 §9.3.2.2).
    Eap5gMessageId(u8) {
        START = 1,
        NAS = 2,
        NOTIFICATION = 3,
        STOP = 4,
    }
}

/// EAP Identifier: chosen by the N3IWF for each request and echoed by the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EapIdentifier(pub u8);

/// EAP Type 254: expanded type (RFC 3748 §5.7).
pub const EAP_TYPE_EXPANDED: u8 = 254;
/// The 3GPP SMI Private Enterprise Code.
pub const VENDOR_ID_3GPP: u32 = 10_415;
/// The EAP-5G method in the 3GPP vendor space (TS 33.402 Annex C).
pub const VENDOR_TYPE_EAP_5G: u32 = 3;

mod field {
    use core::ops::Range;

    pub(super) const CODE: usize = 0;
    pub(super) const IDENTIFIER: usize = 1;
    pub(super) const LENGTH: Range<usize> = 2..4;
    pub(super) const TYPE: usize = 4;
    pub(super) const VENDOR_ID: Range<usize> = 5..8;
    pub(super) const VENDOR_TYPE: Range<usize> = 8..12;
    pub(super) const MESSAGE_ID: usize = 12;
    /// After the spare octet.
    pub(super) const BODY: usize = 14;
    /// Code, Identifier and Length: all of Success and Failure.
    pub(super) const HEADER_LEN: usize = 4;
}

/// A checked view of an EAP packet as EAP-5G uses it: an EAP-5G request or response, or an
/// EAP-Success or EAP-Failure. Once [`Eap5gPacket::new_checked`] succeeds no accessor panics.
#[derive(Clone, Debug)]
pub struct Eap5gPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Eap5gPacket<T> {
    /// Wraps `buffer` without checking it (for emitting into a prepared buffer).
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps `buffer` after [`Eap5gPacket::check_len`] and the EAP-5G method checks.
    ///
    /// # Errors
    /// [`WireError::Truncated`] for a short packet, [`WireError::BadLength`] or
    /// [`WireError::TrailingData`] when the EAP Length is not the buffer's length, and
    /// [`WireError::BadValue`] for another Code, Type, Vendor-Id or Vendor-Type.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        packet.check_method()?;
        Ok(packet)
    }

    /// Checks that the buffer holds exactly `Length` octets, and a Type octet when the Code is
    /// Request or Response.
    ///
    /// # Errors
    /// As [`Eap5gPacket::new_checked`] for lengths.
    pub fn check_len(&self) -> Result<(), WireError> {
        let bytes = self.buffer.as_ref();
        let length = bytes
            .get(field::LENGTH)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
            .ok_or(WireError::Truncated("EAP header"))?;
        if length > bytes.len() {
            return Err(WireError::BadLength("EAP Length"));
        }
        if length < bytes.len() {
            return Err(WireError::TrailingData("EAP packet"));
        }
        match self.code() {
            EapCode::REQUEST | EapCode::RESPONSE if length <= field::TYPE => {
                Err(WireError::Truncated("EAP Type"))
            }
            _ => Ok(()),
        }
    }

    pub fn code(&self) -> EapCode {
        EapCode(self.octet(field::CODE))
    }

    pub fn identifier(&self) -> EapIdentifier {
        EapIdentifier(self.octet(field::IDENTIFIER))
    }

    /// The Message-Id of a request or response.
    pub fn message_id(&self) -> Eap5gMessageId {
        Eap5gMessageId(self.octet(field::MESSAGE_ID))
    }

    /// The octets after the spare octet of a request or response (empty for Success/Failure).
    pub fn body(&self) -> &[u8] {
        self.buffer.as_ref().get(field::BODY..).unwrap_or_default()
    }

    /// The octet at `index`, or 0 past the end (only an unchecked view can ask for that).
    fn octet(&self, index: usize) -> u8 {
        self.buffer.as_ref().get(index).copied().unwrap_or_default()
    }

    fn check_method(&self) -> Result<(), WireError> {
        let bytes = self.buffer.as_ref();
        match self.code() {
            EapCode::SUCCESS | EapCode::FAILURE if bytes.len() == field::HEADER_LEN => Ok(()),
            EapCode::SUCCESS | EapCode::FAILURE => Err(WireError::TrailingData("EAP result")),
            EapCode::REQUEST | EapCode::RESPONSE => self.check_expanded_type(),
            _ => Err(WireError::BadValue("EAP Code")),
        }
    }

    fn check_expanded_type(&self) -> Result<(), WireError> {
        if self.octet(field::TYPE) != EAP_TYPE_EXPANDED {
            return Err(WireError::BadValue("EAP Type"));
        }
        let header = self
            .buffer
            .as_ref()
            .get(..field::BODY)
            .ok_or(WireError::Truncated("EAP-5G header"))?;
        let vendor_id = header[field::VENDOR_ID]
            .iter()
            .fold(0, |v, b| v << 8 | u32::from(*b));
        let vendor_type = header[field::VENDOR_TYPE]
            .iter()
            .fold(0, |v, b| v << 8 | u32::from(*b));
        match (vendor_id, vendor_type) {
            (VENDOR_ID_3GPP, VENDOR_TYPE_EAP_5G) => Ok(()),
            (VENDOR_ID_3GPP, _) => Err(WireError::BadValue("Vendor-Type")),
            _ => Err(WireError::BadValue("Vendor-Id")),
        }
    }
}

/// The meaning of an EAP-5G packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Eap5g {
    /// EAP-Request/5G-Start (N3IWF → UE).
    Start { id: EapIdentifier },
    /// EAP-Request/5G-NAS (N3IWF → UE): a downlink NAS PDU.
    NasRequest { id: EapIdentifier, nas_pdu: Vec<u8> },
    /// EAP-Response/5G-NAS (UE → N3IWF): AN parameters (empty when absent) and an uplink NAS PDU.
    NasResponse {
        id: EapIdentifier,
        an_parameters: AnParameters,
        nas_pdu: Vec<u8>,
    },
    /// 5G-Notification in either direction: kept as its body and otherwise ignored.
    Notification {
        code: EapCode,
        id: EapIdentifier,
        data: Vec<u8>,
    },
    /// EAP-Response/5G-Stop (UE → N3IWF): the UE abandons the procedure.
    Stop { id: EapIdentifier },
    /// EAP-Success (RFC 3748 §4.2).
    Success { id: EapIdentifier },
    /// EAP-Failure (RFC 3748 §4.2).
    Failure { id: EapIdentifier },
    /// A Message-Id (or a Message-Id and Code pair) this release does not define.
    Unknown {
        code: EapCode,
        id: EapIdentifier,
        message_id: Eap5gMessageId,
        data: Vec<u8>,
    },
}

impl Eap5g {
    /// Parses one EAP packet (the body of an IKEv2 EAP payload).
    ///
    /// # Errors
    /// Any [`WireError`] from [`Eap5gPacket::new_checked`], from the 5G-NAS length fields (a
    /// length past the packet, or octets after the NAS-PDU) and from the AN parameters.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        let packet = Eap5gPacket::new_checked(bytes)?;
        let id = packet.identifier();
        let code = packet.code();
        Ok(match (code, packet.message_id()) {
            (EapCode::SUCCESS, _) => Self::Success { id },
            (EapCode::FAILURE, _) => Self::Failure { id },
            (EapCode::REQUEST, Eap5gMessageId::START) => Self::Start { id },
            (EapCode::RESPONSE, Eap5gMessageId::STOP) => Self::Stop { id },
            (EapCode::REQUEST, Eap5gMessageId::NAS) => parse_nas_request(id, packet.body())?,
            (EapCode::RESPONSE, Eap5gMessageId::NAS) => parse_nas_response(id, packet.body())?,
            (_, Eap5gMessageId::NOTIFICATION) => Self::Notification {
                code,
                id,
                data: packet.body().to_vec(),
            },
            (_, message_id) => Self::Unknown {
                code,
                id,
                message_id,
                data: packet.body().to_vec(),
            },
        })
    }

    /// The EAP Identifier.
    pub fn id(&self) -> EapIdentifier {
        match self {
            Self::Start { id }
            | Self::NasRequest { id, .. }
            | Self::NasResponse { id, .. }
            | Self::Notification { id, .. }
            | Self::Stop { id }
            | Self::Success { id }
            | Self::Failure { id }
            | Self::Unknown { id, .. } => *id,
        }
    }

    /// The EAP Code this message is sent with.
    pub fn code(&self) -> EapCode {
        match self {
            Self::Start { .. } | Self::NasRequest { .. } => EapCode::REQUEST,
            Self::NasResponse { .. } | Self::Stop { .. } => EapCode::RESPONSE,
            Self::Success { .. } => EapCode::SUCCESS,
            Self::Failure { .. } => EapCode::FAILURE,
            Self::Notification { code, .. } | Self::Unknown { code, .. } => *code,
        }
    }

    /// Appends the packet to `out`.
    ///
    /// # Errors
    /// [`WireError::TooLong`] when a field or the whole packet does not fit its length field;
    /// [`WireError::BadValue`] for AN parameters that cannot be written. `out` may then hold a
    /// partial packet.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        let start = out.len();
        out.extend_from_slice(&[self.code().0, self.id().0, 0, 0]);
        if let Some(message_id) = self.message_id() {
            out.push(EAP_TYPE_EXPANDED);
            out.extend_from_slice(&VENDOR_ID_3GPP.to_be_bytes()[1..]);
            out.extend_from_slice(&VENDOR_TYPE_EAP_5G.to_be_bytes());
            out.extend_from_slice(&[message_id.0, 0]);
            self.emit_body(out)?;
        }
        let length =
            u16::try_from(out.len() - start).map_err(|_| WireError::TooLong("EAP packet"))?;
        out[start + 2..start + 4].copy_from_slice(&length.to_be_bytes());
        Ok(())
    }

    /// The packet as a new buffer.
    ///
    /// # Errors
    /// As [`Eap5g::emit`].
    pub fn to_bytes(&self) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::new();
        self.emit(&mut out)?;
        Ok(out)
    }

    fn message_id(&self) -> Option<Eap5gMessageId> {
        match self {
            Self::Start { .. } => Some(Eap5gMessageId::START),
            Self::NasRequest { .. } | Self::NasResponse { .. } => Some(Eap5gMessageId::NAS),
            Self::Notification { .. } => Some(Eap5gMessageId::NOTIFICATION),
            Self::Stop { .. } => Some(Eap5gMessageId::STOP),
            Self::Success { .. } | Self::Failure { .. } => None,
            Self::Unknown { message_id, .. } => Some(*message_id),
        }
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        match self {
            Self::NasRequest { nas_pdu, .. } => put_lv16(out, nas_pdu, "NAS-PDU"),
            Self::NasResponse {
                an_parameters,
                nas_pdu,
                ..
            } => {
                put_lv16(out, &an_parameters.to_bytes()?, "AN-parameters")?;
                put_lv16(out, nas_pdu, "NAS-PDU")
            }
            Self::Notification { data, .. } | Self::Unknown { data, .. } => {
                out.extend_from_slice(data);
                Ok(())
            }
            Self::Start { .. }
            | Self::Stop { .. }
            | Self::Success { .. }
            | Self::Failure { .. } => Ok(()),
        }
    }
}

/// TS 24.502 §9.3.2.2.3: NAS-PDU length (2), NAS-PDU.
fn parse_nas_request(id: EapIdentifier, body: &[u8]) -> Result<Eap5g, WireError> {
    let mut r = Reader::new(body);
    let nas_pdu = r.sub_u16("NAS-PDU length")?.rest().to_vec();
    r.finish("NAS-PDU")?;
    Ok(Eap5g::NasRequest { id, nas_pdu })
}

/// TS 24.502 §9.3.2.2.2: AN-parameters length (2), AN-parameters, NAS-PDU length (2), NAS-PDU.
fn parse_nas_response(id: EapIdentifier, body: &[u8]) -> Result<Eap5g, WireError> {
    let mut r = Reader::new(body);
    let an_parameters = AnParameters::parse(r.sub_u16("AN-parameters length")?.rest())?;
    let nas_pdu = r.sub_u16("NAS-PDU length")?.rest().to_vec();
    r.finish("NAS-PDU")?;
    Ok(Eap5g::NasResponse {
        id,
        an_parameters,
        nas_pdu,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Plmn;
    use crate::wire::an_params::EstablishmentCause;

    const ID: EapIdentifier = EapIdentifier(0x5a);

    fn round_trip(message: &Eap5g, bytes: &[u8]) {
        assert_eq!(message.to_bytes().unwrap(), bytes, "emit {message:?}");
        assert_eq!(Eap5g::parse(bytes).as_ref(), Ok(message), "parse");
    }

    #[test]
    fn start_request_is_14_octets() {
        let bytes = hex("01 5a 000e fe 0028af 00000003 01 00");
        round_trip(&Eap5g::Start { id: ID }, &bytes);
    }

    #[test]
    fn start_extensions_are_spare() {
        let bytes = hex("01 5a 0010 fe 0028af 00000003 01 00 ffff");
        assert_eq!(Eap5g::parse(&bytes), Ok(Eap5g::Start { id: ID }));
    }

    #[test]
    fn nas_request() {
        let bytes = hex("01 5a 0013 fe 0028af 00000003 02 00 0003 7e0056");
        let message = Eap5g::NasRequest {
            id: ID,
            nas_pdu: vec![0x7e, 0x00, 0x56],
        };
        round_trip(&message, &bytes);
    }

    #[test]
    fn nas_response_with_an_parameters() {
        let bytes = hex("02 5a 001d fe 0028af 00000003 02 00 \
             0008 0203130014 040103 \
             0003 7e0041");
        let an_parameters = AnParameters {
            selected_plmn: Some(Plmn::new("310", "410").unwrap()),
            establishment_cause: Some(EstablishmentCause::MO_SIGNALLING),
            ..AnParameters::default()
        };
        let message = Eap5g::NasResponse {
            id: ID,
            an_parameters,
            nas_pdu: vec![0x7e, 0x00, 0x41],
        };
        round_trip(&message, &bytes);
    }

    #[test]
    fn nas_response_without_an_parameters() {
        let bytes = hex("02 5a 0015 fe 0028af 00000003 02 00 0000 0003 7e0057");
        let message = Eap5g::NasResponse {
            id: ID,
            an_parameters: AnParameters::default(),
            nas_pdu: vec![0x7e, 0x00, 0x57],
        };
        round_trip(&message, &bytes);
    }

    #[test]
    fn stop_success_failure() {
        round_trip(
            &Eap5g::Stop { id: ID },
            &hex("02 5a 000e fe 0028af 00000003 04 00"),
        );
        round_trip(&Eap5g::Success { id: ID }, &hex("03 5a 0004"));
        round_trip(&Eap5g::Failure { id: ID }, &hex("04 5a 0004"));
    }

    #[test]
    fn notification_and_unknown_message_ids_are_values() {
        let bytes = hex("01 5a 0010 fe 0028af 00000003 03 00 abcd");
        let message = Eap5g::Notification {
            code: EapCode::REQUEST,
            id: ID,
            data: vec![0xab, 0xcd],
        };
        round_trip(&message, &bytes);
        let bytes = hex("02 5a 000f fe 0028af 00000003 09 00 01");
        let message = Eap5g::Unknown {
            code: EapCode::RESPONSE,
            id: ID,
            message_id: Eap5gMessageId(9),
            data: vec![0x01],
        };
        round_trip(&message, &bytes);
        // A Start sent as a response has no meaning in this release.
        let bytes = hex("02 5a 000e fe 0028af 00000003 01 00");
        assert!(matches!(Eap5g::parse(&bytes), Ok(Eap5g::Unknown { .. })));
    }

    #[test]
    fn refuses_other_methods() {
        let identity = hex("02 5a 0009 01 75736572");
        assert_eq!(
            Eap5g::parse(&identity),
            Err(WireError::BadValue("EAP Type"))
        );
        assert_eq!(
            Eap5g::parse(&hex("02 5a 0004")),
            Err(WireError::Truncated("EAP Type"))
        );
        let aka = hex("02 5a 000e 32 0028af 00000003 02 00");
        assert_eq!(Eap5g::parse(&aka), Err(WireError::BadValue("EAP Type")));
        let vendor = hex("02 5a 000e fe 0028b0 00000003 02 00");
        assert_eq!(Eap5g::parse(&vendor), Err(WireError::BadValue("Vendor-Id")));
        let vendor_type = hex("02 5a 000e fe 0028af 00000002 02 00");
        assert_eq!(
            Eap5g::parse(&vendor_type),
            Err(WireError::BadValue("Vendor-Type"))
        );
        assert_eq!(
            Eap5g::parse(&hex("05 5a 0004")),
            Err(WireError::BadValue("EAP Code"))
        );
    }

    #[test]
    fn eap_length_must_match_the_payload() {
        assert_eq!(
            Eap5g::parse(&hex("03 5a")),
            Err(WireError::Truncated("EAP header"))
        );
        assert_eq!(
            Eap5g::parse(&hex("03 5a 0005")),
            Err(WireError::BadLength("EAP Length"))
        );
        assert_eq!(
            Eap5g::parse(&hex("03 5a 0004 00")),
            Err(WireError::TrailingData("EAP packet"))
        );
        assert_eq!(
            Eap5g::parse(&hex("03 5a 0005 00")),
            Err(WireError::TrailingData("EAP result"))
        );
        // free5GC #938: a response too short to hold the EAP-5G header.
        assert_eq!(
            Eap5g::parse(&hex("02 5a 0006 fe 00")),
            Err(WireError::Truncated("EAP-5G header"))
        );
    }

    #[test]
    fn nas_lengths_are_bounded_by_the_packet() {
        let past = hex("01 5a 0013 fe 0028af 00000003 02 00 0004 7e0056");
        assert_eq!(
            Eap5g::parse(&past),
            Err(WireError::BadLength("NAS-PDU length"))
        );
        let trailing = hex("01 5a 0013 fe 0028af 00000003 02 00 0002 7e0056");
        assert_eq!(
            Eap5g::parse(&trailing),
            Err(WireError::TrailingData("NAS-PDU"))
        );
        let no_nas = hex("02 5a 0010 fe 0028af 00000003 02 00 0000");
        assert_eq!(
            Eap5g::parse(&no_nas),
            Err(WireError::Truncated("NAS-PDU length"))
        );
        let an_past = hex("02 5a 0012 fe 0028af 00000003 02 00 0005 0000");
        assert_eq!(
            Eap5g::parse(&an_past),
            Err(WireError::BadLength("AN-parameters length"))
        );
    }

    #[test]
    fn emit_refuses_what_the_length_cannot_carry() {
        let message = Eap5g::NasRequest {
            id: ID,
            nas_pdu: vec![0; 65_536],
        };
        assert_eq!(message.to_bytes(), Err(WireError::TooLong("NAS-PDU")));
        let message = Eap5g::NasRequest {
            id: ID,
            nas_pdu: vec![0; 65_535 - 16 + 1],
        };
        assert_eq!(message.to_bytes(), Err(WireError::TooLong("EAP packet")));
        let largest = Eap5g::NasRequest {
            id: ID,
            nas_pdu: vec![0; 65_535 - 16],
        };
        let bytes = largest.to_bytes().unwrap();
        assert_eq!(bytes.len(), 65_535);
        assert_eq!(Eap5g::parse(&bytes), Ok(largest));
    }

    fn hex(text: &str) -> Vec<u8> {
        let digits: String = text.split_whitespace().collect();
        ::hex::decode(digits).unwrap()
    }
}
