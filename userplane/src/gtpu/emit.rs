//! Writers of GTP-U headers and messages into the front of the caller's buffer (TS 29.281 §5,
//! §7). Each returns the number of octets written; nothing is allocated.

use core::net::IpAddr;

use super::{GTPU_MANDATORY_HEADER_LEN, MessageType, ext, flags, ie};
use crate::{Error, ErrorIndication, PduSessionInfo, Teid};

/// Writes a G-PDU header for `payload_len` octets of T-PDU: with a PDU Session Container
/// (flags 0x34, sequence number 0, N-PDU number 0, next type 0x85; 16 octets, or 20 with a
/// PPI), or without one (flags 0x30, 8 octets). The payload goes right after the header.
///
/// # Errors
/// [`Error::BufferTooSmall`] when `buf` cannot hold the header; [`Error::PayloadTooLong`] when
/// the Length field cannot say how long the message is.
pub fn write_gpdu_header(
    buf: &mut [u8],
    teid: Teid,
    pdu_session: Option<PduSessionInfo>,
    payload_len: usize,
) -> Result<usize, Error> {
    write_header(buf, MessageType::G_PDU, teid, pdu_session, payload_len)
}

/// Writes an End Marker (TS 29.281 §7.3.2) for the tunnel `teid`, with a PDU Session Container
/// if given (TS 38.415 allows one on N3).
///
/// # Errors
/// [`Error::BufferTooSmall`] when `buf` cannot hold it.
pub fn write_end_marker(
    buf: &mut [u8],
    teid: Teid,
    pdu_session: Option<PduSessionInfo>,
) -> Result<usize, Error> {
    write_header(buf, MessageType::END_MARKER, teid, pdu_session, 0)
}

/// Writes an Echo Request (TS 29.281 §7.2.1): TEID 0, S=1 with `sequence_number`, no IE.
///
/// # Errors
/// [`Error::BufferTooSmall`] when `buf` cannot hold its 12 octets.
pub fn write_echo_request(buf: &mut [u8], sequence_number: u16) -> Result<usize, Error> {
    write_with_sequence(buf, MessageType::ECHO_REQUEST, sequence_number, &[])
}

/// Writes an Echo Response (TS 29.281 §7.2.2) to a request with `sequence_number`: TEID 0, the
/// same sequence number, and the Recovery IE with restart counter 0 (TS 29.281 §8.2).
///
/// # Errors
/// [`Error::BufferTooSmall`] when `buf` cannot hold its 14 octets.
pub fn write_echo_response(buf: &mut [u8], sequence_number: u16) -> Result<usize, Error> {
    let recovery = [ie::RECOVERY, 0];
    write_with_sequence(buf, MessageType::ECHO_RESPONSE, sequence_number, &recovery)
}

/// Writes an Error Indication (TS 29.281 §7.3.1): TEID 0, S=1 with `sequence_number`, the
/// UDP Port extension header when `indication.udp_port` is set, then the TEID Data I and GTP-U
/// Peer Address IEs.
///
/// # Errors
/// [`Error::BufferTooSmall`] when `buf` cannot hold it (at most 36 octets).
pub fn write_error_indication(
    buf: &mut [u8],
    sequence_number: u16,
    indication: &ErrorIndication,
) -> Result<usize, Error> {
    let mut ies = [0u8; 5 + 3 + 16];
    let [t0, t1, t2, t3] = indication.teid_data.0.to_be_bytes();
    let mut len = 5;
    ies[..len].copy_from_slice(&[ie::TEID_DATA_I, t0, t1, t2, t3]);
    let address: &[u8] = match &indication.peer_address {
        IpAddr::V4(a) => &a.octets(),
        IpAddr::V6(a) => &a.octets(),
    };
    // The address is 4 or 16 octets: the cast cannot truncate.
    let [a0, a1] = (address.len() as u16).to_be_bytes();
    ies[len..len + 3].copy_from_slice(&[ie::PEER_ADDRESS, a0, a1]);
    len += 3;
    ies[len..len + address.len()].copy_from_slice(address);
    len += address.len();
    let ies = &ies[..len];

    let Some(port) = indication.udp_port else {
        return write_with_sequence(buf, MessageType::ERROR_INDICATION, sequence_number, ies);
    };
    let [s0, s1] = sequence_number.to_be_bytes();
    let [p0, p1] = port.to_be_bytes();
    let optional = [s0, s1, 0, ext::UDP_PORT, 1, p0, p1, ext::NONE];
    write_parts(
        buf,
        flags::VERSION_1 | flags::PT | flags::E | flags::S,
        MessageType::ERROR_INDICATION,
        &optional,
        ies,
    )
}

/// Writes the header of a message with S=1 and no extension header, then `ies`.
fn write_with_sequence(
    buf: &mut [u8],
    message_type: MessageType,
    sequence_number: u16,
    ies: &[u8],
) -> Result<usize, Error> {
    let [s0, s1] = sequence_number.to_be_bytes();
    let optional = [s0, s1, 0, ext::NONE];
    write_parts(
        buf,
        flags::VERSION_1 | flags::PT | flags::S,
        message_type,
        &optional,
        ies,
    )
}

/// Writes a whole TEID-0 message: mandatory header, `optional` (sequence number, N-PDU number,
/// next type and extension headers), `ies`.
fn write_parts(
    buf: &mut [u8],
    first: u8,
    message_type: MessageType,
    optional: &[u8],
    ies: &[u8],
) -> Result<usize, Error> {
    let total = GTPU_MANDATORY_HEADER_LEN + optional.len() + ies.len();
    let out = buf.get_mut(..total).ok_or(Error::BufferTooSmall)?;
    // At most 8 + 8 + 24 octets: the cast cannot truncate.
    let [l0, l1] = ((total - GTPU_MANDATORY_HEADER_LEN) as u16).to_be_bytes();
    let (mandatory, rest) = out.split_at_mut(GTPU_MANDATORY_HEADER_LEN);
    mandatory.copy_from_slice(&[first, message_type.0, l0, l1, 0, 0, 0, 0]);
    let (opt, tail) = rest.split_at_mut(optional.len());
    opt.copy_from_slice(optional);
    tail.copy_from_slice(ies);
    Ok(total)
}

/// Writes a header for a message to tunnel `teid` with an optional PDU Session Container,
/// followed by `payload_len` octets the caller provides.
fn write_header(
    buf: &mut [u8],
    message_type: MessageType,
    teid: Teid,
    pdu_session: Option<PduSessionInfo>,
    payload_len: usize,
) -> Result<usize, Error> {
    let ext_len = pdu_session.map_or(0, |s| 4 + 4 * usize::from(s.length_units()));
    let header_len = GTPU_MANDATORY_HEADER_LEN + ext_len;
    let length = u16::try_from(ext_len + payload_len).map_err(|_| Error::PayloadTooLong)?;
    let out = buf.get_mut(..header_len).ok_or(Error::BufferTooSmall)?;
    let first = match pdu_session {
        Some(_) => flags::VERSION_1 | flags::PT | flags::E,
        None => flags::VERSION_1 | flags::PT,
    };
    let [l0, l1] = length.to_be_bytes();
    let [t0, t1, t2, t3] = teid.0.to_be_bytes();
    let (mandatory, rest) = out.split_at_mut(GTPU_MANDATORY_HEADER_LEN);
    mandatory.copy_from_slice(&[first, message_type.0, l0, l1, t0, t1, t2, t3]);
    if let (Some(session), Some((optional, container))) =
        (pdu_session, rest.split_first_chunk_mut::<4>())
    {
        *optional = [0, 0, 0, ext::PDU_SESSION_CONTAINER];
        session.write(container);
    }
    Ok(header_len)
}
