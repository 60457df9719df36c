//! Uplink TEIDs of the emulated SMF: never 0 (TS 29.281 §5.1 keeps it for path management),
//! each given to one session at a time, at most `limit` at once.

use std::collections::HashSet;

pub use n3iwf::ids::Teid;

/// Hands out TEIDs in turn from a counter, skipping 0 and those in use.
#[derive(Debug)]
pub struct TeidAllocator {
    next: u32,
    used: HashSet<Teid>,
    limit: usize,
}

impl TeidAllocator {
    /// TEIDs from `first` on (0 is taken as 1), at most `limit` in use at once.
    pub fn new(first: u32, limit: usize) -> Self {
        Self {
            next: first.max(1),
            used: HashSet::new(),
            limit,
        }
    }

    /// A TEID no session holds; `None` at the limit.
    pub fn allocate(&mut self) -> Option<Teid> {
        if self.used.len() >= self.limit {
            return None;
        }
        // Fewer than `limit` are in use, so at most `limit` steps find a free one.
        loop {
            let teid = Teid(self.next);
            self.next = self.next.checked_add(1).unwrap_or(1);
            if teid.0 != 0 && self.used.insert(teid) {
                return Some(teid);
            }
        }
    }

    pub fn free(&mut self, teid: Teid) -> bool {
        self.used.remove(&teid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teids_wrap_past_zero_and_stop_at_the_limit() {
        let mut teids = TeidAllocator::new(u32::MAX, 3);
        assert_eq!(teids.allocate(), Some(Teid(u32::MAX)));
        assert_eq!(teids.allocate(), Some(Teid(1)));
        assert_eq!(teids.allocate(), Some(Teid(2)));
        assert_eq!(teids.allocate(), None);
        assert!(teids.free(Teid(1)));
        assert_eq!(teids.allocate(), Some(Teid(3)));
    }

    #[test]
    fn a_teid_in_use_is_skipped() {
        let mut teids = TeidAllocator::new(0, 10);
        assert_eq!(teids.allocate(), Some(Teid(1)));
        teids.next = 1;
        assert_eq!(teids.allocate(), Some(Teid(2)));
    }
}
