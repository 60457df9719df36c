//! The 5GSM codec against messages written by hand from the layouts of TS 24.501 §8.3 and
//! §9.11.4, round trips, and the refusals of malformed input.

#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use fiveg_emu::nas::sm::{
    Dnn, IntegrityProtectionMaxDataRate, PduAddress, PduSessionEstablishmentRequest,
    PduSessionType, Pti, QosRule, RequestType, SmCause, SmCauseMessage, SmMessage, SmOptionalCause,
    SmPdu, SscMode,
};
use fiveg_emu::nas::{DecodeError, GmmMessage, NasTransport, SNssai};
use n3iwf::ids::{PduSessionId, Qfi};

/// EPD 0x2E, PDU session ID 1, PTI 1, type 0xC1; integrity protection maximum data rate full
/// both ways (0xFF 0xFF); PDU session type IPv4 (IEI 9, value 1); SSC mode 1 (IEI A, value 1).
const REQUEST: &[u8] = &[0x2E, 0x01, 0x01, 0xC1, 0xFF, 0xFF, 0x91, 0xA1];

/// ACCEPT, PDU session 1, PTI 1: SSC mode 1 and IPv4 in one octet (0x11); QoS rules (LV-E,
/// 9): rule 1, length 6, create + DQR + 1 filter (0x31), filter both directions id 1 (0x31)
/// with match-all (length 1, 0x01), precedence 255, QFI 1; session AMBR (LV, 6): 1000 Mbps
/// down, 500 Mbps up (unit 6); PDU address (0x29) IPv4 10.60.0.1; S-NSSAI (0x22) SST 1;
/// QoS flow descriptions (0x79, TLV-E) QFI 1 create, E=1 one parameter, 5QI 9; DNN (0x25)
/// "internet".
const ACCEPT: &[u8] = &[
    0x2E, 0x01, 0x01, 0xC2, 0x11, 0x00, 0x09, 0x01, 0x00, 0x06, 0x31, 0x31, 0x01, 0x01, 0xFF, 0x01,
    0x06, 0x06, 0x03, 0xE8, 0x06, 0x01, 0xF4, 0x29, 0x05, 0x01, 0x0A, 0x3C, 0x00, 0x01, 0x22, 0x01,
    0x01, 0x79, 0x00, 0x06, 0x01, 0x20, 0x41, 0x01, 0x01, 0x09, 0x25, 0x09, 0x08, b'i', b'n', b't',
    b'e', b'r', b'n', b'e', b't',
];

#[test]
fn establishment_request_matches_the_layout() {
    let pdu = SmPdu::decode(REQUEST).unwrap();
    assert_eq!(pdu.pdu_session_id, PduSessionId(1));
    assert_eq!(pdu.pti, Pti(1));
    let SmMessage::PduSessionEstablishmentRequest(request) = &pdu.message else {
        panic!("{pdu:?}");
    };
    assert_eq!(request.pdu_session_type, Some(PduSessionType::IPV4));
    assert_eq!(request.ssc_mode, Some(SscMode::MODE_1));
    assert_eq!(request.integrity_max_rate.uplink, 0xFF);
    let built = SmPdu {
        pdu_session_id: PduSessionId(1),
        pti: Pti(1),
        message: SmMessage::PduSessionEstablishmentRequest(PduSessionEstablishmentRequest {
            integrity_max_rate: IntegrityProtectionMaxDataRate {
                uplink: IntegrityProtectionMaxDataRate::FULL,
                downlink: IntegrityProtectionMaxDataRate::FULL,
            },
            pdu_session_type: Some(PduSessionType::IPV4),
            ssc_mode: Some(SscMode::MODE_1),
            other_ies: Vec::new(),
        }),
    };
    assert_eq!(built.encode().unwrap(), REQUEST);
}

#[test]
fn establishment_accept_matches_the_layout() {
    let pdu = SmPdu::decode(ACCEPT).unwrap();
    let SmMessage::PduSessionEstablishmentAccept(accept) = &pdu.message else {
        panic!("{pdu:?}");
    };
    assert_eq!(accept.pdu_session_type, PduSessionType::IPV4);
    assert_eq!(accept.ssc_mode, SscMode::MODE_1);
    assert_eq!(
        accept.qos_rules,
        [QosRule::default_rule(1, Qfi::new(1).unwrap())]
    );
    assert_eq!(
        accept.session_ambr.downlink.bits_per_second(),
        Some(1_000_000_000)
    );
    assert_eq!(
        accept.pdu_address,
        Some(PduAddress::Ipv4(Ipv4Addr::new(10, 60, 0, 1)))
    );
    assert_eq!(accept.snssai, Some(SNssai::new(1, None)));
    assert_eq!(accept.qos_flow_descriptions[0].five_qi(), Some(9));
    assert_eq!(accept.dnn, Dnn::new("internet"));
    assert!(accept.other_ies.is_empty());
    assert_eq!(pdu.encode().unwrap(), ACCEPT);
}

#[test]
fn reject_and_release_messages_match_their_layouts() {
    let cases: [(&[u8], SmMessage); 4] = [
        (
            &[0x2E, 0x05, 0x02, 0xC3, 0x1A],
            SmMessage::PduSessionEstablishmentReject(SmCauseMessage::new(
                SmCause::INSUFFICIENT_RESOURCES,
            )),
        ),
        (
            &[0x2E, 0x05, 0x02, 0xD1, 0x59, 0x24],
            SmMessage::PduSessionReleaseRequest(SmOptionalCause {
                cause: Some(SmCause::REGULAR_DEACTIVATION),
                other_ies: Vec::new(),
            }),
        ),
        (
            &[0x2E, 0x05, 0x02, 0xD3, 0x24],
            SmMessage::PduSessionReleaseCommand(SmCauseMessage::new(SmCause::REGULAR_DEACTIVATION)),
        ),
        (
            &[0x2E, 0x05, 0x02, 0xD4],
            SmMessage::PduSessionReleaseComplete(SmOptionalCause::default()),
        ),
    ];
    for (octets, message) in cases {
        let pdu = SmPdu {
            pdu_session_id: PduSessionId(5),
            pti: Pti(2),
            message,
        };
        assert_eq!(pdu.encode().unwrap(), octets);
        assert_eq!(SmPdu::decode(octets).unwrap(), pdu);
    }
}

/// UL NAS TRANSPORT (0x67): payload container type N1 SM (1), the container (LV-E) with the
/// REQUEST, PDU session ID (0x12) 1, request type initial (0x81), S-NSSAI (0x22) SST 1, DNN
/// (0x25) "internet".
#[test]
fn ul_nas_transport_carries_the_session_ies() {
    let mut octets = vec![0x7E, 0x00, 0x67, 0x01, 0x00, 0x08];
    octets.extend_from_slice(REQUEST);
    octets.extend_from_slice(&[0x12, 0x01, 0x81, 0x22, 0x01, 0x01, 0x25, 0x09, 0x08]);
    octets.extend_from_slice(b"internet");
    let GmmMessage::UlNasTransport(transport) = GmmMessage::decode(&octets).unwrap() else {
        panic!("not UL NAS TRANSPORT");
    };
    assert_eq!(transport.pdu_session_id, Some(1));
    assert_eq!(transport.request_type, Some(RequestType::INITIAL_REQUEST));
    assert_eq!(transport.snssai, Some(SNssai::new(1, None)));
    assert_eq!(transport.dnn, Dnn::new("internet"));
    assert!(transport.other_ies.is_empty());
    let mut built = NasTransport::n1_sm(PduSessionId(1), REQUEST.to_vec());
    built.request_type = Some(RequestType::INITIAL_REQUEST);
    built.snssai = Some(SNssai::new(1, None));
    built.dnn = Dnn::new("internet");
    assert_eq!(GmmMessage::UlNasTransport(built).encode().unwrap(), octets);
}

#[test]
fn every_truncation_of_the_accept_is_refused() {
    // The optional part may end after any whole IE; cuts inside the mandatory part or inside
    // an IE are errors.
    let ie_ends = [23, 30, 33, 42, ACCEPT.len()];
    for cut in 0..ACCEPT.len() {
        let result = SmPdu::decode(&ACCEPT[..cut]);
        assert_eq!(result.is_ok(), ie_ends.contains(&cut), "cut at {cut}");
    }
}

#[test]
fn malformed_messages_are_refused_with_a_reason() {
    assert_eq!(
        SmPdu::decode(&[0x7E, 0x01, 0x01, 0xC1, 0xFF, 0xFF]),
        Err(DecodeError::NotSessionManagement(0x7E))
    );
    assert_eq!(
        SmPdu::decode(&[0x2E, 0x01, 0x01, 0xC9]),
        Err(DecodeError::UnsupportedMessageType(0xC9))
    );
    assert_eq!(
        SmPdu::decode(&[0x2E, 0x01, 0x01, 0xD1, 0x59]),
        Err(DecodeError::Truncated("TV IE"))
    );
    // An ACCEPT whose PDU address has the wrong length for IPv4.
    let mut bad = ACCEPT.to_vec();
    bad[24] = 0x04;
    bad.remove(29);
    assert!(SmPdu::decode(&bad).is_err());
    // An ACCEPT with an empty QoS rules list.
    let empty_rules = [
        0x2E, 0x01, 0x01, 0xC2, 0x11, 0x00, 0x00, 0x06, 6, 0, 1, 6, 0, 1,
    ];
    assert_eq!(
        SmPdu::decode(&empty_rules),
        Err(DecodeError::Invalid("no authorized QoS rule"))
    );
    assert_eq!(
        SmPdu::decode(&vec![0x2E; SmPdu::MAX_LEN + 1]),
        Err(DecodeError::Invalid("5GSM message length"))
    );
}
