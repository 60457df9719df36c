//! The 5GMM messages of registration, authentication, security mode control, de-registration
//! and NAS transport.

mod authentication;
mod deregistration;
mod registration;
mod security_mode;
mod transport;

pub use authentication::{
    AuthenticationFailure, AuthenticationReject, AuthenticationRequest, AuthenticationResponse,
};
pub use deregistration::DeregistrationRequest;
pub use registration::{
    RegistrationAccept, RegistrationComplete, RegistrationReject, RegistrationRequest,
};
pub use security_mode::{RINMR, SecurityModeCommand, SecurityModeComplete, SecurityModeReject};
pub use transport::NasTransport;
