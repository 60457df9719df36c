//! The receiving half of an ESP SA: anti-replay, ICV check, decryption and trailer checks in
//! place (RFC 4303 §3.4).

use std::ops::Range;

use ipsec_crypto::CryptoProvider;

use crate::config::{Cipher, MAX_REPLAY_WINDOW, SaConfig};
use crate::error::{DropCounters, DropReason, EspError};
use crate::event::{EventQueue, SaEvent};
use crate::ip::{self, NEXT_HEADER_IPV4, NEXT_HEADER_IPV6, NEXT_HEADER_NONE};
use crate::lifetime::{LifetimeTracker, SaCounters};
use crate::replay::ReplayWindow;
use crate::spi::Spi;
use crate::transform::{ESP_HEADER_LEN, TRAILER_LEN, Transform};

/// Where the inner packet of an opened ESP packet is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The inner IP packet, relative to the buffer given to `open`. TFC padding after the
    /// length the inner header claims (RFC 4303 §2.7) is left out.
    pub inner: Range<usize>,
    /// The Next Header: 4 (IPv4) or 41 (IPv6).
    pub next_header: u8,
}

/// An inbound SA: verifies and decrypts ESP packets addressed to its SPI.
///
/// Processing order (RFC 4303 §3.4): length, SPI, anti-replay check (no state change), ICV and
/// decryption, then the window is committed, then padding and Next Header are checked. A packet
/// whose ICV fails never moves the window.
pub struct InboundSa {
    spi: Spi,
    cipher: Cipher,
    transform: Transform,
    esn: bool,
    replay: ReplayWindow,
    lifetime: LifetimeTracker,
    events: EventQueue,
    drops: DropCounters,
    /// Whether the SA's SPI sits in its [`Sad`](crate::Sad)'s event queue.
    pub(crate) event_queued: bool,
}

impl InboundSa {
    /// Keys an inbound SA.
    ///
    /// # Errors
    /// [`EspError::UnsupportedCipher`], [`EspError::InvalidKeyLength`],
    /// [`EspError::InvalidReplayWindow`] (above [`MAX_REPLAY_WINDOW`]) or [`EspError::Crypto`].
    pub fn new(provider: &dyn CryptoProvider, cfg: SaConfig) -> Result<Self, EspError> {
        if cfg.replay_window > MAX_REPLAY_WINDOW {
            return Err(EspError::InvalidReplayWindow);
        }
        Ok(Self {
            spi: cfg.spi,
            cipher: cfg.cipher,
            transform: Transform::new(provider, cfg.cipher, &cfg.keymat)?,
            esn: cfg.esn,
            replay: ReplayWindow::new(cfg.replay_window, cfg.esn),
            lifetime: LifetimeTracker::new(cfg.lifetime),
            events: EventQueue::default(),
            drops: DropCounters::default(),
            event_queued: false,
        })
    }

    /// Opens the ESP packet in `packet`, which starts at the SPI, in place.
    ///
    /// # Errors
    /// The [`DropReason`] for the packet, which is also counted: [`DropReason::Truncated`],
    /// [`DropReason::Malformed`], [`DropReason::UnknownSpi`] (not this SA's SPI),
    /// [`DropReason::OutsideWindow`], [`DropReason::Replayed`], [`DropReason::Authentication`],
    /// [`DropReason::BadPadding`], [`DropReason::DummyPacket`], [`DropReason::BadNextHeader`],
    /// [`DropReason::InvalidInnerPacket`], [`DropReason::HardLifetime`] or
    /// [`DropReason::Crypto`].
    pub fn open(&mut self, packet: &mut [u8]) -> Result<Opened, DropReason> {
        let result = self.open_tunnel(packet);
        if let Err(reason) = result {
            self.drops.record(reason);
        }
        result
    }

    /// The next lifetime event, each reported once.
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

    /// The highest authenticated sequence number (0 before the first packet).
    pub fn highest_sequence(&self) -> u64 {
        self.replay.top()
    }

    /// The anti-replay window in packets (0 when disabled).
    pub fn replay_window(&self) -> u64 {
        self.replay.size()
    }

    /// Packets and inner bytes authenticated.
    pub fn counters(&self) -> SaCounters {
        self.lifetime.counters()
    }

    /// Packets dropped by this SA, by reason.
    pub fn drops(&self) -> &DropCounters {
        &self.drops
    }

    /// Whether the SA reached a hard lifetime and drops everything.
    pub fn is_expired(&self) -> bool {
        self.lifetime.is_expired()
    }

    /// The replay window (for tests that start near the 2^32 boundary).
    #[cfg(test)]
    pub(crate) fn replay_mut(&mut self) -> &mut ReplayWindow {
        &mut self.replay
    }

    /// Hands over the drop counters and zeroes them.
    pub(crate) fn take_drops(&mut self) -> DropCounters {
        std::mem::take(&mut self.drops)
    }

    /// Whether [`InboundSa::poll_event`] has something to report.
    pub(crate) fn has_pending_event(&self) -> bool {
        self.events.has_pending()
    }

    /// Every step up to and including the padding check; returns the payload without padding
    /// and the Next Header, whatever its value.
    pub(crate) fn decrypt(&mut self, packet: &mut [u8]) -> Result<(Range<usize>, u8), DropReason> {
        if self.lifetime.is_expired() {
            return Err(DropReason::HardLifetime);
        }
        if packet.len() < self.transform.min_packet_len() {
            return Err(DropReason::Truncated);
        }
        let [s0, s1, s2, s3, q0, q1, q2, q3] = *packet
            .first_chunk::<ESP_HEADER_LEN>()
            .ok_or(DropReason::Truncated)?;
        if Spi::from_wire([s0, s1, s2, s3]) != self.spi {
            return Err(DropReason::UnknownSpi);
        }
        let seq = self.replay.check(u32::from_be_bytes([q0, q1, q2, q3]))?;
        self.transform
            .open(packet, self.esn.then_some((seq >> 32) as u32))?;
        // RFC 4303 §3.4.3: the window moves only once the ICV has verified.
        self.replay.commit(seq);

        let payload_start = ESP_HEADER_LEN + self.transform.iv_len();
        let payload_end = packet.len() - self.transform.icv_len();
        let payload = packet
            .get(payload_start..payload_end)
            .ok_or(DropReason::Truncated)?;
        let (body, &[pad_len, next_header]) = payload
            .split_last_chunk::<TRAILER_LEN>()
            .ok_or(DropReason::Truncated)?;
        let inner_len = body
            .len()
            .checked_sub(usize::from(pad_len))
            .ok_or(DropReason::BadPadding)?;
        let padding = body.get(inner_len..).ok_or(DropReason::BadPadding)?;
        // RFC 4303 §2.4: the default padding is 1, 2, 3, … and the receiver checks it.
        if !padding
            .iter()
            .zip(1u8..)
            .all(|(&byte, expected)| byte == expected)
        {
            return Err(DropReason::BadPadding);
        }
        self.lifetime.record(inner_len, &mut self.events);
        Ok((payload_start..payload_start + inner_len, next_header))
    }

    fn open_tunnel(&mut self, packet: &mut [u8]) -> Result<Opened, DropReason> {
        let (payload, next_header) = self.decrypt(packet)?;
        let inner = packet.get(payload.clone()).ok_or(DropReason::Truncated)?;
        match next_header {
            NEXT_HEADER_IPV4 | NEXT_HEADER_IPV6 => {}
            // RFC 4303 §2.6: a dummy packet is discarded.
            NEXT_HEADER_NONE => return Err(DropReason::DummyPacket),
            _ => return Err(DropReason::BadNextHeader),
        }
        if ip::next_header_for(inner) != Some(next_header) {
            return Err(DropReason::BadNextHeader);
        }
        let len = ip::claimed_len(inner).ok_or(DropReason::InvalidInnerPacket)?;
        Ok(Opened {
            inner: payload.start..payload.start + len,
            next_header,
        })
    }
}
