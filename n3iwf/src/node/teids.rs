//! The DL TEIDs of the node's PDU sessions (TS 29.281 §5.1): the UPF addresses the session's
//! downlink G-PDUs to the N3IWF with one.

use std::collections::HashMap;

use super::handles::UeId;
use crate::ids::Teid;

/// TEIDs 1 ..= `limit`, each held by at most one UE. 0 is never handed out: TS 29.281 reserves
/// it for messages without a tunnel (Echo, Error Indication). Allocation and release are O(1):
/// a released TEID goes to a free list, taken before a fresh one.
#[derive(Debug)]
pub(crate) struct TeidPool {
    limit: u32,
    /// The highest TEID handed out so far.
    high: u32,
    free: Vec<Teid>,
    owners: HashMap<Teid, UeId>,
}

impl TeidPool {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            high: 0,
            free: Vec::new(),
            owners: HashMap::new(),
        }
    }

    /// A TEID for `ue`, or `None` when `limit` sessions hold one.
    pub(crate) fn allocate(&mut self, ue: UeId) -> Option<Teid> {
        let teid = match self.free.pop() {
            Some(teid) => teid,
            None if self.high < self.limit => {
                self.high += 1;
                Teid(self.high)
            }
            None => return None,
        };
        self.owners.insert(teid, ue);
        Some(teid)
    }

    /// Frees `teid` if `ue` holds it.
    pub(crate) fn release(&mut self, teid: Teid, ue: UeId) {
        if self.owners.get(&teid) == Some(&ue) {
            self.owners.remove(&teid);
            self.free.push(teid);
        }
    }

    pub(crate) fn in_use(&self) -> usize {
        self.owners.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_zero_unique_and_bounded() {
        let mut pool = TeidPool::new(3);
        let ue = UeId(1);
        let teids: Vec<_> = (0..3).map(|_| pool.allocate(ue).unwrap()).collect();
        assert!(teids.iter().all(|t| t.0 != 0));
        assert_eq!(teids, [Teid(1), Teid(2), Teid(3)]);
        assert_eq!(pool.allocate(ue), None);
        // Only the holder frees it, and only once.
        pool.release(Teid(2), UeId(9));
        assert_eq!(pool.allocate(ue), None);
        pool.release(Teid(2), ue);
        pool.release(Teid(2), ue);
        assert_eq!(pool.in_use(), 2);
        assert_eq!(pool.allocate(UeId(2)), Some(Teid(2)));
        assert_eq!(pool.allocate(ue), None);
    }
}
