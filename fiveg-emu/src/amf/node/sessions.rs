//! PDU sessions on N2 (TS 38.413 §8.2.1, §8.2.2): the SMF's answers to a UE's 5GSM messages
//! become PDU SESSION RESOURCE SETUP and RELEASE COMMANDs with the 5GSM message inside, and
//! the N3IWF's RESPONSEs complete or drop the sessions.

use std::time::Instant;

use n3iwf::ids::PduSessionId;
use n3iwf::ngap::{
    AmfUeNgapId, PduSessionResourceReleaseCommand, PduSessionResourceReleaseResponse,
    PduSessionResourceSetupRequest, PduSessionResourceSetupResponse, PduSessionSetupItem,
    PduSessionTransfer, UeNgapIds,
};

use super::transfer::{release_command_transfer, setup_request_transfer, setup_response_tunnel};
use super::{AmfNode, AmfNodeEvent, convert};
use crate::amf::smf::{SessionKey, SessionSetup, SmfOutcome};
use crate::nas::NasTransport;
use crate::nas::sm::SmCause;

impl AmfNode {
    /// A UL NAS TRANSPORT of a registered UE: 5GSM messages go to the SMF, other payloads are
    /// reported.
    pub(super) fn on_uplink_transport(
        &mut self,
        amf_ue: AmfUeNgapId,
        transport: NasTransport,
        now: Instant,
    ) {
        match self.smf.handle_uplink(amf_ue.value(), &transport) {
            SmfOutcome::Setup(setup) => self.request_setup(amf_ue, &setup, now),
            SmfOutcome::Reply { id, n1 } => {
                let transport = NasTransport::n1_sm(id, n1);
                self.events
                    .push_back(AmfNodeEvent::PduSessionRefused { amf_ue, id });
                self.send_downlink_transport(amf_ue, transport, now);
            }
            SmfOutcome::Release { key, n1 } => self.command_release(key, n1, now),
            SmfOutcome::Released(key) => {
                self.events
                    .push_back(AmfNodeEvent::PduSessionReleased { amf_ue, id: key.id });
            }
            SmfOutcome::Ignored(_) => {
                let payload = transport.payload;
                self.events
                    .push_back(AmfNodeEvent::NasTransport { amf_ue, payload });
            }
        }
    }

    /// Network-requested release of an established session (the emulator's knob).
    pub fn release_pdu_session(
        &mut self,
        amf_ue: AmfUeNgapId,
        id: PduSessionId,
        now: Instant,
    ) -> bool {
        let key = SessionKey {
            ue: amf_ue.value(),
            id,
        };
        match self.smf.release(key, SmCause::REGULAR_DEACTIVATION) {
            SmfOutcome::Release { key, n1 } => {
                self.command_release(key, n1, now);
                true
            }
            _ => false,
        }
    }

    fn request_setup(&mut self, amf_ue: AmfUeNgapId, setup: &SessionSetup, now: Instant) {
        let (Some(ran), Ok(transfer)) = (self.ran_of(amf_ue), setup_request_transfer(setup)) else {
            self.smf.on_setup_failed(setup.key);
            return;
        };
        let Some(nas_pdu) = self.protected_sm(amf_ue, setup.key.id, setup.accept.clone()) else {
            self.smf.on_setup_failed(setup.key);
            return;
        };
        let snssai = convert::slices(&crate::nas::Nssai(vec![setup.snssai]));
        let request = PduSessionResourceSetupRequest {
            ids: UeNgapIds { amf: amf_ue, ran },
            nas_pdu: None,
            sessions: vec![PduSessionSetupItem {
                pdu_session_id: setup.key.id,
                nas_pdu: Some(nas_pdu),
                snssai: snssai[0],
                transfer,
            }],
            ue_ambr: None,
        };
        self.events
            .push_back(AmfNodeEvent::PduSessionSetupRequested {
                amf_ue,
                id: setup.key.id,
            });
        self.send_to_ue(amf_ue, request.into(), now);
    }

    fn command_release(&mut self, key: SessionKey, n1: Vec<u8>, now: Instant) {
        let Some(amf_ue) = AmfUeNgapId::new(key.ue) else {
            return;
        };
        let (Some(ran), Ok(transfer)) = (self.ran_of(amf_ue), release_command_transfer()) else {
            return;
        };
        let nas_pdu = self.protected_sm(amf_ue, key.id, n1);
        let command = PduSessionResourceReleaseCommand {
            ids: UeNgapIds { amf: amf_ue, ran },
            nas_pdu,
            sessions: vec![PduSessionTransfer {
                pdu_session_id: key.id,
                transfer,
            }],
        };
        self.events
            .push_back(AmfNodeEvent::PduSessionReleaseCommanded { amf_ue, id: key.id });
        self.send_to_ue(amf_ue, command.into(), now);
    }

    /// PDU SESSION RESOURCE SETUP RESPONSE: sessions set up become established (with the
    /// N3IWF's tunnel end), failed ones are dropped.
    pub(super) fn on_session_setup_response(&mut self, m: PduSessionResourceSetupResponse) {
        let amf_ue = m.ids.amf;
        for item in m.setup {
            let key = SessionKey {
                ue: amf_ue.value(),
                id: item.pdu_session_id,
            };
            let established = setup_response_tunnel(&item.transfer)
                .and_then(|(downlink, qfis)| self.smf.on_setup_done(key, downlink, qfis));
            let event = match established {
                Some(session) => AmfNodeEvent::PduSessionEstablished {
                    amf_ue,
                    supi: self.supi_of(amf_ue),
                    session,
                },
                None => {
                    self.smf.on_setup_failed(key);
                    AmfNodeEvent::PduSessionFailed { amf_ue, id: key.id }
                }
            };
            self.events.push_back(event);
        }
        for item in m.failed {
            let key = SessionKey {
                ue: amf_ue.value(),
                id: item.pdu_session_id,
            };
            self.smf.on_setup_failed(key);
            self.events
                .push_back(AmfNodeEvent::PduSessionFailed { amf_ue, id: key.id });
        }
    }

    pub(super) fn on_session_release_response(&mut self, m: PduSessionResourceReleaseResponse) {
        for item in m.released {
            self.events
                .push_back(AmfNodeEvent::PduSessionResourcesReleased {
                    amf_ue: m.ids.amf,
                    id: item.pdu_session_id,
                });
        }
    }

    /// A 5GSM message in a protected DL NAS TRANSPORT, as the NAS-PDU of an N2 message.
    fn protected_sm(
        &mut self,
        amf_ue: AmfUeNgapId,
        id: PduSessionId,
        n1: Vec<u8>,
    ) -> Option<Vec<u8>> {
        let ue = self.ues.get_mut(&amf_ue)?;
        ue.nas.downlink_transport(NasTransport::n1_sm(id, n1)).ok()
    }
}
