//! Deadlines of UE contexts, ordered so that the next one is found in O(log n).

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use super::handles::UeId;

/// At most one deadline per UE.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    order: BTreeSet<(Instant, UeId)>,
    at: HashMap<UeId, Instant>,
}

impl Timers {
    /// Sets or clears the UE's deadline.
    pub(crate) fn set(&mut self, ue: UeId, deadline: Option<Instant>) {
        if let Some(old) = self.at.remove(&ue) {
            self.order.remove(&(old, ue));
        }
        if let Some(at) = deadline {
            self.order.insert((at, ue));
            self.at.insert(ue, at);
        }
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.order.first().map(|(at, _)| *at)
    }

    /// A UE whose deadline is at or before `now`, with its deadline cleared.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<UeId> {
        let (at, ue) = *self.order.first().filter(|(at, _)| *at <= now)?;
        self.order.remove(&(at, ue));
        self.at.remove(&ue);
        Some(ue)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.at.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn deadlines_pop_in_order_and_replace_each_other() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        timers.set(UeId(1), Some(t0 + Duration::from_secs(3)));
        timers.set(UeId(2), Some(t0 + Duration::from_secs(1)));
        timers.set(UeId(1), Some(t0 + Duration::from_secs(2)));
        timers.set(UeId(3), Some(t0 + Duration::from_secs(9)));
        timers.set(UeId(3), None);
        assert_eq!(timers.len(), 2);
        assert_eq!(timers.next(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(timers.pop_due(t0), None);
        let now = t0 + Duration::from_secs(5);
        assert_eq!(timers.pop_due(now), Some(UeId(2)));
        assert_eq!(timers.pop_due(now), Some(UeId(1)));
        assert_eq!(timers.pop_due(now), None);
        assert_eq!(timers.next(), None);
    }
}
