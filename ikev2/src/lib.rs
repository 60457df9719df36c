//! Sans-IO IKEv2 engine (RFC 7296) with IKE fragmentation (RFC 7383), IKE_INTERMEDIATE
//! (RFC 9242), multiple key exchanges with ML-KEM (RFC 9370) and post-quantum preshared keys
//! (RFC 8784, and RFC 9867 in IKE_INTERMEDIATE and CREATE_CHILD_SA).
//!
//! This crate does no I/O, reads no clock and spawns nothing: datagrams and `now` go in;
//! datagrams, deadlines and events come out of an [`Endpoint`]. All cryptography and randomness
//! come from an [`ipsec_crypto::CryptoProvider`].
//!
//! # New Child SAs at run time
//!
//! Either end of an established IKE SA, whoever started it, creates more Child SAs with
//! CREATE_CHILD_SA (RFC 7296 §1.3.1): [`Endpoint::create_child`] with a template's selectors,
//! or [`Endpoint::create_child_with`] and a [`ChildRequest`] that brings its own selectors
//! (within the template's), private-use status notifies for the peer (3GPP's 5G_QOS_INFO and
//! UP_IP4_ADDRESS from an N3IWF, TS 24.502 §7.5) and a [`ChildTag`] naming its owner. Each
//! request ends in one event: [`Event::ChildSaEstablished`], whose [`ChildSa::tag`] every
//! rekey of that Child SA keeps, or [`Event::ChildSaFailed`] with a [`ChildFailure`] (the
//! peer's error notify, a timeout, the IKE SA gone). The peer's side gets the request's
//! notifies in [`ChildSa::peer_notifies`]. The initiator of each exchange takes the first
//! KEYMAT (RFC 7296 §2.17), so an N3IWF's first keys are for its traffic to the UE.

mod auth_reply;
mod cert;
mod child_request;
mod command_error;
mod config;
mod cookie;
mod endpoint;
mod error;
mod event;
mod fragment;
mod half_open;
mod keys;
mod proposal;
mod protect;
mod sa;
mod spi_book;
mod stats;
mod ts;
pub mod wire;

pub use auth_reply::{
    ConfigReply, FinalAuthReply, MAX_STATUS_NOTIFIES, MAX_STATUS_NOTIFY_DATA, PRIVATE_STATUS_MIN,
    StatusNotify,
};
pub use cert::{CertificateAuth, CertificateError, matches_identity};
pub use child_request::{
    ChildFailure, ChildRequest, ChildTag, MAX_PENDING_CHILD_REQUESTS, MAX_REQUEST_SELECTORS,
};
pub use command_error::CommandError;
pub use config::{
    AuthConfig, ChildConfig, ConnectionConfig, DEFAULT_FRAGMENT_SIZE, EndpointConfig, Identity,
    Lifetime, PpkConfig, PpkMode, PpkSource, RetransmitConfig,
};
pub use endpoint::{Endpoint, Transmit};
pub use error::Error;
pub use event::{
    ChildSa, ChildSnapshot, CloseReason, Event, IkeKeyExport, IkeSaInfo, MessageIds, PpkExchange,
    SaId, SaSnapshot,
};
pub use fragment::ReassemblyLimits;
pub use proposal::{KE_SLOTS, Negotiated, ProposalError, ProposalSpec, ke_name};
pub use sa::EapStep;
pub use stats::Stats;
pub use wire::{EspSpi, IkeSpi, MessageId};

/// Parsers otherwise reached only after authentication, for the fuzz targets.
#[cfg(fuzzing)]
pub use cert::fuzzing as cert_fuzzing;
/// The initiator's reading of the final IKE_AUTH response, and the responder's of a new Child
/// SA request's status notifies, for the fuzz targets.
#[cfg(fuzzing)]
pub mod auth_reply_fuzzing {
    pub use crate::sa::{read_child_notifies, read_final_reply};
}

/// The provider unit tests run with: the default one when compiled in, else the pure-Rust one.
#[cfg(test)]
pub(crate) fn test_provider() -> &'static dyn ipsec_crypto::CryptoProvider {
    #[cfg(feature = "default-provider")]
    return ipsec_crypto::default_provider();
    #[cfg(not(feature = "default-provider"))]
    return ipsec_crypto::rustcrypto_provider();
}
