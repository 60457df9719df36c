//! Work on an established IKE SA: one exchange of ours at a time (window size 1), the rest
//! queued; lifetimes and liveness timers that queue work.

use std::time::Instant;

use super::create_child::{CcKind, FollowupSent, RequestSent};
use super::new_child::RequestId;
use super::{Ctx, IkeSa, State};
use crate::event::{CloseReason, Event};
use crate::wire::EspSpi;

/// Something we want to do on an established IKE SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Task {
    CreateChild {
        request: RequestId,
    },
    RekeyChild {
        inbound_spi: EspSpi,
    },
    DeleteChild {
        inbound_spi: EspSpi,
    },
    RekeyIke,
    DeleteIke,
    Dpd,
    /// An INFORMATIONAL with the queued notifies (INVALID_SPI).
    Notify,
}

impl Task {
    /// Work on Child SAs, which moves with them to the IKE SA that a rekey creates.
    pub(super) fn is_child_work(&self) -> bool {
        matches!(
            self,
            Self::CreateChild { .. } | Self::RekeyChild { .. } | Self::DeleteChild { .. }
        )
    }
}

/// Our exchange in flight on an established SA.
pub(crate) enum Active {
    /// A CREATE_CHILD_SA of ours waits for its RFC 9867 PPK from the driver.
    AwaitPpk(CcKind),
    /// Our CREATE_CHILD_SA request is out.
    CreateChild(Box<RequestSent>),
    /// Our IKE_FOLLOWUP_KE request of that exchange is out (RFC 9370).
    Followup(Box<FollowupSent>),
    Informational(InfoKind),
}

/// What an INFORMATIONAL request of ours was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InfoKind {
    Dpd,
    Notify,
    DeleteChild { inbound_spi: EspSpi },
    DeleteIke,
}

/// The exchange a task starts.
enum Exchange {
    CreateChild(CcKind),
    Informational(InfoKind),
}

impl IkeSa {
    /// Queues `task` and starts it if nothing else is in flight.
    pub(crate) fn queue(&mut self, now: Instant, task: Task, ctx: &mut Ctx<'_>) {
        if !self.tasks.contains(&task) {
            self.tasks.push_back(task);
        }
        self.kick(now, ctx);
    }

    /// Starts queued work (an IKE SA that a rekey created, with the work it took over).
    pub(crate) fn resume_tasks(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        self.kick(now, ctx);
    }

    /// Starts the next queued task when the SA is idle.
    pub(super) fn kick(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        // A request parked for its PPK (ppk_child.rs) holds the SA's one PPK request slot.
        while matches!(self.state, State::Established)
            && self.window.pending.is_none()
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
        let exchange = match task {
            Task::CreateChild { request } => {
                if self.pending_child(request).is_none() {
                    return;
                }
                Exchange::CreateChild(CcKind::NewChild {
                    request: Some(request),
                })
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
                Exchange::CreateChild(CcKind::RekeyChild {
                    config: c.config,
                    old_inbound: inbound_spi,
                })
            }
            Task::RekeyIke if !self.rekeyed && self.ike_collision.is_none() => {
                Exchange::CreateChild(CcKind::RekeyIke)
            }
            Task::RekeyIke => return,
            Task::DeleteChild { inbound_spi } => {
                if !self.children.iter().any(|c| c.inbound_spi == inbound_spi) {
                    return;
                }
                Exchange::Informational(InfoKind::DeleteChild { inbound_spi })
            }
            Task::DeleteIke => Exchange::Informational(InfoKind::DeleteIke),
            Task::Dpd => Exchange::Informational(InfoKind::Dpd),
            Task::Notify => Exchange::Informational(InfoKind::Notify),
        };
        match exchange {
            Exchange::Informational(kind) => self.send_informational(now, kind, ctx),
            Exchange::CreateChild(kind) => {
                if let Err(e) = self.start_create_child(now, kind, ctx) {
                    tracing::warn!(sa = %self.id, ?task, error = %e, "could not start exchange");
                    self.abandon_kind(now, kind, e, ctx);
                }
            }
        }
    }

    /// Sets the IKE SA rekey/expiry deadlines and the liveness timer from the configuration.
    pub(crate) fn arm_timers(&mut self, now: Instant, ctx: &Ctx<'_>) {
        let (rekey, expire) =
            super::children::deadlines(now, &self.conn.ike_lifetime, ctx.provider);
        self.timers.ike_rekey = rekey;
        self.timers.ike_expire = expire;
        self.timers.last_heard = Some(now);
        self.timers.dpd = self.conn.dpd_delay.and_then(|d| now.checked_add(d));
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
            .chain([
                self.timers.ike_rekey,
                self.timers.ike_expire,
                self.timers.dpd,
                self.child_retry_deadline(),
            ])
            .flatten()
            .min()
    }

    /// Queues the work whose time has come.
    pub(super) fn lifecycle_timeout(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if !matches!(self.state, State::Established) {
            return;
        }
        let mut due = self.child_retry_timeout(now);
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
        if self.timers.ike_expire.is_some_and(|t| t <= now) {
            self.timers.ike_expire = None;
            due.push(Task::DeleteIke);
        } else if self.timers.ike_rekey.is_some_and(|t| t <= now) {
            self.timers.ike_rekey = None;
            due.push(Task::RekeyIke);
        }
        if self.timers.dpd.is_some_and(|t| t <= now) {
            let heard = self.timers.last_heard.unwrap_or(now);
            let delay = self.conn.dpd_delay.unwrap_or_default();
            match heard.checked_add(delay) {
                Some(t) if t <= now => {
                    due.push(Task::Dpd);
                    self.timers.dpd = now.checked_add(delay);
                }
                later => self.timers.dpd = later,
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
        self.fail_child_requests(&crate::ChildFailure::IkeSaClosed(reason), ctx);
        for c in self.children.drain(..) {
            ctx.events.push_back(Event::ChildSaDeleted {
                sa: self.id,
                inbound_spi: c.inbound_spi,
                outbound_spi: c.outbound_spi,
                reason,
            });
        }
        self.window.pending = None;
        self.active = None;
        self.state = State::Dead;
    }

    /// Whether we are closing the Child SA with this inbound SPI (its DELETE queued or sent).
    pub(super) fn is_deleting_child(&self, inbound_spi: EspSpi) -> bool {
        let delete = InfoKind::DeleteChild { inbound_spi };
        self.tasks.contains(&Task::DeleteChild { inbound_spi })
            || matches!(self.active, Some(Active::Informational(k)) if k == delete)
    }

    /// Removes a Child SA and tells the driver.
    pub(super) fn remove_child(
        &mut self,
        inbound_spi: EspSpi,
        reason: CloseReason,
        ctx: &mut Ctx<'_>,
    ) -> Option<EspSpi> {
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
        let children = self
            .children
            .iter()
            .map(|c| self.child_snapshot(c))
            .collect();
        crate::event::SaSnapshot {
            id: self.id,
            connection: self.conn.name.clone(),
            initiator: self.initiator,
            state: self.state_name(),
            local: self.local,
            remote: self.remote,
            proposal: (self.suite.as_ref())
                .map(ToString::to_string)
                .unwrap_or_default(),
            ppk_used: self.ppk_used,
            message_ids: crate::event::MessageIds {
                next_request: self.window.next_id,
                outstanding: (self.window.pending.as_ref()).map(|p| p.message_id),
                expected_request: self.window.expected_id,
            },
            children,
        }
    }

    /// `CONNECTING`, `ESTABLISHED`, `REKEYED` or `DELETING`.
    fn state_name(&self) -> &'static str {
        let deleting = matches!(
            self.active,
            Some(Active::Informational(InfoKind::DeleteIke))
        );
        match (&self.state, self.rekeyed) {
            (State::Established, true) => "REKEYED",
            (State::Established, false) if deleting => "DELETING",
            (State::Established, false) => "ESTABLISHED",
            (State::Dead, _) => "DELETING",
            _ => "CONNECTING",
        }
    }

    fn child_snapshot(&self, c: &super::children::ChildEntry) -> crate::event::ChildSnapshot {
        let template = self.conn.children.get(c.config);
        crate::event::ChildSnapshot {
            name: template.map(|t| t.name.clone()).unwrap_or_default(),
            inbound_spi: c.inbound_spi,
            outbound_spi: c.outbound_spi,
            proposal: c.suite.to_string(),
            local_ts: c.local_ts.clone(),
            remote_ts: c.remote_ts.clone(),
            tag: c.tag,
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
            spi_i: self.spi_i,
            spi_r: self.spi_r,
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
