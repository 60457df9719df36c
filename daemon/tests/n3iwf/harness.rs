//! An N3IWF daemon and an emulated AMF in this process, joined by N2 over usrsctp's UDP
//! encapsulation on loopback: both use this process's one usrsctp stack, whose packets leave
//! through its UDP port and come back. No privileges are needed.
//!
//! Without `libusrsctp.so.2` the tests print SKIPPED and pass, unless `N2_REQUIRE_USRSCTP=1`
//! (set by the project's test command, which installs the library).

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use fiveg_emu::amf_sim::{AmfSim, SimConfig, SimStats};
use iked::client::Client;
use iked::proto::{AmfView, Command, StatsView, UeView};
use n2_transport::{AssociationConfig, LowerLayer, N2Error, UserspaceSctp};
use tokio::runtime::Runtime;
use tokio::sync::watch;

use crate::common::{TestDaemon, wait_for};
use crate::pki;

pub(crate) const PLMN: &str = "208-93";
pub(crate) const T: Option<Duration> = Some(Duration::from_secs(20));
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// The UDP port of this process's usrsctp stack; `None` (after SKIPPED) without the library.
pub(crate) fn stack() -> Option<u16> {
    static PORT: OnceLock<Option<u16>> = OnceLock::new();
    *PORT.get_or_init(|| {
        let lower = LowerLayer::Udp {
            local_port: 0,
            remote_port: 0,
        };
        match UserspaceSctp::start(lower, AssociationConfig::default()) {
            Ok(t) => Some(t.local_udp_port()),
            Err(e @ N2Error::UsrsctpUnavailable(_)) => {
                assert!(
                    std::env::var_os("N2_REQUIRE_USRSCTP").is_none(),
                    "N2_REQUIRE_USRSCTP is set: {e}"
                );
                println!("SKIPPED: {e}");
                None
            }
            Err(e) => panic!("{e}"),
        }
    })
}

/// The emulated AMF listening on 127.0.0.1:`sctp_port`, on its own runtime.
pub(crate) struct Sim {
    rt: Runtime,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    pub(crate) stats: Arc<SimStats>,
}

impl Sim {
    pub(crate) fn start(udp: u16, sctp_port: u16, config: SimConfig) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let lower = LowerLayer::Udp {
            local_port: udp,
            remote_port: udp,
        };
        let address = SocketAddr::from(([127, 0, 0, 1], sctp_port));
        let (stop, shutdown) = watch::channel(false);
        let (task, stats) = rt.block_on(async {
            let transport =
                UserspaceSctp::start(lower, AssociationConfig::default()).expect("stack");
            let sim = AmfSim::listen(&transport, address, config).expect("listen");
            let stats = sim.stats();
            (tokio::spawn(sim.run(shutdown)), stats)
        });
        Self {
            rt,
            stop,
            task: Some(task),
            stats,
        }
    }

    /// Stops listening and drops every association, as an AMF that goes away.
    pub(crate) fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            self.rt.block_on(task).expect("sim task");
        }
        let stats = Arc::clone(&self.stats);
        let all_ended = wait_for(WAIT, || {
            let (a, e) = (
                SimStats::get(&stats.associations),
                SimStats::get(&stats.associations_ended),
            );
            (a == e).then_some(())
        });
        assert!(all_ended.is_some(), "associations still served");
    }
}

/// A free TCP port on 127.0.0.1 (for the NAS listener).
pub(crate) fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The `[dataplane]` and `[n3iwf]` sections of an N3IWF whose one AMF is at
/// 127.0.0.1:`sctp_port` over this process's stack, with its certificate in `pki`.
pub(crate) fn n3iwf_body(udp: u16, sctp_port: u16, pki: &Path) -> String {
    let nas_port = free_tcp_port();
    let pki = pki.display();
    format!(
        r#"
[dataplane]
local = "127.0.0.1"
encapsulation = "raw"

[n3iwf]
plmn = "{PLMN}"
n3iwf_id = 7
name = "n3iwf-under-test"
nas_address = "127.0.0.1"
nas_port = {nas_port}
ue_pool = "10.45.0.0/24"
amf_reconnect = "50ms"
amf_reconnect_max = "200ms"

[[n3iwf.tracking_areas]]
tac = 1
plmns = [{{ plmn = "{PLMN}", slices = ["1"] }}]

[[n3iwf.amfs]]
name = "amf-sim"
address = "127.0.0.1"
port = {sctp_port}
transport = "usrsctp"
lower = "udp"
local_udp_port = {udp}
udp_port = {udp}

[n3iwf.ike]
certs = ["{pki}/n3iwf.pem"]
key = "{pki}/n3iwf.key"
id = "n3iwf.example"
"#
    )
}

/// An N3IWF daemon with its certificate directory.
pub(crate) struct N3iwfDaemon {
    pub(crate) daemon: TestDaemon,
    pub(crate) pki: tempfile::TempDir,
    /// The configuration after `[daemon]`.
    pub(crate) body: String,
}

impl N3iwfDaemon {
    pub(crate) fn start(udp: u16, sctp_port: u16) -> Self {
        let pki = tempfile::tempdir().expect("tempdir");
        pki::write_pki(pki.path(), &["n3iwf"]);
        let body = n3iwf_body(udp, sctp_port, pki.path());
        let daemon = TestDaemon::start(&body, "");
        Self { daemon, pki, body }
    }

    pub(crate) fn client(&self) -> Client {
        self.daemon.client()
    }

    pub(crate) fn amf(&self) -> AmfView {
        let amfs: Vec<AmfView> = self
            .client()
            .call_as(Command::ListAmfs, T)
            .expect("list-amfs");
        amfs.into_iter().next().expect("one AMF")
    }

    pub(crate) fn ues(&self) -> Vec<UeView> {
        self.client()
            .call_as(Command::ListUes, T)
            .expect("list-ues")
    }

    pub(crate) fn stats(&self) -> StatsView {
        self.client().call_as(Command::Stats, T).expect("stats")
    }

    /// Waits until the AMF's view satisfies `f`.
    pub(crate) fn wait_amf(&self, what: &str, f: impl Fn(&AmfView) -> bool) -> AmfView {
        wait_for(WAIT, || Some(self.amf()).filter(|a| f(a)))
            .unwrap_or_else(|| panic!("{what}: {:?}", self.amf()))
    }

    /// NGAP messages of `procedure` in `direction` so far.
    pub(crate) fn ngap(&self, procedure: &str, direction: &str) -> u64 {
        let stats = self.stats();
        let n = stats.n3iwf.expect("n3iwf stats");
        n.ngap
            .iter()
            .find(|c| c.procedure == procedure && c.direction == direction)
            .map_or(0, |c| c.messages)
    }
}

/// Whether NG Setup is done over an association that is up.
pub(crate) fn ready(a: &AmfView) -> bool {
    a.association == "up" && a.ng_setup == "ready"
}
