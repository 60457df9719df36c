//! Events an SA reports to its owner: lifetimes reached and sequence numbers used up.

/// Something the owner of an SA must act on. Each event is reported at most once per SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SaEvent {
    /// A soft byte or packet lifetime was reached: rekey the Child SA.
    SoftLifetime,
    /// A hard byte or packet lifetime was reached: the SA refuses all further traffic.
    HardLifetime,
    /// The last sequence number was used (RFC 4303 §3.3.3): the SA can send no more packets.
    SequenceExhausted,
}

impl SaEvent {
    const fn bit(self) -> u8 {
        match self {
            Self::SoftLifetime => 1,
            Self::HardLifetime => 2,
            Self::SequenceExhausted => 4,
        }
    }
}

/// Events raised but not yet polled, and those raised at all (so each fires once).
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    raised: u8,
    pending: u8,
}

impl EventQueue {
    /// Queues `event` unless it was raised before.
    pub(crate) fn raise(&mut self, event: SaEvent) {
        if self.raised & event.bit() == 0 {
            self.raised |= event.bit();
            self.pending |= event.bit();
        }
    }

    /// The oldest kind of pending event: soft before hard before sequence exhaustion.
    pub(crate) fn poll(&mut self) -> Option<SaEvent> {
        let event = [
            SaEvent::SoftLifetime,
            SaEvent::HardLifetime,
            SaEvent::SequenceExhausted,
        ]
        .into_iter()
        .find(|e| self.pending & e.bit() != 0)?;
        self.pending &= !event.bit();
        Some(event)
    }

    /// Whether [`EventQueue::poll`] would return an event.
    pub(crate) fn has_pending(&self) -> bool {
        self.pending != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_is_reported_once() {
        let mut q = EventQueue::default();
        q.raise(SaEvent::SequenceExhausted);
        q.raise(SaEvent::SoftLifetime);
        q.raise(SaEvent::SoftLifetime);
        assert!(q.has_pending());
        assert_eq!(q.poll(), Some(SaEvent::SoftLifetime));
        assert_eq!(q.poll(), Some(SaEvent::SequenceExhausted));
        assert_eq!(q.poll(), None);
        q.raise(SaEvent::SoftLifetime);
        assert_eq!(q.poll(), None);
    }
}
