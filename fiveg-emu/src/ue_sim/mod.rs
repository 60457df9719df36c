//! `ue-sim`: emulated UEs registering through an N3IWF on real UDP sockets, for tests, the
//! demo and the registration benchmark. No UE stack with N3IWF support runs on the machines
//! this project is tested on, so the UE is emulated; the IKEv2 side is our own engine as
//! initiator, so the N3IWF under test meets a real IKEv2 peer.
//!
//! Per UE: IKE_SA_INIT and IKE_INTERMEDIATE (hybrid X25519 + ML-KEM-768 by default),
//! optionally a QKD key from an ETSI GS QKD 014 KME as RFC 8784 PPK, IKE_AUTH with EAP-5G
//! (the emulated USIM answers 5G-AKA and the security mode; KN3IWF is the MSK), then the
//! signalling Child SA as an [`crate::inner::EspLink`] and NAS over TCP from the inner stack
//! until REGISTRATION COMPLETE is sent. [`summary`] holds the phase timings.
//!
//! - [`subscribers`]: USIMs, in `amf-sim`'s `[[subscribers]]` format;
//! - [`params`]: what the UEs share, and the IKEv2 connection;
//! - [`kme`]: the QKD PPK;
//! - [`session`]: one UE;
//! - [`user_plane`]: a PDU session's GRE over its user-plane Child SA;
//! - [`traffic`]: pings and a byte-checked TCP transfer through it;
//! - [`runner`]: many UEs at a bounded rate and concurrency.

pub mod kme;
pub mod params;
pub mod runner;
pub mod session;
pub mod subscribers;
pub mod summary;
pub mod traffic;
pub mod user_plane;

pub use params::{Fallback, HYBRID, PduSessionPlan, UeParams};
pub use runner::{Plan, Run, run};
pub use session::{Outcome, UeFailure};
pub use subscribers::{Subscribers, UsimSpec};
pub use summary::{Phase, PhaseStats, Summary, UeReport};
