//! The 5GMM messages of registration, authentication, security mode control, de-registration
//! and NAS transport.

/// A message whose body is optional IEs only, kept as received.
macro_rules! optional_ies_only {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct $name {
            /// The optional IEs, as received.
            pub other_ies: Vec<RawIe>,
        }

        impl $name {
            pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(Self {
                    other_ies: read_optional(reader, &[])?,
                })
            }

            pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
                put_raw(out, &self.other_ies)
            }
        }
    };
}

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
