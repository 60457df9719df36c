//! REGISTRATION REQUEST, ACCEPT, COMPLETE and REJECT (TS 24.501 §8.2.6 to §8.2.9).

use crate::nas::codec::{
    DecodeError, EncodeError, IeFormat, RawIe, Reader, put_lv, put_lv_e, put_raw, put_tlv,
    put_tlv_e, read_optional, set_once,
};
use crate::nas::mobile_identity::MobileIdentity;
use crate::nas::types::{GmmCause, Ngksi, Nssai, RegistrationType, UeSecurityCapability};

const IEI_UE_SECURITY_CAPABILITY: u8 = 0x2E;
const IEI_REQUESTED_NSSAI: u8 = 0x2F;
const IEI_NAS_MESSAGE_CONTAINER: u8 = 0x71;
const IEI_GUTI: u8 = 0x77;
const IEI_ALLOWED_NSSAI: u8 = 0x15;
const IEI_T3512: u8 = 0x5E;
const IEI_NON_3GPP_DEREGISTRATION_TIMER: u8 = 0x5D;

/// The type 3 (fixed length) IEs of REGISTRATION REQUEST; the rest follow the general rules.
const REQUEST_IES: &[(u8, IeFormat)] = &[
    (0x52, IeFormat::Tv(6)), // last visited registered TAI
    (IEI_UE_SECURITY_CAPABILITY, IeFormat::Tlv),
    (IEI_REQUESTED_NSSAI, IeFormat::Tlv),
    (IEI_NAS_MESSAGE_CONTAINER, IeFormat::TlvE),
];

const ACCEPT_IES: &[(u8, IeFormat)] = &[
    (IEI_GUTI, IeFormat::TlvE),
    (IEI_ALLOWED_NSSAI, IeFormat::Tlv),
    (IEI_T3512, IeFormat::Tlv),
    (IEI_NON_3GPP_DEREGISTRATION_TIMER, IeFormat::Tlv),
];

/// REGISTRATION REQUEST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationRequest {
    /// 5GS registration type.
    pub registration_type: RegistrationType,
    /// ngKSI.
    pub ngksi: Ngksi,
    /// 5GS mobile identity (SUCI or 5G-GUTI).
    pub identity: MobileIdentity,
    /// UE security capability.
    pub ue_security_capability: Option<UeSecurityCapability>,
    /// Requested NSSAI.
    pub requested_nssai: Option<Nssai>,
    /// NAS message container (the whole request, sent protected when the first one held only
    /// cleartext IEs).
    pub nas_message_container: Option<Vec<u8>>,
    /// Other optional IEs, as received.
    pub other_ies: Vec<RawIe>,
}

impl RegistrationRequest {
    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let octet = reader.u8("registration type")?;
        let identity = MobileIdentity::decode(reader.lv_e("mobile identity")?)?;
        let mut out = Self {
            registration_type: RegistrationType::from_nibble(octet & 0x0F),
            ngksi: Ngksi::from_nibble(octet >> 4),
            identity,
            ue_security_capability: None,
            requested_nssai: None,
            nas_message_container: None,
            other_ies: Vec::new(),
        };
        for ie in read_optional(reader, REQUEST_IES)? {
            match ie.iei {
                IEI_UE_SECURITY_CAPABILITY => {
                    if let Ok(value) = UeSecurityCapability::decode(&ie.value) {
                        set_once(&mut out.ue_security_capability, value);
                    }
                }
                IEI_REQUESTED_NSSAI => {
                    if let Ok(value) = Nssai::decode(&ie.value) {
                        set_once(&mut out.requested_nssai, value);
                    }
                }
                IEI_NAS_MESSAGE_CONTAINER => set_once(&mut out.nas_message_container, ie.value),
                _ => out.other_ies.push(ie),
            }
        }
        Ok(out)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.ngksi.nibble() << 4 | self.registration_type.nibble());
        put_lv_e(out, &self.identity.encode(), "mobile identity")?;
        if let Some(capability) = &self.ue_security_capability {
            put_tlv(
                out,
                IEI_UE_SECURITY_CAPABILITY,
                capability.as_bytes(),
                "UE security capability",
            )?;
        }
        if let Some(nssai) = &self.requested_nssai {
            put_tlv(out, IEI_REQUESTED_NSSAI, &nssai.encode(), "requested NSSAI")?;
        }
        if let Some(container) = &self.nas_message_container {
            put_tlv_e(
                out,
                IEI_NAS_MESSAGE_CONTAINER,
                container,
                "NAS message container",
            )?;
        }
        put_raw(out, &self.other_ies)
    }
}

/// REGISTRATION ACCEPT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationAccept {
    /// 5GS registration result value (§9.11.3.6): bits 1-3 are the access (1 3GPP, 2 non-3GPP,
    /// 3 both), bit 4 SMS allowed.
    pub result: u8,
    /// The 5G-GUTI assigned (a [`MobileIdentity::Guti`]).
    pub guti: Option<MobileIdentity>,
    /// Allowed NSSAI.
    pub allowed_nssai: Option<Nssai>,
    /// T3512 (GPRS timer 3 octet).
    pub t3512: Option<u8>,
    /// Non-3GPP de-registration timer (GPRS timer 2 octet).
    pub non_3gpp_deregistration_timer: Option<u8>,
    /// Other optional IEs, as received.
    pub other_ies: Vec<RawIe>,
}

impl RegistrationAccept {
    /// Registration result "non-3GPP access".
    pub const RESULT_NON_3GPP: u8 = 2;

    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let result = *reader
            .lv("registration result")?
            .first()
            .ok_or(DecodeError::Invalid("registration result"))?;
        let mut out = Self {
            result,
            guti: None,
            allowed_nssai: None,
            t3512: None,
            non_3gpp_deregistration_timer: None,
            other_ies: Vec::new(),
        };
        for ie in read_optional(reader, ACCEPT_IES)? {
            match (ie.iei, ie.value.as_slice()) {
                (IEI_GUTI, value) => {
                    if let Ok(guti @ MobileIdentity::Guti(_)) = MobileIdentity::decode(value) {
                        set_once(&mut out.guti, guti);
                    }
                }
                (IEI_ALLOWED_NSSAI, value) => {
                    if let Ok(nssai) = Nssai::decode(value) {
                        set_once(&mut out.allowed_nssai, nssai);
                    }
                }
                (IEI_T3512, [octet]) => set_once(&mut out.t3512, *octet),
                (IEI_NON_3GPP_DEREGISTRATION_TIMER, [octet]) => {
                    set_once(&mut out.non_3gpp_deregistration_timer, *octet);
                }
                (IEI_T3512 | IEI_NON_3GPP_DEREGISTRATION_TIMER, _) => {}
                _ => out.other_ies.push(ie),
            }
        }
        Ok(out)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_lv(out, &[self.result], "registration result")?;
        if let Some(guti) = &self.guti {
            put_tlv_e(out, IEI_GUTI, &guti.encode(), "5G-GUTI")?;
        }
        if let Some(nssai) = &self.allowed_nssai {
            put_tlv(out, IEI_ALLOWED_NSSAI, &nssai.encode(), "allowed NSSAI")?;
        }
        if let Some(timer) = self.t3512 {
            put_tlv(out, IEI_T3512, &[timer], "T3512")?;
        }
        if let Some(timer) = self.non_3gpp_deregistration_timer {
            put_tlv(
                out,
                IEI_NON_3GPP_DEREGISTRATION_TIMER,
                &[timer],
                "de-registration timer",
            )?;
        }
        put_raw(out, &self.other_ies)
    }
}

optional_ies_only! {
    /// REGISTRATION COMPLETE; its optional IE is the SOR transparent container.
    RegistrationComplete
}

/// REGISTRATION REJECT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationReject {
    /// 5GMM cause.
    pub cause: GmmCause,
    /// Optional IEs (timers, EAP message, rejected NSSAI), as received.
    pub other_ies: Vec<RawIe>,
}

impl RegistrationReject {
    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let cause = GmmCause(reader.u8("5GMM cause")?);
        Ok(Self {
            cause,
            other_ies: read_optional(reader, &[])?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.cause.0);
        put_raw(out, &self.other_ies)
    }
}
