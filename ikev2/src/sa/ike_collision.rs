//! Simultaneous IKE SA rekeys (RFC 7296 §2.8.2). When the peer's rekey request crosses ours,
//! both are answered and both new IKE SAs are created; the one created with the lowest of the
//! four nonces is redundant and deleted by the side that initiated it, the other inherits every
//! Child SA, and its initiator deletes the old IKE SA. Until both exchanges (and their
//! IKE_FOLLOWUP_KE, RFC 9370) are done, the new SAs wait here and the Child SAs stay on the old
//! one, so the driver hears of exactly one rekey.
//!
//! A peer that did not notice the collision answers our request with TEMPORARY_FAILURE, or
//! deletes the old IKE SA: then its new SA is the one that stays (§2.8.2, last part).

use std::time::Instant;

use super::children::ours_redundant;
use super::create_child::CcKind;
use super::tasks::{Active, Task};
use super::{Ctx, IkeSa};
use crate::event::Event;

/// The state of a collision on the old IKE SA.
pub(crate) struct IkeCollision {
    /// Lowest nonce of the peer's exchange (known once we answered it).
    theirs_lowest: Vec<u8>,
    /// Lowest nonce of ours, once its CREATE_CHILD_SA response is in.
    ours_lowest: Option<Vec<u8>>,
    /// The new IKE SAs, once their key exchanges are all done.
    ours: Option<Box<IkeSa>>,
    theirs: Option<Box<IkeSa>>,
    /// Ours is out: it lost (RFC 9370: abandoned before its IKE_FOLLOWUP_KE) or failed.
    give_way: bool,
    /// The surviving new SA has the Child SAs; one completing later is redundant.
    settled: bool,
}

impl IkeSa {
    /// Whether our own IKE SA rekey is in flight (a crossing request then collides with it).
    pub(super) fn ike_rekey_in_flight(&self) -> bool {
        self.our_ike_rekey_nonce().is_some()
    }

    /// Our IKE SA rekey in flight, with its lowest nonce once its CREATE_CHILD_SA response is
    /// in (we are in IKE_FOLLOWUP_KE); `None` when there is none.
    pub(super) fn our_ike_rekey_nonce(&self) -> Option<Option<Vec<u8>>> {
        match self.active.as_ref()? {
            Active::CreateChild(sent) if sent.kind() == CcKind::RekeyIke => Some(None),
            Active::Followup(sent) if sent.cc.kind() == CcKind::RekeyIke => {
                Some(Some(sent.cc.lowest_nonce()))
            }
            _ => None,
        }
    }

    /// Whether this SA cannot take a rekey or a new Child SA right now (RFC 7296 §2.25.2):
    /// it is being rekeyed by us or was replaced.
    pub(super) fn ike_rekey_busy(&self) -> bool {
        self.rekeyed || self.ike_collision.is_some() || self.ike_rekey_in_flight()
    }

    /// We answered the peer's IKE SA rekey while ours is in flight; `ours_lowest` is known if
    /// our CREATE_CHILD_SA response is already in (we are in IKE_FOLLOWUP_KE).
    pub(super) fn ike_collision_started(
        &mut self,
        theirs_lowest: Vec<u8>,
        ours_lowest: Option<Vec<u8>>,
    ) {
        self.ike_collision = Some(Box::new(IkeCollision {
            theirs_lowest,
            ours_lowest,
            ours: None,
            theirs: None,
            give_way: false,
            settled: false,
        }));
    }

    /// Our CREATE_CHILD_SA response is in, with `lowest` the lowest nonce of our exchange.
    /// Returns false when our rekey lost and must not go on with IKE_FOLLOWUP_KE (as strongSwan
    /// does, RFC 9370: the redundant SA is then never created).
    pub(super) fn collision_our_nonces(
        &mut self,
        now: Instant,
        lowest: Vec<u8>,
        followups: bool,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let Some(c) = self.ike_collision.as_mut() else {
            return true;
        };
        let lost = ours_redundant(&lowest, &c.theirs_lowest);
        c.ours_lowest = Some(lowest);
        if lost && followups {
            tracing::info!(sa = %self.id, "IKE SA rekey collision lost: abandoning our rekey before IKE_FOLLOWUP_KE");
            c.give_way = true;
            self.resolve_ike_collision(now, ctx);
            return false;
        }
        true
    }

    /// A new IKE SA of a collided rekey is complete (`we_initiated`: of ours).
    pub(super) fn collided_rekey_done(
        &mut self,
        now: Instant,
        we_initiated: bool,
        new: Self,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(c) = self.ike_collision.as_mut() else {
            return;
        };
        let slot = if we_initiated {
            &mut c.ours
        } else {
            &mut c.theirs
        };
        *slot = Some(Box::new(new));
        self.resolve_ike_collision(now, ctx);
    }

    /// Our rekey failed (TEMPORARY_FAILURE from a peer that did not notice the collision, or
    /// any other error): its new IKE SA is the one to keep.
    pub(super) fn give_way(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if let Some(c) = self.ike_collision.as_mut() {
            c.give_way = true;
            self.resolve_ike_collision(now, ctx);
        }
    }

    /// The peer deletes the old SA (§2.8.2: it did not notice the collision, or it won): the
    /// new SA that is complete takes the Child SAs before this one closes.
    pub(super) fn collision_old_deleted(&mut self, ctx: &mut Ctx<'_>) {
        let Some(mut c) = self.ike_collision.take() else {
            return;
        };
        if c.settled {
            return;
        }
        if let Some(new) = c.theirs.take().or_else(|| c.ours.take()) {
            tracing::info!(sa = %self.id, "IKE SA rekey collision: the peer deleted the old IKE SA");
            self.adopt_rekeyed(*new, false, ctx);
        }
    }

    /// The peer's crossing rekey failed in its IKE_FOLLOWUP_KE.
    pub(super) fn peer_rekey_failed(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let Some(c) = self.ike_collision.as_mut() else {
            return;
        };
        if c.settled || c.theirs.is_some() {
            return;
        }
        if let Some(ours) = c.ours.take() {
            c.settled = true;
            self.adopt_rekeyed(*ours, true, ctx);
        } else if c.give_way {
            // Both abandoned: try again later.
            self.ike_collision = None;
            self.timers.ike_rekey = Some(now + std::time::Duration::from_secs(2));
        } else {
            self.ike_collision = None;
        }
    }

    /// Settles the collision once the outcome is known; until then nothing changes.
    fn resolve_ike_collision(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let Some(c) = self.ike_collision.as_mut() else {
            return;
        };
        let lost = c.give_way
            || c.ours_lowest
                .as_ref()
                .is_some_and(|o| ours_redundant(o, &c.theirs_lowest));
        let won = !lost && c.ours_lowest.is_some();
        let (ours, theirs) = (c.ours.take(), c.theirs.take());
        if c.settled {
            // Late and redundant: ours is deleted by us, theirs by the peer.
            let late = ours.into_iter().map(|o| (o, true));
            return release(now, late.chain(theirs.map(|t| (t, false))), ctx);
        }
        let ours = match ours {
            Some(o) if lost => {
                tracing::info!(sa = %self.id, "IKE SA rekey collision: ours has the lowest nonce, deleting our new IKE SA");
                release(now, [(o, true)], ctx);
                None
            }
            other => other,
        };
        match (ours, theirs) {
            (Some(o), theirs) if won => {
                tracing::info!(sa = %self.id, "IKE SA rekey collision: the peer's has the lowest nonce, keeping ours");
                c.settled = true;
                // The peer deletes the redundant one it created.
                release(now, theirs.map(|t| (t, false)), ctx);
                self.adopt_rekeyed(*o, true, ctx);
            }
            (None, Some(t)) if lost => {
                tracing::info!(sa = %self.id, "IKE SA rekey collision: keeping the peer's new IKE SA");
                c.settled = true;
                self.adopt_rekeyed(*t, false, ctx);
            }
            (ours, theirs) => {
                c.ours = ours;
                c.theirs = theirs;
            }
        }
    }

    /// The new IKE SA of a rekey takes over every Child SA; the initiator of the surviving
    /// rekey deletes the old IKE SA (RFC 7296 §2.8).
    pub(super) fn adopt_rekeyed(&mut self, mut new: Self, delete_old: bool, ctx: &mut Ctx<'_>) {
        new.children = std::mem::take(&mut self.children);
        self.hand_over_child_work(&mut new);
        self.successor = Some(new.id);
        ctx.events.push_back(Event::IkeSaRekeyed {
            old: self.id,
            new: new.id,
        });
        ctx.spawned.push(new);
        self.rekeyed = true;
        if delete_old {
            self.tasks.clear();
            self.tasks.push_front(Task::DeleteIke);
        }
    }
}

/// Hands redundant new IKE SAs of a collision to the endpoint, each with a DELETE queued when
/// it is ours to delete (`true`); the peer deletes the others.
fn release(now: Instant, sas: impl IntoIterator<Item = (Box<IkeSa>, bool)>, ctx: &mut Ctx<'_>) {
    for (mut sa, ours) in sas {
        if ours {
            sa.queue(now, Task::DeleteIke, ctx);
        }
        ctx.spawned.push(*sa);
    }
}
