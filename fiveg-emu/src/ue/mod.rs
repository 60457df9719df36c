//! `UeNas`: the NAS side of an emulated UE with a USIM, sans-IO. It builds REGISTRATION REQUEST
//! with a null-scheme SUCI, answers 5G-AKA (checking MAC-A, the AMF separation bit and SQN
//! freshness), completes the security mode, derives KN3IWF exactly as the AMF does, and
//! completes registration and de-registration; then it asks for and releases PDU sessions.

mod nwu;
mod procedures;
mod sessions;

pub use nwu::{NwuUe, PeerStep};
pub use procedures::UeEvent;
pub use sessions::{PduSessionRequest, UePduSession};

use crate::aka::Usim;
use crate::identity::{FiveGGuti, Plmn, RoutingIndicator, ServingNetworkName, Suci, Supi};
use crate::nas::{
    DeregistrationRequest, DeregistrationType, EncodeError, GmmMessage, MobileIdentity,
    NasTransport, Ngksi, Nssai, RegistrationRequest, RegistrationType, SecurityHeaderType,
    UeSecurityCapability,
};
use crate::secret::{Kamf, Kn3iwf, Opc, SubscriberKey};
use crate::security::{NasSecurityContext, SecurityError};
use crate::values::Sqn;

/// A UE's configuration.
pub struct UeConfig {
    /// SUPI (IMSI).
    pub supi: Supi,
    /// K.
    pub k: SubscriberKey,
    /// OPc.
    pub opc: Opc,
    /// The highest SQN the USIM has accepted.
    pub sqn_ms: Sqn,
    /// The PLMN of the serving network (for the serving network name).
    pub serving_plmn: Plmn,
    /// UE security capability sent in REGISTRATION REQUEST.
    pub capability: UeSecurityCapability,
    /// Requested NSSAI.
    pub requested_nssai: Option<Nssai>,
}

/// Why the UE cannot send what it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum UeError {
    /// Not registered (no security context or no GUTI).
    #[error("not registered")]
    NotRegistered,
    /// The security context refused.
    #[error(transparent)]
    Security(#[from] SecurityError),
    /// A message did not encode.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The PDU session ID is outside 1..=15 or already in use.
    #[error("PDU session ID {0} is invalid or in use")]
    SessionInUse(u8),
    /// No established PDU session has this ID.
    #[error("no established PDU session {0}")]
    NoSuchSession(u8),
}

/// The NAS side of a UE.
pub struct UeNas {
    supi: Supi,
    snn: ServingNetworkName,
    capability: UeSecurityCapability,
    requested_nssai: Option<Nssai>,
    usim: Usim,
    initial_request: Vec<u8>,
    /// KAMF of the last successful authentication and its ngKSI, until SECURITY MODE COMMAND.
    pending: Option<(Ngksi, Kamf)>,
    security: Option<NasSecurityContext>,
    kn3iwf: Option<Kn3iwf>,
    guti: Option<FiveGGuti>,
    sessions: sessions::Sessions,
}

impl UeNas {
    /// A UE that has not registered yet.
    pub fn new(config: UeConfig) -> Self {
        Self {
            snn: ServingNetworkName::from_plmn(config.serving_plmn),
            usim: Usim::new(&config.k, config.opc, config.sqn_ms),
            supi: config.supi,
            capability: config.capability,
            requested_nssai: config.requested_nssai,
            initial_request: Vec::new(),
            pending: None,
            security: None,
            kn3iwf: None,
            guti: None,
            sessions: sessions::Sessions::default(),
        }
    }

    /// The plain REGISTRATION REQUEST (initial registration, SUCI with the null scheme).
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if the configured values are too long.
    pub fn start_registration(&mut self) -> Result<Vec<u8>, EncodeError> {
        let request = GmmMessage::RegistrationRequest(RegistrationRequest {
            registration_type: RegistrationType {
                follow_on: false,
                value: RegistrationType::INITIAL,
            },
            ngksi: Ngksi::NO_KEY,
            identity: MobileIdentity::Suci(Suci::null_scheme(
                &self.supi,
                RoutingIndicator::DEFAULT,
            )),
            ue_security_capability: Some(self.capability.clone()),
            requested_nssai: self.requested_nssai.clone(),
            nas_message_container: None,
            other_ies: Vec::new(),
        });
        self.initial_request = request.encode()?;
        Ok(self.initial_request.clone())
    }

    /// A protected DEREGISTRATION REQUEST for non-3GPP access.
    ///
    /// # Errors
    ///
    /// [`UeError::NotRegistered`] without a context and a GUTI.
    pub fn deregister(&mut self, switch_off: bool) -> Result<Vec<u8>, UeError> {
        let (Some(context), Some(guti)) = (self.security.as_ref(), self.guti) else {
            return Err(UeError::NotRegistered);
        };
        let request = GmmMessage::DeregistrationRequest(DeregistrationRequest {
            deregistration_type: DeregistrationType {
                switch_off,
                re_registration_required: false,
                access: DeregistrationType::NON_3GPP,
            },
            ngksi: context.ngksi(),
            identity: MobileIdentity::Guti(guti),
        });
        self.protect(&request)
    }

    /// A protected UL NAS TRANSPORT.
    ///
    /// # Errors
    ///
    /// [`UeError::NotRegistered`] without a context.
    pub fn uplink_transport(&mut self, transport: NasTransport) -> Result<Vec<u8>, UeError> {
        self.protect(&GmmMessage::UlNasTransport(transport))
    }

    /// KN3IWF, once SECURITY MODE COMPLETE has been sent.
    pub fn kn3iwf(&self) -> Option<&Kn3iwf> {
        self.kn3iwf.as_ref()
    }

    /// The security context in use.
    pub fn security_context(&self) -> Option<&NasSecurityContext> {
        self.security.as_ref()
    }

    /// The security context in use, mutable (tests move COUNTs with it).
    pub fn security_context_mut(&mut self) -> Option<&mut NasSecurityContext> {
        self.security.as_mut()
    }

    /// The 5G-GUTI assigned by REGISTRATION ACCEPT.
    pub fn guti(&self) -> Option<FiveGGuti> {
        self.guti
    }

    /// The USIM's highest accepted SQN.
    pub fn sqn_ms(&self) -> Sqn {
        self.usim.sqn_ms()
    }

    fn protect(&mut self, message: &GmmMessage) -> Result<Vec<u8>, UeError> {
        let context = self.security.as_mut().ok_or(UeError::NotRegistered)?;
        Ok(context.protect(
            &message.encode()?,
            SecurityHeaderType::IntegrityProtectedAndCiphered,
        )?)
    }
}
