//! Why an IKE SA failed, and the notify each failure puts on the wire.

use std::fmt;

use crate::wire::NotifyType;

/// A failure of an IKE SA or of one of its exchanges.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// AUTH did not verify, a required PPK was missing, or the identity did not match.
    AuthenticationFailed(&'static str),
    /// The message was malformed or violated the protocol.
    InvalidSyntax(&'static str),
    /// The peer answered with an error notify.
    PeerError(NotifyType),
    /// No proposal matched ours.
    NoProposalChosen,
    /// Traffic selectors did not intersect.
    TsUnacceptable,
    /// The peer did not answer within the retransmission budget.
    Timeout,
    /// A crypto operation failed unexpectedly, or a configured algorithm is not in the provider.
    Internal(&'static str),
    /// A half-open responder SA was given up to make room, within the half-open memory budget,
    /// for a request from a source holding fewer half-open SAs.
    Evicted,
}

impl Error {
    /// The notify to send to the peer for this failure, if any.
    pub fn notify(&self) -> Option<NotifyType> {
        match self {
            Self::AuthenticationFailed(_) => Some(NotifyType::AUTHENTICATION_FAILED),
            Self::InvalidSyntax(_) => Some(NotifyType::INVALID_SYNTAX),
            Self::NoProposalChosen => Some(NotifyType::NO_PROPOSAL_CHOSEN),
            Self::TsUnacceptable => Some(NotifyType::TS_UNACCEPTABLE),
            Self::PeerError(_) | Self::Timeout | Self::Internal(_) | Self::Evicted => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AuthenticationFailed(why) => write!(f, "authentication failed: {why}"),
            Self::InvalidSyntax(why) => write!(f, "invalid syntax: {why}"),
            Self::PeerError(n) => write!(f, "peer sent {n:?}"),
            Self::NoProposalChosen => f.write_str("no proposal chosen"),
            Self::TsUnacceptable => f.write_str("traffic selectors unacceptable"),
            Self::Timeout => f.write_str("peer did not respond (retransmissions exhausted)"),
            Self::Internal(why) => write!(f, "internal error: {why}"),
            Self::Evicted => f.write_str("half-open SA evicted for a source holding fewer"),
        }
    }
}

impl std::error::Error for Error {}
