//! A sans-IO 5G N3IWF (TS 23.501 §4.2.8, TS 24.502, TS 33.501 §7.2): the NWu wire formats
//! between the UE and the N3IWF, a facade over NGAP towards the AMF, and the core that joins
//! them with the IKEv2 engine's events.
//!
//! The crate performs no I/O, reads no clock and starts no thread: octets, events and `now` go
//! in; octets, answers and deadlines come out. Drivers (sockets, SCTP, TUN) and emulators live in
//! other crates.
//!
//! - [`ids`]: PLMN (with its NAS and NGAP octet layouts), GUAMI, S-NSSAI, TAI, PDU session and
//!   QoS flow identifiers;
//! - [`wire`]: EAP-5G, AN parameters, the 3GPP IKEv2 notifies, the NAS envelope over TCP;
//! - [`ngap`]: the NGAP messages an N3IWF sends and accepts, as our own types;
//! - [`node`]: the core, [`N3iwf`]: AMF associations and one state machine per UE, with the
//!   inputs the daemon maps from the engine, N2 and NAS TCP, and the [`Output`]s it acts on.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod ids;
mod macros;
pub mod ngap;
pub mod node;
mod ue;
pub mod wire;

pub use node::{
    AmfRef, EapAnswer, EapSuccess, Event, IkeSaGone, IkeSaRef, N3iwf, N3iwfConfig, NasConnId,
    Output, StreamId,
};
