//! The daemon's configuration: a TOML file with swanctl-like concepts (connections, children,
//! secrets), validated into [`Config`] and turned into [`ikev2::ConnectionConfig`]s.
//!
//! Every error names the file, the line and the field, e.g.
//! `/etc/iked/iked.toml:12: connections.site-b.proposals: unknown algorithm 'ke1_kyber'`.
//! The format is documented in `docs/config.md`; `examples/iked.toml` is an annotated example.
//!
//! Some settings are accepted and checked but not enforced yet, because the engine or the
//! datapath does not have the feature: `reauth_time`, and the `trap` actions without
//! `[dataplane]`. Loading a file that uses them succeeds with a warning.

mod bounds;
mod certs;
mod error;
mod legacy;
mod limits;
mod load;
mod n3iwf;
mod policy;
mod raw;
mod retransmit;
mod sections;
mod values;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ikev2::wire::IpSelector;
use ikev2::{
    AuthConfig, ChildConfig, ConnectionConfig, Identity, Lifetime, PpkConfig, PpkMode, ProposalSpec,
};
use ipsec_crypto::SecretBytes;

pub use self::n3iwf::{
    AmfSettings, N3IWF_CONNECTION, N3iwfSettings, SIGNALLING_CHILD, USER_PLANE_CHILD,
    UserPlaneSettings,
};
pub use error::{ConfigError, ConfigErrors};
pub use limits::IkeLimits;
pub use values::format_selector;
#[cfg(test)]
pub(crate) use values::traffic_selector;

/// The default configuration file.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/iked/iked.toml";
/// The default control socket.
pub use iked_control::DEFAULT_SOCKET_PATH;

/// A validated configuration file.
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    pub daemon: DaemonSettings,
    /// Connections in file order (the engine, as responder, takes the first whose proposals
    /// match).
    pub connections: Vec<Connection>,
    /// `[qkd]`: the ETSI GS QKD 014 key management entity, if any.
    pub qkd: Option<QkdSettings>,
    /// `[dataplane]`: the userspace ESP datapath; without it Child SAs are only recorded.
    pub dataplane: Option<DataplaneSettings>,
    /// `[n3iwf]`: the daemon is a 5G N3IWF; its IKE side is the connection
    /// [`N3IWF_CONNECTION`], last in `connections`.
    pub n3iwf: Option<N3iwfSettings>,
    /// Accepted settings that are not enforced yet, and risky choices, as `FILE:LINE: FIELD:
    /// MESSAGE`.
    pub warnings: Vec<String>,
}

/// `[daemon]`: process-wide settings, applied at start only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaemonSettings {
    pub socket: PathBuf,
    /// Addresses the IKE sockets are bound to.
    pub listen: Vec<IpAddr>,
    /// 0 picks a free port (tests).
    pub ike_port: u16,
    /// RFC 3948 port with the non-ESP marker; `None` when disabled (`natt_port = 0`).
    pub natt_port: Option<u16>,
    /// Prometheus text endpoint on a loopback address; off when `None`.
    pub metrics: Option<SocketAddr>,
    /// `tracing` filter, e.g. `info` or `iked=debug,ikev2=debug`.
    pub log: String,
    /// Directory for Wireshark's `ikev2_decryption_table` and `esp_sa` key files (debugging
    /// only: it holds every IKE and ESP key).
    pub key_log: Option<PathBuf>,
    /// IKE datagrams per second admitted from one source address (IPv6: one /64) before they
    /// are queued for the engine, on every IKE port; 0 admits all.
    pub ike_rate_per_source: u32,
    /// Limits on unauthenticated work (COOKIEs, half-open IKE SAs, certificate chains).
    pub limits: IkeLimits,
}

impl DaemonSettings {
    /// Whether the IKE sockets receive on `ip`: it is listed, or a wildcard of its family is.
    pub fn listens_on(&self, ip: IpAddr) -> bool {
        self.listen
            .iter()
            .any(|l| *l == ip || (l.is_unspecified() && l.is_ipv4() == ip.is_ipv4()))
    }
}

/// `[qkd]`: where QKD keys come from (ETSI GS QKD 014) and how this SAE authenticates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QkdSettings {
    /// `https://host[:port][/prefix]` of our KME.
    pub kme_url: String,
    /// Our SAE ID (the KME derives it from `cert`; kept for logs and listings).
    pub sae_id: String,
    /// CA certificate(s) the KME's certificate must chain to.
    pub ca: PathBuf,
    /// Our client certificate chain and private key for mutual TLS.
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Size of each key requested, in bits (a multiple of 8, at least 256).
    pub key_size: u32,
    /// Limit for one key request, retries included; the IKE exchange waits at most this long.
    pub timeout: Duration,
    /// KME requests running at once (each holds one of as many TLS connections, kept alive);
    /// more wait in a queue of the same length, and beyond it are refused.
    pub max_requests: usize,
    /// KME requests running or queued at once for IKE SAs with one peer address; more are
    /// refused (the peer's PPK_IDs arrive before it is authenticated).
    pub max_requests_per_peer: usize,
}

/// `[dataplane]`: the TUN device and the ESP workers, applied at start only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataplaneSettings {
    /// TUN device name (at most 15 bytes).
    pub tun: String,
    /// MTU of the inner packets.
    pub mtu: u32,
    /// Addresses (with prefix length) put on the TUN device.
    pub addresses: Vec<(IpAddr, u8)>,
    /// Networks routed into the TUN device.
    pub routes: Vec<(IpAddr, u8)>,
    /// Our outer address: ESP is sent from and received on it.
    pub local: IpAddr,
    pub encapsulation: Encapsulation,
    /// Worker threads; 0 is one per core.
    pub workers: usize,
    /// TUN offloads (virtio-net headers, TSO); off moves one packet per system call.
    pub offloads: bool,
    /// The N3 (GTP-U) socket of the N3IWF's user plane (`[n3iwf] n3_address`).
    pub n3: Option<SocketAddr>,
    /// Largest outer packet towards a UE (`[n3iwf] ue_mtu`).
    pub n3_ue_mtu: u16,
    /// `[n3iwf] mtu_policy`.
    pub n3_oversize: dataplane::OversizePolicy,
}

/// How ESP travels between the gateways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encapsulation {
    /// ESP in UDP on `daemon.natt_port` (RFC 3948), for every Child SA: the port is shared
    /// with IKE behind the non-ESP marker, and the engine forces encapsulation.
    Udp,
    /// IP protocol 50; a Child SA that needs UDP encapsulation (NAT) cannot be installed.
    Raw,
}

/// Which post-quantum protections a connection requires (`hybrid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HybridPolicy {
    /// Nothing beyond the configured key exchanges.
    Classical,
    /// Every IKE proposal includes an ML-KEM key exchange.
    Pqc,
    /// A QKD key is mixed in as PPK (RFC 8784 / RFC 9867).
    Qkd,
    /// Both.
    PqcQkd,
}

/// Where a connection's PPK comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PpkSourceKind {
    /// A `[secrets.ppk.*]` entry.
    Secrets,
    /// A fresh QKD key per IKE SA from the KME in `[qkd]`.
    Qkd,
}

/// Byte and packet limits of a Child SA, enforced by the datapath: the soft ones start a
/// rekey, the hard ones delete the SA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrafficLimits {
    pub rekey_bytes: Option<u64>,
    pub life_bytes: Option<u64>,
    pub rekey_packets: Option<u64>,
    pub life_packets: Option<u64>,
}

/// What the daemon does with a connection by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartAction {
    /// Only on `ikectl up` (or as responder).
    None,
    /// Initiate when the daemon starts or the connection is loaded.
    Start,
    /// Initiate on matching traffic: the datapath holds a trap policy per child and reports
    /// an acquire (without `[dataplane]` it acts as `None`).
    Trap,
}

/// A remote address: a host, or any (responder only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoteAddr {
    Any,
    Ip(IpAddr),
}

/// What happens to a Child SA whose peer stopped answering (strongSwan's `dpd_action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpdAction {
    /// Its SAs are removed.
    Clear,
    /// The connection is initiated again (with backoff, up to `keyingtries` attempts).
    Restart,
    /// A trap policy is installed: the next matching packet initiates the connection.
    Trap,
}

/// What happens when the peer closes a Child SA that no rekey replaces (strongSwan's
/// `close_action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseAction {
    None,
    /// A trap policy is installed for it.
    Trap,
    /// It is created again: in the IKE SA if that still stands, else with a new IKE SA.
    Start,
}

impl DpdAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clear => "clear",
            Self::Restart => "restart",
            Self::Trap => "trap",
        }
    }
}

impl CloseAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Trap => "trap",
            Self::Start => "start",
        }
    }
}

/// `[connections.NAME]`, validated. Holds the resolved pre-shared key and PPK, so it is neither
/// `Clone` nor `Debug`.
pub struct Connection {
    pub name: String,
    /// From `[daemon]` (`retransmit_*`).
    pub retransmit: ikev2::RetransmitConfig,
    /// From `[daemon] keep_alive`; `None` keeps the engine's default.
    pub nat_keepalive: Option<Duration>,
    pub local_addrs: Vec<IpAddr>,
    pub remote_addrs: Vec<RemoteAddr>,
    pub remote_port: u16,
    /// IKE proposals as written.
    pub proposals: Vec<String>,
    pub start_action: StartAction,
    /// Automatic initiations (start, dpd_action and close_action restarts) in a row before the
    /// daemon gives up; 0 means never.
    pub keyingtries: u32,
    /// The largest IP datagram before IKE fragmentation (RFC 7383), as strongSwan counts it;
    /// `None` when fragmentation is off.
    pub fragment_size: Option<u32>,
    /// Liveness check after this long without traffic from the peer; `None` when off.
    pub dpd_delay: Option<Duration>,
    /// IKE SA rekeying (`rekey_time`, `over_time`, `rand_time`).
    pub ike_lifetime: Lifetime,
    /// Not enforced yet (the engine rekeys, it does not reauthenticate).
    pub reauth_time: Option<Duration>,
    /// Our identity as written.
    pub local_id: String,
    /// The peer's identity as written; `None` accepts any peer that proves the PSK.
    pub remote_id: Option<String>,
    pub children: Vec<Child>,
    /// The PPK: its source, ID (static ones) and whether it is required.
    pub ppk: Option<PpkRef>,
    /// The required post-quantum protections; `hybrid_explicit` tells whether the file set
    /// them or they were inferred from the proposals and the PPK source.
    pub hybrid: HybridPolicy,
    pub hybrid_explicit: bool,
    /// With QKD: fall back to ML-KEM alone when no QKD key can be had (only with `pqc+qkd`).
    pub qkd_fallback: bool,
    /// With QKD: the peer's SAE ID at the KME.
    pub qkd_peer_sae_id: Option<String>,
    /// Force UDP encapsulation of ESP (set when the datapath runs ESP in UDP).
    pub force_encap: bool,
    local_identity: Identity,
    remote_identity: Option<Identity>,
    ike_specs: Vec<ProposalSpec>,
    credentials: Credentials,
    ppk_key: Option<SecretBytes>,
    fingerprint: [u8; 32],
}

/// How a connection authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// A pre-shared key, both ways.
    Psk,
    /// X.509 certificates with RFC 7427 signatures, both ways.
    Pubkey,
    /// The N3IWF's connection: we sign with our certificate, the UE is authenticated by EAP-5G
    /// (run by the N3IWF core with the AMF), whose MSK keys the final AUTH payloads.
    Eap5g,
}

/// The secrets behind [`AuthMethod`].
enum Credentials {
    Psk(SecretBytes),
    Certificate(certs::CertCredentials),
    /// Our certificate; the peer runs EAP.
    EapServer(certs::CertCredentials),
}

/// A PPK by reference: its identity, never its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PpkRef {
    pub source: PpkSourceKind,
    /// The PPK_ID of a static PPK; empty with QKD (the KME's key_ID is the PPK_ID).
    pub id: String,
    pub required: bool,
    pub mode: PpkMode,
    /// With QKD: how long the engine waits for the key.
    pub timeout: Duration,
}

/// `[connections.NAME.children.CHILD]`, validated.
#[derive(Clone, Debug)]
pub struct Child {
    pub name: String,
    pub local_ts: Vec<IpSelector>,
    pub remote_ts: Vec<IpSelector>,
    /// ESP proposals as written.
    pub esp_proposals: Vec<String>,
    /// Child SA rekeying (`rekey_time`, `life_time`, `rand_time`).
    pub lifetime: Lifetime,
    pub dpd_action: DpdAction,
    pub close_action: CloseAction,
    /// Byte and packet lifetimes, enforced by the datapath.
    pub limits: TrafficLimits,
    esp_specs: Vec<ProposalSpec>,
}

impl Config {
    /// Reads and validates a configuration file.
    ///
    /// # Errors
    /// Every problem found, each with file, line and field.
    pub fn load(path: &Path) -> Result<Self, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: None,
            field: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        let mut config = Self::parse(path, &text)?;
        if let Some(w) = load::permission_warning(path) {
            config.warnings.push(w);
        }
        Ok(config)
    }

    /// Validates configuration text; `path` names it in messages and anchors relative secret
    /// files.
    ///
    /// # Errors
    /// Every problem found, each with file, line and field.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigErrors> {
        load::parse(path, text)
    }

    /// The connection named `name`.
    pub fn connection(&self, name: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.name == name)
    }
}

impl Connection {
    /// The child template called `name`.
    pub fn child(&self, name: &str) -> Option<&Child> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The engine's view of this connection.
    pub fn to_engine(&self) -> ConnectionConfig {
        let mut c = ConnectionConfig::new(
            &self.name,
            self.local_identity.clone(),
            &[],
            self.ike_specs.clone(),
        );
        c.auth = match &self.credentials {
            Credentials::Psk(psk) => AuthConfig::Psk(psk.dangerous_duplicate()),
            Credentials::Certificate(cert) => cert.to_engine(),
            Credentials::EapServer(cert) => AuthConfig::Eap(Box::new(cert.to_engine())),
        };
        c.remote_id = self.remote_identity.clone();
        c.dpd_delay = self.dpd_delay;
        c.retransmit = self.retransmit;
        if let Some(k) = self.nat_keepalive {
            c.nat_keepalive = k;
        }
        c.ike_lifetime = self.ike_lifetime;
        c.children = self.children.iter().map(Child::to_engine).collect();
        c.ppk =
            match (&self.ppk, &self.ppk_key) {
                (Some(r), Some(key)) if r.source == PpkSourceKind::Secrets => Some(
                    PpkConfig::fixed(r.id.as_bytes(), key.dangerous_duplicate(), r.required),
                ),
                (Some(r), _) if r.source == PpkSourceKind::Qkd => {
                    Some(PpkConfig::external(r.timeout, r.required))
                }
                _ => None,
            };
        if let (Some(p), Some(r)) = (c.ppk.as_mut(), self.ppk.as_ref()) {
            p.mode = r.mode;
        }
        c.force_encap = self.force_encap;
        c.fragment_size = self.fragment_size.map(|ip| {
            let all_v4 = self
                .remote_addrs
                .iter()
                .all(|a| matches!(a, RemoteAddr::Ip(IpAddr::V4(_))));
            let ip_header = if all_v4 && !self.remote_addrs.is_empty() {
                20
            } else {
                40
            };
            // fragment_size counts the IP datagram; the engine counts the UDP payload.
            (ip as usize).saturating_sub(ip_header + 8)
        });
        c
    }

    /// How this connection authenticates.
    pub fn auth_method(&self) -> AuthMethod {
        match self.credentials {
            Credentials::Psk(_) => AuthMethod::Psk,
            Credentials::Certificate(_) => AuthMethod::Pubkey,
            Credentials::EapServer(_) => AuthMethod::Eap5g,
        }
    }

    /// The first concrete remote address, which `ikectl up` and `start_action` initiate to.
    pub fn initiate_to(&self) -> Option<SocketAddr> {
        self.remote_addrs.iter().find_map(|a| match a {
            RemoteAddr::Ip(ip) => Some(SocketAddr::new(*ip, self.remote_port)),
            RemoteAddr::Any => None,
        })
    }

    /// Whether two loads of this connection are the same, secrets included (compared by
    /// digest, never shown).
    pub fn same_as(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}

impl Child {
    fn to_engine(&self) -> ChildConfig {
        let mut c = ChildConfig::new(
            &self.name,
            self.esp_specs.clone(),
            self.local_ts.clone(),
            self.remote_ts.clone(),
        );
        c.lifetime = self.lifetime;
        c
    }
}

impl HybridPolicy {
    /// The name used in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Classical => "classical",
            Self::Pqc => "pqc",
            Self::Qkd => "qkd",
            Self::PqcQkd => "pqc+qkd",
        }
    }

    /// Whether ML-KEM is required.
    pub fn needs_pqc(self) -> bool {
        matches!(self, Self::Pqc | Self::PqcQkd)
    }

    /// Whether a QKD PPK is wanted.
    pub fn needs_qkd(self) -> bool {
        matches!(self, Self::Qkd | Self::PqcQkd)
    }
}

impl TrafficLimits {
    /// Whether no limit is set.
    pub fn is_unlimited(&self) -> bool {
        *self == Self::default()
    }
}

impl AuthMethod {
    /// The name used in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Psk => "psk",
            Self::Pubkey => "pubkey",
            Self::Eap5g => "eap-5g",
        }
    }
}

impl StartAction {
    /// The name used in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Start => "start",
            Self::Trap => "trap",
        }
    }
}

impl fmt::Display for RemoteAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("%any"),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}
