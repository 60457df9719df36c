//! The N3IWF user plane as the owner installs it: PDU sessions whose user-plane Child SAs carry
//! GRE (TS 24.502 §9.3.3) between the UE and the N3IWF, forwarded to and from GTP-U tunnels on
//! N3 (TS 29.281) by the workers.

use std::net::{IpAddr, SocketAddr};

use esp::Spi;
use userplane::{GreProtocolType, Qfi, Teid};

/// What a worker does with a downlink packet whose ESP packet would exceed
/// [`DataplaneConfig::n3_ue_mtu`](crate::DataplaneConfig).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OversizePolicy {
    /// Fragment the inner IP (GRE) packet before encryption, each fragment in an ESP packet of
    /// its own; the UE reassembles (`mtu_fragmented`).
    #[default]
    Fragment,
    /// Drop and count (`mtu_drops`).
    Drop,
}

/// One PDU session's user plane, installed with
/// [`DataplaneHandle::add_user_plane`](crate::DataplaneHandle). Its Child SAs are installed
/// beforehand with [`DataplaneHandle::install_child_sa`](crate::DataplaneHandle) (selector: the
/// UP address and the UE's inner address); from then on their inbound SAs deliver to N3, never
/// to the TUN device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserPlaneSession {
    /// Our TEID: downlink G-PDUs carry it. Never 0, unique.
    pub dl_teid: Teid,
    /// The UPF's N3 address (UDP port 2152).
    pub upf: SocketAddr,
    /// The UPF's TEID for uplink G-PDUs.
    pub ul_teid: Teid,
    /// The UE's inner IPsec address (the GRE packets' far end).
    pub ue_address: IpAddr,
    /// The N3IWF's GRE endpoint (UP_IP4_ADDRESS / UP_IP6_ADDRESS); same family as
    /// `ue_address`.
    pub up_address: IpAddr,
    /// The UE's PDU session address: when set, uplink payloads from another source are dropped.
    pub pdu_address: Option<IpAddr>,
    /// Which Child SAs carry what.
    pub children: UserPlaneChildren,
    /// QFI for uplink GRE packets without a key (counted as `gre_no_key`).
    pub default_qfi: Qfi,
    /// Protocol Type of the GRE headers we build.
    pub gre_protocol: GreProtocolType,
}

/// Traffic counters of one PDU session's user plane
/// ([`DataplaneHandle::user_plane_stats`](crate::DataplaneHandle)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserPlaneStats {
    /// The session.
    pub dl_teid: Teid,
    /// Uplink user packets forwarded to the UPF.
    pub ul_packets: u64,
    /// Their octets (the user packets, without GTP-U).
    pub ul_bytes: u64,
    /// Uplink packets refused (not GRE from the UE to the UP address, unreadable GRE, wrong
    /// source); the reasons are in the dataplane-wide counters.
    pub ul_drops: u64,
    /// Downlink user packets sealed towards the UE.
    pub dl_packets: u64,
    /// Their octets (the user packets, without GRE).
    pub dl_bytes: u64,
    /// Downlink packets dropped (too large for the path, Child SA missing).
    pub dl_drops: u64,
}

/// The Child SAs of a PDU session: a rekey replaces them with
/// [`DataplaneHandle::update_user_plane`](crate::DataplaneHandle).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserPlaneChildren {
    /// Outbound SA for QFIs not in `by_qfi` (the Child SA the N3IWF marked default).
    pub default_spi: Spi,
    /// Outbound SA per QFI.
    pub by_qfi: Vec<(Qfi, Spi)>,
    /// Inbound SAs whose decrypted packets are this session's uplink GRE.
    pub inbound: Vec<Spi>,
}
