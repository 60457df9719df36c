//! The task that owns the [`Endpoint`]: datagrams and commands in, datagrams, Child SAs and
//! events out, one timer re-armed from `poll_timeout` after every wake-up.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ikev2::wire::Header;
use ikev2::{ChildSa, ConnectionConfig, Endpoint, EndpointConfig, Event, IkeSaInfo, SaId, Stats};
use ipsec_crypto::CryptoProvider;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tracing::Span;

use crate::config::{Config, Connection, DaemonSettings, StartAction, format_selector};
use crate::net::{Datagram, Sockets, route_source};
use crate::proto::{
    ChildConfView, ChildSaView, ChildStatsView, ConnView, DownView, ErrorCode, IkeSaView,
    LoadView, MonitorEvent, StatsView,
};
use crate::sink::ChildSaSink;

/// A command for the driver, answered on its `reply` channel.
pub(crate) enum DriverCommand {
    Apply { config: Box<Config>, reply: oneshot::Sender<LoadView> },
    Up { name: String, reply: oneshot::Sender<Result<UpStart, (ErrorCode, String)>> },
    Down { name: String, reply: oneshot::Sender<Result<DownView, (ErrorCode, String)>> },
    ListConns { reply: oneshot::Sender<Vec<ConnView>> },
    ListSas { reply: oneshot::Sender<Vec<IkeSaView>> },
    Stats { reply: oneshot::Sender<StatsView> },
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
}

pub(crate) struct Driver {
    endpoint: Endpoint,
    provider: &'static dyn CryptoProvider,
    settings: DaemonSettings,
    conns: Vec<ConnEntry>,
    sas: BTreeMap<SaId, SaEntry>,
    /// SAs we closed that the engine still holds while DELETE completes; their late events are
    /// ignored.
    detached: HashSet<SaId>,
    sink: Box<dyn ChildSaSink>,
    sockets: Arc<Sockets>,
    events: broadcast::Sender<MonitorEvent>,
    waiters: HashMap<SaId, Vec<oneshot::Sender<Result<IkeSaView, String>>>>,
    /// SAs established since the last flush, whose `up` waiters are answered then (after their
    /// Child SAs arrived).
    just_established: Vec<SaId>,
    /// The engine still answers with an older connection list (see [`Driver::apply`]).
    responder_list_stale: bool,
    /// Counters of endpoints replaced by a reload.
    stats_base: BTreeMap<String, u64>,
    started: Instant,
}

struct ConnEntry {
    conn: Connection,
    engine: Arc<ConnectionConfig>,
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
    span: Span,
}

struct ChildRecord {
    name: String,
    inbound_spi: u32,
    outbound_spi: u32,
    proposal: String,
    local_ts: Vec<String>,
    remote_ts: Vec<String>,
    installed_at: Instant,
}

impl Driver {
    pub(crate) fn new(config: Config, provider: &'static dyn CryptoProvider, sink: Box<dyn ChildSaSink>, sockets: Arc<Sockets>, events: broadcast::Sender<MonitorEvent>) -> Self {
        let conns: Vec<ConnEntry> = config.connections.into_iter().map(ConnEntry::new).collect();
        let endpoint = Endpoint::new(endpoint_config(&conns), provider);
        Self {
            endpoint,
            provider,
            settings: config.daemon,
            conns,
            sas: BTreeMap::new(),
            detached: HashSet::new(),
            sink,
            sockets,
            events,
            waiters: HashMap::new(),
            just_established: Vec::new(),
            responder_list_stale: false,
            stats_base: BTreeMap::new(),
            started: Instant::now(),
        }
    }

    /// Runs until shutdown, then closes every SA.
    pub(crate) async fn run(mut self, mut inputs: Inputs) {
        let names: Vec<String> = self.conns.iter().filter(|c| c.conn.start_action == StartAction::Start).map(|c| c.conn.name.clone()).collect();
        for name in names {
            if let Err((_, e)) = self.initiate(&name) {
                tracing::warn!(connection = %name, error = %e, "start_action = start: cannot initiate");
            }
        }
        loop {
            self.flush().await;
            let timer = self.endpoint.poll_timeout();
            tokio::select! {
                biased;
                _ = inputs.shutdown.changed() => break,
                Some(cmd) = inputs.commands.recv() => self.command(cmd),
                Some(d) = inputs.datagrams.recv() => {
                    self.datagram(&d);
                    // Bounded batch per wake-up, then the timer and commands get a turn.
                    for _ in 1..MAX_DATAGRAMS_PER_WAKE {
                        let Ok(d) = inputs.datagrams.try_recv() else { break };
                        self.datagram(&d);
                    }
                }
                () = sleep_until(timer) => self.endpoint.handle_timeout(Instant::now()),
                else => break,
            }
        }
        self.close_all("daemon shutting down");
        self.linger(inputs.datagrams).await;
    }

    /// After DELETE went out at shutdown, handles the peers' answers (and retransmits) until
    /// every IKE SA is gone or [`SHUTDOWN_GRACE`] passes.
    async fn linger(&mut self, mut datagrams: mpsc::Receiver<Datagram>) {
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        loop {
            self.flush().await;
            if self.endpoint.sa_count() == 0 {
                return;
            }
            let timer = self.endpoint.poll_timeout().map_or(deadline, |t| t.min(deadline));
            tokio::select! {
                Some(d) = datagrams.recv() => self.datagram(&d),
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
                let ours = if h.flags.is_initiator() { h.spi_r } else { h.spi_i };
                match self.sas.get(&SaId(ours)) {
                    Some(sa) => sa.span.clone(),
                    None => tracing::debug_span!("ike_sa", spi_i = %format_args!("{:016x}", h.spi_i.0), spi_r = %format_args!("{:016x}", h.spi_r.0)),
                }
            }
            Err(_) => Span::none(),
        };
        let _guard = span.enter();
        self.endpoint.handle_datagram(Instant::now(), d.local, d.remote, &d.data);
        self.drain_events(Some(d.local));
    }

    /// Drains events first (so our state is current before the peer sees our answer), then
    /// datagrams.
    async fn flush(&mut self) {
        self.drain_events(None);
        for sa in std::mem::take(&mut self.just_established) {
            let (Some(waiters), Some(view)) = (self.waiters.remove(&sa), self.sas.get(&sa).map(|e| self.sa_view(sa, e))) else { continue };
            for w in waiters {
                let _ = w.send(Ok(view.clone()));
            }
        }
        while let Some(t) = self.endpoint.poll_transmit() {
            if let Err(e) = self.sockets.send(t.local, t.remote, &t.data, t.is_nat_keepalive()).await {
                tracing::warn!(local = %t.local, remote = %t.remote, error = %e, "cannot send IKE datagram");
            }
        }
        if self.responder_list_stale && self.endpoint.sa_count() == 0 {
            self.replace_endpoint();
        }
    }

    /// Handles the engine's events; `local` is the address the last datagram came in on, which
    /// a new responder SA is listed with.
    fn drain_events(&mut self, local: Option<SocketAddr>) {
        while let Some(event) = self.endpoint.poll_event() {
            if let Some(sa) = self.event(event, local) {
                self.just_established.push(sa);
            }
        }
    }

    /// Handles one engine event; returns the SA if it just became established.
    fn event(&mut self, event: Event, local: Option<SocketAddr>) -> Option<SaId> {
        match event {
            Event::IkeSaEstablished { sa, info } => return self.established(sa, info, local),
            Event::ChildSaEstablished { sa, child } => self.child_established(sa, child),
            Event::ChildSaDeleted { sa, inbound_spi, .. } => self.child_deleted(sa, inbound_spi),
            Event::IkeSaRekeyed { old, new } => {
                // The Child SAs move to the new IKE SA; the old one closes next.
                if let Some(mut entry) = self.sas.remove(&old) {
                    entry.span.in_scope(|| tracing::info!(new = %sa_name(new), "IKE SA rekeyed"));
                    entry.span = sa_span(&entry.connection, new);
                    self.sas.insert(new, entry);
                }
            }
            Event::IkeSaFailed { sa, error } => {
                let entry = self.sas.remove(&sa);
                let connection = entry.as_ref().map(|e| e.connection.clone());
                let span = entry.as_ref().map_or_else(Span::none, |e| e.span.clone());
                span.in_scope(|| tracing::warn!(%error, "IKE SA failed"));
                if let Some(e) = entry {
                    self.retire_children(sa, e);
                }
                for w in self.waiters.remove(&sa).into_iter().flatten() {
                    let _ = w.send(Err(error.to_string()));
                }
                if !self.detached.contains(&sa) {
                    let _ = self.events.send(MonitorEvent::IkeSaFailed { connection, ike_sa: sa_name(sa), error: error.to_string() });
                }
            }
            Event::IkeSaClosed { sa } => {
                let was_detached = self.detached.remove(&sa);
                if let Some(e) = self.sas.remove(&sa) {
                    e.span.in_scope(|| tracing::info!("IKE SA closed"));
                    let connection = Some(e.connection.clone());
                    self.retire_children(sa, e);
                    let _ = self.events.send(MonitorEvent::IkeSaClosed { connection, ike_sa: sa_name(sa), reason: "closed".into() });
                } else if !was_detached {
                    tracing::debug!(ike_sa = %sa_name(sa), "IKE SA closed before establishment");
                }
            }
            other => tracing::debug!(event = ?other, "unhandled engine event"),
        }
        None
    }

    fn established(&mut self, sa: SaId, info: IkeSaInfo, local: Option<SocketAddr>) -> Option<SaId> {
        if self.detached.contains(&sa) {
            return None;
        }
        let now = Instant::now();
        let entry = self.sas.entry(sa).or_insert_with(|| SaEntry {
            connection: info.connection.clone(),
            initiator: info.initiator,
            local: local.unwrap_or(info.remote),
            remote: info.remote,
            state: SaState::Connecting,
            info: None,
            established_at: None,
            children: Vec::new(),
            span: sa_span(&info.connection, sa),
        });
        entry.state = SaState::Established;
        entry.remote = info.remote;
        entry.established_at = Some(now);
        entry.span.in_scope(|| {
            tracing::info!(proposal = %info.proposal, remote = %info.remote, initiator = info.initiator, ppk = info.ppk_used, intermediate = info.intermediate_exchanges, "IKE SA established");
        });
        entry.info = Some(info);
        let view = self.sa_view(sa, &self.sas[&sa]);
        let _ = self.events.send(MonitorEvent::IkeSaEstablished { ike_sa: view });
        Some(sa)
    }

    fn child_established(&mut self, sa: SaId, child: ChildSa) {
        let Some(entry) = self.sas.get_mut(&sa).filter(|_| !self.detached.contains(&sa)) else {
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
        };
        let _guard = entry.span.clone().entered();
        if let Err(e) = self.sink.install(sa, &entry.connection, entry.remote, child) {
            tracing::error!(child = %record.name, error = %e, "cannot install Child SA");
            return;
        }
        let view = child_view(&record, self.sink.as_ref());
        entry.children.push(record);
        let connection = entry.connection.clone();
        let _ = self.events.send(MonitorEvent::ChildSaInstalled { connection, ike_sa: sa_name(sa), child: view });
    }

    fn child_deleted(&mut self, sa: SaId, inbound_spi: u32) {
        let Some(entry) = self.sas.get_mut(&sa) else { return };
        let Some(pos) = entry.children.iter().position(|c| c.inbound_spi == inbound_spi) else { return };
        let record = entry.children.remove(pos);
        entry.span.in_scope(|| tracing::info!(child = %record.name, inbound_spi = %format_args!("{inbound_spi:08x}"), "Child SA deleted"));
        let connection = entry.connection.clone();
        self.sink.retire(sa, inbound_spi);
        let _ = self.events.send(MonitorEvent::ChildSaRetired { connection, ike_sa: sa_name(sa), child: record.name, inbound_spi: format!("{inbound_spi:08x}") });
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
            DriverCommand::ListConns { reply } => {
                let _ = reply.send(self.conns.iter().map(|c| self.conn_view(&c.conn)).collect());
            }
            DriverCommand::ListSas { reply } => {
                let _ = reply.send(self.sas.iter().map(|(id, e)| self.sa_view(*id, e)).collect());
            }
            DriverCommand::Stats { reply } => {
                let _ = reply.send(self.stats());
            }
        }
    }

    fn up(&mut self, name: &str) -> Result<UpStart, (ErrorCode, String)> {
        if !self.conns.iter().any(|c| c.conn.name == name) {
            return Err((ErrorCode::NotFound, format!("no connection named '{name}'")));
        }
        let existing = self.sas.iter().filter(|(_, e)| e.connection == name).min_by_key(|(_, e)| e.state != SaState::Established);
        if let Some((id, e)) = existing {
            if e.state == SaState::Established {
                return Ok(UpStart::AlreadyUp(Box::new(self.sa_view(*id, e))));
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
        let entry = self.conns.iter().find(|c| c.conn.name == name).ok_or_else(|| (ErrorCode::NotFound, format!("no connection named '{name}'")))?;
        let remote = entry.conn.initiate_to().ok_or_else(|| (ErrorCode::Engine, format!("connection '{name}' has no concrete remote address to initiate to")))?;
        let socket = self.sockets.for_initiating(remote).ok_or_else(|| (ErrorCode::Engine, format!("no IKE socket of {remote}'s address family (see daemon.listen)")))?;
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
        let sa = self.endpoint.connect(Instant::now(), engine, local, remote).map_err(|e| (ErrorCode::Engine, e.to_string()))?;
        let span = sa_span(name, sa);
        span.in_scope(|| tracing::info!(%local, %remote, "initiating"));
        self.sas.insert(sa, SaEntry {
            connection: name.into(),
            initiator: true,
            local,
            remote,
            state: SaState::Connecting,
            info: None,
            established_at: None,
            children: Vec::new(),
            span,
        });
        let _ = self.events.send(MonitorEvent::Initiating { connection: name.into(), ike_sa: sa_name(sa), remote: remote.to_string() });
        Ok(sa)
    }

    fn down(&mut self, name: &str) -> Result<DownView, (ErrorCode, String)> {
        if !self.conns.iter().any(|c| c.conn.name == name) && !self.sas.values().any(|e| e.connection == name) {
            return Err((ErrorCode::NotFound, format!("no connection named '{name}'")));
        }
        let (closed, delete_sent) = self.detach_connection(name, "closed by ikectl down");
        Ok(DownView { closed, delete_sent })
    }

    /// Closes every SA of a connection; returns their names and whether the peer was sent
    /// DELETE for all of them.
    fn detach_connection(&mut self, name: &str, reason: &str) -> (Vec<String>, bool) {
        let ids: Vec<SaId> = self.sas.iter().filter(|(_, e)| e.connection == name).map(|(id, _)| *id).collect();
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
        let Some(entry) = self.sas.remove(&sa) else { return false };
        let delete_sent = self.endpoint.close(Instant::now(), sa);
        entry.span.in_scope(|| tracing::info!(reason, delete_sent, "closing IKE SA"));
        let connection = Some(entry.connection.clone());
        self.retire_children(sa, entry);
        if self.endpoint.has_sa(sa) {
            self.detached.insert(sa);
        }
        for w in self.waiters.remove(&sa).into_iter().flatten() {
            let _ = w.send(Err(format!("IKE SA closed: {reason}")));
        }
        let _ = self.events.send(MonitorEvent::IkeSaClosed { connection, ike_sa: sa_name(sa), reason: reason.into() });
        delete_sent
    }

    fn retire_children(&mut self, sa: SaId, entry: SaEntry) {
        for c in entry.children {
            self.sink.retire(sa, c.inbound_spi);
            let _ = self.events.send(MonitorEvent::ChildSaRetired { connection: entry.connection.clone(), ike_sa: sa_name(sa), child: c.name, inbound_spi: format!("{:08x}", c.inbound_spi) });
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
    /// "start"` are initiated.
    fn apply(&mut self, config: Config) -> LoadView {
        let mut view = LoadView { file: config.path.display().to_string(), warnings: config.warnings, ..LoadView::default() };
        let mut old: Vec<Option<ConnEntry>> = std::mem::take(&mut self.conns).into_iter().map(Some).collect();
        let mut to_start = Vec::new();
        for conn in config.connections {
            let prior = old.iter_mut().find(|e| e.as_ref().is_some_and(|e| e.conn.name == conn.name)).and_then(Option::take);
            match prior {
                Some(p) if p.conn.same_as(&conn) => {
                    view.unchanged.push(conn.name.clone());
                    self.conns.push(p);
                }
                Some(_) => {
                    view.changed.push(conn.name.clone());
                    let _ = self.detach_connection(&conn.name, "connection changed by reload");
                    if conn.start_action == StartAction::Start {
                        to_start.push(conn.name.clone());
                    }
                    self.conns.push(ConnEntry::new(conn));
                }
                None => {
                    view.added.push(conn.name.clone());
                    if conn.start_action == StartAction::Start {
                        to_start.push(conn.name.clone());
                    }
                    self.conns.push(ConnEntry::new(conn));
                }
            }
        }
        for gone in old.into_iter().flatten() {
            view.removed.push(gone.conn.name.clone());
            let _ = self.detach_connection(&gone.conn.name, "connection removed by reload");
        }
        if config.daemon != self.settings {
            view.warnings.push("[daemon] settings changed; they apply when iked restarts".into());
        }
        let responder_changed = !view.added.is_empty() || !view.changed.is_empty() || !view.removed.is_empty();
        if responder_changed {
            if self.endpoint.sa_count() == 0 {
                self.replace_endpoint();
            } else {
                self.responder_list_stale = true;
                view.warnings.push("as responder the engine keeps the previous connection list until it holds no IKE SA (it cannot swap the list of a running endpoint yet)".into());
            }
        }
        for name in to_start {
            if let Err((_, e)) = self.initiate(&name) {
                view.warnings.push(format!("connections.{name}: start_action = start: {e}"));
            }
        }
        tracing::info!(file = %view.file, added = ?view.added, removed = ?view.removed, changed = ?view.changed, "configuration loaded");
        let _ = self.events.send(MonitorEvent::ConfigLoaded { load: view.clone() });
        view
    }

    /// Builds a new endpoint with the current connections; only called with no IKE SA left.
    fn replace_endpoint(&mut self) {
        for (k, v) in stats_map(self.endpoint.stats()) {
            *self.stats_base.entry(k).or_default() += v;
        }
        self.endpoint = Endpoint::new(endpoint_config(&self.conns), self.provider);
        self.detached.clear();
        self.responder_list_stale = false;
        tracing::debug!("engine connection list replaced");
    }

    fn stats(&self) -> StatsView {
        let mut engine = self.stats_base.clone();
        for (k, v) in stats_map(self.endpoint.stats()) {
            *engine.entry(k).or_default() += v;
        }
        let children = self
            .sas
            .iter()
            .flat_map(|(id, e)| {
                e.children.iter().map(move |c| ChildStatsView {
                    connection: e.connection.clone(),
                    ike_sa: sa_name(*id),
                    child: c.name.clone(),
                    inbound_spi: format!("{:08x}", c.inbound_spi),
                    outbound_spi: format!("{:08x}", c.outbound_spi),
                    counters: self.sink.counters(c.inbound_spi),
                })
            })
            .collect::<Vec<_>>();
        StatsView {
            uptime_secs: self.started.elapsed().as_secs(),
            engine,
            ike_sas: self.sas.len(),
            ike_sas_established: self.sas.values().filter(|e| e.state == SaState::Established).count(),
            child_sas: children.len(),
            children,
        }
    }

    fn conn_view(&self, c: &Connection) -> ConnView {
        ConnView {
            name: c.name.clone(),
            local_addrs: c.local_addrs.iter().map(ToString::to_string).collect(),
            remote_addrs: c.remote_addrs.iter().map(ToString::to_string).collect(),
            remote_port: c.remote_port,
            local_id: c.local_id.clone(),
            remote_id: c.remote_id.clone(),
            auth: "psk".into(),
            proposals: c.proposals.clone(),
            start_action: c.start_action.as_str().into(),
            fragment_size: c.fragment_size,
            ppk_id: c.ppk.as_ref().map(|p| p.id.clone()),
            ppk_required: c.ppk.as_ref().is_some_and(|p| p.required),
            children: c
                .children
                .iter()
                .map(|ch| ChildConfView {
                    name: ch.name.clone(),
                    local_ts: ch.local_ts.iter().map(format_selector).collect(),
                    remote_ts: ch.remote_ts.iter().map(format_selector).collect(),
                    esp_proposals: ch.esp_proposals.clone(),
                })
                .collect(),
            ike_sas: self.sas.values().filter(|e| e.connection == c.name).count(),
        }
    }

    fn sa_view(&self, id: SaId, e: &SaEntry) -> IkeSaView {
        let info = e.info.as_ref();
        IkeSaView {
            id: sa_name(id),
            connection: e.connection.clone(),
            state: match e.state {
                SaState::Connecting => "connecting".into(),
                SaState::Established => "established".into(),
            },
            initiator: e.initiator,
            local: e.local.to_string(),
            remote: e.remote.to_string(),
            local_spi: sa_name(id),
            remote_spi: info.map(|i| format!("{:016x}", i.remote_spi.0)),
            proposal: info.map(|i| i.proposal.clone()),
            ppk_used: info.is_some_and(|i| i.ppk_used),
            nat_detected: info.is_some_and(|i| i.nat_detected),
            intermediate_exchanges: info.map_or(0, |i| i.intermediate_exchanges),
            established_secs: e.established_at.map(|t| t.elapsed().as_secs()),
            children: e.children.iter().map(|c| child_view(c, self.sink.as_ref())).collect(),
        }
    }
}

impl ConnEntry {
    fn new(conn: Connection) -> Self {
        let engine = Arc::new(conn.to_engine());
        Self { conn, engine }
    }
}

fn endpoint_config(conns: &[ConnEntry]) -> EndpointConfig {
    EndpointConfig { connections: conns.iter().map(|c| Arc::clone(&c.engine)).collect(), ..EndpointConfig::default() }
}

fn child_view(c: &ChildRecord, sink: &dyn ChildSaSink) -> ChildSaView {
    ChildSaView {
        name: c.name.clone(),
        inbound_spi: format!("{:08x}", c.inbound_spi),
        outbound_spi: format!("{:08x}", c.outbound_spi),
        proposal: c.proposal.clone(),
        local_ts: c.local_ts.clone(),
        remote_ts: c.remote_ts.clone(),
        installed_secs: c.installed_at.elapsed().as_secs(),
        counters: sink.counters(c.inbound_spi),
    }
}

/// The engine's counters by field name.
pub(crate) fn stats_map(s: &Stats) -> BTreeMap<String, u64> {
    [
        ("datagrams_received", s.datagrams_received),
        ("datagrams_sent", s.datagrams_sent),
        ("dropped_malformed", s.dropped_malformed),
        ("dropped_integrity", s.dropped_integrity),
        ("dropped_unknown_spi", s.dropped_unknown_spi),
        ("dropped_unexpected", s.dropped_unexpected),
        ("dropped_fragments", s.dropped_fragments),
        ("dropped_half_open_limit", s.dropped_half_open_limit),
        ("retransmits", s.retransmits),
        ("responses_resent", s.responses_resent),
        ("cookies_sent", s.cookies_sent),
        ("ike_sas_established", s.ike_sas_established),
        ("ike_sas_failed", s.ike_sas_failed),
        ("child_sas_established", s.child_sas_established),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Our SPI in hex, the name of an IKE SA in all outputs.
fn sa_name(sa: SaId) -> String {
    format!("{:016x}", sa.0.0)
}

fn sa_span(connection: &str, sa: SaId) -> Span {
    tracing::info_span!("ike_sa", conn = %connection, spi = %sa_name(sa))
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

const MAX_DATAGRAMS_PER_WAKE: usize = 64;
/// How long shutdown waits for the peers to acknowledge DELETE.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);
