//! PLMN identity (MCC + MNC) and its two octet layouts.
//!
//! The same network is written differently on NWu and on N2:
//!
//! - **NAS layout** (TS 24.008 §10.5.1.3, used by the AN parameters GUAMI and selected PLMN of
//!   TS 24.502 §9.3.2.2.2 and by the GUAMI of TS 24.502 §9.2.1): octet 1 = MCC2|MCC1, octet 2 =
//!   MNC3|MCC3, octet 3 = MNC2|MNC1. 310-410 is `13 00 14`.
//! - **NGAP layout** (TS 38.413 §9.3.3.5): the six digits in order, two per octet, low nibble
//!   first, with a filler F before a 2-digit MNC. 310-410 is `13 40 01`.
//!
//! With a 2-digit MNC (filler F in the MNC3 position) both layouts give the same octets; with a
//! 3-digit MNC they differ, so every crossing between NAS and NGAP goes through [`Plmn`].

use core::fmt;

use crate::wire::WireError;

/// A PLMN identity: a 3-digit MCC and a 2- or 3-digit MNC, each digit 0..=9.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Plmn {
    mcc: [u8; 3],
    mnc: [u8; 3],
    mnc_digits: MncDigits,
}

/// How many digits the MNC has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MncDigits {
    Two,
    Three,
}

/// The filler nibble that stands for the missing third MNC digit.
const FILLER: u8 = 0x0f;

impl Plmn {
    /// A PLMN from its digits as text, such as `("310", "410")` or `("208", "93")`.
    ///
    /// # Errors
    /// [`WireError::BadValue`] unless the MCC has 3 decimal digits and the MNC 2 or 3.
    pub fn new(mcc: &str, mnc: &str) -> Result<Self, WireError> {
        let mcc: [u8; 3] = decimal_digits(mcc)
            .and_then(|d| d.try_into().ok())
            .ok_or(WireError::BadValue("MCC"))?;
        let mnc_vec = decimal_digits(mnc).ok_or(WireError::BadValue("MNC"))?;
        let (mnc, mnc_digits) = match mnc_vec.as_slice() {
            [a, b] => ([*a, *b, FILLER], MncDigits::Two),
            [a, b, c] => ([*a, *b, *c], MncDigits::Three),
            _ => return Err(WireError::BadValue("MNC")),
        };
        Ok(Self {
            mcc,
            mnc,
            mnc_digits,
        })
    }

    /// Parses the NAS layout (TS 24.008 §10.5.1.3).
    ///
    /// # Errors
    /// [`WireError::BadValue`] for a nibble that is not a decimal digit (or a filler anywhere but
    /// MNC digit 3).
    pub fn from_nas(octets: [u8; 3]) -> Result<Self, WireError> {
        let [a, b, c] = octets;
        Self::from_nibbles([low(a), high(a), low(b)], [low(c), high(c), high(b)])
    }

    /// Parses the NGAP layout (TS 38.413 §9.3.3.5).
    ///
    /// # Errors
    /// As [`Plmn::from_nas`].
    pub fn from_ngap(octets: [u8; 3]) -> Result<Self, WireError> {
        let [a, b, c] = octets;
        match high(b) {
            FILLER => Self::from_nibbles([low(a), high(a), low(b)], [low(c), high(c), FILLER]),
            mnc1 => Self::from_nibbles([low(a), high(a), low(b)], [mnc1, low(c), high(c)]),
        }
    }

    /// The NAS layout (TS 24.008 §10.5.1.3).
    pub fn to_nas(self) -> [u8; 3] {
        let [m1, m2, m3] = self.mcc;
        let [n1, n2, n3] = self.mnc;
        [m2 << 4 | m1, n3 << 4 | m3, n2 << 4 | n1]
    }

    /// The NGAP layout (TS 38.413 §9.3.3.5).
    pub fn to_ngap(self) -> [u8; 3] {
        let [m1, m2, m3] = self.mcc;
        let [n1, n2, n3] = self.mnc;
        match self.mnc_digits {
            MncDigits::Two => [m2 << 4 | m1, FILLER << 4 | m3, n2 << 4 | n1],
            MncDigits::Three => [m2 << 4 | m1, n1 << 4 | m3, n3 << 4 | n2],
        }
    }

    /// The MCC as a number (`310`).
    pub fn mcc(self) -> u16 {
        digits_value(&self.mcc)
    }

    /// The MNC as a number (`410`, or `93` for a 2-digit `93`).
    pub fn mnc(self) -> u16 {
        match self.mnc_digits {
            MncDigits::Two => digits_value(&self.mnc[..2]),
            MncDigits::Three => digits_value(&self.mnc),
        }
    }

    /// How many digits the MNC has (`"01"` and `"001"` are different networks).
    pub fn mnc_digits(self) -> MncDigits {
        self.mnc_digits
    }

    fn from_nibbles(mcc: [u8; 3], mnc: [u8; 3]) -> Result<Self, WireError> {
        if mcc.iter().any(|d| *d > 9) {
            return Err(WireError::BadValue("MCC"));
        }
        let mnc_digits = match mnc {
            [a, b, FILLER] if a <= 9 && b <= 9 => MncDigits::Two,
            [a, b, c] if a <= 9 && b <= 9 && c <= 9 => MncDigits::Three,
            _ => return Err(WireError::BadValue("MNC")),
        };
        Ok(Self {
            mcc,
            mnc,
            mnc_digits,
        })
    }
}

impl fmt::Display for Plmn {
    /// `310-410`, `208-93`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = match self.mnc_digits {
            MncDigits::Two => &self.mnc[..2],
            MncDigits::Three => &self.mnc[..],
        };
        for d in self.mcc {
            write!(f, "{d}")?;
        }
        f.write_str("-")?;
        digits.iter().try_for_each(|d| write!(f, "{d}"))
    }
}

impl fmt::Debug for Plmn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Plmn({self})")
    }
}

fn decimal_digits(text: &str) -> Option<Vec<u8>> {
    text.bytes()
        .map(|b| b.is_ascii_digit().then(|| b - b'0'))
        .collect()
}

fn digits_value(digits: &[u8]) -> u16 {
    digits.iter().fold(0, |acc, d| acc * 10 + u16::from(*d))
}

fn low(octet: u8) -> u8 {
    octet & 0x0f
}

fn high(octet: u8) -> u8 {
    octet >> 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_digit_mnc_layouts_differ() {
        let plmn = Plmn::new("310", "410").unwrap();
        assert_eq!(plmn.to_nas(), [0x13, 0x00, 0x14]);
        assert_eq!(plmn.to_ngap(), [0x13, 0x40, 0x01]);
        assert_eq!(Plmn::from_nas([0x13, 0x00, 0x14]), Ok(plmn));
        assert_eq!(Plmn::from_ngap([0x13, 0x40, 0x01]), Ok(plmn));
        assert_eq!((plmn.mcc(), plmn.mnc()), (310, 410));
        assert_eq!(plmn.to_string(), "310-410");
    }

    /// Reading NAS octets as NGAP (what free5GC's N3IWF does with the AN parameters) gives
    /// another network for a 3-digit MNC.
    #[test]
    fn nas_octets_read_as_ngap_are_another_network() {
        let wrong = Plmn::from_ngap([0x13, 0x00, 0x14]).unwrap();
        assert_eq!(wrong.to_string(), "310-041");
    }

    #[test]
    fn two_digit_mnc_layouts_agree() {
        for (mcc, mnc, octets) in [
            ("208", "93", [0x02, 0xf8, 0x39]),
            ("001", "01", [0x00, 0xf1, 0x10]),
        ] {
            let plmn = Plmn::new(mcc, mnc).unwrap();
            assert_eq!(plmn.to_nas(), octets);
            assert_eq!(plmn.to_ngap(), octets);
            assert_eq!(Plmn::from_nas(octets), Ok(plmn));
            assert_eq!(Plmn::from_ngap(octets), Ok(plmn));
            assert_eq!(plmn.mnc_digits(), MncDigits::Two);
        }
    }

    #[test]
    fn leading_zero_mnc_keeps_its_length() {
        let three = Plmn::new("001", "001").unwrap();
        let two = Plmn::new("001", "01").unwrap();
        assert_ne!(three, two);
        assert_eq!(three.to_ngap(), [0x00, 0x01, 0x10]);
        assert_eq!(Plmn::from_ngap(three.to_ngap()), Ok(three));
        assert_eq!(three.to_string(), "001-001");
    }

    #[test]
    fn refuses_non_digits_and_misplaced_fillers() {
        assert_eq!(Plmn::new("31", "410"), Err(WireError::BadValue("MCC")));
        assert_eq!(Plmn::new("310", "4"), Err(WireError::BadValue("MNC")));
        assert_eq!(Plmn::new("3a0", "41"), Err(WireError::BadValue("MCC")));
        assert_eq!(
            Plmn::from_nas([0x1a, 0xf0, 0x14]),
            Err(WireError::BadValue("MCC"))
        );
        assert_eq!(
            Plmn::from_nas([0x13, 0x00, 0xf4]),
            Err(WireError::BadValue("MNC"))
        );
        assert_eq!(
            Plmn::from_ngap([0x13, 0xf0, 0x1f]),
            Err(WireError::BadValue("MNC"))
        );
    }

    #[test]
    fn every_valid_nas_value_converts_both_ways() {
        for mcc in [0u16, 1, 208, 310, 999] {
            for (mnc, width) in [(0u16, 2), (93, 2), (0, 3), (41, 3), (410, 3), (999, 3)] {
                let plmn = Plmn::new(&format!("{mcc:03}"), &format!("{mnc:0width$}")).unwrap();
                assert_eq!(Plmn::from_nas(plmn.to_nas()), Ok(plmn));
                assert_eq!(Plmn::from_ngap(plmn.to_ngap()), Ok(plmn));
            }
        }
    }
}
