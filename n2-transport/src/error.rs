//! Typed errors of the N2 transport.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use ipsec_sys::sctp::{StackError, UsrsctpLoadError};

use crate::types::StreamId;

/// What went wrong, in terms an operator can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum N2Error {
    /// `socket(…, IPPROTO_SCTP)` failed with `EPROTONOSUPPORT`.
    #[error(
        "the kernel has no SCTP; use transport = \"usrsctp\" (userspace SCTP over raw IP 132 \
         or UDP 9899)"
    )]
    KernelSctpUnavailable,
    /// `libusrsctp.so.2` is absent or incomplete; the message names the package.
    #[error(transparent)]
    UsrsctpUnavailable(#[from] UsrsctpLoadError),
    /// usrsctp could not start with the lower layer asked for.
    #[error(transparent)]
    UsrsctpStack(#[from] StackError),
    /// A setting is out of its range.
    #[error("N2 transport setting `{field}` out of range: allowed {allowed}")]
    Config {
        field: &'static str,
        allowed: &'static str,
    },
    /// The peer refused the association (ABORT in answer to INIT, or no listener), or it
    /// failed while being set up.
    #[error("no SCTP association with {peer}: {source}")]
    ConnectFailed {
        peer: SocketAddr,
        #[source]
        source: io::Error,
    },
    /// The association did not come up in time.
    #[error("no SCTP association with {peer} within {timeout:?}")]
    ConnectTimeout { peer: SocketAddr, timeout: Duration },
    /// The peer granted fewer outbound streams than configured as the minimum.
    #[error(
        "the association has {outbound} outbound streams, fewer than the {min} required \
         (stream 0 plus at least one for UE-associated signalling)"
    )]
    TooFewStreams { outbound: u16, min: u16 },
    /// A message larger than `max_message_size` was to be sent.
    #[error("a message of {len} bytes exceeds the bound of {max} bytes")]
    MessageTooLarge { len: usize, max: usize },
    /// A stream the association does not have.
    #[error("{stream} does not exist: the association has {outbound} outbound streams")]
    StreamOutOfRange { stream: StreamId, outbound: u16 },
    /// The association is gone (shut down, aborted or lost); connect again.
    #[error("the SCTP association is down")]
    AssociationDown,
    /// The stack broke its own protocol (data before the association was reported up).
    #[error("SCTP stack: {0}")]
    Protocol(&'static str),
    /// A socket call failed.
    #[error("SCTP {op}: {source}")]
    Io {
        op: &'static str,
        #[source]
        source: io::Error,
    },
}

impl N2Error {
    pub(crate) fn io(op: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |source| Self::Io { op, source }
    }
}
