//! SCTP notifications (RFC 6458 §6.1) as the stacks write them: host-order C structs whose
//! type and state numbers differ per stack ([`NotificationCodes`]). Only what N2 acts on is
//! read: association changes and the peer's SHUTDOWN. The bytes come from the local stack, but
//! they are still checked: a short or inconsistent notification is an error, never a panic.

use ipsec_sys::sctp::NotificationCodes;

/// A notification N2 cares about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Notification {
    /// `SCTP_ASSOC_CHANGE` with the stream counts it reports.
    AssocChange {
        state: AssocState,
        outbound: u16,
        inbound: u16,
    },
    /// `SCTP_SHUTDOWN_EVENT`: the peer sent SHUTDOWN; it will send no more data.
    PeerShutdown,
    /// Any other type (subscribed to by nobody here, but harmless).
    Other { kind: u16 },
}

/// `sac_state` of an association change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AssocState {
    CantStartAssoc,
    CommLost,
    CommUp,
    Restart,
    ShutdownComplete,
    Unknown(u16),
}

/// A notification shorter than its header or its own length says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Reads one whole notification.
pub(crate) fn parse(bytes: &[u8], codes: &NotificationCodes) -> Result<Notification, Malformed> {
    let kind = read_u16(bytes, 0)?;
    let length = read_u32(bytes, 4)?;
    if (length as usize) < HEADER_LEN || length as usize > bytes.len() {
        return Err(Malformed);
    }
    let body = &bytes[..length as usize];
    if kind == codes.assoc_change {
        let state = read_u16(body, 8)?;
        return Ok(Notification::AssocChange {
            state: assoc_state(state, codes),
            outbound: read_u16(body, 12)?,
            inbound: read_u16(body, 14)?,
        });
    }
    if kind == codes.shutdown_event {
        return Ok(Notification::PeerShutdown);
    }
    Ok(Notification::Other { kind })
}

/// Collects the pieces of one notification, up to a bound (notifications are small; a longer
/// one is dropped).
#[derive(Debug, Default)]
pub(crate) struct NotificationBuffer {
    buf: Vec<u8>,
    overflow: bool,
}

impl NotificationBuffer {
    /// Adds one piece; at the end of the notification, returns it whole, or `Err(Malformed)`
    /// when it was too long.
    pub(crate) fn push(&mut self, piece: &[u8], end: bool) -> Option<Result<Vec<u8>, Malformed>> {
        if self.buf.len() + piece.len() > MAX_NOTIFICATION_LEN {
            self.overflow = true;
            self.buf.clear();
        } else if !self.overflow {
            self.buf.extend_from_slice(piece);
        }
        if !end {
            return None;
        }
        let whole = std::mem::take(&mut self.buf);
        Some(if std::mem::take(&mut self.overflow) {
            Err(Malformed)
        } else {
            Ok(whole)
        })
    }
}

/// The longest notification kept (an association change with its feature list is ~30 bytes).
pub(crate) const MAX_NOTIFICATION_LEN: usize = 4096;

fn assoc_state(state: u16, codes: &NotificationCodes) -> AssocState {
    match state {
        s if s == codes.comm_up => AssocState::CommUp,
        s if s == codes.comm_lost => AssocState::CommLost,
        s if s == codes.restart => AssocState::Restart,
        s if s == codes.shutdown_comp => AssocState::ShutdownComplete,
        s if s == codes.cant_start_assoc => AssocState::CantStartAssoc,
        other => AssocState::Unknown(other),
    }
}

fn read_u16(bytes: &[u8], at: usize) -> Result<u16, Malformed> {
    let b = bytes.get(at..at + 2).ok_or(Malformed)?;
    Ok(u16::from_ne_bytes([b[0], b[1]]))
}

fn read_u32(bytes: &[u8], at: usize) -> Result<u32, Malformed> {
    let b = bytes.get(at..at + 4).ok_or(Malformed)?;
    Ok(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// `sn_type`, `sn_flags`, `sn_length`.
const HEADER_LEN: usize = 8;

#[cfg(test)]
mod tests {
    use ipsec_sys::sctp::{KernelSctpSocket, UsrsctpSocket};

    use super::*;

    /// `struct sctp_assoc_change` as a stack writes it (20 bytes with the association id).
    fn assoc_change(kind: u16, state: u16, outbound: u16, inbound: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&kind.to_ne_bytes());
        b.extend_from_slice(&0u16.to_ne_bytes());
        b.extend_from_slice(&20u32.to_ne_bytes());
        b.extend_from_slice(&state.to_ne_bytes());
        b.extend_from_slice(&0u16.to_ne_bytes());
        b.extend_from_slice(&outbound.to_ne_bytes());
        b.extend_from_slice(&inbound.to_ne_bytes());
        b.extend_from_slice(&7u32.to_ne_bytes());
        b
    }

    #[test]
    fn reads_association_changes_of_both_stacks() {
        let usr = UsrsctpSocket::NOTIFICATIONS;
        let k = KernelSctpSocket::NOTIFICATIONS;
        assert_eq!(
            parse(&assoc_change(0x0001, 0x0001, 10, 5), &usr),
            Ok(Notification::AssocChange {
                state: AssocState::CommUp,
                outbound: 10,
                inbound: 5
            })
        );
        assert_eq!(
            parse(&assoc_change(0x8001, 2, 3, 4), &k),
            Ok(Notification::AssocChange {
                state: AssocState::Restart,
                outbound: 3,
                inbound: 4
            })
        );
        // usrsctp's COMM_UP type read with the kernel's numbers is something else.
        assert_eq!(
            parse(&assoc_change(0x0001, 1, 1, 1), &k),
            Ok(Notification::Other { kind: 1 })
        );
        let unknown = parse(&assoc_change(0x8001, 9, 1, 1), &k);
        assert!(matches!(
            unknown,
            Ok(Notification::AssocChange {
                state: AssocState::Unknown(9),
                ..
            })
        ));
    }

    #[test]
    fn notification_pieces_are_joined_up_to_the_bound() {
        let mut n = NotificationBuffer::default();
        assert_eq!(n.push(b"ab", false), None);
        assert_eq!(n.push(b"c", true), Some(Ok(b"abc".to_vec())));
        assert_eq!(n.push(&[0; MAX_NOTIFICATION_LEN], false), None);
        assert_eq!(n.push(b"x", true), Some(Err(Malformed)));
        assert_eq!(n.push(b"d", true), Some(Ok(b"d".to_vec())));
    }

    #[test]
    fn reads_the_peer_shutdown() {
        let mut b = 0x0005u16.to_ne_bytes().to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&12u32.to_ne_bytes());
        b.extend_from_slice(&1u32.to_ne_bytes());
        assert_eq!(
            parse(&b, &UsrsctpSocket::NOTIFICATIONS),
            Ok(Notification::PeerShutdown)
        );
    }

    #[test]
    fn short_or_inconsistent_lengths_are_malformed() {
        let codes = UsrsctpSocket::NOTIFICATIONS;
        let full = assoc_change(1, 1, 1, 1);
        for cut in 0..14 {
            assert_eq!(parse(&full[..cut], &codes), Err(Malformed), "cut at {cut}");
        }
        let mut lying = full.clone();
        lying[4..8].copy_from_slice(&200u32.to_ne_bytes());
        assert_eq!(parse(&lying, &codes), Err(Malformed));
        let mut tiny = full;
        tiny[4..8].copy_from_slice(&4u32.to_ne_bytes());
        assert_eq!(parse(&tiny, &codes), Err(Malformed));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            for codes in [UsrsctpSocket::NOTIFICATIONS, KernelSctpSocket::NOTIFICATIONS] {
                let _ = parse(&bytes, &codes);
            }
        }
    }
}
