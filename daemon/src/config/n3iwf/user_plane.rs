//! The N3IWF's user plane in `[n3iwf]`: the N3 (GTP-U) address, the GRE endpoint the UEs see,
//! the GRE and MTU choices of the datapath, GTP-U path supervision, the PDU session bounds,
//! and the Child SA template of the user-plane SAs (`[n3iwf.ike] up_esp_proposals`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use dataplane::{GTPU_PORT, GreProtocolType, OversizePolicy};
use ikev2::wire::IpSelector;
use ikev2::{Lifetime, ProposalSpec};
use toml::Spanned;

use super::raw::{RawN3iwf, RawNwuIke};
use super::{N3iwfSettings, USER_PLANE_CHILD};
use crate::config::load::Validator;
use crate::config::values::traffic_selector;
use crate::config::{Child, CloseAction, DpdAction, TrafficLimits};

/// What the daemon does for the user plane beyond the core's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserPlaneSettings {
    /// Protocol Type of the GRE headers towards UEs.
    pub gre_protocol: GreProtocolType,
    /// Largest outer packet towards a UE (IP + UDP + ESP).
    pub ue_mtu: u16,
    /// What the datapath does with downlink packets beyond `ue_mtu`.
    pub mtu_policy: OversizePolicy,
    /// GTP-U Echo Requests to each UPF in use this often; `None`: no path supervision.
    pub echo_interval: Option<Duration>,
}

impl Default for UserPlaneSettings {
    fn default() -> Self {
        Self {
            gre_protocol: GreProtocolType::InnerEtherType,
            ue_mtu: DEFAULT_UE_MTU,
            mtu_policy: OversizePolicy::Fragment,
            echo_interval: Some(DEFAULT_ECHO_INTERVAL),
        }
    }
}

impl N3iwfSettings {
    /// The N3 socket of the datapath: the N3 address, port 2152.
    pub fn n3_socket(&self) -> Option<SocketAddr> {
        self.core.n3_address.map(|a| SocketAddr::new(a, GTPU_PORT))
    }
}

/// The user-plane values read from `[n3iwf]`.
pub(super) struct UserPlaneValues {
    pub(super) n3_address: Option<IpAddr>,
    pub(super) up_address: Option<IpAddr>,
    pub(super) max_pdu_sessions: usize,
    pub(super) max_sessions_per_ue: usize,
    pub(super) settings: UserPlaneSettings,
}

impl Validator<'_> {
    /// `n3_address`, `up_address`, the bounds, GRE, MTU and echo settings.
    pub(super) fn user_plane_values(&mut self, n: &RawN3iwf) -> UserPlaneValues {
        let n3_address = self.unicast("n3iwf.n3_address", n.n3_address.as_ref());
        let up_address = self.unicast("n3iwf.up_address", n.up_address.as_ref());
        if let Some(a) = n
            .up_address
            .as_ref()
            .filter(|_| up_address.is_some_and(|u| u.is_ipv6()))
        {
            self.error(&a.span(), "n3iwf.up_address", "must be IPv4: the UEs' inner addresses are IPv4 (UP_IP6_ADDRESS is not supported yet)");
        }
        let d = ::n3iwf::node::Limits::default();
        let max_pdu_sessions = self.int_in(
            "n3iwf.max_pdu_sessions",
            n.max_pdu_sessions.as_ref(),
            1,
            MAX_PDU_SESSIONS,
            d.max_pdu_sessions as i64,
        ) as usize;
        let max_sessions_per_ue = self.int_in(
            "n3iwf.max_sessions_per_ue",
            n.max_sessions_per_ue.as_ref(),
            1,
            15,
            d.max_sessions_per_ue as i64,
        ) as usize;
        let settings = UserPlaneSettings {
            gre_protocol: self.gre_protocol(n.gre_protocol_type.as_ref()),
            ue_mtu: self.int_in(
                "n3iwf.ue_mtu",
                n.ue_mtu.as_ref(),
                1280,
                9000,
                DEFAULT_UE_MTU.into(),
            ) as u16,
            mtu_policy: self.mtu_policy(n.mtu_policy.as_ref()),
            echo_interval: self.echo_interval(n.gtpu_echo_interval.as_ref()),
        };
        UserPlaneValues {
            n3_address,
            up_address,
            max_pdu_sessions,
            max_sessions_per_ue,
            settings,
        }
    }

    fn unicast(&mut self, field: &str, raw: Option<&Spanned<String>>) -> Option<IpAddr> {
        let raw = raw?;
        let text = raw.get_ref();
        let why = match text.parse::<IpAddr>() {
            Ok(a) if !(a.is_unspecified() || a.is_multicast()) && a != IpAddr::from([255; 4]) => {
                return Some(a);
            }
            Ok(_) => "must be a unicast address of this host",
            Err(_) => "is not an IP address",
        };
        self.error(&raw.span(), field, format!("'{text}' {why}"));
        None
    }

    fn gre_protocol(&mut self, raw: Option<&Spanned<String>>) -> GreProtocolType {
        match raw.map(|v| (v.get_ref().as_str(), v.span())) {
            None | Some(("ethertype", _)) => GreProtocolType::InnerEtherType,
            Some(("zero", _)) => GreProtocolType::Zero,
            Some((other, span)) => {
                self.error(
                    &span,
                    "n3iwf.gre_protocol_type",
                    format!("'{other}' is not \"ethertype\" (the inner packet's) or \"zero\" (TS 24.502 §9.3.3)"),
                );
                GreProtocolType::InnerEtherType
            }
        }
    }

    fn mtu_policy(&mut self, raw: Option<&Spanned<String>>) -> OversizePolicy {
        match raw.map(|v| (v.get_ref().as_str(), v.span())) {
            None | Some(("fragment", _)) => OversizePolicy::Fragment,
            Some(("drop", _)) => OversizePolicy::Drop,
            Some((other, span)) => {
                self.error(
                    &span,
                    "n3iwf.mtu_policy",
                    format!(
                        "'{other}' is not \"fragment\" (the inner packet, before ESP) or \"drop\""
                    ),
                );
                OversizePolicy::Fragment
            }
        }
    }

    /// `"0"` (or `"0s"`) turns supervision off; otherwise 1s to 1h.
    fn echo_interval(&mut self, raw: Option<&Spanned<String>>) -> Option<Duration> {
        let Some(v) = raw else {
            return Some(DEFAULT_ECHO_INTERVAL);
        };
        let field = "n3iwf.gtpu_echo_interval";
        let d = self.opt_duration(field, Some(v), MAX_ECHO_INTERVAL)?;
        if d.is_zero() {
            return None;
        }
        if d < MIN_ECHO_INTERVAL {
            self.error(&v.span(), field, "must be 0 (off) or at least 1s (TS 29.281 §7.2.1 asks for no more than one Echo Request a minute per path; seconds are for tests)");
        }
        Some(d.max(MIN_ECHO_INTERVAL))
    }

    /// The user-plane Child SAs' template: our UP address/32 and the UE pool, AEAD proposals
    /// by default. `up` is the address the UEs send GRE to.
    pub(super) fn user_plane_child(
        &mut self,
        ike: &RawNwuIke,
        up: IpAddr,
        pool: &str,
    ) -> Option<Child> {
        let field = format!("{}.up_esp_proposals", super::ike::TABLE);
        let (esp_proposals, esp_specs) = match &ike.up_esp_proposals {
            Some(p) => self.proposals(&field, p, ProposalSpec::parse_esp),
            None => {
                let texts: Vec<String> = DEFAULT_UP_ESP.iter().map(|s| s.to_string()).collect();
                let specs = DEFAULT_UP_ESP
                    .iter()
                    .filter_map(|p| ProposalSpec::parse_esp(p).ok())
                    .collect();
                (texts, specs)
            }
        };
        let selector = |s: &str| -> Option<IpSelector> { traffic_selector(s).ok() };
        Some(Child {
            name: USER_PLANE_CHILD.into(),
            local_ts: vec![selector(&format!("{up}/32"))?],
            remote_ts: vec![selector(pool)?],
            esp_proposals,
            lifetime: Lifetime::CHILD_DEFAULT,
            dpd_action: DpdAction::Clear,
            close_action: CloseAction::None,
            limits: TrafficLimits::default(),
            esp_specs,
        })
    }
}

/// AEADs only: never ESP without integrity, and no extra integrity transform to pay for.
const DEFAULT_UP_ESP: [&str; 2] = ["aes256gcm16", "aes128gcm16"];
const DEFAULT_UE_MTU: u16 = 1500;
const DEFAULT_ECHO_INTERVAL: Duration = Duration::from_secs(60);
const MIN_ECHO_INTERVAL: Duration = Duration::from_secs(1);
const MAX_ECHO_INTERVAL: Duration = Duration::from_secs(3600);
/// DL TEIDs are 1 to this; a million sessions is beyond any one N3IWF process.
const MAX_PDU_SESSIONS: i64 = 1 << 20;
