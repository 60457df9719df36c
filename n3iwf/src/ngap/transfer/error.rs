//! Why a received transfer gives no session, and the Cause its session then fails with.

use core::fmt;

use crate::ids::Qfi;

use super::super::cause::{Cause, ProtocolCause, RadioNetworkCause};

/// Why a PDU Session Resource Setup Request Transfer cannot be used. The session it belongs to
/// goes to the failed list with [`TransferError::cause`] (TS 38.413 §10: the transfer is an
/// OCTET STRING inside a message that decoded, so its errors fail the one session, not the
/// procedure).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferError {
    /// More octets than [`super::MAX_TRANSFER_LEN`]; nothing was decoded.
    TooLong { len: usize },
    /// The octets are no aligned-PER value of the transfer's type.
    Malformed,
    /// An IE of criticality *reject* is missing, not comprehended or undecodable, or an IE is
    /// repeated or out of order (TS 38.413 §10.3.4–§10.3.6). `ie` is the first one at fault
    /// when the deviation names one.
    Rejected {
        ie: Option<u16>,
        cause: ProtocolCause,
    },
    /// An IE decoded, but its value means nothing here: a transport layer address of another
    /// length than 32, 128 or 160 bits, a QFI or 5QI beyond its range, a tunnel that is not a
    /// GTP tunnel.
    Value(&'static str),
    /// The QoS Flow Setup Request List names a QFI twice.
    DuplicateQfi(Qfi),
}

impl TransferError {
    /// The Cause the session fails with:
    /// - not aligned PER: protocol / transfer-syntax-error (§10.2);
    /// - a deviation from the object set: the protocol cause §10.3 gives it (abstract syntax
    ///   error *reject* for a missing or uncomprehended IE, *falsely constructed message* for a
    ///   repeated or misplaced one);
    /// - a value that means nothing: protocol / semantic-error;
    /// - a QFI twice: radio network / multiple-qos-flow-id-instances.
    pub fn cause(&self) -> Cause {
        match self {
            Self::TooLong { .. } | Self::Malformed => {
                Cause::Protocol(ProtocolCause::TRANSFER_SYNTAX_ERROR)
            }
            Self::Rejected { cause, .. } => Cause::Protocol(*cause),
            Self::Value(_) => Cause::Protocol(ProtocolCause::SEMANTIC_ERROR),
            Self::DuplicateQfi(_) => {
                Cause::RadioNetwork(RadioNetworkCause::MULTIPLE_QOS_FLOW_ID_INSTANCES)
            }
        }
    }
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len } => write!(f, "transfer of {len} octets is too long"),
            Self::Malformed => f.write_str("transfer does not decode"),
            Self::Rejected { ie: Some(id), .. } => {
                write!(
                    f,
                    "transfer rejected: IE {id} is missing, repeated or not comprehended"
                )
            }
            Self::Rejected { ie: None, .. } => f.write_str("transfer rejected"),
            Self::Value(what) => write!(f, "transfer: {what} has no meaning here"),
            Self::DuplicateQfi(qfi) => write!(f, "transfer names QFI {} twice", qfi.value()),
        }
    }
}

impl std::error::Error for TransferError {}
