//! `iked`, the IKEv2/IPsec daemon: the driver of the sans-IO [`ikev2::Endpoint`].
//!
//! - [`config`]: the TOML configuration, validated with file:line:field errors and turned into
//!   [`ikev2::ConnectionConfig`]s.
//! - [`Daemon`]: one task owns the endpoint and feeds it datagrams from the UDP sockets (500,
//!   and 4500 behind the RFC 3948 non-ESP marker), commands from the control socket and one
//!   timer re-armed from `poll_timeout`; it sends what `poll_transmit` returns, hands Child SAs
//!   to a [`ChildSaSink`] and publishes events for `ikectl monitor`.
//! - [`proto`] and [`client`]: the line-delimited JSON control protocol and a blocking client.
//! - A Prometheus text endpoint ([`render_metrics`]), off by default.

pub mod client;
pub mod config;
mod control;
mod daemon;
mod driver;
mod metrics;
mod net;
pub mod proto;
mod sink;

pub use daemon::{Daemon, StartError};
pub use metrics::render as render_metrics;
pub use sink::{ChildSaSink, Installed, LoggingSink, SinkError};
