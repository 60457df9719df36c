//! PLMN identity (MCC and MNC digits) and its NAS encoding (TS 24.008 §10.5.1.13 layout, which
//! TS 24.501 uses): octet 1 = MCC2|MCC1, octet 2 = MNC3|MCC3, octet 3 = MNC2|MNC1, with MNC3 = F
//! for a two-digit MNC.

use std::fmt;

/// A PLMN identity. Digits are kept as numbers 0..=9; the constructor checks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Plmn {
    mcc: [u8; 3],
    mnc: [u8; 3],
    mnc_len: u8,
}

impl Plmn {
    /// From decimal strings: a three-digit MCC and a two- or three-digit MNC.
    pub fn new(mcc: &str, mnc: &str) -> Option<Self> {
        let mcc_digits = digits::<3>(mcc)?;
        let mnc_len = u8::try_from(mnc.len())
            .ok()
            .filter(|n| (2..=3).contains(n))?;
        let mut mnc_digits = [0u8; 3];
        for (slot, ch) in mnc_digits.iter_mut().zip(mnc.bytes()) {
            *slot = digit(ch)?;
        }
        Some(Self {
            mcc: mcc_digits,
            mnc: mnc_digits,
            mnc_len,
        })
    }

    /// The three NAS octets.
    pub fn to_nas(self) -> [u8; 3] {
        let mnc3 = if self.mnc_len == 3 { self.mnc[2] } else { 0x0F };
        [
            self.mcc[1] << 4 | self.mcc[0],
            mnc3 << 4 | self.mcc[2],
            self.mnc[1] << 4 | self.mnc[0],
        ]
    }

    /// From the three NAS octets; `None` on a digit above 9 or a misplaced filler.
    pub fn from_nas(octets: [u8; 3]) -> Option<Self> {
        let nibbles = [
            octets[0] & 0x0F,
            octets[0] >> 4,
            octets[1] & 0x0F,
            octets[2] & 0x0F,
            octets[2] >> 4,
        ];
        if nibbles.iter().any(|&d| d > 9) {
            return None;
        }
        let mnc3 = octets[1] >> 4;
        let (mnc_len, mnc3) = match mnc3 {
            0x0F => (2, 0),
            d if d <= 9 => (3, d),
            _ => return None,
        };
        Some(Self {
            mcc: [nibbles[0], nibbles[1], nibbles[2]],
            mnc: [nibbles[3], nibbles[4], mnc3],
            mnc_len,
        })
    }

    /// The MCC as three ASCII digits.
    pub fn mcc(&self) -> String {
        self.mcc.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// The MNC as two or three ASCII digits.
    pub fn mnc(&self) -> String {
        self.mnc[..usize::from(self.mnc_len)]
            .iter()
            .map(|d| char::from(b'0' + d))
            .collect()
    }
}

impl fmt::Display for Plmn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.mcc(), self.mnc())
    }
}

pub(crate) fn digit(ch: u8) -> Option<u8> {
    ch.is_ascii_digit().then(|| ch - b'0')
}

fn digits<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N {
        return None;
    }
    let mut out = [0u8; N];
    for (slot, ch) in out.iter_mut().zip(text.bytes()) {
        *slot = digit(ch)?;
    }
    Some(out)
}
