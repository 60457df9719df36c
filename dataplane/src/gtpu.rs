//! The GTP-U messages the workers read and write on N3 (TS 29.281 §5, §7; PDU Session Container
//! TS 38.415 §5.5.2). Parsing reads a borrowed slice and never panics; building writes into
//! the caller's buffer and returns the length. Nothing allocates.

use std::net::IpAddr;

use crate::user_plane::{Qfi, Teid};

pub(crate) const ECHO_REQUEST: u8 = 1;
pub(crate) const ECHO_RESPONSE: u8 = 2;
pub(crate) const ERROR_INDICATION: u8 = 26;
pub(crate) const END_MARKER: u8 = 254;
pub(crate) const G_PDU: u8 = 255;
/// Length of a G-PDU header with a PDU Session Container.
pub(crate) const GPDU_HEADER_LEN: usize = 16;

const FLAGS_V1_PT: u8 = 0x30;
const FLAG_E: u8 = 0x04;
const FLAG_S: u8 = 0x02;
const FLAG_PN: u8 = 0x01;
const EXT_PDU_SESSION_CONTAINER: u8 = 0x85;
const EXT_UDP_PORT: u8 = 0x40;
/// Extension headers walked before giving up (each is at least 4 octets anyway).
const MAX_EXTENSIONS: usize = 4;
const IE_RECOVERY: u8 = 14;
const IE_TEID_DATA_I: u8 = 16;
const IE_PEER_ADDRESS: u8 = 133;

/// Why a GTP-U datagram was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GtpuError {
    /// Shorter than its header or than its Length says.
    Truncated,
    /// Not version 1 with PT=1.
    Version,
    /// An extension header of length 0, too many, or running past the message.
    BadExtension,
    /// An extension header we do not understand whose type says comprehension is required.
    UnknownRequiredExtension,
}

/// A parsed GTP-U message: the header fields and where its payload is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Gtpu {
    pub(crate) message_type: u8,
    pub(crate) teid: Teid,
    /// The sequence number when S=1 (echo messages carry one).
    pub(crate) sequence: Option<u16>,
    /// QFI and RQI of a PDU Session Container, if there is one.
    pub(crate) qos: Option<(Qfi, bool)>,
    /// The T-PDU or information elements, as a range of the datagram.
    pub(crate) payload: std::ops::Range<usize>,
}

impl Gtpu {
    /// Parses the header and walks the extension headers (bounded).
    pub(crate) fn parse(d: &[u8]) -> Result<Self, GtpuError> {
        let hdr: &[u8; 8] = d.first_chunk().ok_or(GtpuError::Truncated)?;
        if hdr[0] & 0xf0 != FLAGS_V1_PT {
            return Err(GtpuError::Version);
        }
        let end = 8 + usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        if end > d.len() {
            return Err(GtpuError::Truncated);
        }
        let mut g = Self {
            message_type: hdr[1],
            teid: Teid(u32::from_be_bytes([hdr[4], hdr[5], hdr[6], hdr[7]])),
            sequence: None,
            qos: None,
            payload: 8..end,
        };
        if hdr[0] & (FLAG_E | FLAG_S | FLAG_PN) == 0 {
            return Ok(g);
        }
        let opt = d
            .get(8..12)
            .filter(|_| end >= 12)
            .ok_or(GtpuError::Truncated)?;
        if hdr[0] & FLAG_S != 0 {
            g.sequence = Some(u16::from_be_bytes([opt[0], opt[1]]));
        }
        let mut at = 12;
        let mut next = if hdr[0] & FLAG_E != 0 { opt[3] } else { 0 };
        for _ in 0..MAX_EXTENSIONS {
            if next == 0 {
                g.payload = at..end;
                return Ok(g);
            }
            let len = 4 * usize::from(*d.get(at).ok_or(GtpuError::BadExtension)?);
            let ext = d
                .get(at..at + len)
                .filter(|_| len > 0 && at + len <= end)
                .ok_or(GtpuError::BadExtension)?;
            match next {
                EXT_PDU_SESSION_CONTAINER if len >= 4 => g.qos = Some(container(ext)),
                t if t & 0x80 != 0 && t != EXT_PDU_SESSION_CONTAINER => {
                    return Err(GtpuError::UnknownRequiredExtension);
                }
                _ => {}
            }
            next = ext[len - 1];
            at += len;
        }
        Err(GtpuError::BadExtension)
    }
}

/// QFI and RQI of a PDU Session Container (UL or DL: the QFI sits in the same bits; RQI is a DL
/// field, 0 in UL).
fn container(ext: &[u8]) -> (Qfi, bool) {
    let octet = ext.get(2).copied().unwrap_or(0);
    (Qfi::from_bits(octet), octet & 0x40 != 0)
}

/// Writes the 16-octet header of a UL G-PDU to `teid` with a UL PDU Session Container for `qfi`,
/// for a payload of `payload_len` octets (which follows in `out`).
pub(crate) fn write_ul_gpdu_header(
    out: &mut [u8; GPDU_HEADER_LEN],
    teid: Teid,
    qfi: Qfi,
    payload_len: usize,
) {
    let len = (8 + payload_len) as u16;
    let [l0, l1] = len.to_be_bytes();
    let [t0, t1, t2, t3] = teid.0.to_be_bytes();
    *out = [
        FLAGS_V1_PT | FLAG_E,
        G_PDU,
        l0,
        l1,
        t0,
        t1,
        t2,
        t3,
        0,
        0,
        0,
        EXT_PDU_SESSION_CONTAINER,
        1,
        0x10,
        qfi.get(),
        0,
    ];
}

/// Writes an Echo Request (with `request` true) or Echo Response with sequence number `seq` and
/// the Recovery IE (restart counter 0: TS 29.281 §7.2.2, it carries no meaning for GTP-U).
pub(crate) fn write_echo(out: &mut [u8; 14], request: bool, seq: u16) {
    let [s0, s1] = seq.to_be_bytes();
    let t = if request { ECHO_REQUEST } else { ECHO_RESPONSE };
    *out = [
        FLAGS_V1_PT | FLAG_S,
        t,
        0,
        6,
        0,
        0,
        0,
        0,
        s0,
        s1,
        0,
        0,
        IE_RECOVERY,
        0,
    ];
}

/// Longest Error Indication we write (IPv6 peer address).
pub(crate) const MAX_ERROR_INDICATION_LEN: usize = 16 + 5 + 3 + 16;

/// Writes an Error Indication for a G-PDU to `teid` that came from UDP port `from_port`: TEID
/// Data I, and our address as GTP-U Peer Address (§7.3.1), with the UDP Port extension header
/// (§5.2.2.1). Returns the length.
pub(crate) fn write_error_indication(
    out: &mut [u8; MAX_ERROR_INDICATION_LEN],
    teid: Teid,
    ours: IpAddr,
    from_port: u16,
) -> usize {
    let addr_len = match ours {
        IpAddr::V4(_) => 4,
        IpAddr::V6(_) => 16,
    };
    let total = 16 + 5 + 3 + addr_len;
    out[0] = FLAGS_V1_PT | FLAG_E | FLAG_S;
    out[1] = ERROR_INDICATION;
    out[2..4].copy_from_slice(&((total - 8) as u16).to_be_bytes());
    out[4..12].fill(0);
    out[11] = EXT_UDP_PORT;
    out[12] = 1;
    out[13..15].copy_from_slice(&from_port.to_be_bytes());
    out[15] = 0;
    out[16] = IE_TEID_DATA_I;
    out[17..21].copy_from_slice(&teid.0.to_be_bytes());
    out[21] = IE_PEER_ADDRESS;
    out[22..24].copy_from_slice(&(addr_len as u16).to_be_bytes());
    match ours {
        IpAddr::V4(a) => out[24..28].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => out[24..40].copy_from_slice(&a.octets()),
    }
    total
}

/// The TEID an Error Indication's TEID Data I names (its IEs start at `ies`).
pub(crate) fn error_indication_teid(ies: &[u8]) -> Option<Teid> {
    // TEID Data I is the first IE (TS 29.281 §7.3.1: IEs in increasing type order).
    match ies {
        [IE_TEID_DATA_I, a, b, c, d, ..] => Some(Teid(u32::from_be_bytes([*a, *b, *c, *d]))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DL G-PDU as TS 29.281 §5.1 and TS 38.415 §5.5.2.1 lay it out: flags 0x34 (E=1), type
    /// 0xFF, length, TEID, sequence 0, N-PDU 0, next 0x85; container length 1, PDU type 0,
    /// PPP=0 RQI=1 QFI=9, next 0.
    const DL_GPDU: [u8; 20] = [
        0x34, 0xff, 0x00, 0x0c, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x00, 0x85, 0x01, 0x00, 0x49,
        0x00, 0x45, 0x00, 0x00, 0x04,
    ];

    #[test]
    fn parses_a_dl_gpdu_with_its_container() {
        let g = Gtpu::parse(&DL_GPDU).unwrap();
        assert_eq!(g.message_type, G_PDU);
        assert_eq!(g.teid, Teid(0x1001));
        assert_eq!(g.qos, Some((Qfi::new(9).unwrap(), true)));
        assert_eq!(g.payload, 16..20);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert_eq!(Gtpu::parse(&DL_GPDU[..7]), Err(GtpuError::Truncated));
        assert_eq!(Gtpu::parse(&DL_GPDU[..19]), Err(GtpuError::Truncated));
        let mut v0 = DL_GPDU;
        v0[0] = 0x14;
        assert_eq!(Gtpu::parse(&v0), Err(GtpuError::Version));
        let mut zero_len = DL_GPDU;
        zero_len[12] = 0;
        assert_eq!(Gtpu::parse(&zero_len), Err(GtpuError::BadExtension));
        let mut required = DL_GPDU;
        required[11] = 0xc1;
        assert_eq!(
            Gtpu::parse(&required),
            Err(GtpuError::UnknownRequiredExtension)
        );
        let mut optional = DL_GPDU;
        optional[11] = 0x01;
        assert_eq!(Gtpu::parse(&optional).unwrap().qos, None, "skipped");
        // A chain that loops on itself: each container names another one.
        let mut chain = vec![0x34, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x85];
        for _ in 0..8 {
            chain.extend_from_slice(&[1, 0, 9, 0x85]);
        }
        let n = (chain.len() - 8) as u16;
        chain[2..4].copy_from_slice(&n.to_be_bytes());
        assert_eq!(
            Gtpu::parse(&chain),
            Err(GtpuError::BadExtension),
            "bounded walk"
        );
    }

    #[test]
    fn ul_header_round_trips() {
        let mut h = [0; GPDU_HEADER_LEN];
        write_ul_gpdu_header(&mut h, Teid(0xdead_beef), Qfi::new(5).unwrap(), 4);
        assert_eq!(
            &h[..],
            &[
                0x34, 0xff, 0, 12, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0x85, 1, 0x10, 5, 0
            ]
        );
        let mut d = h.to_vec();
        d.extend_from_slice(&[0x45, 0, 0, 4]);
        let g = Gtpu::parse(&d).unwrap();
        assert_eq!(
            (g.teid, g.qos, g.payload),
            (
                Teid(0xdead_beef),
                Some((Qfi::new(5).unwrap(), false)),
                16..20
            )
        );
    }

    #[test]
    fn echo_and_error_indication_round_trip() {
        let mut e = [0; 14];
        write_echo(&mut e, false, 0x1234);
        let g = Gtpu::parse(&e).unwrap();
        assert_eq!((g.message_type, g.sequence), (ECHO_RESPONSE, Some(0x1234)));
        assert_eq!(&e[g.payload], &[IE_RECOVERY, 0]);
        let mut ei = [0; MAX_ERROR_INDICATION_LEN];
        let n = write_error_indication(&mut ei, Teid(77), "192.0.2.9".parse().unwrap(), 40_000);
        assert_eq!(n, 28);
        let g = Gtpu::parse(&ei[..n]).unwrap();
        assert_eq!(g.message_type, ERROR_INDICATION);
        assert_eq!(
            error_indication_teid(&ei[g.payload.clone()]),
            Some(Teid(77))
        );
        assert_eq!(&ei[g.payload][5..], &[133, 0, 4, 192, 0, 2, 9]);
        assert_eq!(error_indication_teid(&[16, 0, 0]), None);
    }
}
