//! UL NAS TRANSPORT and DL NAS TRANSPORT (TS 24.501 §8.2.10 and §8.2.11): the envelope that
//! carries 5GSM messages and other payloads after registration.

use crate::nas::codec::put_tlv;
use crate::nas::codec::{
    DecodeError, EncodeError, IeFormat, RawIe, Reader, put_lv_e, put_raw, read_optional, set_once,
};
use crate::nas::sm::{Dnn, RequestType};
use crate::nas::types::{GmmCause, PayloadContainerType, SNssai};

const IEI_PDU_SESSION_ID: u8 = 0x12;
const IEI_OLD_PDU_SESSION_ID: u8 = 0x59;
const IEI_CAUSE: u8 = 0x58;
const IEI_REQUEST_TYPE: u8 = 0x80;
const IEI_SNSSAI: u8 = 0x22;
const IEI_DNN: u8 = 0x25;

const UL_IES: &[(u8, IeFormat)] = &[
    (IEI_PDU_SESSION_ID, IeFormat::Tv(1)),
    (IEI_OLD_PDU_SESSION_ID, IeFormat::Tv(1)),
    (IEI_REQUEST_TYPE, IeFormat::Tv1),
    (IEI_SNSSAI, IeFormat::Tlv),
    (IEI_DNN, IeFormat::Tlv),
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
    /// Request type (UL only, IEI 0x8-).
    pub request_type: Option<RequestType>,
    /// S-NSSAI (UL only, IEI 0x22).
    pub snssai: Option<SNssai>,
    /// DNN (UL only, IEI 0x25).
    pub dnn: Option<Dnn>,
    /// Other optional IEs (old PDU session ID, additional information, back-off timer ...), as
    /// received; a known UL IE with a malformed value stays here too.
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
            request_type: None,
            snssai: None,
            dnn: None,
            other_ies: Vec::new(),
        }
    }

    /// A 5GSM message for PDU session `id`.
    pub fn n1_sm(id: n3iwf::ids::PduSessionId, message: Vec<u8>) -> Self {
        Self {
            pdu_session_id: Some(id.0),
            ..Self::new(PayloadContainerType::N1_SM, message)
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
                (IEI_REQUEST_TYPE, [v]) if !downlink => {
                    set_once(&mut out.request_type, RequestType(v & 0x07));
                }
                (IEI_SNSSAI, v) if !downlink && SNssai::decode(v).is_ok() => {
                    set_once(&mut out.snssai, SNssai::decode(v)?);
                }
                (IEI_DNN, v) if !downlink && Dnn::decode(v).is_ok() => {
                    set_once(&mut out.dnn, Dnn::decode(v)?);
                }
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
        if let Some(kind) = self.request_type {
            out.push(IEI_REQUEST_TYPE | kind.0 & 0x07);
        }
        if let Some(snssai) = &self.snssai {
            put_tlv(out, IEI_SNSSAI, &snssai.encode(), "S-NSSAI")?;
        }
        if let Some(dnn) = &self.dnn {
            put_tlv(out, IEI_DNN, &dnn.encode(), "DNN")?;
        }
        put_raw(out, &self.other_ies)
    }
}
