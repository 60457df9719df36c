//! Why a packet was dropped, per-reason drop counters, and SA set-up errors.

use std::fmt;

use ipsec_crypto::CryptoError;

/// Why the datapath refused a packet.
///
/// The datapath counts these in [`DropCounters`] and never logs them per packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// The ICV did not verify (RFC 4303 §3.4.4).
    Authentication,
    /// The decrypted Next Header is not a tunnel-mode payload (4 or 41), or it disagrees with
    /// the version of the inner packet.
    BadNextHeader,
    /// The Pad Length is larger than the payload, or the padding bytes are not 1, 2, 3, …
    /// (RFC 4303 §2.4).
    BadPadding,
    /// The caller left less than the headroom or tailroom that sealing needs.
    BufferTooSmall,
    /// The crypto library failed internally.
    Crypto,
    /// A dummy packet (Next Header 59), discarded after authentication as RFC 4303 §2.6 requires.
    DummyPacket,
    /// The SA reached a hard byte or packet lifetime and no longer carries traffic.
    HardLifetime,
    /// The inner packet is not IPv4 or IPv6, or its length field disagrees with the payload.
    InvalidInnerPacket,
    /// The ciphertext is not a whole number of cipher blocks.
    Malformed,
    /// The sequence number lies to the left of the anti-replay window, or is zero
    /// (RFC 4303 §3.4.3).
    OutsideWindow,
    /// The sequence number was already received (RFC 4303 §3.4.3).
    Replayed,
    /// Every sequence number of the SA has been used (RFC 4303 §3.3.3): the SA must be rekeyed.
    SequenceExhausted,
    /// The packet is too short to hold the ESP header, IV, trailer and ICV.
    Truncated,
    /// No inbound SA has the packet's SPI.
    UnknownSpi,
}

impl DropReason {
    /// Every reason, in declaration order (for exporting counters).
    pub const ALL: [Self; 14] = [
        Self::Authentication,
        Self::BadNextHeader,
        Self::BadPadding,
        Self::BufferTooSmall,
        Self::Crypto,
        Self::DummyPacket,
        Self::HardLifetime,
        Self::InvalidInnerPacket,
        Self::Malformed,
        Self::OutsideWindow,
        Self::Replayed,
        Self::SequenceExhausted,
        Self::Truncated,
        Self::UnknownSpi,
    ];

    /// A short, stable, snake_case name (for metrics labels).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authentication => "authentication",
            Self::BadNextHeader => "bad_next_header",
            Self::BadPadding => "bad_padding",
            Self::BufferTooSmall => "buffer_too_small",
            Self::Crypto => "crypto",
            Self::DummyPacket => "dummy_packet",
            Self::HardLifetime => "hard_lifetime",
            Self::InvalidInnerPacket => "invalid_inner_packet",
            Self::Malformed => "malformed",
            Self::OutsideWindow => "outside_window",
            Self::Replayed => "replayed",
            Self::SequenceExhausted => "sequence_exhausted",
            Self::Truncated => "truncated",
            Self::UnknownSpi => "unknown_spi",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for DropReason {}

/// One plain counter per [`DropReason`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DropCounters {
    /// [`DropReason::Authentication`].
    pub authentication: u64,
    /// [`DropReason::BadNextHeader`].
    pub bad_next_header: u64,
    /// [`DropReason::BadPadding`].
    pub bad_padding: u64,
    /// [`DropReason::BufferTooSmall`].
    pub buffer_too_small: u64,
    /// [`DropReason::Crypto`].
    pub crypto: u64,
    /// [`DropReason::DummyPacket`].
    pub dummy_packet: u64,
    /// [`DropReason::HardLifetime`].
    pub hard_lifetime: u64,
    /// [`DropReason::InvalidInnerPacket`].
    pub invalid_inner_packet: u64,
    /// [`DropReason::Malformed`].
    pub malformed: u64,
    /// [`DropReason::OutsideWindow`].
    pub outside_window: u64,
    /// [`DropReason::Replayed`].
    pub replayed: u64,
    /// [`DropReason::SequenceExhausted`].
    pub sequence_exhausted: u64,
    /// [`DropReason::Truncated`].
    pub truncated: u64,
    /// [`DropReason::UnknownSpi`].
    pub unknown_spi: u64,
}

impl DropCounters {
    /// Counts one drop.
    pub fn record(&mut self, reason: DropReason) {
        *self.slot(reason) += 1;
    }

    /// Adds every counter of `other` to this one.
    pub fn merge(&mut self, other: &Self) {
        for reason in DropReason::ALL {
            *self.slot(reason) += other.get(reason);
        }
    }

    /// The count for one reason.
    pub fn get(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::Authentication => self.authentication,
            DropReason::BadNextHeader => self.bad_next_header,
            DropReason::BadPadding => self.bad_padding,
            DropReason::BufferTooSmall => self.buffer_too_small,
            DropReason::Crypto => self.crypto,
            DropReason::DummyPacket => self.dummy_packet,
            DropReason::HardLifetime => self.hard_lifetime,
            DropReason::InvalidInnerPacket => self.invalid_inner_packet,
            DropReason::Malformed => self.malformed,
            DropReason::OutsideWindow => self.outside_window,
            DropReason::Replayed => self.replayed,
            DropReason::SequenceExhausted => self.sequence_exhausted,
            DropReason::Truncated => self.truncated,
            DropReason::UnknownSpi => self.unknown_spi,
        }
    }

    /// The sum over all reasons.
    pub fn total(&self) -> u64 {
        DropReason::ALL.iter().map(|&r| self.get(r)).sum()
    }

    fn slot(&mut self, reason: DropReason) -> &mut u64 {
        match reason {
            DropReason::Authentication => &mut self.authentication,
            DropReason::BadNextHeader => &mut self.bad_next_header,
            DropReason::BadPadding => &mut self.bad_padding,
            DropReason::BufferTooSmall => &mut self.buffer_too_small,
            DropReason::Crypto => &mut self.crypto,
            DropReason::DummyPacket => &mut self.dummy_packet,
            DropReason::HardLifetime => &mut self.hard_lifetime,
            DropReason::InvalidInnerPacket => &mut self.invalid_inner_packet,
            DropReason::Malformed => &mut self.malformed,
            DropReason::OutsideWindow => &mut self.outside_window,
            DropReason::Replayed => &mut self.replayed,
            DropReason::SequenceExhausted => &mut self.sequence_exhausted,
            DropReason::Truncated => &mut self.truncated,
            DropReason::UnknownSpi => &mut self.unknown_spi,
        }
    }
}

/// Why an SA could not be set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EspError {
    /// The provider could not produce a key or random bytes.
    Crypto(CryptoError),
    /// The key material does not have the length the cipher (and integrity algorithm) need.
    InvalidKeyLength {
        /// Bytes the transform needs.
        expected: usize,
        /// Bytes supplied.
        actual: usize,
    },
    /// The replay window is larger than [`MAX_REPLAY_WINDOW`](crate::MAX_REPLAY_WINDOW).
    InvalidReplayWindow,
    /// The provider lacks the algorithm, or reports sizes this datapath does not support.
    UnsupportedCipher,
}

impl fmt::Display for EspError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Crypto(e) => write!(f, "crypto provider failed: {e}"),
            Self::InvalidKeyLength { expected, actual } => {
                write!(
                    f,
                    "key material has {actual} bytes, the transform needs {expected}"
                )
            }
            Self::InvalidReplayWindow => f.write_str("replay window too large"),
            Self::UnsupportedCipher => f.write_str("cipher not supported by the provider"),
        }
    }
}

impl std::error::Error for EspError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Crypto(e) => Some(e),
            _ => None,
        }
    }
}

impl From<CryptoError> for EspError {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_cover_every_reason_once() {
        let mut c = DropCounters::default();
        for (i, reason) in DropReason::ALL.into_iter().enumerate() {
            for _ in 0..=i {
                c.record(reason);
            }
        }
        for (i, reason) in DropReason::ALL.into_iter().enumerate() {
            assert_eq!(c.get(reason), i as u64 + 1, "{reason}");
        }
        let mut sum = DropCounters::default();
        sum.merge(&c);
        sum.merge(&c);
        assert_eq!(sum.total(), 2 * c.total());
    }
}
