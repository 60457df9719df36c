//! Byte vectors written by hand from TS 29.281 §5.1 (header), §5.2 (extension headers), §7
//! (messages), §8 (IEs) and TS 38.415 §5.5.2 (PDU Session Container); each test says which.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::{Error, Qfi, Teid};

fn qfi(v: u8) -> Qfi {
    Qfi::new(v).expect("valid QFI")
}

/// A UL G-PDU as TS 29.281 §5.1 and TS 38.415 §5.5.2.2 lay it out: flags 0x34 (version 1,
/// PT=1, E=1), type 0xFF, length 8 + 4 (optional fields and container, then the payload),
/// TEID 0x00000001, sequence 0, N-PDU 0, next type 0x85; container length 1, PDU type 1 (0x10),
/// QFI 9, next type 0; then a 4-octet stand-in payload starting with an IPv4 nibble.
const UL_GPDU: [u8; 20] = [
    0x34, 0xFF, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x01, //
    0x00, 0x00, 0x00, 0x85, //
    0x01, 0x10, 0x09, 0x00, //
    0x45, 0x00, 0x00, 0x00,
];

/// A DL G-PDU (TS 38.415 §5.5.2.1): PDU type 0, octet 2 = RQI (0x40) | QFI 5; TEID 0x12345678.
const DL_GPDU: [u8; 18] = [
    0x34, 0xFF, 0x00, 0x0A, 0x12, 0x34, 0x56, 0x78, //
    0x00, 0x00, 0x00, 0x85, //
    0x01, 0x00, 0x45, 0x00, //
    0x60, 0x00,
];

/// Echo Request (TS 29.281 §7.2.1): flags 0x32 (S=1), type 1, length 4, TEID 0, sequence 0x1234.
const ECHO_REQUEST: [u8; 12] = [
    0x32, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x00,
];

/// Echo Response (TS 29.281 §7.2.2): as the request, type 2, length 6, Recovery IE (14) = 0.
const ECHO_RESPONSE: [u8; 14] = [
    0x32, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x00, 0x0E, 0x00,
];

/// Error Indication (TS 29.281 §7.3.1): flags 0x32, type 26, TEID 0, sequence 7; TEID Data I
/// (16) = 0xDEADBEEF; GTP-U Peer Address (133), length 4, 192.0.2.1.
const ERROR_INDICATION_V4: [u8; 24] = [
    0x32, 0x1A, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, //
    0x10, 0xDE, 0xAD, 0xBE, 0xEF, //
    0x85, 0x00, 0x04, 0xC0, 0x00, 0x02, 0x01,
];

/// End Marker (TS 29.281 §7.3.2): flags 0x30, type 254, length 0, TEID 0x00000042.
const END_MARKER: [u8; 8] = [0x30, 0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x42];

#[test]
fn uplink_gpdu_gives_teid_qfi_and_payload() {
    let header = GtpuHeader::parse(&UL_GPDU).expect("valid");
    assert_eq!(header.message_type, MessageType::G_PDU);
    assert_eq!(header.teid, Teid(1));
    assert_eq!(header.sequence_number, None, "S=0");
    assert_eq!(header.n_pdu_number, None, "PN=0");
    assert_eq!(header.pdu_session, Some(PduSessionInfo::uplink(qfi(9))));
    assert_eq!(header.payload, 16..20);
    let GtpuMessage::GPdu { payload, .. } = GtpuMessage::parse(&UL_GPDU).expect("valid") else {
        panic!("not a G-PDU");
    };
    assert_eq!(payload, &[0x45, 0x00, 0x00, 0x00]);
}

#[test]
fn downlink_gpdu_gives_rqi() {
    let header = GtpuHeader::parse(&DL_GPDU).expect("valid");
    assert_eq!(header.teid, Teid(0x1234_5678));
    assert_eq!(
        header.pdu_session,
        Some(PduSessionInfo::downlink(qfi(5), true))
    );
    assert_eq!(header.payload, 16..18);
}

#[test]
fn written_gpdu_headers_match_the_hand_vectors() {
    let mut buf = [0u8; 32];
    let ul = PduSessionInfo::uplink(qfi(9));
    assert_eq!(
        write_gpdu_header(&mut buf, Teid(1), Some(ul), 4),
        Ok(GPDU_HEADER_LEN)
    );
    assert_eq!(buf[..16], UL_GPDU[..16]);
    let dl = PduSessionInfo::downlink(qfi(5), true);
    assert_eq!(
        write_gpdu_header(&mut buf, Teid(0x1234_5678), Some(dl), 2),
        Ok(16)
    );
    assert_eq!(buf[..16], DL_GPDU[..16]);
}

#[test]
fn gpdu_round_trips_with_and_without_container() {
    let ppi = PduSessionInfo::Downlink(DlPduSessionInfo {
        qfi: qfi(63),
        rqi: false,
        ppi: Ppi::new(3),
    });
    for session in [None, Some(PduSessionInfo::uplink(qfi(0))), Some(ppi)] {
        let mut buf = [0u8; 64];
        let payload = [0x60, 1, 2, 3, 4, 5];
        let len =
            write_gpdu_header(&mut buf, Teid(0xFFFF_FFFF), session, payload.len()).expect("fits");
        buf[len..len + payload.len()].copy_from_slice(&payload);
        let datagram = &buf[..len + payload.len()];
        let header = GtpuHeader::parse(datagram).expect("parses");
        assert_eq!(header.pdu_session, session);
        assert_eq!(header.teid, Teid(0xFFFF_FFFF));
        assert_eq!(&datagram[header.payload], &payload);
    }
}

#[test]
fn echo_request_and_response_match_the_hand_vectors() {
    let mut buf = [0u8; 16];
    assert_eq!(write_echo_request(&mut buf, 0x1234), Ok(12));
    assert_eq!(buf[..12], ECHO_REQUEST);
    assert_eq!(
        GtpuMessage::parse(&ECHO_REQUEST),
        Ok(GtpuMessage::EchoRequest {
            sequence_number: 0x1234
        })
    );
    assert_eq!(write_echo_response(&mut buf, 0x1234), Ok(14));
    assert_eq!(buf[..14], ECHO_RESPONSE);
    assert_eq!(
        GtpuMessage::parse(&ECHO_RESPONSE),
        Ok(GtpuMessage::EchoResponse {
            sequence_number: 0x1234,
            recovery: 0
        })
    );
}

#[test]
fn error_indication_matches_the_hand_vector_and_round_trips_ipv6() {
    let v4 = ErrorIndication {
        teid_data: Teid(0xDEAD_BEEF),
        peer_address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        udp_port: None,
    };
    let mut buf = [0u8; 64];
    assert_eq!(write_error_indication(&mut buf, 7, &v4), Ok(24));
    assert_eq!(buf[..24], ERROR_INDICATION_V4);
    assert_eq!(
        GtpuMessage::parse(&ERROR_INDICATION_V4),
        Ok(GtpuMessage::ErrorIndication(v4))
    );
    let v6 = ErrorIndication {
        teid_data: Teid(1),
        peer_address: IpAddr::V6(Ipv6Addr::new(0x2001, 0xDB8, 0, 0, 0, 0, 0, 1)),
        udp_port: Some(2152),
    };
    let len = write_error_indication(&mut buf, 9, &v6).expect("fits");
    // 12 header octets, UDP Port extension header 4, TEID Data I 5, Peer Address 3 + 16.
    assert_eq!(len, 40);
    assert_eq!(buf[3], 32, "length");
    assert_eq!(buf[11], 0x40, "next type: UDP Port");
    assert_eq!(
        GtpuMessage::parse(&buf[..len]),
        Ok(GtpuMessage::ErrorIndication(v6))
    );
}

#[test]
fn end_marker_matches_the_hand_vector() {
    let mut buf = [0u8; 16];
    assert_eq!(write_end_marker(&mut buf, Teid(0x42), None), Ok(8));
    assert_eq!(buf[..8], END_MARKER);
    assert_eq!(
        GtpuMessage::parse(&END_MARKER),
        Ok(GtpuMessage::EndMarker {
            teid: Teid(0x42),
            pdu_session: None
        })
    );
    let dl = Some(PduSessionInfo::downlink(qfi(1), false));
    let len = write_end_marker(&mut buf, Teid(0x42), dl).expect("fits");
    assert_eq!(
        GtpuMessage::parse(&buf[..len]),
        Ok(GtpuMessage::EndMarker {
            teid: Teid(0x42),
            pdu_session: dl
        })
    );
}

#[test]
fn short_datagrams_and_bad_versions_are_rejected() {
    assert_eq!(GtpuHeader::parse(&UL_GPDU[..7]), Err(Error::Truncated));
    let mut gtp_prime = END_MARKER;
    gtp_prime[0] = 0x20; // PT=0
    assert_eq!(GtpuHeader::parse(&gtp_prime), Err(Error::Version));
    let mut v2 = END_MARKER;
    v2[0] = 0x50; // version 2
    assert_eq!(GtpuHeader::parse(&v2), Err(Error::Version));
}

#[test]
fn length_must_match_the_datagram() {
    assert_eq!(GtpuHeader::parse(&UL_GPDU[..19]), Err(Error::Length));
    let mut longer = [0u8; 21];
    longer[..20].copy_from_slice(&UL_GPDU);
    assert_eq!(GtpuHeader::parse(&longer), Err(Error::Length));
    // Flags announce the 4 optional octets, but Length leaves room for none.
    let no_room = [0x32, 0x01, 0x00, 0x00, 0, 0, 0, 0];
    assert_eq!(GtpuHeader::parse(&no_room), Err(Error::Length));
}

#[test]
fn extension_header_length_zero_or_overrunning_is_rejected() {
    let mut zero = UL_GPDU;
    zero[12] = 0;
    assert_eq!(GtpuHeader::parse(&zero), Err(Error::ExtensionHeaderLength));
    let mut overrun = UL_GPDU;
    overrun[12] = 3; // 12 octets from offset 12: past the 20-octet datagram
    assert_eq!(
        GtpuHeader::parse(&overrun),
        Err(Error::ExtensionHeaderLength)
    );
    // E=1 with next type 0x85 but the datagram ends after the optional fields.
    let ends = [0x34, 0xFF, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 0x85];
    assert_eq!(GtpuHeader::parse(&ends), Err(Error::ExtensionHeaderLength));
}

/// A G-PDU with `count` skippable extension headers of type 0x01 (bits 8..7 = 00: comprehension
/// not required, TS 29.281 §5.2.1) before the payload.
fn with_skippable_headers(count: usize, buf: &mut [u8; 64]) -> usize {
    let len = 12 + 4 * count + 1;
    buf[..12].copy_from_slice(&[0x34, 0xFF, 0, (len - 8) as u8, 0, 0, 0, 1, 0, 0, 0, 0x01]);
    for i in 0..count {
        let next = if i + 1 == count { 0x00 } else { 0x01 };
        buf[12 + 4 * i..16 + 4 * i].copy_from_slice(&[0x01, 0xAA, 0xBB, next]);
    }
    buf[len - 1] = 0x45;
    len
}

#[test]
fn unknown_skippable_headers_are_skipped_up_to_the_bound() {
    let mut buf = [0u8; 64];
    let len = with_skippable_headers(MAX_EXTENSION_HEADERS, &mut buf);
    let header = GtpuHeader::parse(&buf[..len]).expect("within the bound");
    assert_eq!(header.payload, len - 1..len);
    assert_eq!(header.pdu_session, None);
    let len = with_skippable_headers(MAX_EXTENSION_HEADERS + 1, &mut buf);
    assert_eq!(
        GtpuHeader::parse(&buf[..len]),
        Err(Error::TooManyExtensionHeaders)
    );
}

#[test]
fn unknown_headers_the_endpoint_must_comprehend_drop_the_packet() {
    // 0x84 NR RAN Container (bits 8..7 = 10) and 0xC0 PDCP PDU Number (11): TS 29.281 §5.2.1.
    for kind in [0x84, 0xC0] {
        let mut packet = UL_GPDU;
        packet[11] = kind;
        assert_eq!(
            GtpuHeader::parse(&packet),
            Err(Error::UnsupportedExtensionHeader(kind))
        );
    }
    // 0x40 with bits 8..7 = 01 is the UDP Port, which we read; 0x41 is unknown and skippable.
    let mut packet = UL_GPDU;
    packet[11] = 0x41;
    assert_eq!(GtpuHeader::parse(&packet).map(|h| h.pdu_session), Ok(None));
}

#[test]
fn a_second_pdu_session_container_is_rejected() {
    let packet = [
        0x34, 0xFF, 0x00, 0x0C, 0, 0, 0, 1, 0, 0, 0, 0x85, //
        0x01, 0x10, 0x01, 0x85, //
        0x01, 0x10, 0x02, 0x00,
    ];
    assert_eq!(GtpuHeader::parse(&packet), Err(Error::PduSessionContainer));
}

#[test]
fn next_type_is_ignored_without_the_e_flag() {
    // S=1 only; the next-type octet says 0x85 but E=0 (TS 29.281 §5.1): no chain to walk.
    let packet = [0x32, 0xFF, 0x00, 0x05, 0, 0, 0, 1, 0, 9, 0, 0x85, 0x45];
    let header = GtpuHeader::parse(&packet).expect("valid");
    assert_eq!(header.sequence_number, Some(9));
    assert_eq!(header.payload, 12..13);
}

#[test]
fn echo_and_error_indication_need_a_sequence_number() {
    let request = [0x30, 0x01, 0x00, 0x00, 0, 0, 0, 0];
    assert_eq!(
        GtpuMessage::parse(&request),
        Err(Error::MissingSequenceNumber)
    );
    let mut indication = ERROR_INDICATION_V4;
    indication[0] = 0x31; // PN instead of S
    assert_eq!(
        GtpuMessage::parse(&indication),
        Err(Error::MissingSequenceNumber)
    );
}

#[test]
fn malformed_information_elements_are_rejected() {
    // Echo Response without its Recovery IE.
    let mut no_recovery = ECHO_RESPONSE;
    no_recovery[3] = 4;
    assert_eq!(
        GtpuMessage::parse(&no_recovery[..12]),
        Err(Error::InformationElement)
    );
    // An unknown TV type (15) cannot be skipped.
    let mut unknown_tv = ECHO_RESPONSE;
    unknown_tv[12] = 15;
    assert_eq!(
        GtpuMessage::parse(&unknown_tv),
        Err(Error::InformationElement)
    );
    // Peer Address of 5 octets; TLV length past the end; missing Peer Address; a repeat.
    let cases: [&[u8]; 4] = [
        &[0x10, 0, 0, 0, 1, 0x85, 0, 5, 1, 2, 3, 4, 5],
        &[0x10, 0, 0, 0, 1, 0x85, 0, 16, 1, 2, 3, 4],
        &[0x10, 0, 0, 0, 1],
        &[0x10, 0, 0, 0, 1, 0x10, 0, 0, 0, 2, 0x85, 0, 4, 1, 2, 3, 4],
    ];
    for ies in cases {
        let mut buf = [0u8; 64];
        buf[..12].copy_from_slice(&ERROR_INDICATION_V4[..12]);
        buf[3] = (4 + ies.len()) as u8;
        buf[12..12 + ies.len()].copy_from_slice(ies);
        assert_eq!(
            GtpuMessage::parse(&buf[..12 + ies.len()]),
            Err(Error::InformationElement),
            "{ies:02x?}"
        );
    }
}

#[test]
fn private_extension_is_skipped() {
    // Echo Response with Recovery then a Private Extension (255, TLV, 3 octets).
    let packet = [
        0x32, 0x02, 0x00, 0x0C, 0, 0, 0, 0, 0, 1, 0, 0, 0x0E, 0x00, 0xFF, 0x00, 0x03, 0x00, 0x01,
        0x02,
    ];
    assert_eq!(
        GtpuMessage::parse(&packet),
        Ok(GtpuMessage::EchoResponse {
            sequence_number: 1,
            recovery: 0
        })
    );
}

#[test]
fn other_message_types_keep_their_header() {
    let mut packet = END_MARKER;
    packet[1] = 31; // Supported Extension Headers Notification
    let Ok(GtpuMessage::Other(header)) = GtpuMessage::parse(&packet) else {
        panic!("not Other");
    };
    assert_eq!(
        header.message_type,
        MessageType::SUPPORTED_EXTENSION_HEADERS_NOTIFICATION
    );
}

#[test]
fn writers_report_short_buffers_and_long_payloads() {
    let session = Some(PduSessionInfo::uplink(qfi(1)));
    let mut short = [0u8; 15];
    assert_eq!(
        write_gpdu_header(&mut short, Teid(1), session, 0),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(
        write_echo_request(&mut short[..11], 0),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(
        write_echo_response(&mut short[..13], 0),
        Err(Error::BufferTooSmall)
    );
    let mut buf = [0u8; 16];
    // Length counts the 8 optional/container octets plus the payload: 0xFFFF - 8 still fits.
    assert_eq!(
        write_gpdu_header(&mut buf, Teid(1), session, 0xFFFF - 8),
        Ok(16)
    );
    assert_eq!(
        write_gpdu_header(&mut buf, Teid(1), session, 0xFFFF - 7),
        Err(Error::PayloadTooLong)
    );
    assert_eq!(write_gpdu_header(&mut buf, Teid(1), None, 0xFFFF), Ok(8));
}
