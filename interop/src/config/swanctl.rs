//! `swanctl.conf`: the one generator of strongSwan's connections and secrets for the project's
//! tests and benchmarks.

use std::fmt::Write as _;

use crate::Node;

/// A whole `swanctl.conf`.
#[derive(Clone, Debug, Default)]
pub struct SwanctlConf {
    /// `connections { NAME { ... } }`.
    pub connections: Vec<SwConn>,
    /// `secrets { ... }`.
    pub secrets: Vec<SwSecret>,
    /// Further entries inside `secrets { }`.
    pub extra_secrets: String,
}

/// One connection (IKEv2, no MOBIKE, fragmentation on).
#[derive(Clone, Debug, Default)]
pub struct SwConn {
    /// The connection's name.
    pub name: String,
    /// `local_addrs`.
    pub local_addrs: Option<String>,
    /// `remote_addrs` (none: respond to anyone).
    pub remote_addrs: Option<String>,
    /// `proposals`.
    pub proposals: String,
    /// `ppk_id` and `ppk_required`.
    pub ppk: Option<(String, bool)>,
    /// Further lines in the connection (`unique = never`, `dpd_delay = 1s`, ...).
    pub extra: String,
    /// `local { }`.
    pub local: SwAuth,
    /// `remote { }`.
    pub remote: SwAuth,
    /// `children { }`.
    pub children: Vec<SwChild>,
}

/// `local { }` or `remote { }`.
#[derive(Clone, Debug, Default)]
pub struct SwAuth {
    /// `psk` or `pubkey`.
    pub auth: String,
    /// `id` (none: any).
    pub id: Option<String>,
    /// `certs` (local) or `cacerts` (remote), a file name under swanctl's directories.
    pub certs: Option<String>,
}

/// A child (started by `swanctl --initiate` only).
#[derive(Clone, Debug, Default)]
pub struct SwChild {
    /// The child's name.
    pub name: String,
    /// `local_ts`.
    pub local_ts: String,
    /// `remote_ts`.
    pub remote_ts: String,
    /// `esp_proposals`.
    pub esp_proposals: String,
    /// Further lines (`rekey_time = 0`, `dpd_action = clear`, ...).
    pub extra: String,
}

/// An entry of `secrets { }`.
#[derive(Clone, Debug)]
pub enum SwSecret {
    /// `ike-NAME { id-1, id-2, ..., secret }`.
    Ike {
        /// Entry suffix.
        name: String,
        /// Identities (none: any).
        ids: Vec<String>,
        /// The PSK.
        secret: String,
    },
    /// `ppk-NAME { id, secret = 0x... }`.
    Ppk {
        /// Entry suffix.
        name: String,
        /// PPK_ID.
        id: String,
        /// The key, hex.
        hex: String,
    },
}

fn lines(s: &mut String, extra: &str, indent: &str) {
    for l in extra.lines().filter(|l| !l.trim().is_empty()) {
        let _ = writeln!(s, "{indent}{}", l.trim());
    }
}

impl SwanctlConf {
    /// The file's text.
    pub fn render(&self) -> String {
        let mut s = String::from("connections {\n");
        for c in &self.connections {
            c.render(&mut s);
        }
        s.push_str("}\nsecrets {\n");
        for secret in &self.secrets {
            secret.render(&mut s);
        }
        lines(&mut s, &self.extra_secrets, "    ");
        s.push_str("}\n");
        s
    }
}

impl SwConn {
    fn render(&self, s: &mut String) {
        let _ = writeln!(s, "    {} {{\n        version = 2", self.name);
        if let Some(a) = &self.local_addrs {
            let _ = writeln!(s, "        local_addrs = {a}");
        }
        if let Some(a) = &self.remote_addrs {
            let _ = writeln!(s, "        remote_addrs = {a}");
        }
        let _ = writeln!(
            s,
            "        proposals = {}\n        mobike = no\n        fragmentation = yes",
            self.proposals
        );
        if let Some((id, required)) = &self.ppk {
            let req = if *required { "yes" } else { "no" };
            let _ = writeln!(s, "        ppk_id = {id}\n        ppk_required = {req}");
        }
        lines(s, &self.extra, "        ");
        for (side, a, certs_key) in [
            ("local", &self.local, "certs"),
            ("remote", &self.remote, "cacerts"),
        ] {
            let _ = writeln!(s, "        {side} {{\n            auth = {}", a.auth);
            if let Some(id) = &a.id {
                let _ = writeln!(s, "            id = {id}");
            }
            if let Some(c) = &a.certs {
                let _ = writeln!(s, "            {certs_key} = {c}");
            }
            s.push_str("        }\n");
        }
        s.push_str("        children {\n");
        for c in &self.children {
            let _ = writeln!(
                s,
                "            {} {{\n                local_ts = {}\n                remote_ts = {}\n                esp_proposals = {}\n                start_action = none",
                c.name, c.local_ts, c.remote_ts, c.esp_proposals
            );
            lines(s, &c.extra, "                ");
            s.push_str("            }\n");
        }
        s.push_str("        }\n    }\n");
    }
}

impl SwSecret {
    fn render(&self, s: &mut String) {
        match self {
            Self::Ike { name, ids, secret } => {
                let _ = writeln!(s, "    ike-{name} {{");
                for (i, id) in ids.iter().enumerate() {
                    let _ = writeln!(s, "        id-{} = {id}", i + 1);
                }
                let _ = writeln!(s, "        secret = \"{secret}\"\n    }}");
            }
            Self::Ppk { name, id, hex } => {
                let _ = writeln!(
                    s,
                    "    ppk-{name} {{\n        id = {id}\n        secret = 0x{hex}\n    }}"
                );
            }
        }
    }
}

/// The identities, proposals and PSK of a strongSwan-to-peer PSK connection.
pub struct PskConn<'a> {
    /// Our identity.
    pub my_id: &'a str,
    /// The peer's identity.
    pub peer_id: &'a str,
    /// IKE proposal.
    pub ike: &'a str,
    /// ESP proposal.
    pub esp: &'a str,
    /// The PSK.
    pub psk: &'a str,
}

/// Connection `net` from `me` to `peer` with one Child SA between their inner addresses,
/// started by `swanctl --initiate` only.
pub fn psk_conf(me: &Node, peer: &Node, c: &PskConn<'_>) -> String {
    SwanctlConf {
        connections: vec![SwConn {
            name: "net".into(),
            local_addrs: Some(me.outer().to_string()),
            remote_addrs: Some(peer.outer().to_string()),
            proposals: c.ike.into(),
            local: SwAuth {
                auth: "psk".into(),
                id: Some(c.my_id.into()),
                certs: None,
            },
            remote: SwAuth {
                auth: "psk".into(),
                id: Some(c.peer_id.into()),
                certs: None,
            },
            children: vec![SwChild {
                name: "net".into(),
                local_ts: format!("{}/32", me.inner()),
                remote_ts: format!("{}/32", peer.inner()),
                esp_proposals: c.esp.into(),
                extra: String::new(),
            }],
            ..SwConn::default()
        }],
        secrets: vec![SwSecret::Ike {
            name: "net".into(),
            ids: vec![c.my_id.into(), c.peer_id.into()],
            secret: c.psk.into(),
        }],
        extra_secrets: String::new(),
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_and_secrets_nest_as_swanctl_reads_them() {
        let conf = SwanctlConf {
            connections: vec![SwConn {
                name: "net".into(),
                remote_addrs: Some("192.0.2.1".into()),
                proposals: "aes256gcm16-prfsha384-x25519-ke1_mlkem768".into(),
                ppk: Some(("ppk1".into(), false)),
                extra: "dpd_delay = 1s\n".into(),
                local: SwAuth {
                    auth: "pubkey".into(),
                    id: Some("strongswan.example".into()),
                    certs: Some("peer.pem".into()),
                },
                remote: SwAuth {
                    auth: "pubkey".into(),
                    id: None,
                    certs: Some("ca.pem".into()),
                },
                children: vec![SwChild {
                    name: "net".into(),
                    local_ts: "10.2.0.0/16".into(),
                    remote_ts: "10.1.0.0/16".into(),
                    esp_proposals: "aes256gcm16".into(),
                    extra: "dpd_action = clear\n".into(),
                }],
                ..SwConn::default()
            }],
            secrets: vec![SwSecret::Ppk {
                name: "net".into(),
                id: "ppk1".into(),
                hex: "00ff".into(),
            }],
            extra_secrets: "ike-x {\nsecret = \"s\"\n}\n".into(),
        }
        .render();
        let want = [
            "connections {",
            "    net {",
            "        remote_addrs = 192.0.2.1",
            "        ppk_id = ppk1",
            "        ppk_required = no",
            "        dpd_delay = 1s",
            "            certs = peer.pem",
            "            cacerts = ca.pem",
            "                dpd_action = clear",
            "    ppk-net {",
            "        secret = 0x00ff",
            "    ike-x {",
        ];
        for line in want {
            assert!(conf.lines().any(|l| l == line), "no {line:?} in\n{conf}");
        }
        assert!(!conf.contains("local_addrs"), "{conf}");
        let depth = conf.chars().fold(0i32, |d, c| match c {
            '{' => d + 1,
            '}' => d - 1,
            _ => d,
        });
        assert_eq!(depth, 0, "unbalanced braces:\n{conf}");
    }
}
