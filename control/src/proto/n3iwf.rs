//! What `list-ues`, `list-amfs` and the N3IWF section of `stats` carry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A UE context of the N3IWF (`list-ues`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UeView {
    /// The UE's IKE SA: our SPI in hex, as `list-sas` names it.
    pub ike_sa: String,
    /// The UE's IKE address and port, after any NAT.
    pub outer: String,
    /// The AMF serving it (its configured name), once chosen.
    pub amf: Option<String>,
    pub ran_ue_ngap_id: Option<u32>,
    pub amf_ue_ngap_id: Option<u64>,
    /// `eap-start`, `eap-wait-amf`, `eap-wait-ue`, `signalling-sa`, `registered`,
    /// `releasing`, … (the core's state names).
    pub state: String,
    pub inner_address: Option<String>,
    pub timings: UeTimingsView,
}

/// When each phase of a UE's registration ended, in microseconds from its first IKE_AUTH
/// request (EAP-5G start).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UeTimingsView {
    /// Time its IKE_AUTH requests waited for the AMF, summed.
    pub amf_wait_micros: u64,
    /// KN3IWF received and EAP-Success sent.
    pub eap_success_micros: Option<u64>,
    /// The signalling SA is up (final IKE_AUTH done).
    pub signalling_sa_micros: Option<u64>,
    /// The UE's NAS TCP connection is up.
    pub nas_tcp_micros: Option<u64>,
}

/// An AMF of the N3IWF (`list-amfs`, and in `stats`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmfView {
    /// Its configured name.
    pub name: String,
    /// Its SCTP address and port.
    pub address: String,
    /// `kernel`, `usrsctp/raw` or `usrsctp/udp`.
    pub transport: String,
    /// `up` or `down`.
    pub association: String,
    /// `down`, `setting-up`, `refused` or `ready` (NG Setup done).
    pub ng_setup: String,
    /// The AMF's own name, from NG SETUP RESPONSE.
    pub amf_name: Option<String>,
    pub served_guamis: usize,
    pub relative_capacity: Option<u8>,
    pub outbound_streams: Option<u16>,
    pub inbound_streams: Option<u16>,
    /// Seconds since the association came up.
    pub up_secs: Option<u64>,
    /// Associations set up, attempts that failed, associations lost, restarts by the AMF.
    pub connects: u64,
    pub connect_failures: u64,
    pub losses: u64,
    pub restarts: u64,
    /// Why the last attempt failed or the association was lost.
    pub last_error: Option<String>,
    /// UE contexts it serves.
    pub ues: usize,
}

/// The N3IWF's counters in `stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct N3iwfStatsView {
    /// UE contexts now, and inner addresses handed out.
    pub ues: usize,
    pub inner_addresses_in_use: usize,
    /// UEs that started EAP-5G, and registrations (signalling SA up and INITIAL CONTEXT
    /// SETUP RESPONSE sent).
    pub eap_started: u64,
    pub registrations: u64,
    /// Contexts that ended before registration, and after it, by cause.
    pub failures: BTreeMap<String, u64>,
    pub releases: BTreeMap<String, u64>,
    /// NGAP messages by procedure and direction.
    pub ngap: Vec<NgapCountView>,
    /// The other counters by name (error indications, NAS relayed, refused connections, …).
    pub counters: BTreeMap<String, u64>,
    pub amfs: Vec<AmfView>,
}

/// NGAP messages of one procedure in one direction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NgapCountView {
    /// TS 38.413's name (`NGSetup`, `InitialUEMessage`, …), or the code.
    pub procedure: String,
    pub code: u8,
    /// `sent` or `received`.
    pub direction: String,
    pub messages: u64,
}
