//! What the dataplane is started with, what is installed into it, and what comes out of it.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};

use esp::{DropCounters, EspError, SaConfig, SaEvent, Spi, TrafficSelector};

use userplane::Teid;

use crate::user_plane::OversizePolicy;

/// How ESP packets travel between the gateways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encapsulation {
    /// IP protocol 50 (needs `CAP_NET_RAW`; no GSO or GRO on this path).
    Raw,
    /// ESP in UDP (RFC 3948) from this local port, normally 4500. IKE messages share the port
    /// behind the non-ESP marker and are handed to the daemon
    /// ([`crate::DataplaneHandle::take_ike_messages`]).
    Udp {
        /// Local UDP port.
        port: u16,
    },
}

/// The TUN device the dataplane creates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunConfig {
    /// Interface name (at most 15 bytes; empty lets the kernel choose).
    pub name: String,
    /// MTU of the inner packets. 1420 leaves room for IPv4 + UDP + ESP with a 16-byte ICV in a
    /// 1500-byte path.
    pub mtu: u32,
    /// Addresses with prefix length to put on the device.
    pub addresses: Vec<(IpAddr, u8)>,
    /// Virtio-net headers with checksum and TCP segmentation offload (64 KiB per read and
    /// write). Off: one packet per system call.
    pub offloads: bool,
}

impl TunConfig {
    /// A device called `name` with the default MTU and offloads on.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            mtu: 1420,
            addresses: Vec::new(),
            offloads: true,
        }
    }
}

/// Everything [`crate::Dataplane::start`] needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataplaneConfig {
    /// The TUN device.
    pub tun: TunConfig,
    /// Local outer address (the sockets bind to it).
    pub local: IpAddr,
    /// ESP in UDP or raw ESP.
    pub encapsulation: Encapsulation,
    /// Number of workers; 0 means one per core. Never more than the cores.
    pub workers: usize,
    /// Pin worker `i` to core `i`.
    pub pin_workers: bool,
    /// Check the TCP checksum of decrypted segments before merging them (the merged packet is
    /// handed on with a partial checksum the kernel does not check again).
    pub verify_inner_checksums: bool,
    /// Socket buffer size in bytes for each direction.
    pub socket_buffer: usize,
    /// Capacity of the event channel (unknown SPIs, acquires, SA event doorbells); unknown
    /// SPIs and acquires beyond it are counted and dropped. SA events are never dropped (see
    /// [`crate::DataplaneHandle::take_sa_events`]).
    pub event_capacity: usize,
    /// Capacity of the channel of IKE messages received on the UDP port; messages beyond it
    /// are counted (`ike_dropped`) and dropped.
    pub ike_capacity: usize,
    /// IKE messages per second admitted from one source address (IPv6: one /64) before they
    /// are queued; the rest are counted (`ike_rate_limited`) and dropped. 0: no limit.
    pub ike_rate_per_source: u32,
    /// The N3IWF's N3 (GTP-U) address, normally port 2152: one `SO_REUSEPORT` socket per
    /// worker carries the user plane of the PDU sessions installed with
    /// [`crate::DataplaneHandle::add_user_plane`]. A concrete address, not a wildcard: it goes
    /// into the Error Indications we send. `None`: no user plane.
    pub n3: Option<SocketAddr>,
    /// Largest outer packet towards a UE (IP + UDP + ESP), default 1500: downlink packets
    /// beyond it are handled as [`DataplaneConfig::n3_oversize`] says.
    pub n3_ue_mtu: u16,
    /// What happens to downlink packets beyond [`DataplaneConfig::n3_ue_mtu`].
    pub n3_oversize: OversizePolicy,
}

impl DataplaneConfig {
    /// A configuration with defaults for everything but the device, address and encapsulation.
    pub fn new(tun: TunConfig, local: IpAddr, encapsulation: Encapsulation) -> Self {
        Self {
            tun,
            local,
            encapsulation,
            workers: 0,
            pin_workers: false,
            verify_inner_checksums: true,
            socket_buffer: 4 << 20,
            event_capacity: 1024,
            ike_capacity: 256,
            ike_rate_per_source: DEFAULT_IKE_RATE_PER_SOURCE,
            n3: None,
            n3_ue_mtu: 1500,
            n3_oversize: OversizePolicy::default(),
        }
    }
}

/// A CHILD_SA pair to install: traffic matching `selector` (from our side: `local` is ours) is
/// sealed with `outbound` and sent to `peer`; ESP arriving with `inbound`'s SPI is opened and
/// must match the selector seen from the other side.
pub struct ChildSa {
    /// Traffic selector (RFC 7296 §2.9), local side first.
    pub selector: TrafficSelector,
    /// The peer's outer address (the port is ignored for raw ESP).
    pub peer: SocketAddr,
    /// The SA we receive with.
    pub inbound: SaConfig,
    /// The SA we send with.
    pub outbound: SaConfig,
}

/// Names an installed CHILD_SA pair by its SPIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChildSaId {
    /// SPI of the inbound SA (chosen by us).
    pub inbound_spi: Spi,
    /// SPI of the outbound SA (chosen by the peer).
    pub outbound_spi: Spi,
}

/// Which way an SA carries traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the peer to us.
    Inbound,
    /// From us to the peer.
    Outbound,
}

/// What the dataplane reports to its owner. IKE messages come on their own channel
/// ([`crate::DataplaneHandle::take_ike_messages`]), so that a flood of them cannot crowd these
/// out.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataplaneEvent {
    /// SAs reached a lifetime or ran out of sequence numbers: collect the events with
    /// [`crate::DataplaneHandle::take_sa_events`]. At most one such doorbell waits at a time,
    /// and one that found the channel full is rung again by the next SA event; collecting now
    /// and then catches everything even without doorbells.
    SaEvents,
    /// ESP arrived for an SPI no installed SA has (rate-limited per worker); the daemon may
    /// tell the peer with INVALID_SPI (RFC 7296 §1.5).
    UnknownSpi {
        /// The SPI.
        spi: Spi,
        /// The sender.
        from: SocketAddr,
    },
    /// An outbound packet matched the trap policy `trap` and no SA (rate-limited per worker):
    /// the daemon should negotiate one. The packet itself was dropped.
    Acquire {
        /// The trap's id, as given to [`crate::DataplaneHandle::install_trap`].
        trap: u32,
        /// The packet's source and destination.
        src: IpAddr,
        dst: IpAddr,
    },
    /// A UPF sent a GTP-U Error Indication (TS 29.281 §7.3.1; rate-limited per source): it
    /// has no context for a TEID we sent G-PDUs to, so the PDU session whose UL TEID at
    /// `from` is `teid` has lost its user plane there.
    GtpuErrorIndication {
        /// The UPF.
        from: SocketAddr,
        /// The TEID the rejected G-PDU was sent to (TEID Data I): a session's UL TEID.
        teid: Teid,
    },
    /// A GTP-U Echo Response arrived (rate-limited per source): the path to `from` is alive
    /// (see [`crate::DataplaneHandle::send_gtpu_echo`]).
    GtpuEchoResponse {
        /// The UPF.
        from: SocketAddr,
        /// The sequence number of the Echo Request it answers.
        sequence: u16,
    },
}

/// An SA event collected with [`crate::DataplaneHandle::take_sa_events`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaEventReport {
    /// The SA.
    pub spi: Spi,
    /// Its direction.
    pub direction: Direction,
    /// What happened.
    pub event: SaEvent,
}

/// An IKE message received on the UDP port, the non-ESP marker removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IkeMessage {
    /// The sender.
    pub from: SocketAddr,
    /// The IKE message.
    pub message: Vec<u8>,
}

/// The default of [`DataplaneConfig::ike_rate_per_source`]: far above what one peer sends
/// (a handshake is three or four requests), far below what a flood sends.
pub const DEFAULT_IKE_RATE_PER_SOURCE: u32 = 5000;

/// Traffic and drop counters of one SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaStats {
    /// The SA.
    pub spi: Spi,
    /// Its direction.
    pub direction: Direction,
    /// Inner packets sealed or opened.
    pub packets: u64,
    /// Inner bytes sealed or opened.
    pub bytes: u64,
    /// Packets dropped by the ESP layer, per reason.
    pub drops: DropCounters,
    /// Inbound packets that decrypted but did not match the SA's traffic selector.
    pub selector_mismatches: u64,
    /// Outbound: whether the SPD (or an N3IWF user-plane session) sends through this SA now.
    pub is_active: bool,
}

/// Why starting the dataplane or installing an SA failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum DataplaneError {
    /// A system call failed while setting up `what`.
    Io {
        /// What was being set up.
        what: &'static str,
        /// The error.
        source: io::Error,
    },
    /// The ESP layer refused an SA (key length, cipher, replay window).
    Esp(EspError),
    /// An SA with this SPI and direction is already installed.
    SpiInUse(Spi),
    /// No CHILD_SA has these SPIs.
    UnknownChildSa(ChildSaId),
    /// Sending IKE needs UDP encapsulation.
    NotUdp,
    /// A user-plane session with this DL TEID is already installed.
    TeidInUse(Teid),
    /// No user-plane session has this DL TEID.
    UnknownTeid(Teid),
    /// A user-plane session was refused for the reason given.
    InvalidUserPlane(&'static str),
    /// The dataplane has no N3 socket ([`DataplaneConfig::n3`]).
    NoN3,
}

impl fmt::Display for DataplaneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { what, source } => write!(f, "{what}: {source}"),
            Self::Esp(e) => write!(f, "SA refused: {e}"),
            Self::SpiInUse(spi) => write!(f, "SPI {spi} is already installed"),
            Self::UnknownChildSa(id) => write!(
                f,
                "no CHILD_SA with SPIs {}/{}",
                id.inbound_spi, id.outbound_spi
            ),
            Self::NotUdp => f.write_str("IKE messages need UDP encapsulation"),
            Self::TeidInUse(t) => write!(f, "DL TEID {t} is already installed"),
            Self::UnknownTeid(t) => write!(f, "no user-plane session with DL TEID {t}"),
            Self::InvalidUserPlane(why) => write!(f, "user-plane session refused: {why}"),
            Self::NoN3 => f.write_str("the dataplane has no N3 socket"),
        }
    }
}

impl std::error::Error for DataplaneError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Esp(e) => Some(e),
            _ => None,
        }
    }
}

impl From<EspError> for DataplaneError {
    fn from(e: EspError) -> Self {
        Self::Esp(e)
    }
}

/// Attaches what was being done to an I/O error.
pub(crate) fn io_err(what: &'static str) -> impl FnOnce(io::Error) -> DataplaneError {
    move |source| DataplaneError::Io { what, source }
}
