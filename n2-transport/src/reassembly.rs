//! Whole messages from the pieces a stack delivers (a message larger than the read buffer, or
//! past the partial delivery point, arrives in several reads, the last marked end-of-record).
//! The size bound holds across pieces: a message that grows past it is dropped whole.

use ipsec_sys::sctp::RecvInfo;

use crate::types::{N2Message, Ppid, StreamId};

/// What one piece completed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Assembled {
    /// A whole message within the bound.
    Message(N2Message),
    /// A message past the bound (its length so far), dropped.
    Oversized { stream: StreamId, len: usize },
    /// A message the stack gave without its stream and PPID, dropped.
    MissingInfo,
}

/// Collects the pieces of one message at a time (one-to-one sockets without fragment
/// interleaving deliver a message's pieces back to back).
#[derive(Debug)]
pub(crate) struct Reassembler {
    max: usize,
    buf: Vec<u8>,
    info: Option<RecvInfo>,
    seen: usize,
}

impl Reassembler {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            buf: Vec::new(),
            info: None,
            seen: 0,
        }
    }

    /// Adds one piece; returns what it completed, if it ended a message.
    pub(crate) fn push(
        &mut self,
        piece: &[u8],
        info: Option<RecvInfo>,
        end_of_record: bool,
    ) -> Option<Assembled> {
        if self.seen == 0 {
            self.info = info;
        }
        self.seen = self.seen.saturating_add(piece.len());
        if self.seen <= self.max {
            self.buf.extend_from_slice(piece);
        } else {
            // Past the bound: keep counting, stop storing.
            self.buf = Vec::new();
        }
        if !end_of_record {
            return None;
        }
        let len = std::mem::take(&mut self.seen);
        let payload = std::mem::take(&mut self.buf);
        let Some(info) = self.info.take() else {
            return Some(Assembled::MissingInfo);
        };
        let stream = StreamId(info.stream);
        if len > self.max {
            return Some(Assembled::Oversized { stream, len });
        }
        Some(Assembled::Message(N2Message {
            stream,
            ppid: Ppid(info.ppid),
            payload,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: RecvInfo = RecvInfo {
        stream: 3,
        ppid: 60,
    };

    #[test]
    fn pieces_make_one_message() {
        let mut r = Reassembler::new(10);
        assert_eq!(r.push(b"abc", Some(INFO), false), None);
        assert_eq!(r.push(b"defg", Some(INFO), false), None);
        let done = r.push(b"hij", Some(INFO), true);
        assert_eq!(
            done,
            Some(Assembled::Message(N2Message {
                stream: StreamId(3),
                ppid: Ppid::NGAP,
                payload: b"abcdefghij".to_vec(),
            }))
        );
        // The next message starts afresh.
        let next = r.push(b"k", Some(RecvInfo { stream: 0, ppid: 1 }), true);
        assert!(
            matches!(next, Some(Assembled::Message(m)) if m.payload == b"k" && m.stream.0 == 0)
        );
    }

    #[test]
    fn a_message_one_byte_past_the_bound_is_dropped_whole() {
        let mut r = Reassembler::new(10);
        assert_eq!(r.push(&[0; 6], Some(INFO), false), None);
        assert_eq!(
            r.push(&[0; 5], Some(INFO), true),
            Some(Assembled::Oversized {
                stream: StreamId(3),
                len: 11
            })
        );
        let at_bound = r.push(&[1; 10], Some(INFO), true);
        assert!(matches!(at_bound, Some(Assembled::Message(m)) if m.payload.len() == 10));
    }

    #[test]
    fn missing_receive_information_drops_the_message() {
        let mut r = Reassembler::new(10);
        assert_eq!(r.push(b"x", None, true), Some(Assembled::MissingInfo));
    }

    proptest::proptest! {
        /// Whatever the pieces, a delivered message is within the bound and holds exactly the
        /// bytes of its pieces; one past the bound is reported with its whole length.
        #[test]
        fn the_bound_holds_for_any_split(
            pieces in proptest::collection::vec((0usize..40, proptest::prelude::any::<bool>()), 1..20)
        ) {
            let mut r = Reassembler::new(50);
            let mut current = Vec::new();
            for (i, (len, end)) in pieces.iter().enumerate() {
                let piece = vec![i as u8; *len];
                current.extend_from_slice(&piece);
                match r.push(&piece, Some(INFO), *end) {
                    None => proptest::prop_assert!(!end),
                    Some(Assembled::Message(m)) => {
                        proptest::prop_assert!(current.len() <= 50);
                        proptest::prop_assert_eq!(&m.payload, &current);
                        current.clear();
                    }
                    Some(Assembled::Oversized { len, .. }) => {
                        proptest::prop_assert_eq!(len, current.len());
                        proptest::prop_assert!(len > 50);
                        current.clear();
                    }
                    Some(Assembled::MissingInfo) => proptest::prop_assert!(false),
                }
            }
        }
    }
}
