//! Errors of the NGAP facade, and the report a refused message calls for.

use core::fmt;

use super::cause::Cause;
use super::diagnostics::{Criticality, CriticalityDiagnostics, TriggeringMessage};
use super::messages::ErrorIndication;
use super::types::{AmfUeNgapId, RanUeNgapId};

/// Why a message could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// An enumerated value (cause, paging DRX, …) whose index this release of the ASN.1 lacks.
    UnknownValue(&'static str),
    /// A value outside its ASN.1 constraint, such as an empty list that must have an item or a
    /// name longer than its size bound.
    Constraint(String),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownValue(what) => write!(f, "{what}: no such value in TS 38.413"),
            Self::Constraint(why) => write!(f, "does not encode: {why}"),
        }
    }
}

impl std::error::Error for EncodeError {}

impl From<oxirush_ngap::Error> for EncodeError {
    fn from(error: oxirush_ngap::Error) -> Self {
        Self::Constraint(error.to_string())
    }
}

/// What the receiver of a faulty message reports back (TS 38.413 §10): the data of an ERROR
/// INDICATION, or the Cause and Criticality Diagnostics of the procedure's failure message
/// where the procedure has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorReport {
    /// The UE's AMF UE NGAP ID, when the faulty message carried one that could be read.
    pub amf_ue_ngap_id: Option<AmfUeNgapId>,
    /// The UE's RAN UE NGAP ID, when the faulty message carried one that could be read.
    pub ran_ue_ngap_id: Option<RanUeNgapId>,
    pub cause: Cause,
    pub diagnostics: Option<CriticalityDiagnostics>,
}

impl ErrorReport {
    /// The ERROR INDICATION that carries this report.
    pub fn to_error_indication(&self) -> ErrorIndication {
        ErrorIndication {
            amf_ue_ngap_id: self.amf_ue_ngap_id,
            ran_ue_ngap_id: self.ran_ue_ngap_id,
            cause: Some(self.cause),
            diagnostics: self.diagnostics.clone(),
        }
    }
}

/// Why received octets give no message to act on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// More octets than [`super::MAX_PDU_LEN`]; nothing was decoded.
    TooLong { len: usize },
    /// Not an NGAP PDU: a transfer syntax error (TS 38.413 §10.2).
    Malformed(ErrorReport),
    /// A procedure and direction the facade does not handle. `report` is what the PDU's
    /// criticality asks to send back (none for `ignore`).
    Unsupported {
        procedure_code: u8,
        direction: TriggeringMessage,
        criticality: Criticality,
        report: Option<ErrorReport>,
    },
    /// The procedure is rejected (TS 38.413 §10.3): an IE of criticality `reject` is not
    /// comprehended or is missing, an IE is repeated or out of order, or an IE the facade needs
    /// is missing or does not decode.
    Rejected {
        procedure_code: u8,
        direction: TriggeringMessage,
        /// What was wrong, for logs.
        reason: &'static str,
        report: ErrorReport,
    },
}

impl DecodeError {
    /// What to send back, if anything. An ERROR INDICATION is never answered with another
    /// (TS 38.413 §10.5), so decoding one reports nothing.
    pub fn report(&self) -> Option<&ErrorReport> {
        match self {
            Self::TooLong { .. } => None,
            Self::Malformed(report) | Self::Rejected { report, .. } => Some(report),
            Self::Unsupported { report, .. } => report.as_ref(),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len } => write!(f, "NGAP PDU of {len} octets is too long"),
            Self::Malformed(_) => f.write_str("not an NGAP PDU (transfer syntax error)"),
            Self::Unsupported {
                procedure_code,
                direction,
                ..
            } => write!(
                f,
                "procedure {procedure_code} ({direction:?}) is not handled"
            ),
            Self::Rejected {
                procedure_code,
                reason,
                ..
            } => write!(f, "procedure {procedure_code} rejected: {reason}"),
        }
    }
}

impl std::error::Error for DecodeError {}
