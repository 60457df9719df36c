//! GRE as the user-plane Child SAs carry it (TS 24.502 §9.3.3, RFC 2784, RFC 2890): a Key
//! field whose first octet holds the QFI and whose last octet's top bit is the RQI.

use std::fmt;

/// Octets of the GRE header we send: flags and version, Protocol Type, Key.
pub const GRE_HEADER_LEN: usize = 8;

/// IP protocol number of GRE.
pub const IP_PROTOCOL_GRE: u8 = 47;

const FLAG_C: u16 = 0x8000;
const FLAG_R: u16 = 0x4000;
const FLAG_K: u16 = 0x2000;
const FLAG_S: u16 = 0x1000;
const VERSION_MASK: u16 = 0x0007;
const QFI_MASK: u8 = 0x3f;
const RQI_BIT: u8 = 0x80;

/// A QoS Flow Identifier, 0 to 63 (TS 38.415).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Qfi(u8);

impl Qfi {
    /// `value` if it fits the 6-bit field.
    pub fn new(value: u8) -> Option<Self> {
        (value <= QFI_MASK).then_some(Self(value))
    }

    /// The value.
    pub fn value(self) -> u8 {
        self.0
    }
}

/// What the Key field of a user-plane GRE packet says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GreKey {
    /// The QoS flow.
    pub qfi: Qfi,
    /// Reflective QoS Indication (downlink only).
    pub rqi: bool,
}

/// The Protocol Type to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProtocolType {
    /// 0x0800 for IPv4 payloads and 0x86DD for IPv6, as kernel GRE devices need to hand the
    /// packet to their IP stack (receivers that follow TS 24.502 ignore the field).
    #[default]
    EtherType,
    /// 0, as TS 24.502 §9.3.3 asks.
    Zero,
}

/// A GRE header a user-plane packet cannot carry. Each means: drop and count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GreError {
    /// Shorter than the header its flags announce.
    Truncated,
    /// Version other than 0, or the RFC 1701 routing bit set.
    Unsupported,
    /// No Key field (K = 0): no QFI to map the packet to.
    NoKey,
    /// The payload is not an IPv4 or IPv6 packet.
    NotIp,
}

impl fmt::Display for GreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "GRE header truncated",
            Self::Unsupported => "GRE version or routing not supported",
            Self::NoKey => "GRE packet without a key (no QFI)",
            Self::NotIp => "GRE payload is not IP",
        })
    }
}

impl std::error::Error for GreError {}

/// Appends `payload` (one user IP packet) behind a GRE header with `key` to `out`.
pub fn encapsulate(key: GreKey, protocol: ProtocolType, payload: &[u8], out: &mut Vec<u8>) {
    let ether_type = match (protocol, payload.first().map(|b| b >> 4)) {
        (ProtocolType::Zero, _) => 0,
        (ProtocolType::EtherType, Some(6)) => 0x86dd,
        (ProtocolType::EtherType, _) => 0x0800,
    };
    out.extend_from_slice(&FLAG_K.to_be_bytes());
    out.extend_from_slice(&u16::to_be_bytes(ether_type));
    let rqi = if key.rqi { RQI_BIT } else { 0 };
    out.extend_from_slice(&[key.qfi.value(), 0, 0, rqi]);
    out.extend_from_slice(payload);
}

/// The key and payload of a user-plane GRE packet. The Protocol Type is ignored (TS 24.502
/// §9.3.3); the payload's version nibble says what it is. Checksum and Sequence Number
/// fields, which we never send, are skipped if present.
///
/// # Errors
/// A [`GreError`].
pub fn decapsulate(packet: &[u8]) -> Result<(GreKey, &[u8]), GreError> {
    let [f0, f1, ..] = *packet else {
        return Err(GreError::Truncated);
    };
    let flags = u16::from_be_bytes([f0, f1]);
    if flags & VERSION_MASK != 0 || flags & FLAG_R != 0 {
        return Err(GreError::Unsupported);
    }
    if flags & FLAG_K == 0 {
        return Err(GreError::NoKey);
    }
    let key_at = if flags & FLAG_C != 0 { 8 } else { 4 };
    let payload_at = key_at + 4 + if flags & FLAG_S != 0 { 4 } else { 0 };
    let key: [u8; 4] = packet
        .get(key_at..key_at + 4)
        .and_then(|k| k.try_into().ok())
        .ok_or(GreError::Truncated)?;
    let payload = packet.get(payload_at..).ok_or(GreError::Truncated)?;
    if !matches!(payload.first().map(|b| b >> 4), Some(4 | 6)) {
        return Err(GreError::NotIp);
    }
    let qfi = Qfi(key[0] & QFI_MASK);
    Ok((
        GreKey {
            qfi,
            rqi: key[3] & RQI_BIT != 0,
        },
        payload,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const IPV4: [u8; 4] = [0x45, 0, 0, 20];

    #[test]
    fn header_is_ts_24_502_layout() {
        let key = GreKey {
            qfi: Qfi::new(9).unwrap(),
            rqi: true,
        };
        let mut out = Vec::new();
        encapsulate(key, ProtocolType::Zero, &IPV4, &mut out);
        assert_eq!(out[..GRE_HEADER_LEN], [0x20, 0, 0, 0, 9, 0, 0, 0x80]);
        assert_eq!(decapsulate(&out), Ok((key, &IPV4[..])));
        out.clear();
        encapsulate(key, ProtocolType::EtherType, &[0x60, 0], &mut out);
        assert_eq!(out[2..4], [0x86, 0xdd]);
    }

    #[test]
    fn spare_bits_and_optional_fields_are_ignored() {
        // Spare bits 7..6 of the QFI octet and of the RQI octet; checksum and sequence present.
        let mut p = vec![
            0xb0, 0, 0x08, 0, 0, 0, 0, 0, 0xc1, 0xff, 0xff, 0x7f, 1, 2, 3, 4,
        ];
        p.extend_from_slice(&IPV4);
        let (key, payload) = decapsulate(&p).unwrap();
        assert_eq!(key.qfi.value(), 1);
        assert!(!key.rqi);
        assert_eq!(payload, IPV4);
    }

    #[test]
    fn bad_headers_are_refused() {
        assert_eq!(decapsulate(&[0x20]), Err(GreError::Truncated));
        assert_eq!(decapsulate(&[0x20, 0, 0, 0, 1]), Err(GreError::Truncated));
        assert_eq!(decapsulate(&[0, 0, 8, 0, 0x45]), Err(GreError::NoKey));
        assert_eq!(decapsulate(&[0x20, 1, 0, 0]), Err(GreError::Unsupported));
        assert_eq!(decapsulate(&[0x60, 0, 0, 0]), Err(GreError::Unsupported));
        assert_eq!(
            decapsulate(&[0x20, 0, 0, 0, 1, 0, 0, 0, 0x10]),
            Err(GreError::NotIp)
        );
        assert_eq!(Qfi::new(64), None);
    }
}
