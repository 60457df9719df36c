//! Network-namespace lab for interop tests against strongSwan 6.
//!
//! `interop/setup.sh` builds (once per machine) the strongSwan peers as podman images: 6.0.1
//! (Debian trixie, ML-KEM from the `ml` plugin) and 6.1 (Debian sid, ML-KEM from OpenSSL); a
//! [`StrongSwan`] is the one `PQIKE_SS_PEER` selects. A [`Lab`] is two network namespaces
//! joined by a veth pair; a [`Charon`] runs strongSwan in a container joined to one of them,
//! with kernel-libipsec (userspace ESP on a TUN device, since this kernel has no ESP
//! transforms). Tests drive charon with swanctl,
//! read [`IkeSa`]s from `swanctl --list-sas`, send traffic through the tunnel ([`ping`],
//! [`tcp_transfer`]) and take phase timings from charon's log ([`timelines`],
//! [`PhaseTimings`]). [`Iked`] runs our daemon in the other namespace, configured by its TOML
//! file and driven only through `ikectl`; a [`Pair`] is one interop case (iked and charon with
//! matching configurations from a [`Spec`]). Tests call [`lab_or_skip`] (or
//! [`daemon_lab_or_skip`]) first: without root they print a loud `SKIPPED` banner and pass.
//!
//! Everything runs as external processes (`ip`, `podman`, `nsenter`, this crate's `pqlab`), so
//! this crate needs no `unsafe` and tests only see the peer through the network.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod charon;
mod cmd;
pub mod config;
mod iked;
mod kme;
mod lab;
pub mod netns;
mod peer;
mod podman;
mod sas;
mod scenario;
mod timing;
mod traffic;
mod transfer;

pub use charon::{Charon, CharonConfig};
pub use cmd::{Error, Result, run, run_ok, run_with_input, wait_until};
pub use config::swanctl;
pub use iked::{
    Encap, Iked, IkedBinaries, IkedConfig, OurChildSa, OurCounters, OurIkeSa, OurPhase,
    daemon_lab_or_skip,
};
pub use kme::{KmePools, KmeSim, QkdPair, kme_lab_or_skip, locate_kme_sim};
pub use lab::{Addressing, DAEMON_NETNS_PREFIX, Lab, NETNS_PREFIX, Node, VETH};
pub use peer::{DEFAULT_CACHE, DEFAULT_PEER, PEERS, StrongSwan, is_root, lab_or_skip, report};
pub use sas::{Algorithms, ChildSa, IkeSa, Vici, parse_list_sas, parse_pretty};
pub use scenario::{
    Auth, CONN, Certs, OUR_ID, PEER_ID, PSK, Pair, Ppk, Role, Spec, TRANSFER_BYTES, WAIT,
    assert_peer_view, iked_connection, iked_toml, swanctl_conf,
};
pub use timing::{
    Exchange, IkeSaTimeline, LogLine, PhaseSummary, PhaseTimings, Timestamp, median,
    parse_log_line, timelines,
};
pub use traffic::{FirstPacket, FirstPacketProbe, PingStats, ping, probe_binary};
pub use transfer::{
    Pattern, Transfer, pattern, pqlab_binary, receive, send, tcp_transfer, transfer_between,
};
