//! The values of an N2 message: stream, payload protocol identifier, and the stream counts an
//! association negotiated.

use std::fmt;

/// An SCTP stream identifier (RFC 9260 §3.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(pub u16);

impl StreamId {
    /// TS 38.412 §7: stream 0 carries the non-UE-associated procedures (NG Setup, NG Reset,
    /// Error Indication without UE IDs, …).
    pub const NON_UE: Self = Self(0);
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stream {}", self.0)
    }
}

/// A payload protocol identifier (RFC 9260 §3.3.1), in host order; the stacks write it
/// big-endian into the DATA chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ppid(pub u32);

impl Ppid {
    /// NGAP (TS 38.412 §7, IANA's SCTP payload protocol identifier 60).
    pub const NGAP: Self = Self(60);
}

impl fmt::Display for Ppid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PPID {}", self.0)
    }
}

/// One whole user message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct N2Message {
    pub stream: StreamId,
    pub ppid: Ppid,
    pub payload: Vec<u8>,
}

/// The streams an association has in each direction (the smaller of what each side asked
/// for and what the other accepts, RFC 9260 §5.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamCounts {
    /// Streams this side may send on: `0..outbound`.
    pub outbound: u16,
    /// Streams the peer may send on.
    pub inbound: u16,
}

impl StreamCounts {
    /// The stream for the UE-associated signalling of the UE with `key` (its RAN UE NGAP ID,
    /// say): TS 38.412 §7 keeps one UE on one stream and stream 0 free of UE signalling, so
    /// the UEs are spread over streams `1..outbound`. With a single outbound stream there is
    /// no other choice than stream 0.
    pub fn stream_for_ue(&self, key: u64) -> StreamId {
        let ue_streams = u64::from(self.outbound.saturating_sub(1));
        if ue_streams == 0 {
            return StreamId::NON_UE;
        }
        // `key % ue_streams` is below `outbound - 1`, so the sum fits a u16.
        StreamId(1 + (key % ue_streams) as u16)
    }

    /// Whether `stream` exists in the outbound direction.
    pub fn has_outbound(&self, stream: StreamId) -> bool {
        stream.0 < self.outbound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ue_streams_avoid_stream_zero_and_stay_in_range() {
        let counts = StreamCounts {
            outbound: 4,
            inbound: 4,
        };
        let streams: Vec<u16> = (0..7).map(|k| counts.stream_for_ue(k).0).collect();
        assert_eq!(streams, [1, 2, 3, 1, 2, 3, 1]);
        assert_eq!(counts.stream_for_ue(u64::MAX).0, 1 + (u64::MAX % 3) as u16);
        assert!(counts.has_outbound(StreamId(3)));
        assert!(!counts.has_outbound(StreamId(4)));
    }

    #[test]
    fn a_single_stream_carries_everything() {
        let one = StreamCounts {
            outbound: 1,
            inbound: 1,
        };
        assert_eq!(one.stream_for_ue(42), StreamId::NON_UE);
        let none = StreamCounts {
            outbound: 0,
            inbound: 0,
        };
        assert_eq!(none.stream_for_ue(42), StreamId::NON_UE);
    }
}
