//! PDU SESSION RELEASE REQUEST and COMPLETE (TS 24.501 §8.3.12, §8.3.15): optional IEs only,
//! with an optional 5GSM cause. RELEASE COMMAND has a mandatory cause:
//! [`SmCauseMessage`](super::SmCauseMessage).

use super::values::SmCause;
use crate::nas::codec::{
    DecodeError, EncodeError, IeFormat, RawIe, Reader, put_raw, read_optional, set_once,
};

const IEI_CAUSE: u8 = 0x59;
const IES: &[(u8, IeFormat)] = &[(IEI_CAUSE, IeFormat::Tv(1))];

/// PDU SESSION RELEASE REQUEST or PDU SESSION RELEASE COMPLETE.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmOptionalCause {
    pub cause: Option<SmCause>,
    /// Other optional IEs (extended PCO), as received.
    pub other_ies: Vec<RawIe>,
}

impl SmOptionalCause {
    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut out = Self::default();
        for ie in read_optional(reader, IES)? {
            match (ie.iei, ie.value.as_slice()) {
                (IEI_CAUSE, [cause]) => set_once(&mut out.cause, SmCause(*cause)),
                _ => out.other_ies.push(ie),
            }
        }
        Ok(out)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if let Some(cause) = self.cause {
            out.extend_from_slice(&[IEI_CAUSE, cause.0]);
        }
        put_raw(out, &self.other_ies)
    }
}
