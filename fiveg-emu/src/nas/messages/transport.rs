//! UL NAS TRANSPORT and DL NAS TRANSPORT (TS 24.501 §8.2.10 and §8.2.11): the envelope that
//! carries 5GSM messages and other payloads after registration.

use crate::nas::codec::{
    DecodeError, EncodeError, IeFormat, RawIe, Reader, put_lv_e, put_raw, read_optional, set_once,
};
use crate::nas::types::{GmmCause, PayloadContainerType};

const IEI_PDU_SESSION_ID: u8 = 0x12;
const IEI_OLD_PDU_SESSION_ID: u8 = 0x59;
const IEI_CAUSE: u8 = 0x58;

const UL_IES: &[(u8, IeFormat)] = &[
    (IEI_PDU_SESSION_ID, IeFormat::Tv(1)),
    (IEI_OLD_PDU_SESSION_ID, IeFormat::Tv(1)),
];
const DL_IES: &[(u8, IeFormat)] = &[
    (IEI_PDU_SESSION_ID, IeFormat::Tv(1)),
    (IEI_CAUSE, IeFormat::Tv(1)),
];

/// UL or DL NAS TRANSPORT: the two share their structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NasTransport {
    /// Payload container type.
    pub payload_type: PayloadContainerType,
    /// Payload container.
    pub payload: Vec<u8>,
    /// PDU session ID (IEI 0x12).
    pub pdu_session_id: Option<u8>,
    /// 5GMM cause (DL only, IEI 0x58).
    pub cause: Option<GmmCause>,
    /// Other optional IEs (request type, S-NSSAI, DNN, additional information ...), as received.
    pub other_ies: Vec<RawIe>,
}

impl NasTransport {
    /// A transport with only a payload.
    pub fn new(payload_type: PayloadContainerType, payload: Vec<u8>) -> Self {
        Self {
            payload_type,
            payload,
            pdu_session_id: None,
            cause: None,
            other_ies: Vec::new(),
        }
    }

    pub(crate) fn decode(reader: &mut Reader<'_>, downlink: bool) -> Result<Self, DecodeError> {
        let payload_type = PayloadContainerType(reader.u8("payload container type")? & 0x0F);
        let payload = reader.lv_e("payload container")?.to_vec();
        if payload.is_empty() {
            return Err(DecodeError::Invalid("empty payload container"));
        }
        let mut out = Self::new(payload_type, payload);
        for ie in read_optional(reader, if downlink { DL_IES } else { UL_IES })? {
            match (ie.iei, ie.value.as_slice()) {
                (IEI_PDU_SESSION_ID, [id]) => set_once(&mut out.pdu_session_id, *id),
                (IEI_CAUSE, [cause]) if downlink => set_once(&mut out.cause, GmmCause(*cause)),
                _ => out.other_ies.push(ie),
            }
        }
        Ok(out)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.payload_type.0 & 0x0F);
        put_lv_e(out, &self.payload, "payload container")?;
        if let Some(id) = self.pdu_session_id {
            out.extend_from_slice(&[IEI_PDU_SESSION_ID, id]);
        }
        if let Some(cause) = self.cause {
            out.extend_from_slice(&[IEI_CAUSE, cause.0]);
        }
        put_raw(out, &self.other_ies)
    }
}
