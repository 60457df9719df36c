//! Work on an established IKE SA: one exchange of ours at a time (window size 1), the rest
//! queued; lifetimes and liveness timers that queue work.

use std::time::Instant;

use super::create_child::{CcExchange, CcKind};
use super::{Ctx, IkeSa, State};
use crate::event::{CloseReason, Event};
use crate::wire::MessageId;

/// Something we want to do on an established IKE SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Task {
    CreateChild {
        config: usize,
    },
    RekeyChild {
        inbound_spi: u32,
    },
    DeleteChild {
        inbound_spi: u32,
    },
    RekeyIke,
    DeleteIke,
    Dpd,
    /// An INFORMATIONAL with the queued notifies (INVALID_SPI).
    Notify,
}

/// Our exchange in flight on an established SA.
pub(crate) enum Active {
    /// A CREATE_CHILD_SA of ours waits for its RFC 9867 PPK from the driver.
    AwaitPpk(CcKind),
    CreateChild(Box<CcExchange>),
    Informational(InfoKind),
}

/// What an INFORMATIONAL request of ours was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InfoKind {
    Dpd,
    Notify,
    DeleteChild { inbound_spi: u32 },
    DeleteIke,
}

impl IkeSa {
    /// Queues `task` and starts it if nothing else is in flight.
    pub(crate) fn queue(&mut self, now: Instant, task: Task, ctx: &mut Ctx<'_>) {
        if !self.tasks.contains(&task) {
            self.tasks.push_back(task);
        }
        self.kick(now, ctx);
    }

    /// Starts the next queued task when the SA is idle.
    pub(super) fn kick(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        // A request parked for its PPK (ppk_child.rs) holds the SA's one PPK request slot.
        while matches!(self.state, State::Established)
            && self.pending.is_none()
            && self.active.is_none()
            && self.parked_cc.is_none()
        {
            let Some(task) = self.tasks.pop_front() else {
                return;
            };
            self.start_task(now, task, ctx);
        }
    }

    fn start_task(&mut self, now: Instant, task: Task, ctx: &mut Ctx<'_>) {
        let result = match task {
            Task::CreateChild { config } => {
                self.start_create_child(now, CcKind::NewChild { config }, ctx)
            }
            Task::RekeyChild { inbound_spi } => {
                let Some(c) = self
                    .children
                    .iter_mut()
                    .find(|c| c.inbound_spi == inbound_spi)
                else {
                    return;
                };
                c.rekeying = true;
                let config = c.config;
                self.start_create_child(
                    now,
                    CcKind::RekeyChild {
                        config,
                        old_inbound: inbound_spi,
                    },
                    ctx,
                )
            }
            Task::RekeyIke if !self.rekeyed && self.ike_collision.is_none() => {
                self.start_create_child(now, CcKind::RekeyIke, ctx)
            }
            Task::RekeyIke => return,
            Task::DeleteChild { inbound_spi } => {
                if !self.children.iter().any(|c| c.inbound_spi == inbound_spi) {
                    return;
                }
                self.send_informational(now, InfoKind::DeleteChild { inbound_spi }, ctx);
                Ok(())
            }
            Task::DeleteIke => {
                self.send_informational(now, InfoKind::DeleteIke, ctx);
                Ok(())
            }
            Task::Dpd => {
                self.send_informational(now, InfoKind::Dpd, ctx);
                Ok(())
            }
            Task::Notify => {
                self.send_informational(now, InfoKind::Notify, ctx);
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::warn!(sa = ?self.id, ?task, error = %e, "could not start exchange");
        }
    }

    /// Sets the IKE SA rekey/expiry deadlines and the liveness timer from the configuration.
    pub(crate) fn arm_timers(&mut self, now: Instant, ctx: &Ctx<'_>) {
        let (rekey, expire) =
            super::children::deadlines(now, &self.conn.ike_lifetime, ctx.provider);
        self.ike_rekey_at = rekey;
        self.ike_expire_at = expire;
        self.last_heard = Some(now);
        self.dpd_at = self.conn.dpd_delay.and_then(|d| now.checked_add(d));
    }

    /// The earliest lifecycle deadline (established SAs only).
    pub(super) fn lifecycle_deadline(&self) -> Option<Instant> {
        if !matches!(self.state, State::Established) {
            return None;
        }
        let children = self
            .children
            .iter()
            .flat_map(|c| [if c.rekeying { None } else { c.rekey_at }, c.expire_at]);
        children
            .chain([self.ike_rekey_at, self.ike_expire_at, self.dpd_at])
            .flatten()
            .min()
    }

    /// Queues the work whose time has come.
    pub(super) fn lifecycle_timeout(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if !matches!(self.state, State::Established) {
            return;
        }
        let mut due = Vec::new();
        for c in &mut self.children {
            if c.expire_at.is_some_and(|t| t <= now) {
                c.expire_at = None;
                due.push(Task::DeleteChild {
                    inbound_spi: c.inbound_spi,
                });
            } else if !c.rekeying && c.rekey_at.is_some_and(|t| t <= now) {
                c.rekey_at = None;
                due.push(Task::RekeyChild {
                    inbound_spi: c.inbound_spi,
                });
            }
        }
        if self.ike_expire_at.is_some_and(|t| t <= now) {
            self.ike_expire_at = None;
            due.push(Task::DeleteIke);
        } else if self.ike_rekey_at.is_some_and(|t| t <= now) {
            self.ike_rekey_at = None;
            due.push(Task::RekeyIke);
        }
        if self.dpd_at.is_some_and(|t| t <= now) {
            let heard = self.last_heard.unwrap_or(now);
            let delay = self.conn.dpd_delay.unwrap_or_default();
            match heard.checked_add(delay) {
                Some(t) if t <= now => {
                    due.push(Task::Dpd);
                    self.dpd_at = now.checked_add(delay);
                }
                later => self.dpd_at = later,
            }
        }
        for t in due {
            self.queue(now, t, ctx);
        }
    }

    /// Closes the SA without error: every Child SA goes too.
    pub(super) fn close(&mut self, reason: CloseReason, ctx: &mut Ctx<'_>) {
        let reason = if self.rekeyed {
            CloseReason::Rekeyed
        } else {
            reason
        };
        self.close_reason.get_or_insert(reason);
        for c in self.children.drain(..) {
            ctx.events.push_back(Event::ChildSaDeleted {
                sa: self.id,
                inbound_spi: c.inbound_spi,
                outbound_spi: c.outbound_spi,
                reason,
            });
        }
        self.pending = None;
        self.active = None;
        self.state = State::Dead;
    }

    /// Whether we are closing the Child SA with this inbound SPI (its DELETE queued or sent).
    pub(super) fn is_deleting_child(&self, inbound_spi: u32) -> bool {
        let delete = InfoKind::DeleteChild { inbound_spi };
        self.tasks.contains(&Task::DeleteChild { inbound_spi })
            || matches!(self.active, Some(Active::Informational(k)) if k == delete)
    }

    /// Removes a Child SA and tells the driver.
    pub(super) fn remove_child(
        &mut self,
        inbound_spi: u32,
        reason: CloseReason,
        ctx: &mut Ctx<'_>,
    ) -> Option<u32> {
        let pos = self
            .children
            .iter()
            .position(|c| c.inbound_spi == inbound_spi)?;
        let c = self.children.remove(pos);
        ctx.events.push_back(Event::ChildSaDeleted {
            sa: self.id,
            inbound_spi: c.inbound_spi,
            outbound_spi: c.outbound_spi,
            reason,
        });
        Some(c.outbound_spi)
    }
}

impl IkeSa {
    /// What listings show of this SA.
    pub(crate) fn snapshot(&self) -> crate::event::SaSnapshot {
        let state = match (&self.state, self.rekeyed) {
            (State::Established, true) => "REKEYED",
            (State::Established, false)
                if matches!(
                    self.active,
                    Some(Active::Informational(InfoKind::DeleteIke))
                ) =>
            {
                "DELETING"
            }
            (State::Established, false) => "ESTABLISHED",
            (State::Dead, _) => "DELETING",
            _ => "CONNECTING",
        };
        let children = self
            .children
            .iter()
            .map(|c| crate::event::ChildSnapshot {
                name: self
                    .conn
                    .children
                    .get(c.config)
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                inbound_spi: c.inbound_spi,
                outbound_spi: c.outbound_spi,
                proposal: c.suite.to_string(),
                local_ts: c.local_ts.clone(),
                remote_ts: c.remote_ts.clone(),
            })
            .collect();
        crate::event::SaSnapshot {
            id: self.id,
            connection: self.conn.name.clone(),
            initiator: self.initiator,
            state,
            local: self.local,
            remote: self.remote,
            proposal: self
                .suite
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            ppk_used: self.ppk_used,
            message_ids: crate::event::MessageIds {
                next_request: MessageId(self.next_message_id),
                outstanding: self.pending.as_ref().map(|p| MessageId(p.message_id)),
                expected_request: MessageId(self.expected_request_id),
            },
            children,
        }
    }
}

impl IkeSa {
    /// Hands the IKE SA keys to a key log when the endpoint is configured to.
    pub(super) fn export_keys(&self, ctx: &mut Ctx<'_>) {
        let (Some(keys), true) = (self.keys.as_ref(), ctx.config.export_keys) else {
            return;
        };
        let keys = crate::event::IkeKeyExport {
            spi_i: crate::wire::IkeSpi(self.spi_i),
            spi_r: crate::wire::IkeSpi(self.spi_r),
            proposal: self
                .suite
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            sk_ei: keys.sk_ei.dangerous_duplicate(),
            sk_er: keys.sk_er.dangerous_duplicate(),
            sk_ai: keys.sk_ai.dangerous_duplicate(),
            sk_ar: keys.sk_ar.dangerous_duplicate(),
        };
        ctx.events.push_back(Event::IkeSaKeys { sa: self.id, keys });
    }
}
