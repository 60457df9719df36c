//! The new Child SAs we asked for on this IKE SA, from the command until their outcome: queued,
//! in flight, or waiting to retry after the peer's TEMPORARY_FAILURE (RFC 7296 §2.25). Each
//! ends in exactly one event: [`Event::ChildSaEstablished`] or [`Event::ChildSaFailed`]. When
//! the IKE SA is rekeyed they move to the new one with the rest of the Child SA work.

use std::time::Instant;

use super::tasks::Task;
use super::{Ctx, IkeSa};
use crate::auth_reply::StatusNotify;
use crate::child_request::{ChildFailure, ChildTag, MAX_PENDING_CHILD_REQUESTS};
use crate::command_error::CommandError;
use crate::error::Error;
use crate::event::Event;
use crate::wire::{IpSelector, NotifyType};

/// Names one new Child SA request within its IKE SA (and the IKE SAs its rekeys create).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RequestId(u32);

/// A new Child SA we asked for.
pub(crate) struct PendingChild {
    pub(crate) id: RequestId,
    /// Index of its template in the connection's children.
    pub(crate) config: usize,
    pub(crate) local_ts: Vec<IpSelector>,
    pub(crate) remote_ts: Vec<IpSelector>,
    pub(crate) notifies: Vec<StatusNotify>,
    pub(crate) tag: Option<ChildTag>,
    /// Requests refused with TEMPORARY_FAILURE so far.
    attempts: u8,
    /// When it is queued again after a TEMPORARY_FAILURE.
    retry_at: Option<Instant>,
}

/// What [`IkeSa::request_child`] queues.
pub(crate) struct ChildAsk {
    pub(crate) config: usize,
    pub(crate) local_ts: Vec<IpSelector>,
    pub(crate) remote_ts: Vec<IpSelector>,
    pub(crate) notifies: Vec<StatusNotify>,
    pub(crate) tag: Option<ChildTag>,
}

impl IkeSa {
    /// Queues a new Child SA. The same request already pending (the same template and no tag,
    /// or the same tag) is not queued twice.
    pub(crate) fn request_child(
        &mut self,
        now: Instant,
        ask: ChildAsk,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), CommandError> {
        let duplicate = self.child_requests.iter().any(|p| match ask.tag {
            Some(tag) => p.tag == Some(tag),
            None => p.tag.is_none() && p.config == ask.config,
        });
        if duplicate {
            return Ok(());
        }
        if self.child_requests.len() >= MAX_PENDING_CHILD_REQUESTS {
            return Err(CommandError::TooManyChildRequests(self.id));
        }
        let id = RequestId(self.next_child_request);
        self.next_child_request = self.next_child_request.wrapping_add(1);
        self.child_requests.push(PendingChild {
            id,
            config: ask.config,
            local_ts: ask.local_ts,
            remote_ts: ask.remote_ts,
            notifies: ask.notifies,
            tag: ask.tag,
            attempts: 0,
            retry_at: None,
        });
        self.queue(now, Task::CreateChild { request: id }, ctx);
        Ok(())
    }

    pub(super) fn pending_child(&self, id: RequestId) -> Option<&PendingChild> {
        self.child_requests.iter().find(|p| p.id == id)
    }

    /// The request `id` is done (its Child SA is established): forgets it.
    pub(super) fn take_child_request(&mut self, id: RequestId) -> Option<PendingChild> {
        let pos = self.child_requests.iter().position(|p| p.id == id)?;
        Some(self.child_requests.remove(pos))
    }

    /// Our CREATE_CHILD_SA for request `id` failed with `e`: after a TEMPORARY_FAILURE it is
    /// tried again later (a bounded number of times), otherwise the driver hears of it.
    pub(super) fn child_request_failed(
        &mut self,
        now: Instant,
        id: RequestId,
        e: Error,
        ctx: &mut Ctx<'_>,
    ) {
        let temporary = e == Error::PeerError(NotifyType::TEMPORARY_FAILURE);
        let retry = super::create_child::retry_at(now, ctx);
        let again = (self.child_requests.iter_mut())
            .find(|p| p.id == id)
            .filter(|p| temporary && p.attempts + 1 < MAX_ATTEMPTS);
        if let Some(p) = again {
            p.attempts += 1;
            p.retry_at = Some(retry);
            tracing::debug!(sa = %self.id, tag = ?p.tag, "new Child SA refused for now: retrying");
            return;
        }
        let reason = match e {
            Error::PeerError(n) => ChildFailure::Refused(n),
            other => ChildFailure::Failed(other),
        };
        if let Some(p) = self.take_child_request(id) {
            self.report_child_failure(p, reason, ctx);
        }
    }

    /// Every pending request fails with `reason` (the IKE SA is going away).
    pub(super) fn fail_child_requests(&mut self, reason: &ChildFailure, ctx: &mut Ctx<'_>) {
        for p in std::mem::take(&mut self.child_requests) {
            self.report_child_failure(p, reason.clone(), ctx);
        }
    }

    fn report_child_failure(&self, p: PendingChild, reason: ChildFailure, ctx: &mut Ctx<'_>) {
        tracing::info!(sa = %self.id, tag = ?p.tag, %reason, "new Child SA failed");
        let name = (self.conn.children.get(p.config))
            .map(|c| c.name.clone())
            .unwrap_or_default();
        ctx.events.push_back(Event::ChildSaFailed {
            sa: self.id,
            tag: p.tag,
            name,
            reason,
        });
    }

    /// The earliest retry of a refused request.
    pub(super) fn child_retry_deadline(&self) -> Option<Instant> {
        self.child_requests.iter().filter_map(|p| p.retry_at).min()
    }

    /// Queues the requests whose retry time has come.
    pub(super) fn child_retry_timeout(&mut self, now: Instant) -> Vec<Task> {
        let mut due = Vec::new();
        for p in &mut self.child_requests {
            if p.retry_at.is_some_and(|t| t <= now) {
                p.retry_at = None;
                due.push(Task::CreateChild { request: p.id });
            }
        }
        due
    }

    /// The IKE SA was rekeyed into `new`: the pending new Child SAs and the queued work on Child
    /// SAs (which moved too) go with it, so that nothing is started on, or lost with, this one.
    pub(super) fn hand_over_child_work(&mut self, new: &mut Self) {
        new.child_requests = std::mem::take(&mut self.child_requests);
        new.next_child_request = self.next_child_request;
        let (child_work, rest): (Vec<Task>, Vec<Task>) =
            self.tasks.drain(..).partition(Task::is_child_work);
        self.tasks = rest.into();
        new.tasks.extend(child_work);
    }
}

/// Tries of one request the peer refuses with TEMPORARY_FAILURE before it fails.
const MAX_ATTEMPTS: u8 = 3;
