//! Round-trip checks for the userplane crate's GTP-U and GRE codecs: whatever they accept must
//! write and parse back to the same values. The written octets may differ from the input (spare
//! bits, skipped extension headers, options GRE drops); the values may not.

use userplane::{
    GreChecksum, GreHeader, GreProtocolType, GtpuHeader, GtpuMessage, write_echo_request,
    write_echo_response, write_end_marker, write_error_indication, write_gpdu_header,
    write_gre_header,
};

/// A UDP payload on port 2152: parse as GTP-U; if accepted, write the same message and parse it
/// again.
pub fn gtpu_round_trip(datagram: &[u8]) {
    let Ok(header) = GtpuHeader::parse(datagram) else {
        return;
    };
    assert!(header.payload.start <= header.payload.end && header.payload.end == datagram.len());
    let Ok(message) = GtpuMessage::parse(datagram) else {
        return;
    };
    let mut buf = vec![0u8; 64 + datagram.len()];
    let len = match &message {
        GtpuMessage::GPdu {
            teid,
            pdu_session,
            payload,
        } => {
            let n = write_gpdu_header(&mut buf, *teid, *pdu_session, payload.len())
                .expect("a parsed payload fits a header");
            buf[n..n + payload.len()].copy_from_slice(payload);
            n + payload.len()
        }
        GtpuMessage::EchoRequest { sequence_number } => {
            write_echo_request(&mut buf, *sequence_number).expect("fits")
        }
        GtpuMessage::EchoResponse {
            sequence_number, ..
        } => {
            let n = write_echo_response(&mut buf, *sequence_number).expect("fits");
            let again = GtpuMessage::parse(&buf[..n]);
            let expected = GtpuMessage::EchoResponse {
                sequence_number: *sequence_number,
                recovery: 0,
            };
            assert_eq!(again, Ok(expected), "echo response changed");
            return;
        }
        GtpuMessage::ErrorIndication(indication) => {
            write_error_indication(&mut buf, 0, indication).expect("fits")
        }
        GtpuMessage::EndMarker { teid, pdu_session } => {
            write_end_marker(&mut buf, *teid, *pdu_session).expect("fits")
        }
        _ => return,
    };
    assert_eq!(
        GtpuMessage::parse(&buf[..len]).as_ref(),
        Ok(&message),
        "write then parse changed it"
    );
}

/// A GRE packet from inside an NWu Child SA: parse it; if accepted with a key, write the NWu
/// header with that key and parse again.
pub fn gre_round_trip(packet: &[u8]) {
    let verified = GreHeader::parse(packet, GreChecksum::Verify);
    let Ok(header) = GreHeader::parse(packet, GreChecksum::Skip) else {
        assert!(
            verified.is_err(),
            "verifying accepted what skipping refused"
        );
        return;
    };
    let payload = &packet[header.payload.clone()];
    let Some(key) = header.key else {
        return;
    };
    for protocol in [GreProtocolType::InnerEtherType, GreProtocolType::Zero] {
        let mut buf = vec![0u8; 8 + payload.len()];
        let n = write_gre_header(&mut buf, key, header.inner_version, protocol).expect("fits");
        buf[n..].copy_from_slice(payload);
        let again = GreHeader::parse(&buf, GreChecksum::Verify).expect("written GRE parses");
        assert_eq!(again.key, Some(key));
        assert_eq!(again.inner_version, header.inner_version);
        assert_eq!(&buf[again.payload], payload);
    }
}
