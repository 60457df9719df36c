//! Configuration text for our daemon and for strongSwan in the lab.

use interop::Node;
use interop::config::iked::{AuthSide, Child, Connection};
use interop::config::swanctl::{PskConn, SwAuth, SwChild, SwConn, SwSecret, SwanctlConf, psk_conf};

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
    Connection {
        name: "net".into(),
        remote_addrs: vec![peer.outer().to_string()],
        local_addrs: vec![me.outer().to_string()],
        proposals: vec![super::IKE.into()],
        extra: format!("rekey_time = \"0\"\n{extra}"),
        local: AuthSide::psk(Some(my_id)),
        remote: AuthSide::psk(Some(peer_id)),
        children: vec![child(
            &format!("{}/32", me.inner()),
            &format!("{}/32", peer.inner()),
            esp,
        )],
        psk: Some((PSK.into(), vec![my_id.into(), peer_id.into()])),
        ..Connection::default()
    }
    .render()
}

fn child(local: &str, remote: &str, esp: &str) -> Child {
    Child {
        name: "net".into(),
        local_ts: vec![local.into()],
        remote_ts: vec![remote.into()],
        esp_proposals: vec![esp.into()],
        extra: "rekey_time = \"0\"\n".into(),
    }
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
    Connection {
        name: "load".into(),
        proposals: vec![super::IKE.into()],
        extra: "rekey_time = \"0\"\n".into(),
        local: AuthSide::psk(Some("responder.example")),
        remote: AuthSide::psk(None),
        children: vec![child("10.2.0.0/16", "10.1.0.0/16", super::ESP)],
        psk: Some((LOAD_PSK.into(), Vec::new())),
        ..Connection::default()
    }
    .render()
}

/// strongSwan's responder for the load benchmark, the mirror of [`iked_load_responder`].
/// `unique = never`: every initiator uses the same identity, and strongSwan would otherwise
/// replace the previous IKE SA of that identity at each new one.
pub(crate) fn swanctl_load_responder(me: &Node) -> String {
    let psk = |id: Option<&str>| SwAuth {
        auth: "psk".into(),
        id: id.map(str::to_owned),
        certs: None,
    };
    SwanctlConf {
        connections: vec![SwConn {
            name: "load".into(),
            local_addrs: Some(me.outer().to_string()),
            proposals: super::IKE.into(),
            extra: "unique = never\nrekey_time = 0\n".into(),
            local: psk(Some("responder.example")),
            remote: psk(None),
            children: vec![SwChild {
                name: "net".into(),
                local_ts: "10.2.0.0/16".into(),
                remote_ts: "10.1.0.0/16".into(),
                esp_proposals: super::ESP.into(),
                extra: "rekey_time = 0\n".into(),
            }],
            ..SwConn::default()
        }],
        secrets: vec![SwSecret::Ike {
            name: "load".into(),
            ids: Vec::new(),
            secret: LOAD_PSK.into(),
        }],
        extra_secrets: String::new(),
    }
    .render()
}

/// strongSwan settings (inside `charon { }`) so that it accepts a load test from few addresses
/// instead of refusing it: no COOKIE challenge and no per-peer blocking below 1M half-open SAs,
/// no limits on half-open SAs or on queued jobs.
pub(crate) const CHARON_LOAD_OPTIONS: &str = "init_limit_half_open = 0\ninit_limit_job_load = 0\n";
/// `charon.cookie_threshold` and `charon.block_threshold` for the load test.
pub(crate) const CHARON_LOAD_THRESHOLD: u32 = 1_000_000;
