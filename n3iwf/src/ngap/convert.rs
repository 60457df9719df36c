//! Conversions between the facade's values and the bindings' common IE types.

use std::net::{Ipv4Addr, Ipv6Addr};

use oxirush_ngap::ngap as asn;
use oxirush_ngap::{BitString, Bits};

use crate::ids::{AmfPointer, AmfRegionId, AmfSetId, Guami, Plmn, Sd, Snssai, Sst};

use super::error::EncodeError;
use super::ies::ReadError;
use super::types::{
    FiveGSTmsi, N3iwfUserLocation, PlmnSlices, ServedGuami, TransportAddress, UeAmbr,
    UeSecurityCapabilities,
};

pub(super) fn plmn_to_asn(plmn: Plmn) -> asn::PLMNIdentity {
    asn::PLMNIdentity(plmn.to_ngap())
}

pub(super) fn plmn_from_asn(plmn: &asn::PLMNIdentity) -> Result<Plmn, ReadError> {
    Ok(Plmn::from_ngap(plmn.0)?)
}

pub(super) fn snssai_to_asn(snssai: Snssai) -> asn::SNSSAI {
    asn::SNSSAI::new(
        asn::SST([snssai.sst.0]),
        snssai.sd.map(|sd| asn::SD(sd.0)),
        None,
    )
}

pub(super) fn snssai_from_asn(snssai: &asn::SNSSAI) -> Snssai {
    Snssai {
        sst: Sst(snssai.sst.0[0]),
        sd: snssai.sd.map(|sd| Sd(sd.0)),
    }
}

pub(super) fn slices_to_asn(slices: &[Snssai]) -> asn::SliceSupportList {
    let items = slices
        .iter()
        .map(|s| asn::SliceSupportItem::new(snssai_to_asn(*s), None));
    asn::SliceSupportList(items.collect())
}

pub(super) fn slices_from_asn(list: &asn::SliceSupportList) -> Vec<Snssai> {
    list.0
        .iter()
        .map(|item| snssai_from_asn(&item.s_nssai))
        .collect()
}

pub(super) fn plmn_support_to_asn(support: &[PlmnSlices]) -> asn::PLMNSupportList {
    let items = support
        .iter()
        .map(|p| asn::PLMNSupportItem::new(plmn_to_asn(p.plmn), slices_to_asn(&p.slices), None));
    asn::PLMNSupportList(items.collect())
}

pub(super) fn plmn_support_from_asn(
    list: &asn::PLMNSupportList,
) -> Result<Vec<PlmnSlices>, ReadError> {
    list.0
        .iter()
        .map(|item| {
            Ok(PlmnSlices {
                plmn: plmn_from_asn(&item.plmn_identity)?,
                slices: slices_from_asn(&item.slice_support_list),
            })
        })
        .collect()
}

pub(super) fn allowed_nssai_to_asn(nssai: &[Snssai]) -> asn::AllowedNSSAI {
    let items = nssai
        .iter()
        .map(|s| asn::AllowedNSSAIItem::new(snssai_to_asn(*s), None));
    asn::AllowedNSSAI(items.collect())
}

pub(super) fn allowed_nssai_from_asn(nssai: &asn::AllowedNSSAI) -> Vec<Snssai> {
    nssai
        .0
        .iter()
        .map(|item| snssai_from_asn(&item.s_nssai))
        .collect()
}

pub(super) fn guami_to_asn(guami: Guami) -> Result<asn::GUAMI, EncodeError> {
    Ok(asn::GUAMI::new(
        plmn_to_asn(guami.plmn),
        asn::AMFRegionID(Bits::new(u64::from(guami.region.0), 8)?),
        asn::AMFSetID(Bits::new(u64::from(guami.set.value()), 10)?),
        asn::AMFPointer(Bits::new(u64::from(guami.pointer.value()), 6)?),
        None,
    ))
}

pub(super) fn guami_from_asn(guami: &asn::GUAMI) -> Result<Guami, ReadError> {
    let field = |what| ReadError::Value(what);
    Ok(Guami {
        plmn: plmn_from_asn(&guami.plmn_identity)?,
        region: AmfRegionId(
            u8::try_from(guami.amf_region_id.0.value()).map_err(|_| field("AMF Region ID"))?,
        ),
        set: set_id_from_bits(guami.amf_set_id.0)?,
        pointer: pointer_from_bits(guami.amf_pointer.0)?,
    })
}

fn set_id_from_bits(bits: Bits) -> Result<AmfSetId, ReadError> {
    u16::try_from(bits.value())
        .ok()
        .and_then(AmfSetId::new)
        .ok_or(ReadError::Value("AMF Set ID"))
}

fn pointer_from_bits(bits: Bits) -> Result<AmfPointer, ReadError> {
    u8::try_from(bits.value())
        .ok()
        .and_then(AmfPointer::new)
        .ok_or(ReadError::Value("AMF Pointer"))
}

pub(super) fn s_tmsi_to_asn(s_tmsi: FiveGSTmsi) -> Result<asn::FiveGSTMSI, EncodeError> {
    Ok(asn::FiveGSTMSI::new(
        asn::AMFSetID(Bits::new(u64::from(s_tmsi.set.value()), 10)?),
        asn::AMFPointer(Bits::new(u64::from(s_tmsi.pointer.value()), 6)?),
        asn::FiveGTMSI(s_tmsi.tmsi),
        None,
    ))
}

pub(super) fn s_tmsi_from_asn(s_tmsi: &asn::FiveGSTMSI) -> Result<FiveGSTmsi, ReadError> {
    Ok(FiveGSTmsi {
        set: set_id_from_bits(s_tmsi.amf_set_id.0)?,
        pointer: pointer_from_bits(s_tmsi.amf_pointer.0)?,
        tmsi: s_tmsi.five_g_tmsi.0,
    })
}

/// TS 38.413 §9.3.2.4: 32 bits for IPv4, 128 for IPv6, 160 for both.
pub(super) fn address_to_asn(address: TransportAddress) -> asn::TransportLayerAddress<'static> {
    let octets = match address {
        TransportAddress::V4(v4) => v4.octets().to_vec(),
        TransportAddress::V6(v6) => v6.octets().to_vec(),
        TransportAddress::Dual(v4, v6) => [&v4.octets()[..], &v6.octets()[..]].concat(),
    };
    asn::TransportLayerAddress(BitString::from(octets))
}

pub(super) fn address_from_asn(
    address: &asn::TransportLayerAddress<'_>,
) -> Result<TransportAddress, ReadError> {
    let octets = address.0.as_octets();
    let v4 = |o: &[u8]| <[u8; 4]>::try_from(o).map(Ipv4Addr::from);
    let v6 = |o: &[u8]| <[u8; 16]>::try_from(o).map(Ipv6Addr::from);
    let parsed = match address.0.len() {
        32 => v4(octets).map(TransportAddress::V4).ok(),
        128 => v6(octets).map(TransportAddress::V6).ok(),
        160 => octets.split_at_checked(4).and_then(|(a, b)| {
            let (a, b) = (v4(a).ok()?, v6(b).ok()?);
            Some(TransportAddress::Dual(a, b))
        }),
        _ => None,
    };
    parsed.ok_or(ReadError::Value("Transport Layer Address"))
}

pub(super) fn location_to_asn(
    location: N3iwfUserLocation,
) -> asn::UserLocationInformation<'static> {
    let n3iwf = asn::UserLocationInformationN3IWFWithPortNumber::new(
        address_to_asn(location.address),
        asn::PortNumber(location.port.to_be_bytes()),
        None,
    );
    asn::UserLocationInformation::userLocationInformationN3IWF_with_PortNumber(n3iwf)
}

/// The location of a UE behind an N3IWF; any other access's location is refused.
pub(super) fn location_from_asn(
    location: &asn::UserLocationInformation<'_>,
) -> Result<N3iwfUserLocation, ReadError> {
    match location {
        asn::UserLocationInformation::userLocationInformationN3IWF_with_PortNumber(n3iwf) => {
            Ok(N3iwfUserLocation {
                address: address_from_asn(&n3iwf.ip_address)?,
                port: u16::from_be_bytes(n3iwf.port_number.0),
            })
        }
        _ => Err(ReadError::Value("UserLocationInformation")),
    }
}

/// Each bitmap is 16 bits in this release (`SIZE(16, ...)`); a longer one keeps its first 16.
pub(super) fn security_capabilities_to_asn(
    caps: UeSecurityCapabilities,
) -> asn::UESecurityCapabilities<'static> {
    let bits = |v: u16| BitString::from(v.to_be_bytes());
    asn::UESecurityCapabilities::new(
        asn::NRencryptionAlgorithms(bits(caps.nr_encryption)),
        asn::NRintegrityProtectionAlgorithms(bits(caps.nr_integrity)),
        asn::EUTRAencryptionAlgorithms(bits(caps.eutra_encryption)),
        asn::EUTRAintegrityProtectionAlgorithms(bits(caps.eutra_integrity)),
        None,
    )
}

pub(super) fn security_capabilities_from_asn(
    caps: &asn::UESecurityCapabilities<'_>,
) -> UeSecurityCapabilities {
    let first16 = |b: &BitString<'_>| match b.as_octets() {
        [hi, lo, ..] => u16::from_be_bytes([*hi, *lo]),
        _ => 0,
    };
    UeSecurityCapabilities {
        nr_encryption: first16(&caps.nr_encryption_algorithms.0),
        nr_integrity: first16(&caps.nr_integrity_protection_algorithms.0),
        eutra_encryption: first16(&caps.eutra_encryption_algorithms.0),
        eutra_integrity: first16(&caps.eutra_integrity_protection_algorithms.0),
    }
}

pub(super) fn ambr_to_asn(ambr: UeAmbr) -> asn::UEAggregateMaximumBitRate {
    asn::UEAggregateMaximumBitRate::new(
        asn::BitRate(ambr.downlink),
        asn::BitRate(ambr.uplink),
        None,
    )
}

pub(super) fn ambr_from_asn(ambr: &asn::UEAggregateMaximumBitRate) -> UeAmbr {
    UeAmbr {
        downlink: ambr.ue_aggregate_maximum_bit_rate_dl.0,
        uplink: ambr.ue_aggregate_maximum_bit_rate_ul.0,
    }
}

pub(super) fn served_guamis_to_asn(
    guamis: &[ServedGuami],
) -> Result<asn::ServedGUAMIList<'static>, EncodeError> {
    let items = guamis.iter().map(|g| {
        let backup = g.backup_amf_name.clone().map(|n| asn::AMFName(n.into()));
        Ok(asn::ServedGUAMIItem::new(
            guami_to_asn(g.guami)?,
            backup,
            None,
        ))
    });
    Ok(asn::ServedGUAMIList(
        items.collect::<Result<_, EncodeError>>()?,
    ))
}

pub(super) fn served_guamis_from_asn(
    list: &asn::ServedGUAMIList<'_>,
) -> Result<Vec<ServedGuami>, ReadError> {
    list.0
        .iter()
        .map(|item| {
            Ok(ServedGuami {
                guami: guami_from_asn(&item.guami)?,
                backup_amf_name: item.backup_amf_name.as_ref().map(|n| n.0.to_string()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TS 38.413 §9.3.2.4: 32, 128 or 160 bits; any other length has no meaning.
    #[test]
    fn transport_addresses_by_length() {
        let v4 = Ipv4Addr::new(192, 0, 2, 1);
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        for address in [
            TransportAddress::V4(v4),
            TransportAddress::V6(v6),
            TransportAddress::Dual(v4, v6),
        ] {
            assert_eq!(address_from_asn(&address_to_asn(address)).unwrap(), address);
        }
        assert_eq!(address_to_asn(TransportAddress::Dual(v4, v6)).0.len(), 160);
        let odd = asn::TransportLayerAddress(BitString::new(vec![0; 8], 64).unwrap());
        assert!(matches!(address_from_asn(&odd), Err(ReadError::Value(_))));
    }
}
