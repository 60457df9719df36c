//! The UE's PDU sessions (TS 24.501 §6.4.1, §6.4.3, §6.3.3): it asks for a session in a
//! UL NAS TRANSPORT, reads the ACCEPT (PDU address, QoS rules and their QFIs) or the REJECT,
//! asks for a release, and completes a release the network commands.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use n3iwf::ids::{PduSessionId, Qfi};

use super::{UeError, UeEvent, UeNas};
use crate::nas::sm::{
    Dnn, IntegrityProtectionMaxDataRate, PduSessionEstablishmentAccept,
    PduSessionEstablishmentRequest, PduSessionType, Pti, RequestType, SessionAmbr, SmCause,
    SmMessage, SmOptionalCause, SmPdu, SscMode,
};
use crate::nas::{NasTransport, PayloadContainerType, SNssai};

/// What the UE asks for.
#[derive(Clone, Debug)]
pub struct PduSessionRequest {
    /// 1..=15.
    pub id: PduSessionId,
    pub snssai: SNssai,
    pub dnn: Dnn,
}

/// An established PDU session as the UE knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UePduSession {
    pub id: PduSessionId,
    pub address: Option<Ipv4Addr>,
    /// The QFIs of the authorized QoS rules, the default rule's first.
    pub qfis: Vec<Qfi>,
    pub ambr: SessionAmbr,
    pub snssai: Option<SNssai>,
    pub dnn: Option<Dnn>,
}

/// Where a session is.
#[derive(Clone, Debug)]
enum Slot {
    Requested(Pti),
    Established(UePduSession),
    Releasing(Pti),
}

/// The UE's sessions by ID; at most one per identity 1..=15, so the map is bounded.
#[derive(Default)]
pub(super) struct Sessions {
    slots: BTreeMap<PduSessionId, Slot>,
    /// Sessions being released, until the network answers.
    established: BTreeMap<PduSessionId, UePduSession>,
    next_pti: u8,
}

impl Sessions {
    /// PTIs 1..=254, in turn.
    fn next_pti(&mut self) -> Pti {
        self.next_pti = self.next_pti % 254 + 1;
        Pti(self.next_pti)
    }
}

/// Whether `id` names a PDU session (TS 24.007 §11.2.3.1b).
fn valid_id(id: PduSessionId) -> bool {
    (1..=15).contains(&id.0)
}

impl UeNas {
    /// A protected UL NAS TRANSPORT with PDU SESSION ESTABLISHMENT REQUEST (IPv4, SSC mode 1,
    /// no user-plane integrity protection: NWu has IPsec).
    ///
    /// # Errors
    ///
    /// [`UeError::NotRegistered`] without a context; [`UeError::SessionInUse`] for an ID
    /// outside 1..=15 or one already requested or established.
    pub fn request_pdu_session(&mut self, request: &PduSessionRequest) -> Result<Vec<u8>, UeError> {
        if !valid_id(request.id) || self.sessions.slots.contains_key(&request.id) {
            return Err(UeError::SessionInUse(request.id.0));
        }
        let pti = self.sessions.next_pti();
        let message = SmMessage::PduSessionEstablishmentRequest(PduSessionEstablishmentRequest {
            integrity_max_rate: IntegrityProtectionMaxDataRate {
                uplink: IntegrityProtectionMaxDataRate::FULL,
                downlink: IntegrityProtectionMaxDataRate::FULL,
            },
            pdu_session_type: Some(PduSessionType::IPV4),
            ssc_mode: Some(SscMode::MODE_1),
            other_ies: Vec::new(),
        });
        let mut transport = sm_transport(request.id, pti, message)?;
        transport.request_type = Some(RequestType::INITIAL_REQUEST);
        transport.snssai = Some(request.snssai);
        transport.dnn = Some(request.dnn.clone());
        let pdu = self.uplink_transport(transport)?;
        self.sessions.slots.insert(request.id, Slot::Requested(pti));
        Ok(pdu)
    }

    /// A protected UL NAS TRANSPORT with PDU SESSION RELEASE REQUEST for an established session.
    ///
    /// # Errors
    ///
    /// [`UeError::NoSuchSession`] unless the session is established.
    pub fn release_pdu_session(&mut self, id: PduSessionId) -> Result<Vec<u8>, UeError> {
        let Some(Slot::Established(session)) = self.sessions.slots.get(&id).cloned() else {
            return Err(UeError::NoSuchSession(id.0));
        };
        let pti = self.sessions.next_pti();
        let message = SmMessage::PduSessionReleaseRequest(SmOptionalCause {
            cause: Some(SmCause::REGULAR_DEACTIVATION),
            other_ies: Vec::new(),
        });
        let mut transport = sm_transport(id, pti, message)?;
        transport.request_type = Some(RequestType::EXISTING_PDU_SESSION);
        let pdu = self.uplink_transport(transport)?;
        self.sessions.slots.insert(id, Slot::Releasing(pti));
        self.sessions.established.insert(id, session);
        Ok(pdu)
    }

    /// An established session.
    pub fn pdu_session(&self, id: PduSessionId) -> Option<&UePduSession> {
        match self.sessions.slots.get(&id) {
            Some(Slot::Established(session)) => Some(session),
            _ => None,
        }
    }

    /// A DL NAS TRANSPORT: 5GSM messages of this UE's sessions are handled here, anything else
    /// (other payloads, octets that are no 5GSM message of this subset) is reported as it came.
    pub(super) fn on_downlink_transport(&mut self, transport: NasTransport) -> Vec<UeEvent> {
        let decoded = (transport.payload_type == PayloadContainerType::N1_SM)
            .then(|| SmPdu::decode(&transport.payload).ok())
            .flatten();
        let Some(pdu) = decoded else {
            return vec![UeEvent::DownlinkTransport(transport)];
        };
        if transport.pdu_session_id != Some(pdu.pdu_session_id.0) {
            return vec![UeEvent::Dropped("5GSM message for another PDU session ID")];
        }
        self.on_sm(pdu)
    }

    fn on_sm(&mut self, pdu: SmPdu) -> Vec<UeEvent> {
        let id = pdu.pdu_session_id;
        let slot = self.sessions.slots.get(&id).cloned();
        match (slot, pdu.message) {
            (Some(Slot::Requested(pti)), SmMessage::PduSessionEstablishmentAccept(accept))
                if pti == pdu.pti =>
            {
                self.on_accept(id, *accept)
            }
            (Some(Slot::Requested(pti)), SmMessage::PduSessionEstablishmentReject(reject))
                if pti == pdu.pti =>
            {
                self.sessions.slots.remove(&id);
                vec![UeEvent::PduSessionRejected {
                    id,
                    cause: reject.cause,
                }]
            }
            (
                Some(Slot::Established(_) | Slot::Releasing(_)),
                SmMessage::PduSessionReleaseCommand(command),
            ) => self.on_release_command(id, pdu.pti, command.cause),
            (Some(Slot::Releasing(pti)), SmMessage::PduSessionReleaseReject(reject))
                if pti == pdu.pti =>
            {
                self.on_release_reject(id, reject.cause)
            }
            _ => vec![UeEvent::Dropped("5GSM message outside a procedure")],
        }
    }

    fn on_accept(
        &mut self,
        id: PduSessionId,
        accept: PduSessionEstablishmentAccept,
    ) -> Vec<UeEvent> {
        let mut rules: Vec<_> = accept
            .qos_rules
            .iter()
            .filter(|r| r.qfi.is_some())
            .collect();
        rules.sort_by_key(|rule| !rule.default);
        let mut qfis: Vec<Qfi> = Vec::new();
        for qfi in rules.iter().filter_map(|rule| rule.qfi) {
            if !qfis.contains(&qfi) {
                qfis.push(qfi);
            }
        }
        let address = accept.pdu_address.and_then(|a| a.ipv4());
        if address.is_none() || qfis.is_empty() {
            self.sessions.slots.remove(&id);
            return vec![UeEvent::Dropped("ACCEPT without an IPv4 address or a QFI")];
        }
        let session = UePduSession {
            id,
            address,
            qfis,
            ambr: accept.session_ambr,
            snssai: accept.snssai,
            dnn: accept.dnn,
        };
        self.sessions
            .slots
            .insert(id, Slot::Established(session.clone()));
        vec![UeEvent::PduSessionEstablished(session)]
    }

    /// RELEASE REJECT: the session stays as it was.
    fn on_release_reject(&mut self, id: PduSessionId, cause: SmCause) -> Vec<UeEvent> {
        if let Some(session) = self.sessions.established.remove(&id) {
            self.sessions.slots.insert(id, Slot::Established(session));
        }
        vec![UeEvent::PduSessionReleaseRefused { id, cause }]
    }

    /// RELEASE COMMAND: the session goes and RELEASE COMPLETE answers with the command's PTI.
    fn on_release_command(&mut self, id: PduSessionId, pti: Pti, cause: SmCause) -> Vec<UeEvent> {
        self.sessions.slots.remove(&id);
        self.sessions.established.remove(&id);
        let complete = SmMessage::PduSessionReleaseComplete(SmOptionalCause::default());
        let pdu = sm_transport(id, pti, complete).and_then(|t| self.uplink_transport(t));
        match pdu {
            Ok(pdu) => vec![
                UeEvent::Uplink(pdu),
                UeEvent::PduSessionReleased { id, cause },
            ],
            Err(_) => vec![UeEvent::PduSessionReleased { id, cause }],
        }
    }
}

/// A UL NAS TRANSPORT carrying one 5GSM message.
fn sm_transport(id: PduSessionId, pti: Pti, message: SmMessage) -> Result<NasTransport, UeError> {
    let pdu = SmPdu {
        pdu_session_id: id,
        pti,
        message,
    };
    Ok(NasTransport::n1_sm(id, pdu.encode()?))
}
