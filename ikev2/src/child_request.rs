//! A new Child SA asked for at run time (RFC 7296 §1.3.1), by whichever side started the IKE
//! SA: the template gives proposals, mode and lifetimes; the caller gives the traffic
//! selectors, private-use status notifies for the request (3GPP's 5G_QOS_INFO and
//! UP_IP4_ADDRESS, TS 24.502 §9.3.1) and a tag that names the owner of the result.
//!
//! The outcome comes as [`Event::ChildSaEstablished`](crate::Event::ChildSaEstablished) with
//! [`ChildSa::tag`](crate::ChildSa::tag), or as [`Event::ChildSaFailed`](crate::Event) with
//! the same tag and a [`ChildFailure`].

use std::fmt;

use crate::auth_reply::{MAX_STATUS_NOTIFIES, MAX_STATUS_NOTIFY_DATA, StatusNotify};
use crate::command_error::CommandError;
use crate::config::ChildConfig;
use crate::error::Error;
use crate::event::CloseReason;
use crate::ts::all_within;
use crate::wire::{IpSelector, NotifyType};

/// Most traffic selectors on each side of one [`ChildRequest`].
pub const MAX_REQUEST_SELECTORS: usize = 16;
/// Most new Child SAs one IKE SA holds queued or in flight; more are refused.
pub const MAX_PENDING_CHILD_REQUESTS: usize = 64;

/// The caller's name for a Child SA it asked for (for example a PDU session and QoS class). The
/// engine only carries it: in [`ChildSa::tag`](crate::ChildSa::tag), kept by every rekey of
/// that Child SA, and in the failure event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildTag(pub u64);

impl fmt::Display for ChildTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A new Child SA with run-time selectors, for
/// [`Endpoint::create_child_with`](crate::Endpoint::create_child_with).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildRequest {
    /// The connection's Child SA template: proposals, lifetimes.
    pub template: String,
    /// Our side of the traffic (TSi of the request); each must lie within the template's.
    pub local_ts: Vec<IpSelector>,
    /// The peer's side (TSr of the request); each must lie within the template's.
    pub remote_ts: Vec<IpSelector>,
    /// Private-use status notifies sent with the request, in order: at most
    /// [`MAX_STATUS_NOTIFIES`] of at most [`MAX_STATUS_NOTIFY_DATA`] octets each.
    pub notifies: Vec<StatusNotify>,
    pub tag: ChildTag,
}

/// Why a new Child SA that we asked for was not created.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChildFailure {
    /// The peer answered with this error notify: NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE,
    /// INVALID_KE_PAYLOAD, or TEMPORARY_FAILURE after the retries (RFC 7296 §2.25).
    Refused(NotifyType),
    /// The answer was not acceptable (a proposal or selectors we did not offer) or a local step
    /// failed (a required PPK was missing, the provider failed).
    Failed(Error),
    /// The peer stopped answering: the IKE SA failed with it.
    Timeout,
    /// The IKE SA ended with the request queued or in flight.
    IkeSaClosed(CloseReason),
}

impl fmt::Display for ChildFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(n) => write!(f, "peer refused with {n:?}"),
            Self::Failed(e) => write!(f, "{e}"),
            Self::Timeout => f.write_str("peer did not respond"),
            Self::IkeSaClosed(r) => write!(f, "IKE SA closed ({})", r.as_str()),
        }
    }
}

impl ChildRequest {
    /// Checks the request against its template and the bounds.
    pub(crate) fn check(&self, template: &ChildConfig) -> Result<(), CommandError> {
        check_selectors(&self.local_ts, &template.local_ts)?;
        check_selectors(&self.remote_ts, &template.remote_ts)?;
        check_notifies(&self.notifies)
    }
}

fn check_selectors(ts: &[IpSelector], template: &[IpSelector]) -> Result<(), CommandError> {
    if ts.is_empty() || ts.len() > MAX_REQUEST_SELECTORS {
        return Err(CommandError::BadSelectors(
            "between 1 and MAX_REQUEST_SELECTORS selectors each way",
        ));
    }
    if ts
        .iter()
        .any(|s| s.start_addr.is_ipv4() != s.end_addr.is_ipv4())
    {
        return Err(CommandError::BadSelectors(
            "a selector mixes address families",
        ));
    }
    if !all_within(ts, template) {
        return Err(CommandError::BadSelectors(
            "outside the template's selectors",
        ));
    }
    Ok(())
}

fn check_notifies(notifies: &[StatusNotify]) -> Result<(), CommandError> {
    if notifies.len() > MAX_STATUS_NOTIFIES {
        return Err(CommandError::TooManyNotifies(notifies.len()));
    }
    for n in notifies {
        if !n.is_private_status() {
            return Err(CommandError::NotifyNotPrivate(n.notify_type));
        }
        if n.data.len() > MAX_STATUS_NOTIFY_DATA {
            return Err(CommandError::NotifyTooLarge {
                notify_type: n.notify_type,
                len: n.data.len(),
            });
        }
    }
    Ok(())
}
