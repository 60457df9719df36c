//! RAN UE NGAP ID allocation (TS 38.413 §9.3.3.2): unique among the N3IWF's UE contexts.

use std::collections::HashMap;

use super::handles::UeId;
use crate::ngap::RanUeNgapId;

/// The IDs in use and the UE holding each.
#[derive(Debug, Default)]
pub(crate) struct RanIds {
    next: u32,
    in_use: HashMap<RanUeNgapId, UeId>,
}

impl RanIds {
    /// A free ID for `ue`. The N3IWF holds far fewer than 2³² contexts (the UE limit), so a free
    /// one is found within `in_use + 1` candidates.
    pub(crate) fn allocate(&mut self, ue: UeId) -> RanUeNgapId {
        loop {
            let id = RanUeNgapId(self.next);
            self.next = self.next.wrapping_add(1);
            if let std::collections::hash_map::Entry::Vacant(slot) = self.in_use.entry(id) {
                slot.insert(ue);
                return id;
            }
        }
    }

    /// Frees `id` if `ue` holds it.
    pub(crate) fn release(&mut self, id: RanUeNgapId, ue: UeId) {
        if self.in_use.get(&id) == Some(&ue) {
            self.in_use.remove(&id);
        }
    }

    /// The UE holding `id`.
    pub(crate) fn owner(&self, id: RanUeNgapId) -> Option<UeId> {
        self.in_use.get(&id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_wrap_around_and_skip_those_in_use() {
        let mut ids = RanIds {
            next: u32::MAX,
            ..RanIds::default()
        };
        assert_eq!(ids.allocate(UeId(1)), RanUeNgapId(u32::MAX));
        assert_eq!(ids.allocate(UeId(2)), RanUeNgapId(0));
        ids.next = u32::MAX;
        assert_eq!(ids.allocate(UeId(3)), RanUeNgapId(1));
        ids.release(RanUeNgapId(0), UeId(9));
        assert_eq!(ids.owner(RanUeNgapId(0)), Some(UeId(2)), "not its holder");
        ids.release(RanUeNgapId(0), UeId(2));
        assert_eq!(ids.owner(RanUeNgapId(0)), None);
        assert_eq!(ids.owner(RanUeNgapId(1)), Some(UeId(3)));
    }
}
