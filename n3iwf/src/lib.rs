//! Sans-IO building blocks of a 5G N3IWF (TS 23.501 §4.2.8, TS 24.502, TS 33.501 §7.2): the
//! NWu wire formats between the UE and the N3IWF, and a facade over NGAP towards the AMF.
//!
//! The crate performs no I/O, reads no clock and starts no thread: it turns octets into typed
//! values and back. Drivers (sockets, SCTP, TUN) and emulators live in other crates.
//!
//! - [`ids`]: PLMN (with its NAS and NGAP octet layouts), GUAMI, S-NSSAI, TAI, PDU session and
//!   QoS flow identifiers;
//! - [`wire`]: EAP-5G, AN parameters, the 3GPP IKEv2 notifies, the NAS envelope over TCP;
//! - [`ngap`]: the NGAP messages an N3IWF sends and accepts, as our own types.
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
