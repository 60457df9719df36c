//! The UPF's session rules: one per PDU session tunnel, found in O(1) by the uplink TEID (N3
//! packets) and by the UE address (N6 packets).

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use userplane::{LocalTeid, Qfi, Teid};

/// What an SMF would install for one PDU session: the uplink tunnel we terminate and the
/// downlink tunnel towards the access node (gNB or N3IWF).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionRule {
    /// Our TEID for uplink G-PDUs (the N3IWF's UL NG-U UP TNL Information).
    pub ul_teid: LocalTeid,
    /// The UE's PDU address: the source of uplink and destination of downlink packets.
    pub ue_address: IpAddr,
    /// The access node's N3 address and UDP port, where downlink G-PDUs go.
    pub peer: SocketAddr,
    /// The access node's TEID for downlink G-PDUs.
    pub dl_teid: Teid,
    /// The QFI written into downlink PDU Session Containers.
    pub qfi: Qfi,
    /// The RQI written into downlink PDU Session Containers.
    pub rqi: bool,
}

/// Why a rule was not installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// Another rule has this UE address.
    DuplicateUeAddress,
    /// Another rule has this uplink TEID.
    DuplicateUlTeid,
    /// The table holds its maximum of rules.
    Full {
        /// The maximum.
        max: usize,
    },
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateUeAddress => f.write_str("a rule with this UE address exists"),
            Self::DuplicateUlTeid => f.write_str("a rule with this uplink TEID exists"),
            Self::Full { max } => write!(f, "the rule table is full ({max} rules)"),
        }
    }
}

impl std::error::Error for RuleError {}

/// The rules, indexed both ways, never more than `max`.
#[derive(Debug)]
pub(crate) struct RuleTable {
    by_teid: HashMap<LocalTeid, SessionRule>,
    by_ue: HashMap<IpAddr, LocalTeid>,
    max: usize,
}

impl RuleTable {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            by_teid: HashMap::new(),
            by_ue: HashMap::new(),
            max,
        }
    }

    pub(crate) fn insert(&mut self, rule: SessionRule) -> Result<(), RuleError> {
        if self.by_teid.contains_key(&rule.ul_teid) {
            return Err(RuleError::DuplicateUlTeid);
        }
        if self.by_ue.contains_key(&rule.ue_address) {
            return Err(RuleError::DuplicateUeAddress);
        }
        if self.by_teid.len() >= self.max {
            return Err(RuleError::Full { max: self.max });
        }
        self.by_ue.insert(rule.ue_address, rule.ul_teid);
        self.by_teid.insert(rule.ul_teid, rule);
        Ok(())
    }

    pub(crate) fn remove(&mut self, ul_teid: LocalTeid) -> Option<SessionRule> {
        let rule = self.by_teid.remove(&ul_teid)?;
        self.by_ue.remove(&rule.ue_address);
        Some(rule)
    }

    pub(crate) fn by_ul_teid(&self, teid: Teid) -> Option<&SessionRule> {
        self.by_teid.get(&LocalTeid::try_from(teid).ok()?)
    }

    pub(crate) fn by_ue_address(&self, address: IpAddr) -> Option<&SessionRule> {
        self.by_teid.get(self.by_ue.get(&address)?)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_teid.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &SessionRule> {
        self.by_teid.values()
    }

    /// Whether any rule sends to `peer`.
    pub(crate) fn has_peer(&self, peer: SocketAddr) -> bool {
        self.by_teid.values().any(|r| r.peer == peer)
    }
}
