//! The Security Association Database for inbound traffic: SPI → [`InboundSa`] in O(1).

use std::collections::{HashMap, VecDeque};

use crate::error::{DropCounters, DropReason};
use crate::event::SaEvent;
use crate::inbound::{InboundSa, Opened};
use crate::spi::Spi;

/// Inbound SAs by SPI.
///
/// [`Sad::open`] finds the SA from the packet's SPI and opens the packet. Drops are counted by
/// the SA that saw them, or by the SAD itself when no SA did (unknown SPI, packet shorter than
/// an SPI); [`Sad::drops`] adds them all up, including those of SAs since removed.
#[derive(Default)]
pub struct Sad {
    sas: HashMap<Spi, InboundSa>,
    /// Drops no SA counted, plus the counters of removed SAs.
    drops: DropCounters,
    /// SPIs whose SA has an event to report, oldest first.
    events: VecDeque<Spi>,
}

impl Sad {
    /// An empty SAD.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `sa` under its SPI and returns the SA it replaces, if any (whose drop counters move
    /// to the SAD's own, as on [`Sad::remove`]).
    pub fn insert(&mut self, mut sa: InboundSa) -> Option<InboundSa> {
        sa.event_queued = false;
        let spi = sa.spi();
        let pending = sa.has_pending_event();
        let old = self.sas.insert(spi, sa);
        if pending {
            self.queue_event(spi);
        }
        old.map(|old| self.retire(old))
    }

    /// Removes the SA with this SPI. Its drop counters move to the SAD's own (see [`Sad::drops`]).
    pub fn remove(&mut self, spi: Spi) -> Option<InboundSa> {
        let sa = self.sas.remove(&spi)?;
        Some(self.retire(sa))
    }

    /// The SA with this SPI.
    pub fn get_mut(&mut self, spi: Spi) -> Option<&mut InboundSa> {
        self.sas.get_mut(&spi)
    }

    /// Opens the ESP packet in `packet` (starting at the SPI) with the SA its SPI names.
    ///
    /// # Errors
    /// [`DropReason::Truncated`] when the packet has no SPI, [`DropReason::UnknownSpi`] when
    /// no SA has it, otherwise as [`InboundSa::open`]. Every drop is counted.
    pub fn open(&mut self, packet: &mut [u8]) -> Result<Opened, DropReason> {
        let Some(&spi) = packet.first_chunk::<4>() else {
            self.drops.record(DropReason::Truncated);
            return Err(DropReason::Truncated);
        };
        let spi = Spi::from_wire(spi);
        let Some(sa) = self.sas.get_mut(&spi) else {
            self.drops.record(DropReason::UnknownSpi);
            return Err(DropReason::UnknownSpi);
        };
        let result = sa.open(packet);
        if sa.has_pending_event() && !sa.event_queued {
            sa.event_queued = true;
            self.events.push_back(spi);
        }
        result
    }

    /// The next lifetime event of any SA, with that SA's SPI.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<(Spi, SaEvent)> {
        while let Some(&spi) = self.events.front() {
            let Some(sa) = self.sas.get_mut(&spi) else {
                self.events.pop_front();
                continue;
            };
            let event = sa.poll_event();
            if !sa.has_pending_event() {
                sa.event_queued = false;
                self.events.pop_front();
            }
            if let Some(event) = event {
                return Some((spi, event));
            }
        }
        None
    }

    /// The SA with this SPI.
    pub fn get(&self, spi: Spi) -> Option<&InboundSa> {
        self.sas.get(&spi)
    }

    /// Whether an SA has this SPI.
    pub fn contains(&self, spi: Spi) -> bool {
        self.sas.contains_key(&spi)
    }

    /// Number of SAs.
    pub fn len(&self) -> usize {
        self.sas.len()
    }

    /// Whether there are no SAs.
    pub fn is_empty(&self) -> bool {
        self.sas.is_empty()
    }

    /// The SPIs in use, in no particular order.
    pub fn spis(&self) -> impl Iterator<Item = Spi> + '_ {
        self.sas.keys().copied()
    }

    /// All drops: the SAD's own, every current SA's, and those of removed SAs.
    pub fn drops(&self) -> DropCounters {
        let mut total = self.drops;
        for sa in self.sas.values() {
            total.merge(sa.drops());
        }
        total
    }

    fn queue_event(&mut self, spi: Spi) {
        if let Some(sa) = self.sas.get_mut(&spi)
            && !sa.event_queued
        {
            sa.event_queued = true;
            self.events.push_back(spi);
        }
    }

    fn retire(&mut self, mut sa: InboundSa) -> InboundSa {
        self.drops.merge(&sa.take_drops());
        sa.event_queued = false;
        sa
    }
}
