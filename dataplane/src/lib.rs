//! Userspace ESP datapath: the I/O workers around the sans-IO `esp` crate.
//!
//! The kernel here has no ESP, so this is the only datapath. It is built for throughput on few
//! cores, from measurements on the target machines (per-packet system calls dominate, not
//! crypto):
//!
//! - the TUN device runs with virtio-net headers and TSO, so one read brings a 64 KiB TCP
//!   super-packet, cut here by [`Segmenter`] straight into the ESP buffer;
//! - ESP-in-UDP leaves with UDP GSO (one `sendmmsg` for many packets) and arrives with UDP GRO;
//!   decrypted TCP segments are merged again by [`Coalescer`] into one TUN write;
//! - raw ESP (IP protocol 50) uses `sendmmsg`/`recvmmsg` batches;
//! - one worker per core ([`DataplaneConfig::workers`]), each with its own TUN queue and
//!   `SO_REUSEPORT` socket, handling bounded batches per wake-up and allocating nothing per
//!   packet.
//!
//! The control API ([`Dataplane::start`], [`DataplaneHandle`]) installs manually keyed or
//! IKE-negotiated CHILD_SAs, switches outbound SAs atomically for make-before-break rekeying,
//! reports per-SA counters, keeps SA events until they are collected (never dropped), and
//! hands received IKE messages, admitted per source, to a bounded channel of their own.
//! [`manual`] reads RFC 9061-style (IKE-less) SA files for the `esp-tunnel` tool.
//!
//! With an N3 address ([`DataplaneConfig::n3`]) the workers also carry an N3IWF's user plane:
//! GRE inside the user-plane Child SAs of a PDU session ([`UserPlaneSession`]) to and from
//! GTP-U tunnels on N3, QFI by QFI, without the daemon (docs/n3iwf-user-plane.md).

mod admission;
mod checksum;
mod coalesce;
mod config;
mod downlink;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod fuzzing;
mod handle;
pub mod manual;
mod n3;
#[cfg(test)]
mod n3_tests;
mod packet;
mod report;
mod sa_events;
mod segment;
mod stats;
mod table;
mod tx;
mod up_control;
mod up_table;
mod uplink;
mod user_plane;
mod worker;

pub use admission::SourceLimiter;
pub use coalesce::{CoalesceStats, Coalescer, Full};
pub use config::{
    ChildSa, ChildSaId, DEFAULT_IKE_RATE_PER_SOURCE, DataplaneConfig, DataplaneError,
    DataplaneEvent, Direction, Encapsulation, IkeMessage, SaEventReport, SaStats, TunConfig,
};
pub use handle::{Dataplane, DataplaneHandle};
pub use segment::{SegmentError, Segmenter};
pub use stats::DataplaneStats;
pub use user_plane::{OversizePolicy, UserPlaneChildren, UserPlaneSession, UserPlaneStats};
/// The identifiers and GRE mode of the user plane, as the `userplane` codecs define them.
pub use userplane::{GTPU_PORT, GreProtocolType, Qfi, Teid};
