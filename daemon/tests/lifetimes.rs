//! Datapath lifetime events reach the engine even when their doorbell was lost to a full event
//! queue. In-process, with a test datapath. (The flood test of the engine task's deadlines is
//! in `src/driver/tests.rs`, where the queue can be held full.)

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{HYBRID, site, wait_for};
use iked::config::{Config, TrafficLimits};
use iked::proto::{Command, IkeSaView, StatsView};
use iked::{
    ChildSaSink, Daemon, DatapathEvent, LifetimeEvent, LifetimeKind, LoggingSink, SinkError,
};
use ikev2::{ChildSa, EspSpi, SaId};
use tokio::sync::mpsc;

/// A datapath that records Child SAs, hands the daemon a queue of IKE messages and an event
/// queue the test controls, and keeps lifetime events until the daemon collects them.
struct TestDatapath {
    inner: LoggingSink,
    ike: Option<mpsc::Receiver<DatapathEvent>>,
    events: Option<mpsc::Receiver<DatapathEvent>>,
    lifetimes: Arc<Mutex<Vec<LifetimeEvent>>>,
}

impl ChildSaSink for TestDatapath {
    fn install(
        &mut self,
        ike_sa: SaId,
        connection: &str,
        child: ChildSa,
        limits: TrafficLimits,
    ) -> Result<(), SinkError> {
        self.inner.install(ike_sa, connection, child, limits)
    }
    fn retire(&mut self, ike_sa: SaId, inbound_spi: EspSpi) {
        self.inner.retire(ike_sa, inbound_spi);
    }
    fn counters(&self) -> std::collections::BTreeMap<EspSpi, iked::proto::ChildSaCounters> {
        self.inner.counters()
    }
    fn take_events(&mut self) -> Option<mpsc::Receiver<DatapathEvent>> {
        self.events.take()
    }
    fn take_ike(&mut self) -> Option<mpsc::Receiver<DatapathEvent>> {
        self.ike.take()
    }
    fn take_lifetime_events(&mut self) -> Vec<LifetimeEvent> {
        std::mem::take(&mut *self.lifetimes.lock().expect("lock"))
    }
}

struct Harness {
    rt: tokio::runtime::Runtime,
    daemon: Option<Daemon>,
    _dir: tempfile::TempDir,
    socket: std::path::PathBuf,
}

impl Harness {
    fn start(body: &str, extra: &str, sink: TestDatapath) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let socket = dir.path().join("iked.sock");
        let path = dir.path().join("iked.toml");
        let text = format!(
            "[daemon]\nsocket = \"{}\"\nlisten = [\"127.0.0.1\"]\nike_port = 0\nnatt_port = 0\n{extra}\n{body}",
            socket.display()
        );
        std::fs::write(&path, text).expect("write");
        let config = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let daemon = rt
            .block_on(Daemon::start(config, Box::new(sink)))
            .expect("daemon starts");
        Self {
            rt,
            daemon: Some(daemon),
            _dir: dir,
            socket,
        }
    }

    fn call<T: serde::de::DeserializeOwned>(&self, c: Command) -> T {
        iked::client::Client::connect(&self.socket)
            .expect("connect")
            .call_as(c, Some(Duration::from_secs(20)))
            .expect("answer")
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(d) = self.daemon.take() {
            self.rt.block_on(d.shutdown());
        }
    }
}

/// A lifetime event whose doorbell was lost (the event queue was full) is still collected: the
/// engine task sweeps once a second and rekeys the Child SA.
#[test]
fn a_lifetime_event_without_a_doorbell_still_rekeys_the_child_sa() {
    let b = common::TestDaemon::start(&site("from-a", "b", "a", None, "none", HYBRID), "");
    let lifetimes = Arc::new(Mutex::new(Vec::new()));
    // The event queue is full of unknown-SPI reports and nobody rings for the lifetime.
    let (events_tx, events_rx) = mpsc::channel(16);
    for spi in 0..16 {
        events_tx
            .try_send(DatapathEvent::UnknownSpi {
                remote: "127.0.0.1:4500".parse().expect("addr"),
                spi: EspSpi(0x0100_0000 + spi),
            })
            .expect("room");
    }
    let sink = TestDatapath {
        inner: LoggingSink::new(),
        ike: None,
        events: Some(events_rx),
        lifetimes: Arc::clone(&lifetimes),
    };
    let a = Harness::start(
        &site("to-b", "a", "b", Some(b.ike_port()), "none", HYBRID),
        "",
        sink,
    );
    let up: iked::proto::UpView = a.call(Command::Up {
        name: "to-b".into(),
        timeout_ms: Some(15_000),
    });
    let old = up.ike_sa.children[0].inbound_spi.clone();
    let spi = EspSpi(u32::from_str_radix(&old, 16).expect("hex SPI"));
    lifetimes.lock().expect("lock").push(LifetimeEvent {
        spi,
        outbound: false,
        kind: LifetimeKind::Soft,
    });
    let rekeyed = wait_for(Duration::from_secs(10), || {
        let sas: Vec<IkeSaView> = a.call(Command::ListSas);
        let children = &sas.first()?.children;
        children.iter().any(|c| c.inbound_spi != old).then_some(())
    });
    assert!(rekeyed.is_some(), "the Child SA was not rekeyed");
    let stats: StatsView = a.call(Command::Stats);
    assert_eq!(stats.daemon.get("child_sa_soft_lifetimes"), Some(&1));
    drop(events_tx);
}

/// An outbound SA near the end of its sequence numbers raises a soft lifetime (the ESP SA's
/// rekey margin, `esp::SEQUENCE_REKEY_MARGIN`), keyed by the outbound SPI: the Child SA is
/// rekeyed once, and the exhaustion that may follow on the old SA asks for nothing more.
#[test]
fn an_outbound_soft_lifetime_rekeys_once() {
    let b = common::TestDaemon::start(&site("from-a", "b", "a", None, "none", HYBRID), "");
    let lifetimes = Arc::new(Mutex::new(Vec::new()));
    let sink = TestDatapath {
        inner: LoggingSink::new(),
        ike: None,
        events: None,
        lifetimes: Arc::clone(&lifetimes),
    };
    let a = Harness::start(
        &site("to-b", "a", "b", Some(b.ike_port()), "none", HYBRID),
        "",
        sink,
    );
    let up: iked::proto::UpView = a.call(Command::Up {
        name: "to-b".into(),
        timeout_ms: Some(15_000),
    });
    let child = &up.ike_sa.children[0];
    let (old_in, out) = (child.inbound_spi.clone(), child.outbound_spi.clone());
    let spi = EspSpi(u32::from_str_radix(&out, 16).expect("hex SPI"));
    let event = |kind| LifetimeEvent {
        spi,
        outbound: true,
        kind,
    };
    lifetimes
        .lock()
        .expect("lock")
        .push(event(LifetimeKind::Soft));
    lifetimes
        .lock()
        .expect("lock")
        .push(event(LifetimeKind::SequenceExhausted));
    let rekeyed = wait_for(Duration::from_secs(10), || {
        let sas: Vec<IkeSaView> = a.call(Command::ListSas);
        let children = &sas.first()?.children;
        (children.len() == 1 && children[0].inbound_spi != old_in).then_some(())
    });
    assert!(rekeyed.is_some(), "the Child SA was not rekeyed");
    let stats: StatsView = a.call(Command::Stats);
    assert_eq!(stats.daemon.get("child_sa_soft_lifetimes"), Some(&1));
}
