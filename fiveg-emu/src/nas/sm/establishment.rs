//! PDU SESSION ESTABLISHMENT REQUEST, ACCEPT and REJECT (TS 24.501 §8.3.1 to §8.3.3).

use super::qos::{
    QosFlowDescription, QosRule, decode_flow_descriptions, decode_rules, encode_flow_descriptions,
    encode_rules,
};
use super::values::{
    Dnn, IntegrityProtectionMaxDataRate, PduAddress, PduSessionType, SessionAmbr, SmCause, SscMode,
};
use crate::nas::codec::{
    DecodeError, EncodeError, IeFormat, RawIe, Reader, put_lv, put_lv_e, put_raw, put_tlv,
    put_tlv_e, read_optional, set_once,
};
use crate::nas::types::SNssai;

const IEI_PDU_SESSION_TYPE: u8 = 0x90;
const IEI_SSC_MODE: u8 = 0xA0;
const IEI_MAX_PACKET_FILTERS: u8 = 0x55;
const IEI_CAUSE: u8 = 0x59;
const IEI_PDU_ADDRESS: u8 = 0x29;
const IEI_RQ_TIMER: u8 = 0x56;
const IEI_SNSSAI: u8 = 0x22;
const IEI_QOS_FLOW_DESCRIPTIONS: u8 = 0x79;
const IEI_DNN: u8 = 0x25;

const REQUEST_IES: &[(u8, IeFormat)] = &[
    (IEI_PDU_SESSION_TYPE, IeFormat::Tv1),
    (IEI_SSC_MODE, IeFormat::Tv1),
    (IEI_MAX_PACKET_FILTERS, IeFormat::Tv(2)),
];
const ACCEPT_IES: &[(u8, IeFormat)] = &[
    (IEI_CAUSE, IeFormat::Tv(1)),
    (IEI_RQ_TIMER, IeFormat::Tv(1)),
    (IEI_PDU_ADDRESS, IeFormat::Tlv),
    (IEI_SNSSAI, IeFormat::Tlv),
    (IEI_QOS_FLOW_DESCRIPTIONS, IeFormat::TlvE),
    (IEI_DNN, IeFormat::Tlv),
];

/// PDU SESSION ESTABLISHMENT REQUEST (UE → network).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionEstablishmentRequest {
    pub integrity_max_rate: IntegrityProtectionMaxDataRate,
    pub pdu_session_type: Option<PduSessionType>,
    pub ssc_mode: Option<SscMode>,
    /// Other optional IEs (5GSM capability, extended PCO ...), as received.
    pub other_ies: Vec<RawIe>,
}

impl PduSessionEstablishmentRequest {
    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let [uplink, downlink] = reader.array("integrity protection maximum data rate")?;
        let mut out = Self {
            integrity_max_rate: IntegrityProtectionMaxDataRate { uplink, downlink },
            pdu_session_type: None,
            ssc_mode: None,
            other_ies: Vec::new(),
        };
        for ie in read_optional(reader, REQUEST_IES)? {
            match (ie.iei, ie.value.as_slice()) {
                (IEI_PDU_SESSION_TYPE, [v]) => {
                    set_once(&mut out.pdu_session_type, PduSessionType(v & 0x07));
                }
                (IEI_SSC_MODE, [v]) => set_once(&mut out.ssc_mode, SscMode(v & 0x07)),
                _ => out.other_ies.push(ie),
            }
        }
        Ok(out)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&[
            self.integrity_max_rate.uplink,
            self.integrity_max_rate.downlink,
        ]);
        if let Some(kind) = self.pdu_session_type {
            out.push(IEI_PDU_SESSION_TYPE | kind.0 & 0x07);
        }
        if let Some(mode) = self.ssc_mode {
            out.push(IEI_SSC_MODE | mode.0 & 0x07);
        }
        put_raw(out, &self.other_ies)
    }
}

/// PDU SESSION ESTABLISHMENT ACCEPT (network → UE).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionEstablishmentAccept {
    pub pdu_session_type: PduSessionType,
    pub ssc_mode: SscMode,
    pub qos_rules: Vec<QosRule>,
    pub session_ambr: SessionAmbr,
    pub cause: Option<SmCause>,
    pub pdu_address: Option<PduAddress>,
    pub snssai: Option<SNssai>,
    pub qos_flow_descriptions: Vec<QosFlowDescription>,
    pub dnn: Option<Dnn>,
    /// Other optional IEs, as received.
    pub other_ies: Vec<RawIe>,
}

impl PduSessionEstablishmentAccept {
    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let types = reader.u8("selected PDU session type and SSC mode")?;
        let qos_rules = decode_rules(reader.lv_e("authorized QoS rules")?)?;
        if qos_rules.is_empty() {
            return Err(DecodeError::Invalid("no authorized QoS rule"));
        }
        let session_ambr = SessionAmbr::decode(reader.lv("session AMBR")?)?;
        let mut out = Self {
            pdu_session_type: PduSessionType(types & 0x07),
            ssc_mode: SscMode(types >> 4 & 0x07),
            qos_rules,
            session_ambr,
            cause: None,
            pdu_address: None,
            snssai: None,
            qos_flow_descriptions: Vec::new(),
            dnn: None,
            other_ies: Vec::new(),
        };
        for ie in read_optional(reader, ACCEPT_IES)? {
            out.take_optional(ie)?;
        }
        Ok(out)
    }

    /// A known IE whose value is wrong is an error here, unlike in the 5GMM messages: the UE
    /// cannot use a session whose address or QoS it cannot read.
    fn take_optional(&mut self, ie: RawIe) -> Result<(), DecodeError> {
        match (ie.iei, ie.value.as_slice()) {
            (IEI_CAUSE, [cause]) => set_once(&mut self.cause, SmCause(*cause)),
            (IEI_PDU_ADDRESS, value) => {
                set_once(&mut self.pdu_address, PduAddress::decode(value)?);
            }
            (IEI_SNSSAI, value) => set_once(&mut self.snssai, SNssai::decode(value)?),
            (IEI_QOS_FLOW_DESCRIPTIONS, value) if self.qos_flow_descriptions.is_empty() => {
                self.qos_flow_descriptions = decode_flow_descriptions(value)?;
            }
            (IEI_DNN, value) => set_once(&mut self.dnn, Dnn::decode(value)?),
            _ => self.other_ies.push(ie),
        }
        Ok(())
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push((self.ssc_mode.0 & 0x07) << 4 | self.pdu_session_type.0 & 0x07);
        put_lv_e(out, &encode_rules(&self.qos_rules)?, "authorized QoS rules")?;
        put_lv(out, &self.session_ambr.encode(), "session AMBR")?;
        if let Some(cause) = self.cause {
            out.extend_from_slice(&[IEI_CAUSE, cause.0]);
        }
        if let Some(address) = &self.pdu_address {
            put_tlv(out, IEI_PDU_ADDRESS, &address.encode(), "PDU address")?;
        }
        if let Some(snssai) = &self.snssai {
            put_tlv(out, IEI_SNSSAI, &snssai.encode(), "S-NSSAI")?;
        }
        if !self.qos_flow_descriptions.is_empty() {
            let value = encode_flow_descriptions(&self.qos_flow_descriptions)?;
            put_tlv_e(
                out,
                IEI_QOS_FLOW_DESCRIPTIONS,
                &value,
                "QoS flow descriptions",
            )?;
        }
        if let Some(dnn) = &self.dnn {
            put_tlv(out, IEI_DNN, &dnn.encode(), "DNN")?;
        }
        put_raw(out, &self.other_ies)
    }
}

/// PDU SESSION ESTABLISHMENT REJECT (network → UE), and the same layout for the other
/// messages that are a 5GSM cause and optional IEs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmCauseMessage {
    pub cause: SmCause,
    /// Optional IEs (back-off timer, allowed SSC mode, extended PCO ...), as received.
    pub other_ies: Vec<RawIe>,
}

impl SmCauseMessage {
    /// Just the cause.
    pub fn new(cause: SmCause) -> Self {
        Self {
            cause,
            other_ies: Vec::new(),
        }
    }

    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let cause = SmCause(reader.u8("5GSM cause")?);
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
