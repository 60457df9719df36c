//! The task that owns the [`Endpoint`]: datagrams (from the UDP sockets and the datapath),
//! commands and PPK answers in; datagrams, Child SAs and events out; one timer re-armed from
//! `poll_timeout` after every wake-up.
//!
//! Nothing here blocks: QKD keys are fetched by spawned tasks whose answers come back on a
//! channel ([`qkd`]), and the datapath's events arrive on another.

mod kme_limits;
mod n3iwf_hooks;
mod qkd;
mod recovery;
mod reject_log;
mod rekey;
#[cfg(test)]
mod tests;
mod timing;
mod traps;
mod views;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ikev2::wire::{Header, IkeSpi};
use ikev2::{
    ChildSa, CloseReason, ConnectionConfig, Endpoint, EndpointConfig, EspSpi, Event, IkeSaInfo,
    SaId, Transmit,
};
use ipsec_crypto::{CryptoProvider, KeGroup};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tracing::Span;

use crate::config::{
    Config, Connection, DaemonSettings, DataplaneSettings, QkdSettings, StartAction,
    format_selector,
};
use crate::essential::Essential;
use crate::keylog::KeyLog;
use crate::n3iwf::{N3iwfGlue, N3iwfInput};
use crate::net::{Datagram, Sockets, route_source};
use crate::proto::{
    AmfView, ConnView, DownView, ErrorCode, IkeSaView, LoadView, MonitorEvent, StatsView, UeView,
};
use crate::sink::{ChildSaSink, DatapathEvent, LifetimeEvent, LifetimeKind};

use self::kme_limits::KmeRequests;
use self::qkd::{Fetch, PpkAnswer, PpkRecord, QkdSource};
pub(crate) use self::rekey::RekeyReply;
use self::rekey::RekeyWaiter;
use self::timing::Timings;

/// A command for the driver, answered on its `reply` channel.
pub(crate) enum DriverCommand {
    Apply {
        config: Box<Config>,
        reply: oneshot::Sender<LoadView>,
    },
    Up {
        name: String,
        reply: oneshot::Sender<Result<UpStart, (ErrorCode, String)>>,
    },
    Down {
        name: String,
        reply: oneshot::Sender<Result<DownView, (ErrorCode, String)>>,
    },
    Rekey {
        name: String,
        child: Option<String>,
        reply: oneshot::Sender<Result<RekeyReply, (ErrorCode, String)>>,
    },
    ListConns {
        reply: oneshot::Sender<Vec<ConnView>>,
    },
    ListSas {
        reply: oneshot::Sender<Vec<IkeSaView>>,
    },
    ListUes {
        reply: oneshot::Sender<Result<Vec<UeView>, (ErrorCode, String)>>,
    },
    ListAmfs {
        reply: oneshot::Sender<Result<Vec<AmfView>, (ErrorCode, String)>>,
    },
    Stats {
        reply: oneshot::Sender<StatsView>,
    },
    /// Debug builds only: a fault injected to test what a panicking engine task does.
    #[cfg(feature = "fault-injection")]
    DebugPanic {
        reply: oneshot::Sender<()>,
    },
}

/// How `up` proceeds.
pub(crate) enum UpStart {
    AlreadyUp(Box<IkeSaView>),
    /// Resolves when the IKE SA is established (with its Child SAs) or fails.
    Pending(oneshot::Receiver<Result<IkeSaView, String>>),
}

/// The receiving ends the driver runs on.
pub(crate) struct Inputs {
    pub(crate) datagrams: mpsc::Receiver<Datagram>,
    pub(crate) commands: mpsc::Receiver<DriverCommand>,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Unknown SPIs, acquires and lifetime doorbells, when a datapath is attached.
    pub(crate) datapath: Option<mpsc::Receiver<DatapathEvent>>,
    /// Where a datapath that stopped working is reported.
    pub(crate) essential: Essential,
    /// The N3IWF's N2 and NAS TCP tasks, with `[n3iwf]`.
    pub(crate) n3iwf: Option<mpsc::Receiver<N3iwfInput>>,
}

pub(crate) struct Driver {
    endpoint: Endpoint,
    settings: DaemonSettings,
    /// `[dataplane]` as started (it is not restarted by a reload).
    dataplane: Option<DataplaneSettings>,
    conns: Vec<ConnEntry>,
    sas: BTreeMap<SaId, SaEntry>,
    /// SAs we closed that the engine still holds while DELETE completes; their late events are
    /// ignored.
    detached: HashSet<SaId>,
    sink: Box<dyn ChildSaSink>,
    sockets: Arc<Sockets>,
    events: broadcast::Sender<MonitorEvent>,
    waiters: HashMap<SaId, Vec<oneshot::Sender<Result<IkeSaView, String>>>>,
    /// `rekey` requests waiting for their new SA.
    rekeys: Vec<RekeyWaiter>,
    /// Trap policy ids: the last one given, and each one's connection.
    next_trap: u32,
    trap_owner: HashMap<u32, String>,
    /// Unknown SPIs from the datapath waiting to be reported: (when, peer, SPI).
    unknown_spis: Vec<(Instant, SocketAddr, EspSpi)>,
    /// SAs established since the last flush, whose `up` waiters are answered then (after their
    /// Child SAs arrived).
    just_established: Vec<SaId>,
    /// The KME client, with `[qkd]`.
    qkd: Option<QkdSource>,
    /// PPK requests and their outcomes, per IKE SA (responder SAs have no [`SaEntry`] yet
    /// when their PPK is fetched).
    ppk: HashMap<SaId, PpkRecord>,
    ppk_tx: mpsc::Sender<PpkAnswer>,
    ppk_rx: Option<mpsc::Receiver<PpkAnswer>>,
    /// KME requests running and queued, under `[qkd]`'s caps.
    kme_requests: KmeRequests<Fetch>,
    /// The daemon's own counters, by name.
    counters: BTreeMap<&'static str, u64>,
    /// Wireshark key files, with `daemon.key_log`.
    key_log: Option<KeyLog>,
    started: Instant,
    reject_log: reject_log::RejectLog,
    /// Connections owed an automatic initiation.
    restarts: recovery::Restarts,
    /// The datapath reported a dead thread (reported once).
    datapath_failed: bool,
    /// The N3IWF, with `[n3iwf]`.
    n3iwf: Option<N3iwfGlue>,
}

struct ConnEntry {
    conn: Connection,
    engine: Arc<ConnectionConfig>,
    /// Trap policies installed for it in the datapath, with their child's name.
    traps: Vec<(u32, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SaState {
    Connecting,
    Established,
}

struct SaEntry {
    connection: String,
    initiator: bool,
    local: SocketAddr,
    remote: SocketAddr,
    state: SaState,
    info: Option<IkeSaInfo>,
    established_at: Option<Instant>,
    children: Vec<ChildRecord>,
    timings: Timings,
    span: Span,
}

impl SaEntry {
    fn lost(&self) -> recovery::Lost {
        recovery::Lost {
            connection: self.connection.clone(),
            initiator: self.initiator,
            established: self.state == SaState::Established,
        }
    }
}

struct ChildRecord {
    name: String,
    inbound_spi: EspSpi,
    outbound_spi: EspSpi,
    proposal: String,
    local_ts: Vec<String>,
    remote_ts: Vec<String>,
    installed_at: Instant,
    /// A lifetime event already asked the engine to rekey it.
    rekey_requested: bool,
}

impl Driver {
    pub(crate) fn new(
        config: Config,
        key_log: Option<KeyLog>,
        provider: &'static dyn CryptoProvider,
        sink: Box<dyn ChildSaSink>,
        sockets: Arc<Sockets>,
        events: broadcast::Sender<MonitorEvent>,
        n3iwf: Option<N3iwfGlue>,
    ) -> Self {
        let conns: Vec<ConnEntry> = config.connections.into_iter().map(ConnEntry::new).collect();
        warm_up(provider);
        let mut endpoint_config = endpoint_config(&conns);
        endpoint_config.export_keys = key_log.is_some();
        config.daemon.limits.apply(&mut endpoint_config);
        let mut endpoint = Endpoint::new(endpoint_config, provider);
        endpoint.set_unix_time(Instant::now(), unix_now());
        let (ppk_tx, ppk_rx) = mpsc::channel(PPK_BACKLOG);
        Self {
            endpoint,
            settings: config.daemon,
            dataplane: config.dataplane,
            conns,
            sas: BTreeMap::new(),
            detached: HashSet::new(),
            sink,
            sockets,
            events,
            waiters: HashMap::new(),
            rekeys: Vec::new(),
            next_trap: 0,
            trap_owner: HashMap::new(),
            unknown_spis: Vec::new(),
            just_established: Vec::new(),
            qkd: config.qkd.as_ref().and_then(QkdSource::new),
            ppk: HashMap::new(),
            ppk_tx,
            ppk_rx: Some(ppk_rx),
            kme_requests: KmeRequests::default(),
            counters: BTreeMap::new(),
            key_log,
            started: Instant::now(),
            reject_log: reject_log::RejectLog::default(),
            restarts: recovery::Restarts::default(),
            datapath_failed: false,
            n3iwf,
        }
    }

    /// Runs until shutdown, then closes every SA.
    pub(crate) async fn run(mut self, mut inputs: Inputs) {
        self.probe_kme();
        let all: Vec<String> = self.conns.iter().map(|c| c.conn.name.clone()).collect();
        for name in &all {
            self.install_traps(name);
        }
        let names: Vec<String> = self
            .conns
            .iter()
            .filter(|c| c.conn.start_action == StartAction::Start)
            .map(|c| c.conn.name.clone())
            .collect();
        for name in names {
            match self.initiate(&name) {
                Ok(sa) => self.restarts.initiated(sa),
                Err((_, e)) => {
                    tracing::warn!(connection = %name, error = %e, "start_action = start: cannot initiate");
                }
            }
        }
        let mut ppk_rx = self.ppk_rx.take();
        let mut next_sweep = Instant::now() + SWEEP_INTERVAL;
        loop {
            // Certificates are checked against the wall clock, which may be stepped.
            self.endpoint.set_unix_time(Instant::now(), unix_now());
            self.flush().await;
            // Deadlines come first, before any input: however full the queues are (a flood on
            // 500 or 4500), retransmits, DPD, rekeys, expiry and half-open cleanup happen,
            // then one input (or one bounded batch of datagrams) gets a turn.
            let now = Instant::now();
            if self.timer().is_some_and(|t| t <= now) {
                self.endpoint.handle_timeout(now);
                self.report_unknown_spis(now);
                self.restarts_due(now);
                self.n3iwf_timeout(now);
                self.flush().await;
            }
            if now >= next_sweep {
                next_sweep = now + SWEEP_INTERVAL;
                self.sweep(&inputs.essential);
            }
            let wake = self.timer().map_or(next_sweep, |t| t.min(next_sweep));
            tokio::select! {
                biased;
                _ = inputs.shutdown.changed() => break,
                Some(cmd) = inputs.commands.recv() => self.command(cmd),
                Some(answer) = recv(&mut ppk_rx) => self.ppk_answer(answer),
                Some(event) = recv(&mut inputs.datapath) => self.datapath_event(event),
                Some(input) = recv(&mut inputs.n3iwf) => self.n3iwf_input(input),
                Some(d) = inputs.datagrams.recv() => {
                    self.datagram(&d);
                    // A bounded batch per turn.
                    for _ in 1..MAX_DATAGRAMS_PER_WAKE {
                        let Ok(d) = inputs.datagrams.try_recv() else { break };
                        self.datagram(&d);
                    }
                }
                () = sleep_until(Some(wake)) => {}
            }
        }
        self.close_all("daemon shutting down");
        self.linger(inputs.datagrams, inputs.datapath).await;
    }

    /// The earliest of the engine's deadline, a pending INVALID_SPI report and an owed restart.
    fn timer(&self) -> Option<Instant> {
        [
            self.endpoint.poll_timeout(),
            self.unknown_spi_deadline(),
            self.restarts.deadline(),
            self.n3iwf_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Once a second: collects lifetime events a lost doorbell left behind, and checks that the
    /// datapath still works (a dead worker is reported, and the daemon exits).
    fn sweep(&mut self, essential: &Essential) {
        self.collect_lifetimes();
        if let Err(why) = self.sink.health() {
            if !self.datapath_failed {
                essential.report(why);
            }
            self.datapath_failed = true;
        }
    }

    /// After DELETE went out at shutdown, handles the peers' answers (and retransmits) until
    /// every IKE SA is gone or [`SHUTDOWN_GRACE`] passes.
    async fn linger(
        &mut self,
        mut datagrams: mpsc::Receiver<Datagram>,
        mut datapath: Option<mpsc::Receiver<DatapathEvent>>,
    ) {
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        loop {
            self.flush().await;
            if self.endpoint.sa_count() == 0 {
                return;
            }
            let timer = self
                .endpoint
                .poll_timeout()
                .map_or(deadline, |t| t.min(deadline));
            tokio::select! {
                Some(d) = datagrams.recv() => self.datagram(&d),
                Some(event) = recv(&mut datapath) => self.datapath_event(event),
                () = sleep_until(Some(timer)) => {
                    if Instant::now() >= deadline {
                        return;
                    }
                    self.endpoint.handle_timeout(Instant::now());
                }
            }
        }
    }

    fn datagram(&mut self, d: &Datagram) {
        let span = match Header::parse(&d.data) {
            Ok(h) => {
                // The original initiator sets the I flag; our SPI is then the responder's.
                let ours = SaId(if h.flags.is_initiator() {
                    h.spi_r
                } else {
                    h.spi_i
                });
                if h.flags.is_response()
                    && let Some(sa) = self.sas.get_mut(&ours)
                {
                    sa.timings.response_received(h.message_id, Instant::now());
                }
                match self.sas.get(&ours) {
                    Some(sa) => sa.span.clone(),
                    None => {
                        tracing::debug_span!("ike_sa", spi_i = %format_args!("{:016x}", h.spi_i.0), spi_r = %format_args!("{:016x}", h.spi_r.0))
                    }
                }
            }
            Err(_) => Span::none(),
        };
        let _guard = span.enter();
        self.endpoint
            .handle_datagram(Instant::now(), d.local, d.remote, &d.data);
        self.drain_events();
    }

    /// Drains events first (so our state is current before the peer sees our answer), then
    /// datagrams.
    async fn flush(&mut self) {
        self.drain_events();
        for sa in std::mem::take(&mut self.just_established) {
            let (Some(waiters), Some(view)) = (
                self.waiters.remove(&sa),
                self.sas
                    .get(&sa)
                    .map(|e| self.sa_view(sa, e, &BTreeMap::new())),
            ) else {
                continue;
            };
            for w in waiters {
                let _ = w.send(Ok(view.clone()));
            }
        }
        while let Some(t) = self.endpoint.poll_transmit() {
            self.note_request(&t);
            self.send(&t).await;
        }
    }

    /// Sends through the datapath's socket when it owns the port, else through ours.
    async fn send(&mut self, t: &Transmit) {
        if self
            .sink
            .ike_address()
            .is_some_and(|a| a.port() == t.local.port())
        {
            if t.is_nat_keepalive() {
                // A keepalive has no non-ESP marker (RFC 3948 §2.3).
                match self.sink.send_nat_keepalive(t.remote) {
                    Ok(()) => self.count("nat_keepalives_sent"),
                    Err(e) => {
                        self.count("nat_keepalives_unsent");
                        tracing::debug!(remote = %t.remote, error = %e.0, "NAT keepalive not sent");
                    }
                }
                return;
            }
            if let Err(e) = self.sink.send_ike(t.remote, &t.data) {
                tracing::warn!(remote = %t.remote, error = %e, "cannot send IKE datagram through the datapath");
            }
            return;
        }
        if let Err(e) = self
            .sockets
            .send(t.local, t.remote, &t.data, t.is_nat_keepalive())
            .await
        {
            tracing::warn!(local = %t.local, remote = %t.remote, error = %e, "cannot send IKE datagram");
        }
    }

    /// Starts the clock of an exchange we initiate on a connecting SA.
    fn note_request(&mut self, t: &Transmit) {
        let Ok(h) = Header::parse(&t.data) else {
            return;
        };
        if h.flags.is_response() || !h.flags.is_initiator() {
            return;
        }
        if let Some(sa) = self
            .sas
            .get_mut(&SaId(h.spi_i))
            .filter(|e| e.state == SaState::Connecting)
        {
            sa.timings
                .request_sent(h.exchange, h.message_id, Instant::now());
        }
    }

    fn drain_events(&mut self) {
        while let Some(event) = self.endpoint.poll_event() {
            if let Some(sa) = self.event(event) {
                self.just_established.push(sa);
            }
        }
    }

    /// Handles one engine event; returns the SA if it just became established.
    fn event(&mut self, event: Event) -> Option<SaId> {
        self.n3iwf_note(&event);
        match event {
            Event::IkeSaEstablished { sa, info } => return self.established(sa, info),
            Event::ChildSaEstablished { sa, child } => self.child_established(sa, child),
            Event::ChildSaDeleted {
                sa,
                inbound_spi,
                reason,
                ..
            } => {
                if let Some(name) = self.child_deleted(sa, inbound_spi)
                    && reason == CloseReason::Peer
                {
                    self.recover_child(sa, &name);
                }
            }
            Event::PeerAddressChanged { sa, local, remote } => self.peer_moved(sa, local, remote),
            Event::PpkNeeded {
                sa,
                ppk_id,
                exchange,
            } => self.ppk_needed(sa, ppk_id, exchange),
            Event::IkeSaKeys { sa, keys } => {
                if let Some(Err(e)) = self.key_log.as_mut().map(|k| k.ike(&keys)) {
                    tracing::warn!(ike_sa = %sa_name(sa), error = %e, "cannot write the key log");
                }
            }
            Event::IkeSaRekeyed { old, new } => {
                self.rekey_ike_done(old, new);
                // The Child SAs move to the new IKE SA; the old one closes next.
                if let Some(mut entry) = self.sas.remove(&old) {
                    entry
                        .span
                        .in_scope(|| tracing::info!(new = %sa_name(new), "IKE SA rekeyed"));
                    entry.span = sa_span(&entry.connection, new);
                    self.sas.insert(new, entry);
                }
                if let Some(r) = self.ppk.remove(&old) {
                    self.ppk.insert(new, r);
                }
            }
            Event::IkeSaFailed { sa, error } => {
                let lost = self.sas.get(&sa).map(SaEntry::lost);
                self.failed(sa, &error.to_string());
                self.recover_from_failure(sa, lost.as_ref(), &error);
            }
            Event::IkeSaClosed { sa, reason } => {
                self.rekey_abandoned(sa, "closed");
                let was_detached = self.detached.remove(&sa);
                self.ppk.remove(&sa);
                if let Some(e) = self.sas.remove(&sa) {
                    e.span
                        .in_scope(|| tracing::info!(reason = reason.as_str(), "IKE SA closed"));
                    let lost = e.lost();
                    self.retire_children(sa, e);
                    let _ = self.events.send(MonitorEvent::IkeSaClosed {
                        connection: Some(lost.connection.clone()),
                        ike_sa: sa_name(sa),
                        reason: reason.as_str().into(),
                    });
                    if reason == CloseReason::Peer && lost.established {
                        self.recover_from_peer_close(&lost);
                    }
                } else if !was_detached {
                    tracing::debug!(ike_sa = %sa_name(sa), "IKE SA closed before establishment");
                }
            }
            Event::Rejected {
                remote,
                connection,
                exchange,
                reason,
            } => {
                let now = Instant::now();
                let conn = connection.as_deref();
                self.reject_log.log(now, remote, conn, exchange, &reason);
            }
            Event::EapStarted { sa, .. } => self.n3iwf_eap(sa, None),
            Event::EapMessage { sa, message } => self.n3iwf_eap(sa, Some(message)),
            // Not Debug-printed: an event may carry packets or keys.
            _ => tracing::debug!("unhandled engine event"),
        }
        None
    }

    fn failed(&mut self, sa: SaId, error: &str) {
        self.rekey_abandoned(sa, error);
        let entry = self.sas.remove(&sa);
        let ppk_error = self.ppk.remove(&sa).and_then(|r| r.error);
        let error = match ppk_error {
            Some(e) => format!("{error} (QKD: {e})"),
            None => error.to_string(),
        };
        let connection = entry.as_ref().map(|e| e.connection.clone());
        let span = entry.as_ref().map_or_else(Span::none, |e| e.span.clone());
        span.in_scope(|| tracing::warn!(%error, "IKE SA failed"));
        if let Some(e) = entry {
            self.retire_children(sa, e);
        }
        for w in self.waiters.remove(&sa).into_iter().flatten() {
            let _ = w.send(Err(error.clone()));
        }
        if !self.detached.contains(&sa) {
            let _ = self.events.send(MonitorEvent::IkeSaFailed {
                connection,
                ike_sa: sa_name(sa),
                error,
            });
        }
    }

    fn established(&mut self, sa: SaId, info: IkeSaInfo) -> Option<SaId> {
        if self.detached.contains(&sa) {
            return None;
        }
        let now = Instant::now();
        let entry = self.sas.entry(sa).or_insert_with(|| SaEntry {
            connection: info.connection.clone(),
            initiator: info.initiator,
            local: info.local,
            remote: info.remote,
            state: SaState::Connecting,
            info: None,
            established_at: None,
            children: Vec::new(),
            timings: Timings::default(),
            span: sa_span(&info.connection, sa),
        });
        entry.state = SaState::Established;
        self.restarts.established(&info.connection, sa);
        entry.local = info.local;
        entry.remote = info.remote;
        entry.established_at = Some(now);
        entry.timings.established(now);
        entry.span.in_scope(|| {
            tracing::info!(proposal = %info.proposal, remote = %info.remote, initiator = info.initiator, ppk = info.ppk_used, intermediate = info.intermediate_exchanges, "IKE SA established");
        });
        let connection = info.connection.clone();
        let (ppk_used, proposal) = (info.ppk_used, info.proposal.clone());
        entry.info = Some(info);
        if let Some(reason) = self.policy_violation(&connection, ppk_used, &proposal) {
            self.count("ike_sas_refused_policy");
            self.detach(sa, &reason);
            return None;
        }
        self.count_ppk_outcome(sa, &connection, ppk_used);
        if self.monitored() {
            let view = self.sa_view(sa, &self.sas[&sa], &BTreeMap::new());
            let _ = self
                .events
                .send(MonitorEvent::IkeSaEstablished { ike_sa: view });
        }
        Some(sa)
    }

    fn child_established(&mut self, sa: SaId, child: ChildSa) {
        let Some(entry) = self
            .sas
            .get_mut(&sa)
            .filter(|_| !self.detached.contains(&sa))
        else {
            // Dropping `child` zeroizes its keys.
            tracing::debug!(ike_sa = %sa_name(sa), "Child SA of a closed IKE SA discarded");
            return;
        };
        let record = ChildRecord {
            name: child.name.clone(),
            inbound_spi: child.inbound_spi,
            outbound_spi: child.outbound_spi,
            proposal: child.suite.to_string(),
            local_ts: child.local_ts.iter().map(format_selector).collect(),
            remote_ts: child.remote_ts.iter().map(format_selector).collect(),
            installed_at: Instant::now(),
            rekey_requested: false,
        };
        let replaces = child.replaces;
        let limits = self
            .conns
            .iter()
            .find(|c| c.conn.name == entry.connection)
            .and_then(|c| c.conn.child(&child.name))
            .map(|c| c.limits)
            .unwrap_or_default();
        let _guard = entry.span.clone().entered();
        if let Some(Err(e)) = self
            .key_log
            .as_mut()
            .map(|k| k.esp(child.local.ip(), &child))
        {
            tracing::warn!(error = %e, "cannot write the key log");
        }
        let user_plane = self
            .n3iwf
            .as_ref()
            .is_some_and(|g| g.owns_child(sa, child.tag))
            .then_some(child.tag)
            .flatten();
        let spis = (child.inbound_spi, child.outbound_spi);
        let installed = match user_plane {
            Some(_) => self
                .sink
                .install_unrouted(sa, &entry.connection, child, limits),
            None => self.sink.install(sa, &entry.connection, child, limits),
        };
        if let Err(e) = installed {
            tracing::error!(child = %record.name, error = %e, "cannot install Child SA");
            self.count("child_sa_install_failures");
            drop(_guard);
            if let Some(tag) = user_plane {
                self.n3iwf_user_plane_child(sa, tag, replaces, spis, false);
            }
            return;
        }
        if let Some(old) = replaces {
            tracing::info!(child = %record.name, old = %format_args!("{old:08x}"), new = %format_args!("{:08x}", record.inbound_spi), "Child SA rekeyed: traffic moved to the new SA, the old one stays until deleted");
        }
        entry.timings.child_installed(record.installed_at);
        // Views are built only for a listening `ikectl monitor` (a few µs per handshake).
        let view = (self.events.receiver_count() > 0)
            .then(|| views::child_view(&record, &BTreeMap::new()));
        let new_spi = record.inbound_spi;
        entry.children.push(record);
        let first = replaces.is_none() && entry.children.len() == 1;
        if let Some(view) = view {
            let _ = self.events.send(MonitorEvent::ChildSaInstalled {
                connection: entry.connection.clone(),
                ike_sa: sa_name(sa),
                child: view,
            });
        }
        if let Some(old) = replaces {
            self.rekey_child_done(sa, old, new_spi);
        }
        if let Some(tag) = user_plane {
            self.n3iwf_user_plane_child(sa, tag, replaces, spis, true);
            return;
        }
        self.n3iwf_child_installed(sa, first);
    }

    /// Removes a deleted Child SA; returns its name.
    fn child_deleted(&mut self, sa: SaId, inbound_spi: EspSpi) -> Option<String> {
        let entry = self.sas.get_mut(&sa)?;
        let pos = entry
            .children
            .iter()
            .position(|c| c.inbound_spi == inbound_spi)?;
        let record = entry.children.remove(pos);
        entry
            .span
            .in_scope(|| tracing::info!(child = %record.name, %inbound_spi, "Child SA deleted"));
        let connection = entry.connection.clone();
        self.sink.retire(sa, inbound_spi);
        let _ = self.events.send(MonitorEvent::ChildSaRetired {
            connection,
            ike_sa: sa_name(sa),
            child: record.name.clone(),
            inbound_spi: format!("{inbound_spi:08x}"),
        });
        Some(record.name)
    }

    /// Unknown SPIs, acquires, and lifetimes (collected from the datapath, which keeps them
    /// until then) that become rekeys (soft) or deletes (hard) of Child SAs.
    fn datapath_event(&mut self, event: DatapathEvent) {
        match event {
            DatapathEvent::Ike {
                local,
                remote,
                data,
            } => self.datagram(&Datagram {
                local,
                remote,
                data,
            }),
            DatapathEvent::LifetimesPending => self.collect_lifetimes(),
            DatapathEvent::UnknownSpi { remote, spi } => self.unknown_spi(remote, spi),
            DatapathEvent::Acquire { trap, src, dst } => self.acquire(trap, src, dst),
            e @ (DatapathEvent::GtpuErrorIndication { .. }
            | DatapathEvent::GtpuEchoResponse { .. }) => self.n3iwf_gtpu(e),
        }
    }

    fn collect_lifetimes(&mut self) {
        for e in self.sink.take_lifetime_events() {
            self.lifetime(e);
        }
    }

    fn lifetime(
        &mut self,
        LifetimeEvent {
            spi,
            outbound,
            kind,
        }: LifetimeEvent,
    ) {
        let found = self.sas.iter_mut().find_map(|(id, e)| {
            let child = e.children.iter_mut().find(|c| {
                if outbound {
                    c.outbound_spi == spi
                } else {
                    c.inbound_spi == spi
                }
            })?;
            Some((*id, e.connection.clone(), e.span.clone(), child))
        });
        let Some((sa, connection, span, child)) = found else {
            tracing::debug!(%spi, ?kind, "lifetime event of an SA no longer listed");
            return;
        };
        let hard = kind == LifetimeKind::Hard;
        if !hard && std::mem::replace(&mut child.rekey_requested, true) {
            return;
        }
        let (name, inbound_spi) = (child.name.clone(), child.inbound_spi);
        span.in_scope(|| tracing::info!(child = %name, %inbound_spi, ?kind, "datapath lifetime reached: {}", if hard { "deleting the Child SA" } else { "rekeying the Child SA" }));
        self.count(if hard {
            "child_sa_hard_lifetimes"
        } else {
            "child_sa_soft_lifetimes"
        });
        if let Err(e) = self
            .endpoint
            .child_sa_expired(Instant::now(), sa, inbound_spi, hard)
        {
            tracing::debug!("Child SA lifetime reached after its IKE SA ended: {e}");
        }
        let _ = self.events.send(MonitorEvent::ChildSaExpired {
            connection,
            ike_sa: sa_name(sa),
            child: name,
            inbound_spi: format!("{inbound_spi:08x}"),
            hard,
        });
    }

    fn command(&mut self, cmd: DriverCommand) {
        match cmd {
            DriverCommand::Apply { config, reply } => {
                let view = self.apply(*config);
                let _ = reply.send(view);
            }
            DriverCommand::Up { name, reply } => {
                let _ = reply.send(self.up(&name));
            }
            DriverCommand::Down { name, reply } => {
                let _ = reply.send(self.down(&name));
            }
            DriverCommand::Rekey { name, child, reply } => {
                let _ = reply.send(self.rekey(&name, child.as_deref()));
            }
            DriverCommand::ListConns { reply } => {
                let _ = reply.send(self.conns.iter().map(|c| self.conn_view(&c.conn)).collect());
            }
            DriverCommand::ListSas { reply } => {
                let counters = self.sink.counters();
                let _ = reply.send(
                    self.sas
                        .iter()
                        .map(|(id, e)| self.sa_view(*id, e, &counters))
                        .collect(),
                );
            }
            DriverCommand::Stats { reply } => {
                let _ = reply.send(self.stats());
            }
            DriverCommand::ListUes { reply } => {
                let _ = reply.send(self.n3iwf_view(N3iwfGlue::ue_views));
            }
            DriverCommand::ListAmfs { reply } => {
                let _ = reply.send(self.n3iwf_view(|g| g.amf_views(Instant::now())));
            }
            #[cfg(feature = "fault-injection")]
            DriverCommand::DebugPanic { reply } => {
                drop(reply);
                panic!("fault injected by the debug-panic control command");
            }
        }
    }

    fn up(&mut self, name: &str) -> Result<UpStart, (ErrorCode, String)> {
        if !self.conns.iter().any(|c| c.conn.name == name) {
            return Err((ErrorCode::NotFound, format!("no connection named '{name}'")));
        }
        let existing = self
            .sas
            .iter()
            .filter(|(_, e)| e.connection == name)
            .min_by_key(|(_, e)| e.state != SaState::Established);
        if let Some((id, e)) = existing {
            if e.state == SaState::Established {
                return Ok(UpStart::AlreadyUp(Box::new(self.sa_view(
                    *id,
                    e,
                    &self.sink.counters(),
                ))));
            }
            let id = *id;
            return Ok(UpStart::Pending(self.wait_for(id)));
        }
        let id = self.initiate(name)?;
        Ok(UpStart::Pending(self.wait_for(id)))
    }

    fn wait_for(&mut self, sa: SaId) -> oneshot::Receiver<Result<IkeSaView, String>> {
        let (tx, rx) = oneshot::channel();
        self.waiters.entry(sa).or_default().push(tx);
        rx
    }

    fn initiate(&mut self, name: &str) -> Result<SaId, (ErrorCode, String)> {
        let entry = self
            .conns
            .iter()
            .find(|c| c.conn.name == name)
            .ok_or_else(|| (ErrorCode::NotFound, format!("no connection named '{name}'")))?;
        let remote = entry.conn.initiate_to().ok_or_else(|| {
            (
                ErrorCode::Engine,
                format!("connection '{name}' has no concrete remote address to initiate to"),
            )
        })?;
        let socket = self.sockets.for_initiating(remote).ok_or_else(|| {
            (
                ErrorCode::Engine,
                format!("no IKE socket of {remote}'s address family (see daemon.listen)"),
            )
        })?;
        let local_ip = entry
            .conn
            .local_addrs
            .iter()
            .copied()
            .find(|a| a.is_ipv4() == remote.is_ipv4())
            .or_else(|| Some(socket.local.ip()).filter(|ip| !ip.is_unspecified()))
            .or_else(|| route_source(remote))
            .ok_or_else(|| (ErrorCode::Engine, format!("no route to {remote}")))?;
        let local = SocketAddr::new(local_ip, socket.local.port());
        let engine = Arc::clone(&entry.engine);
        let now = Instant::now();
        let sa = self
            .endpoint
            .connect(now, engine, local, remote)
            .map_err(|e| (ErrorCode::Engine, e.to_string()))?;
        let span = sa_span(name, sa);
        span.in_scope(|| tracing::info!(%local, %remote, "initiating"));
        self.sas.insert(
            sa,
            SaEntry {
                connection: name.into(),
                initiator: true,
                local,
                remote,
                state: SaState::Connecting,
                info: None,
                established_at: None,
                children: Vec::new(),
                timings: Timings::initiated(now),
                span,
            },
        );
        let _ = self.events.send(MonitorEvent::Initiating {
            connection: name.into(),
            ike_sa: sa_name(sa),
            remote: remote.to_string(),
        });
        Ok(sa)
    }

    fn down(&mut self, name: &str) -> Result<DownView, (ErrorCode, String)> {
        if !self.conns.iter().any(|c| c.conn.name == name)
            && !self.sas.values().any(|e| e.connection == name)
        {
            return Err((ErrorCode::NotFound, format!("no connection named '{name}'")));
        }
        self.restarts.cancel(name);
        let (closed, delete_sent) = self.detach_connection(name, "closed by ikectl down");
        Ok(DownView {
            closed,
            delete_sent,
        })
    }

    /// Closes every SA of a connection; returns their names and whether the peer was sent
    /// DELETE for all of them.
    fn detach_connection(&mut self, name: &str, reason: &str) -> (Vec<String>, bool) {
        let ids: Vec<SaId> = self
            .sas
            .iter()
            .filter(|(_, e)| e.connection == name)
            .map(|(id, _)| *id)
            .collect();
        let mut all_sent = true;
        for id in &ids {
            all_sent &= self.detach(*id, reason);
        }
        (ids.into_iter().map(sa_name).collect(), all_sent)
    }

    /// Closes an IKE SA: the engine sends INFORMATIONAL DELETE (RFC 7296 §1.4.1) and finishes
    /// on its own, while its Child SAs leave the datapath at once and its later events are
    /// ignored. Returns whether DELETE was sent.
    fn detach(&mut self, sa: SaId, reason: &str) -> bool {
        let Some(entry) = self.sas.remove(&sa) else {
            return false;
        };
        self.rekey_abandoned(sa, reason);
        self.ppk.remove(&sa);
        let delete_sent = self.endpoint.close(Instant::now(), sa).is_ok();
        entry
            .span
            .in_scope(|| tracing::info!(reason, delete_sent, "closing IKE SA"));
        let connection = Some(entry.connection.clone());
        self.retire_children(sa, entry);
        if self.endpoint.has_sa(sa) {
            self.detached.insert(sa);
        }
        for w in self.waiters.remove(&sa).into_iter().flatten() {
            let _ = w.send(Err(format!("IKE SA closed: {reason}")));
        }
        let _ = self.events.send(MonitorEvent::IkeSaClosed {
            connection,
            ike_sa: sa_name(sa),
            reason: reason.into(),
        });
        delete_sent
    }

    fn retire_children(&mut self, sa: SaId, entry: SaEntry) {
        for c in entry.children {
            self.sink.retire(sa, c.inbound_spi);
            let _ = self.events.send(MonitorEvent::ChildSaRetired {
                connection: entry.connection.clone(),
                ike_sa: sa_name(sa),
                child: c.name,
                inbound_spi: format!("{:08x}", c.inbound_spi),
            });
        }
    }

    fn close_all(&mut self, reason: &str) {
        let ids: Vec<SaId> = self.sas.keys().copied().collect();
        for id in ids {
            let _ = self.detach(id, reason);
        }
    }

    /// Applies a new configuration: unchanged connections keep their SAs; SAs of changed or
    /// removed connections are closed; new and changed connections with `start_action =
    /// "start"` are initiated. The engine takes the new list at once for new IKE SAs.
    fn apply(&mut self, mut config: Config) -> LoadView {
        let mut view = LoadView {
            file: config.path.display().to_string(),
            warnings: std::mem::take(&mut config.warnings),
            ..LoadView::default()
        };
        let held_n3iwf = self.n3iwf_hold(&mut config, &mut view);
        let mut old: Vec<Option<ConnEntry>> = std::mem::take(&mut self.conns)
            .into_iter()
            .map(Some)
            .collect();
        let mut to_start = Vec::new();
        let mut to_trap = Vec::new();
        for conn in config.connections {
            let prior = old
                .iter_mut()
                .find(|e| e.as_ref().is_some_and(|e| e.conn.name == conn.name))
                .and_then(Option::take);
            match prior {
                Some(p) if p.conn.same_as(&conn) => {
                    view.unchanged.push(conn.name.clone());
                    self.conns.push(p);
                }
                Some(mut p) => {
                    view.changed.push(conn.name.clone());
                    self.drop_traps(&mut p);
                    to_trap.push(conn.name.clone());
                    let _ = self.detach_connection(&conn.name, "connection changed by reload");
                    if conn.start_action == StartAction::Start {
                        to_start.push(conn.name.clone());
                    }
                    self.conns.push(ConnEntry::new(conn));
                }
                None => {
                    view.added.push(conn.name.clone());
                    to_trap.push(conn.name.clone());
                    if conn.start_action == StartAction::Start {
                        to_start.push(conn.name.clone());
                    }
                    self.conns.push(ConnEntry::new(conn));
                }
            }
        }
        for mut gone in old.into_iter().flatten() {
            self.drop_traps(&mut gone);
            self.restarts.cancel(&gone.conn.name);
            view.removed.push(gone.conn.name.clone());
            let _ = self.detach_connection(&gone.conn.name, "connection removed by reload");
        }
        if config.daemon != self.settings {
            view.warnings
                .push("[daemon] settings changed; they apply when iked restarts".into());
        }
        if config.dataplane != self.dataplane {
            view.warnings
                .push("[dataplane] settings changed; they apply when iked restarts".into());
        }
        // The N3IWF's connection stays last, after the site connections.
        self.conns.extend(held_n3iwf);
        if self.reload_qkd(config.qkd.as_ref())
            || !view.added.is_empty()
            || !view.changed.is_empty()
        {
            self.probe_kme();
        }
        self.endpoint
            .set_connections(self.conns.iter().map(|c| Arc::clone(&c.engine)).collect());
        for name in to_trap {
            self.install_traps(&name);
        }
        for name in to_start {
            if let Err((_, e)) = self.initiate(&name) {
                view.warnings
                    .push(format!("connections.{name}: start_action = start: {e}"));
            }
        }
        tracing::info!(file = %view.file, added = ?view.added, removed = ?view.removed, changed = ?view.changed, "configuration loaded");
        let _ = self
            .events
            .send(MonitorEvent::ConfigLoaded { load: view.clone() });
        view
    }

    /// Rebuilds the KME client when `[qkd]` changed (running fetches finish with the old
    /// one); returns whether it did.
    fn reload_qkd(&mut self, settings: Option<&QkdSettings>) -> bool {
        if self.qkd.as_ref().map(|q| &q.settings) == settings {
            return false;
        }
        self.qkd = settings.and_then(QkdSource::new);
        tracing::info!(kme = ?settings.map(|s| &s.kme_url), "[qkd] settings applied");
        true
    }

    /// Whether an `ikectl monitor` listens: monitor events that need a view are built only then.
    fn monitored(&self) -> bool {
        self.events.receiver_count() > 0
    }

    fn count(&mut self, name: &'static str) {
        *self.counters.entry(name).or_default() += 1;
    }

    fn conn(&self, name: &str) -> Option<&Connection> {
        self.conns
            .iter()
            .find(|c| c.conn.name == name)
            .map(|c| &c.conn)
    }
}

impl ConnEntry {
    fn new(conn: Connection) -> Self {
        let engine = Arc::new(conn.to_engine());
        Self {
            conn,
            engine,
            traps: Vec::new(),
        }
    }
}

/// Runs the key exchanges once, so that the first IKE SA does not pay for the crypto library's
/// lazy initialisation (tens of milliseconds on the first use).
fn warm_up(provider: &'static dyn CryptoProvider) {
    let start = Instant::now();
    for group in [KeGroup::X25519, KeGroup::MlKem768] {
        if let Some(kex) = provider.key_exchange(group) {
            let _ = kex.start();
        }
    }
    let mut nonce = [0u8; 32];
    let _ = provider.fill_random(&mut nonce);
    tracing::debug!(
        micros = start.elapsed().as_micros(),
        "crypto provider warmed up"
    );
}

fn endpoint_config(conns: &[ConnEntry]) -> EndpointConfig {
    EndpointConfig {
        connections: conns.iter().map(|c| Arc::clone(&c.engine)).collect(),
        ..EndpointConfig::default()
    }
}

/// Our SPI in hex, the name of an IKE SA in all outputs.
fn sa_name(sa: SaId) -> String {
    let SaId(IkeSpi(spi)) = sa;
    format!("{spi:016x}")
}

fn sa_span(connection: &str, sa: SaId) -> Span {
    tracing::info_span!("ike_sa", conn = %connection, spi = %sa_name(sa))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

/// Receives from an optional channel; a missing or closed one never yields.
async fn recv<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    let Some(r) = rx.as_mut() else {
        return std::future::pending().await;
    };
    let got = r.recv().await;
    if got.is_none() {
        *rx = None;
        return std::future::pending().await;
    }
    got
}

const MAX_DATAGRAMS_PER_WAKE: usize = 64;
/// How often lifetime events are collected without a doorbell and the datapath's health is
/// checked.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// How long shutdown waits for the peers to acknowledge DELETE.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);
/// PPK answers waiting for the driver.
const PPK_BACKLOG: usize = 64;
