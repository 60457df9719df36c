//! ETSI GS QKD 014 V1.1.1 REST client.
//!
//! The daemon fetches quantum key distribution (QKD) keys from a key management entity (KME)
//! and uses them as RFC 8784 / RFC 9867 post-quantum preshared keys: the ETSI `key_ID` becomes
//! the PPK identity and the key bytes become the PPK.
//!
//! - [`KmeClient`] speaks the three ETSI GS QKD 014 methods (`status`, `enc_keys`, `dec_keys`)
//!   over HTTPS with mutual TLS (rustls, aws-lc-rs provider, TLS 1.2 or 1.3).
//! - The wire objects live in [`api`], the path and role naming of an edition behind the
//!   [`KeyDeliveryApi`] trait.
//! - A key is a [`QkdKey`]: zeroized on drop, neither `Clone` nor `Debug`-printing its bytes,
//!   and consumed when handed on ([`QkdKey::into_secret`]).
//! - [`tls`] holds the rustls configuration of both ends, so that the KME simulator
//!   (`qkd-kme-sim`, its own crate) serves with the same provider and protocol versions.
//!
//! # Roles (ETSI GS QKD 014 §5, Table 2)
//! The *master* SAE (the IKE initiator) calls `enc_keys` at its own KME naming the *slave* SAE;
//! it sends the `key_ID`s to the slave in IKE; the slave calls `dec_keys` at its own KME naming
//! the master. The KME hands a key to each side once and then forgets it.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
mod client;
mod config;
mod error;
mod flavor;
mod http;
mod key;
pub mod tls;

pub use client::KmeClient;
pub use config::{ClientConfig, PemSource};
pub use error::{ProtocolError, QkdError};
pub use flavor::{ApiFlavor, EtsiV1, KeyDeliveryApi, Operation, percent_decode};
pub use key::{KeyId, QkdKey};
