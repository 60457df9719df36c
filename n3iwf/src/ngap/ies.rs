//! Reading IEs out of a received PDU, and the error that reading gives.

use oxirush_ngap::aper::protocol::Ie;
use oxirush_ngap::ngap::{NGAP_PDU, NGAPPDU};
use oxirush_ngap::{Message, Ngap};

use super::error::EncodeError;

/// Why a message could not be read into the facade's types.
#[derive(Debug)]
pub(super) enum ReadError {
    /// The codec's error: an IE that does not decode.
    Codec(oxirush_ngap::Error),
    /// An IE the facade needs is not in the message.
    Missing(u16),
    /// An IE decoded, but its value has no meaning here (a PLMN with non-decimal digits, a
    /// location of another access than N3IWF).
    Value(&'static str),
}

impl ReadError {
    /// What was wrong, for logs.
    pub(super) fn reason(&self) -> &'static str {
        match self {
            Self::Codec(_) => "an IE does not decode",
            Self::Missing(_) => "an IE the N3IWF needs is missing",
            Self::Value(what) => what,
        }
    }
}

impl From<oxirush_ngap::Error> for ReadError {
    fn from(error: oxirush_ngap::Error) -> Self {
        Self::Codec(error)
    }
}

impl From<crate::wire::WireError> for ReadError {
    fn from(error: crate::wire::WireError) -> Self {
        match error {
            crate::wire::WireError::BadValue(what) => Self::Value(what),
            _ => Self::Value("IE value"),
        }
    }
}

/// The first IE `T`, which the message must have.
pub(super) fn req<'p, T: Ie<Protocol = Ngap>>(
    pdu: &'p NGAPPDU<'_>,
) -> Result<T::Value<'p>, ReadError> {
    pdu.ie::<T>()
        .ok_or(ReadError::Missing(T::ID))?
        .map_err(ReadError::Codec)
}

/// The first IE `T`, if the message has it.
pub(super) fn opt<'p, T: Ie<Protocol = Ngap>>(
    pdu: &'p NGAPPDU<'_>,
) -> Result<Option<T::Value<'p>>, ReadError> {
    pdu.ie::<T>().transpose().map_err(ReadError::Codec)
}

/// The PDU of a message, with the procedure's criticality.
pub(super) fn pdu_of<'m, M: Message<'m, Protocol = Ngap>>(
    message: &M,
) -> Result<NGAP_PDU, EncodeError> {
    Ok(NGAP_PDU::of_message(message, M::CRITICALITY)?)
}
