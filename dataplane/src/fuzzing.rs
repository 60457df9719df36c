//! Drives the user-plane packet paths with arbitrary octets, for the `user_plane` fuzz target
//! and a unit test: the uplink path takes them as a decrypted inner packet of a user-plane SA
//! (or of another SA), the downlink path as the T-PDU of a G-PDU, whole and cut into fragments
//! for a path MTU the input picks. Whatever comes out must be well formed.

use std::net::IpAddr;

use esp::Spi;
use userplane::{
    GRE_HEADER_LEN, GreKey, GreProtocolType, GtpuHeader, IpVersion, Qfi, Teid, write_gre_header,
};

use crate::downlink::{Body, Part, fragment_header_len, fragments, write_inner};
use crate::packet::Ip;
use crate::stats::DataplaneStats;
use crate::up_table::UpTable;
use crate::uplink::{is_gre_to_up, ul_packet};
use crate::user_plane::{UserPlaneChildren, UserPlaneSession};

/// Runs `data` through the uplink and downlink paths of an IPv4 and an IPv6 session; panics
/// when an output is malformed. Returns how many UL G-PDUs it built (seeds should build one).
pub fn user_plane(data: &[u8]) -> usize {
    let mut table = UpTable::default();
    for (teid, ue, up) in [(1, "10.45.0.2", "10.45.0.1"), (2, "fd00::2", "fd00::1")] {
        let session = session(teid, ue.parse().ok(), up.parse().ok());
        assert!(table.add(&session).is_ok(), "the fixed sessions are valid");
    }
    let _ = is_gre_to_up(&table, data);
    let mut stats = DataplaneStats::default();
    let mut out = vec![0u8; 70_000];
    let mut built = 0;
    for teid in [1, 2] {
        let Some(up) = table.by_teid(Teid(teid)) else {
            continue;
        };
        if let Some(n) = ul_packet(up, data, &mut out, &mut stats) {
            let g = GtpuHeader::parse(out.get(..n).unwrap_or_default());
            assert!(g.is_ok_and(|g| g.teid == up.ul_teid), "UL G-PDU readable");
            built += 1;
        }
        downlink(up, data, &mut out);
    }
    built
}

fn downlink(up: &crate::up_table::UpEntry, data: &[u8], out: &mut [u8]) {
    let mut hdr = [0u8; GRE_HEADER_LEN];
    let qfi = Qfi::from_low_bits(data.first().copied().unwrap_or(0));
    let key = GreKey::new(qfi, data.len() % 2 == 1);
    let _ = write_gre_header(&mut hdr, key, IpVersion::V4, up.gre_protocol);
    let body = Body {
        gre: &hdr,
        payload: data,
    };
    if let Some(n) = write_inner(up, &body, &Part::whole(&body), 7, out) {
        let ip = Ip::parse(out.get(..n).unwrap_or_default());
        assert!(
            ip.is_some_and(|ip| ip.total_len == n),
            "inner packet readable"
        );
    }
    let mtu = 28 + usize::from(data.get(1).copied().unwrap_or(0)) * 8;
    let mut covered = 0;
    let parts = fragments(body.len(), mtu, fragment_header_len(up));
    for part in parts.into_iter().flatten() {
        assert_eq!(part.range.start, covered, "fragments without gaps");
        covered = part.range.end;
        if let Some(n) = write_inner(up, &body, &part, 7, out) {
            assert!(n <= mtu, "fragment within the MTU");
        }
    }
}

fn session(teid: u32, ue: Option<IpAddr>, up: Option<IpAddr>) -> UserPlaneSession {
    let any = IpAddr::from([0, 0, 0, 0]);
    UserPlaneSession {
        dl_teid: Teid(teid),
        upf: "192.0.2.50:2152"
            .parse()
            .unwrap_or_else(|_| (any, 2152).into()),
        ul_teid: Teid(0x100 + teid),
        ue_address: ue.unwrap_or(any),
        up_address: up.unwrap_or(any),
        pdu_address: None,
        children: UserPlaneChildren {
            default_spi: Spi(teid),
            by_qfi: Vec::new(),
            inbound: vec![Spi(0x1000 + teid)],
        },
        default_qfi: Qfi::from_low_bits(9),
        gre_protocol: GreProtocolType::InnerEtherType,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uplink::tests::{gre_packet, ipv4, user};

    #[test]
    fn the_fuzz_driver_takes_good_and_bad_packets() {
        let good = gre_packet(Some(3), &user([10, 60, 0, 7]));
        assert_eq!(user_plane(&good), 1);
        for cut in 0..good.len() {
            user_plane(&good[..cut]);
        }
        user_plane(&ipv4([10, 45, 0, 2], [10, 45, 0, 1], 47, &[0xff; 40]));
        user_plane(&[0x60; 100]);
        user_plane(&[]);
    }

    /// The committed seeds reach the end of the uplink path, so the fuzzer starts deep.
    #[test]
    fn the_seeds_build_gpdus() {
        let seeds: [&[u8]; 3] = [
            include_bytes!("../../fuzz/corpus/user_plane/ul_gre_key_v4"),
            include_bytes!("../../fuzz/corpus/user_plane/ul_gre_no_key_v4"),
            include_bytes!("../../fuzz/corpus/user_plane/ul_gre_v6"),
        ];
        for seed in seeds {
            assert_eq!(user_plane(seed), 1, "{seed:02x?}");
        }
    }
}
