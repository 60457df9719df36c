//! Starting the workers, and the control API the daemon (or `esp-tunnel`) drives them with.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use esp::{InboundSa, OutboundSa, SaHandle, Spd, SpdEntry, TrafficSelector, natt};
use ipsec_crypto::CryptoProvider;
use ipsec_sys::{
    EventFd, Offloads, RawEspSocket, RecvMeta, SocketOptions, Tun, TunOptions, UdpSocket,
    interface, pin_current_thread,
};

use crate::admission::SourceLimiter;
use crate::coalesce::Coalescer;
use crate::config::{
    ChildSa, ChildSaId, DataplaneConfig, DataplaneError, DataplaneEvent, Direction, Encapsulation,
    IkeMessage, SaEventReport, SaStats, io_err,
};
use crate::n3::{N3Port, N3Setup};
use crate::report::ReportLimiter;
use crate::sa_events::SaEventBox;
use crate::stats::{DataplaneStats, SharedCounters};
use crate::table::{InboundEntry, OutboundEntry, TableCell, lock};
use crate::tx::{Net, TxBatch};
use crate::worker::{
    COALESCE_ARENA, COALESCE_ENTRIES, RX_SLOTS, RX_STRIDE, Shared, TUN_BUF_LEN, TX_BUF_LEN, Worker,
};

/// The userspace ESP dataplane.
#[derive(Debug)]
pub struct Dataplane;

impl Dataplane {
    /// Creates the TUN device and sockets and starts one worker per core (or
    /// `config.workers`). Events (doorbells for SA events, unknown SPIs, acquires) come out of
    /// the returned receiver; IKE messages on the UDP port from
    /// [`DataplaneHandle::take_ike_messages`]. Needs `CAP_NET_ADMIN` (and `CAP_NET_RAW` for raw ESP).
    ///
    /// # Errors
    /// [`DataplaneError::Io`] naming the step that failed.
    pub fn start(
        config: DataplaneConfig,
        provider: &'static dyn CryptoProvider,
    ) -> Result<(DataplaneHandle, Receiver<DataplaneEvent>), DataplaneError> {
        let cores = thread::available_parallelism().map_or(1, usize::from);
        let workers = if config.workers == 0 {
            cores
        } else {
            config.workers.min(cores)
        };
        let tuns = open_tun(&config, workers)?;
        let (sockets, gso) = open_sockets(&config, workers)?;
        let n3_sockets = open_n3_sockets(&config, workers)?;
        let (events_tx, events_rx) = mpsc::sync_channel(config.event_capacity.max(1));
        let (ike_tx, ike_rx) = mpsc::sync_channel(config.ike_capacity.max(1));
        let shared = Arc::new(Shared {
            table: TableCell::default(),
            counters: SharedCounters::default(),
            stop: AtomicBool::new(false),
            events: events_tx,
            sa_events: SaEventBox::default(),
            ike: ike_tx,
            ike_admission: Mutex::new(SourceLimiter::new(config.ike_rate_per_source)),
        });
        let ike_socket = match &sockets[0] {
            Net::Udp(s) => Some(Arc::clone(s)),
            Net::Raw(_) => None,
        };
        let n3_socket = n3_sockets.first().cloned();
        let mut n3_sockets = n3_sockets.into_iter();
        let mut threads = Vec::with_capacity(workers);
        let mut wakes = Vec::with_capacity(workers);
        for (i, (tun, net)) in tuns.into_iter().zip(sockets).enumerate() {
            let n3_setup = N3Setup {
                worker: i,
                workers,
                mtu: config.n3_ue_mtu,
                oversize: config.n3_oversize,
            };
            let n3 = n3_sockets
                .next()
                .map(|s| N3Port::new(s, &n3_setup, RX_STRIDE, RX_SLOTS));
            let wake = Arc::new(EventFd::new().map_err(io_err("eventfd"))?);
            wakes.push(Arc::clone(&wake));
            let io = WorkerIo { tun, net, wake, n3 };
            let worker = new_worker(i, &shared, io, gso, &config);
            threads.push(spawn_worker(i, worker, config.pin_workers)?);
        }
        let handle = DataplaneHandle {
            shared,
            provider,
            threads: Mutex::new(threads),
            wakes,
            ike_socket,
            ike_messages: Mutex::new(Some(ike_rx)),
            tun_name: config.tun.name.clone(),
            n3_socket,
            echo_sequence: AtomicU16::new(0),
        };
        Ok((handle, events_rx))
    }
}

/// Controls a running dataplane; dropping it stops the workers.
pub struct DataplaneHandle {
    pub(crate) shared: Arc<Shared>,
    provider: &'static dyn CryptoProvider,
    threads: Mutex<Vec<JoinHandle<()>>>,
    wakes: Vec<Arc<EventFd>>,
    ike_socket: Option<Arc<UdpSocket>>,
    ike_messages: Mutex<Option<Receiver<IkeMessage>>>,
    tun_name: String,
    /// Worker 0's N3 socket, for the Echo Requests the owner asks for.
    pub(crate) n3_socket: Option<Arc<UdpSocket>>,
    pub(crate) echo_sequence: AtomicU16,
}

impl DataplaneHandle {
    /// Installs a CHILD_SA pair. The inbound SA is usable at once. If an SPD entry with exactly
    /// this selector exists, it switches to the new outbound SA in one step (make-before-break
    /// rekeying: workers pick it up at their next batch, the old SAs stay installed until
    /// [`DataplaneHandle::remove_child_sa`]); otherwise a new SPD entry is added.
    ///
    /// # Errors
    /// [`DataplaneError::Esp`] when an SA is refused; [`DataplaneError::SpiInUse`] when either
    /// SPI is already installed in its direction.
    pub fn install_child_sa(&self, child: ChildSa) -> Result<ChildSaId, DataplaneError> {
        self.install(child, Routing::Now)
    }

    /// Installs a CHILD_SA pair without an SPD entry: nothing from the TUN device is sent on
    /// it. This is how the user-plane Child SAs of an N3IWF PDU session go in: the workers
    /// reach their outbound SA by SPI from the session ([`DataplaneHandle::add_user_plane`]),
    /// and their selector may equal the signalling SA's (same UE address, same N3IWF address),
    /// which [`DataplaneHandle::install_child_sa`] would take for a rekey.
    ///
    /// # Errors
    /// As [`DataplaneHandle::install_child_sa`].
    pub fn install_child_sa_unrouted(&self, child: ChildSa) -> Result<ChildSaId, DataplaneError> {
        self.install(child, Routing::Never)
    }

    /// Installs a CHILD_SA pair that rekeys one whose exchange the peer initiated: the inbound
    /// SA is usable at once, but traffic keeps leaving on the SA with the same selector until
    /// [`DataplaneHandle::activate_outbound`] (the peer may not have installed its inbound SA
    /// yet when our CREATE_CHILD_SA response leaves). Without such an SA it acts as
    /// [`DataplaneHandle::install_child_sa`].
    ///
    /// # Errors
    /// As [`DataplaneHandle::install_child_sa`].
    pub fn install_child_sa_deferred(&self, child: ChildSa) -> Result<ChildSaId, DataplaneError> {
        self.install(child, Routing::Deferred)
    }

    /// Sends the traffic of `id`'s selector on `id`'s outbound SA from now on.
    ///
    /// # Errors
    /// [`DataplaneError::UnknownChildSa`] when the pair is not installed.
    pub fn activate_outbound(&self, id: ChildSaId) -> Result<(), DataplaneError> {
        self.shared.table.update(|t| {
            let selector = match (
                t.inbound.get(&id.inbound_spi),
                t.outbound.contains_key(&id.outbound_spi),
            ) {
                (Some(entry), true) => entry.selector,
                _ => return Err(DataplaneError::UnknownChildSa(id)),
            };
            switch_policy(&mut t.spd, selector, SaHandle::from(id.outbound_spi));
            Ok(())
        })
    }

    fn install(&self, child: ChildSa, routing: Routing) -> Result<ChildSaId, DataplaneError> {
        let ChildSa {
            selector,
            peer,
            inbound,
            outbound,
        } = child;
        let inbound = InboundSa::new(self.provider, inbound)?;
        let outbound = OutboundSa::new(self.provider, outbound)?;
        let id = ChildSaId {
            inbound_spi: inbound.spi(),
            outbound_spi: outbound.spi(),
        };
        self.shared.table.update(|t| {
            if t.inbound.contains_key(&id.inbound_spi) {
                return Err(DataplaneError::SpiInUse(id.inbound_spi));
            }
            if t.outbound.contains_key(&id.outbound_spi) {
                return Err(DataplaneError::SpiInUse(id.outbound_spi));
            }
            let entry = InboundEntry {
                sa: Mutex::new(inbound),
                selector,
                selector_mismatches: AtomicU64::new(0),
            };
            t.inbound.insert(id.inbound_spi, Box::new(entry));
            t.outbound.insert(
                id.outbound_spi,
                Box::new(OutboundEntry {
                    sa: Mutex::new(outbound),
                    peer,
                }),
            );
            let new = SaHandle::from(id.outbound_spi);
            let has_policy = t.spd.entries().iter().any(|e| e.selector == selector);
            match routing {
                Routing::Now => switch_policy(&mut t.spd, selector, new),
                Routing::Deferred if !has_policy => switch_policy(&mut t.spd, selector, new),
                Routing::Deferred | Routing::Never => {}
            }
            Ok(id)
        })
    }

    /// Sends `id`'s outbound packets to `peer` from now on: the peer's NAT binding changed
    /// (RFC 7296 §2.23; IKE saw it in an authenticated message). The inbound SA takes packets
    /// from any address, as RFC 3948 asks.
    ///
    /// # Errors
    /// [`DataplaneError::UnknownChildSa`] when its outbound SA is not installed.
    pub fn set_peer(&self, id: ChildSaId, peer: SocketAddr) -> Result<(), DataplaneError> {
        self.shared.table.update(|t| {
            let entry = t
                .outbound
                .get_mut(&id.outbound_spi)
                .ok_or(DataplaneError::UnknownChildSa(id))?;
            entry.peer = peer;
            Ok(())
        })
    }

    /// Removes a CHILD_SA pair. If its outbound SA is still the active one, its SPD entry goes
    /// too, and matching traffic is dropped (counted as `no_policy`) until another is installed.
    ///
    /// # Errors
    /// [`DataplaneError::UnknownChildSa`] when neither SA is installed.
    pub fn remove_child_sa(&self, id: ChildSaId) -> Result<(), DataplaneError> {
        self.shared.table.update(|t| {
            let had_in = t.inbound.remove(&id.inbound_spi).is_some();
            let had_out = t.outbound.remove(&id.outbound_spi).is_some();
            t.spd.remove(SaHandle::from(id.outbound_spi));
            t.up.forget_inbound(id.inbound_spi);
            // Workers raise events under the read lock: none can arrive for these SAs now.
            let events = &self.shared.sa_events;
            events.forget(id.inbound_spi, Direction::Inbound);
            events.forget(id.outbound_spi, Direction::Outbound);
            if had_in || had_out {
                Ok(())
            } else {
                Err(DataplaneError::UnknownChildSa(id))
            }
        })
    }

    /// Sends an IKE message to `to` from the ESP-in-UDP port, behind the non-ESP marker
    /// (RFC 3948 §2.2).
    ///
    /// # Errors
    /// [`DataplaneError::NotUdp`] with raw ESP; [`DataplaneError::Io`] when sending fails.
    pub fn send_ike(&self, to: SocketAddr, message: &[u8]) -> Result<(), DataplaneError> {
        let sock = self.ike_socket.as_ref().ok_or(DataplaneError::NotUdp)?;
        sock.send_to(&natt::with_non_esp_marker(message), to)
            .map_err(io_err("sending IKE"))?;
        Ok(())
    }

    /// Sends a NAT-keepalive (RFC 3948 §2.3: one octet 0xFF, no non-ESP marker) to `to` from
    /// the ESP-in-UDP port.
    ///
    /// # Errors
    /// [`DataplaneError::NotUdp`] with raw ESP; [`DataplaneError::Io`] when sending fails.
    pub fn send_nat_keepalive(&self, to: SocketAddr) -> Result<(), DataplaneError> {
        let sock = self.ike_socket.as_ref().ok_or(DataplaneError::NotUdp)?;
        sock.send_to(&[0xff], to)
            .map_err(io_err("sending a NAT-keepalive"))?;
        Ok(())
    }

    /// Installs (or replaces) trap policy `id`: outbound traffic that matches `selector` and no
    /// SA is dropped and reported as [`DataplaneEvent::Acquire`](crate::DataplaneEvent) so that
    /// an SA gets negotiated. SAs take precedence over traps.
    pub fn install_trap(&self, id: u32, selector: TrafficSelector) {
        self.shared.table.edit(|t| {
            t.traps.retain(|(i, _)| *i != id);
            t.traps.push((id, selector));
        });
    }

    /// Removes trap policy `id`; returns whether it existed.
    pub fn remove_trap(&self, id: u32) -> bool {
        self.shared.table.edit(|t| {
            let before = t.traps.len();
            t.traps.retain(|(i, _)| *i != id);
            t.traps.len() != before
        })
    }

    /// The SA events raised since the last call ([`DataplaneEvent::SaEvents`] says some
    /// wait). They are kept until collected, so none is lost; call this on each doorbell and
    /// now and then besides.
    pub fn take_sa_events(&self) -> Vec<SaEventReport> {
        self.shared.sa_events.take()
    }

    /// The receiving end of the IKE messages that arrive on the UDP port (once; `None` with raw
    /// ESP or when taken before). Admitted per source
    /// ([`DataplaneConfig::ike_rate_per_source`]) and bounded
    /// ([`DataplaneConfig::ike_capacity`]); drops are counted.
    pub fn take_ike_messages(&self) -> Option<Receiver<IkeMessage>> {
        self.ike_socket.as_ref()?;
        lock(&self.ike_messages).take()
    }

    /// Whether every worker thread still runs (a worker that panicked leaves its share of
    /// traffic unhandled).
    pub fn workers_alive(&self) -> bool {
        lock(&self.threads).iter().all(|t| !t.is_finished())
    }

    /// Dataplane-wide counters.
    pub fn stats(&self) -> DataplaneStats {
        self.shared.counters.snapshot()
    }

    /// Counters of every installed SA (each SA is locked briefly).
    pub fn sa_stats(&self) -> Vec<SaStats> {
        let table = self.shared.table.read();
        let mut out = Vec::with_capacity(table.inbound.len() + table.outbound.len());
        for (&spi, e) in &table.inbound {
            let sa = lock(&e.sa);
            let c = sa.counters();
            out.push(SaStats {
                spi,
                direction: Direction::Inbound,
                packets: c.packets,
                bytes: c.bytes,
                drops: *sa.drops(),
                selector_mismatches: e.selector_mismatches.load(Ordering::Relaxed),
                is_active: true,
            });
        }
        for (&spi, e) in &table.outbound {
            let sa = lock(&e.sa);
            let c = sa.counters();
            out.push(SaStats {
                spi,
                direction: Direction::Outbound,
                packets: c.packets,
                bytes: c.bytes,
                drops: *sa.drops(),
                selector_mismatches: 0,
                is_active: table.is_active(spi),
            });
        }
        out.sort_by_key(|s| (s.spi, s.direction == Direction::Outbound));
        out
    }

    /// The TUN device's name.
    pub fn tun_name(&self) -> &str {
        &self.tun_name
    }

    /// Stops the workers and waits for them.
    pub fn shutdown(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for w in &self.wakes {
            // A worker that cannot be woken still sees the flag within its idle poll.
            let _ = w.notify();
        }
        let threads = std::mem::take(&mut *lock(&self.threads));
        for t in threads {
            // A worker that panicked has nothing left to clean up.
            let _ = t.join();
        }
    }
}

impl Drop for DataplaneHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for DataplaneHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataplaneHandle")
            .field("tun", &self.tun_name)
            .field("workers", &self.wakes.len())
            .finish_non_exhaustive()
    }
}

fn open_tun(config: &DataplaneConfig, workers: usize) -> Result<Vec<Tun>, DataplaneError> {
    let options = TunOptions {
        vnet_hdr: config.tun.offloads,
        multi_queue: workers > 1,
        offloads: if config.tun.offloads {
            Offloads::TCP
        } else {
            Offloads::NONE
        },
    };
    let tuns =
        Tun::open_queues(&config.tun.name, &options, workers).map_err(io_err("opening TUN"))?;
    let name = tuns[0].name().to_owned();
    for t in &tuns {
        t.set_nonblocking(true)
            .map_err(io_err("TUN non-blocking"))?;
        if config.tun.offloads {
            // UDP segmentation offload (kernel 6.2+) lets applications' UDP GSO trains through
            // whole; the segmenter cuts them. Older kernels refuse it, which costs nothing.
            let _ = t.set_offloads(Offloads::TCP.union(Offloads::USO));
        }
    }
    interface::set_mtu(&name, config.tun.mtu).map_err(io_err("setting the TUN MTU"))?;
    for &(addr, prefix) in &config.tun.addresses {
        match addr {
            IpAddr::V4(a) => interface::set_ipv4_address(&name, a, prefix),
            IpAddr::V6(a) => interface::add_ipv6_address(&name, a, prefix),
        }
        .map_err(io_err("setting a TUN address"))?;
    }
    interface::set_up(&name).map_err(io_err("bringing TUN up"))?;
    Ok(tuns)
}

/// One socket per worker (UDP with `SO_REUSEPORT`), or one shared raw socket. Also tells whether
/// UDP GSO can be used.
fn open_sockets(
    config: &DataplaneConfig,
    workers: usize,
) -> Result<(Vec<Net>, bool), DataplaneError> {
    let buffer = config.socket_buffer;
    match config.encapsulation {
        Encapsulation::Raw => {
            let raw = RawEspSocket::open(config.local, buffer, buffer)
                .map_err(io_err("opening the raw ESP socket"))?;
            let raw = Arc::new(raw);
            Ok((
                (0..workers).map(|_| Net::Raw(Arc::clone(&raw))).collect(),
                false,
            ))
        }
        Encapsulation::Udp { port } => {
            let opts = SocketOptions {
                reuse_port: true,
                gro: true,
                recv_buffer: buffer,
                send_buffer: buffer,
            };
            let addr = SocketAddr::new(config.local, port);
            let mut out = Vec::with_capacity(workers);
            for _ in 0..workers {
                let s = UdpSocket::bind(addr, &opts).map_err(io_err("binding the UDP socket"))?;
                out.push(s);
            }
            let gso = out[0].is_gso_supported();
            Ok((
                out.into_iter().map(|s| Net::Udp(Arc::new(s))).collect(),
                gso,
            ))
        }
    }
}

/// What a worker moves packets between.
struct WorkerIo {
    tun: Tun,
    net: Net,
    wake: Arc<EventFd>,
    n3: Option<N3Port>,
}

/// Worker `i` with its buffers.
fn new_worker(
    i: usize,
    shared: &Arc<Shared>,
    io: WorkerIo,
    gso: bool,
    config: &DataplaneConfig,
) -> Worker {
    let WorkerIo { tun, net, wake, n3 } = io;
    Worker {
        shared: Arc::clone(shared),
        tun,
        receives: net.is_udp() || i == 0,
        net,
        wake,
        tun_buf: vec![0; TUN_BUF_LEN],
        tx: TxBatch::new(TX_BUF_LEN, gso),
        rx_buf: vec![0; RX_STRIDE * RX_SLOTS],
        rx_meta: vec![RecvMeta::default(); RX_SLOTS],
        coalescer: Coalescer::new(
            COALESCE_ARENA,
            COALESCE_ENTRIES,
            config.verify_inner_checksums,
        ),
        coalesce_seen: Default::default(),
        acquires: ReportLimiter::new(),
        unknown_spis: ReportLimiter::new(),
        stats: DataplaneStats::default(),
        n3,
    }
}

/// Runs `worker` on a thread of its own, pinned to core `i` if asked.
fn spawn_worker(i: usize, worker: Worker, pin: bool) -> Result<JoinHandle<()>, DataplaneError> {
    thread::Builder::new()
        .name(format!("esp-worker-{i}"))
        .spawn(move || {
            if pin {
                // Best effort: an unpinned worker still works.
                let _ = pin_current_thread(i);
            }
            worker.run();
        })
        .map_err(io_err("spawning a worker"))
}

/// Whether and when a new CHILD_SA pair takes the traffic of its selector.
#[derive(Clone, Copy)]
enum Routing {
    /// At once (new SA or a rekey we started).
    Now,
    /// Only if no SA has the selector yet (a rekey the peer started).
    Deferred,
    /// Never: reached by SPI only (user-plane SAs).
    Never,
}

/// One GTP-U socket per worker (`SO_REUSEPORT`) when the configuration has an N3 address.
fn open_n3_sockets(
    config: &DataplaneConfig,
    workers: usize,
) -> Result<Vec<Arc<UdpSocket>>, DataplaneError> {
    let Some(addr) = config.n3 else {
        return Ok(Vec::new());
    };
    let opts = SocketOptions {
        reuse_port: true,
        gro: true,
        recv_buffer: config.socket_buffer,
        send_buffer: config.socket_buffer,
    };
    let bind = |addr| {
        UdpSocket::bind(addr, &opts)
            .map(Arc::new)
            .map_err(io_err("binding the N3 socket"))
    };
    let first = bind(addr)?;
    // Port 0 picks one port for all: the others join the first one's.
    let addr = first.local_addr();
    let mut out = vec![first];
    for _ in 1..workers {
        out.push(bind(addr)?);
    }
    Ok(out)
}

/// Points the SPD entry of `selector` at `sa`, or adds one.
fn switch_policy(spd: &mut Spd, selector: TrafficSelector, sa: SaHandle) {
    match spd
        .entries()
        .iter()
        .find(|e| e.selector == selector)
        .map(|e| e.sa)
    {
        Some(old) => {
            spd.replace_sa(old, sa);
        }
        None => spd.insert(SpdEntry { selector, sa }),
    }
}
