//! SECURITY MODE COMMAND, COMPLETE and REJECT (TS 24.501 §8.2.25 to §8.2.27).

use crate::nas::codec::{
    DecodeError, EncodeError, IeFormat, RawIe, Reader, put_lv, put_raw, put_tlv, put_tlv_e,
    read_optional, set_once,
};
use crate::nas::types::{GmmCause, NasSecurityAlgorithms, Ngksi, UeSecurityCapability};

const IEI_ADDITIONAL_SECURITY_INFORMATION: u8 = 0x36;
const IEI_NAS_MESSAGE_CONTAINER: u8 = 0x71;

const COMMAND_IES: &[(u8, IeFormat)] = &[
    (0x57, IeFormat::Tv(1)), // selected EPS NAS security algorithms
    (IEI_ADDITIONAL_SECURITY_INFORMATION, IeFormat::Tlv),
];

/// Additional 5G security information (§9.11.3.12), bit 2: retransmission of the initial NAS
/// message requested.
pub const RINMR: u8 = 0x02;

/// SECURITY MODE COMMAND.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityModeCommand {
    /// Selected NAS security algorithms.
    pub algorithms: NasSecurityAlgorithms,
    /// ngKSI of the context being taken into use.
    pub ngksi: Ngksi,
    /// The UE security capability as the AMF received it.
    pub replayed_capability: UeSecurityCapability,
    /// Additional 5G security information octet (RINMR, HDP).
    pub additional_security_information: Option<u8>,
    /// Other optional IEs, as received.
    pub other_ies: Vec<RawIe>,
}

impl SecurityModeCommand {
    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let algorithms = NasSecurityAlgorithms::decode(reader.u8("selected algorithms")?)?;
        let ngksi = Ngksi::from_nibble(reader.u8("ngKSI")? & 0x0F);
        let replayed_capability = UeSecurityCapability::decode(reader.lv("replayed capability")?)?;
        let mut out = Self {
            algorithms,
            ngksi,
            replayed_capability,
            additional_security_information: None,
            other_ies: Vec::new(),
        };
        for ie in read_optional(reader, COMMAND_IES)? {
            match (ie.iei, ie.value.as_slice()) {
                (IEI_ADDITIONAL_SECURITY_INFORMATION, [octet]) => {
                    set_once(&mut out.additional_security_information, *octet);
                }
                (IEI_ADDITIONAL_SECURITY_INFORMATION, _) => {}
                _ => out.other_ies.push(ie),
            }
        }
        Ok(out)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.algorithms.octet());
        out.push(self.ngksi.nibble());
        put_lv(
            out,
            self.replayed_capability.as_bytes(),
            "replayed capability",
        )?;
        if let Some(octet) = self.additional_security_information {
            put_tlv(
                out,
                IEI_ADDITIONAL_SECURITY_INFORMATION,
                &[octet],
                "additional information",
            )?;
        }
        put_raw(out, &self.other_ies)
    }
}

/// SECURITY MODE COMPLETE.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityModeComplete {
    /// NAS message container: the whole initial NAS message, when the AMF asked for it.
    pub nas_message_container: Option<Vec<u8>>,
    /// Other optional IEs (IMEISV, non-IMEISV PEI), as received.
    pub other_ies: Vec<RawIe>,
}

impl SecurityModeComplete {
    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut out = Self::default();
        for ie in read_optional(reader, &[(IEI_NAS_MESSAGE_CONTAINER, IeFormat::TlvE)])? {
            match ie.iei {
                IEI_NAS_MESSAGE_CONTAINER => set_once(&mut out.nas_message_container, ie.value),
                _ => out.other_ies.push(ie),
            }
        }
        Ok(out)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
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

/// SECURITY MODE REJECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecurityModeReject {
    /// 5GMM cause.
    pub cause: GmmCause,
}

impl SecurityModeReject {
    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let cause = GmmCause(reader.u8("5GMM cause")?);
        reader.finish()?;
        Ok(Self { cause })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.cause.0);
    }
}
