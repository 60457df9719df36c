//! The user-plane Child SAs of a UE's sessions: asking the engine for them one at a time, and
//! what the engine reports back (created, refused, rekeyed).

use std::net::Ipv4Addr;

use super::{InFlight, Sessions};
use crate::ids::PduSessionId;
use crate::ngap::{Cause, RadioNetworkCause};
use crate::node::{ChildRequestId, Ctx, Output, UserPlaneChild, UserPlaneChildRequest};
use crate::ue::{Established, UeCommon};
use crate::wire::qos_info::QosInfo;

impl Established {
    /// Starts the next CREATE_CHILD_SA, or answers each procedure whose sessions are all
    /// settled, in order.
    pub(crate) fn drive(mut self, common: &mut UeCommon, ctx: &mut Ctx<'_>) -> Self {
        loop {
            let sessions = &mut common.sessions;
            if sessions.in_flight.is_some() {
                return self;
            }
            let Some(head) = sessions.procedures.front() else {
                return self;
            };
            let pending = head
                .members
                .iter()
                .copied()
                .find(|id| sessions.table.get(id).is_some_and(|s| s.child.is_none()));
            match pending {
                Some(id) => {
                    if self.request_child(common, id, ctx) {
                        return self;
                    }
                }
                None => {
                    if let Some(done) = sessions.procedures.pop_front() {
                        self = self.finish(common, done, ctx);
                    }
                }
            }
        }
    }

    /// Asks the engine for the session's Child SA: one, the default, carrying every QFI.
    /// False when the session cannot have one (no inner address: never for a registered UE).
    fn request_child(&self, common: &mut UeCommon, id: PduSessionId, ctx: &mut Ctx<'_>) -> bool {
        let Some(inner) = common.keys.inner else {
            let cause = Cause::RadioNetwork(RadioNetworkCause::UNSPECIFIED);
            self.fail_session(common, id, cause, ctx);
            return false;
        };
        let Some(session) = common.sessions.table.get(&id) else {
            return false;
        };
        let qfis = session.transfer.qos_flows.iter().map(|f| f.qfi).collect();
        let request = UserPlaneChildRequest {
            id: ctx.child_request_id(),
            pdu_session_id: id,
            ue_inner_address: inner,
            up_address: ctx.config.user_plane_address(),
            qos_info: QosInfo {
                pdu_session_id: id,
                qfis,
                default_child_sa: true,
                dscp: None,
                additional_qos: None,
            },
        };
        common.sessions.in_flight = Some(InFlight {
            id: request.id,
            session: id,
        });
        ctx.stats.child_sa_requests += 1;
        ctx.out.push_back(Output::CreateChildSa {
            sa: self.sa,
            request,
        });
        true
    }

    /// The session leaves its procedure for the failed list; its TEID is freed.
    fn fail_session(
        &self,
        common: &mut UeCommon,
        id: PduSessionId,
        cause: Cause,
        ctx: &mut Ctx<'_>,
    ) {
        let sessions = &mut common.sessions;
        sessions.remove(common.id, self.sa, id, ctx);
        if let Some(head) = sessions.procedures.front_mut() {
            head.members.retain(|m| *m != id);
            head.fail(self.sa, id, cause, ctx);
        }
    }

    /// The engine created the Child SA of `request`.
    pub(crate) fn child_created(
        self,
        common: &mut UeCommon,
        request: ChildRequestId,
        inbound_spi: u32,
        outbound_spi: u32,
        ctx: &mut Ctx<'_>,
    ) -> Self {
        let Some(done) = take_in_flight(&mut common.sessions, request, ctx) else {
            return self;
        };
        match common.sessions.table.get_mut(&done.session) {
            Some(session) => {
                session.child = Some(UserPlaneChild {
                    inbound_spi,
                    outbound_spi,
                    qfis: session.transfer.qos_flows.iter().map(|f| f.qfi).collect(),
                    default: true,
                });
            }
            // Released while the exchange ran: the Child SA has nothing to carry.
            None => ctx.out.push_back(Output::DeleteChildSa {
                sa: self.sa,
                inbound_spi,
            }),
        }
        self.drive(common, ctx)
    }

    /// The UE refused the CREATE_CHILD_SA of `request`, or the exchange failed: the session
    /// fails with radio network / failure-in-radio-interface-procedure (TS 38.413 §9.3.1.2:
    /// the NWu "radio interface" procedure is the IKE exchange).
    pub(crate) fn child_failed(
        self,
        common: &mut UeCommon,
        request: ChildRequestId,
        ctx: &mut Ctx<'_>,
    ) -> Self {
        let Some(done) = take_in_flight(&mut common.sessions, request, ctx) else {
            return self;
        };
        ctx.stats.child_sa_failures += 1;
        let cause = Cause::RadioNetwork(RadioNetworkCause::FAILURE_IN_RADIO_INTERFACE_PROCEDURE);
        if common.sessions.table.contains_key(&done.session) {
            self.fail_session(common, done.session, cause, ctx);
        }
        self.drive(common, ctx)
    }

    /// A Child SA was rekeyed (by either side): the session's user plane moves to the new SPIs.
    pub(crate) fn child_rekeyed(
        self,
        common: &mut UeCommon,
        old_inbound_spi: u32,
        new_spis: (u32, u32),
        ctx: &mut Ctx<'_>,
    ) -> Self {
        let sessions = &mut common.sessions;
        let found = sessions.table.iter_mut().find_map(|(id, s)| {
            let child = s
                .child
                .as_mut()
                .filter(|c| c.inbound_spi == old_inbound_spi)?;
            (child.inbound_spi, child.outbound_spi) = new_spis;
            Some((*id, s.added))
        });
        let Some((id, added)) = found else {
            ctx.stats.unknown_references += 1;
            return self;
        };
        ctx.stats.child_sa_rekeys += 1;
        let inner = common.keys.inner.unwrap_or(Ipv4Addr::UNSPECIFIED);
        if added && let Some(view) = common.sessions.view(id, self.sa, ctx, inner) {
            ctx.out.push_back(Output::UserPlaneUpdate(view));
        }
        self
    }
}

/// The exchange `request` names, if it is the one in flight; counted as unknown otherwise.
fn take_in_flight(
    sessions: &mut Sessions,
    request: ChildRequestId,
    ctx: &mut Ctx<'_>,
) -> Option<InFlight> {
    match sessions.in_flight {
        Some(f) if f.id == request => sessions.in_flight.take(),
        _ => {
            ctx.stats.unknown_references += 1;
            None
        }
    }
}
