//! The sending half of an ESP SA: tunnel-mode encapsulation in place (RFC 4303 §3.3).

use std::ops::Range;

use ipsec_crypto::CryptoProvider;

use crate::config::{Cipher, SaConfig};
use crate::error::{DropCounters, DropReason, EspError};
use crate::event::{EventQueue, SaEvent};
use crate::ip::{self, NEXT_HEADER_NONE};
use crate::lifetime::{LifetimeTracker, SaCounters};
use crate::spi::Spi;
use crate::transform::{
    ESP_HEADER_LEN, MAX_ICV_LEN, MAX_IV_LEN, MAX_PAD_LEN, TRAILER_LEN, Transform,
};

/// Sequence numbers left when an outbound SA asks to be rekeyed ([`SaEvent::SoftLifetime`]):
/// the soft limit is at 2^32 − 2^24 without ESN and 2^64 − 2^24 with it. 2^24 packets give a
/// rekey seconds even at millions of packets per second on one SA, and cost a non-ESN SA under
/// 0.4 % of its numbers.
pub const SEQUENCE_REKEY_MARGIN: u64 = 1 << 24;

/// An outbound SA: seals inner IP packets into ESP packets.
///
/// Sequence numbers start at 1 and never wrap: the last one is 2^32 − 1, or 2^64 − 1 with ESN
/// (RFC 4303 §3.3.3). [`SEQUENCE_REKEY_MARGIN`] numbers before the end the SA raises
/// [`SaEvent::SoftLifetime`], so that it is rekeyed while traffic still flows; using the last
/// raises [`SaEvent::SequenceExhausted`] and stops the SA (the hard limit).
pub struct OutboundSa {
    spi: Spi,
    cipher: Cipher,
    transform: Transform,
    esn: bool,
    next_seq: u64,
    exhausted: bool,
    /// Per-SA random prefix of the CBC IV input.
    iv_prefix: [u8; 8],
    lifetime: LifetimeTracker,
    events: EventQueue,
    drops: DropCounters,
}

impl OutboundSa {
    /// Bytes every caller leaves free before the inner packet: ESP header and the largest IV.
    pub const HEADROOM: usize = ESP_HEADER_LEN + MAX_IV_LEN;
    /// Bytes every caller leaves free after the inner packet: the largest padding, the trailer
    /// and the largest ICV.
    pub const TAILROOM: usize = MAX_PAD_LEN + TRAILER_LEN + MAX_ICV_LEN;

    /// Keys an outbound SA.
    ///
    /// # Errors
    /// [`EspError::UnsupportedCipher`] when the provider lacks the transform,
    /// [`EspError::InvalidKeyLength`] for key material of the wrong size, [`EspError::Crypto`]
    /// when the provider fails.
    pub fn new(provider: &dyn CryptoProvider, cfg: SaConfig) -> Result<Self, EspError> {
        let transform = Transform::new(provider, cfg.cipher, &cfg.keymat)?;
        let mut iv_prefix = [0; 8];
        if matches!(cfg.cipher, Cipher::Cbc { .. }) {
            provider.fill_random(&mut iv_prefix)?;
        }
        Ok(Self {
            spi: cfg.spi,
            cipher: cfg.cipher,
            transform,
            esn: cfg.esn,
            next_seq: 1,
            exhausted: false,
            iv_prefix,
            lifetime: LifetimeTracker::new(cfg.lifetime),
            events: EventQueue::default(),
            drops: DropCounters::default(),
        })
    }

    /// Seals the inner IP packet at `buf[inner_start..inner_start + inner_len]` into an ESP
    /// packet in the same buffer, and returns where that packet is.
    ///
    /// The caller leaves [`OutboundSa::HEADROOM`] bytes before the inner packet and
    /// [`OutboundSa::TAILROOM`] after it (or this SA's exact [`OutboundSa::headroom`] and
    /// [`OutboundSa::tailroom`]). The Next Header is 4 or 41, from the inner version nibble.
    ///
    /// # Errors
    /// [`DropReason::InvalidInnerPacket`] when the packet is not IPv4 or IPv6,
    /// [`DropReason::BufferTooSmall`], [`DropReason::SequenceExhausted`],
    /// [`DropReason::HardLifetime`], or [`DropReason::Crypto`]. Each is also counted.
    pub fn seal(
        &mut self,
        buf: &mut [u8],
        inner_start: usize,
        inner_len: usize,
    ) -> Result<Range<usize>, DropReason> {
        let result = self.seal_payload(buf, inner_start, inner_len, None);
        if let Err(reason) = result {
            self.drops.record(reason);
        }
        result
    }

    /// Seals a dummy packet (Next Header 59, RFC 4303 §2.6) whose payload is whatever lies at
    /// `buf[start..start + len]`; the peer authenticates and discards it. Same buffer rules
    /// and errors as [`OutboundSa::seal`], except that the payload is not inspected.
    ///
    /// # Errors
    /// As [`OutboundSa::seal`].
    pub fn seal_dummy(
        &mut self,
        buf: &mut [u8],
        start: usize,
        len: usize,
    ) -> Result<Range<usize>, DropReason> {
        let result = self.seal_payload(buf, start, len, Some(NEXT_HEADER_NONE));
        if let Err(reason) = result {
            self.drops.record(reason);
        }
        result
    }

    /// The next lifetime or sequence-number event, each reported once.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<SaEvent> {
        self.events.poll()
    }

    /// The SPI.
    pub fn spi(&self) -> Spi {
        self.spi
    }

    /// The transform.
    pub fn cipher(&self) -> Cipher {
        self.cipher
    }

    /// Whether extended sequence numbers are in use.
    pub fn is_esn(&self) -> bool {
        self.esn
    }

    /// The sequence number the next packet gets.
    pub fn next_sequence(&self) -> u64 {
        self.next_seq
    }

    /// Packets and inner bytes sealed.
    pub fn counters(&self) -> SaCounters {
        self.lifetime.counters()
    }

    /// Packets refused, by reason.
    pub fn drops(&self) -> &DropCounters {
        &self.drops
    }

    /// Whether the SA can seal no more packets (hard lifetime or sequence numbers exhausted).
    pub fn is_expired(&self) -> bool {
        self.exhausted || self.lifetime.is_expired()
    }

    /// Exact bytes this SA needs before the inner packet (at most [`OutboundSa::HEADROOM`]).
    pub fn headroom(&self) -> usize {
        ESP_HEADER_LEN + self.transform.iv_len()
    }

    /// Exact bytes this SA needs after an inner packet of `inner_len` bytes (at most
    /// [`OutboundSa::TAILROOM`]).
    pub fn tailroom(&self, inner_len: usize) -> usize {
        pad_len(inner_len, self.transform.alignment()) + TRAILER_LEN + self.transform.icv_len()
    }

    /// Length of the ESP packet for an inner packet of `inner_len` bytes.
    pub fn packet_len(&self, inner_len: usize) -> usize {
        self.headroom() + inner_len + self.tailroom(inner_len)
    }

    fn seal_payload(
        &mut self,
        buf: &mut [u8],
        inner_start: usize,
        inner_len: usize,
        next_header: Option<u8>,
    ) -> Result<Range<usize>, DropReason> {
        let inner_end = inner_start
            .checked_add(inner_len)
            .ok_or(DropReason::BufferTooSmall)?;
        let inner = buf
            .get(inner_start..inner_end)
            .ok_or(DropReason::BufferTooSmall)?;
        let next_header = match next_header {
            Some(nh) => nh,
            None => ip::next_header_for(inner).ok_or(DropReason::InvalidInnerPacket)?,
        };
        if self.exhausted {
            return Err(DropReason::SequenceExhausted);
        }
        self.lifetime.admit(inner_len, &mut self.events)?;
        let seq = self.next_seq;
        let range = self.frame(buf, inner_start, inner_len, next_header, seq)?;
        let packet = buf
            .get_mut(range.clone())
            .ok_or(DropReason::BufferTooSmall)?;
        self.transform
            .seal(packet, self.esn.then_some((seq >> 32) as u32))?;
        if seq >= self.rekey_sequence() {
            self.events.raise(SaEvent::SoftLifetime);
        }
        if seq == self.last_sequence() {
            self.exhausted = true;
            self.events.raise(SaEvent::SequenceExhausted);
        } else {
            self.next_seq = seq + 1;
        }
        self.lifetime.record(inner_len, &mut self.events);
        Ok(range)
    }

    /// Writes header, IV, padding and trailer around the payload; the payload is still
    /// plaintext and the ICV space unwritten. Returns the range of the whole packet.
    pub(crate) fn frame(
        &self,
        buf: &mut [u8],
        inner_start: usize,
        inner_len: usize,
        next_header: u8,
        seq: u64,
    ) -> Result<Range<usize>, DropReason> {
        let iv_len = self.transform.iv_len();
        let pad_len = pad_len(inner_len, self.transform.alignment());
        let start = inner_start
            .checked_sub(ESP_HEADER_LEN + iv_len)
            .ok_or(DropReason::BufferTooSmall)?;
        let end = inner_start
            .checked_add(inner_len + pad_len + TRAILER_LEN + self.transform.icv_len())
            .ok_or(DropReason::BufferTooSmall)?;
        let packet = buf.get_mut(start..end).ok_or(DropReason::BufferTooSmall)?;
        let (header, rest) = packet
            .split_first_chunk_mut::<ESP_HEADER_LEN>()
            .ok_or(DropReason::BufferTooSmall)?;
        let [s0, s1, s2, s3] = self.spi.to_be_bytes();
        let [q0, q1, q2, q3] = ((seq & 0xffff_ffff) as u32).to_be_bytes();
        *header = [s0, s1, s2, s3, q0, q1, q2, q3];
        let (iv, rest) = rest
            .split_at_mut_checked(iv_len)
            .ok_or(DropReason::BufferTooSmall)?;
        self.transform.write_iv(iv, &self.iv_prefix, seq)?;
        let trailer = rest
            .get_mut(inner_len..inner_len + pad_len + TRAILER_LEN)
            .ok_or(DropReason::BufferTooSmall)?;
        // RFC 4303 §2.4: the default padding is 1, 2, 3, …
        for (byte, value) in trailer.iter_mut().zip(1u8..) {
            *byte = value;
        }
        if let Some([pad_field, nh_field]) = trailer.last_chunk_mut::<2>() {
            *pad_field = pad_len as u8;
            *nh_field = next_header;
        }
        Ok(start..end)
    }

    #[cfg(test)]
    pub(crate) fn transform(&self) -> &Transform {
        &self.transform
    }

    /// Makes `seq` the next sequence number (for tests near the 2^32 and 2^64 limits).
    #[cfg(test)]
    pub(crate) fn set_next_sequence(&mut self, seq: u64) {
        self.next_seq = seq;
    }

    /// The first sequence number whose use asks for a rekey.
    fn rekey_sequence(&self) -> u64 {
        self.last_sequence() - (SEQUENCE_REKEY_MARGIN - 1)
    }

    fn last_sequence(&self) -> u64 {
        if self.esn {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        }
    }
}

/// Padding that brings payload plus trailer to a multiple of `align`.
fn pad_len(inner_len: usize, align: usize) -> usize {
    (align - (inner_len + TRAILER_LEN) % align) % align
}
