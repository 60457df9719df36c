//! A minimal NAS-5GS codec (TS 24.501) for what a UE and an AMF exchange during registration,
//! authentication, security mode control, de-registration and NAS transport, and the 5GSM
//! messages of PDU session establishment and release ([`sm`]).
//!
//! Decoders are total: any input gives a message or a [`DecodeError`], never a panic, and they
//! allocate only in proportion to the input. Unknown optional IEs are kept as [`RawIe`] and
//! written back; a syntactically wrong optional IE of a known type is ignored, as TS 24.501
//! §7.6.3 and TS 24.007 §11.2.6 let a receiver do.

mod codec;
mod message;
mod messages;
mod mobile_identity;
pub mod sm;
mod types;

pub use codec::{DecodeError, EncodeError, IeFormat, RawIe};
pub use message::{EPD_5GMM, EPD_5GSM, GmmMessage, NasPdu, ProtectedPdu, SecurityHeaderType};
pub use messages::*;
pub use mobile_identity::MobileIdentity;
pub use types::{
    DeregistrationType, GmmCause, NasSecurityAlgorithms, Ngksi, Nssai, PayloadContainerType,
    RegistrationType, SNssai, UeSecurityCapability,
};
