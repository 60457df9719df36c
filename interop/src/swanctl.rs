//! `swanctl.conf` for a strongSwan connection `net` between two lab nodes.

use crate::Node;

/// The identities, proposals and PSK of a strongSwan-to-peer PSK connection.
pub struct PskConn<'a> {
    pub my_id: &'a str,
    pub peer_id: &'a str,
    pub ike: &'a str,
    pub esp: &'a str,
    pub psk: &'a str,
}

/// Connection `net` from `me` to `peer` with one Child SA between their inner addresses,
/// started by `swanctl --initiate` only.
pub fn psk_conf(me: &Node, peer: &Node, c: &PskConn<'_>) -> String {
    format!(
        r#"connections {{
    net {{
        version = 2
        local_addrs = {local}
        remote_addrs = {remote}
        proposals = {ike}
        mobike = no
        fragmentation = yes
        local {{
            auth = psk
            id = {my_id}
        }}
        remote {{
            auth = psk
            id = {peer_id}
        }}
        children {{
            net {{
                local_ts = {local_in}/32
                remote_ts = {remote_in}/32
                esp_proposals = {esp}
                start_action = none
            }}
        }}
    }}
}}
secrets {{
    ike-net {{
        id-1 = {my_id}
        id-2 = {peer_id}
        secret = "{psk}"
    }}
}}
"#,
        local = me.outer(),
        remote = peer.outer(),
        ike = c.ike,
        esp = c.esp,
        my_id = c.my_id,
        peer_id = c.peer_id,
        psk = c.psk,
        local_in = me.inner(),
        remote_in = peer.inner(),
    )
}
