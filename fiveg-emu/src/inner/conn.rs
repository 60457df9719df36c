//! TCP connections of the inner stack as the caller sees them: typed ids, events, errors, and
//! the reading of smoltcp's socket states into those events.

use std::fmt;
use std::net::SocketAddr;

use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{Socket, State};

/// A TCP connection of an [`InnerStack`](super::InnerStack). Ids are never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u32);

/// A listening port of an [`InnerStack`](super::InnerStack). Ids are never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenerId(pub u32);

/// Something that happened to a connection, in the order the stack saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackEvent {
    /// The connection opened with [`InnerStack::connect`](super::InnerStack::connect) is
    /// established.
    Connected(ConnId),
    /// A listener accepted a connection (established).
    Accepted {
        /// The listener.
        listener: ListenerId,
        /// The new connection.
        conn: ConnId,
        /// The peer's address and port.
        remote: SocketAddr,
    },
    /// The peer closed its half (FIN): what is buffered is the last data.
    PeerClosed(ConnId),
    /// The connection is gone; its id is no longer valid.
    Closed(ConnId, CloseReason),
}

/// How a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// Both sides closed their halves.
    Graceful,
    /// We aborted it ([`InnerStack::abort`](super::InnerStack::abort)): a RST was sent.
    Aborted,
    /// The peer answered our SYN with a RST: nothing listens there.
    Refused,
    /// The peer reset the established connection.
    Reset,
    /// Retransmissions went unanswered for the configured timeout.
    TimedOut,
}

/// Why a connection command failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnError {
    /// No such connection or listener (never existed, or already closed).
    Unknown,
    /// The stack holds its configured maximum of TCP sockets.
    TooManyConnections,
    /// The address cannot be reached from this stack (other family, unspecified, port 0).
    Unaddressable,
    /// The port is already listened on.
    PortInUse,
    /// The connection is not in a state that allows this (not yet established, or our half
    /// already closed).
    InvalidState,
    /// The peer closed its half and every octet it sent has been read.
    Finished,
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unknown => "no such connection",
            Self::TooManyConnections => "too many TCP sockets",
            Self::Unaddressable => "address not reachable from this stack",
            Self::PortInUse => "port already listened on",
            Self::InvalidState => "connection state does not allow it",
            Self::Finished => "the peer closed the connection",
        })
    }
}

impl std::error::Error for ConnError {}

/// What the stack remembers of one connection between polls.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) handle: SocketHandle,
    /// Connected (or accepted) has been reported.
    established: bool,
    /// PeerClosed has been reported.
    peer_closed: bool,
    /// We called abort.
    pub(crate) aborted: bool,
    /// A RST for this connection's tuple arrived since the last observation.
    pub(crate) reset_seen: bool,
    last: State,
}

/// What one observation of a connection found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Observed {
    Nothing,
    Connected,
    PeerClosed,
    /// Gone for the caller; `true` when the socket lingers in TIME-WAIT.
    Closed(CloseReason, bool),
}

impl Conn {
    pub(crate) fn new(handle: SocketHandle, state: State) -> Self {
        Self {
            handle,
            established: false,
            peer_closed: false,
            aborted: false,
            reset_seen: false,
            last: state,
        }
    }

    /// The next event the socket's state implies, if any. Call until it returns
    /// [`Observed::Nothing`] or [`Observed::Closed`]. A gracefully closed connection is
    /// reported closed only once the caller has read what it received.
    pub(crate) fn observe(&mut self, socket: &Socket<'_>) -> Observed {
        let state = socket.state();
        let closed = matches!(state, State::Closed | State::TimeWait);
        if !closed {
            self.last = state;
        }
        if !self.established && is_synchronized(state) {
            self.established = true;
            return Observed::Connected;
        }
        if !self.peer_closed && fin_received(state) {
            self.peer_closed = true;
            return Observed::PeerClosed;
        }
        if !closed {
            return Observed::Nothing;
        }
        let reason = self.close_reason(state);
        if reason == CloseReason::Graceful && socket.recv_queue() > 0 {
            return Observed::Nothing;
        }
        Observed::Closed(reason, state == State::TimeWait)
    }

    pub(crate) fn mark_established(&mut self) {
        self.established = true;
    }

    fn close_reason(&self, state: State) -> CloseReason {
        if self.aborted {
            return CloseReason::Aborted;
        }
        if state == State::TimeWait || matches!(self.last, State::LastAck | State::Closing) {
            return CloseReason::Graceful;
        }
        match (self.reset_seen, self.last) {
            (true, State::SynSent) => CloseReason::Refused,
            (true, _) => CloseReason::Reset,
            (false, _) => CloseReason::TimedOut,
        }
    }
}

/// States after the three-way handshake.
fn is_synchronized(state: State) -> bool {
    !matches!(
        state,
        State::Closed | State::Listen | State::SynSent | State::SynReceived
    )
}

/// States in which the peer's FIN has been received.
fn fin_received(state: State) -> bool {
    matches!(
        state,
        State::CloseWait | State::LastAck | State::Closing | State::TimeWait
    )
}
