//! `[n3iwf]` as serde sees it; values checked after parsing keep their spans.

use serde::Deserialize;
use toml::Spanned;

use crate::config::raw::with_ike_fields;

/// `[n3iwf]`: what the N3IWF is, whom it serves, and its NWu IKE side.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawN3iwf {
    pub(crate) n3iwf_id: Spanned<i64>,
    pub(crate) plmn: Spanned<String>,
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) paging_drx: Option<Spanned<i64>>,
    pub(crate) nas_address: Spanned<String>,
    pub(crate) nas_port: Option<Spanned<i64>>,
    pub(crate) ue_pool: Spanned<String>,
    pub(crate) max_ues: Option<Spanned<i64>>,
    pub(crate) dl_nas_queue: Option<Spanned<i64>>,
    pub(crate) amf_reconnect: Option<Spanned<String>>,
    pub(crate) amf_reconnect_max: Option<Spanned<String>>,
    pub(crate) n3_address: Option<Spanned<String>>,
    pub(crate) up_address: Option<Spanned<String>>,
    pub(crate) max_pdu_sessions: Option<Spanned<i64>>,
    pub(crate) max_sessions_per_ue: Option<Spanned<i64>>,
    pub(crate) gre_protocol_type: Option<Spanned<String>>,
    pub(crate) ue_mtu: Option<Spanned<i64>>,
    pub(crate) mtu_policy: Option<Spanned<String>>,
    pub(crate) gtpu_echo_interval: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) timers: RawTimers,
    #[serde(default)]
    pub(crate) tracking_areas: Vec<Spanned<RawTrackingArea>>,
    #[serde(default)]
    pub(crate) amfs: Vec<Spanned<RawAmf>>,
    pub(crate) ike: Spanned<RawNwuIke>,
}

/// `[n3iwf.timers]`: the core's guard timers.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTimers {
    pub(crate) amf_answer: Option<Spanned<String>>,
    pub(crate) ue_answer: Option<Spanned<String>>,
    pub(crate) signalling_sa: Option<Spanned<String>>,
    pub(crate) release_command: Option<Spanned<String>>,
    pub(crate) ng_setup: Option<Spanned<String>>,
}

/// `[[n3iwf.tracking_areas]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrackingArea {
    pub(crate) tac: Spanned<RawTac>,
    pub(crate) plmns: Spanned<Vec<Spanned<RawPlmnSlices>>>,
}

/// A TAC: a number, or six hex digits as 3GPP configurations write it.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RawTac {
    Number(i64),
    Hex(String),
}

/// One broadcast PLMN of a tracking area, with its slices.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlmnSlices {
    pub(crate) plmn: Spanned<String>,
    pub(crate) slices: Spanned<Vec<Spanned<String>>>,
}

/// `[[n3iwf.amfs]]`: one N2 association.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAmf {
    pub(crate) name: Spanned<String>,
    pub(crate) address: Spanned<String>,
    pub(crate) port: Option<Spanned<i64>>,
    pub(crate) transport: Option<Spanned<String>>,
    pub(crate) lower: Option<Spanned<String>>,
    pub(crate) udp_port: Option<Spanned<i64>>,
    pub(crate) local_udp_port: Option<Spanned<i64>>,
    pub(crate) local: Option<Spanned<String>>,
}

with_ike_fields! {
    /// `[n3iwf.ike]`: the IKE SAs with UEs, as a connection's settings without the peer side.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawNwuIke {
        id: Option<Spanned<String>>,
        #[serde(default)]
        certs: Vec<Spanned<String>>,
        key: Option<Spanned<String>>,
        proposals: Option<Spanned<Vec<Spanned<String>>>>,
        esp_proposals: Option<Spanned<Vec<Spanned<String>>>>,
        up_esp_proposals: Option<Spanned<Vec<Spanned<String>>>>,
        @timers,
        @ppk,
    }
}

/// The hybrid post-quantum proposal; anything else (the legacy profile of free5GC's UE
/// included) only when listed.
pub(crate) const DEFAULT_NWU_PROPOSAL: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
