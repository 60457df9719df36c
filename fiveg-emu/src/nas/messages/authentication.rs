//! AUTHENTICATION REQUEST, RESPONSE, REJECT and FAILURE (TS 24.501 §8.2.1 to §8.2.5).

use crate::nas::codec::{
    DecodeError, EncodeError, IeFormat, RawIe, Reader, put_lv, put_raw, put_tlv, read_optional,
    set_once,
};
use crate::nas::types::{GmmCause, Ngksi};
use crate::values::{Abba, Autn, Auts, Rand, ResStar};

const IEI_RAND: u8 = 0x21;
const IEI_AUTN: u8 = 0x20;
const IEI_RES_STAR: u8 = 0x2D;
const IEI_FAILURE_PARAMETER: u8 = 0x30;

const REQUEST_IES: &[(u8, IeFormat)] = &[(IEI_RAND, IeFormat::Tv(16)), (IEI_AUTN, IeFormat::Tlv)];

/// AUTHENTICATION REQUEST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticationRequest {
    /// ngKSI the new context will have.
    pub ngksi: Ngksi,
    /// ABBA.
    pub abba: Abba,
    /// RAND (5G-AKA).
    pub rand: Option<Rand>,
    /// AUTN (5G-AKA).
    pub autn: Option<Autn>,
    /// Other optional IEs (EAP message), as received.
    pub other_ies: Vec<RawIe>,
}

impl AuthenticationRequest {
    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let ngksi = Ngksi::from_nibble(reader.u8("ngKSI")? & 0x0F);
        let abba = Abba::new(reader.lv("ABBA")?).ok_or(DecodeError::Invalid("ABBA length"))?;
        let mut out = Self {
            ngksi,
            abba,
            rand: None,
            autn: None,
            other_ies: Vec::new(),
        };
        for ie in read_optional(reader, REQUEST_IES)? {
            match ie.iei {
                IEI_RAND => {
                    if let Ok(rand) = <[u8; 16]>::try_from(ie.value.as_slice()) {
                        set_once(&mut out.rand, Rand(rand));
                    }
                }
                IEI_AUTN => {
                    if let Ok(autn) = <[u8; 16]>::try_from(ie.value.as_slice()) {
                        set_once(&mut out.autn, Autn(autn));
                    }
                }
                _ => out.other_ies.push(ie),
            }
        }
        Ok(out)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.ngksi.nibble());
        put_lv(out, self.abba.as_bytes(), "ABBA")?;
        if let Some(rand) = &self.rand {
            out.push(IEI_RAND);
            out.extend_from_slice(&rand.0);
        }
        if let Some(autn) = &self.autn {
            put_tlv(out, IEI_AUTN, &autn.0, "AUTN")?;
        }
        put_raw(out, &self.other_ies)
    }
}

/// AUTHENTICATION RESPONSE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticationResponse {
    /// RES* (5G-AKA).
    pub res_star: Option<ResStar>,
    /// Other optional IEs (EAP message), as received.
    pub other_ies: Vec<RawIe>,
}

impl AuthenticationResponse {
    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut out = Self {
            res_star: None,
            other_ies: Vec::new(),
        };
        for ie in read_optional(reader, &[(IEI_RES_STAR, IeFormat::Tlv)])? {
            match (ie.iei, <[u8; 16]>::try_from(ie.value.as_slice())) {
                (IEI_RES_STAR, Ok(res)) => set_once(&mut out.res_star, ResStar(res)),
                (IEI_RES_STAR, Err(_)) => {}
                _ => out.other_ies.push(ie),
            }
        }
        Ok(out)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if let Some(res) = &self.res_star {
            put_tlv(out, IEI_RES_STAR, &res.0, "RES*")?;
        }
        put_raw(out, &self.other_ies)
    }
}

optional_ies_only! {
    /// AUTHENTICATION REJECT; its optional IE is the EAP message.
    AuthenticationReject
}

/// AUTHENTICATION FAILURE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticationFailure {
    /// 5GMM cause (#20 MAC failure, #21 synch failure, #26 non-5G authentication unacceptable).
    pub cause: GmmCause,
    /// AUTS, with cause #21.
    pub auts: Option<Auts>,
    /// Other optional IEs, as received.
    pub other_ies: Vec<RawIe>,
}

impl AuthenticationFailure {
    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let cause = GmmCause(reader.u8("5GMM cause")?);
        let mut out = Self {
            cause,
            auts: None,
            other_ies: Vec::new(),
        };
        for ie in read_optional(reader, &[(IEI_FAILURE_PARAMETER, IeFormat::Tlv)])? {
            match (ie.iei, <[u8; 14]>::try_from(ie.value.as_slice())) {
                (IEI_FAILURE_PARAMETER, Ok(auts)) => set_once(&mut out.auts, Auts(auts)),
                (IEI_FAILURE_PARAMETER, Err(_)) => {}
                _ => out.other_ies.push(ie),
            }
        }
        Ok(out)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.cause.0);
        if let Some(auts) = &self.auts {
            put_tlv(out, IEI_FAILURE_PARAMETER, &auts.0, "AUTS")?;
        }
        put_raw(out, &self.other_ies)
    }
}
