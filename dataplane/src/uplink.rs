//! Uplink: the decrypted inner packet of a user-plane Child SA (IP from the UE to the UP
//! address, GRE, the user's IP packet) becomes a G-PDU to the UPF (TS 24.502 §9.3.3,
//! TS 29.281 §5, TS 38.415 §5.5.2.2).

use std::net::IpAddr;

use userplane::{GreChecksum, GreHeader, IPPROTO_GRE, PduSessionInfo, write_gpdu_header};

use crate::packet::Ip;
use crate::stats::DataplaneStats;
use crate::up_table::{UpEntry, UpTable};

/// Writes the UL G-PDU for `inner` (opened on one of `up`'s inbound SAs) into `out` and returns
/// its length; `None` when the packet is refused (counted) or `out` is too short.
pub(crate) fn ul_packet(
    up: &UpEntry,
    inner: &[u8],
    out: &mut [u8],
    stats: &mut DataplaneStats,
) -> Option<usize> {
    let gre_bytes = gre_from_ue(up, inner, stats)?;
    // The ESP ICV already protects the packet: a GRE checksum is skipped, not verified.
    let Ok(gre) = GreHeader::parse(gre_bytes, GreChecksum::Skip) else {
        stats.gre_malformed += 1;
        return None;
    };
    let qfi = match gre.key {
        Some(key) => key.qfi,
        None => {
            stats.gre_no_key += 1;
            up.default_qfi
        }
    };
    let payload = gre_bytes.get(gre.payload).unwrap_or_default();
    let payload = user_packet(up, payload, stats)?;
    let container = Some(PduSessionInfo::uplink(qfi));
    let hlen = write_gpdu_header(out, up.ul_teid, container, payload.len()).ok()?;
    out.get_mut(hlen..hlen + payload.len())?
        .copy_from_slice(payload);
    stats.gre_rx += 1;
    Some(hlen + payload.len())
}

/// The GRE part of `inner` if it is GRE from the UE's inner address to the session's UP
/// address (anything else on a user-plane SA is refused: `up_policy_drops`).
fn gre_from_ue<'a>(up: &UpEntry, inner: &'a [u8], stats: &mut DataplaneStats) -> Option<&'a [u8]> {
    let ip = Ip::parse(inner).filter(|ip| {
        ip.proto == IPPROTO_GRE
            && same(ip.src(inner), up.ue_address)
            && same(ip.dst(inner), up.up_address)
    });
    let Some(ip) = ip else {
        stats.up_policy_drops += 1;
        return None;
    };
    if ip.is_fragment {
        // Reassembly is the UE's job in the other direction only; a UE sends whole packets.
        stats.up_inner_fragments += 1;
        return None;
    }
    inner.get(ip.header_len..ip.total_len)
}

/// The user's IP packet carried in GRE, without trailing octets; its source must be the PDU
/// session's address when the session has one.
fn user_packet<'a>(
    up: &UpEntry,
    payload: &'a [u8],
    stats: &mut DataplaneStats,
) -> Option<&'a [u8]> {
    let Some(ip) = Ip::parse(payload) else {
        stats.gre_malformed += 1;
        return None;
    };
    if up.pdu_address.is_some_and(|a| !same(ip.src(payload), a)) {
        stats.up_source_mismatches += 1;
        return None;
    }
    payload.get(..ip.total_len)
}

/// Whether a packet decrypted on a Child SA of no PDU session is GRE to a UP address: NAS and
/// user plane keep to their own SAs (TS 24.502 §9.3.3).
pub(crate) fn is_gre_to_up(table: &UpTable, inner: &[u8]) -> bool {
    if table.len() == 0 {
        return false;
    }
    Ip::parse(inner)
        .is_some_and(|ip| ip.proto == IPPROTO_GRE && table.is_up_address(ip_addr(ip.dst(inner))))
}

fn ip_addr(octets: &[u8]) -> IpAddr {
    match octets.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(octets).unwrap_or_default()),
        _ => IpAddr::from(<[u8; 16]>::try_from(octets).unwrap_or_default()),
    }
}

/// Whether address octets (4 or 16) are `addr`.
pub(crate) fn same(octets: &[u8], addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => octets == a.octets(),
        IpAddr::V6(a) => octets == a.octets(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::up_table::tests::session;
    use userplane::{GreKey, GreProtocolType, GtpuHeader, IpVersion, Qfi, Teid, write_gre_header};

    /// An IPv4 header (checksum left 0: nothing here checks it) with `proto` and `body`.
    pub(crate) fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, body: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0];
        p[2..4].copy_from_slice(&((20 + body.len()) as u16).to_be_bytes());
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(body);
        p
    }

    /// The user's packet: UDP-ish from the PDU address to a server.
    pub(crate) fn user(src: [u8; 4]) -> Vec<u8> {
        ipv4(src, [198, 51, 100, 1], 17, b"user data")
    }

    /// IP(UE → UP) / GRE(key `qfi`) / `payload`.
    pub(crate) fn gre_packet(qfi: Option<u8>, payload: &[u8]) -> Vec<u8> {
        let mut g = match qfi {
            Some(q) => {
                let mut h = [0; 8];
                let key = GreKey::new(Qfi::new(q).unwrap(), false);
                write_gre_header(&mut h, key, IpVersion::V4, GreProtocolType::Zero).unwrap();
                h.to_vec()
            }
            None => vec![0, 0, 0x08, 0],
        };
        g.extend_from_slice(payload);
        ipv4([10, 45, 0, 2], [10, 45, 0, 1], IPPROTO_GRE, &g)
    }

    /// QFI and RQI of a parsed G-PDU's container.
    pub(crate) fn qos(h: &GtpuHeader) -> Option<(Qfi, bool)> {
        h.pdu_session.map(|s| (s.qfi(), s.rqi()))
    }

    fn entry() -> UpTable {
        let mut t = UpTable::default();
        t.add(&session(7)).unwrap();
        t
    }

    #[test]
    fn gre_with_a_key_becomes_a_gpdu_with_its_qfi() {
        let t = entry();
        let up = t.by_teid(Teid(7)).unwrap();
        let mut stats = DataplaneStats::default();
        let mut out = [0u8; 256];
        let payload = user([10, 60, 0, 7]);
        let n = ul_packet(up, &gre_packet(Some(5), &payload), &mut out, &mut stats).unwrap();
        let g = GtpuHeader::parse(&out[..n]).unwrap();
        assert_eq!(g.teid, up.ul_teid);
        assert_eq!(qos(&g), Some((Qfi::new(5).unwrap(), false)));
        assert_eq!(&out[g.payload], &payload[..]);
        // No key: the session's default QFI, counted.
        let n = ul_packet(up, &gre_packet(None, &payload), &mut out, &mut stats).unwrap();
        assert_eq!(
            qos(&GtpuHeader::parse(&out[..n]).unwrap()).unwrap().0,
            Qfi::new(9).unwrap()
        );
        assert_eq!((stats.gre_rx, stats.gre_no_key), (2, 1));
    }

    #[test]
    fn anything_but_gre_from_the_ue_to_the_up_address_is_refused() {
        let t = entry();
        let up = t.by_teid(Teid(7)).unwrap();
        let mut stats = DataplaneStats::default();
        let mut out = [0u8; 256];
        let payload = user([10, 60, 0, 7]);
        let mut wrong_dst = gre_packet(Some(5), &payload);
        wrong_dst[19] = 99;
        let mut wrong_src = gre_packet(Some(5), &payload);
        wrong_src[15] = 99;
        let not_gre = ipv4([10, 45, 0, 2], [10, 45, 0, 1], 6, &payload);
        for bad in [&wrong_dst, &wrong_src, &not_gre, &payload] {
            assert!(ul_packet(up, bad, &mut out, &mut stats).is_none());
        }
        assert_eq!(stats.up_policy_drops, 4);
        let spoofed = gre_packet(Some(5), &user([10, 60, 0, 8]));
        assert!(ul_packet(up, &spoofed, &mut out, &mut stats).is_none());
        assert_eq!(stats.up_source_mismatches, 1);
        let mut v1 = gre_packet(Some(5), &payload);
        v1[21] = 1;
        assert!(ul_packet(up, &v1, &mut out, &mut stats).is_none());
        let junk = gre_packet(Some(5), &[0x45, 0, 0]);
        assert!(ul_packet(up, &junk, &mut out, &mut stats).is_none());
        assert_eq!(stats.gre_malformed, 2);
        let mut frag = gre_packet(Some(5), &payload);
        frag[6] = 0x20;
        assert!(ul_packet(up, &frag, &mut out, &mut stats).is_none());
        assert_eq!(stats.up_inner_fragments, 1);
        assert!(
            ul_packet(
                up,
                &gre_packet(Some(5), &payload),
                &mut out[..20],
                &mut stats
            )
            .is_none()
        );
        assert_eq!(stats.gre_rx, 0);
    }

    #[test]
    fn gre_to_the_up_address_is_recognised_on_other_sas() {
        let t = entry();
        let payload = user([10, 60, 0, 7]);
        assert!(is_gre_to_up(&t, &gre_packet(Some(1), &payload)));
        let tcp = ipv4([10, 45, 0, 2], [10, 45, 0, 1], 6, b"NAS");
        assert!(!is_gre_to_up(&t, &tcp), "NAS to the same address is fine");
        assert!(!is_gre_to_up(
            &UpTable::default(),
            &gre_packet(Some(1), &payload)
        ));
    }
}
