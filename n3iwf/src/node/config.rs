//! The N3IWF's configuration and its checks.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::ngap::{GlobalN3iwfId, PagingDrx, SupportedTa};

/// What the N3IWF is and whom it serves. The daemon reads it from its configuration file and
/// reports a [`ConfigError`] with the file, line and field.
#[derive(Clone, Debug)]
pub struct N3iwfConfig {
    /// Global N3IWF ID of NG SETUP REQUEST: the PLMN and the 16-bit N3IWF ID.
    pub global_id: GlobalN3iwfId,
    /// RAN node name of NG SETUP REQUEST.
    pub ran_node_name: Option<String>,
    /// Tracking areas, each with its broadcast PLMNs and their slices.
    pub supported_tas: Vec<SupportedTa>,
    /// Default Paging DRX of NG SETUP REQUEST (mandatory there).
    pub default_paging_drx: PagingDrx,
    /// The AMFs, one N2 association each; [`AmfRef`](super::AmfRef) is the position here.
    pub amfs: Vec<AmfPeer>,
    /// The pool of UE inner addresses (CP INTERNAL_IP4_ADDRESS).
    pub inner_pool: InnerPoolConfig,
    /// Where the UE connects for NAS over TCP (NAS_IP4_ADDRESS): the N3IWF's inner address.
    pub nas_address: Ipv4Addr,
    /// NAS_TCP_PORT.
    pub nas_tcp_port: u16,
    /// Where the UE sends user-plane GRE (UP_IP4_ADDRESS, the far end of the user-plane Child
    /// SAs' traffic selectors); `None` for the NAS address, as free5GC does.
    pub up_address: Option<IpAddr>,
    /// Our N3 address: the DL end of every session's GTP-U tunnel, in the setup response
    /// transfers. `None` refuses PDU sessions (transport-resource-unavailable).
    pub n3_address: Option<IpAddr>,
    pub timers: GuardTimers,
    pub limits: Limits,
}

/// An AMF as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmfPeer {
    /// The operator's label, for listings until NG SETUP RESPONSE gives the AMF's own name.
    pub label: String,
}

/// A pool of IPv4 addresses: `network/prefix_len`, without the network and broadcast
/// addresses and the NAS address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InnerPoolConfig {
    pub network: Ipv4Addr,
    pub prefix_len: u8,
}

/// How long the core waits for each party before it gives up on a UE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardTimers {
    /// A held IKE_AUTH request waits this long for the AMF; then EAP-Failure and a UE context
    /// release. Keep it below the UE's IKE retransmission budget.
    pub amf_answer: Duration,
    /// The UE has this long to send its next EAP response.
    pub ue_answer: Duration,
    /// After EAP-Success, the final IKE_AUTH must set up the signalling SA within this.
    pub signalling_sa: Duration,
    /// After UE CONTEXT RELEASE REQUEST, the AMF has this long to send the COMMAND; then the
    /// context is released locally.
    pub release_command: Duration,
    /// NG SETUP REQUEST waits this long for an answer, and a refused one is tried again after
    /// this when the AMF gives no Time to Wait.
    pub ng_setup: Duration,
}

impl Default for GuardTimers {
    fn default() -> Self {
        Self {
            amf_answer: Duration::from_secs(6),
            ue_answer: Duration::from_secs(30),
            signalling_sa: Duration::from_secs(10),
            release_command: Duration::from_secs(10),
            ng_setup: Duration::from_secs(5),
        }
    }
}

/// Bounds on what the core holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// UE contexts at once, counted from the first IKE_AUTH request.
    pub max_ues: usize,
    /// Downlink NAS messages held per UE while it cannot take them: during an EAP round trip,
    /// or before its NAS TCP connection is up. One more is answered with NAS NON DELIVERY
    /// INDICATION.
    pub dl_nas_queue: usize,
    /// The largest NAS message accepted on a NAS TCP connection.
    pub max_nas_message: usize,
    /// PDU sessions of the node at once: the DL TEIDs are 1 to this.
    pub max_pdu_sessions: usize,
    /// PDU sessions of one UE at once (set up or being set up); PDU session IDs 1 to 15 identify
    /// a UE's sessions (TS 24.007 §11.2.3.1b).
    pub max_sessions_per_ue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_ues: 10_000,
            dl_nas_queue: 16,
            max_nas_message: u16::MAX as usize,
            max_pdu_sessions: 65_536,
            max_sessions_per_ue: 15,
        }
    }
}

/// A configuration value the core cannot work with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The field, as named in [`N3iwfConfig`].
    pub field: &'static str,
    pub reason: &'static str,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl N3iwfConfig {
    /// Where the UE sends user-plane GRE: [`N3iwfConfig::up_address`], else the NAS address.
    pub fn user_plane_address(&self) -> IpAddr {
        self.up_address.unwrap_or(IpAddr::V4(self.nas_address))
    }

    /// Checks the values NGAP and the pool need.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let error = |field, reason| Err(ConfigError { field, reason });
        if self.amfs.is_empty() {
            return error("amfs", "at least one AMF is needed");
        }
        if self.amfs.len() > usize::from(u16::MAX) {
            return error("amfs", "at most 65535 AMFs");
        }
        self.validate_tas()?;
        self.inner_pool.validate()?;
        if self.nas_tcp_port == 0 {
            return error("nas_tcp_port", "port 0 cannot be connected to");
        }
        self.limits.validate()?;
        self.timers.validate()
    }

    fn validate_tas(&self) -> Result<(), ConfigError> {
        let error = |reason| {
            Err(ConfigError {
                field: "supported_tas",
                reason,
            })
        };
        if self.supported_tas.is_empty() {
            return error("NG SETUP REQUEST needs at least one tracking area");
        }
        for ta in &self.supported_tas {
            if ta.broadcast_plmns.is_empty() {
                return error("each tracking area needs at least one PLMN");
            }
            if ta.broadcast_plmns.iter().any(|p| p.slices.is_empty()) {
                return error("each PLMN of a tracking area needs at least one slice");
            }
        }
        Ok(())
    }
}

impl InnerPoolConfig {
    /// The netmask of the pool's prefix.
    pub fn netmask(self) -> Ipv4Addr {
        Ipv4Addr::from(
            u32::MAX
                .checked_shl(32 - u32::from(self.prefix_len))
                .unwrap_or(0),
        )
    }

    fn validate(self) -> Result<(), ConfigError> {
        let error = |reason| {
            Err(ConfigError {
                field: "inner_pool",
                reason,
            })
        };
        if !(8..=30).contains(&self.prefix_len) {
            return error("the prefix length must be between 8 and 30");
        }
        if u32::from(self.network) & !u32::from(self.netmask()) != 0 {
            return error("the address has bits set beyond the prefix length");
        }
        Ok(())
    }
}

impl Limits {
    fn validate(self) -> Result<(), ConfigError> {
        let error = |field, reason| Err(ConfigError { field, reason });
        if self.max_ues == 0 || self.max_ues > 1 << 24 {
            return error("limits.max_ues", "between 1 and 16777216");
        }
        if self.dl_nas_queue == 0 {
            return error("limits.dl_nas_queue", "at least 1");
        }
        if self.max_nas_message == 0 || self.max_nas_message > usize::from(u16::MAX) {
            return error("limits.max_nas_message", "between 1 and 65535 octets");
        }
        if self.max_pdu_sessions == 0 || self.max_pdu_sessions > u32::MAX as usize {
            return error("limits.max_pdu_sessions", "between 1 and 4294967295");
        }
        if self.max_sessions_per_ue == 0 || self.max_sessions_per_ue > 255 {
            return error("limits.max_sessions_per_ue", "between 1 and 255");
        }
        Ok(())
    }
}

impl GuardTimers {
    fn validate(self) -> Result<(), ConfigError> {
        let timers = [
            ("timers.amf_answer", self.amf_answer),
            ("timers.ue_answer", self.ue_answer),
            ("timers.signalling_sa", self.signalling_sa),
            ("timers.release_command", self.release_command),
            ("timers.ng_setup", self.ng_setup),
        ];
        match timers.iter().find(|(_, d)| d.is_zero()) {
            Some((field, _)) => Err(ConfigError {
                field,
                reason: "must be longer than zero",
            }),
            None => Ok(()),
        }
    }
}
