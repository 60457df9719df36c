//! SA events (lifetimes, sequence numbers used up) on their way to the owner. Each is raised
//! once per SA, so one lost event is an SA that is never rekeyed: they are kept per SA until
//! the owner collects them ([`DataplaneHandle::take_sa_events`](crate::DataplaneHandle)) and
//! are never dropped. A doorbell on the event channel says that some wait; the owner may also
//! collect at any time, which catches a doorbell that found the channel full.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use esp::{SaEvent, Spi};

use crate::config::{Direction, SaEventReport};

/// Events raised and not yet collected, by SA. Bounded by the installed SAs: entries of a
/// removed SA go with it, and each SA raises each kind of event at most once.
#[derive(Default)]
pub(crate) struct SaEventBox {
    pending: Mutex<BTreeMap<(Spi, bool), Vec<SaEvent>>>,
    /// Set while a doorbell is queued (or about to be) and not yet answered by a collection.
    doorbell: AtomicBool,
}

impl SaEventBox {
    /// Keeps `event`; returns whether the caller should queue a doorbell.
    pub(crate) fn raise(&self, spi: Spi, direction: Direction, event: SaEvent) -> bool {
        let key = (spi, direction == Direction::Outbound);
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let events = pending.entry(key).or_default();
        if !events.contains(&event) {
            events.push(event);
        }
        drop(pending);
        !self.doorbell.swap(true, Ordering::AcqRel)
    }

    /// The doorbell could not be queued: the next event (or a collection) tries again.
    pub(crate) fn doorbell_lost(&self) {
        self.doorbell.store(false, Ordering::Release);
    }

    /// Everything raised since the last collection, by SPI then direction.
    pub(crate) fn take(&self) -> Vec<SaEventReport> {
        // Cleared before draining: an event raised meanwhile rings again.
        self.doorbell.store(false, Ordering::Release);
        let drained =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        drained
            .into_iter()
            .flat_map(|((spi, outbound), events)| {
                let direction = if outbound {
                    Direction::Outbound
                } else {
                    Direction::Inbound
                };
                events.into_iter().map(move |event| SaEventReport {
                    spi,
                    direction,
                    event,
                })
            })
            .collect()
    }

    /// Drops what an SA being removed had raised.
    pub(crate) fn forget(&self, spi: Spi, direction: Direction) {
        let key = (spi, direction == Direction::Outbound);
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key);
    }

    /// SAs with events waiting.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_wait_until_collected_and_ring_once() {
        let b = SaEventBox::default();
        assert!(b.raise(Spi(1), Direction::Outbound, SaEvent::SoftLifetime));
        assert!(
            !b.raise(Spi(2), Direction::Inbound, SaEvent::HardLifetime),
            "already rung"
        );
        assert!(!b.raise(Spi(1), Direction::Outbound, SaEvent::SoftLifetime));
        let got = b.take();
        assert_eq!(
            got,
            vec![
                SaEventReport {
                    spi: Spi(1),
                    direction: Direction::Outbound,
                    event: SaEvent::SoftLifetime
                },
                SaEventReport {
                    spi: Spi(2),
                    direction: Direction::Inbound,
                    event: SaEvent::HardLifetime
                },
            ]
        );
        assert!(b.take().is_empty());
        assert!(
            b.raise(Spi(3), Direction::Inbound, SaEvent::SoftLifetime),
            "rings again"
        );
        b.forget(Spi(3), Direction::Inbound);
        assert_eq!(b.waiting(), 0);
    }

    #[test]
    fn a_lost_doorbell_is_rung_again_by_the_next_event() {
        let b = SaEventBox::default();
        assert!(b.raise(Spi(1), Direction::Outbound, SaEvent::SoftLifetime));
        b.doorbell_lost();
        assert!(b.raise(Spi(2), Direction::Outbound, SaEvent::SoftLifetime));
        assert_eq!(b.take().len(), 2, "nothing was lost with the doorbell");
    }
}
