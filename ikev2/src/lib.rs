//! Sans-IO IKEv2 engine.
//!
//! This crate does no I/O, reads no clock and spawns nothing: datagrams and `now` go in;
//! datagrams, deadlines and events come out.

pub mod wire;
