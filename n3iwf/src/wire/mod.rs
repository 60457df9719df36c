//! NWu wire formats: checked parsers and emitters for what the N3IWF exchanges with the UE.
//!
//! - [`eap5g`]: EAP-5G inside IKE_AUTH (TS 24.502 §9.3.2);
//! - [`an_params`]: the AN parameters of EAP-Response/5G-NAS (TS 24.502 §9.3.2.2.2);
//! - [`notify3gpp`] and [`qos_info`]: the 3GPP private IKEv2 notifies (TS 24.502 §9.3.1);
//! - [`nas_envelope`]: NAS over TCP inside the signalling SA (TS 24.502 §9.4).
//!
//! # Contract
//!
//! - **Parsing never panics**, whatever the input, and allocates at most in proportion to it:
//!   every length is checked against its enclosing field through a bounded sub-reader.
//! - **Nothing is silently skipped** except where the spec says so (spare bits, 5G-Start and
//!   5G-Stop extensions, AN parameters of unknown types): octets after a structure are a
//!   [`WireError::TrailingData`].
//! - **Open registries stay open**: unknown EAP-5G Message-Ids, AN-parameter types and
//!   establishment causes parse into values; what to do with them is the caller's decision.
//! - **Emission** writes every length and fails with [`WireError::TooLong`] rather than
//!   truncating; what it writes parses back to the same value.

pub mod an_params;
pub mod eap5g;
mod error;
pub mod nas_envelope;
pub mod notify3gpp;
pub mod qos_info;
mod reader;

pub use error::WireError;
