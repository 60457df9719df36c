//! N2 transport for the N3IWF and the AMF emulator: NGAP over SCTP (TS 38.412) on tokio, with
//! the stream and the payload protocol identifier of every message.
//!
//! - [`N2Transport`]: `connect` (the N3IWF opens the association to the AMF, port 38412) and
//!   `listen`/`accept` (the AMF side); both give an [`Association`] that sends
//!   `(stream, PPID, bytes)` and receives [`N2Event`]s: whole messages, a peer restart, the end.
//! - Two stacks: [`KernelSctp`] (the kernel's SCTP, one-to-one sockets; a kernel without SCTP
//!   is reported as [`N2Error::KernelSctpUnavailable`], which names the alternative) and
//!   [`UserspaceSctp`] (usrsctp, loaded at run time, over raw IP protocol 132 or UDP port 9899,
//!   RFC 6951). [`Transport`] picks one from configuration ([`TransportKind`]).
//! - Bounds: a message size ([`AssociationConfig::max_message_size`], checked on send, larger
//!   received messages dropped and counted) and a receive queue
//!   ([`AssociationConfig::receive_queue`]; when it is full, SCTP's flow control holds the
//!   peer back). Stream counts are negotiated at set-up ([`StreamCounts`]);
//!   [`StreamCounts::stream_for_ue`] spreads UEs over the streams other than 0.
//!
//! All unsafe code (the sockets, usrsctp's C interface) is in `ipsec-sys`.

mod association;
mod config;
mod error;
mod notification;
mod reassembly;
mod socket;
mod transport;
mod types;

pub use association::{Association, AssociationStats, DownReason, N2Event, N2Receiver, N2Sender};
pub use config::{
    AssociationConfig, LowerLayer, MAX_MESSAGE_SIZE_LIMIT, MAX_RECEIVE_QUEUE, NGAP_PORT,
    TransportKind, UDP_ENCAPSULATION_PORT,
};
pub use error::N2Error;
pub use ipsec_sys::sctp::{StackConfig, StackError, UsrsctpLoadError};
pub use transport::{KernelSctp, N2Listener, N2Transport, Transport, UserspaceSctp};
pub use types::{N2Message, Ppid, StreamCounts, StreamId};
