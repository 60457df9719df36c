//! When outbound traffic moves to a rekeyed Child SA. The rekey initiator installs the new SAs
//! once our response arrives, so as rekey responder we keep sending on the old SA until the
//! peer deletes it. With simultaneous rekeys (RFC 7296 §2.8.1) our own new SA carries the
//! traffic until the collision is settled; if it is the redundant one, the peer's takes over.

use std::collections::HashMap;

use dataplane::ChildSaId;
use esp::Spi;

/// Rekeys whose outbound switch waits for a removal. SPIs are our inbound SPIs.
#[derive(Default)]
pub(crate) struct RekeyHandover {
    /// Old SA → the peer's new pair, not sending yet.
    peer_new: HashMap<Spi, ChildSaId>,
    /// The peer's new SA → the old one.
    peer_old: HashMap<Spi, Spi>,
    /// Old SA → our new SA.
    our_new: HashMap<Spi, Spi>,
    /// Our new SA → the old one.
    our_old: HashMap<Spi, Spi>,
}

impl RekeyHandover {
    /// The peer rekeyed `old` into `new`, installed without sending.
    pub(crate) fn peer(&mut self, old: Spi, new: ChildSaId) {
        self.peer_new.insert(old, new);
        self.peer_old.insert(new.inbound_spi, old);
    }

    /// We rekeyed `old` into `new` (sending at once).
    pub(crate) fn ours(&mut self, old: Spi, new: Spi) {
        self.our_new.insert(old, new);
        self.our_old.insert(new, old);
    }

    /// The SA with inbound SPI `spi` was removed: the pair that must send from now on, if any.
    pub(crate) fn removed(&mut self, spi: Spi) -> Option<ChildSaId> {
        let mut next = None;
        // The peer's new SA went (the redundant one of a collision).
        if let Some(old) = self.peer_old.remove(&spi) {
            self.peer_new.remove(&old);
        }
        // Our new SA went: if the peer rekeyed the same SA, its new one takes over.
        if let Some(old) = self.our_old.remove(&spi) {
            self.our_new.remove(&old);
            next = self.take_peer(old);
        }
        // An old SA went.
        match self.our_new.remove(&spi) {
            // Our rekey of it sends. If the peer rekeyed it too, the removal of one of the two
            // new SAs settles the collision; keep what that needs.
            Some(ours) if !self.peer_new.contains_key(&spi) => {
                self.our_old.remove(&ours);
            }
            Some(_) => {}
            None => next = next.or_else(|| self.take_peer(spi)),
        }
        next
    }

    fn take_peer(&mut self, old: Spi) -> Option<ChildSaId> {
        let new = self.peer_new.remove(&old)?;
        self.peer_old.remove(&new.inbound_spi);
        Some(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(spi: u32) -> ChildSaId {
        ChildSaId {
            inbound_spi: Spi(spi),
            outbound_spi: Spi(spi + 1000),
        }
    }

    #[test]
    fn peer_rekey_sends_once_the_old_sa_is_deleted() {
        let mut h = RekeyHandover::default();
        h.peer(Spi(1), id(2));
        assert_eq!(h.removed(Spi(1)), Some(id(2)));
        assert_eq!(h.removed(Spi(2)), None);
    }

    #[test]
    fn our_rekey_then_the_peers_rekey_of_our_new_sa() {
        let mut h = RekeyHandover::default();
        h.ours(Spi(1), Spi(2));
        assert_eq!(h.removed(Spi(1)), None);
        h.peer(Spi(2), id(3));
        assert_eq!(h.removed(Spi(2)), Some(id(3)));
        assert!(h.peer_new.is_empty() && h.our_new.is_empty() && h.our_old.is_empty());
    }

    #[test]
    fn collision_won_by_the_peer_moves_traffic_when_ours_goes() {
        let mut h = RekeyHandover::default();
        h.ours(Spi(1), Spi(3));
        h.peer(Spi(1), id(2));
        assert_eq!(h.removed(Spi(1)), None, "ours still sends");
        assert_eq!(h.removed(Spi(3)), Some(id(2)));
    }

    #[test]
    fn collision_won_by_us_never_moves_traffic_to_the_peer_sa() {
        let mut h = RekeyHandover::default();
        h.ours(Spi(1), Spi(3));
        h.peer(Spi(1), id(2));
        assert_eq!(h.removed(Spi(2)), None);
        assert_eq!(h.removed(Spi(1)), None);
        assert_eq!(h.removed(Spi(3)), None);
        assert!(h.peer_new.is_empty() && h.our_new.is_empty() && h.our_old.is_empty());
    }

    #[test]
    fn collision_old_deleted_first_and_peer_wins() {
        let mut h = RekeyHandover::default();
        h.ours(Spi(1), Spi(3));
        h.peer(Spi(1), id(2));
        assert_eq!(h.removed(Spi(3)), Some(id(2)));
        assert_eq!(h.removed(Spi(1)), None);
    }
}
