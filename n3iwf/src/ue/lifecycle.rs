//! The UE's IKE SA coming up and going away, guard timers, and releases the N3IWF decides
//! alone (NG RESET, a lost N2 association, inconsistent IDs, an operator's command).

use super::downlink::{clear_ngap, refuse};
use super::eap::{ngran_reason, release_request, ue_lost};
use super::nas_tcp::not_delivered;
use super::{
    Closing, Established, NasLink, ProcedureKind, Relay, RelayPhase, Step, UeCommon, UeState,
};
use crate::ngap::{Cause, RadioNetworkCause};
use crate::node::{Ctx, EapAnswer, EndCause, Event, IkeSaGone, IkeSaRef};

impl UeState {
    /// The signalling SA is up (the final IKE_AUTH completed): INITIAL CONTEXT SETUP RESPONSE,
    /// at once without PDU sessions, else once their Child SAs are settled.
    pub(crate) fn on_signalling_up(self, common: &mut UeCommon, ctx: &mut Ctx<'_>) -> Step {
        let Self::AwaitSignalling(mut s) = self else {
            return Step::Next(self);
        };
        let sessions = std::mem::take(&mut s.sessions);
        if sessions.is_empty() {
            s.respond(ctx);
        }
        common.timings.signalling_up = Some(ctx.now);
        common.registered = true;
        ctx.stats.registrations += 1;
        ctx.event(Event::UeRegistered {
            sa: s.sa,
            ran_ue_ngap_id: s.ng.ids.ran,
            inner_address: s.inner,
        });
        let established = Established {
            sa: s.sa,
            ng: s.ng,
            nas: NasLink::Waiting(s.dl),
        };
        if sessions.is_empty() {
            return Step::Next(Self::Established(established));
        }
        let kind = ProcedureKind::ContextSetup;
        common
            .sessions
            .admit(common.id, s.sa, kind, s.ng, sessions, ctx);
        Step::Next(Self::Established(established.drive(common, ctx)))
    }

    /// The IKE SA was rekeyed: the state goes by the successor, so that what it sends later
    /// (EAP answers, Child SA requests, the IKE SA's deletion) names the SA that exists.
    pub(crate) fn on_ike_rekeyed(mut self, common: &mut UeCommon, new: IkeSaRef) -> Step {
        common.keys.sa = Some(new);
        common.ike_sa = new;
        match &mut self {
            Self::AwaitRegistration(s) => s.sa = new,
            Self::Relay(r) => r.link.sa = new,
            Self::AwaitSignalling(s) => s.sa = new,
            Self::Established(e) => e.sa = new,
            Self::Closing(c) => c.sa = new,
            Self::Releasing(_) => {}
        }
        Step::Next(self)
    }

    /// The engine reports the IKE SA gone: release the NGAP context, or end.
    pub(crate) fn on_ike_gone(
        self,
        common: &mut UeCommon,
        why: IkeSaGone,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        common.keys.sa = None;
        let end = match why {
            IkeSaGone::AuthenticationFailed => EndCause::AuthenticationFailed,
            IkeSaGone::Local => EndCause::Local,
            IkeSaGone::DeletedByUe | IkeSaGone::UeUnreachable | IkeSaGone::Failed => {
                EndCause::IkeSaGone
            }
        };
        match self {
            Self::AwaitRegistration(_) | Self::Closing(_) => Step::End(end),
            Self::Relay(relay) => match relay.known_ng() {
                Some(ng) => release_request(ng, ue_lost(), end, ctx),
                None => Step::End(end),
            },
            Self::AwaitSignalling(s) => {
                let cause = match why {
                    IkeSaGone::AuthenticationFailed => {
                        RadioNetworkCause::FAILURE_IN_RADIO_INTERFACE_PROCEDURE
                    }
                    _ => RadioNetworkCause::RADIO_CONNECTION_WITH_UE_LOST,
                };
                refuse(s.ng, Cause::RadioNetwork(cause), None, ctx);
                release_request(s.ng, ue_lost(), end, ctx)
            }
            Self::Established(e) => e.lost(common, end, ctx),
            releasing @ Self::Releasing(_) => Step::Next(releasing),
        }
    }

    /// The state's deadline passed.
    pub(crate) fn on_timeout(self, common: &mut UeCommon, ctx: &mut Ctx<'_>) -> Step {
        match self {
            Self::AwaitRegistration(s) => close(common, s.sa, EndCause::UeAnswerTimeout, ctx),
            Self::Relay(relay) => relay.on_timeout(common, ctx),
            Self::AwaitSignalling(s) => {
                ctx.close_ike(s.sa);
                common.keys.sa = None;
                let cause =
                    Cause::RadioNetwork(RadioNetworkCause::FAILURE_IN_RADIO_INTERFACE_PROCEDURE);
                refuse(s.ng, cause, None, ctx);
                release_request(s.ng, ngran_reason(), EndCause::SignallingTimeout, ctx)
            }
            established @ Self::Established(_) => Step::Next(established),
            Self::Releasing(r) => {
                // The AMF never sent the COMMAND: release locally.
                ctx.stats.release_command_timeouts += 1;
                Step::End(r.cause)
            }
            Self::Closing(s) => close(common, s.sa, s.cause, ctx),
        }
    }

    /// The NGAP context ends without a COMMAND (NG RESET, N2 lost, inconsistent IDs): no NGAP
    /// message is sent for it. A UE waiting to answer EAP gets EAP-Failure next.
    pub(crate) fn release_locally(
        self,
        common: &mut UeCommon,
        end: EndCause,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        match self {
            Self::Relay(relay) => {
                clear_ngap(common);
                match relay.phase {
                    RelayPhase::AwaitUe(wait) => Step::Next(Self::Closing(Closing {
                        sa: relay.link.sa,
                        request: wait.request,
                        previous: wait.previous,
                        cause: end,
                        deadline: ctx.now + ctx.config.timers.ue_answer,
                    })),
                    RelayPhase::AwaitFirstAnswer(_) | RelayPhase::Held(..) => {
                        ctx.eap(relay.link.sa, EapAnswer::Failure);
                        Step::End(end)
                    }
                }
            }
            Self::AwaitSignalling(s) => close(common, s.sa, end, ctx),
            Self::Established(e) => {
                if let NasLink::Connected { conn, .. } = e.nas {
                    ctx.tcp_close(conn);
                }
                close(common, e.sa, end, ctx)
            }
            Self::Releasing(r) => Step::End(r.cause),
            other @ (Self::AwaitRegistration(_) | Self::Closing(_)) => Step::Next(other),
        }
    }

    /// The operator closes the UE: its IKE SA and connection go, and the AMF is asked to
    /// release the context (as for a UE that went away) when it knows the UE.
    pub(crate) fn close(self, common: &mut UeCommon, ctx: &mut Ctx<'_>) -> Step {
        if let Some(sa) = common.keys.sa.take() {
            ctx.close_ike(sa);
        }
        if let Self::Established(e) = &self
            && let NasLink::Connected { conn, .. } = e.nas
        {
            ctx.tcp_close(conn);
        }
        match (self.ng(), self) {
            (_, releasing @ Self::Releasing(_)) => Step::Next(releasing),
            (Some(ng), _) => release_request(ng, ngran_reason(), EndCause::Local, ctx),
            (None, _) => Step::End(EndCause::Local),
        }
    }
}

impl Relay {
    /// The NGAP names, once the AMF has named the UE.
    fn known_ng(&self) -> Option<super::NgIds> {
        match &self.phase {
            RelayPhase::AwaitFirstAnswer(_) => None,
            RelayPhase::Held(_, amf_ue) => Some(self.link.ng(*amf_ue)),
            RelayPhase::AwaitUe(wait) => Some(self.link.ng(wait.amf_ue)),
        }
    }

    fn on_timeout(self, common: &mut UeCommon, ctx: &mut Ctx<'_>) -> Step {
        let sa = self.link.sa;
        match self.phase {
            // The AMF never named the UE: nothing to release on N2.
            RelayPhase::AwaitFirstAnswer(held) => {
                common.timings.held(&held, ctx.now);
                ctx.eap(sa, EapAnswer::Failure);
                Step::End(EndCause::AmfAnswerTimeout)
            }
            RelayPhase::Held(held, amf_ue) => {
                common.timings.held(&held, ctx.now);
                ctx.eap(sa, EapAnswer::Failure);
                common.keys.sa = None;
                let ng = self.link.ng(amf_ue);
                release_request(ng, ngran_reason(), EndCause::AmfAnswerTimeout, ctx)
            }
            RelayPhase::AwaitUe(wait) => {
                ctx.close_ike(sa);
                common.keys.sa = None;
                let ng = self.link.ng(wait.amf_ue);
                release_request(ng, ue_lost(), EndCause::UeAnswerTimeout, ctx)
            }
        }
    }
}

impl Established {
    /// The UE's IKE SA is gone: its connection closes, downlink NAS waiting for it is reported
    /// undeliverable, and the AMF is asked to release the context.
    fn lost(self, common: &mut UeCommon, end: EndCause, ctx: &mut Ctx<'_>) -> Step {
        match self.nas {
            NasLink::Connected { conn, .. } => ctx.tcp_close(conn),
            NasLink::Waiting(mut queue) => {
                for nas in queue.drain() {
                    not_delivered(
                        self.ng,
                        nas,
                        RadioNetworkCause::RADIO_CONNECTION_WITH_UE_LOST,
                        ctx,
                    );
                }
            }
        }
        common.keys.conn = None;
        release_request(self.ng, ue_lost(), end, ctx)
    }
}

/// Closes the IKE SA and ends the context.
fn close(common: &mut UeCommon, sa: IkeSaRef, end: EndCause, ctx: &mut Ctx<'_>) -> Step {
    ctx.close_ike(sa);
    common.keys.sa = None;
    Step::End(end)
}
