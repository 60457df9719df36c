//! An independent decoder checks what the codecs write: the test builds Ethernet/IPv4/UDP 2152
//! frames with every GTP-U message we write and IPv4/GRE frames with the NWu key, puts them in a
//! pcap file, and has tshark decode them. tshark must find the TEIDs, the PDU Session
//! Container's PDU type, QFI and RQI, the sequence numbers, the Error Indication's IEs and the
//! GRE keys we wrote, with no malformed packet and no expert error.
//!
//! Without tshark the test prints "SKIPPED" and passes, unless USERPLANE_REQUIRE_TSHARK=1
//! (scripts/tests/45-n3iwf-decoders.sh sets it).

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;

use userplane::{
    ErrorIndication, GreKey, GreProtocolType, IpVersion, PduSessionInfo, Qfi, Teid,
    internet_checksum, write_echo_request, write_echo_response, write_end_marker,
    write_error_indication, write_gpdu_header, write_gre_header,
};

const UE: Ipv4Addr = Ipv4Addr::new(10, 60, 0, 1);
const DN: Ipv4Addr = Ipv4Addr::new(10, 60, 0, 254);
const GNB: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const UPF: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

/// What tshark must say about one frame: the `-T fields` columns below, in order.
struct Expected {
    what: &'static str,
    columns: [&'static str; FIELDS.len()],
}

const FIELDS: [&str; 13] = [
    "gtp.message",
    "gtp.teid",
    "gtp.ext_hdr.pdu_ses_con.pdu_type",
    "gtp.ext_hdr.pdu_ses_con.qos_flow_id",
    "gtp.ext_hdr.pdu_ses_cont.rqi",
    "gtp.seq_number",
    "gtp.recovery",
    "gtp.teid_data",
    "gtp.gsn_ipv4",
    "gre.key",
    "gre.proto",
    "icmp.type",
    "_ws.malformed",
];

#[test]
fn tshark_decodes_what_the_codecs_write() {
    if !tshark_available() {
        return;
    }
    let (frames, expected) = frames();
    let dir = tempdir();
    let pcap = dir.join("userplane.pcap");
    std::fs::write(&pcap, pcap_file(&frames)).expect("write pcap");

    let mut args = vec![
        "-r".to_owned(),
        pcap.display().to_string(),
        "-T".into(),
        "fields".into(),
    ];
    for f in FIELDS {
        args.extend(["-e".to_owned(), f.to_owned()]);
    }
    args.extend([
        "-E".into(),
        "separator=|".into(),
        "-E".into(),
        "occurrence=a".into(),
    ]);
    let table = run_tshark(&args);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), expected.len(), "tshark rows:\n{table}");
    for (row, want) in rows.iter().zip(&expected) {
        let got: Vec<&str> = row.split('|').collect();
        assert_eq!(got.len(), FIELDS.len(), "{}: columns in {row}", want.what);
        for ((field, got), column) in FIELDS.iter().zip(&got).zip(want.columns) {
            assert_eq!(*got, column, "{}: {field} (row: {row})", want.what);
        }
    }

    // With IPv4 header checksums verified too: the ICMP and IP checksums come from
    // `internet_checksum`.
    let verbose = run_tshark(&[
        "-r".to_owned(),
        pcap.display().to_string(),
        "-o".into(),
        "ip.check_checksum:TRUE".into(),
        "-V".into(),
    ]);
    for bad in [
        "Malformed",
        "Expert Info (Error",
        "Status: Bad]",
        "status: Bad]",
    ] {
        assert!(
            !verbose.contains(bad),
            "tshark -V reports {bad:?}:\n{verbose}"
        );
    }
    // Every frame's outer IPv4 header, and the ICMP packets inside the G-PDUs and the
    // EtherType-marked GRE packet, are checked.
    let good_ip = verbose.matches("[Header checksum status: Good]").count();
    assert!(
        good_ip >= expected.len() + 3,
        "{good_ip} good IPv4 checksums:\n{verbose}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The frames and what tshark must decode in each.
fn frames() -> (Vec<Vec<u8>>, Vec<Expected>) {
    let ul = PduSessionInfo::uplink(qfi(9));
    let dl = PduSessionInfo::downlink(qfi(5), true);
    let mut frames = Vec::new();
    let mut expected = Vec::new();
    let mut add = |frame: Vec<u8>, e: Expected| {
        frames.push(frame);
        expected.push(e);
    };
    let ping = icmp_packet(UE, DN, 8);
    add(
        udp_frame(GNB, UPF, &gpdu(Teid(0x0000_1001), ul, &ping)),
        row(
            "UL G-PDU",
            [
                "0xff",
                "0x00001001",
                "1",
                "9",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "8",
                "",
            ],
        ),
    );
    let pong = icmp_packet(DN, UE, 0);
    add(
        udp_frame(UPF, GNB, &gpdu(Teid(0x0000_2002), dl, &pong)),
        row(
            "DL G-PDU",
            [
                "0xff",
                "0x00002002",
                "0",
                "5",
                "1",
                "",
                "",
                "",
                "",
                "",
                "",
                "0",
                "",
            ],
        ),
    );
    let mut buf = [0u8; 64];
    let n = write_echo_request(&mut buf, 0x0102).expect("fits");
    add(
        udp_frame(GNB, UPF, &buf[..n]),
        row(
            "Echo Request",
            [
                "0x01",
                "0x00000000",
                "",
                "",
                "",
                "0x0102",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            ],
        ),
    );
    let n = write_echo_response(&mut buf, 0x0102).expect("fits");
    add(
        udp_frame(UPF, GNB, &buf[..n]),
        row(
            "Echo Response",
            [
                "0x02",
                "0x00000000",
                "",
                "",
                "",
                "0x0102",
                "0",
                "",
                "",
                "",
                "",
                "",
                "",
            ],
        ),
    );
    let indication = ErrorIndication {
        teid_data: Teid(0xDEAD_BEEF),
        peer_address: IpAddr::V4(UPF),
        udp_port: None,
    };
    let n = write_error_indication(&mut buf, 3, &indication).expect("fits");
    add(
        udp_frame(UPF, GNB, &buf[..n]),
        row(
            "Error Indication",
            [
                "0x1a",
                "0x00000000",
                "",
                "",
                "",
                "0x0003",
                "",
                "0xdeadbeef",
                "192.0.2.2",
                "",
                "",
                "",
                "",
            ],
        ),
    );
    let n = write_end_marker(&mut buf, Teid(0x0000_2002), None).expect("fits");
    add(
        udp_frame(UPF, GNB, &buf[..n]),
        row(
            "End Marker",
            [
                "0xfe",
                "0x00002002",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            ],
        ),
    );
    let key = GreKey::new(qfi(9), false);
    add(
        ip_frame(
            UE,
            GNB,
            47,
            &gre(key, GreProtocolType::InnerEtherType, &ping),
        ),
        row(
            "UL GRE",
            [
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "0x09000000",
                "0x0800",
                "8",
                "",
            ],
        ),
    );
    let key = GreKey::new(qfi(5), true);
    add(
        ip_frame(GNB, UE, 47, &gre(key, GreProtocolType::Zero, &pong)),
        row(
            "DL GRE strict",
            [
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "0x05000080",
                "0x0000",
                "",
                "",
            ],
        ),
    );
    (frames, expected)
}

fn row(what: &'static str, columns: [&'static str; FIELDS.len()]) -> Expected {
    Expected { what, columns }
}

fn qfi(v: u8) -> Qfi {
    Qfi::new(v).expect("valid QFI")
}

fn gpdu(teid: Teid, session: PduSessionInfo, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32 + payload.len()];
    let n = write_gpdu_header(&mut out, teid, Some(session), payload.len()).expect("fits");
    out.truncate(n);
    out.extend_from_slice(payload);
    out
}

fn gre(key: GreKey, protocol: GreProtocolType, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 8];
    let version = IpVersion::of_packet(payload).expect("IP payload");
    let n = write_gre_header(&mut out, key, version, protocol).expect("fits");
    out.truncate(n);
    out.extend_from_slice(payload);
    out
}

/// An IPv4 ICMP echo request (type 8) or reply (type 0) with a 16-octet payload.
fn icmp_packet(src: Ipv4Addr, dst: Ipv4Addr, kind: u8) -> Vec<u8> {
    let mut icmp = vec![kind, 0, 0, 0, 0x12, 0x34, 0x00, 0x01];
    icmp.extend((0u8..16).map(|i| i.wrapping_mul(7)));
    let c = internet_checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    ipv4_packet(src, dst, 1, &icmp)
}

fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).expect("small packet");
    let mut ip = vec![0x45, 0x00];
    ip.extend(total.to_be_bytes());
    ip.extend([0x00, 0x01, 0x40, 0x00, 64, protocol, 0, 0]);
    ip.extend(src.octets());
    ip.extend(dst.octets());
    let c = internet_checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(payload);
    ip
}

/// Ethernet II + IPv4 + UDP from and to port 2152 (UDP checksum 0: none, RFC 768).
fn udp_frame(src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + payload.len()).expect("small datagram");
    let mut udp = Vec::new();
    udp.extend(2152u16.to_be_bytes());
    udp.extend(2152u16.to_be_bytes());
    udp.extend(len.to_be_bytes());
    udp.extend([0, 0]);
    udp.extend_from_slice(payload);
    ip_frame(src, dst, 17, &udp)
}

fn ip_frame(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00];
    frame.extend(ipv4_packet(src, dst, protocol, payload));
    frame
}

/// A classic pcap file (little-endian, microseconds, link type 1 = Ethernet).
fn pcap_file(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(0xA1B2_C3D4u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    out.extend([0u8; 8]); // timezone, accuracy
    out.extend(65_535u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    for (i, frame) in frames.iter().enumerate() {
        let len = u32::try_from(frame.len()).expect("small frame");
        out.extend(1_800_000_000u32.to_le_bytes());
        out.extend(u32::try_from(i).expect("few frames").to_le_bytes());
        out.extend(len.to_le_bytes());
        out.extend(len.to_le_bytes());
        out.extend_from_slice(frame);
    }
    out
}

fn tshark_available() -> bool {
    if Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return true;
    }
    assert!(
        std::env::var("USERPLANE_REQUIRE_TSHARK").as_deref() != Ok("1"),
        "tshark is required (USERPLANE_REQUIRE_TSHARK=1) but not installed"
    );
    eprintln!("==== SKIPPED: tshark not installed; the GTP-U/GRE decoder check did not run ====");
    false
}

fn run_tshark(args: &[String]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("userplane-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    assert!(Path::new(&dir).is_dir());
    dir
}
