//! 5GS mobile identity (TS 24.501 §9.11.3.4): SUCI (SUPI format IMSI), 5G-GUTI, or another
//! identity kept as octets.

use super::codec::{DecodeError, Reader};
use crate::identity::{
    AmfId, FiveGGuti, FiveGTmsi, Plmn, ProtectionScheme, RoutingIndicator, Suci,
};

/// The identity types of the IE (low three bits of the first octet).
const TYPE_NONE: u8 = 0;
const TYPE_SUCI: u8 = 1;
const TYPE_GUTI: u8 = 2;

/// A 5GS mobile identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MobileIdentity {
    /// No identity.
    NoIdentity,
    /// SUCI with SUPI format IMSI.
    Suci(Suci),
    /// 5G-GUTI.
    Guti(FiveGGuti),
    /// Any other identity (SUCI in NAI format, IMEI, 5G-S-TMSI, IMEISV, MAC address, EUI-64),
    /// as the octets of the value.
    Other(Vec<u8>),
}

impl MobileIdentity {
    /// From the IE value.
    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let first = *value
            .first()
            .ok_or(DecodeError::Truncated("mobile identity"))?;
        match first & 0x07 {
            TYPE_NONE => Ok(Self::NoIdentity),
            TYPE_SUCI if first & 0x70 == 0 => decode_suci(value),
            TYPE_GUTI => decode_guti(value),
            _ => Ok(Self::Other(value.to_vec())),
        }
    }

    /// The IE value.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::NoIdentity => vec![TYPE_NONE],
            Self::Suci(suci) => encode_suci(suci),
            Self::Guti(guti) => encode_guti(guti),
            Self::Other(octets) => octets.clone(),
        }
    }
}

fn decode_suci(value: &[u8]) -> Result<MobileIdentity, DecodeError> {
    let mut reader = Reader::new(&value[1..]);
    let plmn =
        Plmn::from_nas(reader.array("SUCI PLMN")?).ok_or(DecodeError::Invalid("SUCI PLMN"))?;
    let routing = RoutingIndicator::from_octets(reader.array("routing indicator")?)
        .ok_or(DecodeError::Invalid("routing indicator"))?;
    let scheme = ProtectionScheme(reader.u8("protection scheme")? & 0x0F);
    let key_id = reader.u8("home network public key identifier")?;
    let output = reader.rest().to_vec();
    if scheme == ProtectionScheme::NULL && output.is_empty() {
        return Err(DecodeError::Invalid("empty null-scheme output"));
    }
    let suci = Suci::from_parts(plmn, routing, scheme, key_id, output);
    if scheme == ProtectionScheme::NULL && suci.to_supi().is_none() {
        return Err(DecodeError::Invalid("null-scheme MSIN"));
    }
    Ok(MobileIdentity::Suci(suci))
}

fn encode_suci(suci: &Suci) -> Vec<u8> {
    let mut out = vec![TYPE_SUCI];
    out.extend_from_slice(&suci.plmn().to_nas());
    out.extend_from_slice(&suci.routing().octets());
    out.push(suci.scheme().0 & 0x0F);
    out.push(suci.key_id());
    out.extend_from_slice(suci.output());
    out
}

fn decode_guti(value: &[u8]) -> Result<MobileIdentity, DecodeError> {
    if value.len() != 11 {
        return Err(DecodeError::Invalid("5G-GUTI length"));
    }
    let mut reader = Reader::new(&value[1..]);
    let plmn =
        Plmn::from_nas(reader.array("GUTI PLMN")?).ok_or(DecodeError::Invalid("GUTI PLMN"))?;
    let amf_id = AmfId::from_octets(reader.array("AMF identifier")?);
    let tmsi = FiveGTmsi(u32::from_be_bytes(reader.array("5G-TMSI")?));
    Ok(MobileIdentity::Guti(FiveGGuti { plmn, amf_id, tmsi }))
}

fn encode_guti(guti: &FiveGGuti) -> Vec<u8> {
    let mut out = vec![0xF0 | TYPE_GUTI];
    out.extend_from_slice(&guti.plmn.to_nas());
    out.extend_from_slice(&guti.amf_id.octets());
    out.extend_from_slice(&guti.tmsi.0.to_be_bytes());
    out
}
