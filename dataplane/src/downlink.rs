//! Downlink: the T-PDU of a G-PDU becomes the inner packet of a user-plane Child SA: IP from
//! the UP address to the UE (protocol 47, DF set, TTL 64), GRE with the QFI and RQI in the key
//! (TS 24.502 §9.3.3), the user's packet. When the ESP packet would not fit the path to the UE,
//! the inner IPv4 packet is cut into fragments here, before encryption (the UE reassembles).

use std::net::IpAddr;
use std::ops::Range;

use crate::checksum;
use userplane::{GRE_HEADER_LEN, IPPROTO_GRE as PROTO_GRE};

use crate::up_table::UpEntry;

/// The GRE header and the user's packet, which together are the inner packet's body.
#[derive(Clone, Copy)]
pub(crate) struct Body<'a> {
    pub(crate) gre: &'a [u8; GRE_HEADER_LEN],
    pub(crate) payload: &'a [u8],
}

impl Body<'_> {
    pub(crate) fn len(&self) -> usize {
        GRE_HEADER_LEN + self.payload.len()
    }

    /// Copies `range` of the body into `out` (exactly `range.len()` octets).
    fn copy(&self, range: Range<usize>, out: &mut [u8]) {
        let split = GRE_HEADER_LEN;
        let g = range.start.min(split)..range.end.min(split);
        let p = range.start.max(split) - split..range.end.max(split) - split;
        let (a, b) = out.split_at_mut(g.len());
        a.copy_from_slice(&self.gre[g]);
        b.copy_from_slice(&self.payload[p]);
    }
}

/// Which part of the body an inner packet carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    /// Octets of the body, starting at a multiple of 8 for fragments.
    pub(crate) range: Range<usize>,
    /// More fragments follow.
    pub(crate) more: bool,
    /// A fragment (DF clear) rather than the whole packet (DF set).
    pub(crate) fragment: bool,
}

impl Part {
    pub(crate) fn whole(body: &Body<'_>) -> Self {
        Self {
            range: 0..body.len(),
            more: false,
            fragment: false,
        }
    }
}

/// Length of the inner IP header for a session (its addresses' family) and a part: an IPv6
/// fragment carries a Fragment header too.
pub(crate) fn header_len(up: &UpEntry, part: &Part) -> usize {
    match (up.ue_address.is_ipv4(), part.fragment) {
        (true, _) => 20,
        (false, false) => 40,
        (false, true) => 40 + FRAGMENT_HEADER_LEN,
    }
}

/// Length of the headers of each fragment of a session's inner packets.
pub(crate) fn fragment_header_len(up: &UpEntry) -> usize {
    if up.ue_address.is_ipv4() {
        20
    } else {
        40 + FRAGMENT_HEADER_LEN
    }
}

/// IPv6 Fragment header (RFC 8200 §4.5).
const FRAGMENT_HEADER_LEN: usize = 8;
const NEXT_HEADER_FRAGMENT: u8 = 44;

/// Writes the inner packet carrying `part` of `body` into `out` and returns its length; `None`
/// if `out` is too short. `id` identifies the fragments of one packet (IPv4: its low 16 bits).
pub(crate) fn write_inner(
    up: &UpEntry,
    body: &Body<'_>,
    part: &Part,
    id: u32,
    out: &mut [u8],
) -> Option<usize> {
    let hlen = header_len(up, part);
    let total = hlen + part.range.len();
    let (hdr, rest) = out.get_mut(..total)?.split_at_mut(hlen);
    match (up.up_address, up.ue_address) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let [_, _, i0, i1] = id.to_be_bytes();
            let flags: u16 = match (part.fragment, part.more) {
                (false, _) => 0x4000,
                (true, true) => 0x2000,
                (true, false) => 0,
            };
            let offset = u16::try_from(part.range.start / 8).ok()?;
            let [t0, t1] = u16::try_from(total).ok()?.to_be_bytes();
            let [f0, f1] = (flags | offset).to_be_bytes();
            let [s0, s1, s2, s3] = src.octets();
            let [d0, d1, d2, d3] = dst.octets();
            hdr.copy_from_slice(&[
                0x45, 0, t0, t1, i0, i1, f0, f1, 64, PROTO_GRE, 0, 0, s0, s1, s2, s3, d0, d1, d2,
                d3,
            ]);
            let c = checksum::finish(checksum::sum(hdr));
            hdr[10..12].copy_from_slice(&c.to_be_bytes());
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let [l0, l1] = u16::try_from(total - 40).ok()?.to_be_bytes();
            let next = if part.fragment {
                NEXT_HEADER_FRAGMENT
            } else {
                PROTO_GRE
            };
            hdr[..8].copy_from_slice(&[0x60, 0, 0, 0, l0, l1, next, 64]);
            hdr[8..24].copy_from_slice(&src.octets());
            hdr[24..40].copy_from_slice(&dst.octets());
            if part.fragment {
                // Offset in 8-octet units in the top 13 bits, M in the lowest.
                let field = u16::try_from(part.range.start / 8).ok()? << 3 | u16::from(part.more);
                let [o0, o1] = field.to_be_bytes();
                let [i0, i1, i2, i3] = id.to_be_bytes();
                hdr[40..48].copy_from_slice(&[PROTO_GRE, 0, o0, o1, i0, i1, i2, i3]);
            }
        }
        // The table refuses sessions with mixed families.
        _ => return None,
    }
    body.copy(part.range.clone(), rest);
    Some(total)
}

/// Cuts a body into fragments whose inner packets, with `header_len` octets of headers each,
/// are at most `max_inner` octets (offsets in units of 8: RFC 791, RFC 8200 §4.5). `None` when
/// even one 8-octet unit does not fit.
pub(crate) fn fragments(
    body_len: usize,
    max_inner: usize,
    header_len: usize,
) -> Option<impl Iterator<Item = Part>> {
    let step = max_inner.checked_sub(header_len)? / 8 * 8;
    if step == 0 {
        return None;
    }
    Some((0..body_len.div_ceil(step)).map(move |i| {
        let start = i * step;
        let end = (start + step).min(body_len);
        Part {
            range: start..end,
            more: end < body_len,
            fragment: true,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Ip;
    use crate::up_table::UpTable;
    use crate::up_table::tests::session;
    use crate::uplink::tests::user;
    use userplane::{
        GreChecksum, GreHeader, GreKey, GreProtocolType, IpVersion, Qfi, Teid, write_gre_header,
    };

    fn gre_header(rqi: bool) -> [u8; GRE_HEADER_LEN] {
        let mut h = [0; GRE_HEADER_LEN];
        let key = GreKey::new(Qfi::new(9).unwrap(), rqi);
        write_gre_header(&mut h, key, IpVersion::V4, GreProtocolType::InnerEtherType).unwrap();
        h
    }

    #[test]
    fn the_inner_packet_is_gre_from_the_up_address_with_df_and_a_checksum() {
        let mut t = UpTable::default();
        t.add(&session(7)).unwrap();
        let up = t.by_teid(Teid(7)).unwrap();
        let payload = user([198, 51, 100, 1]);
        let g = gre_header(true);
        let body = Body {
            gre: &g,
            payload: &payload,
        };
        let mut out = [0u8; 256];
        let n = write_inner(up, &body, &Part::whole(&body), 0x77, &mut out).unwrap();
        let p = &out[..n];
        let ip = Ip::parse(p).unwrap();
        assert_eq!(
            (ip.proto, ip.total_len, ip.is_fragment),
            (PROTO_GRE, n, false)
        );
        assert_eq!((p[6], p[8]), (0x40, 64), "DF, TTL 64");
        assert_eq!(&p[12..20], &[10, 45, 0, 1, 10, 45, 0, 2]);
        assert_eq!(checksum::fold(checksum::sum(&p[..20])), 0xffff);
        let gre = GreHeader::parse(&p[20..], GreChecksum::Skip).unwrap();
        assert_eq!(gre.key, Some(GreKey::new(Qfi::new(9).unwrap(), true)));
        assert_eq!(&p[20..][gre.payload], &payload[..]);
        assert!(write_inner(up, &body, &Part::whole(&body), 0, &mut out[..40]).is_none());
    }

    #[test]
    fn ipv6_sessions_get_an_ipv6_inner_header() {
        let mut s = session(7);
        s.ue_address = "fd00::2".parse().unwrap();
        s.up_address = "fd00::1".parse().unwrap();
        let mut t = UpTable::default();
        t.add(&s).unwrap();
        let up = t.by_teid(Teid(7)).unwrap();
        let payload = user([198, 51, 100, 1]);
        let g = gre_header(false);
        let body = Body {
            gre: &g,
            payload: &payload,
        };
        let mut out = [0u8; 256];
        let n = write_inner(up, &body, &Part::whole(&body), 0, &mut out).unwrap();
        let ip = Ip::parse(&out[..n]).unwrap();
        assert_eq!(
            (ip.version, ip.proto, ip.total_len),
            (6, PROTO_GRE, 40 + body.len())
        );
    }

    #[test]
    fn fragments_cover_the_body_in_units_of_eight() {
        let parts: Vec<Part> = fragments(3000, 1400, 20).unwrap().collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].range, 0..1376);
        assert_eq!(parts[1].range, 1376..2752);
        assert_eq!(
            parts[2],
            Part {
                range: 2752..3000,
                more: false,
                fragment: true
            }
        );
        assert!(parts[..2].iter().all(|p| p.more));
        assert!(fragments(100, 27, 20).is_none());
        assert_eq!(fragments(8, 28, 20).unwrap().count(), 1);
        assert_eq!(
            fragments(100, 56, 48).unwrap().count(),
            13,
            "IPv6: 8 octets each"
        );
    }

    #[test]
    fn fragments_reassemble_to_the_body() {
        let mut t = UpTable::default();
        t.add(&session(7)).unwrap();
        let up = t.by_teid(Teid(7)).unwrap();
        let payload: Vec<u8> = (0..2000u32).map(|i| i as u8).collect();
        let g = gre_header(false);
        let body = Body {
            gre: &g,
            payload: &payload,
        };
        let mut whole = vec![0u8; body.len()];
        body.copy(0..body.len(), &mut whole);
        let mut rebuilt = Vec::new();
        for part in fragments(body.len(), 1000, 20).unwrap() {
            let mut out = [0u8; 1000];
            let n = write_inner(up, &body, &part, 0x99, &mut out).unwrap();
            assert!(n <= 1000);
            let ip = Ip::parse(&out[..n]).unwrap();
            assert!(ip.is_fragment);
            let off = usize::from(u16::from_be_bytes([out[6], out[7]]) & 0x1fff) * 8;
            assert_eq!((off, out[4..6] == [0, 0x99]), (rebuilt.len(), true));
            assert_eq!(out[6] & 0x40, 0, "DF clear on fragments");
            rebuilt.extend_from_slice(&out[20..n]);
        }
        assert_eq!(rebuilt, whole);
    }

    #[test]
    fn ipv6_fragments_carry_a_fragment_header_and_reassemble() {
        let mut s = session(7);
        s.ue_address = "fd00::2".parse().unwrap();
        s.up_address = "fd00::1".parse().unwrap();
        let mut t = UpTable::default();
        t.add(&s).unwrap();
        let up = t.by_teid(Teid(7)).unwrap();
        let payload: Vec<u8> = (0..1500u32).map(|i| (i * 7) as u8).collect();
        let g = gre_header(false);
        let body = Body {
            gre: &g,
            payload: &payload,
        };
        let mut whole = vec![0u8; body.len()];
        body.copy(0..body.len(), &mut whole);
        let mut rebuilt = Vec::new();
        let parts: Vec<Part> = fragments(body.len(), 600, fragment_header_len(up))
            .unwrap()
            .collect();
        for (i, part) in parts.iter().enumerate() {
            let mut out = [0u8; 600];
            let n = write_inner(up, &body, part, 0x0102_0304, &mut out).unwrap();
            assert!(n <= 600);
            assert_eq!(out[6], NEXT_HEADER_FRAGMENT);
            assert_eq!(usize::from(u16::from_be_bytes([out[4], out[5]])), n - 40);
            let frag = &out[40..48];
            assert_eq!(frag[0], PROTO_GRE);
            let field = u16::from_be_bytes([frag[2], frag[3]]);
            assert_eq!(usize::from(field >> 3) * 8, rebuilt.len());
            assert_eq!(field & 1 == 1, i + 1 < parts.len(), "M on all but the last");
            assert_eq!(&frag[4..], &[1, 2, 3, 4]);
            rebuilt.extend_from_slice(&out[48..n]);
        }
        assert_eq!(rebuilt, whole);
    }
}
