//! A pair of simulated KMEs (ETSI GS QKD 014 V1.1.1) for tests and for running without QKD
//! hardware, as a library and as the `qkd-kme-sim` binary. It is a test and lab tool: the daemon
//! links only the client (`qkd-client`), never this crate.
//!
//! - [`KmeCore`] is the pure state machine: one [`KeyPool`] per SAE pair, refilled at a
//!   configurable bit rate on a clock the caller supplies, keys handed out once on each side.
//! - [`spawn`] serves KME A and KME B over HTTPS with mutual TLS on the current tokio runtime.
//!   A client certificate from another CA fails the TLS handshake (the KME never sees a
//!   request from it); a certificate from the right CA without a usable SAE ID, or an SAE
//!   that is not the slave of a key it asks for, gets 401.
//! - [`SimPki`] generates the certificates.
//!
//! Any SAE with a certificate from the CA may use either KME. The usual setup has the master
//! SAE on KME A and the slave SAE on KME B; keys obtained at one KME wait at the other.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod certs;
mod engine;
mod pool;
mod sae_id;
mod server;

pub use certs::{CertAndKey, KmeTls, SaeCredentials, SimPki};
pub use engine::{CoreConfig, KmeCore, KmeSide, ROUTE_TYPE_EXTENSION, SimError, messages};
pub use pool::{KeyPool, PoolConfig};
pub use sae_id::SaeIdSource;
pub use server::{KmeSimHandle, SimConfig, spawn};

/// The request query parsers, for the fuzz targets.
#[cfg(fuzzing)]
pub use server::fuzzing as query_fuzzing;
