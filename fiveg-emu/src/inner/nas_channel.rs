//! NAS messages over one TCP connection of the inner stack, framed as TS 24.502 §9.4 says
//! (2-octet length, then the message), strictly in order both ways.

use std::fmt;

use n3iwf::wire::nas_envelope::{self, EnvelopeError, LENGTH_LEN, NasEnvelopeReader};

use super::conn::{ConnError, ConnId};
use super::stack::InnerStack;

/// Why a [`NasChannel`] call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NasChannelError {
    /// The peer's framing is broken (length 0 or above the bound), or the message to send
    /// cannot be framed: the connection is unusable and should be aborted.
    Envelope(EnvelopeError),
    /// Queuing this message would put more than the bound in the outbox.
    OutboxFull {
        /// Octets queued.
        queued: usize,
        /// Octets of the framed message.
        message: usize,
        /// The bound.
        max: usize,
    },
    /// The peer closed the connection in the middle of a message.
    TruncatedAtClose {
        /// Octets of the unfinished envelope.
        buffered: usize,
    },
    /// The connection refused the operation ([`ConnError::Finished`] once the peer closed
    /// and every message was read).
    Conn(ConnError),
}

impl fmt::Display for NasChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Envelope(e) => write!(f, "NAS envelope: {e}"),
            Self::OutboxFull {
                queued,
                message,
                max,
            } => write!(
                f,
                "{message} octets on top of {queued} queued (at most {max})"
            ),
            Self::TruncatedAtClose { buffered } => {
                write!(
                    f,
                    "connection closed with {buffered} octets of an unfinished envelope"
                )
            }
            Self::Conn(e) => write!(f, "TCP: {e}"),
        }
    }
}

impl std::error::Error for NasChannelError {}

impl From<ConnError> for NasChannelError {
    fn from(e: ConnError) -> Self {
        Self::Conn(e)
    }
}

/// Framed NAS messages over one connection of an [`InnerStack`]. Messages to send wait in a
/// bounded outbox until the TCP send buffer takes them; received octets are read only as far
/// as the envelope reader's bound allows, so a slow reader pushes back on the peer (TCP
/// window) instead of growing memory.
#[derive(Debug)]
pub struct NasChannel {
    conn: ConnId,
    reader: NasEnvelopeReader,
    /// The reader's bound on buffered octets (as it computes it).
    max_buffered: usize,
    outbox: Vec<u8>,
    max_outbox: usize,
}

impl NasChannel {
    /// Octets read from TCP at a time.
    const READ_CHUNK: usize = 4096;

    /// A channel accepting any NAS message the length field can express, buffering two such
    /// envelopes each way.
    pub fn new(conn: ConnId) -> Self {
        let max = NasEnvelopeReader::DEFAULT_MAX_MESSAGE;
        Self::with_limits(conn, max, 2 * (max + LENGTH_LEN), 2 * (max + LENGTH_LEN))
    }

    /// A channel refusing received messages over `max_message` octets, buffering at most
    /// `max_buffered` received octets (raised to one whole envelope) and `max_outbox` octets
    /// to send.
    pub fn with_limits(
        conn: ConnId,
        max_message: usize,
        max_buffered: usize,
        max_outbox: usize,
    ) -> Self {
        let max_message = max_message.clamp(1, NasEnvelopeReader::DEFAULT_MAX_MESSAGE);
        Self {
            conn,
            reader: NasEnvelopeReader::with_limits(max_message, max_buffered),
            max_buffered: max_buffered.max(max_message + LENGTH_LEN),
            outbox: Vec::new(),
            max_outbox,
        }
    }

    /// Frames `nas_message`, queues it after every earlier one, and moves what fits into the
    /// TCP send buffer.
    ///
    /// # Errors
    /// [`NasChannelError::Envelope`] for an empty or oversized message,
    /// [`NasChannelError::OutboxFull`] (nothing queued), or the connection's error.
    pub fn send(
        &mut self,
        stack: &mut InnerStack,
        nas_message: &[u8],
    ) -> Result<(), NasChannelError> {
        let framed = nas_message.len() + LENGTH_LEN;
        if self.outbox.len() + framed > self.max_outbox {
            return Err(NasChannelError::OutboxFull {
                queued: self.outbox.len(),
                message: framed,
                max: self.max_outbox,
            });
        }
        nas_envelope::frame(nas_message, &mut self.outbox).map_err(NasChannelError::Envelope)?;
        self.flush(stack)?;
        Ok(())
    }

    /// Moves queued octets into the TCP send buffer; returns how many are still queued. Call
    /// after each poll while it is not zero.
    ///
    /// # Errors
    /// The connection's error.
    pub fn flush(&mut self, stack: &mut InnerStack) -> Result<usize, NasChannelError> {
        if !self.outbox.is_empty() {
            let sent = stack.send(self.conn, &self.outbox)?;
            self.outbox.drain(..sent);
        }
        Ok(self.outbox.len())
    }

    /// The next received NAS message, in the order sent; `Ok(None)` until one is complete.
    ///
    /// # Errors
    /// [`NasChannelError::Envelope`] for broken framing, [`NasChannelError::TruncatedAtClose`]
    /// or [`ConnError::Finished`] once the peer closed, or the connection's error.
    pub fn recv(&mut self, stack: &mut InnerStack) -> Result<Option<Vec<u8>>, NasChannelError> {
        loop {
            if let Some(message) = self.next_buffered()? {
                return Ok(Some(message));
            }
            let room = self.max_buffered - self.reader.buffered();
            let mut chunk = [0u8; Self::READ_CHUNK];
            let want = room.min(chunk.len());
            let read = match stack.recv(self.conn, &mut chunk[..want]) {
                Err(ConnError::Finished) if self.reader.buffered() > 0 => {
                    return Err(NasChannelError::TruncatedAtClose {
                        buffered: self.reader.buffered(),
                    });
                }
                other => other?,
            };
            if read == 0 {
                return Ok(None);
            }
            self.reader
                .push(&chunk[..read])
                .map_err(NasChannelError::Envelope)?;
        }
    }

    /// The connection.
    pub fn conn(&self) -> ConnId {
        self.conn
    }

    /// Octets waiting in the outbox.
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// Received octets of envelopes not yet complete.
    pub fn buffered(&self) -> usize {
        self.reader.buffered()
    }

    fn next_buffered(&mut self) -> Result<Option<Vec<u8>>, NasChannelError> {
        self.reader
            .next_message()
            .map_err(NasChannelError::Envelope)
    }
}
