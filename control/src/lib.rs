//! The control protocol of `iked` and the blocking client `ikectl` uses.
//!
//! - [`proto`]: the requests, responses and `monitor` events, one JSON object per line over a
//!   Unix stream socket, with the views they carry.
//! - [`client`]: a blocking client of that socket.
//!
//! Both the daemon and the control tool depend on this crate and on nothing else of each other,
//! so `ikectl` links neither tokio nor the datapath nor the QKD stack.

pub mod client;
pub mod proto;

/// Where the daemon listens and `ikectl` connects when no other path is configured.
pub const DEFAULT_SOCKET_PATH: &str = "/run/iked/iked.sock";
