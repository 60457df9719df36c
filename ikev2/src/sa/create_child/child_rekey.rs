//! Which rekey survives (RFC 7296 §2.8, §2.8.1): after a rekey the initiator of the surviving
//! exchange deletes the old SA; when both peers rekeyed one SA at once, the SA created by the
//! exchange with the lowest nonce is redundant and its initiator deletes it. A rekey is not
//! started for an SA the peer has rekeyed or is rekeying.

use std::time::Instant;

use super::{CcKind, retry_at};
use crate::sa::children::ours_redundant;
use crate::sa::tasks::{Active, Task};
use crate::sa::{Ctx, IkeSa};
use crate::wire::EspSpi;

impl IkeSa {
    /// Whether an exchange of `kind` should still start (see the module comment).
    pub(super) fn still_due(&mut self, now: Instant, kind: CcKind, ctx: &mut Ctx<'_>) -> bool {
        match kind {
            CcKind::RekeyChild { old_inbound, .. } => {
                self.child_rekey_still_due(now, old_inbound, ctx)
            }
            CcKind::RekeyIke => self.ike_rekey_still_due(now, ctx),
            CcKind::NewChild { .. } => true,
        }
    }

    /// RFC 7296 §2.8: a Child SA the peer rekeyed (or is rekeying: we answered its
    /// CREATE_CHILD_SA and wait for its IKE_FOLLOWUP_KE) is replaced; rekeying it again would
    /// create a second successor that neither side deletes, since the peer saw no collision. A
    /// rekey pending behind the peer's is retried later, in case the peer's fails.
    fn child_rekey_still_due(
        &mut self,
        now: Instant,
        old_inbound: EspSpi,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let in_progress = self.followup.as_ref().is_some_and(
            |f| matches!(f.kind(), CcKind::RekeyChild { old_inbound: o, .. } if o == old_inbound),
        );
        let Some(c) = self
            .children
            .iter_mut()
            .find(|c| c.inbound_spi == old_inbound)
        else {
            return false;
        };
        if c.rekeyed_by_peer.is_none() && !in_progress {
            return true;
        }
        tracing::debug!(sa = %self.id, old = %old_inbound, in_progress, "Child SA rekeyed by the peer: not rekeying it again");
        c.rekeying = false;
        if in_progress {
            c.rekey_at = Some(retry_at(now, ctx));
        }
        false
    }

    /// The same for the IKE SA (RFC 7296 §2.8.2): while the peer's rekey of it waits for its
    /// IKE_FOLLOWUP_KE, ours would be a second successor the peer never sees as a collision.
    fn ike_rekey_still_due(&mut self, now: Instant, ctx: &mut Ctx<'_>) -> bool {
        let in_progress = self
            .followup
            .as_ref()
            .is_some_and(|f| f.kind() == CcKind::RekeyIke);
        if in_progress {
            tracing::debug!(sa = %self.id, "the peer is rekeying the IKE SA: ours waits");
            self.timers.ike_rekey = Some(retry_at(now, ctx));
        }
        !in_progress
    }

    /// Where our own rekey of the Child SA `old_inbound`, if in flight, notes the lowest nonce
    /// of the peer's crossing rekey.
    pub(super) fn our_child_rekey_collision(
        &mut self,
        old_inbound: EspSpi,
    ) -> Option<&mut Option<Vec<u8>>> {
        let rekeys_old =
            |k: CcKind| matches!(k, CcKind::RekeyChild { old_inbound: o, .. } if o == old_inbound);
        match self.active.as_mut()? {
            Active::CreateChild(sent) if rekeys_old(sent.kind()) => Some(&mut sent.peer_collision),
            Active::Followup(sent) if rekeys_old(sent.cc.kind()) => sent.cc.peer_collision_mut(),
            _ => None,
        }
    }

    /// After a Child SA rekey: who deletes what (see the module comment). `our_lowest` is the
    /// lowest nonce of this exchange, `collision` that of the peer's crossing rekey as noted
    /// with our exchange.
    pub(super) fn after_child_rekey(
        &mut self,
        old: EspSpi,
        new_inbound: EspSpi,
        we_initiated: bool,
        our_lowest: Vec<u8>,
        collision: Option<Vec<u8>>,
    ) {
        let Some(entry) = self.children.iter_mut().find(|c| c.inbound_spi == old) else {
            // The peer won a simultaneous rekey and already deleted the old SA: ours is the
            // redundant one.
            if we_initiated
                && collision.is_some_and(|peer_lowest| ours_redundant(&our_lowest, &peer_lowest))
            {
                self.tasks.push_front(Task::DeleteChild {
                    inbound_spi: new_inbound,
                });
            }
            return;
        };
        if !we_initiated {
            entry.rekeyed_by_peer = Some((our_lowest, new_inbound));
            return;
        }
        entry.rekeying = false;
        let doomed = match entry.rekeyed_by_peer.take().map(|(n, _)| n).or(collision) {
            // Ours is redundant: close it; the peer closes the old one.
            Some(peer_lowest) if ours_redundant(&our_lowest, &peer_lowest) => new_inbound,
            _ => old,
        };
        self.tasks.push_front(Task::DeleteChild {
            inbound_spi: doomed,
        });
    }
}
