//! `AmfNode`: an emulated AMF on N2, sans-IO. It speaks NGAP through `n3iwf::ngap` and runs
//! one [`AmfNas`] per UE: NG Setup, INITIAL UE MESSAGE → 5G-AKA → security mode → INITIAL
//! CONTEXT SETUP with KN3IWF (REGISTRATION ACCEPT after the response, or inside the request),
//! REGISTRATION COMPLETE, UE context release both ways, NG Reset, error indications, and the
//! faults of [`NodeFaults`].
//!
//! Octets in with [`AmfNode::handle_ngap`], octets out with [`AmfNode::poll_transmit`] (which
//! holds delayed answers until their time), what happened with [`AmfNode::poll_event`].

mod convert;
mod faults;
mod handlers;
mod sessions;
mod transfer;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

use n3iwf::ids::{Guami, PduSessionId};
use n3iwf::ngap::{
    AmfConfigurationUpdate, AmfStatusIndication, AmfUeNgapId, Cause, ErrorIndication,
    InitialUeMessage, NgReset, NgSetupRequest, NgapMessage, PlmnSlices, RanUeNgapId, ResetScope,
    UeContextReleaseCommand, UeNgapIdentity, UeNgapIds,
};

pub use convert::{guami, plmn, security_capabilities, security_key, slices};
pub use faults::{NodeFaults, UNKNOWN_IE_ID, UnknownIe};
pub use transfer::{release_command_transfer, setup_request_transfer, setup_response_tunnel};

use super::smf::{EstablishedSession, Smf, SmfConfig};
use super::{AmfConfig, AmfNas, SubscriberDb};
use crate::identity::Supi;
use crate::nas::{GmmCause, NasTransport};

/// Where REGISTRATION ACCEPT goes (TS 23.502 §4.12.2.2 leaves the AMF both choices).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptMode {
    /// In DOWNLINK NAS TRANSPORT after INITIAL CONTEXT SETUP RESPONSE (free5GC's AMF).
    AfterContextSetup,
    /// In the NAS-PDU of INITIAL CONTEXT SETUP REQUEST.
    InContextSetup,
}

/// The emulated AMF's configuration.
#[derive(Clone, Debug)]
pub struct AmfNodeConfig {
    pub name: String,
    pub relative_capacity: u8,
    /// The NAS side of every UE (PLMN, AMF identifier, allowed NSSAI, NAS faults).
    pub nas: AmfConfig,
    /// PLMNs and slices of NG SETUP RESPONSE; empty: the NAS PLMN with the allowed NSSAI.
    pub plmn_support: Vec<PlmnSlices>,
    /// Served GUAMIs beyond the one of the NAS PLMN and AMF identifier.
    pub extra_guamis: Vec<Guami>,
    pub accept_mode: AcceptMode,
    pub faults: NodeFaults,
    /// Seeds each UE's random values (RAND, 5G-TMSI) with `seed + n`.
    pub seed: u64,
    /// The SMF behind the AMF: address pool, UPF, QoS flows.
    pub smf: SmfConfig,
}

/// What the emulated AMF saw or did, for the tests' assertions.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AmfNodeEvent {
    SetupRequested(NgSetupRequest),
    SetupRefused,
    InitialUe {
        amf_ue: AmfUeNgapId,
        stream: u16,
        message: InitialUeMessage,
    },
    /// An UPLINK NAS TRANSPORT of a UE.
    Uplink {
        amf_ue: AmfUeNgapId,
        stream: u16,
    },
    ContextSetupRequested {
        amf_ue: AmfUeNgapId,
    },
    ContextSetupDone {
        amf_ue: AmfUeNgapId,
        /// Sessions the N3IWF reported as not set up.
        failed_sessions: usize,
    },
    ContextSetupFailed {
        amf_ue: AmfUeNgapId,
        cause: Cause,
    },
    /// REGISTRATION COMPLETE.
    Registered {
        amf_ue: AmfUeNgapId,
    },
    RegistrationRejected {
        amf_ue: AmfUeNgapId,
        cause: GmmCause,
    },
    AuthenticationRejected {
        amf_ue: AmfUeNgapId,
    },
    ReleaseRequested {
        amf_ue: AmfUeNgapId,
        cause: Cause,
    },
    ReleaseCommanded {
        amf_ue: AmfUeNgapId,
    },
    ReleaseCompleted {
        amf_ue: AmfUeNgapId,
    },
    NasNotDelivered {
        amf_ue: AmfUeNgapId,
        nas_pdu: Vec<u8>,
    },
    ErrorIndication(ErrorIndication),
    ResetAcknowledged,
    /// The N3IWF reset the interface (NG RESET).
    ResetByRan,
    ConfigurationUpdateAcknowledged,
    /// A NAS PDU the AMF's NAS side dropped.
    NasDropped {
        amf_ue: AmfUeNgapId,
    },
    /// UL NAS TRANSPORT (5GMM) from a registered UE, with its payload container.
    NasTransport {
        amf_ue: AmfUeNgapId,
        payload: Vec<u8>,
    },
    /// PDU SESSION RESOURCE SETUP REQUEST sent with the ACCEPT inside.
    PduSessionSetupRequested {
        amf_ue: AmfUeNgapId,
        id: PduSessionId,
    },
    /// The N3IWF set the session up: both tunnel ends are known (a UPF rule's content).
    PduSessionEstablished {
        amf_ue: AmfUeNgapId,
        supi: Option<Supi>,
        session: EstablishedSession,
    },
    /// The N3IWF listed the session as failed, or its answer was unusable: it is dropped.
    PduSessionFailed {
        amf_ue: AmfUeNgapId,
        id: PduSessionId,
    },
    /// The SMF refused the UE's request (REJECT sent in DL NAS TRANSPORT).
    PduSessionRefused {
        amf_ue: AmfUeNgapId,
        id: PduSessionId,
    },
    /// PDU SESSION RESOURCE RELEASE COMMAND sent with the RELEASE COMMAND inside.
    PduSessionReleaseCommanded {
        amf_ue: AmfUeNgapId,
        id: PduSessionId,
    },
    /// PDU SESSION RESOURCE RELEASE RESPONSE: the N3IWF let the session's resources go.
    PduSessionResourcesReleased {
        amf_ue: AmfUeNgapId,
        id: PduSessionId,
    },
    /// The session is gone at the SMF (RELEASE COMPLETE, or the UE context went): its address
    /// and UL TEID are free, its UPF rule goes.
    PduSessionReleased {
        amf_ue: AmfUeNgapId,
        id: PduSessionId,
    },
    /// A PDU the AMF could not act on.
    Refused {
        reason: String,
    },
}

/// One UE's context at the AMF.
struct AmfUe {
    ran: RanUeNgapId,
    stream: u16,
    nas: AmfNas,
    /// REGISTRATION ACCEPT kept for after INITIAL CONTEXT SETUP RESPONSE.
    pending_accept: Option<Vec<u8>>,
    /// DOWNLINK NAS TRANSPORTs sent (for the wrong-ID fault).
    downlinks: usize,
}

/// An emulated AMF.
pub struct AmfNode {
    config: AmfNodeConfig,
    db: SubscriberDb,
    smf: Smf,
    ues: HashMap<AmfUeNgapId, AmfUe>,
    next_amf_ue: u64,
    /// Outgoing PDUs by due time, then order of sending.
    out: BTreeMap<(Instant, u64), (u16, Vec<u8>)>,
    sequence: u64,
    events: VecDeque<AmfNodeEvent>,
    answers: usize,
    setup_refusals: usize,
    /// UPLINK NAS TRANSPORTs received, for the no-duplicates assertions.
    pub uplinks_received: usize,
}

impl AmfNode {
    pub fn new(config: AmfNodeConfig, db: SubscriberDb) -> Self {
        Self {
            smf: Smf::new(config.smf.clone()),
            config,
            db,
            ues: HashMap::new(),
            next_amf_ue: 0x10_0000,
            out: BTreeMap::new(),
            sequence: 0,
            events: VecDeque::new(),
            answers: 0,
            setup_refusals: 0,
            uplinks_received: 0,
        }
    }

    /// The next PDU whose time has come: `(stream, octets)`.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<(u16, Vec<u8>)> {
        let (&key, _) = self
            .out
            .first_key_value()
            .filter(|((at, _), _)| *at <= now)?;
        self.out.remove(&key)
    }

    /// When the next delayed PDU is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.out.first_key_value().map(|((at, _), _)| *at)
    }

    pub fn poll_event(&mut self) -> Option<AmfNodeEvent> {
        self.events.pop_front()
    }

    /// The UE contexts the AMF holds, by AMF UE NGAP ID.
    pub fn ue_ids(&self) -> Vec<UeNgapIds> {
        let mut ids: Vec<_> = self
            .ues
            .iter()
            .map(|(amf, ue)| UeNgapIds {
                amf: *amf,
                ran: ue.ran,
            })
            .collect();
        ids.sort_by_key(|i| i.amf);
        ids
    }

    /// Whether REGISTRATION COMPLETE came from the UE.
    pub fn is_registered(&self, amf_ue: AmfUeNgapId) -> bool {
        self.ues
            .get(&amf_ue)
            .is_some_and(|ue| ue.nas.is_registered())
    }

    /// The SMF (tests look at its sessions and bounds).
    pub fn smf(&self) -> &Smf {
        &self.smf
    }

    /// The NAS side of a UE (tests build protected downlink messages with it).
    pub fn nas_mut(&mut self, amf_ue: AmfUeNgapId) -> Option<&mut AmfNas> {
        self.ues.get_mut(&amf_ue).map(|ue| &mut ue.nas)
    }

    /// Sends a protected DL NAS TRANSPORT (5GMM) to a registered UE.
    pub fn send_downlink_transport(
        &mut self,
        amf_ue: AmfUeNgapId,
        transport: NasTransport,
        now: Instant,
    ) -> bool {
        let Some(ue) = self.ues.get_mut(&amf_ue) else {
            return false;
        };
        let Ok(pdu) = ue.nas.downlink_transport(transport) else {
            return false;
        };
        self.downlink(amf_ue, pdu, now, false);
        true
    }

    /// AMF-initiated UE CONTEXT RELEASE COMMAND (both IDs).
    pub fn release(&mut self, amf_ue: AmfUeNgapId, cause: Cause, now: Instant) {
        let Some(ue) = self.ues.get(&amf_ue) else {
            return;
        };
        let command = UeContextReleaseCommand {
            ue: UeNgapIdentity::Pair(UeNgapIds {
                amf: amf_ue,
                ran: ue.ran,
            }),
            cause,
        };
        let stream = ue.stream;
        self.events
            .push_back(AmfNodeEvent::ReleaseCommanded { amf_ue });
        self.send(stream, command, now);
    }

    /// NG RESET from the AMF; the contexts it names are dropped.
    pub fn reset(&mut self, scope: ResetScope, cause: Cause, now: Instant) {
        match &scope {
            ResetScope::Interface => self.drop_all_ues(),
            ResetScope::Connections(list) => {
                for connection in list {
                    if let Some(amf_ue) = connection.amf_ue_ngap_id {
                        self.drop_ue(amf_ue);
                    }
                }
            }
        }
        self.send(0, NgReset { cause, scope }, now);
    }

    pub fn configuration_update(&mut self, update: AmfConfigurationUpdate, now: Instant) {
        self.send(0, update, now);
    }

    pub fn status_indication(&mut self, indication: AmfStatusIndication, now: Instant) {
        self.send(0, indication, now);
    }

    /// Sends any message, or raw octets, as the AMF.
    pub fn send_message(&mut self, stream: u16, message: impl Into<NgapMessage>, now: Instant) {
        self.send(stream, message, now);
    }

    pub fn send_raw(&mut self, stream: u16, octets: Vec<u8>, now: Instant) {
        self.queue(stream, octets, now);
    }

    /// The NGAP PDU of a message sent now.
    fn send(&mut self, stream: u16, message: impl Into<NgapMessage>, now: Instant) {
        match message.into().encode() {
            Ok(octets) => self.queue(stream, octets, now),
            Err(e) => self.events.push_back(AmfNodeEvent::Refused {
                reason: format!("own message did not encode: {e}"),
            }),
        }
    }

    fn queue(&mut self, stream: u16, octets: Vec<u8>, at: Instant) {
        self.sequence += 1;
        self.out.insert((at, self.sequence), (stream, octets));
    }

    /// A UE context goes, and with it its PDU sessions.
    fn drop_ue(&mut self, amf_ue: AmfUeNgapId) {
        self.ues.remove(&amf_ue);
        for key in self.smf.ue_gone(amf_ue.value()) {
            self.events
                .push_back(AmfNodeEvent::PduSessionReleased { amf_ue, id: key.id });
        }
    }

    fn drop_all_ues(&mut self) {
        let mut all: Vec<_> = self.ues.keys().copied().collect();
        all.sort();
        for amf_ue in all {
            self.drop_ue(amf_ue);
        }
    }

    fn ran_of(&self, amf_ue: AmfUeNgapId) -> Option<RanUeNgapId> {
        self.ues.get(&amf_ue).map(|ue| ue.ran)
    }

    fn supi_of(&self, amf_ue: AmfUeNgapId) -> Option<Supi> {
        let ue = self.ues.get(&amf_ue)?;
        ue.nas.registered_identity().map(|(supi, _)| supi.clone())
    }

    /// A UE-associated message on the UE's stream, with the answer delay.
    fn send_to_ue(&mut self, amf_ue: AmfUeNgapId, message: NgapMessage, now: Instant) {
        let Some(stream) = self.ues.get(&amf_ue).map(|ue| ue.stream) else {
            return;
        };
        let at = self.answer_time(now);
        self.send(stream, message, at);
    }

    /// Allocates the AMF UE NGAP ID of a new UE.
    fn new_ue(&mut self, ran: RanUeNgapId, stream: u16) -> AmfUeNgapId {
        let amf_ue = AmfUeNgapId::new(self.next_amf_ue).unwrap_or_else(|| unreachable!());
        let seed = self.config.seed.wrapping_add(self.next_amf_ue);
        self.next_amf_ue += 1;
        let ue = AmfUe {
            ran,
            stream,
            nas: AmfNas::new(self.config.nas.clone(), seed),
            pending_accept: None,
            downlinks: 0,
        };
        self.ues.insert(amf_ue, ue);
        amf_ue
    }
}
