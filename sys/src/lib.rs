//! Linux TUN, UDP and raw-socket I/O for the datapath. All unsafe code of the project lives here.
//!
//! What this crate offers, and why (the measured costs are in `docs/performance.md`):
//!
//! - [`Tun`]: a TUN device (`IFF_TUN | IFF_NO_PI`), optionally with a [`VirtioNetHdr`] before each
//!   packet (`IFF_VNET_HDR`) and offloads ([`Offloads`]: checksum, TSO, USO), so that one read
//!   or write moves a 64 KiB TCP super-packet; several queues (`IFF_MULTI_QUEUE`) for one worker
//!   per core.
//! - [`UdpSocket`]: batched `sendmmsg`/`recvmmsg` over one contiguous buffer (no allocation per
//!   call), UDP GSO (`UDP_SEGMENT`) on send, UDP GRO on receive, `SO_REUSEPORT`.
//! - [`RawEspSocket`]: IP protocol 50 (ESP without UDP), with the same batch calls; the IPv4
//!   header that raw IPv4 sockets deliver is checked and skipped.
//! - [`RawIpSender`]: whole IP packets (`IPPROTO_RAW`), for the flood benchmark's spoofed
//!   sources.
//! - [`sctp`]: SCTP sockets for N2, from the kernel or from usrsctp loaded at run time.
//! - [`CountingAllocator`]: the system allocator counting live bytes, for the memory benchmark.
//! - Small helpers: interface configuration by ioctl ([`interface`]), [`poll_readable`],
//!   [`EventFd`], [`unshare_network_namespace`] for tests, [`pin_current_thread`].
//!
//! Every `unsafe` block carries a `// SAFETY:` comment; the rest of the project denies
//! `unsafe_code`.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod alloc;
mod batch;
pub mod interface;
mod misc;
mod raw;
mod raw_ip;
pub mod sctp;
mod sockaddr;
mod tun;
mod udp;
mod vnet;

pub use alloc::CountingAllocator;
pub use batch::{MAX_BATCH, RecvMeta, Transmit};
pub use misc::{
    EventFd, TerminationSignals, pin_current_thread, poll_readable, unshare_network_namespace,
};
pub use raw::RawEspSocket;
pub use raw_ip::RawIpSender;
pub use tun::{Offloads, Tun, TunOptions};
pub use udp::{SocketOptions, UdpSocket};
pub use vnet::{GsoType, VirtioNetHdr};
