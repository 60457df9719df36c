//! What a responder adds to its final IKE_AUTH response after EAP, and what an initiator learns
//! from it: a configuration reply (RFC 7296 §3.15) and private-use status notifies, such as
//! 3GPP's NAS_IP4_ADDRESS and NAS_TCP_PORT for an N3IWF (TS 24.502 §7.3.2, §9.2).

use std::fmt;
use std::net::Ipv4Addr;

/// The first Notify Message Type of the private-use status range (RFC 7296 §3.10.1).
pub const PRIVATE_STATUS_MIN: u16 = 40960;
/// At most this many private-use status notifies of one response are kept by an initiator;
/// further ones are counted in [`Stats::auth_reply_notifies_dropped`](crate::Stats) and dropped.
pub const MAX_STATUS_NOTIFIES: usize = 16;
/// A private-use status notify whose data is longer than this is counted and dropped.
pub const MAX_STATUS_NOTIFY_DATA: usize = 256;

/// A CFG_REPLY's content the engine understands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConfigReply {
    /// INTERNAL_IP4_ADDRESS: the initiator's inner address.
    pub internal_ip4: Option<Ipv4Addr>,
    /// INTERNAL_IP4_NETMASK of that address.
    pub internal_netmask: Option<Ipv4Addr>,
}

/// A status notify of the private-use range (`notify_type` >= [`PRIVATE_STATUS_MIN`]), such as
/// 3GPP's NAS_IP4_ADDRESS (55502) or NAS_TCP_PORT (55506).
#[derive(Clone, PartialEq, Eq)]
pub struct StatusNotify {
    pub notify_type: u16,
    pub data: Vec<u8>,
}

impl StatusNotify {
    /// Whether its type is in the private-use status range.
    pub fn is_private_status(&self) -> bool {
        self.notify_type >= PRIVATE_STATUS_MIN
    }
}

impl fmt::Debug for StatusNotify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusNotify")
            .field("notify_type", &self.notify_type)
            .field("data_len", &self.data.len())
            .finish()
    }
}

/// What the responder adds to its final IKE_AUTH response after EAP, given with
/// [`EapStep::Success`](crate::EapStep::Success).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FinalAuthReply {
    /// CP(CFG_REPLY), sent only when the initiator sent a CP(CFG_REQUEST) in its first or
    /// last IKE_AUTH request (RFC 7296 §3.15).
    pub config: Option<ConfigReply>,
    /// Private-use status notifies, in this order; others are not sent.
    pub notifies: Vec<StatusNotify>,
    /// Narrows the first Child SA's remote traffic selectors (TSi) to this address/32, all
    /// protocols and ports; TS_UNACCEPTABLE for that Child SA when TSi does not include it.
    pub narrow_remote_ts: Option<Ipv4Addr>,
}
