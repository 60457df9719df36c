//! The per-UE state machine: one type per state, each consumed by its transitions, which return
//! the next state or the end of the context ([`Step`]).
//!
//! ```text
//!   EAP started ──► AwaitRegistration ──(first 5G-NAS: AMF selected, INITIAL UE MESSAGE)──► Relay
//!   Relay: AwaitFirstAnswer ─DL NAS─► AwaitUe ─5G-NAS─► Held ─DL NAS─► AwaitUe ...
//!          (the held IKE_AUTH request waits for the AMF; AwaitUe waits for the UE)
//!   Relay ──(INITIAL CONTEXT SETUP REQUEST: KN3IWF, inner address, EAP-Success)──► AwaitSignalling
//!   AwaitSignalling ──(signalling SA up: INITIAL CONTEXT SETUP RESPONSE)──► Established
//!   Established: NAS over TCP (DL queued until the connection is up)
//!   any state with an NGAP context ──(IKE SA gone, guard timer, 5G-Stop)──► Releasing
//!       (UE CONTEXT RELEASE REQUEST out; waiting for the COMMAND)
//!   Relay waiting for the UE, when the NGAP context ends ──► Closing (EAP-Failure to the next
//!       EAP response)
//! ```
//!
//! What a state holds is what it can use: no inner address before the AMF gave KN3IWF, no AMF UE
//! NGAP ID before the AMF's first answer, no TCP connection before registration, and KN3IWF only
//! until EAP-Success hands it to the engine.

mod downlink;
mod eap;
mod lifecycle;
mod nas_tcp;
mod sessions;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::ngap::{AmfUeNgapId, PduSessionSetupItem, RanUeNgapId, SecurityKey, UeNgapIds};
use crate::node::{AmfRef, EndCause, IkeSaRef, NasConnId, StreamId, UeId};
use crate::wire::eap5g::EapIdentifier;
use crate::wire::nas_envelope::NasEnvelopeReader;

pub(crate) use downlink::ContextSetupFailure;
pub(crate) use nas_tcp::DlQueue;
pub(crate) use sessions::{ProcedureKind, Sessions};

/// A UE context.
pub(crate) struct Ue {
    pub(crate) common: UeCommon,
    pub(crate) state: UeState,
}

/// What every state of a UE shares: its names in the core's indexes, its outer address and the
/// times of its phases.
pub(crate) struct UeCommon {
    pub(crate) id: UeId,
    /// The UE's IKE SA, kept for listings and events after the index forgets it.
    pub(crate) ike_sa: IkeSaRef,
    /// The UE's IKE address and port as the N3IWF sees them (after any NAT).
    pub(crate) outer: SocketAddr,
    /// The references the node indexes the UE by; the node keeps its indexes and allocations in
    /// step with these after every transition.
    pub(crate) keys: UeKeys,
    pub(crate) timings: Timings,
    /// INITIAL CONTEXT SETUP RESPONSE went out.
    pub(crate) registered: bool,
    /// The PDU sessions; only a registered UE ([`Established`]) has any.
    pub(crate) sessions: Sessions,
    next_eap_id: u8,
}

/// The references of a UE in the node's indexes and allocators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct UeKeys {
    pub(crate) sa: Option<IkeSaRef>,
    pub(crate) ran: Option<RanUeNgapId>,
    pub(crate) amf: Option<AmfRef>,
    pub(crate) amf_ue: Option<AmfUeNgapId>,
    pub(crate) inner: Option<Ipv4Addr>,
    pub(crate) conn: Option<NasConnId>,
}

/// When each phase of the registration happened.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timings {
    pub(crate) eap_started: Instant,
    /// Time IKE_AUTH requests were held waiting for the AMF, summed.
    pub(crate) amf_time: Duration,
    pub(crate) kn3iwf: Option<Instant>,
    pub(crate) signalling_up: Option<Instant>,
    pub(crate) nas_tcp_ready: Option<Instant>,
}

/// The states; see the module documentation.
pub(crate) enum UeState {
    AwaitRegistration(AwaitRegistration),
    Relay(Relay),
    AwaitSignalling(AwaitSignalling),
    Established(Established),
    Releasing(Releasing),
    Closing(Closing),
}

/// What a transition leads to.
pub(crate) enum Step {
    Next(UeState),
    End(EndCause),
}

/// EAP-Request/5G-Start is out; the UE's first EAP-Response/5G-NAS brings the AN parameters and
/// the REGISTRATION REQUEST.
pub(crate) struct AwaitRegistration {
    pub(crate) sa: IkeSaRef,
    pub(crate) request: EapIdentifier,
    pub(crate) deadline: Instant,
}

/// The UE has an NGAP context; NAS travels in EAP-5G.
pub(crate) struct Relay {
    pub(crate) link: RelayLink,
    pub(crate) phase: RelayPhase,
}

/// The names of a relaying UE that do not change while it relays.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RelayLink {
    pub(crate) sa: IkeSaRef,
    pub(crate) amf: AmfRef,
    pub(crate) stream: StreamId,
    pub(crate) ran: RanUeNgapId,
}

/// Who the relay waits for.
pub(crate) enum RelayPhase {
    /// INITIAL UE MESSAGE is out and the IKE_AUTH request held; the AMF's first answer names
    /// the UE's AMF UE NGAP ID.
    AwaitFirstAnswer(Held),
    /// An IKE_AUTH request is held for the AMF's answer.
    Held(Held, AmfUeNgapId),
    /// An EAP Request is out; the UE's next IKE_AUTH request brings the response.
    AwaitUe(AwaitUe),
}

/// An IKE_AUTH request held for the AMF.
pub(crate) struct Held {
    /// The Identifier of the EAP response it carried: a retransmission of it is a duplicate.
    pub(crate) response: EapIdentifier,
    pub(crate) since: Instant,
    pub(crate) deadline: Instant,
}

/// An EAP Request out to the UE, and what the AMF sent meanwhile.
pub(crate) struct AwaitUe {
    pub(crate) amf_ue: AmfUeNgapId,
    pub(crate) request: EapIdentifier,
    /// The Identifier of the response taken last: a retransmission of it is a duplicate.
    pub(crate) previous: Option<EapIdentifier>,
    /// Downlink NAS that arrived while the UE holds the turn (bounded).
    pub(crate) queued: DlQueue,
    /// INITIAL CONTEXT SETUP REQUEST that arrived while the UE holds the turn.
    pub(crate) context: Option<Box<ContextSetup>>,
    pub(crate) deadline: Instant,
}

/// What INITIAL CONTEXT SETUP REQUEST gave, until EAP-Success can carry the key.
pub(crate) struct ContextSetup {
    pub(crate) key: SecurityKey,
    pub(crate) inner: Ipv4Addr,
    /// A NAS PDU inside the request (some AMFs send REGISTRATION ACCEPT there).
    pub(crate) nas_pdu: Option<Vec<u8>>,
    /// PDU sessions the request asked for, set up once the signalling SA is.
    pub(crate) sessions: Vec<PduSessionSetupItem>,
}

/// The NGAP names of a UE whose AMF UE NGAP ID is known.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NgIds {
    pub(crate) amf: AmfRef,
    pub(crate) stream: StreamId,
    pub(crate) ids: UeNgapIds,
}

/// EAP-Success is out with KN3IWF; the final IKE_AUTH sets up the signalling SA.
pub(crate) struct AwaitSignalling {
    pub(crate) sa: IkeSaRef,
    pub(crate) ng: NgIds,
    pub(crate) inner: Ipv4Addr,
    /// Downlink NAS for after the TCP connection, starting with any NAS PDU of the context
    /// setup.
    pub(crate) dl: DlQueue,
    pub(crate) sessions: Vec<PduSessionSetupItem>,
    pub(crate) deadline: Instant,
}

/// The signalling SA is up: NAS over TCP.
pub(crate) struct Established {
    pub(crate) sa: IkeSaRef,
    pub(crate) ng: NgIds,
    pub(crate) nas: NasLink,
}

/// The NAS TCP connection of a registered UE.
pub(crate) enum NasLink {
    /// No connection: downlink NAS waits.
    Waiting(DlQueue),
    Connected {
        conn: NasConnId,
        reader: NasEnvelopeReader,
    },
}

/// UE CONTEXT RELEASE REQUEST is out; the IKE SA is gone or going.
pub(crate) struct Releasing {
    pub(crate) ng: NgIds,
    /// Why the release started.
    pub(crate) cause: EndCause,
    pub(crate) deadline: Instant,
}

/// The NGAP context is gone while an EAP Request is out: the UE's next response gets
/// EAP-Failure.
pub(crate) struct Closing {
    pub(crate) sa: IkeSaRef,
    pub(crate) request: EapIdentifier,
    pub(crate) previous: Option<EapIdentifier>,
    pub(crate) cause: EndCause,
    pub(crate) deadline: Instant,
}

impl UeCommon {
    /// A UE whose EAP-5G starts now.
    pub(crate) fn new(id: UeId, sa: IkeSaRef, outer: SocketAddr, now: Instant) -> Self {
        Self {
            id,
            ike_sa: sa,
            outer,
            keys: UeKeys {
                sa: Some(sa),
                ..UeKeys::default()
            },
            timings: Timings {
                eap_started: now,
                amf_time: Duration::ZERO,
                kn3iwf: None,
                signalling_up: None,
                nas_tcp_ready: None,
            },
            registered: false,
            sessions: Sessions::default(),
            // Identifiers only need to differ from the previous request's (RFC 3748 §4.1).
            next_eap_id: id.0 as u8,
        }
    }

    /// A fresh EAP Identifier: never the one of the previous request.
    pub(crate) fn next_eap_id(&mut self) -> EapIdentifier {
        self.next_eap_id = self.next_eap_id.wrapping_add(1);
        EapIdentifier(self.next_eap_id)
    }
}

impl Ue {
    /// Brings the index keys in line with what the state can hold: a releasing UE has no IKE
    /// SA, connection or inner address left; a closing one no NGAP context.
    pub(crate) fn settle_keys(&mut self) {
        let keys = &mut self.common.keys;
        match &self.state {
            UeState::Releasing(_) => {
                keys.sa = None;
                keys.conn = None;
                keys.inner = None;
            }
            UeState::Closing(_) => {
                keys.ran = None;
                keys.amf = None;
                keys.amf_ue = None;
                keys.inner = None;
                keys.conn = None;
            }
            UeState::Established(e) => {
                keys.conn = match e.nas {
                    NasLink::Connected { conn, .. } => Some(conn),
                    NasLink::Waiting(_) => None,
                };
            }
            UeState::AwaitRegistration(_) | UeState::Relay(_) | UeState::AwaitSignalling(_) => {}
        }
    }

    /// When the state gives up waiting; only [`Established`] waits for nothing.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match &self.state {
            UeState::AwaitRegistration(s) => Some(s.deadline),
            UeState::Relay(s) => Some(match &s.phase {
                RelayPhase::AwaitFirstAnswer(held) | RelayPhase::Held(held, _) => held.deadline,
                RelayPhase::AwaitUe(wait) => wait.deadline,
            }),
            UeState::AwaitSignalling(s) => Some(s.deadline),
            UeState::Established(_) => None,
            UeState::Releasing(s) => Some(s.deadline),
            UeState::Closing(s) => Some(s.deadline),
        }
    }

    /// The state's name, for listings.
    pub(crate) fn state_name(&self) -> &'static str {
        match &self.state {
            UeState::AwaitRegistration(_) => "eap-start",
            UeState::Relay(relay) => match relay.phase {
                RelayPhase::AwaitFirstAnswer(_) | RelayPhase::Held(..) => "eap-wait-amf",
                RelayPhase::AwaitUe(_) => "eap-wait-ue",
            },
            UeState::AwaitSignalling(_) => "wait-signalling-sa",
            UeState::Established(e) => match e.nas {
                NasLink::Waiting(_) => "registered-wait-nas-tcp",
                NasLink::Connected { .. } => "registered",
            },
            UeState::Releasing(_) => "releasing",
            UeState::Closing(_) => "closing",
        }
    }
}

impl Held {
    pub(crate) fn new(response: EapIdentifier, now: Instant, guard: Duration) -> Self {
        Self {
            response,
            since: now,
            deadline: now + guard,
        }
    }
}

impl Timings {
    /// Adds the time a request was held.
    pub(crate) fn held(&mut self, held: &Held, now: Instant) {
        self.amf_time += now.saturating_duration_since(held.since);
    }
}

/// The UE's User Location Information: its outer address and port.
pub(crate) fn location(common: &UeCommon) -> crate::ngap::N3iwfUserLocation {
    crate::ngap::N3iwfUserLocation {
        address: common.outer.ip().into(),
        port: common.outer.port(),
    }
}
