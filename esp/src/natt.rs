//! UDP encapsulation on port 4500 (RFC 3948): what a received payload is, and the non-ESP
//! marker that IKE messages carry there.

use std::ops::Range;

/// The one-octet NAT-keepalive payload (RFC 3948 §2.3).
pub const KEEPALIVE: u8 = 0xff;

/// The four zero octets that precede an IKE message on port 4500 (RFC 3948 §2.2).
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// ESP header bytes (SPI and Sequence Number) a UDP-encapsulated ESP packet has at least.
const ESP_MIN_LEN: usize = 8;

/// What a UDP payload received on port 4500 carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NatTPayload<'a> {
    /// A NAT-keepalive: discard it.
    Keepalive,
    /// An IKE message, after the non-ESP marker.
    Ike(&'a [u8]),
    /// An ESP packet, starting at the SPI.
    Esp(&'a [u8]),
}

/// Classifies a UDP/4500 payload as RFC 3948 §2.2 describes: a single 0xFF octet is a
/// keepalive; four zero octets (an SPI of zero, which ESP never uses) start an IKE message;
/// anything else is ESP.
///
/// Returns `None` for payloads that are none of these: empty, a single octet other than 0xFF,
/// a marker with nothing after it, or ESP shorter than its 8-octet header.
pub fn classify(payload: &[u8]) -> Option<NatTPayload<'_>> {
    if payload == [KEEPALIVE] {
        return Some(NatTPayload::Keepalive);
    }
    if let Some(ike) = payload.strip_prefix(&NON_ESP_MARKER) {
        return (!ike.is_empty()).then_some(NatTPayload::Ike(ike));
    }
    (payload.len() >= ESP_MIN_LEN).then_some(NatTPayload::Esp(payload))
}

/// Writes the non-ESP marker into the four bytes before `buf[start..end]` (an IKE message
/// built with headroom) and returns the range of marker plus message; `None` if there is no
/// room or the range is outside `buf`.
pub fn prepend_non_esp_marker(buf: &mut [u8], start: usize, end: usize) -> Option<Range<usize>> {
    let marker_at = start.checked_sub(NON_ESP_MARKER.len())?;
    if end < start || end > buf.len() {
        return None;
    }
    buf.get_mut(marker_at..start)?
        .copy_from_slice(&NON_ESP_MARKER);
    Some(marker_at..end)
}

/// The IKE message `ike` with the non-ESP marker in front, as a new buffer (for the control
/// path, where one allocation per message does not matter).
pub fn with_non_esp_marker(ike: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(NON_ESP_MARKER.len() + ike.len());
    out.extend_from_slice(&NON_ESP_MARKER);
    out.extend_from_slice(ike);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_each_kind() {
        assert_eq!(classify(&[0xff]), Some(NatTPayload::Keepalive));
        assert_eq!(
            classify(&[0, 0, 0, 0, 1, 2]),
            Some(NatTPayload::Ike(&[1, 2]))
        );
        let esp = [0, 0, 0, 1, 0, 0, 0, 1];
        assert_eq!(classify(&esp), Some(NatTPayload::Esp(&esp)));
        for bad in [
            &[][..],
            &[0xfe],
            &[0, 0, 0, 0],
            &[1, 2, 3, 4, 5, 6, 7],
            &[0, 0, 0],
        ] {
            assert_eq!(classify(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn marker_round_trips() {
        let mut buf = [9u8; 12];
        let r = prepend_non_esp_marker(&mut buf, 4, 10).unwrap();
        assert_eq!(r, 0..10);
        assert_eq!(classify(&buf[r]), Some(NatTPayload::Ike(&[9; 6])));
        assert_eq!(prepend_non_esp_marker(&mut buf, 3, 10), None);
        assert_eq!(prepend_non_esp_marker(&mut buf, 4, 13), None);
        assert_eq!(with_non_esp_marker(&[1]), vec![0, 0, 0, 0, 1]);
    }
}
