//! The N3IWF core against the emulated AMF and UEs, in one process on a virtual clock: every
//! flow that needs no IKE crypto (the harness plays the engine, see `world`).

#![allow(clippy::unwrap_used, unreachable_pub, dead_code)]

mod failures;
mod n2;
mod nas_tcp;
mod registration;
mod release;
mod world;
