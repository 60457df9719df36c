//! Whole GTP-U messages: the header plus, for path and tunnel management, the information
//! elements (TS 29.281 §7, §8).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{GtpuHeader, MessageType, ie};
use crate::{Error, PduSessionInfo, Teid};

/// A GTP-U message the N3 endpoints handle.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GtpuMessage<'a> {
    /// Echo Request (TS 29.281 §7.2.1): answer with an Echo Response of the same sequence
    /// number.
    EchoRequest {
        /// The sequence number to echo.
        sequence_number: u16,
    },
    /// Echo Response (TS 29.281 §7.2.2).
    EchoResponse {
        /// The sequence number of the request it answers.
        sequence_number: u16,
        /// The Recovery IE's restart counter (sent as 0, ignored on receipt: TS 29.281 §8.2).
        recovery: u8,
    },
    /// End Marker (TS 29.281 §7.3.2): the last packet on a path before a switch.
    EndMarker {
        /// The tunnel it ends.
        teid: Teid,
        /// Its PDU Session Container, if it has one.
        pdu_session: Option<PduSessionInfo>,
    },
    /// Error Indication (TS 29.281 §7.3.1): the peer has no context for a TEID we sent to.
    ErrorIndication(ErrorIndication),
    /// G-PDU: a user packet.
    GPdu {
        /// The receiving tunnel endpoint.
        teid: Teid,
        /// The PDU Session Container (QFI), if it has one.
        pdu_session: Option<PduSessionInfo>,
        /// The T-PDU: one user IP packet.
        payload: &'a [u8],
    },
    /// Any other message type (Supported Extension Headers Notification, Tunnel Status, …),
    /// with its header; its IEs are not read.
    Other(GtpuHeader),
}

/// The contents of an Error Indication (TS 29.281 §7.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorIndication {
    /// Tunnel Endpoint Identifier Data I: the TEID the rejected G-PDU was sent to.
    pub teid_data: Teid,
    /// GTP-U Peer Address: the address the rejected G-PDU was sent to (the sender of the
    /// indication).
    pub peer_address: IpAddr,
    /// The UDP Port extension header: the source port of the rejected G-PDU, if present.
    pub udp_port: Option<u16>,
}

impl<'a> GtpuMessage<'a> {
    /// Parses the GTP-U message that fills `datagram` (a UDP payload).
    ///
    /// # Errors
    /// Those of [`GtpuHeader::parse`]; [`Error::MissingSequenceNumber`] for an Echo or Error
    /// Indication without S=1; [`Error::InformationElement`] for malformed, unknown TV, repeated
    /// or missing mandatory IEs.
    pub fn parse(datagram: &'a [u8]) -> Result<Self, Error> {
        let header = GtpuHeader::parse(datagram)?;
        // `GtpuHeader::parse` guarantees the range lies within the datagram.
        let payload = datagram.get(header.payload.clone()).unwrap_or_default();
        let message = match header.message_type {
            MessageType::G_PDU => Self::GPdu {
                teid: header.teid,
                pdu_session: header.pdu_session,
                payload,
            },
            MessageType::ECHO_REQUEST => Self::EchoRequest {
                sequence_number: header.sequence_number.ok_or(Error::MissingSequenceNumber)?,
            },
            MessageType::ECHO_RESPONSE => Self::EchoResponse {
                sequence_number: header.sequence_number.ok_or(Error::MissingSequenceNumber)?,
                recovery: parse_recovery(payload)?,
            },
            MessageType::ERROR_INDICATION => {
                header.sequence_number.ok_or(Error::MissingSequenceNumber)?;
                Self::ErrorIndication(ErrorIndication::parse_ies(payload, header.udp_port)?)
            }
            MessageType::END_MARKER => Self::EndMarker {
                teid: header.teid,
                pdu_session: header.pdu_session,
            },
            _ => Self::Other(header),
        };
        Ok(message)
    }
}

impl ErrorIndication {
    /// Reads the IEs of an Error Indication; `udp_port` comes from the extension header.
    fn parse_ies(ies: &[u8], udp_port: Option<u16>) -> Result<Self, Error> {
        let mut teid_data = None;
        let mut peer_address = None;
        for_each_ie(ies, |kind, value| match kind {
            ie::TEID_DATA_I => {
                let &bytes = value.first_chunk::<4>().ok_or(Error::InformationElement)?;
                set_once(&mut teid_data, Teid(u32::from_be_bytes(bytes)))
            }
            ie::PEER_ADDRESS => set_once(&mut peer_address, parse_address(value)?),
            _ => Ok(()),
        })?;
        match (teid_data, peer_address) {
            (Some(teid_data), Some(peer_address)) => Ok(Self {
                teid_data,
                peer_address,
                udp_port,
            }),
            _ => Err(Error::InformationElement),
        }
    }
}

/// The Recovery IE of an Echo Response (mandatory, TS 29.281 §7.2.2).
fn parse_recovery(ies: &[u8]) -> Result<u8, Error> {
    let mut recovery = None;
    for_each_ie(ies, |kind, value| match (kind, value) {
        (ie::RECOVERY, &[counter]) => set_once(&mut recovery, counter),
        _ => Ok(()),
    })?;
    recovery.ok_or(Error::InformationElement)
}

/// Calls `f` with the type and value of each IE in `ies`. TV types (below 128) have the fixed
/// lengths of TS 29.281 §8.1; one we do not know cannot be skipped and is an error. TLV types
/// carry a two-octet length (TS 29.281 §8.1, Private Extension included) and are skippable.
fn for_each_ie(ies: &[u8], mut f: impl FnMut(u8, &[u8]) -> Result<(), Error>) -> Result<(), Error> {
    let mut rest = ies;
    // Each IE takes at least two octets, so the loop ends within `ies.len() / 2` turns.
    while let Some((&kind, after_type)) = rest.split_first() {
        let (value, next) = if kind >= ie::FIRST_TLV {
            let (&[l0, l1], body) = after_type
                .split_first_chunk::<2>()
                .ok_or(Error::InformationElement)?;
            split(body, usize::from(u16::from_be_bytes([l0, l1])))?
        } else {
            let len = match kind {
                ie::RECOVERY => 1,
                ie::TEID_DATA_I => 4,
                _ => return Err(Error::InformationElement),
            };
            split(after_type, len)?
        };
        f(kind, value)?;
        rest = next;
    }
    Ok(())
}

fn split(bytes: &[u8], len: usize) -> Result<(&[u8], &[u8]), Error> {
    bytes.split_at_checked(len).ok_or(Error::InformationElement)
}

fn set_once<T>(slot: &mut Option<T>, value: T) -> Result<(), Error> {
    if slot.replace(value).is_some() {
        return Err(Error::InformationElement);
    }
    Ok(())
}

fn parse_address(value: &[u8]) -> Result<IpAddr, Error> {
    if let Ok(v4) = <[u8; 4]>::try_from(value) {
        return Ok(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    let v6 = <[u8; 16]>::try_from(value).map_err(|_| Error::InformationElement)?;
    Ok(IpAddr::V6(Ipv6Addr::from(v6)))
}
