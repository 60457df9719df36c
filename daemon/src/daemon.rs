//! Starting and stopping the daemon's tasks.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::config::{Config, DaemonSettings};
use crate::control::{self, ControlCtx};
use crate::driver::{Driver, DriverCommand, Inputs};
use crate::essential::Essential;
use crate::keylog::KeyLog;
use crate::metrics;
use crate::net::{Datagram, Sockets};
use crate::proto::{ErrorCode, LoadView};
use crate::sink::{ChildSaSink, DatapathEvent};

/// A running daemon: the engine task, the UDP receivers, the control socket and (optionally)
/// the metrics endpoint, all on the current tokio runtime.
pub struct Daemon {
    ike_addrs: Vec<SocketAddr>,
    socket_path: PathBuf,
    metrics_addr: Option<SocketAddr>,
    ctx: Arc<ControlCtx>,
    shutdown: watch::Sender<bool>,
    /// Closed when the engine task ends (or unwinds).
    driver_done: oneshot::Receiver<()>,
    /// Deaths of essential tasks, see [`Daemon::failure`].
    fatal: mpsc::UnboundedReceiver<String>,
    /// Keeps the report channel open.
    _essential: Essential,
}

/// Why the daemon could not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl Daemon {
    /// Binds the sockets and starts every task.
    ///
    /// # Errors
    /// When a socket cannot be bound (address in use, permission), the control socket belongs
    /// to a running daemon, or the N3IWF cannot start (its N2 transport or NAS listener).
    pub async fn start(
        mut config: Config,
        mut sink: Box<dyn ChildSaSink>,
    ) -> Result<Self, StartError> {
        let settings = config.daemon.clone();
        let key_log = open_key_log(settings.key_log.as_deref())?;
        let datapath_ike = sink.ike_address();
        let bound = Listeners::bind(&settings, datapath_ike.is_some()).await?;
        let metrics_addr = bound.metrics.as_ref().and_then(|l| l.local_addr().ok());
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (events, _) = broadcast::channel(EVENT_BACKLOG);
        let (essential, fatal) = Essential::new(shutdown_rx.clone());
        let (cmd_tx, cmd_rx) = mpsc::channel(64);
        let (dgram_tx, dgram_rx) = mpsc::channel(DATAGRAM_BACKLOG);
        // Before any task runs: an N3IWF that cannot start (no SCTP, NAS address not local)
        // leaves nothing behind.
        let (n3iwf, n3iwf_inputs) = match config.n3iwf.take() {
            Some(settings) => {
                let (glue, rx) = crate::n3iwf::start(settings, &shutdown_rx, &essential)
                    .await
                    .map_err(StartError)?;
                (Some(glue), Some(rx))
            }
            None => (None, None),
        };
        bound.sockets.spawn_receivers(&dgram_tx, &essential);
        if let Some(ike) = sink.take_ike() {
            essential.spawn("the datapath's IKE forwarder", forward_ike(ike, dgram_tx));
        }
        let ike_addrs = bound.sockets.ike_addrs();
        let config_path = config.path.clone();
        let inputs = Inputs {
            datagrams: dgram_rx,
            commands: cmd_rx,
            shutdown: shutdown_rx.clone(),
            datapath: sink.take_events(),
            essential: essential.clone(),
            n3iwf: n3iwf_inputs,
        };
        let provider = ipsec_crypto::default_provider();
        let sockets = Arc::clone(&bound.sockets);
        let driver = Driver::new(
            config,
            key_log,
            provider,
            sink,
            sockets,
            events.clone(),
            n3iwf,
        );
        let driver_done = spawn_engine(driver, inputs, &essential);
        let ctx = Arc::new(ControlCtx {
            commands: cmd_tx.clone(),
            events,
            config_path: Mutex::new(config_path),
            shutdown: shutdown_rx.clone(),
        });
        bound.serve(&ctx, cmd_tx, shutdown_rx, &essential);
        tracing::info!(ike = ?ike_addrs, natt_in_datapath = ?datapath_ike, socket = %settings.socket.display(), metrics = ?metrics_addr, "iked started");
        Ok(Self {
            ike_addrs,
            socket_path: settings.socket,
            metrics_addr,
            ctx,
            shutdown,
            driver_done,
            fatal,
            _essential: essential,
        })
    }

    /// Re-reads the configuration file, as SIGHUP does.
    ///
    /// # Errors
    /// The load errors (file, line, field); the running configuration is then unchanged.
    pub async fn reload(&self) -> Result<LoadView, String> {
        control::reload(&self.ctx, None)
            .await
            .map_err(|(code, msg)| match code {
                ErrorCode::Config => msg,
                _ => format!("{code:?}: {msg}"),
            })
    }

    /// Closes every SA, stops every task and removes the control socket.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        // The sender goes when the engine task ends, normally or not.
        let _ = self.driver_done.await;
        let _ = std::fs::remove_file(&self.socket_path);
        tracing::info!("iked stopped");
    }

    /// Resolves when an essential task died (the engine task, a UDP receiver, the control or
    /// metrics server, a datapath thread), saying which and how. The daemon then no longer
    /// handles IKE (or cannot be controlled): the caller should [`abandon`](Self::abandon) it
    /// and exit non-zero so that a supervisor restarts the process.
    pub async fn failure(&mut self) -> String {
        match self.fatal.recv().await {
            Some(why) => why,
            None => std::future::pending().await,
        }
    }

    /// Gives up on a failed daemon: removes the control socket, without the graceful DELETEs
    /// that need the engine task.
    pub fn abandon(self) {
        let _ = self.shutdown.send(true);
        let _ = std::fs::remove_file(&self.socket_path);
    }

    /// The bound IKE addresses (not NAT-T), useful with `ike_port = 0`.
    pub fn ike_addrs(&self) -> &[SocketAddr] {
        &self.ike_addrs
    }

    /// The control socket.
    pub fn socket_path(&self) -> &Path {
        &self.socket_path
    }

    /// The bound metrics address, if enabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// IKE messages the datapath admitted (per source, bounded) join the sockets' queue; while it
/// is full they wait, and the datapath drops and counts what comes meanwhile.
/// Opens the key log directory when one is configured, and says loudly that it is on.
fn open_key_log(dir: Option<&Path>) -> Result<Option<KeyLog>, StartError> {
    let Some(dir) = dir else {
        return Ok(None);
    };
    let k = KeyLog::open(dir).map_err(|e| StartError(e.to_string()))?;
    tracing::warn!(dir = %dir.display(), "key log on: IKE and ESP keys are written for Wireshark (debugging only)");
    Ok(Some(k))
}

/// Runs the engine as an essential task; the receiver closes when it ends (or unwinds).
fn spawn_engine(driver: Driver, inputs: Inputs, essential: &Essential) -> oneshot::Receiver<()> {
    let (done_tx, driver_done) = oneshot::channel::<()>();
    essential.spawn("the engine task", async move {
        let _done = done_tx;
        driver.run(inputs).await;
    });
    driver_done
}

/// The sockets the daemon listens on, all bound before any task starts so that a taken
/// address fails the start and leaves nothing running.
struct Listeners {
    sockets: Arc<Sockets>,
    control: UnixListener,
    /// The uid that owns the control socket.
    owner: u32,
    metrics: Option<TcpListener>,
}

impl Listeners {
    /// The IKE sockets (unless the datapath receives IKE), the control socket and the
    /// metrics endpoint, in that order.
    async fn bind(settings: &DaemonSettings, datapath_ike: bool) -> Result<Self, StartError> {
        let sockets = Sockets::bind(settings, datapath_ike)
            .await
            .map_err(|e| StartError(e.to_string()))?;
        let (control, owner) = control::bind(&settings.socket).map_err(|e| {
            StartError(format!("control socket {}: {e}", settings.socket.display()))
        })?;
        let metrics = match settings.metrics {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|e| StartError(format!("metrics endpoint {addr}: {e}")))?,
            ),
            None => None,
        };
        Ok(Self {
            sockets: Arc::new(sockets),
            control,
            owner,
            metrics,
        })
    }

    /// Serves the control socket and, when configured, the metrics endpoint.
    fn serve(
        self,
        ctx: &Arc<ControlCtx>,
        commands: mpsc::Sender<DriverCommand>,
        shutdown: watch::Receiver<bool>,
        essential: &Essential,
    ) {
        let control = control::serve(self.control, self.owner, Arc::clone(ctx));
        essential.spawn("the control socket server", control);
        if let Some(l) = self.metrics {
            essential.spawn("the metrics server", metrics::serve(l, commands, shutdown));
        }
    }
}

async fn forward_ike(mut ike: mpsc::Receiver<DatapathEvent>, tx: mpsc::Sender<Datagram>) {
    while let Some(event) = ike.recv().await {
        let DatapathEvent::Ike {
            local,
            remote,
            data,
        } = event
        else {
            continue;
        };
        if tx
            .send(Datagram {
                local,
                remote,
                data,
            })
            .await
            .is_err()
        {
            return;
        }
    }
}

/// Events kept for a slow `monitor` client before it is told it lagged.
const EVENT_BACKLOG: usize = 1024;
/// IKE datagrams waiting for the engine task; a receiver drops (and counts) beyond this.
const DATAGRAM_BACKLOG: usize = 1024;
