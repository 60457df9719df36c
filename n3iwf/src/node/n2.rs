//! N2: association up and down, NG Setup, received NGAP PDUs, and their routing to UE contexts
//! with the checks of TS 38.413 §10.6 (unknown or inconsistent UE NGAP IDs).

use std::time::{Duration, Instant};

use super::amf::{AmfInfo, LinkState};
use super::{AmfRef, Direction, EndCause, Event, N3iwf, StreamId, UeId};
use crate::ngap::{
    AmfConfigurationUpdateAcknowledge, AmfUeNgapId, Cause, DecodeError, Decoded, ErrorIndication,
    MiscCause, NgReset, NgResetAcknowledge, NgSetupFailure, NgSetupRequest, NgapMessage,
    ProtocolCause, RadioNetworkCause, ResetScope, TimeToWait, TriggeringMessage,
    UeContextReleaseCommand, UeNgapIdentity, UeNgapIds,
};
use crate::ue::{ContextSetupFailure, Step, UeCommon, UeState};

/// The procedure code of INITIAL CONTEXT SETUP.
const INITIAL_CONTEXT_SETUP: u8 = 14;

impl N3iwf {
    /// The SCTP association with `amf` is up, with `outbound_streams` streams: NG Setup starts.
    pub fn handle_n2_up(&mut self, amf: AmfRef, outbound_streams: u16, now: Instant) {
        let Some(link) = self.shared.amfs.get_mut(amf) else {
            self.shared.stats.unknown_references += 1;
            return;
        };
        link.streams = outbound_streams;
        self.send_ng_setup(amf, now);
    }

    /// The association with `amf` is down: its UE contexts are released locally (a new NG
    /// Setup clears them on the AMF too).
    pub fn handle_n2_down(&mut self, amf: AmfRef, now: Instant) {
        let Some(link) = self.shared.amfs.get_mut(amf) else {
            self.shared.stats.unknown_references += 1;
            return;
        };
        link.state = LinkState::Down;
        link.streams = 0;
        let released = self.release_locally(self.ues.on_amf(amf), EndCause::N2Lost, now);
        let mut ctx = self.shared.ctx(now);
        ctx.event(Event::AmfDown {
            amf,
            released_ues: released,
        });
    }

    /// The AMF restarted the association: it lost its UE contexts, so they are released
    /// locally, and NG Setup runs again on the new streams.
    pub fn handle_n2_restarted(&mut self, amf: AmfRef, outbound_streams: u16, now: Instant) {
        self.handle_n2_down(amf, now);
        self.handle_n2_up(amf, outbound_streams, now);
    }

    /// An NGAP PDU received from `amf` on `stream`.
    pub fn handle_ngap(&mut self, amf: AmfRef, stream: StreamId, octets: &[u8], now: Instant) {
        if self.shared.amfs.get(amf).is_none() {
            self.shared.stats.unknown_references += 1;
            return;
        }
        match NgapMessage::decode(octets) {
            Ok(Decoded { message, report }) => {
                let stats = &mut self.shared.stats;
                stats.count_ngap(message.procedure_code(), Direction::Received);
                self.dispatch(amf, stream, message, now);
                if let Some(report) = report {
                    let mut ctx = self.shared.ctx(now);
                    ctx.error_indication(amf, stream, report.to_error_indication());
                }
            }
            Err(error) => self.refused(amf, stream, &error, now),
        }
    }

    /// N3IWF-initiated NG RESET of the whole interface with `amf`: every UE context on it is
    /// released locally first.
    pub fn reset_amf(&mut self, amf: AmfRef, now: Instant) {
        if !self.shared.amfs.is_ready(amf) {
            self.shared.stats.unknown_references += 1;
            return;
        }
        self.release_locally(self.ues.on_amf(amf), EndCause::Local, now);
        let reset = NgReset {
            cause: Cause::Misc(MiscCause::OM_INTERVENTION),
            scope: ResetScope::Interface,
        };
        self.shared.ctx(now).send_ngap(amf, StreamId::NON_UE, reset);
    }

    /// Sends NG SETUP REQUEST again where its answer is overdue or its wait is over.
    pub(super) fn ng_setup_due(&mut self, now: Instant) {
        while let Some(amf) = self.shared.amfs.due(now) {
            self.shared.stats.ng_setup_retries += 1;
            self.send_ng_setup(amf, now);
        }
    }

    fn send_ng_setup(&mut self, amf: AmfRef, now: Instant) {
        let config = &self.shared.config;
        let request = NgSetupRequest {
            global_n3iwf_id: config.global_id,
            ran_node_name: config.ran_node_name.clone(),
            supported_tas: config.supported_tas.clone(),
            default_paging_drx: config.default_paging_drx,
        };
        let deadline = now + config.timers.ng_setup;
        if let Some(link) = self.shared.amfs.get_mut(amf) {
            link.state = LinkState::SettingUp { deadline };
        }
        self.shared
            .ctx(now)
            .send_ngap(amf, StreamId::NON_UE, request);
    }

    fn dispatch(&mut self, amf: AmfRef, stream: StreamId, message: NgapMessage, now: Instant) {
        let ready = self.shared.amfs.is_ready(amf);
        match message {
            NgapMessage::NgSetupResponse(response) => self.on_setup_response(amf, response, now),
            NgapMessage::NgSetupFailure(failure) => self.on_setup_failure(amf, &failure, now),
            NgapMessage::ErrorIndication(indication) => {
                self.shared.ctx(now).event(Event::ErrorIndicationReceived {
                    amf,
                    amf_ue_ngap_id: indication.amf_ue_ngap_id,
                    ran_ue_ngap_id: indication.ran_ue_ngap_id,
                    cause: indication.cause,
                });
            }
            _ if !ready => self.not_now(amf, stream, now),
            NgapMessage::NgReset(reset) => self.on_reset(amf, reset, now),
            NgapMessage::NgResetAcknowledge(_) => {}
            NgapMessage::AmfConfigurationUpdate(update) => {
                if let Some(info) = self.shared.amfs.info_mut(amf) {
                    info.update(update);
                }
                let ack = AmfConfigurationUpdateAcknowledge { diagnostics: None };
                self.shared.ctx(now).send_ngap(amf, StreamId::NON_UE, ack);
            }
            NgapMessage::AmfStatusIndication(indication) => {
                if let Some(info) = self.shared.amfs.info_mut(amf) {
                    info.mark_unavailable(&indication.unavailable_guamis);
                }
            }
            message => self.dispatch_ue(amf, stream, message, now),
        }
    }

    /// The UE-associated messages an AMF sends.
    fn dispatch_ue(&mut self, amf: AmfRef, stream: StreamId, message: NgapMessage, now: Instant) {
        match message {
            NgapMessage::DownlinkNasTransport(m) => {
                self.route(amf, stream, m.ids, now, |state, common, ctx| {
                    state.on_downlink_nas(common, m.ids.amf, m.nas_pdu, ctx)
                });
            }
            NgapMessage::InitialContextSetupRequest(m) => {
                self.route(amf, stream, m.ids, now, |state, common, ctx| {
                    state.on_context_setup(common, m, ctx)
                });
            }
            NgapMessage::UeContextReleaseCommand(m) => {
                self.on_release_command(amf, stream, &m, now)
            }
            NgapMessage::PduSessionResourceSetupRequest(m) => {
                self.route(amf, stream, m.ids, now, |state, common, ctx| {
                    state.on_session_setup(common, m, ctx)
                });
            }
            NgapMessage::PduSessionResourceReleaseCommand(m) => {
                self.route(amf, stream, m.ids, now, |state, common, ctx| {
                    state.on_session_release(common, m, ctx)
                });
            }
            // What only a RAN node sends, or answers the N3IWF never asked for.
            _ => self.not_now(amf, stream, now),
        }
    }

    fn on_setup_response(
        &mut self,
        amf: AmfRef,
        response: crate::ngap::NgSetupResponse,
        now: Instant,
    ) {
        let Some(link) = self.shared.amfs.get_mut(amf) else {
            return;
        };
        if !matches!(link.state, LinkState::SettingUp { .. }) {
            return;
        }
        let name = response.amf_name.clone();
        link.state = LinkState::Ready(Box::new(AmfInfo::from_setup(response)));
        self.shared.ctx(now).event(Event::AmfReady { amf, name });
    }

    fn on_setup_failure(&mut self, amf: AmfRef, failure: &NgSetupFailure, now: Instant) {
        let wait = failure
            .time_to_wait
            .map_or(self.shared.config.timers.ng_setup, time_to_wait);
        let Some(link) = self.shared.amfs.get_mut(amf) else {
            return;
        };
        if !matches!(link.state, LinkState::SettingUp { .. }) {
            return;
        }
        link.state = LinkState::Refused {
            retry_at: now + wait,
        };
        self.shared.ctx(now).event(Event::AmfRefused {
            amf,
            cause: Some(failure.cause),
        });
    }

    fn on_release_command(
        &mut self,
        amf: AmfRef,
        stream: StreamId,
        command: &UeContextReleaseCommand,
        now: Instant,
    ) {
        let ids = match command.ue {
            UeNgapIdentity::Pair(ids) => ids,
            UeNgapIdentity::AmfOnly(amf_ue) => {
                let Some(&id) = self.ues.by_amf_ue.get(&(amf, amf_ue)) else {
                    self.unknown_ue(amf, stream, Some(amf_ue), None, now);
                    return;
                };
                let Some(ran) = self.ues.ues.get(&id).and_then(|ue| ue.common.keys.ran) else {
                    return;
                };
                UeNgapIds { amf: amf_ue, ran }
            }
        };
        self.route(amf, stream, ids, now, |state, common, ctx| {
            state.on_release_command(common, ids.amf, ctx)
        });
    }

    /// NG RESET from the AMF: the contexts it names (or all on the interface) are released
    /// locally, then acknowledged (TS 38.413 §8.7.4.2.2).
    fn on_reset(&mut self, amf: AmfRef, reset: NgReset, now: Instant) {
        let (ids, echoed) = match reset.scope {
            ResetScope::Interface => (self.ues.on_amf(amf), Vec::new()),
            ResetScope::Connections(list) => {
                let ids = list
                    .iter()
                    .filter_map(|c| self.find_ue(amf, c.ran_ue_ngap_id, c.amf_ue_ngap_id))
                    .collect();
                (ids, list)
            }
        };
        let released = self.release_locally(ids, EndCause::NgReset, now);
        let mut ctx = self.shared.ctx(now);
        ctx.event(Event::NgResetByAmf {
            amf,
            released_ues: released,
        });
        let ack = NgResetAcknowledge {
            connections: echoed,
            diagnostics: None,
        };
        ctx.send_ngap(amf, StreamId::NON_UE, ack);
    }

    /// A PDU that gave no message: report it as its criticality asks. A refused INITIAL
    /// CONTEXT SETUP REQUEST for a known UE is answered with the procedure's own failure
    /// message, and ends the UE's registration.
    fn refused(&mut self, amf: AmfRef, stream: StreamId, error: &DecodeError, now: Instant) {
        let stats = &mut self.shared.stats;
        stats.ngap_refused += 1;
        let procedure_code = match error {
            DecodeError::Unsupported { procedure_code, .. }
            | DecodeError::Rejected { procedure_code, .. } => Some(*procedure_code),
            _ => None,
        };
        if let Some(code) = procedure_code {
            stats.count_ngap(code, Direction::Received);
        }
        self.shared.ctx(now).event(Event::NgapRefused {
            amf,
            procedure_code,
            reason: error.to_string(),
        });
        if self.refuse_context_setup(amf, stream, error, now) {
            return;
        }
        if let Some(report) = error.report() {
            self.shared
                .ctx(now)
                .error_indication(amf, stream, report.to_error_indication());
        }
    }

    /// An INITIAL CONTEXT SETUP REQUEST refused by criticality for a UE the report names: the
    /// procedure's failure message carries the report and the registration ends. Returns
    /// whether it was one.
    fn refuse_context_setup(
        &mut self,
        amf: AmfRef,
        stream: StreamId,
        error: &DecodeError,
        now: Instant,
    ) -> bool {
        let DecodeError::Rejected {
            procedure_code: INITIAL_CONTEXT_SETUP,
            direction: TriggeringMessage::InitiatingMessage,
            report,
            ..
        } = error
        else {
            return false;
        };
        let (Some(amf_ue), Some(ran)) = (report.amf_ue_ngap_id, report.ran_ue_ngap_id) else {
            return false;
        };
        let ids = UeNgapIds { amf: amf_ue, ran };
        let failure = ContextSetupFailure {
            cause: report.cause,
            diagnostics: report.diagnostics.clone(),
            end: EndCause::ContextSetupRefused,
        };
        self.route(amf, stream, ids, now, |state, common, ctx| match state {
            UeState::Relay(relay) => {
                common.keys.amf_ue = Some(ids.amf);
                relay.end_context_setup(ids.amf, failure, ctx)
            }
            other => Step::Next(other),
        });
        true
    }

    /// Runs `f` on the UE the IDs name, after the checks of TS 38.413 §10.6: an unknown RAN UE
    /// NGAP ID gets ERROR INDICATION (unknown local UE NGAP ID); an AMF UE NGAP ID other than
    /// the one the UE has, or one another UE has, gets ERROR INDICATION (inconsistent remote UE
    /// NGAP ID) and the local release of the contexts involved.
    fn route(
        &mut self,
        amf: AmfRef,
        stream: StreamId,
        ids: UeNgapIds,
        now: Instant,
        f: impl FnOnce(UeState, &mut UeCommon, &mut super::Ctx<'_>) -> Step,
    ) {
        let owner = self.shared.ran_ids.owner(ids.ran);
        let keys = owner
            .and_then(|id| self.ues.ues.get(&id))
            .map(|ue| ue.common.keys);
        let (Some(id), Some(keys)) = (owner, keys.filter(|k| k.amf == Some(amf))) else {
            self.unknown_ue(amf, stream, Some(ids.amf), Some(ids.ran), now);
            return;
        };
        let other = self.ues.by_amf_ue.get(&(amf, ids.amf)).copied();
        let consistent = match keys.amf_ue {
            Some(known) => known == ids.amf,
            None => other.is_none_or(|o| o == id),
        };
        if !consistent {
            let cause = Cause::RadioNetwork(RadioNetworkCause::INCONSISTENT_REMOTE_UE_NGAP_ID);
            self.report(amf, stream, Some(ids.amf), Some(ids.ran), cause, now);
            let involved = [Some(id), other.filter(|o| *o != id)];
            self.release_locally(
                involved.into_iter().flatten().collect(),
                EndCause::InconsistentIds,
                now,
            );
            return;
        }
        self.ues.step(&mut self.shared, now, id, f);
    }

    /// The UE an NG RESET item names, on `amf`.
    fn find_ue(
        &self,
        amf: AmfRef,
        ran: Option<crate::ngap::RanUeNgapId>,
        amf_ue: Option<AmfUeNgapId>,
    ) -> Option<UeId> {
        let by_ran = ran.and_then(|r| self.shared.ran_ids.owner(r));
        let by_amf = amf_ue.and_then(|a| self.ues.by_amf_ue.get(&(amf, a)).copied());
        by_ran.or(by_amf).filter(|id| {
            self.ues
                .ues
                .get(id)
                .is_some_and(|ue| ue.common.keys.amf == Some(amf))
        })
    }

    /// Releases the UEs locally; returns how many there were.
    fn release_locally(&mut self, ids: Vec<UeId>, cause: EndCause, now: Instant) -> usize {
        let count = ids.len();
        for id in ids {
            self.ues
                .step(&mut self.shared, now, id, |state, common, ctx| {
                    state.release_locally(common, cause, ctx)
                });
        }
        count
    }

    fn unknown_ue(
        &mut self,
        amf: AmfRef,
        stream: StreamId,
        amf_ue: Option<AmfUeNgapId>,
        ran: Option<crate::ngap::RanUeNgapId>,
        now: Instant,
    ) {
        let cause = Cause::RadioNetwork(RadioNetworkCause::UNKNOWN_LOCAL_UE_NGAP_ID);
        self.report(amf, stream, amf_ue, ran, cause, now);
    }

    /// A valid message that the N3IWF does not take in its state (or ever from an AMF).
    fn not_now(&mut self, amf: AmfRef, stream: StreamId, now: Instant) {
        let cause = Cause::Protocol(ProtocolCause::MESSAGE_NOT_COMPATIBLE_WITH_RECEIVER_STATE);
        self.report(amf, stream, None, None, cause, now);
    }

    fn report(
        &mut self,
        amf: AmfRef,
        stream: StreamId,
        amf_ue: Option<AmfUeNgapId>,
        ran: Option<crate::ngap::RanUeNgapId>,
        cause: Cause,
        now: Instant,
    ) {
        let indication = ErrorIndication {
            amf_ue_ngap_id: amf_ue,
            ran_ue_ngap_id: ran,
            cause: Some(cause),
            diagnostics: None,
        };
        self.shared
            .ctx(now)
            .error_indication(amf, stream, indication);
    }
}

/// Time to Wait (TS 38.413 §9.3.1.56) as a duration; an index a later release adds waits the
/// longest known time.
fn time_to_wait(value: TimeToWait) -> Duration {
    Duration::from_secs(match value {
        TimeToWait::V1S => 1,
        TimeToWait::V2S => 2,
        TimeToWait::V5S => 5,
        TimeToWait::V10S => 10,
        TimeToWait::V20S => 20,
        _ => 60,
    })
}
