//! What an operator chooses: the stack, its lower layer, streams and bounds.

use std::time::Duration;

use crate::error::N2Error;

/// Which SCTP stack carries N2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// The kernel's SCTP (Linux `sctp` module): what production N2 uses where it exists.
    Kernel,
    /// usrsctp in this process, for kernels without SCTP.
    Usrsctp(LowerLayer),
}

/// What usrsctp's packets travel in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LowerLayer {
    /// SCTP directly over IP (protocol 132), as on a real N2; needs root or `CAP_NET_RAW`,
    /// and a host whose kernel does not run SCTP itself.
    RawIp,
    /// SCTP over UDP (RFC 6951): no privileges needed; the peer must speak it too (usrsctp,
    /// or Linux 5.11+ with `net.sctp.udp_port` set).
    Udp {
        /// Local UDP port; 0 picks a free one (a client needs no fixed port: the peer answers
        /// to the port it sees).
        local_port: u16,
        /// The peer's UDP port (RFC 6951's registered port is 9899).
        remote_port: u16,
    },
}

impl LowerLayer {
    /// SCTP over UDP on the IANA port at both ends.
    pub const UDP_DEFAULT: Self = Self::Udp {
        local_port: UDP_ENCAPSULATION_PORT,
        remote_port: UDP_ENCAPSULATION_PORT,
    };
}

/// The IANA port for SCTP over UDP (RFC 6951 §5.1).
pub const UDP_ENCAPSULATION_PORT: u16 = 9899;
/// The IANA SCTP port of NGAP (TS 38.412 §7).
pub const NGAP_PORT: u16 = 38412;

/// Streams, bounds and timers of each association.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssociationConfig {
    /// Outbound streams to ask for: stream 0 plus the ones UEs are spread over.
    pub outbound_streams: u16,
    /// Inbound streams to accept at most.
    pub max_inbound_streams: u16,
    /// Fewer outbound streams than this after negotiation fails the association set-up
    /// ([`N2Error::TooFewStreams`]); 2 keeps UE signalling off stream 0.
    pub min_outbound_streams: u16,
    /// The largest message sent or received; larger received messages are dropped and
    /// counted.
    pub max_message_size: usize,
    /// Received messages queued for the application; when it is full, reading stops and
    /// SCTP's flow control holds the peer back.
    pub receive_queue: usize,
    /// How long `connect` (or the wait for an accepted association's COMM_UP) may take.
    pub connect_timeout: Duration,
    /// INIT transmissions before the stack gives up (RFC 9260 `Max.Init.Retransmits`).
    pub max_init_attempts: u16,
}

impl Default for AssociationConfig {
    fn default() -> Self {
        Self {
            outbound_streams: 16,
            max_inbound_streams: 16,
            min_outbound_streams: 2,
            // The NGAP decoder reads at most 64 KiB (`n3iwf::ngap::MAX_PDU_LEN`).
            max_message_size: 64 * 1024,
            receive_queue: 1024,
            connect_timeout: Duration::from_secs(10),
            max_init_attempts: 4,
        }
    }
}

impl AssociationConfig {
    /// Checks the bounds.
    ///
    /// # Errors
    /// [`N2Error::Config`] naming the field out of range.
    pub fn validate(&self) -> Result<(), N2Error> {
        let bad =
            |field: &'static str, allowed: &'static str| Err(N2Error::Config { field, allowed });
        if self.outbound_streams == 0 {
            return bad("outbound_streams", "1..=65535");
        }
        if self.max_inbound_streams == 0 {
            return bad("max_inbound_streams", "1..=65535");
        }
        if self.min_outbound_streams == 0 || self.min_outbound_streams > self.outbound_streams {
            return bad("min_outbound_streams", "1..=outbound_streams");
        }
        if !(1..=MAX_MESSAGE_SIZE_LIMIT).contains(&self.max_message_size) {
            return bad("max_message_size", "1..=16777216");
        }
        if !(1..=MAX_RECEIVE_QUEUE).contains(&self.receive_queue) {
            return bad("receive_queue", "1..=65536");
        }
        if self.connect_timeout.is_zero() {
            return bad("connect_timeout", "more than 0");
        }
        Ok(())
    }

    /// The socket send and receive buffers: room for a few of the largest messages.
    pub(crate) fn socket_buffer(&self) -> u32 {
        let want = (self.max_message_size * 4).max(256 * 1024);
        u32::try_from(want).unwrap_or(u32::MAX)
    }
}

/// Upper bound of [`AssociationConfig::max_message_size`].
pub const MAX_MESSAGE_SIZE_LIMIT: usize = 16 * 1024 * 1024;
/// Upper bound of [`AssociationConfig::receive_queue`].
pub const MAX_RECEIVE_QUEUE: usize = 65536;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        AssociationConfig::default().validate().unwrap();
    }

    #[test]
    fn each_bound_is_enforced() {
        let base = AssociationConfig::default();
        let cases = [
            (
                "outbound_streams",
                AssociationConfig {
                    outbound_streams: 0,
                    ..base
                },
            ),
            (
                "max_inbound_streams",
                AssociationConfig {
                    max_inbound_streams: 0,
                    ..base
                },
            ),
            (
                "min_outbound_streams",
                AssociationConfig {
                    min_outbound_streams: 17,
                    ..base
                },
            ),
            (
                "max_message_size",
                AssociationConfig {
                    max_message_size: 0,
                    ..base
                },
            ),
            (
                "max_message_size",
                AssociationConfig {
                    max_message_size: MAX_MESSAGE_SIZE_LIMIT + 1,
                    ..base
                },
            ),
            (
                "receive_queue",
                AssociationConfig {
                    receive_queue: MAX_RECEIVE_QUEUE + 1,
                    ..base
                },
            ),
            (
                "connect_timeout",
                AssociationConfig {
                    connect_timeout: Duration::ZERO,
                    ..base
                },
            ),
        ];
        for (want, config) in cases {
            match config.validate() {
                Err(N2Error::Config { field, .. }) => assert_eq!(field, want),
                other => panic!("{want}: {other:?}"),
            }
        }
        let at_limit = AssociationConfig {
            max_message_size: MAX_MESSAGE_SIZE_LIMIT,
            receive_queue: MAX_RECEIVE_QUEUE,
            ..base
        };
        at_limit.validate().unwrap();
    }
}
