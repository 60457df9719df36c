//! The fixed 28-octet IKE header (RFC 7296 §3.1).

use super::enums::{ExchangeType, PayloadType};
use super::error::ParseError;
use super::ids::{IkeSpi, MessageId};
use super::reader::Reader;
use super::types::{Flags, HEADER_LEN, Header, IKE_VERSION};

impl Header {
    /// Parses the header from the first 28 octets of `bytes` (anything after them is ignored),
    /// for cheap demultiplexing before a full [`Message::parse`](super::Message::parse). The
    /// Length field is stored as received but not compared with the datagram; `Message::parse`
    /// does that.
    ///
    /// # Errors
    ///
    /// [`ParseError::HeaderTruncated`] when `bytes` is shorter than 28 octets, and
    /// [`ParseError::UnsupportedMajorVersion`] when the major version is not 2.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let Some(fixed) = bytes.get(..HEADER_LEN) else {
            return Err(ParseError::HeaderTruncated {
                length: bytes.len(),
            });
        };
        let mut r = Reader::new(fixed);
        let spi_i = IkeSpi(r.u64("initiator SPI")?);
        let spi_r = IkeSpi(r.u64("responder SPI")?);
        let next_payload = PayloadType(r.u8("next payload")?);
        let version = r.u8("version")?;
        if version >> 4 != IKE_VERSION >> 4 {
            return Err(ParseError::UnsupportedMajorVersion { version });
        }
        Ok(Self {
            spi_i,
            spi_r,
            next_payload,
            version,
            exchange: ExchangeType(r.u8("exchange type")?),
            flags: Flags(r.u8("flags")?),
            message_id: MessageId(r.u32("message ID")?),
            length: r.u32("length")?,
        })
    }

    /// Appends the 28 header octets, writing every stored field as it is (including
    /// `next_payload` and `length`).
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.spi_i.0.to_be_bytes());
        out.extend_from_slice(&self.spi_r.0.to_be_bytes());
        out.extend_from_slice(&[
            self.next_payload.0,
            self.version,
            self.exchange.0,
            self.flags.0,
        ]);
        out.extend_from_slice(&self.message_id.0.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7296 §3.1, Figure 4: SPIs, Next Payload, MjVer|MnVer, Exchange Type, Flags,
    /// Message ID, Length.
    const HEADER: [u8; 28] = [
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // initiator SPI
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // responder SPI
        0x21, 0x20, 0x22, 0x08, // SA, 2.0, IKE_SA_INIT, I flag
        0x00, 0x00, 0x00, 0x00, // message ID
        0x00, 0x00, 0x01, 0x2c, // length 300
    ];

    fn header() -> Header {
        Header {
            spi_i: IkeSpi(0x0102_0304_0506_0708),
            spi_r: IkeSpi(0),
            next_payload: PayloadType::SA,
            version: IKE_VERSION,
            exchange: ExchangeType::IKE_SA_INIT,
            flags: Flags::new(true, false),
            message_id: MessageId(0),
            length: 300,
        }
    }

    #[test]
    fn header_parses_figure_4() {
        assert_eq!(Header::parse(&HEADER), Ok(header()));
    }

    #[test]
    fn header_emits_figure_4() {
        let mut out = Vec::new();
        header().emit(&mut out);
        assert_eq!(out, HEADER);
    }

    #[test]
    fn header_round_trips_and_ignores_what_follows() {
        let mut h = header();
        h.version = 0x2f;
        h.flags = Flags(0xff);
        h.message_id = MessageId(0xdead_beef);
        let mut out = Vec::new();
        h.emit(&mut out);
        out.extend_from_slice(&[0xee; 5]);
        assert_eq!(Header::parse(&out), Ok(h));
    }

    #[test]
    fn header_rejects_short_datagram_silently() {
        let err = Header::parse(&HEADER[..27]).err();
        assert_eq!(err, Some(ParseError::HeaderTruncated { length: 27 }));
        assert_eq!(err.and_then(|e| e.notify()), None);
    }

    #[test]
    fn header_rejects_other_major_versions() {
        for version in [0x10, 0x30, 0xf0] {
            let mut bytes = HEADER;
            bytes[17] = version;
            assert_eq!(
                Header::parse(&bytes),
                Err(ParseError::UnsupportedMajorVersion { version })
            );
        }
        let mut minor = HEADER;
        minor[17] = 0x21;
        assert_eq!(Header::parse(&minor).map(|h| h.version), Ok(0x21));
    }
}
