//! The emulated AMF's handlers, one per NGAP message it takes, and what it does with the
//! events of each UE's NAS side.

use std::time::Instant;

use n3iwf::ngap::{
    AmfUeNgapId, Cause, DownlinkNasTransport, InitialContextSetupRequest, NasCause,
    NgResetAcknowledge, NgSetupFailure, NgSetupRequest, NgSetupResponse, NgapMessage, PlmnSlices,
    ServedGuami, UeNgapIds,
};

use super::faults::with_unknown_ie;
use super::{AcceptMode, AmfNode, AmfNodeEvent, convert};
use crate::amf::{AmfEvent, InitialContext};

impl AmfNode {
    /// An NGAP PDU from the N3IWF on `stream`.
    pub fn handle_ngap(&mut self, stream: u16, octets: &[u8], now: Instant) {
        let decoded = match NgapMessage::decode(octets) {
            Ok(decoded) => decoded,
            Err(error) => {
                let reason = error.to_string();
                self.events.push_back(AmfNodeEvent::Refused { reason });
                return;
            }
        };
        match decoded.message {
            NgapMessage::NgSetupRequest(request) => self.on_setup(request, now),
            NgapMessage::InitialUeMessage(message) => self.on_initial_ue(stream, message, now),
            NgapMessage::UplinkNasTransport(m) => {
                self.uplinks_received += 1;
                let amf_ue = m.ids.amf;
                self.events
                    .push_back(AmfNodeEvent::Uplink { amf_ue, stream });
                self.uplink(amf_ue, &m.nas_pdu, now);
            }
            NgapMessage::InitialContextSetupResponse(m) => self.on_setup_response(m, now),
            NgapMessage::UeContextReleaseRequest(m) => {
                self.on_release_request(m.ids.amf, m.cause, now)
            }
            NgapMessage::NgReset(_) => self.on_reset(now),
            NgapMessage::PduSessionResourceSetupResponse(m) => self.on_session_setup_response(m),
            NgapMessage::PduSessionResourceReleaseResponse(m) => {
                self.on_session_release_response(m)
            }
            other => self.on_report(other),
        }
    }

    /// Messages the AMF only records.
    fn on_report(&mut self, message: NgapMessage) {
        let event = match message {
            NgapMessage::InitialContextSetupFailure(m) => AmfNodeEvent::ContextSetupFailed {
                amf_ue: m.ids.amf,
                cause: m.cause,
            },
            NgapMessage::UeContextReleaseComplete(m) => {
                self.drop_ue(m.ids.amf);
                AmfNodeEvent::ReleaseCompleted { amf_ue: m.ids.amf }
            }
            NgapMessage::NasNonDeliveryIndication(m) => AmfNodeEvent::NasNotDelivered {
                amf_ue: m.ids.amf,
                nas_pdu: m.nas_pdu,
            },
            NgapMessage::ErrorIndication(m) => AmfNodeEvent::ErrorIndication(m),
            NgapMessage::NgResetAcknowledge(_) => AmfNodeEvent::ResetAcknowledged,
            NgapMessage::AmfConfigurationUpdateAcknowledge(_) => {
                AmfNodeEvent::ConfigurationUpdateAcknowledged
            }
            other => AmfNodeEvent::Refused {
                reason: format!("not taken by an AMF: {other:?}"),
            },
        };
        self.events.push_back(event);
    }

    fn on_release_request(&mut self, amf_ue: AmfUeNgapId, cause: Cause, now: Instant) {
        self.events
            .push_back(AmfNodeEvent::ReleaseRequested { amf_ue, cause });
        if !self.config.faults.ignore_release_requests {
            self.release(amf_ue, cause, now);
        }
    }

    /// NG RESET from the N3IWF: every UE context goes, then the acknowledgement.
    fn on_reset(&mut self, now: Instant) {
        self.drop_all_ues();
        self.events.push_back(AmfNodeEvent::ResetByRan);
        let ack = NgResetAcknowledge {
            connections: Vec::new(),
            diagnostics: None,
        };
        self.send(0, ack, now);
    }

    fn on_setup(&mut self, request: NgSetupRequest, now: Instant) {
        self.events.push_back(AmfNodeEvent::SetupRequested(request));
        if self.setup_refusals < self.config.faults.ng_setup_refusals {
            self.setup_refusals += 1;
            let (cause, time_to_wait) = self
                .config
                .faults
                .ng_setup_failure
                .unwrap_or((Cause::Misc(n3iwf::ngap::MiscCause::UNSPECIFIED), None));
            let failure = NgSetupFailure {
                cause,
                time_to_wait,
                diagnostics: None,
            };
            self.events.push_back(AmfNodeEvent::SetupRefused);
            self.send(0, failure, now);
            return;
        }
        let response = NgSetupResponse {
            amf_name: self.config.name.clone(),
            served_guamis: self.served_guamis(),
            relative_amf_capacity: self.config.relative_capacity,
            plmn_support: self.plmn_support(),
            diagnostics: None,
        };
        self.send(0, response, now);
    }

    fn served_guamis(&self) -> Vec<ServedGuami> {
        let nas = &self.config.nas;
        let own = convert::guami(nas.plmn, nas.amf_id);
        std::iter::once(own)
            .chain(self.config.extra_guamis.iter().copied())
            .map(|guami| ServedGuami {
                guami,
                backup_amf_name: None,
            })
            .collect()
    }

    fn plmn_support(&self) -> Vec<PlmnSlices> {
        if !self.config.plmn_support.is_empty() {
            return self.config.plmn_support.clone();
        }
        let nas = &self.config.nas;
        vec![PlmnSlices {
            plmn: convert::plmn(nas.plmn),
            slices: convert::slices(&nas.allowed_nssai),
        }]
    }

    fn on_initial_ue(&mut self, stream: u16, message: n3iwf::ngap::InitialUeMessage, now: Instant) {
        let nas = message.nas_pdu.clone();
        let amf_ue = self.new_ue(message.ran_ue_ngap_id, stream);
        self.events.push_back(AmfNodeEvent::InitialUe {
            amf_ue,
            stream,
            message,
        });
        self.uplink(amf_ue, &nas, now);
    }

    /// An uplink NAS PDU of a UE: its NAS side's events become NGAP.
    fn uplink(&mut self, amf_ue: AmfUeNgapId, nas: &[u8], now: Instant) {
        let Some(ue) = self.ues.get_mut(&amf_ue) else {
            return;
        };
        for event in ue.nas.handle_uplink(&mut self.db, nas) {
            self.on_nas_event(amf_ue, event, now);
        }
    }

    fn on_nas_event(&mut self, amf_ue: AmfUeNgapId, event: AmfEvent, now: Instant) {
        let release = |cause| Cause::Nas(cause);
        match event {
            AmfEvent::Downlink(pdu) => self.downlink(amf_ue, pdu, now, true),
            AmfEvent::ContextReady(context) => context_setup(self, amf_ue, *context, now),
            AmfEvent::Registered { .. } => {
                self.events.push_back(AmfNodeEvent::Registered { amf_ue });
            }
            AmfEvent::RegistrationRejected(cause) => {
                let event = AmfNodeEvent::RegistrationRejected { amf_ue, cause };
                self.events.push_back(event);
                self.release_after_reject(amf_ue, release(NasCause::UNSPECIFIED), now);
            }
            AmfEvent::AuthenticationRejected => {
                self.events
                    .push_back(AmfNodeEvent::AuthenticationRejected { amf_ue });
                self.release_after_reject(amf_ue, release(NasCause::AUTHENTICATION_FAILURE), now);
            }
            AmfEvent::Failed(_) => {
                self.release_after_reject(amf_ue, release(NasCause::UNSPECIFIED), now)
            }
            AmfEvent::Deregistered { .. } => {
                self.release(amf_ue, release(NasCause::DEREGISTER), self.answer_time(now))
            }
            AmfEvent::UplinkTransport(transport) => {
                self.on_uplink_transport(amf_ue, transport, now);
            }
            AmfEvent::Dropped(_) => self.events.push_back(AmfNodeEvent::NasDropped { amf_ue }),
        }
    }

    fn release_after_reject(&mut self, amf_ue: AmfUeNgapId, cause: Cause, now: Instant) {
        if !self.config.faults.keep_context_after_reject {
            self.release(amf_ue, cause, self.answer_time(now));
        }
    }

    /// DOWNLINK NAS TRANSPORT; `answer` marks an answer to the UE (delayed, counted for silence).
    pub(super) fn downlink(
        &mut self,
        amf_ue: AmfUeNgapId,
        nas: Vec<u8>,
        now: Instant,
        answer: bool,
    ) {
        if answer && !self.may_answer() {
            return;
        }
        let wrong = self.config.faults.wrong_amf_ue_ngap_id;
        let Some(ue) = self.ues.get_mut(&amf_ue) else {
            return;
        };
        ue.downlinks += 1;
        let named = if wrong && ue.downlinks > 1 {
            AmfUeNgapId::new(amf_ue.value() ^ 0x00ff_0000).unwrap_or(amf_ue)
        } else {
            amf_ue
        };
        let message = DownlinkNasTransport {
            ids: UeNgapIds {
                amf: named,
                ran: ue.ran,
            },
            nas_pdu: nas,
            allowed_nssai: None,
        };
        let stream = ue.stream;
        let at = if answer { self.answer_time(now) } else { now };
        self.send_with_faults(stream, message.into(), at, false);
    }

    fn on_setup_response(&mut self, m: n3iwf::ngap::InitialContextSetupResponse, now: Instant) {
        let amf_ue = m.ids.amf;
        self.events.push_back(AmfNodeEvent::ContextSetupDone {
            amf_ue,
            failed_sessions: m.failed.len(),
        });
        let accept = self
            .ues
            .get_mut(&amf_ue)
            .and_then(|ue| ue.pending_accept.take());
        if let Some(accept) = accept {
            self.downlink(amf_ue, accept, now, false);
        }
    }

    /// Sends with the unknown-IE fault applied where configured.
    fn send_with_faults(
        &mut self,
        stream: u16,
        message: NgapMessage,
        at: Instant,
        context_setup: bool,
    ) {
        let Ok(octets) = message.encode() else {
            return;
        };
        let octets = match self.config.faults.unknown_ie {
            Some(unknown)
                if (context_setup && unknown.in_context_setup)
                    || (!context_setup && unknown.in_downlink_nas) =>
            {
                with_unknown_ie(&octets, unknown.criticality).unwrap_or(octets)
            }
            _ => octets,
        };
        self.queue(stream, octets, at);
    }

    /// Whether the AMF still answers UEs (the silence fault).
    fn may_answer(&mut self) -> bool {
        if self
            .config
            .faults
            .answers_before_silence
            .is_some_and(|limit| self.answers >= limit)
        {
            return false;
        }
        self.answers += 1;
        true
    }

    pub(super) fn answer_time(&self, now: Instant) -> Instant {
        now + self.config.faults.answer_delay
    }
}

/// INITIAL CONTEXT SETUP REQUEST with KN3IWF; REGISTRATION ACCEPT inside it or kept for after
/// the response.
pub(super) fn context_setup(
    node: &mut AmfNode,
    amf_ue: AmfUeNgapId,
    context: InitialContext,
    now: Instant,
) {
    if !node.may_answer() {
        return;
    }
    let nas = &node.config.nas;
    let guami = convert::guami(nas.plmn, nas.amf_id);
    let mode = node.config.accept_mode;
    let Some(ue) = node.ues.get_mut(&amf_ue) else {
        return;
    };
    let InitialContext {
        kn3iwf,
        ue_security_capability,
        allowed_nssai,
        registration_accept,
        ..
    } = context;
    let nas_pdu = match mode {
        AcceptMode::InContextSetup => Some(registration_accept),
        AcceptMode::AfterContextSetup => {
            ue.pending_accept = Some(registration_accept);
            None
        }
    };
    let request = InitialContextSetupRequest {
        ids: UeNgapIds {
            amf: amf_ue,
            ran: ue.ran,
        },
        ue_ambr: None,
        guami,
        pdu_sessions: Vec::new(),
        allowed_nssai: convert::slices(&allowed_nssai),
        security_capabilities: convert::security_capabilities(&ue_security_capability),
        security_key: convert::security_key(&kn3iwf),
        nas_pdu,
    };
    let stream = ue.stream;
    node.events
        .push_back(AmfNodeEvent::ContextSetupRequested { amf_ue });
    let at = node.answer_time(now);
    node.send_with_faults(stream, request.into(), at, true);
}
