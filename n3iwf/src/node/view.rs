//! Read-only views for `ikectl list-ues` and `ikectl list-amfs`.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::amf::{AmfLink, LinkState};
use super::handles::{AmfRef, IkeSaRef};
use crate::ngap::{AmfUeNgapId, RanUeNgapId};
use crate::ue::Ue;

/// One UE context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UeView {
    /// The UE's IKE SA (the last one known, when it is gone).
    pub ike_sa: IkeSaRef,
    /// The UE's IKE address and port, after any NAT.
    pub outer: SocketAddr,
    pub amf: Option<AmfRef>,
    pub ran_ue_ngap_id: Option<RanUeNgapId>,
    pub amf_ue_ngap_id: Option<AmfUeNgapId>,
    /// A short name of the state (`eap-wait-amf`, `registered`, `releasing`, …).
    pub state: &'static str,
    pub inner_address: Option<Ipv4Addr>,
    pub timings: PhaseTimings,
}

/// When each phase ended, counted from the start of EAP-5G.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhaseTimings {
    /// Time IKE_AUTH requests were held waiting for the AMF, summed.
    pub amf_time: Duration,
    /// KN3IWF received (INITIAL CONTEXT SETUP REQUEST) and EAP-Success sent.
    pub kn3iwf: Option<Duration>,
    /// Signalling SA up (final IKE_AUTH completed).
    pub signalling_sa_up: Option<Duration>,
    /// NAS TCP connection up.
    pub nas_tcp_ready: Option<Duration>,
}

/// One configured AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmfView {
    pub amf: AmfRef,
    /// The configured label.
    pub label: String,
    /// `down`, `setting-up`, `refused` or `ready`.
    pub state: &'static str,
    /// The AMF's own name, from NG SETUP RESPONSE.
    pub name: Option<String>,
    pub served_guamis: usize,
    pub relative_capacity: Option<u8>,
}

impl UeView {
    pub(crate) fn of(ue: &Ue) -> Self {
        let common = &ue.common;
        let t = common.timings;
        let since = |at: Option<std::time::Instant>| {
            at.map(|at| at.saturating_duration_since(t.eap_started))
        };
        Self {
            ike_sa: common.ike_sa,
            outer: common.outer,
            amf: common.keys.amf,
            ran_ue_ngap_id: common.keys.ran,
            amf_ue_ngap_id: common.keys.amf_ue,
            state: ue.state_name(),
            inner_address: common.keys.inner,
            timings: PhaseTimings {
                amf_time: t.amf_time,
                kn3iwf: since(t.kn3iwf),
                signalling_sa_up: since(t.signalling_up),
                nas_tcp_ready: since(t.nas_tcp_ready),
            },
        }
    }
}

impl AmfView {
    pub(crate) fn of(amf: AmfRef, link: &AmfLink) -> Self {
        let (state, info) = match &link.state {
            LinkState::Down => ("down", None),
            LinkState::SettingUp { .. } => ("setting-up", None),
            LinkState::Refused { .. } => ("refused", None),
            LinkState::Ready(info) => ("ready", Some(info)),
        };
        Self {
            amf,
            label: link.label.clone(),
            state,
            name: info.map(|i| i.name.clone()),
            served_guamis: info.map_or(0, |i| i.served.len()),
            relative_capacity: info.map(|i| i.relative_capacity),
        }
    }
}
