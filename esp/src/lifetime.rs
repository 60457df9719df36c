//! Byte and packet accounting against an SA's soft and hard lifetimes.

use crate::config::Lifetime;
use crate::error::DropReason;
use crate::event::{EventQueue, SaEvent};

/// Traffic counters of one SA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SaCounters {
    /// Packets sealed or opened (dummy packets included).
    pub packets: u64,
    /// Inner-packet bytes sealed or opened.
    pub bytes: u64,
}

/// Counts traffic and raises lifetime events.
#[derive(Debug)]
pub(crate) struct LifetimeTracker {
    limits: Lifetime,
    counters: SaCounters,
    expired: bool,
}

impl LifetimeTracker {
    pub(crate) fn new(limits: Lifetime) -> Self {
        Self {
            limits,
            counters: SaCounters::default(),
            expired: false,
        }
    }

    /// Refuses traffic once the SA has expired, and a packet of `len` bytes that would take the
    /// SA past a hard limit (the SA then expires).
    pub(crate) fn admit(&mut self, len: usize, events: &mut EventQueue) -> Result<(), DropReason> {
        if self.expired {
            return Err(DropReason::HardLifetime);
        }
        let bytes = self.counters.bytes.saturating_add(len as u64);
        let packets = self.counters.packets.saturating_add(1);
        if exceeds(bytes, self.limits.hard_bytes) || exceeds(packets, self.limits.hard_packets) {
            self.expire(events);
            return Err(DropReason::HardLifetime);
        }
        Ok(())
    }

    /// Counts one packet of `len` inner bytes and raises the events it triggers.
    pub(crate) fn record(&mut self, len: usize, events: &mut EventQueue) {
        self.counters.packets = self.counters.packets.saturating_add(1);
        self.counters.bytes = self.counters.bytes.saturating_add(len as u64);
        let SaCounters { packets, bytes } = self.counters;
        if reached(bytes, self.limits.soft_bytes) || reached(packets, self.limits.soft_packets) {
            events.raise(SaEvent::SoftLifetime);
        }
        if reached(bytes, self.limits.hard_bytes) || reached(packets, self.limits.hard_packets) {
            self.expire(events);
        }
    }

    pub(crate) fn counters(&self) -> SaCounters {
        self.counters
    }

    pub(crate) fn is_expired(&self) -> bool {
        self.expired
    }

    fn expire(&mut self, events: &mut EventQueue) {
        self.expired = true;
        events.raise(SaEvent::HardLifetime);
    }
}

fn exceeds(value: u64, limit: Option<u64>) -> bool {
    limit.is_some_and(|l| value > l)
}

fn reached(value: u64, limit: Option<u64>) -> bool {
    limit.is_some_and(|l| value >= l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_packet_limit_allows_exactly_that_many() {
        let mut events = EventQueue::default();
        let limits = Lifetime {
            soft_packets: Some(2),
            hard_packets: Some(3),
            ..Lifetime::default()
        };
        let mut t = LifetimeTracker::new(limits);
        for i in 0..3 {
            t.admit(100, &mut events).unwrap();
            t.record(100, &mut events);
            let expected = match i {
                1 => Some(SaEvent::SoftLifetime),
                2 => Some(SaEvent::HardLifetime),
                _ => None,
            };
            assert_eq!(events.poll(), expected);
        }
        assert_eq!(t.admit(1, &mut events), Err(DropReason::HardLifetime));
        assert_eq!(events.poll(), None);
        assert_eq!(
            t.counters(),
            SaCounters {
                packets: 3,
                bytes: 300
            }
        );
    }

    #[test]
    fn a_packet_that_would_pass_the_hard_byte_limit_is_refused() {
        let mut events = EventQueue::default();
        let mut t = LifetimeTracker::new(Lifetime {
            hard_bytes: Some(1000),
            ..Lifetime::default()
        });
        t.admit(600, &mut events).unwrap();
        t.record(600, &mut events);
        assert_eq!(t.admit(500, &mut events), Err(DropReason::HardLifetime));
        assert!(t.is_expired());
        assert_eq!(events.poll(), Some(SaEvent::HardLifetime));
        assert_eq!(t.admit(1, &mut events), Err(DropReason::HardLifetime));
    }
}
