//! What the emulated AMF reports to its driver.

use crate::identity::{FiveGGuti, Supi};
use crate::nas::{GmmCause, NasTransport, Nssai, UeSecurityCapability};
use crate::secret::Kn3iwf;
use crate::security::{NasCount, SecurityError};

/// The NAS side of the Initial Context Setup: what the NGAP driver puts in the INITIAL CONTEXT
/// SETUP REQUEST, and the REGISTRATION ACCEPT to deliver in it or after it.
pub struct InitialContext {
    /// KN3IWF, the Security Key IE.
    pub kn3iwf: Kn3iwf,
    /// The uplink NAS COUNT KN3IWF was derived with (that of SECURITY MODE COMPLETE).
    pub uplink_count: NasCount,
    /// UE security capabilities.
    pub ue_security_capability: UeSecurityCapability,
    /// Allowed NSSAI.
    pub allowed_nssai: Nssai,
    /// The 5G-GUTI assigned.
    pub guti: FiveGGuti,
    /// The protected REGISTRATION ACCEPT. It holds the next downlink COUNT, so it goes to the UE
    /// before any later downlink NAS message.
    pub registration_accept: Vec<u8>,
}

/// Why an uplink message was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Not a NAS message the codec accepts.
    Undecodable,
    /// Protected, but there is no security context yet.
    NoSecurityContext,
    /// The security context refused it.
    Security(SecurityError),
    /// Plain after security was established, where TS 24.501 §4.4.4.3 requires protection.
    NotProtected,
    /// Valid, but not expected in the current state.
    Unexpected(u8),
}

/// An event from [`super::AmfNas::handle_uplink`].
pub enum AmfEvent {
    /// A NAS PDU for the UE (DOWNLINK NAS TRANSPORT).
    Downlink(Vec<u8>),
    /// Security is established: start the Initial Context Setup.
    ContextReady(Box<InitialContext>),
    /// REGISTRATION COMPLETE received: the UE is registered.
    Registered {
        /// SUPI.
        supi: Supi,
        /// 5G-GUTI.
        guti: FiveGGuti,
    },
    /// A REGISTRATION REJECT was sent (included in a [`AmfEvent::Downlink`] before this).
    RegistrationRejected(GmmCause),
    /// RES* did not match: AUTHENTICATION REJECT was sent.
    AuthenticationRejected,
    /// The UE refused the network (AUTHENTICATION FAILURE other than synch failure, or too many
    /// resynchronisations) or refused the security mode: the procedure ends here.
    Failed(GmmCause),
    /// The UE de-registered.
    Deregistered {
        /// Switch-off: no DEREGISTRATION ACCEPT is sent.
        switch_off: bool,
    },
    /// UL NAS TRANSPORT from a registered UE (for the SMF part).
    UplinkTransport(NasTransport),
    /// The message was dropped.
    Dropped(DropReason),
}
