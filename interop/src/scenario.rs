//! One interop case: our daemon (left namespace) and strongSwan (right namespace) with matching
//! configurations, brought up with either side initiating, then checked from both ends.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use crate::charon::{Charon, CharonConfig};
use crate::cmd::{Error, Result, wait_until};
use crate::config::iked::{AuthSide, Child, ConnPpk, Connection};
use crate::config::swanctl::{SwAuth, SwChild, SwConn, SwSecret, SwanctlConf};
use crate::iked::{Encap, Iked, IkedConfig, OurIkeSa, daemon_lab_or_skip};
use crate::lab::Lab;
use crate::peer::report;
use crate::sas::IkeSa;
use crate::traffic::ping;
use crate::transfer::tcp_transfer;

/// Our identity and strongSwan's.
pub const OUR_ID: &str = "iked.example";
/// strongSwan's identity.
pub const PEER_ID: &str = "strongswan.example";
/// The connection and child name on both sides.
pub const CONN: &str = "net";
/// The pre-shared key both sides use unless a test changes one.
pub const PSK: &str = "interop-psk-0123456789abcdef-ours";
/// Bounded waits for SAs to appear or change.
pub const WAIT: Duration = Duration::from_secs(20);

/// Bytes sent each way by [`Pair::check_traffic`] in the standard case.
pub const TRANSFER_BYTES: usize = 256 * 1024;

static PORT: AtomicU16 = AtomicU16::new(5100);

/// Who sends IKE_SA_INIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Our daemon (`ikectl up`).
    OursInitiates,
    /// strongSwan (`swanctl --initiate`).
    PeerInitiates,
}

impl Role {
    /// Both directions, for loops over the matrix.
    pub const BOTH: [Self; 2] = [Self::OursInitiates, Self::PeerInitiates];

    /// `ours-init` or `peer-init`, for messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::OursInitiates => "iked initiates",
            Self::PeerInitiates => "strongSwan initiates",
        }
    }
}

/// A post-quantum preshared key (RFC 8784) on one side.
#[derive(Clone, Debug)]
pub struct Ppk {
    /// PPK_ID.
    pub id: String,
    /// The key, hex (at least 32 bytes).
    pub hex: String,
    /// Fail without it instead of falling back to NO_PPK_AUTH.
    pub required: bool,
}

/// Certificates and keys (PEM) for `auth = pubkey` on both sides, signed by one test CA.
#[derive(Clone, Debug)]
pub struct Certs {
    /// The CA certificate.
    pub ca: String,
    /// Our certificate and PKCS#8 key.
    pub ours: (String, String),
    /// strongSwan's certificate and PKCS#8 key.
    pub peer: (String, String),
}

/// How the two sides authenticate.
#[derive(Clone, Debug)]
pub enum Auth {
    /// PSKs: ours and strongSwan's (equal unless a test wants a mismatch).
    Psk {
        /// Our side's key.
        ours: String,
        /// strongSwan's key.
        peer: String,
    },
    /// Certificates from one CA.
    Pubkey(Certs),
}

/// The configuration of one case.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Short `[a-z0-9]` name for namespaces.
    pub tag: String,
    /// Our IKE proposal (strongSwan syntax).
    pub ours_ike: String,
    /// strongSwan's IKE proposal.
    pub peer_ike: String,
    /// What our `list-sas` must show as the negotiated IKE proposal when it is not `ours_ike`
    /// (several algorithms of one kind offered).
    pub ours_negotiated: Option<String>,
    /// Our ESP proposal.
    pub ours_esp: String,
    /// strongSwan's ESP proposal.
    pub peer_esp: String,
    /// ESP on the wire (and kernel-libipsec's `raw_esp` to match).
    pub encap: Encap,
    /// IKE fragment size on both sides (strongSwan's is global: `charon.fragment_size`).
    pub fragment_size: Option<u32>,
    /// Authentication.
    pub auth: Auth,
    /// Our PPK, strongSwan's PPK.
    pub ppk: (Option<Ppk>, Option<Ppk>),
    /// Extra lines in our `[connections.net]` (e.g. `rekey_time = "0"`).
    pub ours_conn: String,
    /// Extra lines in our `[connections.net.children.net]`.
    pub ours_child: String,
    /// Extra lines in strongSwan's `connections.net`.
    pub peer_conn: String,
    /// Extra lines in strongSwan's `children.net`.
    pub peer_child: String,
    /// Extra lines in strongSwan's `charon { }` (strongswan.conf).
    pub peer_charon: String,
    /// Extra entries in strongSwan's `secrets { }`.
    pub peer_secrets: String,
    /// Our `[daemon] log` filter.
    pub ours_log: String,
    /// Extra lines in our `[daemon]`.
    pub ours_daemon: String,
    /// charon's log levels.
    pub peer_log: Vec<(String, i32)>,
}

impl Spec {
    /// A PSK case with the same proposals on both sides, ESP in UDP.
    pub fn new(tag: &str, ike: &str, esp: &str) -> Self {
        Self {
            tag: tag.into(),
            ours_ike: ike.into(),
            peer_ike: ike.into(),
            ours_negotiated: None,
            ours_esp: esp.into(),
            peer_esp: esp.into(),
            encap: Encap::Udp,
            fragment_size: None,
            auth: Auth::Psk {
                ours: PSK.into(),
                peer: PSK.into(),
            },
            ppk: (None, None),
            ours_conn: String::new(),
            ours_child: String::new(),
            peer_conn: String::new(),
            peer_child: String::new(),
            peer_secrets: String::new(),
            peer_charon: String::new(),
            ours_log: "info".into(),
            ours_daemon: String::new(),
            peer_log: vec![("default".into(), 1), ("ike".into(), 2)],
        }
    }
}

/// A running case. Field order is drop order: the daemons stop before the lab's namespaces go.
pub struct Pair {
    /// Our daemon, in the left namespace.
    pub iked: Iked,
    /// strongSwan, in the right namespace.
    pub charon: Charon,
    /// The namespaces.
    pub lab: Lab,
    /// What it was built from.
    pub spec: Spec,
}

impl Pair {
    /// Builds the lab and starts both daemons with `spec`, or returns `None` after a loud
    /// `SKIPPED` banner (see [`daemon_lab_or_skip`]).
    pub fn start(test: &str, spec: Spec) -> Option<Self> {
        let (strongswan, _) = daemon_lab_or_skip(test)?;
        let lab = Lab::for_daemon(&strongswan, &spec.tag).expect("lab");
        let mut charon_options = String::new();
        if let Some(n) = spec.fragment_size {
            let _ = writeln!(charon_options, "fragment_size = {n}");
        }
        charon_options.push_str(&spec.peer_charon);
        let cfg = CharonConfig {
            raw_esp: spec.encap == Encap::Raw,
            crypto_test_on_add: false,
            log_levels: spec.peer_log.clone(),
            charon_options,
            ..CharonConfig::default()
        };
        let charon = Charon::start(lab.right(), &strongswan, "strongswan", &cfg).expect("charon");
        write_peer_credentials(&charon, &spec);
        charon
            .load_conf(&swanctl_conf(&lab, &spec))
            .expect("swanctl --load-all");
        let ours = IkedConfig {
            encap: spec.encap,
            log: spec.ours_log.clone(),
            daemon: spec.ours_daemon.clone(),
            files: our_credentials(&spec),
        };
        let iked = Iked::start(
            lab.left(),
            lab.right(),
            "iked",
            &ours,
            &iked_toml(&lab, &spec, true),
        )
        .unwrap_or_else(|e| panic!("{test}: starting iked: {e}"));
        Some(Self {
            iked,
            charon,
            lab,
            spec,
        })
    }

    /// Brings the tunnel up with `role` initiating and waits until both ends show an
    /// established IKE SA with an installed Child SA.
    pub fn establish(&self, role: Role) -> (OurIkeSa, IkeSa) {
        self.initiate(role)
            .unwrap_or_else(|e| panic!("{}: bring-up failed: {e}", role.label()));
        let ours = self
            .iked
            .wait_established(CONN, WAIT)
            .unwrap_or_else(|e| panic!("{}: {e}", role.label()));
        let peer = self
            .wait_peer(|sa| sa.state == "ESTABLISHED" && sa.installed_children().next().is_some())
            .unwrap_or_else(|e| panic!("{}: strongSwan: {e}", role.label()));
        assert_eq!(
            ours.initiator,
            role == Role::OursInitiates,
            "our role: {ours:#?}"
        );
        assert_eq!(
            peer.initiator,
            role == Role::PeerInitiates,
            "strongSwan's role: {peer:#?}"
        );
        (ours, peer)
    }

    /// Starts the bring-up with `role` initiating; the error carries the initiator's output.
    pub fn initiate(&self, role: Role) -> Result<()> {
        match role {
            Role::OursInitiates => self.iked.up(CONN).map(drop),
            Role::PeerInitiates => self.charon.initiate(CONN),
        }
    }

    /// Waits until strongSwan has exactly one IKE SA and it satisfies `check`.
    pub fn wait_peer(&self, check: impl Fn(&IkeSa) -> bool) -> Result<IkeSa> {
        let mut last = Vec::new();
        wait_until(WAIT, || {
            last = self.charon.list_sas().ok()?;
            match last.as_slice() {
                [sa] if check(sa) => Some(sa.clone()),
                _ => None,
            }
        })
        .ok_or_else(|| {
            Error::new(format!(
                "strongSwan's IKE SAs did not reach the expected state within {WAIT:?}: {last:#?}\nlog tail:\n{}",
                crate::charon::tail(&self.charon.log(), 30)
            ))
        })
    }

    /// Closes every SA from our side and waits until both ends have none.
    pub fn down(&self) {
        self.iked.ikectl(&["down", CONN]).expect("ikectl down");
        self.iked
            .wait_sas(WAIT, |s| s.is_empty().then_some(()))
            .expect("our SAs gone");
        self.wait_peer_empty();
    }

    /// Waits until strongSwan has no IKE SA.
    pub fn wait_peer_empty(&self) {
        wait_until(WAIT, || {
            self.charon.list_sas().ok().filter(Vec::is_empty).map(drop)
        })
        .unwrap_or_else(|| {
            panic!(
                "strongSwan kept IKE SAs: {}",
                self.charon.list_sas_text().unwrap_or_default()
            )
        });
    }

    /// Pings both ways and sends `bytes` of checked data over TCP each way.
    pub fn check_traffic(&self, bytes: usize) {
        let (l, r) = (self.lab.left(), self.lab.right());
        let out = ping(l, r.inner(), 3).expect("ping iked -> strongSwan");
        assert_eq!(out.received, 3, "ping iked -> strongSwan: {out:?}");
        let back = ping(r, l.inner(), 3).expect("ping strongSwan -> iked");
        assert_eq!(back.received, 3, "ping strongSwan -> iked: {back:?}");
        for (from, to, what) in [(l, r, "iked -> strongSwan"), (r, l, "strongSwan -> iked")] {
            let port = PORT.fetch_add(1, Ordering::Relaxed);
            let t = tcp_transfer(from, to, port, bytes, Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("TCP {what}: {e}"));
            assert_eq!(t.bytes, bytes, "TCP {what}");
            if std::env::var_os("PQX_DEBUG").is_some() {
                report(&format!("TCP {what}: {bytes} bytes in {:?}", t.elapsed));
            }
        }
    }

    /// The standard case, once per role: see [`Self::one_direction`].
    pub fn both_directions(
        &self,
        ike: &str,
        esp: &str,
        more: impl Fn(&Self, Role, &OurIkeSa, &IkeSa),
    ) {
        for role in Role::BOTH {
            self.one_direction(role, ike, esp, &more);
        }
    }

    /// Brings the tunnel up with `role` initiating, checks strongSwan's view
    /// ([`assert_peer_view`] with `ike`/`esp`) and our proposal names, runs traffic both ways
    /// ([`Self::check_traffic`]), calls `more`, and closes the tunnel from our side.
    pub fn one_direction(
        &self,
        role: Role,
        ike: &str,
        esp: &str,
        more: impl Fn(&Self, Role, &OurIkeSa, &IkeSa),
    ) {
        let (ours, peer) = self.establish(role);
        assert_peer_view(&peer, ike, esp, self.spec.encap);
        let negotiated = self.spec.ours_negotiated.as_ref();
        assert_eq!(
            ours.proposal.as_ref(),
            Some(negotiated.unwrap_or(&self.spec.ours_ike)),
            "our IKE SA: {ours:#?}"
        );
        assert_eq!(ours.children[0].proposal, self.spec.ours_esp, "{ours:#?}");
        self.check_traffic(TRANSFER_BYTES);
        more(self, role, &ours, &peer);
        self.show_peer(role.label());
        report(&format!("PASS {} ({})", self.spec.tag, role.label()));
        self.down();
    }

    /// strongSwan's single IKE SA.
    pub fn peer_sa(&self) -> IkeSa {
        let sas = self.charon.list_sas().expect("swanctl --list-sas");
        assert_eq!(sas.len(), 1, "strongSwan: expected one IKE SA: {sas:#?}");
        sas.into_iter().next().expect("one IKE SA")
    }

    /// Prints strongSwan's view of the SAs (for the test log).
    pub fn show_peer(&self, what: &str) {
        report(&format!(
            "--- {} ({what}): swanctl --list-sas\n{}",
            self.spec.tag,
            self.charon.list_sas_text().unwrap_or_default()
        ));
    }
}

/// Asserts strongSwan's view: the IKE proposal as swanctl prints it, and an installed ESP
/// Child SA with `esp` (e.g. `AES_GCM_16-256`) and the encapsulation the spec asks for.
pub fn assert_peer_view(sa: &IkeSa, ike: &str, esp: &str, encap: Encap) {
    assert_eq!(sa.state, "ESTABLISHED");
    assert_eq!(sa.proposal(), ike, "strongSwan's IKE SA: {sa:#?}");
    let child = sa
        .installed_children()
        .next()
        .unwrap_or_else(|| panic!("no INSTALLED Child SA: {sa:#?}"));
    assert_eq!(
        (child.mode.as_str(), child.protocol.as_str()),
        ("TUNNEL", "ESP")
    );
    assert_eq!(
        child.algorithms.describe(),
        esp,
        "strongSwan's Child SA: {child:#?}"
    );
    assert_eq!(
        child.encap,
        encap == Encap::Udp,
        "UDP encapsulation: {child:#?}"
    );
    let port = if encap == Encap::Udp { 4500 } else { 500 };
    assert_eq!((sa.local_port, sa.remote_port), (port, port), "IKE ports");
}

fn auth_name(auth: &Auth) -> &'static str {
    match auth {
        Auth::Psk { .. } => "psk",
        Auth::Pubkey(_) => "pubkey",
    }
}

/// Our connection `net` from a [`Spec`], as the one iked.toml generator takes it.
pub fn iked_connection(lab: &Lab, spec: &Spec) -> Connection {
    let (me, peer) = (lab.left(), lab.right());
    let auth = auth_name(&spec.auth);
    let side = |id: &str| AuthSide {
        auth: auth.into(),
        id: Some(id.into()),
        ..AuthSide::default()
    };
    let (mut local, mut remote) = (side(OUR_ID), side(PEER_ID));
    if let Auth::Pubkey(_) = spec.auth {
        local.certs = vec!["certs/ours.pem".into()];
        local.key = Some("private/ours.key".into());
        remote.cacerts = vec!["certs/ca.pem".into()];
    }
    Connection {
        name: CONN.into(),
        remote_addrs: vec![peer.outer().to_string()],
        local_addrs: vec![me.outer().to_string()],
        proposals: vec![spec.ours_ike.clone()],
        fragment_size: spec.fragment_size,
        ppk: spec.ppk.0.as_ref().map(|p| ConnPpk::Static {
            id: p.id.clone(),
            required: p.required,
            secret_hex: Some(p.hex.clone()),
        }),
        extra: spec.ours_conn.clone(),
        local,
        remote,
        children: vec![Child {
            name: CONN.into(),
            local_ts: vec![format!("{}/32", me.inner())],
            remote_ts: vec![format!("{}/32", peer.inner())],
            esp_proposals: vec![spec.ours_esp.clone()],
            extra: spec.ours_child.clone(),
        }],
        psk: match &spec.auth {
            Auth::Psk { ours, .. } => Some((ours.clone(), vec![OUR_ID.into(), PEER_ID.into()])),
            Auth::Pubkey(_) => None,
        },
        ..Connection::default()
    }
}

/// Our `[connections.net]`, its child and secrets. `with_secrets = false` leaves the secrets
/// out (for a reload that keeps them).
pub fn iked_toml(lab: &Lab, spec: &Spec, with_secrets: bool) -> String {
    let conn = iked_connection(lab, spec);
    if with_secrets {
        conn.render()
    } else {
        conn.without_secrets().render()
    }
}

/// strongSwan's `swanctl.conf` from a [`Spec`], the mirror of [`iked_connection`].
pub fn swanctl_conf(lab: &Lab, spec: &Spec) -> String {
    let (me, peer) = (lab.right(), lab.left());
    let auth = auth_name(&spec.auth);
    let pubkey = matches!(spec.auth, Auth::Pubkey(_));
    let side = |id: &str, certs: &str| SwAuth {
        auth: auth.into(),
        id: Some(id.into()),
        certs: pubkey.then(|| certs.into()),
    };
    let mut secrets = Vec::new();
    if let Auth::Psk { peer: psk, .. } = &spec.auth {
        secrets.push(SwSecret::Ike {
            name: CONN.into(),
            ids: vec![OUR_ID.into(), PEER_ID.into()],
            secret: psk.clone(),
        });
    }
    if let Some(p) = &spec.ppk.1 {
        secrets.push(SwSecret::Ppk {
            name: CONN.into(),
            id: p.id.clone(),
            hex: p.hex.clone(),
        });
    }
    SwanctlConf {
        connections: vec![SwConn {
            name: CONN.into(),
            local_addrs: Some(me.outer().to_string()),
            remote_addrs: Some(peer.outer().to_string()),
            proposals: spec.peer_ike.clone(),
            ppk: spec.ppk.1.as_ref().map(|p| (p.id.clone(), p.required)),
            extra: spec.peer_conn.clone(),
            local: side(PEER_ID, "peer.pem"),
            remote: side(OUR_ID, "ca.pem"),
            children: vec![SwChild {
                name: CONN.into(),
                local_ts: format!("{}/32", me.inner()),
                remote_ts: format!("{}/32", peer.inner()),
                esp_proposals: spec.peer_esp.clone(),
                extra: spec.peer_child.clone(),
            }],
        }],
        secrets,
        extra_secrets: spec.peer_secrets.clone(),
    }
    .render()
}

fn write_peer_credentials(charon: &Charon, spec: &Spec) {
    if let Auth::Pubkey(c) = &spec.auth {
        charon
            .write_file("swanctl/x509ca/ca.pem", &c.ca)
            .expect("CA");
        charon
            .write_file("swanctl/x509/peer.pem", &c.peer.0)
            .expect("cert");
        charon
            .write_file("swanctl/private/peer.key", &c.peer.1)
            .expect("key");
    }
}

fn our_credentials(spec: &Spec) -> Vec<(String, Vec<u8>)> {
    match &spec.auth {
        Auth::Pubkey(c) => vec![
            ("certs/ca.pem".into(), c.ca.clone().into_bytes()),
            ("certs/ours.pem".into(), c.ours.0.clone().into_bytes()),
            ("private/ours.key".into(), c.ours.1.clone().into_bytes()),
        ],
        Auth::Psk { .. } => Vec::new(),
    }
}
