//! DEREGISTRATION REQUEST and ACCEPT, UE originating (TS 24.501 §8.2.12 and §8.2.13).

use crate::nas::codec::{DecodeError, EncodeError, Reader, put_lv_e};
use crate::nas::mobile_identity::MobileIdentity;
use crate::nas::types::{DeregistrationType, Ngksi};

/// DEREGISTRATION REQUEST (UE originating de-registration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeregistrationRequest {
    /// De-registration type.
    pub deregistration_type: DeregistrationType,
    /// ngKSI.
    pub ngksi: Ngksi,
    /// 5GS mobile identity (5G-GUTI or SUCI).
    pub identity: MobileIdentity,
}

impl DeregistrationRequest {
    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let octet = reader.u8("de-registration type")?;
        let identity = MobileIdentity::decode(reader.lv_e("mobile identity")?)?;
        reader.finish()?;
        Ok(Self {
            deregistration_type: DeregistrationType::from_nibble(octet & 0x0F),
            ngksi: Ngksi::from_nibble(octet >> 4),
            identity,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.ngksi.nibble() << 4 | self.deregistration_type.nibble());
        put_lv_e(out, &self.identity.encode(), "mobile identity")
    }
}
