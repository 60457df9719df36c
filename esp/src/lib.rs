//! Sans-IO ESP datapath (RFC 4303), tunnel mode, with anti-replay, 64-bit extended sequence
//! numbers and UDP-encapsulation framing (RFC 3948).
//!
//! The crate does no I/O, reads no clock, starts no thread and allocates nothing per packet:
//! packets are sealed and opened in the caller's buffers. All cryptography comes from an
//! [`ipsec_crypto::CryptoProvider`].
//!
//! - [`OutboundSa::seal`] turns an inner IP packet into an ESP packet in place;
//!   [`Spd::lookup`] picks the outbound SA for an inner packet.
//! - [`Sad::open`] (or [`InboundSa::open`]) checks and decrypts an ESP packet in place.
//! - [`natt::classify`] sorts UDP/4500 payloads into keepalive, IKE and ESP.
//! - Drops are counted per [`DropReason`], never logged; lifetimes and sequence-number
//!   exhaustion come out of `poll_event` as [`SaEvent`]s.
//!
//! Each SA is used from one thread at a time (`&mut self`); a multi-worker driver gives each
//! worker its own SAs or wraps them in its own locks.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
mod error;
mod event;
mod inbound;
mod ip;
mod lifetime;
pub mod natt;
mod outbound;
mod replay;
mod sad;
mod spd;
mod spi;
mod transform;

#[cfg(test)]
mod tests;

pub use config::{Cipher, DEFAULT_REPLAY_WINDOW, Lifetime, MAX_REPLAY_WINDOW, SaConfig};
pub use error::{DropCounters, DropReason, EspError};
pub use event::SaEvent;
pub use inbound::{InboundSa, Opened};
pub use ip::{NEXT_HEADER_IPV4, NEXT_HEADER_IPV6, NEXT_HEADER_NONE, PacketFields};
pub use lifetime::SaCounters;
pub use outbound::{OutboundSa, SEQUENCE_REKEY_MARGIN};
pub use sad::Sad;
pub use spd::{AddrRange, PortRange, SaHandle, Spd, SpdEntry, TrafficSelector};
pub use spi::Spi;
