//! ESP on the wire against strongSwan 6, each direction: UDP-encapsulated ESP on port 4500
//! (RFC 3948; our `encapsulation = "udp"` forces it, as kernel-libipsec's default fakes a NAT)
//! and plain ESP, IP protocol 50 (`encapsulation = "raw"`, kernel-libipsec `raw_esp = yes`, IKE
//! stays on port 500).
//!
//! Asserted: strongSwan's view (`TUNNEL-in-UDP` or `TUNNEL`, the IKE ports), our NAT flag, and
//! the wire itself: during a 128 KiB transfer, strongSwan's namespace receives one UDP datagram
//! per ESP packet with encapsulation and (next to) none without (`Udp: InDatagrams` of its
//! `/proc/net/snmp`). Needs root and the lab.

use std::time::Duration;

use interop::{Encap, Node, Pair, Spec, tcp_transfer};

/// `Udp: InDatagrams` in `node`'s namespace.
fn udp_in_datagrams(node: &Node) -> u64 {
    let out = interop::run_ok(
        node.host_command("cat").arg("/proc/net/snmp"),
        Duration::from_secs(5),
    )
    .expect("/proc/net/snmp");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut udp = text.lines().filter(|l| l.starts_with("Udp:"));
    let (names, values) = (
        udp.next().expect("Udp header"),
        udp.next().expect("Udp values"),
    );
    let i = names
        .split_whitespace()
        .position(|n| n == "InDatagrams")
        .expect("InDatagrams");
    values
        .split_whitespace()
        .nth(i)
        .expect("value")
        .parse()
        .expect("number")
}

fn case(tag: &str, encap: Encap) {
    let mut spec = Spec::new(
        tag,
        "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
        "aes256gcm16",
    );
    spec.encap = encap;
    let Some(pair) = Pair::start(&format!("rfc3948_udp_encap::{tag}"), spec) else {
        return;
    };
    pair.both_directions(
        "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768",
        "AES_GCM_16-256",
        |p, role, ours, _| {
            assert_eq!(ours.nat_detected, encap == Encap::Udp, "{ours:#?}");
            let (l, r) = (p.lab.left(), p.lab.right());
            let before = udp_in_datagrams(r);
            let port = if role == interop::Role::OursInitiates {
                5901
            } else {
                5902
            };
            tcp_transfer(l, r, port, 128 * 1024, Duration::from_secs(30)).expect("transfer");
            let datagrams = udp_in_datagrams(r) - before;
            match encap {
                Encap::Udp => assert!(datagrams >= 50, "only {datagrams} UDP datagrams"),
                Encap::Raw => assert!(datagrams < 5, "{datagrams} UDP datagrams with raw ESP"),
            }
        },
    );
}

#[test]
fn esp_in_udp_4500() {
    case("udpencap", Encap::Udp);
}

#[test]
fn raw_esp_protocol_50() {
    case("rawesp", Encap::Raw);
}
