//! Values of the emulator's NAS world as the N3IWF's NGAP types take them.

use n3iwf::ids::{AmfPointer, AmfRegionId, AmfSetId, Guami, Plmn, Sd, Snssai, Sst};
use n3iwf::ngap::{SecurityKey, UeSecurityCapabilities};

use crate::identity::{AmfId, Plmn as NasPlmn};
use crate::nas::{Nssai, UeSecurityCapability};
use crate::secret::Kn3iwf;

/// The PLMN, through its NAS octets (the two layouts differ for 3-digit MNCs; `Plmn` converts).
pub fn plmn(plmn: NasPlmn) -> Plmn {
    // The emulator's PLMNs are made from decimal digits, so their NAS octets always parse.
    Plmn::from_nas(plmn.to_nas()).unwrap_or_else(|_| unreachable!("decimal PLMN"))
}

/// The GUAMI of an AMF identifier in a PLMN.
pub fn guami(plmn_id: NasPlmn, amf: AmfId) -> Guami {
    Guami {
        plmn: plmn(plmn_id),
        region: AmfRegionId(amf.region()),
        // `AmfId` holds a 10-bit set and a 6-bit pointer.
        set: AmfSetId::new(amf.set()).unwrap_or_else(|| unreachable!("10-bit set")),
        pointer: AmfPointer::new(amf.pointer()).unwrap_or_else(|| unreachable!("6-bit pointer")),
    }
}

/// The S-NSSAIs of an NSSAI (without the mapped HPLMN values, which NGAP lists do not carry).
pub fn slices(nssai: &Nssai) -> Vec<Snssai> {
    nssai
        .0
        .iter()
        .map(|s| Snssai {
            sst: Sst(s.sst),
            sd: s.sd.map(Sd),
        })
        .collect()
}

/// NGAP UE Security Capabilities from the NAS UE security capability (TS 24.501 §9.11.3.54):
/// the NAS octet has EA0 in bit 8, then 128-EA1..3; NGAP's 16-bit maps start at 128-NEA1 in the
/// most significant bit. E-UTRA maps come from the EPS octets when present, else the same.
pub fn security_capabilities(capability: &UeSecurityCapability) -> UeSecurityCapabilities {
    let octets = capability.as_bytes();
    let map = |octet: Option<&u8>| u16::from(octet.copied().unwrap_or(0) & 0x70) << 9;
    UeSecurityCapabilities {
        nr_encryption: map(octets.first()),
        nr_integrity: map(octets.get(1)),
        eutra_encryption: map(octets.get(2).or_else(|| octets.first())),
        eutra_integrity: map(octets.get(3).or_else(|| octets.get(1))),
    }
}

/// KN3IWF as the Security Key IE.
pub fn security_key(kn3iwf: &Kn3iwf) -> SecurityKey {
    SecurityKey::new(*kn3iwf.dangerous_as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_digit_mnc_converts_by_value() {
        let nas = NasPlmn::new("310", "410").unwrap();
        let ours = plmn(nas);
        assert_eq!((ours.mcc(), ours.mnc()), (310, 410));
        assert_eq!(ours.to_ngap(), [0x13, 0x40, 0x01]);
    }

    #[test]
    fn capability_bits_move_to_the_ngap_maps() {
        // NEA0, NEA2 and NIA2: NGAP has 128-NEA2 and 128-NIA2, the second bit each.
        let caps = security_capabilities(&UeSecurityCapability::new(0xA0, 0x20));
        assert_eq!(caps.nr_encryption, 0x4000);
        assert_eq!(caps.nr_integrity, 0x4000);
        assert_eq!(caps.eutra_encryption, 0x4000);
    }
}
