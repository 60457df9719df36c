//! `AmfNas`: the NAS side of an emulated AMF (with AUSF and UDM reduced to functions) for one
//! UE, sans-IO. Bytes of uplink NAS PDUs in, [`AmfEvent`]s out: downlink PDUs, the KN3IWF of the
//! Initial Context Setup, the registration outcome. Timing, delays and NGAP are the driver's.
//!
//! Procedure: REGISTRATION REQUEST (SUCI, null scheme) → 5G-AKA (AUTHENTICATION REQUEST,
//! RESPONSE; resynchronisation on synch failure) → SECURITY MODE COMMAND (NIA2, NEA2 or NEA0,
//! retransmission of the initial message requested) → SECURITY MODE COMPLETE → KN3IWF with the
//! uplink COUNT of that message and REGISTRATION ACCEPT → REGISTRATION COMPLETE; then
//! DEREGISTRATION REQUEST and UL NAS TRANSPORT, whose 5GSM messages go to the [`smf::Smf`] the
//! AMF shares between its UEs.

mod events;
pub mod node;
mod procedures;
pub mod smf;
mod subscriber;

use rand::SeedableRng;
use rand::rngs::StdRng;

pub use events::{AmfEvent, DropReason, InitialContext};
pub use node::{AcceptMode, AmfNode, AmfNodeConfig, AmfNodeEvent, NodeFaults, UnknownIe};
pub use subscriber::{Subscriber, SubscriberDb};

use crate::aka::HomeVector;
use crate::identity::{AmfId, FiveGGuti, Plmn, ServingNetworkName, Supi};
use crate::nas::{
    GmmCause, GmmMessage, NasPdu, NasTransport, Ngksi, Nssai, RegistrationRequest,
    SecurityHeaderType,
};
use crate::security::{NasCount, NasSecurityContext, SecurityError};

/// How many synch failures the AMF answers with a new challenge before giving up.
pub const MAX_RESYNCHRONISATIONS: u8 = 2;

/// Deliberate misbehaviour for negative tests. Delays and losses are the driver's job.
#[derive(Clone, Debug, Default)]
pub struct AmfFaults {
    /// Answer every REGISTRATION REQUEST with a REGISTRATION REJECT with this cause.
    pub registration_reject: Option<GmmCause>,
    /// Flip a bit of the MAC of every protected downlink message.
    pub corrupt_downlink_mac: bool,
}

/// The AMF's configuration.
#[derive(Clone, Debug)]
pub struct AmfConfig {
    /// Serving PLMN (and PLMN of the GUTIs it assigns).
    pub plmn: Plmn,
    /// AMF identifier of the GUTIs it assigns.
    pub amf_id: AmfId,
    /// Allowed NSSAI sent in REGISTRATION ACCEPT.
    pub allowed_nssai: Nssai,
    /// Fault injection.
    pub faults: AmfFaults,
}

/// Where the AMF is in the procedure for its UE.
enum State {
    Idle,
    Authenticating(Box<Challenge>),
    SecurityMode(Box<Pending>),
    WaitingComplete { supi: Supi, guti: FiveGGuti },
    Registered { supi: Supi, guti: FiveGGuti },
    Finished,
}

/// An outstanding 5G-AKA challenge.
struct Challenge {
    supi: Supi,
    request: RegistrationRequest,
    vector: HomeVector,
    ngksi: Ngksi,
    resynchronisations: u8,
}

/// Authentication done; SECURITY MODE COMMAND sent.
struct Pending {
    supi: Supi,
    request: RegistrationRequest,
}

/// The NAS side of an AMF for one UE.
pub struct AmfNas {
    config: AmfConfig,
    snn: ServingNetworkName,
    rng: StdRng,
    state: State,
    security: Option<NasSecurityContext>,
    next_ksi: u8,
}

impl AmfNas {
    /// An AMF with a seeded random generator (RAND and 5G-TMSI), so runs are reproducible.
    pub fn new(config: AmfConfig, seed: u64) -> Self {
        let snn = ServingNetworkName::from_plmn(config.plmn);
        Self {
            config,
            snn,
            rng: StdRng::seed_from_u64(seed),
            state: State::Idle,
            security: None,
            next_ksi: 0,
        }
    }

    /// Handles one uplink NAS PDU.
    pub fn handle_uplink(&mut self, db: &mut SubscriberDb, pdu: &[u8]) -> Vec<AmfEvent> {
        match self.open(pdu) {
            Ok((message, count)) => self.dispatch(db, message, count),
            Err(reason) => vec![AmfEvent::Dropped(reason)],
        }
    }

    /// Protects a DL NAS TRANSPORT for a registered UE.
    ///
    /// # Errors
    ///
    /// [`SecurityError`] when there is no context or its COUNT is exhausted.
    pub fn downlink_transport(
        &mut self,
        transport: NasTransport,
    ) -> Result<Vec<u8>, SecurityError> {
        self.protect(
            &GmmMessage::DlNasTransport(transport),
            SecurityHeaderType::IntegrityProtectedAndCiphered,
        )
    }

    /// The security context, once SECURITY MODE COMMAND has been sent.
    pub fn security_context(&self) -> Option<&NasSecurityContext> {
        self.security.as_ref()
    }

    /// The security context, mutable (tests move COUNTs with it).
    pub fn security_context_mut(&mut self) -> Option<&mut NasSecurityContext> {
        self.security.as_mut()
    }

    /// The registered UE's SUPI and 5G-GUTI.
    pub fn registered_identity(&self) -> Option<(&Supi, FiveGGuti)> {
        match &self.state {
            State::Registered { supi, guti } => Some((supi, *guti)),
            _ => None,
        }
    }

    /// Whether REGISTRATION COMPLETE has been received and the UE has not de-registered.
    pub fn is_registered(&self) -> bool {
        matches!(self.state, State::Registered { .. })
    }

    /// Decodes, and checks when protected. Plain messages are refused once a context has been
    /// taken into use (after SECURITY MODE COMPLETE).
    fn open(&mut self, pdu: &[u8]) -> Result<(GmmMessage, Option<NasCount>), DropReason> {
        match NasPdu::decode(pdu).map_err(|_| DropReason::Undecodable)? {
            NasPdu::Plain(message) => {
                if self.security_in_use() && !plain_allowed_anyway(&message) {
                    return Err(DropReason::NotProtected);
                }
                Ok((message, None))
            }
            NasPdu::Protected(protected) => {
                let context = self
                    .security
                    .as_mut()
                    .ok_or(DropReason::NoSecurityContext)?;
                let verified = context
                    .unprotect(&protected)
                    .map_err(DropReason::Security)?;
                let message =
                    GmmMessage::decode(&verified.plain).map_err(|_| DropReason::Undecodable)?;
                Ok((message, Some(verified.count)))
            }
        }
    }

    fn security_in_use(&self) -> bool {
        matches!(
            self.state,
            State::WaitingComplete { .. } | State::Registered { .. }
        )
    }

    fn dispatch(
        &mut self,
        db: &mut SubscriberDb,
        message: GmmMessage,
        count: Option<NasCount>,
    ) -> Vec<AmfEvent> {
        let state = std::mem::replace(&mut self.state, State::Finished);
        match (state, message) {
            (State::Idle, GmmMessage::RegistrationRequest(request)) => {
                self.on_registration_request(db, request)
            }
            (State::Authenticating(challenge), GmmMessage::AuthenticationResponse(response)) => {
                self.on_authentication_response(*challenge, response)
            }
            (State::Authenticating(challenge), GmmMessage::AuthenticationFailure(failure)) => {
                self.on_authentication_failure(db, *challenge, failure)
            }
            (State::SecurityMode(pending), GmmMessage::SecurityModeComplete(complete)) => {
                match count {
                    Some(count) => self.on_security_mode_complete(*pending, complete, count),
                    None => self.unexpected(State::SecurityMode(pending), 0x5E),
                }
            }
            (State::SecurityMode(_), GmmMessage::SecurityModeReject(reject)) => {
                vec![AmfEvent::Failed(reject.cause)]
            }
            (State::WaitingComplete { supi, guti }, GmmMessage::RegistrationComplete(_)) => {
                self.state = State::Registered {
                    supi: supi.clone(),
                    guti,
                };
                vec![AmfEvent::Registered { supi, guti }]
            }
            (
                State::Registered { .. } | State::WaitingComplete { .. },
                GmmMessage::DeregistrationRequest(request),
            ) => self.on_deregistration(request.deregistration_type.switch_off),
            (state @ State::Registered { .. }, GmmMessage::UlNasTransport(transport)) => {
                self.state = state;
                vec![AmfEvent::UplinkTransport(transport)]
            }
            (state, other) => self.unexpected(state, other.message_type()),
        }
    }

    fn unexpected(&mut self, state: State, message_type: u8) -> Vec<AmfEvent> {
        self.state = state;
        vec![AmfEvent::Dropped(DropReason::Unexpected(message_type))]
    }

    /// Protects a message with the current context, applying the MAC fault when configured.
    fn protect(
        &mut self,
        message: &GmmMessage,
        header_type: SecurityHeaderType,
    ) -> Result<Vec<u8>, SecurityError> {
        let context = self
            .security
            .as_mut()
            .ok_or(SecurityError::IntegrityFailure)?;
        // Messages built by the AMF itself always encode; an empty PDU would be dropped by the UE.
        let plain = message.encode().unwrap_or_default();
        let mut pdu = context.protect(&plain, header_type)?;
        if self.config.faults.corrupt_downlink_mac {
            pdu[2] ^= 0x01;
        }
        Ok(pdu)
    }
}

/// Plain messages an AMF still processes after security is established (TS 24.501 §4.4.4.3
/// lists more; these are the ones of this subset).
fn plain_allowed_anyway(message: &GmmMessage) -> bool {
    matches!(
        message,
        GmmMessage::AuthenticationFailure(_) | GmmMessage::SecurityModeReject(_)
    )
}
