//! What the AMF sends for a UE: DOWNLINK NAS TRANSPORT, INITIAL CONTEXT SETUP REQUEST, UE
//! CONTEXT RELEASE COMMAND and the PDU session requests, by state. The node has checked that
//! the message's NGAP IDs are this UE's (TS 38.413 §10.6) and passes the AMF UE NGAP ID, which
//! the AMF's first answer gives the UE.

use super::eap::release_request;
use super::nas_tcp::{DlQueue, not_delivered, queue_or_refuse};
use super::{
    AwaitSignalling, Closing, ContextSetup, NasLink, NgIds, ProcedureKind, Relay, RelayLink,
    RelayPhase, Step, UeCommon, UeState, location,
};
use crate::ids::PduSessionId;
use crate::ngap::{
    AmfUeNgapId, Cause, CriticalityDiagnostics, InitialContextSetupFailure,
    InitialContextSetupRequest, InitialContextSetupResponse, PduSessionResourceReleaseCommand,
    PduSessionResourceReleaseResponse, PduSessionResourceSetupRequest,
    PduSessionResourceSetupResponse, PduSessionTransfer, ProtocolCause, RadioNetworkCause,
    UeContextReleaseComplete, release_response_transfer, setup_unsuccessful_transfer,
};
use crate::node::{Ctx, EapAnswer, EndCause};

impl UeState {
    /// DOWNLINK NAS TRANSPORT.
    pub(crate) fn on_downlink_nas(
        self,
        common: &mut UeCommon,
        amf_ue: AmfUeNgapId,
        nas: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        let state = match self {
            Self::Relay(relay) => return relay.on_downlink_nas(common, amf_ue, nas, ctx),
            Self::AwaitSignalling(mut s) => {
                queue_or_refuse(&mut s.dl, s.ng, nas, ctx);
                Self::AwaitSignalling(s)
            }
            Self::Established(e) => Self::Established(e.on_downlink_nas(nas, ctx)),
            Self::Releasing(r) => {
                not_delivered(
                    r.ng,
                    nas,
                    RadioNetworkCause::RADIO_CONNECTION_WITH_UE_LOST,
                    ctx,
                );
                Self::Releasing(r)
            }
            other @ (Self::AwaitRegistration(_) | Self::Closing(_)) => other,
        };
        Step::Next(state)
    }

    /// INITIAL CONTEXT SETUP REQUEST: KN3IWF for EAP-Success.
    pub(crate) fn on_context_setup(
        self,
        common: &mut UeCommon,
        request: InitialContextSetupRequest,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        match self {
            Self::Relay(relay) => relay.on_context_setup(common, request, ctx),
            other => {
                // A second context setup, or one for a context being released.
                if let Some(ng) = other.ng() {
                    refuse(ng, protocol_state_cause(), None, ctx);
                }
                Step::Next(other)
            }
        }
    }

    /// UE CONTEXT RELEASE COMMAND: release everything, answer COMPLETE.
    pub(crate) fn on_release_command(
        self,
        common: &mut UeCommon,
        amf_ue: AmfUeNgapId,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        match self {
            Self::Relay(relay) => relay.on_release_command(common, amf_ue, ctx),
            Self::AwaitSignalling(s) => {
                ctx.close_ike(s.sa);
                complete(common, s.ng, ctx);
                Step::End(EndCause::ReleasedByAmf)
            }
            Self::Established(e) => {
                if let NasLink::Connected { conn, .. } = e.nas {
                    ctx.tcp_close(conn);
                }
                ctx.close_ike(e.sa);
                complete(common, e.ng, ctx);
                Step::End(EndCause::ReleasedByAmf)
            }
            Self::Releasing(r) => {
                complete(common, r.ng, ctx);
                Step::End(r.cause)
            }
            other @ (Self::AwaitRegistration(_) | Self::Closing(_)) => Step::Next(other),
        }
    }

    /// PDU SESSION RESOURCE SETUP REQUEST: a registered UE's sessions are admitted and their
    /// Child SAs asked for; the response waits for them (see `sessions`). A UE not registered
    /// yet cannot carry user plane: every session fails. The NAS PDU is relayed either way.
    pub(crate) fn on_session_setup(
        self,
        common: &mut UeCommon,
        request: PduSessionResourceSetupRequest,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        let Some(ng) = self.ng() else {
            return Step::Next(self);
        };
        let PduSessionResourceSetupRequest {
            sessions, nas_pdu, ..
        } = request;
        let state = match self {
            Self::Established(e) => {
                common.sessions.admit(
                    common.id,
                    e.sa,
                    ProcedureKind::SessionSetup,
                    ng,
                    sessions,
                    ctx,
                );
                Self::Established(e.drive(common, ctx))
            }
            other => {
                let ids: Vec<_> = sessions.iter().map(|s| s.pdu_session_id).collect();
                let response = PduSessionResourceSetupResponse {
                    ids: ng.ids,
                    setup: Vec::new(),
                    failed: not_set_up(&ids, protocol_state_cause()),
                    diagnostics: None,
                };
                ctx.send_ngap(ng.amf, ng.stream, response);
                other
            }
        };
        match nas_pdu {
            Some(nas) => state.on_downlink_nas(common, ng.ids.amf, nas, ctx),
            None => Step::Next(state),
        }
    }

    /// PDU SESSION RESOURCE RELEASE COMMAND: each session's Child SA is deleted and its user
    /// plane removed; every session named is in the released list (one the UE does not have is
    /// released already). The NAS PDU is relayed.
    pub(crate) fn on_session_release(
        self,
        common: &mut UeCommon,
        command: PduSessionResourceReleaseCommand,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        let Some(ng) = self.ng() else {
            return Step::Next(self);
        };
        let state = match self {
            Self::Established(e) => {
                for s in &command.sessions {
                    e.release_session(common, s.pdu_session_id, ctx);
                }
                Self::Established(e.drive(common, ctx))
            }
            other => other,
        };
        let released = command
            .sessions
            .iter()
            .filter_map(|s| {
                Some(PduSessionTransfer {
                    pdu_session_id: s.pdu_session_id,
                    transfer: release_response_transfer().ok()?,
                })
            })
            .collect();
        let response = PduSessionResourceReleaseResponse {
            ids: ng.ids,
            released,
            location: Some(location(common)),
            diagnostics: None,
        };
        ctx.send_ngap(ng.amf, ng.stream, response);
        match command.nas_pdu {
            Some(nas) => state.on_downlink_nas(common, ng.ids.amf, nas, ctx),
            None => Step::Next(state),
        }
    }

    /// The NGAP names of a UE past its AMF's first answer.
    pub(crate) fn ng(&self) -> Option<NgIds> {
        match self {
            Self::Relay(relay) => match &relay.phase {
                RelayPhase::AwaitFirstAnswer(_) => None,
                RelayPhase::Held(_, amf_ue) => Some(relay.link.ng(*amf_ue)),
                RelayPhase::AwaitUe(wait) => Some(relay.link.ng(wait.amf_ue)),
            },
            Self::AwaitSignalling(s) => Some(s.ng),
            Self::Established(e) => Some(e.ng),
            Self::Releasing(r) => Some(r.ng),
            Self::AwaitRegistration(_) | Self::Closing(_) => None,
        }
    }
}

impl Relay {
    fn on_downlink_nas(
        self,
        common: &mut UeCommon,
        amf_ue: AmfUeNgapId,
        nas: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        let link = self.link;
        match self.phase {
            RelayPhase::AwaitFirstAnswer(held) => {
                common.keys.amf_ue = Some(amf_ue);
                link.request_with(common, held, amf_ue, nas, DlQueue::default(), ctx)
            }
            RelayPhase::Held(held, known) => {
                link.request_with(common, held, known, nas, DlQueue::default(), ctx)
            }
            RelayPhase::AwaitUe(mut wait) => {
                queue_or_refuse(&mut wait.queued, link.ng(wait.amf_ue), nas, ctx);
                Step::Next(link.with(RelayPhase::AwaitUe(wait)))
            }
        }
    }

    fn on_context_setup(
        self,
        common: &mut UeCommon,
        request: InitialContextSetupRequest,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        let link = self.link;
        let amf_ue = request.ids.amf;
        let ng = link.ng(amf_ue);
        if matches!(&self.phase, RelayPhase::AwaitUe(wait) if wait.context.is_some()) {
            refuse(ng, protocol_state_cause(), None, ctx);
            return Step::Next(UeState::Relay(self));
        }
        common.keys.amf_ue = Some(amf_ue);
        let Some(inner) = ctx.pool.allocate(common.id) else {
            let failure = ContextSetupFailure {
                cause: Cause::RadioNetwork(RadioNetworkCause::RADIO_RESOURCES_NOT_AVAILABLE),
                diagnostics: None,
                end: EndCause::PoolExhausted,
            };
            return self.end_context_setup(amf_ue, failure, ctx);
        };
        common.keys.inner = Some(inner);
        let setup = ContextSetup {
            key: request.security_key,
            inner,
            nas_pdu: request.nas_pdu,
            sessions: request.pdu_sessions,
        };
        match self.phase {
            RelayPhase::AwaitFirstAnswer(held) | RelayPhase::Held(held, _) => {
                common.timings.held(&held, ctx.now);
                link.succeed(common, amf_ue, setup, DlQueue::default(), ctx)
            }
            RelayPhase::AwaitUe(mut wait) => {
                wait.context = Some(Box::new(setup));
                Step::Next(link.with(RelayPhase::AwaitUe(wait)))
            }
        }
    }

    /// INITIAL CONTEXT SETUP FAILURE, EAP-Failure (or the IKE SA closed when the UE has the
    /// turn), and UE CONTEXT RELEASE REQUEST.
    pub(crate) fn end_context_setup(
        self,
        amf_ue: AmfUeNgapId,
        failure: ContextSetupFailure,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        let ng = self.link.ng(amf_ue);
        let ContextSetupFailure {
            cause,
            diagnostics,
            end,
        } = failure;
        refuse(ng, cause, diagnostics, ctx);
        match self.phase {
            RelayPhase::AwaitUe(_) => ctx.close_ike(self.link.sa),
            RelayPhase::AwaitFirstAnswer(_) | RelayPhase::Held(..) => {
                ctx.eap(self.link.sa, EapAnswer::Failure);
            }
        }
        release_request(ng, cause, end, ctx)
    }

    fn on_release_command(
        self,
        common: &mut UeCommon,
        amf_ue: AmfUeNgapId,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        let link: RelayLink = self.link;
        complete(common, link.ng(amf_ue), ctx);
        clear_ngap(common);
        match self.phase {
            RelayPhase::AwaitUe(wait) => Step::Next(UeState::Closing(Closing {
                sa: link.sa,
                request: wait.request,
                previous: wait.previous,
                cause: EndCause::ReleasedByAmf,
                deadline: ctx.now + ctx.config.timers.ue_answer,
            })),
            RelayPhase::AwaitFirstAnswer(held) | RelayPhase::Held(held, _) => {
                common.timings.held(&held, ctx.now);
                ctx.eap(link.sa, EapAnswer::Failure);
                Step::End(EndCause::ReleasedByAmf)
            }
        }
    }
}

impl AwaitSignalling {
    /// INITIAL CONTEXT SETUP RESPONSE of a request without PDU sessions.
    pub(crate) fn respond(&self, ctx: &mut Ctx<'_>) {
        let response = InitialContextSetupResponse {
            ids: self.ng.ids,
            setup: Vec::new(),
            failed: Vec::new(),
            diagnostics: None,
        };
        ctx.send_ngap(self.ng.amf, self.ng.stream, response);
    }
}

/// Why INITIAL CONTEXT SETUP failed, and how the UE's registration ends.
pub(crate) struct ContextSetupFailure {
    pub(crate) cause: Cause,
    pub(crate) diagnostics: Option<CriticalityDiagnostics>,
    pub(crate) end: EndCause,
}

/// INITIAL CONTEXT SETUP FAILURE.
pub(crate) fn refuse(
    ng: NgIds,
    cause: Cause,
    diagnostics: Option<CriticalityDiagnostics>,
    ctx: &mut Ctx<'_>,
) {
    let failure = InitialContextSetupFailure {
        ids: ng.ids,
        failed: Vec::new(),
        cause,
        diagnostics,
    };
    ctx.send_ngap(ng.amf, ng.stream, failure);
}

/// UE CONTEXT RELEASE COMPLETE.
pub(crate) fn complete(common: &UeCommon, ng: NgIds, ctx: &mut Ctx<'_>) {
    let complete = UeContextReleaseComplete {
        ids: ng.ids,
        location: Some(location(common)),
        pdu_sessions: Vec::new(),
        diagnostics: None,
    };
    ctx.send_ngap(ng.amf, ng.stream, complete);
}

/// Forgets the NGAP names: the node drops them from its indexes and frees the RAN UE NGAP ID.
pub(crate) fn clear_ngap(common: &mut UeCommon) {
    common.keys.ran = None;
    common.keys.amf = None;
    common.keys.amf_ue = None;
}

/// The failed list of a response for sessions that cannot be set up in the UE's state.
fn not_set_up(sessions: &[PduSessionId], cause: Cause) -> Vec<PduSessionTransfer> {
    sessions
        .iter()
        .filter_map(|id| {
            Some(PduSessionTransfer {
                pdu_session_id: *id,
                transfer: setup_unsuccessful_transfer(cause).ok()?,
            })
        })
        .collect()
}

fn protocol_state_cause() -> Cause {
    Cause::Protocol(ProtocolCause::MESSAGE_NOT_COMPATIBLE_WITH_RECEIVER_STATE)
}
