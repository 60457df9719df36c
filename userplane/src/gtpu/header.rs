//! The GTP-U header and its extension header chain (TS 29.281 §5.1, §5.2).

use core::ops::Range;

use super::{GTPU_MANDATORY_HEADER_LEN, MAX_EXTENSION_HEADERS, MessageType, ext, flags};
use crate::{Error, PduSessionInfo, Teid};

/// A parsed GTP-U header: what the datapath needs to forward or answer the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GtpuHeader {
    /// The message type.
    pub message_type: MessageType,
    /// The TEID of the receiving tunnel endpoint.
    pub teid: Teid,
    /// The sequence number, when S=1.
    pub sequence_number: Option<u16>,
    /// The N-PDU number, when PN=1.
    pub n_pdu_number: Option<u8>,
    /// The PDU Session Container, when the chain has one.
    pub pdu_session: Option<PduSessionInfo>,
    /// The UDP Port extension header, when the chain has one (Error Indication).
    pub udp_port: Option<u16>,
    /// Where the payload (the T-PDU of a G-PDU, the information elements otherwise) lies in
    /// the parsed datagram; always within it.
    pub payload: Range<usize>,
}

impl GtpuHeader {
    /// Parses the header of the GTP-U message that fills `datagram` (a UDP payload).
    ///
    /// # Errors
    /// - [`Error::Truncated`]: shorter than the 8 mandatory octets;
    /// - [`Error::Version`]: not version 1, or PT=0 (GTP');
    /// - [`Error::Length`]: the Length field does not match the datagram, or leaves no room
    ///   for the optional fields the flags announce;
    /// - [`Error::ExtensionHeaderLength`], [`Error::TooManyExtensionHeaders`],
    ///   [`Error::UnsupportedExtensionHeader`], [`Error::PduSessionContainer`]: the extension
    ///   header chain is malformed, too long, has a header the endpoint must comprehend and we
    ///   do not (TS 29.281 §5.2.1), or has a bad or repeated PDU Session Container.
    pub fn parse(datagram: &[u8]) -> Result<Self, Error> {
        let Some(&[first, message_type, l0, l1, t0, t1, t2, t3]) =
            datagram.first_chunk::<GTPU_MANDATORY_HEADER_LEN>()
        else {
            return Err(Error::Truncated);
        };
        if first & flags::VERSION_MASK != flags::VERSION_1 || first & flags::PT == 0 {
            return Err(Error::Version);
        }
        let length = usize::from(u16::from_be_bytes([l0, l1]));
        if GTPU_MANDATORY_HEADER_LEN + length != datagram.len() {
            return Err(Error::Length);
        }
        let mut header = Self {
            message_type: MessageType(message_type),
            teid: Teid(u32::from_be_bytes([t0, t1, t2, t3])),
            sequence_number: None,
            n_pdu_number: None,
            pdu_session: None,
            udp_port: None,
            payload: GTPU_MANDATORY_HEADER_LEN..datagram.len(),
        };
        if first & (flags::E | flags::S | flags::PN) == 0 {
            return Ok(header);
        }
        let Some(&[s0, s1, n_pdu, next]) = datagram
            .get(GTPU_MANDATORY_HEADER_LEN..)
            .and_then(<[u8]>::first_chunk::<4>)
        else {
            return Err(Error::Length);
        };
        if first & flags::S != 0 {
            header.sequence_number = Some(u16::from_be_bytes([s0, s1]));
        }
        if first & flags::PN != 0 {
            header.n_pdu_number = Some(n_pdu);
        }
        // TS 29.281 §5.1: the next extension header type is read only when E=1.
        let next = if first & flags::E != 0 {
            next
        } else {
            ext::NONE
        };
        let start = header.read_extensions(datagram, GTPU_MANDATORY_HEADER_LEN + 4, next)?;
        header.payload = start..datagram.len();
        Ok(header)
    }

    /// Walks the extension header chain from `pos`, where one of type `next` starts; returns
    /// where the payload starts.
    fn read_extensions(
        &mut self,
        datagram: &[u8],
        mut pos: usize,
        mut next: u8,
    ) -> Result<usize, Error> {
        let mut count = 0;
        while next != ext::NONE {
            count += 1;
            if count > MAX_EXTENSION_HEADERS {
                return Err(Error::TooManyExtensionHeaders);
            }
            // TS 29.281 §5.2.1: the length counts 4-octet units and includes the length and
            // next-type octets, so 0 is malformed.
            let units = usize::from(*datagram.get(pos).ok_or(Error::ExtensionHeaderLength)?);
            let end = pos + 4 * units;
            let Some((&following, body)) = datagram
                .get(pos + 1..end)
                .filter(|_| units != 0)
                .and_then(<[u8]>::split_last)
            else {
                return Err(Error::ExtensionHeaderLength);
            };
            self.read_extension(next, body)?;
            next = following;
            pos = end;
        }
        Ok(pos)
    }

    /// Takes in one extension header of type `kind` with content `body`.
    fn read_extension(&mut self, kind: u8, body: &[u8]) -> Result<(), Error> {
        match kind {
            ext::PDU_SESSION_CONTAINER => {
                if self.pdu_session.is_some() {
                    return Err(Error::PduSessionContainer);
                }
                self.pdu_session = Some(PduSessionInfo::parse(body)?);
            }
            ext::UDP_PORT => {
                let &[p0, p1] = body
                    .first_chunk::<2>()
                    .ok_or(Error::ExtensionHeaderLength)?;
                self.udp_port = Some(u16::from_be_bytes([p0, p1]));
            }
            // TS 29.281 §5.2.1: an unknown header whose type has bit 8 set must be comprehended
            // by the receiving endpoint: drop the packet. Otherwise skip it.
            other if other & ext::ENDPOINT_MUST_COMPREHEND != 0 => {
                return Err(Error::UnsupportedExtensionHeader(other));
            }
            _ => {}
        }
        Ok(())
    }
}
