//! The control protocol between `ikectl` and `iked`: one JSON object per line over a Unix stream
//! socket.
//!
//! A client sends a [`Request`]; the daemon answers with one [`Response`]. For `monitor`, the
//! first response is followed by one [`EventLine`] per event until the client hangs up. Every
//! line carries `"version"`; a daemon answers a request of another version with the error code
//! [`ErrorCode::UnsupportedVersion`].
//!
//! ```text
//! → {"version":1,"command":"up","name":"site-b"}
//! ← {"version":1,"ok":true,"result":{"ike_sa":{...}}}
//! → {"version":1,"command":"down","name":"nope"}
//! ← {"version":1,"ok":false,"error":{"code":"not-found","message":"no connection named 'nope'"}}
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

mod n3iwf;

pub use self::n3iwf::{AmfView, N3iwfStatsView, NgapCountView, UeTimingsView, UeView};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// The longest request line the daemon reads.
pub const MAX_LINE: usize = 64 * 1024;

/// A request line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub version: u32,
    #[serde(flatten)]
    pub command: Command,
}

/// What a client asks for. Exhaustive on purpose: the daemon matches every command, so a new
/// one cannot go unanswered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum Command {
    /// Reload the configuration (the file the daemon runs with, or `path`).
    Load {
        path: Option<PathBuf>,
    },
    /// Initiate a connection and wait until its IKE SA is up or failed.
    Up {
        name: String,
        timeout_ms: Option<u64>,
    },
    /// Close every IKE SA of a connection.
    Down {
        name: String,
    },
    /// Rekey the connection's IKE SA, or with `child` that Child SA, and wait until the new SA
    /// is in place.
    Rekey {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        child: Option<String>,
        timeout_ms: Option<u64>,
    },
    ListConns,
    ListSas,
    /// The N3IWF's UE contexts.
    ListUes,
    /// The N3IWF's AMFs: association and NG Setup state.
    ListAmfs,
    /// Stream events until the client hangs up.
    Monitor,
    Stats,
    Version,
    /// Debug builds only: makes the engine task panic, to test that the process then exits.
    #[cfg(feature = "fault-injection")]
    #[doc(hidden)]
    DebugPanic,
}

/// A response line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub version: u32,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// Why a request failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

/// Error classes, stable for scripts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The line was not a request.
    BadRequest,
    /// The configuration did not load; the running one is unchanged.
    Config,
    /// The engine refused or the IKE SA failed.
    Engine,
    /// The peer's credentials do not allow control.
    Forbidden,
    /// No connection or SA by that name.
    NotFound,
    /// The daemon is stopping.
    ShuttingDown,
    /// The operation did not finish in time; it may still complete.
    Timeout,
    /// The request's version is not [`PROTOCOL_VERSION`].
    UnsupportedVersion,
}

/// One streamed `monitor` event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventLine {
    pub version: u32,
    pub event: MonitorEvent,
}

/// Something that happened, as `monitor` shows it. Keys never appear here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum MonitorEvent {
    Initiating {
        connection: String,
        ike_sa: String,
        remote: String,
    },
    IkeSaEstablished {
        ike_sa: IkeSaView,
    },
    ChildSaInstalled {
        connection: String,
        ike_sa: String,
        child: ChildSaView,
    },
    ChildSaRetired {
        connection: String,
        ike_sa: String,
        child: String,
        inbound_spi: String,
    },
    IkeSaFailed {
        connection: Option<String>,
        ike_sa: String,
        error: String,
    },
    IkeSaClosed {
        connection: Option<String>,
        ike_sa: String,
        reason: String,
    },
    /// A PPK request to the KME (QKD) finished, with or without a key.
    PpkResolved {
        connection: Option<String>,
        ike_sa: String,
        ppk: PpkView,
    },
    /// The datapath reported a byte or packet lifetime of a Child SA.
    ChildSaExpired {
        connection: String,
        ike_sa: String,
        child: String,
        inbound_spi: String,
        hard: bool,
    },
    ConfigLoaded {
        load: LoadView,
    },
    /// The client fell behind and this many events were dropped.
    Lagged {
        missed: u64,
    },
}

/// Result of `load`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadView {
    pub file: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    pub unchanged: Vec<String>,
    pub warnings: Vec<String>,
}

/// Result of `up`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpView {
    /// Whether the SA was already up (nothing was initiated).
    pub already_up: bool,
    pub ike_sa: IkeSaView,
}

/// Result of `down`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownView {
    pub closed: Vec<String>,
    /// Whether the peer was told with INFORMATIONAL DELETE.
    pub delete_sent: bool,
}

/// Result of `rekey`: the SA that was replaced and its successor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekeyView {
    pub connection: String,
    /// The IKE SA after the rekey (for an IKE rekey, the new one).
    pub ike_sa: String,
    /// The Child SA's name for a Child SA rekey; `None` for an IKE SA rekey.
    pub child: Option<String>,
    /// The old and new IKE SA (our SPI), or the old and new Child SA (inbound SPI), in hex.
    pub old: String,
    pub new: String,
}

/// A configured connection (`list-conns`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnView {
    pub name: String,
    pub local_addrs: Vec<String>,
    pub remote_addrs: Vec<String>,
    pub remote_port: u16,
    pub local_id: String,
    pub remote_id: Option<String>,
    pub auth: String,
    pub proposals: Vec<String>,
    pub start_action: String,
    pub fragment_size: Option<u32>,
    pub ppk_id: Option<String>,
    pub ppk_required: bool,
    /// `secrets` or `qkd`, when a PPK is configured.
    #[serde(default)]
    pub ppk_source: Option<String>,
    /// `classical`, `pqc`, `qkd` or `pqc+qkd`, with ` (inferred)` when not set in the file.
    #[serde(default)]
    pub hybrid: String,
    #[serde(default)]
    pub qkd_fallback: bool,
    #[serde(default)]
    pub qkd_peer_sae_id: Option<String>,
    pub children: Vec<ChildConfView>,
    /// IKE SAs of this connection that the daemon tracks.
    pub ike_sas: usize,
}

/// A configured child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildConfView {
    pub name: String,
    pub local_ts: Vec<String>,
    pub remote_ts: Vec<String>,
    pub esp_proposals: Vec<String>,
}

/// An IKE SA (`list-sas`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IkeSaView {
    /// Our SPI in hex, which names the SA in every output.
    pub id: String,
    pub connection: String,
    /// `connecting` or `established`.
    pub state: String,
    pub initiator: bool,
    pub local: String,
    pub remote: String,
    pub local_spi: String,
    pub remote_spi: Option<String>,
    /// strongSwan-style name of the negotiated algorithms.
    pub proposal: Option<String>,
    pub ppk_used: bool,
    pub nat_detected: bool,
    pub intermediate_exchanges: u8,
    /// Seconds since establishment.
    pub established_secs: Option<u64>,
    /// The connection's post-quantum policy (`classical`, `pqc`, `qkd`, `pqc+qkd`).
    #[serde(default)]
    pub hybrid: String,
    /// Where the PPK came from and why it was or was not used; `None` without a PPK.
    #[serde(default)]
    pub ppk: Option<PpkView>,
    /// How long each exchange and step took (initiator only), in order.
    #[serde(default)]
    pub timings: Vec<PhaseView>,
    pub children: Vec<ChildSaView>,
}

/// The PPK of an IKE SA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PpkView {
    /// `static` or `qkd`.
    pub source: String,
    pub used: bool,
    /// The PPK_ID: the static one, or the KME's key_ID (a UUID) with QKD.
    pub id: Option<String>,
    /// Why it was used or not, e.g. `QKD key from enc_keys` or `KME unreachable: …; fell back
    /// to ML-KEM only (qkd_fallback)`.
    pub reason: String,
}

/// One timed step of bringing an IKE SA up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseView {
    /// An exchange (`IKE_SA_INIT`, `IKE_INTERMEDIATE`, `IKE_AUTH`: request sent to last
    /// response datagram), `qkd enc_keys`/`qkd dec_keys`, `initiate -> established` or
    /// `initiate -> child installed`.
    pub phase: String,
    pub micros: u64,
}

/// An installed Child SA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildSaView {
    pub name: String,
    pub inbound_spi: String,
    pub outbound_spi: String,
    pub proposal: String,
    pub local_ts: Vec<String>,
    pub remote_ts: Vec<String>,
    pub installed_secs: u64,
    pub counters: ChildSaCounters,
}

/// Per-Child-SA datapath counters (zero without a datapath). Bytes and packets count inner
/// (plaintext) traffic.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildSaCounters {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub packets_in: u64,
    pub packets_out: u64,
    /// Packets dropped on this SA, both directions, every reason.
    pub drops: u64,
    /// The non-zero drop counts by reason (`authentication`, `replay`, `selector_mismatch`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub drop_reasons: BTreeMap<String, u64>,
}

/// Result of `stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsView {
    pub uptime_secs: u64,
    /// The engine's counters by name (`ikev2::Stats` fields).
    pub engine: BTreeMap<String, u64>,
    pub ike_sas: usize,
    pub ike_sas_established: usize,
    pub child_sas: usize,
    pub children: Vec<ChildStatsView>,
    /// The daemon's own counters (QKD keys, PPK fallbacks, policy refusals, datapath events).
    #[serde(default)]
    pub daemon: BTreeMap<String, u64>,
    /// The datapath's counters; empty without `[dataplane]`.
    #[serde(default)]
    pub datapath: BTreeMap<String, u64>,
    /// The N3IWF's counters and AMFs, with `[n3iwf]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n3iwf: Option<N3iwfStatsView>,
}

/// One Child SA's counters in `stats`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildStatsView {
    pub connection: String,
    pub ike_sa: String,
    pub child: String,
    pub inbound_spi: String,
    pub outbound_spi: String,
    pub counters: ChildSaCounters,
}

/// Result of `version`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionView {
    pub daemon: String,
    pub protocol: u32,
}

impl Request {
    /// A request of the current version.
    pub fn new(command: Command) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            command,
        }
    }
}

impl Response {
    /// A success carrying `result`.
    pub fn ok(result: &impl Serialize) -> Self {
        match serde_json::to_value(result) {
            Ok(v) => Self {
                version: PROTOCOL_VERSION,
                ok: true,
                result: Some(v),
                error: None,
            },
            Err(e) => Self::error(ErrorCode::Engine, format!("cannot encode the result: {e}")),
        }
    }

    /// A failure.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            ok: false,
            result: None,
            error: Some(ErrorBody {
                code,
                message: message.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_a_stable_wire_form() {
        let up = Request::new(Command::Up {
            name: "site-b".into(),
            timeout_ms: None,
        });
        assert_eq!(
            serde_json::to_string(&up).expect("json"),
            r#"{"version":1,"command":"up","name":"site-b","timeout_ms":null}"#
        );
        let list = Request::new(Command::ListSas);
        assert_eq!(
            serde_json::to_string(&list).expect("json"),
            r#"{"version":1,"command":"list-sas"}"#
        );
        let back: Request =
            serde_json::from_str(r#"{"version":1,"command":"load"}"#).expect("parse");
        assert_eq!(back.command, Command::Load { path: None });
    }

    #[test]
    fn errors_have_a_stable_wire_form() {
        let r = Response::error(ErrorCode::NotFound, "no connection named 'x'");
        assert_eq!(
            serde_json::to_string(&r).expect("json"),
            r#"{"version":1,"ok":false,"error":{"code":"not-found","message":"no connection named 'x'"}}"#
        );
    }
}
