//! The PDU Session Container extension header (TS 38.415 §5.5.2): the QFI of an N3/N9 packet,
//! with the RQI and paging policy on the downlink.

use crate::{Error, Qfi};

/// The PDU Session Information a PDU Session Container carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PduSessionInfo {
    /// DL PDU SESSION INFORMATION (PDU type 0, TS 38.415 §5.5.2.1).
    Downlink(DlPduSessionInfo),
    /// UL PDU SESSION INFORMATION (PDU type 1, TS 38.415 §5.5.2.2).
    Uplink(UlPduSessionInfo),
}

/// The downlink fields we use: QFI, RQI and the Paging Policy Indicator (present when PPP=1).
/// The optional timing and sequence fields that may follow are skipped on parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DlPduSessionInfo {
    /// QoS Flow Identifier.
    pub qfi: Qfi,
    /// Reflective QoS Indicator (TS 23.501 §5.7.5.4.2).
    pub rqi: bool,
    /// Paging Policy Indicator, 3 bits (0..=7); `None` when PPP=0.
    pub ppi: Option<Ppi>,
}

/// The uplink fields we use: the QFI. Delay and sequence fields are skipped on parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UlPduSessionInfo {
    /// QoS Flow Identifier.
    pub qfi: Qfi,
}

/// A Paging Policy Indicator: 3 bits (TS 38.415 §5.5.3.7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ppi(u8);

impl Ppi {
    /// `None` above 7.
    pub const fn new(value: u8) -> Option<Self> {
        if value > 0x07 {
            return None;
        }
        Some(Self(value))
    }

    /// The PPI as a number, 0 to 7.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl PduSessionInfo {
    /// A downlink container with this QFI and RQI, no PPI.
    pub const fn downlink(qfi: Qfi, rqi: bool) -> Self {
        Self::Downlink(DlPduSessionInfo {
            qfi,
            rqi,
            ppi: None,
        })
    }

    /// An uplink container with this QFI.
    pub const fn uplink(qfi: Qfi) -> Self {
        Self::Uplink(UlPduSessionInfo { qfi })
    }

    /// The QFI, in either direction.
    pub const fn qfi(&self) -> Qfi {
        match self {
            Self::Downlink(dl) => dl.qfi,
            Self::Uplink(ul) => ul.qfi,
        }
    }

    /// The RQI: always false on the uplink, which has none.
    pub const fn rqi(&self) -> bool {
        match self {
            Self::Downlink(dl) => dl.rqi,
            Self::Uplink(_) => false,
        }
    }

    /// Parses the container's content: the octets between the extension header's length octet
    /// and its next-type octet.
    ///
    /// # Errors
    /// [`Error::PduSessionContainer`] when it is too short for its fields or of a PDU type
    /// other than 0 (DL) and 1 (UL).
    pub(crate) fn parse(content: &[u8]) -> Result<Self, Error> {
        let (Some(&first), Some(&second)) = (content.first(), content.get(1)) else {
            return Err(Error::PduSessionContainer);
        };
        let qfi = Qfi::from_low_bits(second);
        match first >> 4 {
            PDU_TYPE_DL => {
                let ppi = if second & PPP != 0 {
                    let &octet = content.get(2).ok_or(Error::PduSessionContainer)?;
                    Some(Ppi(octet >> 5))
                } else {
                    None
                };
                Ok(Self::Downlink(DlPduSessionInfo {
                    qfi,
                    rqi: second & RQI != 0,
                    ppi,
                }))
            }
            PDU_TYPE_UL => Ok(Self::uplink(qfi)),
            _ => Err(Error::PduSessionContainer),
        }
    }

    /// The extension header's length in 4-octet units: 1, or 2 when a PPI makes the content
    /// three octets.
    pub(crate) const fn length_units(&self) -> u8 {
        match self {
            Self::Downlink(DlPduSessionInfo { ppi: Some(_), .. }) => 2,
            _ => 1,
        }
    }

    /// Writes the whole extension header (length octet, content, padding, next type 0) into
    /// `out`, which is exactly `4 * length_units()` octets.
    pub(crate) fn write(&self, out: &mut [u8]) {
        out.fill(0);
        let (first, second, third) = match self {
            Self::Downlink(dl) => {
                let mut second = dl.qfi.get();
                if dl.rqi {
                    second |= RQI;
                }
                let third = dl.ppi.map(|p| {
                    second |= PPP;
                    p.0 << 5
                });
                (PDU_TYPE_DL << 4, second, third)
            }
            Self::Uplink(ul) => (PDU_TYPE_UL << 4, ul.qfi.get(), None),
        };
        let header = [self.length_units(), first, second];
        for (slot, value) in out.iter_mut().zip(header) {
            *slot = value;
        }
        if let (Some(third), Some(slot)) = (third, out.get_mut(3)) {
            *slot = third;
        }
    }
}

const PDU_TYPE_DL: u8 = 0;
const PDU_TYPE_UL: u8 = 1;
/// DL octet 2: Paging Policy Presence.
const PPP: u8 = 0x80;
/// DL octet 2: Reflective QoS Indicator.
const RQI: u8 = 0x40;

#[cfg(test)]
mod tests {
    use super::*;

    fn qfi(v: u8) -> Qfi {
        Qfi::new(v).expect("valid QFI")
    }

    // TS 38.415 §5.5.2.1, figure 5.5.2.1-1: octet 1 = PDU type 0 | QMP | SNP | MSNP | spare;
    // octet 2 = PPP | RQI | QFI; octet 3 = PPI | spare (when PPP).
    #[test]
    fn downlink_fields_are_read_from_their_bits() {
        assert_eq!(
            PduSessionInfo::parse(&[0x00, 0x49]),
            Ok(PduSessionInfo::downlink(qfi(9), true))
        );
        let with_ppi = PduSessionInfo::parse(&[0x00, 0x85, 0xA0]).expect("valid");
        assert_eq!(
            with_ppi,
            PduSessionInfo::Downlink(DlPduSessionInfo {
                qfi: qfi(5),
                rqi: false,
                ppi: Ppi::new(5),
            })
        );
    }

    // TS 38.415 §5.5.2.2, figure 5.5.2.2-1: octet 1 = PDU type 1 | QMP | DL delay | UL delay |
    // SNP; octet 2 = N3/N9 delay | new IE | QFI. The flag bits must not leak into the QFI.
    #[test]
    fn uplink_qfi_ignores_flag_bits() {
        assert_eq!(
            PduSessionInfo::parse(&[0x1F, 0xC1]),
            Ok(PduSessionInfo::uplink(qfi(1)))
        );
    }

    #[test]
    fn short_or_unknown_containers_are_errors() {
        for bad in [
            &[][..],
            &[0x00],
            &[0x00, 0x80],
            &[0x20, 0x01],
            &[0xF0, 0x01],
        ] {
            assert_eq!(
                PduSessionInfo::parse(bad),
                Err(Error::PduSessionContainer),
                "{bad:02x?}"
            );
        }
    }

    #[test]
    fn write_then_parse_gives_the_same_info() {
        let cases = [
            PduSessionInfo::uplink(qfi(63)),
            PduSessionInfo::downlink(qfi(1), true),
            PduSessionInfo::Downlink(DlPduSessionInfo {
                qfi: qfi(2),
                rqi: false,
                ppi: Ppi::new(7),
            }),
        ];
        for info in cases {
            let mut ext = [0xAA_u8; 8];
            let len = 4 * usize::from(info.length_units());
            info.write(&mut ext[..len]);
            assert_eq!(ext[0], info.length_units());
            assert_eq!(ext[len - 1], 0, "next extension header type");
            assert_eq!(PduSessionInfo::parse(&ext[1..len - 1]), Ok(info));
        }
    }

    #[test]
    fn ppi_is_three_bits() {
        assert_eq!(Ppi::new(7).map(Ppi::get), Some(7));
        assert_eq!(Ppi::new(8), None);
    }
}
