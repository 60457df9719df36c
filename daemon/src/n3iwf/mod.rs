//! The daemon as a 5G N3IWF (`[n3iwf]`): the glue between the sans-IO core
//! ([`::n3iwf::N3iwf`]), the IKE engine the driver owns, the N2 associations to the AMFs and
//! NAS over TCP on the datapath's TUN device.
//!
//! - [`start`]: opens the N2 transports and the NAS listener, and spawns their tasks. They
//!   report on one bounded channel of [`N3iwfInput`]s, which the engine task reads.
//! - [`N3iwfGlue`]: lives in the engine task. Engine events ([`engine`]) and task inputs become
//!   core inputs; after each, [`N3iwfGlue::drain`] acts on the core's outputs: EAP steps and
//!   IKE SA closes through [`IkeSide`], NGAP to the AMF's task, NAS octets to the connection's
//!   task ([`outputs`]).
//! - [`n2`]: one task per AMF, connecting with backoff; [`nas_tcp`]: the listener and one task
//!   per connection, with bounded queues both ways.

mod engine;
pub(crate) mod n2;
pub(crate) mod nas_tcp;
mod outputs;
#[cfg(test)]
mod tests;
mod user_plane;
#[cfg(test)]
mod user_plane_tests;
mod views;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use ::n3iwf::node::IkeSaGone;
use ::n3iwf::{AmfRef, N3iwf, NasConnId};
use ikev2::{ChildRequest, EapStep, EspSpi, SaId};
use n2_transport::{StreamCounts, Transport};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::config::N3iwfSettings;
use crate::essential::Essential;

/// What the N2 and NAS TCP tasks report to the engine task.
#[derive(Debug)]
pub(crate) enum N3iwfInput {
    /// Association number `generation` with the AMF is up.
    N2Up {
        amf: AmfRef,
        generation: u64,
        streams: StreamCounts,
    },
    /// A whole message on it.
    N2Message {
        amf: AmfRef,
        generation: u64,
        stream: u16,
        ppid: u32,
        payload: Vec<u8>,
    },
    /// The AMF restarted the association (a new INIT from it).
    N2Restarted {
        amf: AmfRef,
        generation: u64,
        streams: StreamCounts,
    },
    /// The association ended; the task reconnects with backoff.
    N2Down {
        amf: AmfRef,
        generation: u64,
        reason: String,
    },
    /// An attempt to set up the association failed; the task waits and tries again.
    N2ConnectFailed {
        amf: AmfRef,
        error: String,
    },
    /// A TCP connection to the NAS address and port, from `peer`.
    NasConnected {
        conn: NasConnId,
        peer: IpAddr,
        writer: mpsc::Sender<Vec<u8>>,
    },
    NasData {
        conn: NasConnId,
        data: Vec<u8>,
    },
    NasClosed {
        conn: NasConnId,
    },
}

/// What the glue asks of the IKE side (the driver, which owns the engine).
pub(crate) trait IkeSide {
    /// `Endpoint::eap_respond`; `false` when the SA is gone.
    fn eap_respond(&mut self, sa: SaId, step: EapStep) -> bool;
    /// Deletes the IKE SA (INFORMATIONAL DELETE once established; a half-open one is left to
    /// the engine's half-open timeout).
    fn close_ike_sa(&mut self, sa: SaId, reason: &str);
    /// `Endpoint::create_child_with`: a user-plane Child SA of a PDU session.
    ///
    /// # Errors
    /// Why the engine did not queue it.
    fn create_child(&mut self, sa: SaId, request: ChildRequest) -> Result<(), String>;
    /// `Endpoint::close_child`: INFORMATIONAL DELETE of a user-plane Child SA.
    fn close_child(&mut self, sa: SaId, inbound_spi: EspSpi);
    /// The datapath, for the user-plane sessions and GTP-U Echo Requests.
    fn sink(&mut self) -> &mut dyn crate::sink::ChildSaSink;
}

/// The N3IWF as the engine task sees it.
pub(crate) struct N3iwfGlue {
    core: N3iwf,
    settings: N3iwfSettings,
    amfs: Vec<AmfLink>,
    /// Writers of the NAS TCP connections the core knows.
    conns: HashMap<NasConnId, mpsc::Sender<Vec<u8>>>,
    /// The IKE SAs of UE contexts, with the failure reported before their close.
    ues: HashMap<SaId, Option<IkeSaGone>>,
    counters: BTreeMap<&'static str, u64>,
    user_plane: user_plane::UserPlaneState,
}

/// The engine task's view of one AMF's association.
struct AmfLink {
    out: mpsc::Sender<n2::N2Out>,
    /// The association messages go on; `None` while down.
    up: Option<Association>,
    connects: u64,
    connect_failures: u64,
    losses: u64,
    restarts: u64,
    last_error: Option<String>,
}

struct Association {
    generation: u64,
    streams: StreamCounts,
    since: Instant,
}

/// Opens each AMF's N2 transport and the NAS listener, and spawns their tasks.
///
/// # Errors
/// A message naming what could not be had: the kernel's SCTP (with the alternative), usrsctp,
/// the NAS address and port, or a value the core refuses.
pub(crate) async fn start(
    settings: N3iwfSettings,
    shutdown: &watch::Receiver<bool>,
    essential: &Essential,
) -> Result<(N3iwfGlue, mpsc::Receiver<N3iwfInput>), String> {
    let core = N3iwf::new(settings.core.clone()).map_err(|e| format!("[n3iwf]: {e}"))?;
    let transports = settings
        .amfs
        .iter()
        .map(|a| {
            Transport::new(a.transport, n2::association_config())
                .map_err(|e| format!("n3iwf.amfs '{}' ({}): {e}", a.label, a.address))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let nas = SocketAddr::new(settings.core.nas_address.into(), settings.core.nas_tcp_port);
    let listener = TcpListener::bind(nas).await.map_err(|e| {
        format!("NAS over TCP: cannot listen on {nas}: {e} (the NAS address must be an address of this host: [dataplane] puts it on the TUN device)")
    })?;
    let (tx, rx) = mpsc::channel(INPUT_BACKLOG);
    let mut amfs = Vec::new();
    for (i, (amf, transport)) in settings.amfs.iter().zip(transports).enumerate() {
        let id = AmfRef(u16::try_from(i).map_err(|_| "too many AMFs".to_string())?);
        let (out, out_rx) = mpsc::channel(n2::OUT_BACKLOG);
        let task = n2::N2Task {
            amf: id,
            settings: amf.clone(),
            transport,
            backoff: (settings.reconnect, settings.reconnect_max),
            inputs: tx.clone(),
            out: out_rx,
            shutdown: shutdown.clone(),
        };
        essential.spawn(format!("the N2 task of AMF '{}'", amf.label), task.run());
        amfs.push(AmfLink::new(out));
    }
    let max_conns = settings
        .core
        .limits
        .max_ues
        .saturating_add(nas_tcp::EXTRA_CONNECTIONS);
    let acceptor = nas_tcp::Acceptor::new(listener, tx, shutdown.clone(), max_conns);
    essential.spawn("the NAS TCP listener", acceptor.run());
    tracing::info!(%nas, amfs = settings.amfs.len(), ue_pool = %format_args!("{}/{}", settings.core.inner_pool.network, settings.core.inner_pool.prefix_len), "N3IWF started");
    let glue = N3iwfGlue {
        core,
        settings,
        amfs,
        conns: HashMap::new(),
        ues: HashMap::new(),
        counters: BTreeMap::new(),
        user_plane: user_plane::UserPlaneState::default(),
    };
    Ok((glue, rx))
}

impl N3iwfGlue {
    /// One input from the N2 or NAS TCP tasks.
    pub(crate) fn input(&mut self, input: N3iwfInput, now: Instant) {
        match input {
            N3iwfInput::N2Up {
                amf,
                generation,
                streams,
            } => self.n2_up(amf, generation, streams, now),
            N3iwfInput::N2Message {
                amf,
                generation,
                stream,
                ppid,
                payload,
            } => self.n2_message(amf, generation, stream, ppid, &payload, now),
            N3iwfInput::N2Restarted {
                amf,
                generation,
                streams,
            } => self.n2_restarted(amf, generation, streams, now),
            N3iwfInput::N2Down {
                amf,
                generation,
                reason,
            } => self.n2_down(amf, generation, &reason, now),
            N3iwfInput::N2ConnectFailed { amf, error } => self.n2_connect_failed(amf, error),
            N3iwfInput::NasConnected { conn, peer, writer } => {
                self.conns.insert(conn, writer);
                self.core.handle_nas_tcp_connected(conn, peer, now);
            }
            N3iwfInput::NasData { conn, data } => self.core.handle_nas_tcp_data(conn, &data, now),
            N3iwfInput::NasClosed { conn } => {
                self.conns.remove(&conn);
                self.core.handle_nas_tcp_closed(conn, now);
            }
        }
    }

    /// The settings it runs with.
    pub(crate) fn settings(&self) -> &N3iwfSettings {
        &self.settings
    }

    /// The next deadline: the core's, or the next GTP-U Echo round.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match (self.core.poll_timeout(), self.echo_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.core.handle_timeout(now);
    }

    fn n2_up(&mut self, amf: AmfRef, generation: u64, streams: StreamCounts, now: Instant) {
        let Some(link) = self.amfs.get_mut(usize::from(amf.0)) else {
            return;
        };
        link.connects += 1;
        link.last_error = None;
        link.up = Some(Association {
            generation,
            streams,
            since: now,
        });
        tracing::info!(amf = %self.settings.amfs[usize::from(amf.0)].label, outbound_streams = streams.outbound, inbound_streams = streams.inbound, "N2 association up: NG Setup");
        self.core.handle_n2_up(amf, streams.outbound, now);
    }

    fn n2_message(
        &mut self,
        amf: AmfRef,
        generation: u64,
        stream: u16,
        ppid: u32,
        payload: &[u8],
        now: Instant,
    ) {
        if !self.is_current(amf, generation) {
            return;
        }
        if ppid != n2_transport::Ppid::NGAP.0 {
            // TS 38.412 §7: NGAP is PPID 60; anything else is not for us.
            self.count("n2_messages_other_ppid");
            return;
        }
        self.core
            .handle_ngap(amf, ::n3iwf::StreamId(stream), payload, now);
    }

    fn n2_restarted(&mut self, amf: AmfRef, generation: u64, streams: StreamCounts, now: Instant) {
        if !self.is_current(amf, generation) {
            return;
        }
        let label = self.label(amf).to_string();
        if let Some(link) = self.amfs.get_mut(usize::from(amf.0)) {
            link.restarts += 1;
            if let Some(a) = link.up.as_mut() {
                a.streams = streams;
                a.since = now;
            }
        }
        tracing::warn!(amf = %label, "the AMF restarted the N2 association: its UEs are released locally, NG Setup again");
        self.core.handle_n2_restarted(amf, streams.outbound, now);
    }

    fn n2_down(&mut self, amf: AmfRef, generation: u64, reason: &str, now: Instant) {
        if !self.is_current(amf, generation) {
            return;
        }
        let label = self.label(amf).to_string();
        if let Some(link) = self.amfs.get_mut(usize::from(amf.0)) {
            link.up = None;
            link.losses += 1;
            link.last_error = Some(reason.to_string());
        }
        tracing::warn!(amf = %label, reason, "N2 association down: reconnecting with backoff");
        self.core.handle_n2_down(amf, now);
    }

    fn n2_connect_failed(&mut self, amf: AmfRef, error: String) {
        let label = self.label(amf).to_string();
        let Some(link) = self.amfs.get_mut(usize::from(amf.0)) else {
            return;
        };
        link.connect_failures += 1;
        // Logged at the first failure of a series, then quietly counted.
        if link.last_error.as_deref() != Some(error.as_str()) {
            tracing::warn!(amf = %label, %error, "no N2 association: retrying with backoff");
        }
        link.last_error = Some(error);
    }

    /// Whether `generation` is the AMF's association now (a late report of an older one is
    /// ignored).
    fn is_current(&self, amf: AmfRef, generation: u64) -> bool {
        self.amfs
            .get(usize::from(amf.0))
            .and_then(|l| l.up.as_ref())
            .is_some_and(|a| a.generation == generation)
    }

    fn label(&self, amf: AmfRef) -> &str {
        self.settings
            .amfs
            .get(usize::from(amf.0))
            .map_or("?", |a| a.label.as_str())
    }

    fn count(&mut self, name: &'static str) {
        *self.counters.entry(name).or_default() += 1;
    }
}

impl AmfLink {
    fn new(out: mpsc::Sender<n2::N2Out>) -> Self {
        Self {
            out,
            up: None,
            connects: 0,
            connect_failures: 0,
            losses: 0,
            restarts: 0,
            last_error: None,
        }
    }
}

/// Reports from the N2 and NAS TCP tasks waiting for the engine task; when full, those tasks
/// wait (and SCTP's and TCP's flow control hold the peers back).
const INPUT_BACKLOG: usize = 1024;
