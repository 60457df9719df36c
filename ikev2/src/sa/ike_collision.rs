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

use super::tasks::Task;
use super::{Ctx, IkeSa};
use crate::event::Event;

/// A new IKE SA of one of the crossed rekeys, with the lowest nonce of its exchange.
type Rekeyed = (Vec<u8>, Box<IkeSa>);

/// The state of a collision on the old IKE SA.
#[derive(Default)]
pub(crate) struct IkeCollision {
    /// From our own rekey, once complete.
    ours: Option<Rekeyed>,
    /// From the peer's rekey, once complete.
    theirs: Option<Rekeyed>,
    /// Our rekey failed or the peer deleted the old SA: the peer's new SA stays.
    give_way: bool,
}

impl IkeSa {
    /// Whether our own IKE SA rekey is in flight (a crossing request then collides with it).
    pub(super) fn ike_rekey_in_flight(&self) -> bool {
        matches!(&self.active, Some(super::tasks::Active::CreateChild(cc))
            if cc.kind == super::create_child::CcKind::RekeyIke)
    }

    /// Whether this SA cannot take a rekey or a new Child SA right now (RFC 7296 §2.25.2):
    /// it is being rekeyed by us or was replaced.
    pub(super) fn ike_rekey_busy(&self) -> bool {
        self.rekeyed || self.ike_collision.is_some() || self.ike_rekey_in_flight()
    }

    /// A new IKE SA of a collided rekey is complete (`we_initiated`: of ours).
    pub(super) fn collided_rekey_done(
        &mut self,
        now: Instant,
        we_initiated: bool,
        lowest: Vec<u8>,
        new: IkeSa,
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
        *slot = Some((lowest, Box::new(new)));
        self.resolve_ike_collision(now, ctx);
    }

    /// Our rekey failed (TEMPORARY_FAILURE from a peer that did not notice the collision, or
    /// any other error) or the peer deleted the old SA: its new IKE SA is the one to keep.
    pub(super) fn give_way(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if let Some(c) = self.ike_collision.as_mut() {
            c.give_way = true;
            self.resolve_ike_collision(now, ctx);
        }
    }

    /// The peer's crossing rekey failed in its IKE_FOLLOWUP_KE: ours stands alone.
    pub(super) fn peer_rekey_failed(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let Some(c) = self.ike_collision.as_mut() else {
            return;
        };
        if c.theirs.is_some() {
            return;
        }
        match c.ours.take() {
            Some((_, ours)) => {
                self.ike_collision = None;
                self.adopt_rekeyed(*ours, true, ctx);
            }
            None => self.ike_collision = None,
        }
        let _ = now;
    }

    /// Settles the collision once the outcome is known; until then nothing changes.
    fn resolve_ike_collision(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let Some(c) = self.ike_collision.as_mut() else {
            return;
        };
        match (c.ours.take(), c.theirs.take(), c.give_way) {
            (Some(ours), Some(theirs), _) => {
                self.ike_collision = None;
                if ours.0 < theirs.0 {
                    tracing::info!(sa = ?self.id, "IKE SA rekey collision: ours has the lowest nonce, deleting our new IKE SA");
                    let mut redundant = ours.1;
                    redundant.queue(now, Task::DeleteIke, ctx);
                    ctx.spawned.push(*redundant);
                    self.adopt_rekeyed(*theirs.1, false, ctx);
                } else {
                    tracing::info!(sa = ?self.id, "IKE SA rekey collision: the peer's has the lowest nonce, keeping ours");
                    // The peer deletes the redundant one it created.
                    ctx.spawned.push(*theirs.1);
                    self.adopt_rekeyed(*ours.1, true, ctx);
                }
            }
            (ours, Some(theirs), true) => {
                self.ike_collision = None;
                tracing::info!(sa = ?self.id, "IKE SA rekey collision the peer did not notice: keeping its new IKE SA");
                if let Some((_, o)) = ours {
                    // Not known to the peer any more: let it go with a delete.
                    let mut o = o;
                    o.queue(now, Task::DeleteIke, ctx);
                    ctx.spawned.push(*o);
                }
                self.adopt_rekeyed(*theirs.1, false, ctx);
            }
            (Some(ours), None, true) => {
                // The peer deleted the old SA before its own rekey completed: ours is the one
                // both ends have.
                self.ike_collision = None;
                self.adopt_rekeyed(*ours.1, false, ctx);
            }
            (ours, theirs, give_way) => {
                **c = IkeCollision {
                    ours,
                    theirs,
                    give_way,
                };
            }
        }
    }

    /// The new IKE SA of a rekey takes over every Child SA; the initiator of the surviving
    /// rekey deletes the old IKE SA (RFC 7296 §2.8).
    pub(super) fn adopt_rekeyed(&mut self, mut new: IkeSa, delete_old: bool, ctx: &mut Ctx<'_>) {
        new.children = std::mem::take(&mut self.children);
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
