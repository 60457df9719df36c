//! GRE as NWu user-plane Child SAs carry it (TS 24.502 §9.3.3, RFC 2784, RFC 2890): the key
//! holds the QFI (octet 1, bits 5..0) and, downlink, the RQI (octet 4, bit 7).

use crate::user_plane::{GreProtocolType, Qfi};

/// IP protocol number of GRE.
pub(crate) const PROTO_GRE: u8 = 47;
/// Length of the GRE header we build (K=1, no checksum, no sequence number).
pub(crate) const HEADER_LEN: usize = 8;

const FLAG_C: u8 = 0x80;
const FLAG_K: u8 = 0x20;
const FLAG_S: u8 = 0x10;

/// Why a GRE header was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GreError {
    /// Shorter than the header its flags announce.
    Truncated,
    /// Version other than 0.
    Version,
}

/// A parsed GRE header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Gre {
    /// QFI and RQI from the key; `None` without K.
    pub(crate) key: Option<(Qfi, bool)>,
    /// Where the payload starts. The Protocol Type is ignored, as §9.3.3 asks: the payload's
    /// first nibble says what it is.
    pub(crate) payload_at: usize,
}

impl Gre {
    pub(crate) fn parse(d: &[u8]) -> Result<Self, GreError> {
        let [flags, ver, _, _] = *d.first_chunk::<4>().ok_or(GreError::Truncated)?;
        if ver & 0x07 != 0 {
            return Err(GreError::Version);
        }
        let mut at = 4;
        if flags & FLAG_C != 0 {
            at += 4;
        }
        let key = if flags & FLAG_K != 0 {
            let k = d.get(at..at + 4).ok_or(GreError::Truncated)?;
            at += 4;
            Some((Qfi::from_bits(k[0]), k[3] & 0x80 != 0))
        } else {
            None
        };
        if flags & FLAG_S != 0 {
            at += 4;
        }
        if at > d.len() {
            return Err(GreError::Truncated);
        }
        Ok(Self {
            key,
            payload_at: at,
        })
    }
}

/// Writes a GRE header with K=1 for `qfi` and `rqi`, the Protocol Type as `mode` says for a
/// payload of IP version `version`.
pub(crate) fn write_header(
    out: &mut [u8; HEADER_LEN],
    qfi: Qfi,
    rqi: bool,
    mode: GreProtocolType,
    version: u8,
) {
    let proto: u16 = match (mode, version) {
        (GreProtocolType::Zero, _) => 0,
        (GreProtocolType::ByInnerVersion, 6) => 0x86dd,
        (GreProtocolType::ByInnerVersion, _) => 0x0800,
    };
    let [p0, p1] = proto.to_be_bytes();
    *out = [
        FLAG_K,
        0,
        p0,
        p1,
        qfi.get(),
        0,
        0,
        if rqi { 0x80 } else { 0 },
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_carries_qfi_and_rqi() {
        // TS 24.502 Figure 9.3.3-1: 0x2000, Protocol Type, key octet 1 = QFI, octet 4 bit 8 = RQI.
        let mut h = [0; HEADER_LEN];
        write_header(
            &mut h,
            Qfi::new(9).unwrap(),
            true,
            GreProtocolType::ByInnerVersion,
            4,
        );
        assert_eq!(h, [0x20, 0, 0x08, 0x00, 9, 0, 0, 0x80]);
        write_header(
            &mut h,
            Qfi::new(1).unwrap(),
            false,
            GreProtocolType::Zero,
            6,
        );
        assert_eq!(h, [0x20, 0, 0, 0, 1, 0, 0, 0]);
        write_header(
            &mut h,
            Qfi::new(63).unwrap(),
            false,
            GreProtocolType::ByInnerVersion,
            6,
        );
        assert_eq!(&h[2..4], &[0x86, 0xdd]);
        let g = Gre::parse(&[0x20, 0, 0x08, 0, 0xc9, 0, 0, 0x80, 0x45]).unwrap();
        assert_eq!(
            g.key,
            Some((Qfi::new(9).unwrap(), true)),
            "spare bits ignored"
        );
        assert_eq!(g.payload_at, 8);
    }

    #[test]
    fn optional_fields_move_the_payload_and_bad_headers_are_refused() {
        let g = Gre::parse(&[0xb0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 1]).unwrap();
        assert_eq!(
            (g.key, g.payload_at),
            (Some((Qfi::new(5).unwrap(), false)), 16)
        );
        assert_eq!(
            Gre::parse(&[0, 0, 0x08, 0]).unwrap(),
            Gre {
                key: None,
                payload_at: 4
            }
        );
        assert_eq!(Gre::parse(&[0x20, 0, 0, 0, 1]), Err(GreError::Truncated));
        assert_eq!(
            Gre::parse(&[0x90, 0, 0, 0, 0, 0, 0]),
            Err(GreError::Truncated)
        );
        assert_eq!(Gre::parse(&[0, 1, 0, 0]), Err(GreError::Version));
        assert_eq!(Gre::parse(&[0x20]), Err(GreError::Truncated));
    }
}
