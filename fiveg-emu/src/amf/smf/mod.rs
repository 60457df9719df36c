//! `Smf`: the session management part of the emulated core, sans-IO and shared by the UEs of an
//! AMF. It takes the 5GSM messages of UL NAS TRANSPORTs and gives back what the AMF sends:
//! an ACCEPT with the N2 values of a PDU SESSION RESOURCE SETUP REQUEST, a REJECT, or a
//! RELEASE COMMAND (TS 23.502 §4.3.2.2.1, §4.3.4.2 reduced to one SMF with a UPF emulator).
//!
//! Bounds: UE addresses come from one prefix, UL TEIDs and sessions from `max_sessions`;
//! reaching either refuses the session with #26 insufficient resources.

mod accept;
mod config;
mod pool;
mod teid;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use n3iwf::ids::{PduSessionId, Qfi};

pub use config::{FlowConfig, SecondFlow, SmfConfig};
pub use pool::{AddressPool, Ipv4Prefix};
pub use teid::{Teid, TeidAllocator};

use crate::nas::sm::{
    PduSessionEstablishmentRequest, PduSessionType, Pti, RequestType, SmCause, SmMessage, SmPdu,
};
use crate::nas::{NasTransport, PayloadContainerType, SNssai};

/// A PDU session of a UE: the UE as its driver names it (the AMF UE NGAP ID) and the ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey {
    pub ue: u64,
    pub id: PduSessionId,
}

/// One end of a GTP-U tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelEnd {
    pub address: IpAddr,
    pub teid: Teid,
}

/// What the N2 side needs to ask the N3IWF for a session's resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSetup {
    pub key: SessionKey,
    pub snssai: SNssai,
    pub ue_address: Ipv4Addr,
    /// The UPF's N3 address and the UL TEID.
    pub uplink: TunnelEnd,
    pub flows: Vec<FlowConfig>,
    /// Session-AMBR in bits per second (downlink, uplink).
    pub ambr_bps: (u64, u64),
    /// The 5GSM ACCEPT, for the UE in the setup request's NAS-PDU.
    pub accept: Vec<u8>,
}

/// A session whose both tunnel ends are known: what the UPF needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EstablishedSession {
    pub key: SessionKey,
    pub ue_address: Ipv4Addr,
    pub uplink: TunnelEnd,
    /// The N3IWF's N3 address and the DL TEID.
    pub downlink: TunnelEnd,
    pub qfis: Vec<Qfi>,
}

/// What the SMF answers to a 5GSM message.
#[derive(Debug, PartialEq, Eq)]
pub enum SmfOutcome {
    /// Resources allocated: send PDU SESSION RESOURCE SETUP REQUEST with the ACCEPT.
    Setup(Box<SessionSetup>),
    /// A 5GSM message for the UE alone (REJECT), in a DL NAS TRANSPORT.
    Reply { id: PduSessionId, n1: Vec<u8> },
    /// Send PDU SESSION RESOURCE RELEASE COMMAND with this RELEASE COMMAND.
    Release { key: SessionKey, n1: Vec<u8> },
    /// RELEASE COMPLETE: the session and its address and TEID are gone.
    Released(SessionKey),
    /// Nothing to send; why.
    Ignored(&'static str),
}

/// Where a session is.
#[derive(Debug)]
enum Phase {
    /// SETUP REQUEST sent.
    Requested,
    Active(TunnelEnd, Vec<Qfi>),
    /// RELEASE COMMAND sent.
    Releasing,
}

#[derive(Debug)]
struct Session {
    address: Ipv4Addr,
    ul_teid: Teid,
    phase: Phase,
}

/// The emulated SMF.
pub struct Smf {
    config: SmfConfig,
    pool: AddressPool,
    teids: TeidAllocator,
    sessions: HashMap<SessionKey, Session>,
}

impl Smf {
    pub fn new(config: SmfConfig) -> Self {
        Self {
            pool: AddressPool::new(config.pool),
            teids: TeidAllocator::new(config.first_teid, config.max_sessions),
            sessions: HashMap::new(),
            config,
        }
    }

    pub fn config(&self) -> &SmfConfig {
        &self.config
    }

    /// The 5GSM message of a UL NAS TRANSPORT from registered UE `ue`.
    pub fn handle_uplink(&mut self, ue: u64, transport: &NasTransport) -> SmfOutcome {
        if transport.payload_type != PayloadContainerType::N1_SM {
            return SmfOutcome::Ignored("not N1 SM information");
        }
        let Ok(pdu) = SmPdu::decode(&transport.payload) else {
            return SmfOutcome::Ignored("undecodable 5GSM message");
        };
        if transport.pdu_session_id != Some(pdu.pdu_session_id.0) {
            return SmfOutcome::Ignored("PDU session ID of the transport and the message differ");
        }
        let key = SessionKey {
            ue,
            id: pdu.pdu_session_id,
        };
        match pdu.message {
            SmMessage::PduSessionEstablishmentRequest(request) => {
                self.on_establishment(key, pdu.pti, transport, &request)
            }
            SmMessage::PduSessionReleaseRequest(_) => self.on_release_request(key, pdu.pti),
            SmMessage::PduSessionReleaseComplete(_) => self.on_release_complete(key),
            _ => SmfOutcome::Ignored("5GSM message an SMF does not take"),
        }
    }

    fn on_establishment(
        &mut self,
        key: SessionKey,
        pti: Pti,
        transport: &NasTransport,
        request: &PduSessionEstablishmentRequest,
    ) -> SmfOutcome {
        match self.check_request(key, transport, request) {
            Ok(cause) => self.allocate(key, pti, transport, cause),
            Err(cause) => reply(key.id, accept::reject(key.id, pti, cause)),
        }
    }

    /// The cause of a refusal, or the cause an accept carries (#50 for IPv4v6 asked).
    fn check_request(
        &self,
        key: SessionKey,
        transport: &NasTransport,
        request: &PduSessionEstablishmentRequest,
    ) -> Result<Option<SmCause>, SmCause> {
        if let Some(cause) = self.config.refuse_with {
            return Err(cause);
        }
        let valid_id = (1..=15).contains(&key.id.0) && !self.sessions.contains_key(&key);
        let initial = transport
            .request_type
            .is_none_or(|kind| kind == RequestType::INITIAL_REQUEST);
        if !valid_id || !initial {
            return Err(SmCause::INVALID_PDU_SESSION_IDENTITY);
        }
        if transport
            .dnn
            .as_ref()
            .is_some_and(|dnn| *dnn != self.config.dnn)
        {
            return Err(SmCause::UNKNOWN_DNN);
        }
        match request.pdu_session_type {
            None | Some(PduSessionType::IPV4) => Ok(None),
            Some(PduSessionType::IPV4V6) => Ok(Some(SmCause::IPV4_ONLY_ALLOWED)),
            Some(PduSessionType::IPV6) => Err(SmCause::IPV4_ONLY_ALLOWED),
            Some(_) => Err(SmCause::UNKNOWN_PDU_SESSION_TYPE),
        }
    }

    fn allocate(
        &mut self,
        key: SessionKey,
        pti: Pti,
        transport: &NasTransport,
        cause: Option<SmCause>,
    ) -> SmfOutcome {
        let Some(ul_teid) = self.teids.allocate() else {
            return reply(
                key.id,
                accept::reject(key.id, pti, SmCause::INSUFFICIENT_RESOURCES),
            );
        };
        let Some(address) = self.pool.allocate() else {
            self.teids.free(ul_teid);
            return reply(
                key.id,
                accept::reject(key.id, pti, SmCause::INSUFFICIENT_RESOURCES),
            );
        };
        let snssai = transport.snssai.unwrap_or(self.config.default_snssai);
        let n1 = accept::accept(&self.config, key.id, pti, address, snssai, cause);
        let Ok(accept) = n1.encode() else {
            self.free(address, ul_teid);
            return SmfOutcome::Ignored("the ACCEPT did not encode");
        };
        let session = Session {
            address,
            ul_teid,
            phase: Phase::Requested,
        };
        self.sessions.insert(key, session);
        let ambr = self.config.session_ambr;
        SmfOutcome::Setup(Box::new(SessionSetup {
            key,
            snssai,
            ue_address: address,
            uplink: TunnelEnd {
                address: self.config.upf_n3,
                teid: ul_teid,
            },
            flows: self.config.flows(),
            ambr_bps: (
                ambr.downlink.bits_per_second().unwrap_or(0),
                ambr.uplink.bits_per_second().unwrap_or(0),
            ),
            accept,
        }))
    }

    fn on_release_request(&mut self, key: SessionKey, pti: Pti) -> SmfOutcome {
        match self.sessions.get_mut(&key) {
            Some(session) if matches!(session.phase, Phase::Active(..)) => {
                session.phase = Phase::Releasing;
                release(key, pti, SmCause::REGULAR_DEACTIVATION)
            }
            _ => SmfOutcome::Ignored("RELEASE REQUEST for no active session"),
        }
    }

    fn on_release_complete(&mut self, key: SessionKey) -> SmfOutcome {
        match self.sessions.get(&key) {
            Some(session) if matches!(session.phase, Phase::Releasing) => {
                self.drop_session(key);
                SmfOutcome::Released(key)
            }
            _ => SmfOutcome::Ignored("RELEASE COMPLETE for no session being released"),
        }
    }

    /// The N3IWF set the session up with its end of the tunnel: the session is established.
    /// `None` for a session not waiting for that.
    pub fn on_setup_done(
        &mut self,
        key: SessionKey,
        downlink: TunnelEnd,
        qfis: Vec<Qfi>,
    ) -> Option<EstablishedSession> {
        let session = self.sessions.get_mut(&key)?;
        if !matches!(session.phase, Phase::Requested) {
            return None;
        }
        session.phase = Phase::Active(downlink, qfis);
        self.established(key)
    }

    /// The N3IWF could not set the session up (or its answer was unusable): it is dropped.
    pub fn on_setup_failed(&mut self, key: SessionKey) -> bool {
        self.drop_session(key)
    }

    /// Network-requested release of an active session: RELEASE COMMAND with PTI 0.
    pub fn release(&mut self, key: SessionKey, cause: SmCause) -> SmfOutcome {
        match self.sessions.get_mut(&key) {
            Some(session) if matches!(session.phase, Phase::Active(..)) => {
                session.phase = Phase::Releasing;
                release(key, Pti::UNASSIGNED, cause)
            }
            _ => SmfOutcome::Ignored("no active session to release"),
        }
    }

    /// The UE's context is gone: so are its sessions. Returns their keys.
    pub fn ue_gone(&mut self, ue: u64) -> Vec<SessionKey> {
        let mut keys: Vec<_> = self
            .sessions
            .keys()
            .filter(|k| k.ue == ue)
            .copied()
            .collect();
        keys.sort();
        for key in &keys {
            self.drop_session(*key);
        }
        keys
    }

    /// An established session's tunnel ends and QFIs.
    pub fn established(&self, key: SessionKey) -> Option<EstablishedSession> {
        let session = self.sessions.get(&key)?;
        let Phase::Active(downlink, qfis) = &session.phase else {
            return None;
        };
        Some(EstablishedSession {
            key,
            ue_address: session.address,
            uplink: TunnelEnd {
                address: self.config.upf_n3,
                teid: session.ul_teid,
            },
            downlink: *downlink,
            qfis: qfis.clone(),
        })
    }

    /// Whether a session is established (setup done, not being released).
    pub fn is_active(&self, key: SessionKey) -> bool {
        self.sessions
            .get(&key)
            .is_some_and(|s| matches!(s.phase, Phase::Active(..)))
    }

    /// Sessions held, in any phase.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Addresses in use.
    pub fn addresses_in_use(&self) -> usize {
        self.pool.in_use()
    }

    fn drop_session(&mut self, key: SessionKey) -> bool {
        let Some(session) = self.sessions.remove(&key) else {
            return false;
        };
        self.free(session.address, session.ul_teid);
        true
    }

    fn free(&mut self, address: Ipv4Addr, teid: Teid) {
        self.pool.free(address);
        self.teids.free(teid);
    }
}

fn reply(id: PduSessionId, pdu: SmPdu) -> SmfOutcome {
    match pdu.encode() {
        Ok(n1) => SmfOutcome::Reply { id, n1 },
        Err(_) => SmfOutcome::Ignored("the answer did not encode"),
    }
}

fn release(key: SessionKey, pti: Pti, cause: SmCause) -> SmfOutcome {
    match accept::release_command(key.id, pti, cause).encode() {
        Ok(n1) => SmfOutcome::Release { key, n1 },
        Err(_) => SmfOutcome::Ignored("the RELEASE COMMAND did not encode"),
    }
}
