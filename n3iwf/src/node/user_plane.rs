//! What the core asks of the engine and the datapath for a PDU session: the Child SAs to create
//! towards the UE, and the user-plane state that joins them to the session's GTP-U tunnels.

use std::net::{IpAddr, Ipv4Addr};

use super::handles::IkeSaRef;
use crate::ids::{PduSessionId, Qfi, Teid};
use crate::ngap::{GtpTunnel, SessionAmbr};
use crate::wire::WireError;
use crate::wire::notify3gpp::N3gppNotify;
use crate::wire::qos_info::QosInfo;

/// Names one CREATE_CHILD_SA the core asked for, until the engine reports its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildRequestId(pub u64);

/// A user-plane Child SA to create with the UE (TS 24.502 §7.5.1): CREATE_CHILD_SA started by
/// the N3IWF, with traffic selectors of the UE's inner address and the UP address, and the
/// 5G_QOS_INFO and UP_IP4_ADDRESS (or UP_IP6_ADDRESS) notifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserPlaneChildRequest {
    pub id: ChildRequestId,
    pub pdu_session_id: PduSessionId,
    /// The UE's end of the traffic selectors.
    pub ue_inner_address: Ipv4Addr,
    /// The N3IWF's end: where the UE sends GRE (TS 24.502 §9.3.1.3).
    pub up_address: IpAddr,
    /// The session, its QFIs and whether this is its default Child SA.
    pub qos_info: QosInfo,
}

impl UserPlaneChildRequest {
    /// The 3GPP notifies of the CREATE_CHILD_SA request, in the order to send them.
    ///
    /// # Errors
    /// None in practice: the QoS information the core builds has at most 64 QFIs.
    pub fn notifies(&self) -> Result<[N3gppNotify; 2], WireError> {
        self.qos_info.to_bytes()?;
        let up = match self.up_address {
            IpAddr::V4(v4) => N3gppNotify::UpIp4Address(v4),
            IpAddr::V6(v6) => N3gppNotify::UpIp6Address(v6),
        };
        Ok([N3gppNotify::QosInfo(self.qos_info.clone()), up])
    }
}

/// A Child SA of a session: its SPIs and the QoS flows it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserPlaneChild {
    /// Our SPI: the UE's ESP to us carries it.
    pub inbound_spi: u32,
    /// The UE's SPI: our ESP to the UE carries it.
    pub outbound_spi: u32,
    pub qfis: Vec<Qfi>,
    /// The default Child SA takes the session's QFIs no other child names.
    pub default: bool,
}

/// The user-plane state of one PDU session, for the datapath: uplink GRE from the UE's Child
/// SAs goes to the UPF's tunnel, downlink G-PDUs to `dl_teid` go to the UE in GRE on the child
/// of their QFI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserPlaneSession {
    pub sa: IkeSaRef,
    pub pdu_session_id: PduSessionId,
    /// Our end of the N3 tunnel.
    pub dl_teid: Teid,
    /// The UPF's end of the N3 tunnel: its address and the UL TEID.
    pub upf: GtpTunnel,
    pub ue_inner_address: Ipv4Addr,
    pub up_address: IpAddr,
    pub children: Vec<UserPlaneChild>,
    pub session_ambr: Option<SessionAmbr>,
}

impl UserPlaneSession {
    /// The child that carries `qfi`: the one naming it, else the default one.
    pub fn child_of(&self, qfi: Qfi) -> Option<&UserPlaneChild> {
        self.children
            .iter()
            .find(|c| c.qfis.contains(&qfi))
            .or_else(|| self.children.iter().find(|c| c.default))
    }
}
