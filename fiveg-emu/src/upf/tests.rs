//! The UPF core on a virtual clock: every path of `handle_n3`, `handle_n6` and `poll_echo`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use userplane::{
    GtpuHeader, GtpuMessage, LocalTeid, PduSessionInfo, Qfi, Teid, internet_checksum,
    write_echo_request, write_echo_response, write_end_marker, write_gpdu_header,
};

use super::*;

const UE: Ipv4Addr = Ipv4Addr::new(10, 60, 0, 1);
const DN: Ipv4Addr = Ipv4Addr::new(10, 60, 0, 254);

fn gnb() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], 40000))
}

fn rule(ul: u32, ue: Ipv4Addr) -> SessionRule {
    SessionRule {
        ul_teid: LocalTeid::new(ul).unwrap(),
        ue_address: IpAddr::V4(ue),
        peer: gnb(),
        dl_teid: Teid(0x2000 + ul),
        qfi: Qfi::new(5).unwrap(),
        rqi: true,
    }
}

fn upf(now: Instant) -> Upf {
    let mut upf = Upf::new(UpfConfig {
        n3_address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        max_rules: 2,
        echo_interval: Duration::from_secs(10),
        error_indications_per_second: 2,
        error_indication_to_source_port: false,
    });
    upf.add_rule(now, rule(1, UE)).unwrap();
    upf
}

fn ping(src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let mut p = vec![
        0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
        8, 0, 0, 0, 0x12, 0x34, 0, 1,
    ];
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let c = internet_checksum(&p[20..]);
    p[22..24].copy_from_slice(&c.to_be_bytes());
    let c = internet_checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p
}

fn gpdu(teid: u32, session: Option<PduSessionInfo>, inner: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32 + inner.len()];
    let n = write_gpdu_header(&mut out, Teid(teid), session, inner.len()).unwrap();
    out.truncate(n);
    out.extend_from_slice(inner);
    out
}

fn ul_qfi(v: u8) -> Option<PduSessionInfo> {
    Some(PduSessionInfo::uplink(Qfi::new(v).unwrap()))
}

#[test]
fn uplink_gpdu_goes_to_n6_and_the_reflected_reply_comes_back_as_a_dl_gpdu() {
    let now = Instant::now();
    let mut upf = upf(now);
    let inner = ping(UE, DN);
    let datagram = gpdu(1, ul_qfi(9), &inner);
    let mut out = [0u8; 256];
    let N3Output::Uplink(range) = upf.handle_n3(now, gnb(), &datagram, &mut out) else {
        panic!("not forwarded");
    };
    assert_eq!(&datagram[range.clone()], &inner[..]);
    assert_eq!(upf.counters().ul_qfi(Qfi::new(9).unwrap()), 1);

    let mut reply = [0u8; 256];
    let n = reflect(&datagram[range], &mut reply).expect("echo reply");
    let (to, len) = upf
        .handle_n6(&reply[..n], &mut out)
        .expect("rule for the UE");
    assert_eq!(to, gnb());
    let header = GtpuHeader::parse(&out[..len]).unwrap();
    assert_eq!(header.teid, Teid(0x2001));
    assert_eq!(
        header.pdu_session,
        Some(PduSessionInfo::downlink(Qfi::new(5).unwrap(), true))
    );
    assert_eq!(&out[header.payload], &reply[..n]);
    assert_eq!(upf.counters().dl_qfi(Qfi::new(5).unwrap()), 1);
    assert_eq!(
        (upf.counters().ul_packets, upf.counters().dl_packets),
        (1, 1)
    );
}

#[test]
fn uplink_without_qfi_or_from_another_source_is_dropped() {
    let now = Instant::now();
    let mut upf = upf(now);
    let mut out = [0u8; 256];
    let no_qfi = gpdu(1, None, &ping(UE, DN));
    assert_eq!(upf.handle_n3(now, gnb(), &no_qfi, &mut out), N3Output::Done);
    let spoofed = gpdu(1, ul_qfi(1), &ping(Ipv4Addr::new(10, 60, 0, 9), DN));
    assert_eq!(
        upf.handle_n3(now, gnb(), &spoofed, &mut out),
        N3Output::Done
    );
    assert_eq!(upf.counters().missing_qfi, 1);
    assert_eq!(upf.counters().source_mismatch, 1);
    assert_eq!(upf.counters().ul_packets, 0);
}

#[test]
fn unknown_teid_gets_a_rate_limited_error_indication() {
    let now = Instant::now();
    let mut upf = upf(now);
    let mut out = [0u8; 256];
    let datagram = gpdu(0x99, ul_qfi(1), &ping(UE, DN));
    let N3Output::Reply { to, len } = upf.handle_n3(now, gnb(), &datagram, &mut out) else {
        panic!("no Error Indication");
    };
    assert_eq!(
        to,
        SocketAddr::new(gnb().ip(), 2152),
        "TS 29.281 §4.4.2.1: port 2152"
    );
    let Ok(GtpuMessage::ErrorIndication(ind)) = GtpuMessage::parse(&out[..len]) else {
        panic!("not an Error Indication");
    };
    assert_eq!(ind.teid_data, Teid(0x99));
    assert_eq!(ind.peer_address, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
    assert_eq!(ind.udp_port, Some(40000));
    // The bucket holds 2: the third in the same instant is suppressed, and a second later
    // two more are allowed.
    assert!(matches!(
        upf.handle_n3(now, gnb(), &datagram, &mut out),
        N3Output::Reply { .. }
    ));
    assert_eq!(
        upf.handle_n3(now, gnb(), &datagram, &mut out),
        N3Output::Done
    );
    let later = now + Duration::from_secs(1);
    assert!(matches!(
        upf.handle_n3(later, gnb(), &datagram, &mut out),
        N3Output::Reply { .. }
    ));
    let c = upf.counters();
    assert_eq!(
        (
            c.unknown_teid,
            c.error_indications_sent,
            c.error_indications_suppressed
        ),
        (4, 3, 1)
    );
    // TEID 0 never matches a rule.
    let zero = gpdu(0, ul_qfi(1), &ping(UE, DN));
    upf.handle_n3(later, gnb(), &zero, &mut out);
    assert_eq!(upf.counters().unknown_teid, 5);
}

#[test]
fn echo_request_is_answered_with_the_same_sequence_number() {
    let now = Instant::now();
    let mut upf = upf(now);
    let mut req = [0u8; 16];
    let n = write_echo_request(&mut req, 0xBEEF).unwrap();
    let mut out = [0u8; 64];
    let peer = SocketAddr::from(([192, 0, 2, 7], 2152));
    let N3Output::Reply { to, len } = upf.handle_n3(now, peer, &req[..n], &mut out) else {
        panic!("no Echo Response");
    };
    assert_eq!(to, peer);
    assert_eq!(
        GtpuMessage::parse(&out[..len]),
        Ok(GtpuMessage::EchoResponse {
            sequence_number: 0xBEEF,
            recovery: 0
        })
    );
}

#[test]
fn echo_requests_go_to_peers_on_the_period_and_count_timeouts() {
    let now = Instant::now();
    let mut upf = upf(now);
    let mut out = [0u8; 64];
    assert_eq!(upf.poll_echo(now, &mut out), None, "not due yet");
    let due = upf.next_deadline().expect("a peer is supervised");
    assert_eq!(due, now + Duration::from_secs(10));
    let (to, len) = upf.poll_echo(due, &mut out).expect("due");
    assert_eq!(to, gnb());
    let Ok(GtpuMessage::EchoRequest { sequence_number }) = GtpuMessage::parse(&out[..len]) else {
        panic!("not an Echo Request");
    };
    assert_eq!(upf.poll_echo(due, &mut out), None, "one per period");
    let mut resp = [0u8; 16];
    let n = write_echo_response(&mut resp, sequence_number).unwrap();
    assert_eq!(
        upf.handle_n3(due, gnb(), &resp[..n], &mut out),
        N3Output::Done
    );
    // Answered: the next one is no timeout; unanswered, the one after is.
    let next = upf.next_deadline().unwrap();
    upf.poll_echo(next, &mut out).expect("due");
    assert_eq!(upf.counters().echo_timeouts, 0);
    upf.poll_echo(next + Duration::from_secs(10), &mut out)
        .expect("due");
    assert_eq!(upf.counters().echo_timeouts, 1);
    assert_eq!(upf.counters().echo_requests_sent, 3);
    assert_eq!(upf.counters().echo_responses_received, 1);
    // Without rules the peer is no longer supervised.
    upf.remove_rule(LocalTeid::new(1).unwrap())
        .expect("installed");
    assert_eq!(upf.next_deadline(), None);
}

#[test]
fn rules_are_bounded_and_unique() {
    let now = Instant::now();
    let mut upf = upf(now);
    assert_eq!(
        upf.add_rule(now, rule(1, DN)),
        Err(RuleError::DuplicateUlTeid)
    );
    assert_eq!(
        upf.add_rule(now, rule(2, UE)),
        Err(RuleError::DuplicateUeAddress)
    );
    upf.add_rule(now, rule(2, Ipv4Addr::new(10, 60, 0, 2)))
        .expect("second fits");
    assert_eq!(
        upf.add_rule(now, rule(3, Ipv4Addr::new(10, 60, 0, 3))),
        Err(RuleError::Full { max: 2 })
    );
    assert_eq!(upf.counters().rules_refused, 1);
    assert_eq!(upf.rule_count(), 2);
    upf.remove_rule(LocalTeid::new(2).unwrap())
        .expect("installed");
    upf.add_rule(now, rule(3, Ipv4Addr::new(10, 60, 0, 3)))
        .expect("room again");
}

#[test]
fn n6_without_a_rule_malformed_end_marker_and_error_indication_are_counted() {
    let now = Instant::now();
    let mut upf = upf(now);
    let mut out = [0u8; 256];
    assert_eq!(
        upf.handle_n6(&ping(DN, Ipv4Addr::new(10, 9, 9, 9)), &mut out),
        None
    );
    assert_eq!(upf.handle_n6(&[0x00; 30], &mut out), None);
    assert_eq!(upf.counters().no_rule_for_n6, 2);
    assert_eq!(
        upf.handle_n3(now, gnb(), &[0x30, 0xFF, 0, 9], &mut out),
        N3Output::Done
    );
    assert_eq!(upf.counters().malformed, 1);
    let mut em = [0u8; 16];
    let n = write_end_marker(&mut em, Teid(1), None).unwrap();
    upf.handle_n3(now, gnb(), &em[..n], &mut out);
    assert_eq!(upf.counters().end_markers, 1);
    let json = upf.counters().to_json();
    assert_eq!(json["end_markers"], 1);
    assert_eq!(json["malformed"], 1);
}
