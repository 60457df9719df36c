//! EAP-5G with the UE (TS 24.502 §7.3, §9.3.2): the first 5G-NAS response and AMF selection,
//! the relay of NAS in both directions, 5G-Stop, duplicates, and EAP-Success with KN3IWF.
//!
//! Every EAP response the core takes is answered exactly once ([`EapAnswer`]); a retransmitted
//! one (the Identifier of a response already taken) is counted and never reaches the AMF again.

use super::nas_tcp::{DlQueue, not_delivered, queue_or_refuse};
use super::{
    AwaitRegistration, AwaitSignalling, AwaitUe, Closing, ContextSetup, Held, NgIds, Relay,
    RelayLink, RelayPhase, Releasing, Step, UeCommon, UeState, location,
};
use crate::ngap::{
    AmfUeNgapId, Cause, InitialUeMessage, RadioNetworkCause, RrcEstablishmentCause,
    UeContextReleaseRequest, UeNgapIds, UplinkNasTransport,
};
use crate::node::{Ctx, EapAnswer, EapSuccess, EndCause, IkeSaRef};
use crate::wire::an_params::AnParameters;
use crate::wire::eap5g::{Eap5g, EapIdentifier};

impl UeState {
    /// An EAP packet from the UE, as the engine reports it in `Event::EapMessage`.
    pub(crate) fn on_eap(self, common: &mut UeCommon, message: &[u8], ctx: &mut Ctx<'_>) -> Step {
        match self {
            Self::AwaitRegistration(s) => s.on_eap(common, message, ctx),
            Self::Relay(s) => s.on_eap(common, message, ctx),
            Self::Closing(s) => s.on_eap(message, ctx),
            // EAP is over for these: nothing is waiting for an answer.
            other => {
                ctx.stats.eap_duplicates += 1;
                Step::Next(other)
            }
        }
    }
}

impl AwaitRegistration {
    fn on_eap(self, common: &mut UeCommon, message: &[u8], ctx: &mut Ctx<'_>) -> Step {
        match Eap5g::parse(message) {
            Ok(Eap5g::NasResponse {
                id,
                an_parameters,
                nas_pdu,
            }) if id == self.request && !nas_pdu.is_empty() => {
                self.register(common, an_parameters, nas_pdu, ctx)
            }
            Ok(Eap5g::Stop { id }) if id == self.request => fail(self.sa, EndCause::EapStop, ctx),
            _ => fail(self.sa, EndCause::EapInvalid, ctx),
        }
    }

    /// Selects the AMF and sends INITIAL UE MESSAGE; the IKE_AUTH request is held.
    fn register(
        self,
        common: &mut UeCommon,
        an: AnParameters,
        nas_pdu: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        let Some(amf) = ctx.amfs.select(an.guami, an.selected_plmn) else {
            return fail(self.sa, EndCause::NoAmf, ctx);
        };
        let ran = ctx.ran_ids.allocate(common.id);
        let stream = ctx.amfs.ue_stream(amf, ran);
        common.keys.ran = Some(ran);
        common.keys.amf = Some(amf);
        let message = InitialUeMessage {
            ran_ue_ngap_id: ran,
            nas_pdu,
            location: location(common),
            rrc_establishment_cause: an
                .establishment_cause
                .map_or(RrcEstablishmentCause::MO_SIGNALLING, Into::into),
            five_g_s_tmsi: None,
            amf_set_id: None,
            // The N3IWF needs INITIAL CONTEXT SETUP REQUEST: it brings KN3IWF.
            ue_context_requested: true,
            allowed_nssai: None,
            selected_plmn: an.selected_plmn,
        };
        ctx.stats.ul_nas += 1;
        ctx.send_ngap(amf, stream, message);
        let link = RelayLink {
            sa: self.sa,
            amf,
            stream,
            ran,
        };
        let held = Held::new(self.request, ctx.now, ctx.config.timers.amf_answer);
        Step::Next(link.with(RelayPhase::AwaitFirstAnswer(held)))
    }
}

impl Relay {
    fn on_eap(self, common: &mut UeCommon, message: &[u8], ctx: &mut Ctx<'_>) -> Step {
        let link = self.link;
        let RelayPhase::AwaitUe(wait) = self.phase else {
            // The request is held: this is the UE's retransmission of it.
            ctx.stats.eap_duplicates += 1;
            return Step::Next(UeState::Relay(self));
        };
        let parsed = Eap5g::parse(message).ok();
        let id = parsed.as_ref().map(Eap5g::id);
        if id.is_some() && id == wait.previous && id != Some(wait.request) {
            ctx.stats.eap_duplicates += 1;
            return Step::Next(link.with(RelayPhase::AwaitUe(wait)));
        }
        let ng = link.ng(wait.amf_ue);
        match parsed {
            Some(Eap5g::NasResponse { id, nas_pdu, .. })
                if id == wait.request && !nas_pdu.is_empty() =>
            {
                ctx.stats.ul_nas += 1;
                let transport = UplinkNasTransport {
                    ids: ng.ids,
                    nas_pdu,
                    location: location(common),
                };
                ctx.send_ngap(ng.amf, ng.stream, transport);
                link.after_ue_response(common, wait, id, ctx)
            }
            Some(Eap5g::Stop { id }) if id == wait.request => {
                ctx.eap(link.sa, EapAnswer::Failure);
                release_request(ng, ngran_reason(), EndCause::EapStop, ctx)
            }
            _ => {
                ctx.eap(link.sa, EapAnswer::Failure);
                release_request(ng, ngran_reason(), EndCause::EapInvalid, ctx)
            }
        }
    }
}

impl RelayLink {
    pub(crate) fn with(self, phase: RelayPhase) -> UeState {
        UeState::Relay(Relay { link: self, phase })
    }

    pub(crate) fn ng(self, amf_ue: AmfUeNgapId) -> NgIds {
        NgIds {
            amf: self.amf,
            stream: self.stream,
            ids: UeNgapIds {
                amf: amf_ue,
                ran: self.ran,
            },
        }
    }

    /// The UE's response is relayed and its IKE_AUTH request now held: answer it at once with
    /// what the AMF sent meanwhile, or hold it.
    fn after_ue_response(
        self,
        common: &mut UeCommon,
        mut wait: AwaitUe,
        response: EapIdentifier,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        let held = Held::new(response, ctx.now, ctx.config.timers.amf_answer);
        if let Some(setup) = wait.context.take() {
            return self.succeed(common, wait.amf_ue, *setup, wait.queued, ctx);
        }
        match wait.queued.pop_front() {
            Some(nas) => self.request_with(common, held, wait.amf_ue, nas, wait.queued, ctx),
            None => Step::Next(self.with(RelayPhase::Held(held, wait.amf_ue))),
        }
    }

    /// Answers the held request with EAP-Request/5G-NAS; the UE has the turn.
    pub(crate) fn request_with(
        self,
        common: &mut UeCommon,
        held: Held,
        amf_ue: AmfUeNgapId,
        nas: Vec<u8>,
        queued: DlQueue,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        let id = common.next_eap_id();
        let request = Eap5g::NasRequest {
            id,
            nas_pdu: nas.clone(),
        };
        let Ok(packet) = request.to_bytes() else {
            // Only a NAS PDU too long for an EAP packet fails; the request stays held.
            not_delivered(self.ng(amf_ue), nas, RadioNetworkCause::UNSPECIFIED, ctx);
            return Step::Next(self.with(RelayPhase::Held(held, amf_ue)));
        };
        common.timings.held(&held, ctx.now);
        ctx.stats.dl_nas += 1;
        ctx.eap(self.sa, EapAnswer::Request(packet));
        let wait = AwaitUe {
            amf_ue,
            request: id,
            previous: Some(held.response),
            queued,
            context: None,
            deadline: ctx.now + ctx.config.timers.ue_answer,
        };
        Step::Next(self.with(RelayPhase::AwaitUe(wait)))
    }

    /// EAP-Success with KN3IWF as the MSK, the inner address and where NAS over TCP goes.
    pub(crate) fn succeed(
        self,
        common: &mut UeCommon,
        amf_ue: AmfUeNgapId,
        setup: ContextSetup,
        queued: DlQueue,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        let ContextSetup {
            key,
            inner,
            nas_pdu,
            sessions,
        } = setup;
        common.timings.kn3iwf = Some(ctx.now);
        let success = EapSuccess {
            msk: key,
            internal_address: inner,
            internal_netmask: ctx.pool.netmask(),
            nas_address: ctx.config.nas_address,
            nas_tcp_port: ctx.config.nas_tcp_port,
        };
        ctx.eap(self.sa, EapAnswer::Success(Box::new(success)));
        // Downlink NAS keeps its order: what waited for the EAP turn, then the context setup's.
        let ng = self.ng(amf_ue);
        let mut dl = queued;
        if let Some(nas) = nas_pdu {
            queue_or_refuse(&mut dl, ng, nas, ctx);
        }
        Step::Next(UeState::AwaitSignalling(AwaitSignalling {
            sa: self.sa,
            ng,
            inner,
            dl,
            sessions,
            deadline: ctx.now + ctx.config.timers.signalling_sa,
        }))
    }
}

impl Closing {
    /// The NGAP context is gone: the UE's response gets EAP-Failure.
    fn on_eap(self, message: &[u8], ctx: &mut Ctx<'_>) -> Step {
        let id = Eap5g::parse(message).ok().map(|m| m.id());
        if id.is_some() && id == self.previous && id != Some(self.request) {
            ctx.stats.eap_duplicates += 1;
            return Step::Next(UeState::Closing(self));
        }
        ctx.eap(self.sa, EapAnswer::Failure);
        Step::End(self.cause)
    }
}

/// EAP-Failure to a UE without an NGAP context; the engine then fails the IKE SA.
fn fail(sa: IkeSaRef, cause: EndCause, ctx: &mut Ctx<'_>) -> Step {
    ctx.eap(sa, EapAnswer::Failure);
    Step::End(cause)
}

/// UE CONTEXT RELEASE REQUEST; the context waits for the AMF's COMMAND.
pub(crate) fn release_request(ng: NgIds, cause: Cause, end: EndCause, ctx: &mut Ctx<'_>) -> Step {
    let request = UeContextReleaseRequest {
        ids: ng.ids,
        pdu_sessions: Vec::new(),
        cause,
    };
    ctx.send_ngap(ng.amf, ng.stream, request);
    Step::Next(UeState::Releasing(Releasing {
        ng,
        cause: end,
        deadline: ctx.now + ctx.config.timers.release_command,
    }))
}

/// The cause of a release the N3IWF decides (5G-Stop, a broken EAP exchange, an AMF too slow).
pub(crate) fn ngran_reason() -> Cause {
    Cause::RadioNetwork(RadioNetworkCause::RELEASE_DUE_TO_NGRAN_GENERATED_REASON)
}

/// The cause of a release for a UE that is gone (IKE SA deleted, unreachable).
pub(crate) fn ue_lost() -> Cause {
    Cause::RadioNetwork(RadioNetworkCause::RADIO_CONNECTION_WITH_UE_LOST)
}
