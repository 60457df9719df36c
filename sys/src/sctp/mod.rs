//! SCTP sockets for N2 (NGAP over SCTP, TS 38.412), from two stacks behind one vocabulary:
//!
//! - [`KernelSctpSocket`]: the kernel's SCTP, one-to-one style (`SOCK_STREAM`), stream and PPID
//!   per message in `SCTP_SNDINFO`/`SCTP_RCVINFO` control messages (RFC 6458 §5.3.4-5);
//! - [`UsrsctpSocket`]: usrsctp, loaded at run time from `libusrsctp.so.2`, over its own raw IP
//!   protocol-132 sockets or UDP encapsulation (RFC 6951), for kernels without SCTP.
//!
//! Both are non-blocking. What differs between the stacks (notification numbers, flag bits) is
//! given as data ([`NotificationCodes`]), so that the caller parses notifications once.

mod cmsg;
mod kernel;
mod usrsctp;

pub use kernel::KernelSctpSocket;
pub use usrsctp::{
    CLOSE_GRACE as USRSCTP_CLOSE_GRACE, StackConfig, StackError, UpcallWaker, Usrsctp,
    UsrsctpLoadError, UsrsctpSocket,
};

/// What goes with one outgoing message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendInfo {
    /// The stream identifier.
    pub stream: u16,
    /// The payload protocol identifier in host order; it is written big-endian on the wire.
    pub ppid: u32,
}

/// What came with a received message (or piece of one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvInfo {
    /// The stream identifier.
    pub stream: u16,
    /// The payload protocol identifier in host order.
    pub ppid: u32,
}

/// One successful read from an SCTP socket: a whole message or a piece of one (the stack
/// delivers a message larger than the buffer, or past its partial delivery point, in pieces,
/// the last with `end_of_record`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// `len` bytes of user data; `info` is absent only when the stack did not supply it.
    Data {
        len: usize,
        info: Option<RecvInfo>,
        end_of_record: bool,
    },
    /// `len` bytes of an SCTP notification (RFC 6458 §6.1), in the stack's own layout.
    Notification { len: usize, end_of_record: bool },
    /// The association is gone and nothing is left to read (a read of 0 bytes).
    Closed,
}

/// Socket options set before `connect` or `listen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketSetup {
    /// Outbound streams to ask for in INIT (`sinit_num_ostreams`).
    pub outbound_streams: u16,
    /// Inbound streams to accept at most (`sinit_max_instreams`).
    pub max_inbound_streams: u16,
    /// INIT retransmissions before giving up (`sinit_max_attempts`); 0: the stack's default.
    pub max_init_attempts: u16,
    /// Largest INIT retransmission timeout in milliseconds; 0: the stack's default.
    pub max_init_timeout_ms: u16,
    /// `SO_SNDBUF` in bytes; 0: the stack's default.
    pub send_buffer: u32,
    /// `SO_RCVBUF` in bytes; 0: the stack's default.
    pub recv_buffer: u32,
}

/// The numbers one stack uses in its notifications (RFC 6458 §6.1.1 and §6.1.5 give the names;
/// FreeBSD-derived stacks and Linux give them different values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotificationCodes {
    /// `SCTP_ASSOC_CHANGE`.
    pub assoc_change: u16,
    /// `SCTP_SHUTDOWN_EVENT`.
    pub shutdown_event: u16,
    /// `SCTP_COMM_UP`.
    pub comm_up: u16,
    /// `SCTP_COMM_LOST`.
    pub comm_lost: u16,
    /// `SCTP_RESTART`.
    pub restart: u16,
    /// `SCTP_SHUTDOWN_COMP`.
    pub shutdown_comp: u16,
    /// `SCTP_CANT_STR_ASSOC`.
    pub cant_start_assoc: u16,
}

/// `IPPROTO_SCTP`.
const IPPROTO_SCTP: libc::c_int = 132;
