//! `iked`, the IKEv2/IPsec daemon: the driver of the sans-IO [`ikev2::Endpoint`].
//!
//! - [`config`]: the TOML configuration, validated with file:line:field errors and turned into
//!   [`ikev2::ConnectionConfig`]s.
//! - [`Daemon`]: one task owns the endpoint and feeds it datagrams from the UDP sockets (500,
//!   and 4500 behind the RFC 3948 non-ESP marker), commands from the control socket, QKD keys
//!   fetched by spawned tasks and one timer re-armed from `poll_timeout`; it sends what
//!   `poll_transmit` returns, hands Child SAs to a [`ChildSaSink`] and publishes events for
//!   `ikectl monitor`.
//! - [`DataplaneSink`]: the userspace ESP datapath (TUN device and workers) as that sink. With
//!   ESP in UDP it owns port 4500 and carries IKE on it too (non-ESP marker classification);
//!   its SA lifetime events become rekeys and deletes in the engine.
//! - [`proto`] and [`client`]: the line-delimited JSON control protocol and a blocking client,
//!   re-exported from the `iked-control` crate that `ikectl` shares.
//! - A Prometheus text endpoint ([`render_metrics`]), off by default.
//! - With `[n3iwf]`, a 5G N3IWF: the `n3iwf` crate's core, fed by the engine's EAP events, N2
//!   associations to the AMFs (`n2-transport`) and NAS over TCP on the datapath's TUN device.

pub mod config;
mod control;
mod daemon;
mod datapath;
mod driver;
mod essential;
mod handover;
mod keylog;
mod metrics;
mod n3iwf;
mod net;
mod sink;

pub use daemon::{Daemon, StartError};
pub use datapath::DataplaneSink;
pub use iked_control::{client, proto};
pub use metrics::render as render_metrics;
pub use sink::{
    ChildSaSink, DatapathEvent, Installed, LifetimeEvent, LifetimeKind, LoggingSink, SinkError,
};
