//! `iked.toml`: the one generator of our daemon's configuration for the project's tests,
//! benchmarks and scripts (the scripts through `pqlab iked-conf`).

use std::fmt::Write as _;

use super::n3iwf::N3iwf;

/// A whole configuration file.
#[derive(Clone, Debug, Default)]
pub struct IkedToml {
    /// `[daemon]`.
    pub daemon: Daemon,
    /// `[dataplane]`, when the daemon runs the userspace ESP datapath.
    pub dataplane: Option<Dataplane>,
    /// `[qkd]`, when connections fetch PPKs from a KME.
    pub qkd: Option<Qkd>,
    /// `[connections.NAME]` with their secrets.
    pub connections: Vec<Connection>,
    /// `[n3iwf]`, when the daemon is a 5G N3IWF.
    pub n3iwf: Option<N3iwf>,
}

/// `[daemon]`.
#[derive(Clone, Debug, Default)]
pub struct Daemon {
    /// Control socket path.
    pub socket: String,
    /// Addresses to listen on.
    pub listen: Vec<String>,
    /// `ike_port` (0: any free port).
    pub ike_port: Option<u16>,
    /// `natt_port`.
    pub natt_port: Option<u16>,
    /// `log` filter.
    pub log: Option<String>,
    /// `key_log` directory (Wireshark decryption tables).
    pub key_log: Option<String>,
    /// Further `key = value` lines.
    pub extra: String,
}

/// `[dataplane]`.
#[derive(Clone, Debug, Default)]
pub struct Dataplane {
    /// TUN device name.
    pub tun: String,
    /// TUN MTU.
    pub mtu: u32,
    /// Addresses put on the TUN device.
    pub addresses: Vec<String>,
    /// Routes into the TUN device.
    pub routes: Vec<String>,
    /// Local address of ESP sockets.
    pub local: Option<String>,
    /// `udp` or `raw`.
    pub encapsulation: String,
    /// Datapath worker threads.
    pub workers: Option<u32>,
}

/// `[qkd]`: the KME of this SAE.
#[derive(Clone, Debug, Default)]
pub struct Qkd {
    /// `https://host:port` of the KME.
    pub kme_url: String,
    /// Our SAE ID.
    pub sae_id: String,
    /// CA, client certificate and key files.
    pub ca: String,
    /// Client certificate.
    pub cert: String,
    /// Client key.
    pub key: String,
    /// Request timeout, e.g. `3s`.
    pub timeout: String,
    /// Further `key = value` lines.
    pub extra: String,
}

/// How a connection gets its PPK (RFC 8784).
#[derive(Clone, Debug)]
pub enum ConnPpk {
    /// A configured PPK: `ppk_id`, `ppk_required`, and the secret (hex) when this file holds it.
    Static {
        /// PPK_ID.
        id: String,
        /// Fail without it.
        required: bool,
        /// The key, hex, for `[secrets.ppk.NAME]`.
        secret_hex: Option<String>,
    },
    /// A QKD key fetched per exchange from the `[qkd]` KME for peer SAE `peer_sae`.
    Qkd {
        /// The peer's SAE ID.
        peer_sae: String,
        /// `hybrid` policy, e.g. `pqc+qkd`.
        hybrid: Option<String>,
    },
}

/// One side's authentication.
#[derive(Clone, Debug, Default)]
pub struct AuthSide {
    /// `psk` or `pubkey`.
    pub auth: String,
    /// IKE identity.
    pub id: Option<String>,
    /// Certificate files (local side).
    pub certs: Vec<String>,
    /// Private key file (local side).
    pub key: Option<String>,
    /// Trusted CA files (remote side).
    pub cacerts: Vec<String>,
}

impl AuthSide {
    /// `auth = "psk"` with `id` (none: any identity).
    pub fn psk(id: Option<&str>) -> Self {
        Self {
            auth: "psk".into(),
            id: id.map(str::to_owned),
            ..Self::default()
        }
    }
}

/// `[connections.NAME.children.CHILD]`.
#[derive(Clone, Debug, Default)]
pub struct Child {
    /// The child's name.
    pub name: String,
    /// Local traffic selectors.
    pub local_ts: Vec<String>,
    /// Remote traffic selectors.
    pub remote_ts: Vec<String>,
    /// ESP proposals (none: the daemon's default).
    pub esp_proposals: Vec<String>,
    /// Further lines.
    pub extra: String,
}

/// `[connections.NAME]`, its sides, children and secrets.
#[derive(Clone, Debug, Default)]
pub struct Connection {
    /// The connection's name.
    pub name: String,
    /// Peer addresses (`%any` to respond to anyone).
    pub remote_addrs: Vec<String>,
    /// Local addresses.
    pub local_addrs: Vec<String>,
    /// Peer's IKE port.
    pub remote_port: Option<u16>,
    /// IKE proposals.
    pub proposals: Vec<String>,
    /// `start_action`.
    pub start_action: Option<String>,
    /// IKE fragment size.
    pub fragment_size: Option<u32>,
    /// PPK.
    pub ppk: Option<ConnPpk>,
    /// Further lines in `[connections.NAME]`.
    pub extra: String,
    /// Local side.
    pub local: AuthSide,
    /// Remote side.
    pub remote: AuthSide,
    /// Child SAs.
    pub children: Vec<Child>,
    /// `[secrets.ike.NAME]`: the PSK and the identities it is for (none: any).
    pub psk: Option<(String, Vec<String>)>,
}

pub(super) fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

pub(super) fn lines(s: &mut String, extra: &str) {
    for l in extra.lines().filter(|l| !l.trim().is_empty()) {
        let _ = writeln!(s, "{l}");
    }
}

impl IkedToml {
    /// The file's text.
    pub fn render(&self) -> String {
        let mut s = self.daemon.render();
        if let Some(d) = &self.dataplane {
            s.push_str(&d.render());
        }
        if let Some(q) = &self.qkd {
            s.push_str(&q.render());
        }
        for c in &self.connections {
            s.push_str(&c.render());
        }
        if let Some(n) = &self.n3iwf {
            s.push_str(&n.render());
        }
        s
    }
}

impl Daemon {
    /// `[daemon]`.
    pub fn render(&self) -> String {
        let mut s = format!(
            "[daemon]\nsocket = \"{}\"\nlisten = {}\n",
            self.socket,
            list(&self.listen)
        );
        if let Some(p) = self.ike_port {
            let _ = writeln!(s, "ike_port = {p}");
        }
        if let Some(p) = self.natt_port {
            let _ = writeln!(s, "natt_port = {p}");
        }
        if let Some(l) = &self.log {
            let _ = writeln!(s, "log = \"{l}\"");
        }
        if let Some(k) = &self.key_log {
            let _ = writeln!(s, "key_log = \"{k}\"");
        }
        lines(&mut s, &self.extra);
        s
    }
}

impl Dataplane {
    /// `[dataplane]`.
    pub fn render(&self) -> String {
        let mut s = format!(
            "\n[dataplane]\ntun = \"{}\"\nmtu = {}\n",
            self.tun, self.mtu
        );
        if !self.addresses.is_empty() {
            let _ = writeln!(s, "addresses = {}", list(&self.addresses));
        }
        let _ = writeln!(s, "routes = {}", list(&self.routes));
        if let Some(l) = &self.local {
            let _ = writeln!(s, "local = \"{l}\"");
        }
        let _ = writeln!(s, "encapsulation = \"{}\"", self.encapsulation);
        if let Some(w) = self.workers {
            let _ = writeln!(s, "workers = {w}");
        }
        s
    }
}

impl Qkd {
    /// `[qkd]`.
    pub fn render(&self) -> String {
        let mut s = format!(
            "\n[qkd]\nkme_url = \"{}\"\nsae_id = \"{}\"\nca = \"{}\"\ncert = \"{}\"\nkey = \"{}\"\ntimeout = \"{}\"\n",
            self.kme_url, self.sae_id, self.ca, self.cert, self.key, self.timeout
        );
        lines(&mut s, &self.extra);
        s
    }
}

impl AuthSide {
    fn render(&self, s: &mut String, table: &str) {
        let _ = writeln!(s, "\n[{table}]\nauth = \"{}\"", self.auth);
        if let Some(id) = &self.id {
            let _ = writeln!(s, "id = \"{id}\"");
        }
        if !self.certs.is_empty() {
            let _ = writeln!(s, "certs = {}", list(&self.certs));
        }
        if let Some(k) = &self.key {
            let _ = writeln!(s, "key = \"{k}\"");
        }
        if !self.cacerts.is_empty() {
            let _ = writeln!(s, "cacerts = {}", list(&self.cacerts));
        }
    }
}

impl Connection {
    /// `[connections.NAME]` and everything below it, then its secrets.
    pub fn render(&self) -> String {
        let n = &self.name;
        let mut s = format!("\n[connections.{n}]\n");
        if !self.remote_addrs.is_empty() {
            let _ = writeln!(s, "remote_addrs = {}", list(&self.remote_addrs));
        }
        if !self.local_addrs.is_empty() {
            let _ = writeln!(s, "local_addrs = {}", list(&self.local_addrs));
        }
        if let Some(p) = self.remote_port {
            let _ = writeln!(s, "remote_port = {p}");
        }
        let _ = writeln!(s, "proposals = {}", list(&self.proposals));
        if let Some(a) = &self.start_action {
            let _ = writeln!(s, "start_action = \"{a}\"");
        }
        if let Some(f) = self.fragment_size {
            let _ = writeln!(s, "fragment_size = {f}");
        }
        match &self.ppk {
            Some(ConnPpk::Static { id, required, .. }) => {
                let _ = writeln!(s, "ppk_id = \"{id}\"\nppk_required = {required}");
            }
            Some(ConnPpk::Qkd { peer_sae, hybrid }) => {
                if let Some(h) = hybrid {
                    let _ = writeln!(s, "hybrid = \"{h}\"");
                }
                let _ = writeln!(s, "ppk_source = \"qkd\"\nqkd_peer_sae_id = \"{peer_sae}\"");
            }
            None => {}
        }
        lines(&mut s, &self.extra);
        self.local.render(&mut s, &format!("connections.{n}.local"));
        self.remote
            .render(&mut s, &format!("connections.{n}.remote"));
        for c in &self.children {
            let _ = writeln!(
                s,
                "\n[connections.{n}.children.{}]\nlocal_ts = {}\nremote_ts = {}",
                c.name,
                list(&c.local_ts),
                list(&c.remote_ts)
            );
            if !c.esp_proposals.is_empty() {
                let _ = writeln!(s, "esp_proposals = {}", list(&c.esp_proposals));
            }
            lines(&mut s, &c.extra);
        }
        s.push_str(&self.secrets());
        s
    }

    /// `[secrets.ike.NAME]` and `[secrets.ppk.NAME]`, as far as this connection has them.
    pub fn secrets(&self) -> String {
        let mut s = String::new();
        if let Some((secret, ids)) = &self.psk {
            let _ = writeln!(s, "\n[secrets.ike.{}]", self.name);
            if !ids.is_empty() {
                let _ = writeln!(s, "ids = {}", list(ids));
            }
            let _ = writeln!(s, "secret = \"{secret}\"");
        }
        if let Some(ConnPpk::Static {
            id,
            secret_hex: Some(hex),
            ..
        }) = &self.ppk
        {
            let _ = writeln!(
                s,
                "\n[secrets.ppk.{}]\nid = \"{id}\"\nsecret = \"0x{hex}\"",
                self.name
            );
        }
        s
    }

    /// The same connection without its secrets (for a reload that keeps them).
    pub fn without_secrets(&self) -> Self {
        let mut c = self.clone();
        c.psk = None;
        if let Some(ConnPpk::Static { secret_hex, .. }) = &mut c.ppk {
            *secret_hex = None;
        }
        c
    }
}
