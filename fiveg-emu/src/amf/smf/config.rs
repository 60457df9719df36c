//! The emulated SMF's configuration.

use std::net::{IpAddr, Ipv4Addr};

use n3iwf::ids::Qfi;

use super::pool::Ipv4Prefix;
use crate::nas::SNssai;
use crate::nas::sm::{Dnn, SessionAmbr, SmBitRate, SmCause};

/// A QoS flow the SMF gives every session: its QFI and standardized 5QI (non-GBR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    pub qfi: Qfi,
    pub five_qi: u8,
}

/// A second flow, for the UDP traffic to one remote port (its QoS rule's packet filter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecondFlow {
    pub flow: FlowConfig,
    pub remote_port: u16,
}

/// The SMF's configuration.
#[derive(Clone, Debug)]
pub struct SmfConfig {
    /// Where UE addresses come from.
    pub pool: Ipv4Prefix,
    /// The UPF's N3 address: the UL tunnel's end.
    pub upf_n3: IpAddr,
    /// The only DNN served; a request without a DNN gets it.
    pub dnn: Dnn,
    /// The slice of a request without an S-NSSAI.
    pub default_snssai: SNssai,
    /// The default QoS flow (the default QoS rule's QFI).
    pub default_flow: FlowConfig,
    pub second_flow: Option<SecondFlow>,
    pub session_ambr: SessionAmbr,
    /// The most sessions at once, over all UEs (also the bound of UL TEIDs).
    pub max_sessions: usize,
    /// The first UL TEID handed out.
    pub first_teid: u32,
    /// Fault injection: refuse every establishment with this cause.
    pub refuse_with: Option<SmCause>,
}

impl Default for SmfConfig {
    /// 10.60.0.0/16, UPF at 127.0.0.1, DNN "internet", SST 1, QFI 1 with 5QI 9, 1 Gbps / 500
    /// Mbps, 1024 sessions.
    fn default() -> Self {
        Self {
            pool: Ipv4Prefix::new(Ipv4Addr::new(10, 60, 0, 0), 16)
                .unwrap_or_else(|| unreachable!("a valid prefix")),
            upf_n3: IpAddr::V4(Ipv4Addr::LOCALHOST),
            dnn: Dnn::new("internet").unwrap_or_else(|| unreachable!("a valid DNN")),
            default_snssai: SNssai::new(1, None),
            default_flow: FlowConfig {
                qfi: Qfi::from_octet(1),
                five_qi: 9,
            },
            second_flow: None,
            session_ambr: SessionAmbr {
                downlink: SmBitRate::mbps(1000),
                uplink: SmBitRate::mbps(500),
            },
            max_sessions: 1024,
            first_teid: 1,
            refuse_with: None,
        }
    }
}

impl SmfConfig {
    /// The flows of every session, the default one first.
    pub fn flows(&self) -> Vec<FlowConfig> {
        std::iter::once(self.default_flow)
            .chain(self.second_flow.map(|second| second.flow))
            .collect()
    }
}
