//! A whole IKE message: header plus payload chain (RFC 7296 §3.1, §3.2).

use super::chain::{emit_payloads, parse_payloads};
use super::error::ParseError;
use super::types::{HEADER_LEN, Header, Message};

/// Offset of the header's Next Payload octet.
const NEXT_PAYLOAD_AT: usize = 16;
/// Offset of the header's 4-octet Length field.
const LENGTH_AT: usize = 24;

impl Message {
    /// Parses a datagram (without any non-ESP marker). The header keeps the values received,
    /// including its Next Payload and Length fields.
    ///
    /// # Errors
    ///
    /// Those of [`Header::parse`]; [`ParseError::LengthMismatch`] when the header's Length is not
    /// the datagram length; and those of [`parse_payloads`] for the chain.
    pub fn parse(datagram: &[u8]) -> Result<Self, ParseError> {
        let header = Header::parse(datagram)?;
        if usize::try_from(header.length) != Ok(datagram.len()) {
            return Err(ParseError::LengthMismatch {
                header: header.length,
                datagram: datagram.len(),
            });
        }
        let chain = datagram.get(HEADER_LEN..).unwrap_or_default();
        let payloads = parse_payloads(header.next_payload, chain)?;
        Ok(Self { header, payloads })
    }

    /// Encodes the message. The header's Next Payload (the first payload's type, or NONE) and
    /// Length, and every payload length, are computed here: the stored `header.next_payload`
    /// and `header.length` are ignored.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + 64 * self.payloads.len());
        self.header.emit(&mut out);
        let first = emit_payloads(&self.payloads, &mut out);
        let length = u32::try_from(out.len()).unwrap_or(u32::MAX);
        if let Some(next) = out.get_mut(NEXT_PAYLOAD_AT) {
            *next = first.0;
        }
        if let Some(field) = out.get_mut(LENGTH_AT..HEADER_LEN) {
            field.copy_from_slice(&length.to_be_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::enums::{ExchangeType, PayloadType};
    use crate::wire::ids::{IkeSpi, MessageId};
    use crate::wire::types::{Flags, IKE_VERSION, Payload};

    fn informational(payloads: Vec<Payload>) -> Message {
        Message {
            header: Header {
                spi_i: IkeSpi(0x1111_2222_3333_4444),
                spi_r: IkeSpi(0x5555_6666_7777_8888),
                next_payload: PayloadType::NONE,
                version: IKE_VERSION,
                exchange: ExchangeType::INFORMATIONAL,
                flags: Flags::new(false, true),
                message_id: MessageId(7),
                length: 0,
            },
            payloads,
        }
    }

    #[test]
    fn message_emit_computes_next_payload_and_length() {
        let mut msg = informational(vec![Payload::VendorId(vec![0xab])]);
        msg.header.next_payload = PayloadType::SA;
        msg.header.length = 9999;
        let bytes = msg.emit();
        assert_eq!(bytes.len(), 33);
        assert_eq!(bytes[NEXT_PAYLOAD_AT], PayloadType::VENDOR_ID.0);
        assert_eq!(bytes[LENGTH_AT..HEADER_LEN], [0, 0, 0, 33]);
        assert_eq!(bytes[HEADER_LEN..], [0x00, 0x00, 0x00, 0x05, 0xab]);
        let parsed = Message::parse(&bytes).expect("valid");
        assert_eq!(parsed.header.length, 33);
        assert_eq!(parsed.header.next_payload, PayloadType::VENDOR_ID);
        assert_eq!(parsed.payloads, msg.payloads);
    }

    #[test]
    fn empty_informational_round_trips() {
        let msg = informational(Vec::new());
        let bytes = msg.emit();
        assert_eq!(bytes.len(), HEADER_LEN);
        assert_eq!(bytes[NEXT_PAYLOAD_AT], 0);
        let mut expected = msg.clone();
        expected.header.length = 28;
        assert_eq!(Message::parse(&bytes), Ok(expected));
    }

    #[test]
    fn message_length_must_match_datagram() {
        let mut bytes = informational(vec![Payload::Nonce(vec![1, 2, 3])]).emit();
        bytes.push(0);
        let err = Message::parse(&bytes).err();
        assert_eq!(
            err,
            Some(ParseError::LengthMismatch {
                header: 35,
                datagram: 36
            })
        );
        assert_eq!(err.and_then(|e| e.notify()), None);
        bytes.truncate(34);
        assert_eq!(
            Message::parse(&bytes),
            Err(ParseError::LengthMismatch {
                header: 35,
                datagram: 34
            })
        );
    }
}
