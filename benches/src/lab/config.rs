//! Configuration text for our daemon and for strongSwan in the lab.

use interop::Node;
use interop::swanctl::{PskConn, psk_conf};

/// The pre-shared key of the wire benchmarks.
pub(crate) const PSK: &str = "pqb-wire-psk-0123456789abcdef-0123";
/// The pre-shared key of the load benchmark (ike_load's default).
pub(crate) const LOAD_PSK: &str = "pqb load test pre-shared key 0123456789";

/// Our connection `net` from `me` to `peer`: PSK, one Child SA between the inner addresses,
/// no automatic rekeying during a run.
/// `extra` goes into `[connections.net]` (e.g. the QKD policy).
pub(crate) fn iked_conn(
    me: &Node,
    peer: &Node,
    my_id: &str,
    peer_id: &str,
    esp: &str,
    extra: &str,
) -> String {
    format!(
        r#"[connections.net]
remote_addrs = ["{remote}"]
local_addrs = ["{local}"]
proposals = ["{ike}"]
rekey_time = "0"
{extra}

[connections.net.local]
auth = "psk"
id = "{my_id}"

[connections.net.remote]
auth = "psk"
id = "{peer_id}"

[connections.net.children.net]
local_ts = ["{local_in}/32"]
remote_ts = ["{remote_in}/32"]
esp_proposals = ["{esp}"]
rekey_time = "0"

[secrets.ike.net]
ids = ["{my_id}", "{peer_id}"]
secret = "{PSK}"
"#,
        remote = peer.outer(),
        local = me.outer(),
        ike = super::IKE,
        local_in = me.inner(),
        remote_in = peer.inner(),
    )
}

/// strongSwan's connection `net`, the mirror of [`iked_conn`].
pub(crate) fn swanctl_conn(
    me: &Node,
    peer: &Node,
    my_id: &str,
    peer_id: &str,
    esp: &str,
) -> String {
    let conn = PskConn {
        my_id,
        peer_id,
        ike: super::IKE,
        esp,
        psk: PSK,
    };
    psk_conf(me, peer, &conn)
}

/// Our responder for the load benchmark: any peer that proves the PSK, one Child SA
/// 10.2.0.0/16 <-> 10.1.0.0/16 (what `ike_load` proposes).
pub(crate) fn iked_load_responder() -> String {
    format!(
        r#"[connections.load]
proposals = ["{ike}"]
rekey_time = "0"

[connections.load.local]
auth = "psk"
id = "responder.example"

[connections.load.remote]
auth = "psk"

[connections.load.children.net]
local_ts = ["10.2.0.0/16"]
remote_ts = ["10.1.0.0/16"]
esp_proposals = ["{esp}"]
rekey_time = "0"

[secrets.ike.load]
secret = "{LOAD_PSK}"
"#,
        ike = super::IKE,
        esp = super::ESP,
    )
}

/// strongSwan's responder for the load benchmark, the mirror of [`iked_load_responder`].
/// `unique = never`: every initiator uses the same identity, and strongSwan would otherwise
/// replace the previous IKE SA of that identity at each new one.
pub(crate) fn swanctl_load_responder(me: &Node) -> String {
    format!(
        r#"connections {{
    load {{
        version = 2
        local_addrs = {local}
        proposals = {ike}
        mobike = no
        unique = never
        rekey_time = 0
        local {{
            auth = psk
            id = responder.example
        }}
        remote {{
            auth = psk
        }}
        children {{
            net {{
                local_ts = 10.2.0.0/16
                remote_ts = 10.1.0.0/16
                esp_proposals = {esp}
                rekey_time = 0
                start_action = none
            }}
        }}
    }}
}}
secrets {{
    ike-load {{
        secret = "{LOAD_PSK}"
    }}
}}
"#,
        local = me.outer(),
        ike = super::IKE,
        esp = super::ESP,
    )
}

/// strongSwan settings (inside `charon { }`) so that it accepts a load test from few addresses
/// instead of refusing it: no COOKIE challenge and no per-peer blocking below 1M half-open SAs,
/// no limits on half-open SAs or on queued jobs.
pub(crate) const CHARON_LOAD_OPTIONS: &str = "init_limit_half_open = 0\ninit_limit_job_load = 0\n";
/// `charon.cookie_threshold` and `charon.block_threshold` for the load test.
pub(crate) const CHARON_LOAD_THRESHOLD: u32 = 1_000_000;
