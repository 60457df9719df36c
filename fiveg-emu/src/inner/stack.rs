//! A userspace TCP/IP stack bound to one inner address, exchanging whole IP packets with its
//! caller: the UE's end of the NAS connection, or the N3IWF's in tests.

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use smoltcp::iface::{
    Config, Interface, PollIngressSingleResult, PollResult, SocketHandle, SocketSet,
};
use smoltcp::socket::tcp::{self, Socket, State};
use smoltcp::time::Duration as NetDuration;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};

use super::clock::StackClock;
use super::conn::{Conn, ConnError, ConnId, ListenerId, Observed, StackEvent};
use super::device::PacketQueues;
use super::rst::tcp_reset_tuple;

/// How an [`InnerStack`] is set up; every bound is here.
#[derive(Clone, Debug)]
pub struct StackConfig {
    /// The inner address (the UE's from the CP reply, or the N3IWF's NAS address).
    pub address: IpAddr,
    /// Largest inner IP packet, both ways. The default leaves room for ESP in UDP on a
    /// 1500-octet path.
    pub mtu: usize,
    /// Received packets waiting for [`InnerStack::poll`].
    pub rx_queue_packets: usize,
    /// Packets to send waiting for [`InnerStack::poll_transmit`].
    pub tx_queue_packets: usize,
    /// Receive buffer of each TCP connection, in octets (the largest window it offers).
    pub tcp_rx_buffer: usize,
    /// Send buffer of each TCP connection, in octets.
    pub tcp_tx_buffer: usize,
    /// TCP sockets at once: connections, listening sockets and those in TIME-WAIT.
    pub max_sockets: usize,
    /// Listening sockets kept per listener (connections accepted at once).
    pub listen_backlog: usize,
    /// A connection whose data or SYN goes unanswered this long is closed as timed out.
    pub tcp_timeout: Option<Duration>,
    /// Interval of TCP keep-alives while no retransmission is pending. With
    /// [`StackConfig::tcp_timeout`] it closes connections to a peer that went away without a
    /// word; it also restarts a sender whose retransmission timer was lost (seen with smoltcp
    /// 0.14 under loss and reordering with data both ways).
    pub tcp_keep_alive: Option<Duration>,
    /// Seeds initial sequence numbers and ephemeral ports; fixed seeds give repeatable runs.
    pub random_seed: u64,
}

impl StackConfig {
    /// Defaults for everything but the address.
    pub fn new(address: IpAddr) -> Self {
        Self {
            address,
            mtu: 1400,
            rx_queue_packets: 256,
            tx_queue_packets: 256,
            tcp_rx_buffer: 64 * 1024,
            tcp_tx_buffer: 64 * 1024,
            max_sockets: 16,
            listen_backlog: 2,
            tcp_timeout: Some(Duration::from_secs(60)),
            tcp_keep_alive: Some(Duration::from_secs(5)),
            random_seed: 0x5eed,
        }
    }
}

/// Why [`InnerStack::push_inbound`] refused a packet. Each is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushError {
    /// The receive queue holds [`StackConfig::rx_queue_packets`]: poll first.
    QueueFull,
    /// Larger than [`StackConfig::mtu`].
    TooLarge,
}

/// What the stack counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StackCounters {
    /// Packets refused because the receive queue was full.
    pub rx_queue_full: u64,
    /// Packets refused as larger than the MTU.
    pub rx_too_large: u64,
    /// Times the stack wanted to send and the transmit queue was full.
    pub tx_queue_full: u64,
    /// Connections accepted by listeners.
    pub accepted: u64,
    /// Times a listener could not re-arm because every socket was in use.
    pub listener_starved: u64,
}

/// A TCP/IP stack for one inner address, sans-IO.
///
/// Call order for a driver:
/// 1. hand it every inner packet received for its address with
///    [`InnerStack::push_inbound`];
/// 2. [`InnerStack::poll`] with the current time;
/// 3. send every packet from [`InnerStack::poll_transmit`] (through the ESP link);
/// 4. handle every [`InnerStack::poll_event`], reading and writing connections;
/// 5. sleep until [`InnerStack::poll_at`] or the next packet, then start again.
///
/// `now` never goes backwards; it is measured from the base given to [`InnerStack::new`].
pub struct InnerStack {
    config: StackConfig,
    clock: StackClock,
    iface: Interface,
    device: PacketQueues,
    sockets: SocketSet<'static>,
    conns: BTreeMap<ConnId, Conn>,
    listeners: BTreeMap<ListenerId, Listener>,
    /// Sockets closed for the caller that still send a RST or sit in TIME-WAIT.
    lingering: Vec<SocketHandle>,
    events: VecDeque<StackEvent>,
    next_id: u32,
    next_port: u16,
    counters: StackCounters,
}

/// A listening port and its armed sockets.
#[derive(Debug)]
struct Listener {
    port: u16,
    armed: Vec<SocketHandle>,
}

const EPHEMERAL_FIRST: u16 = 49_152;
const EPHEMERAL_COUNT: u16 = 16_384;

impl InnerStack {
    /// A stack whose clock starts at `base`.
    pub fn new(config: StackConfig, base: Instant) -> Self {
        let clock = StackClock::new(base);
        let mut device =
            PacketQueues::new(config.rx_queue_packets, config.tx_queue_packets, config.mtu);
        let mut iface_config = Config::new(HardwareAddress::Ip);
        iface_config.random_seed = config.random_seed;
        let mut iface = Interface::new(iface_config, &mut device, clock.to_stack(base));
        add_address(&mut iface, config.address);
        let next_port = EPHEMERAL_FIRST + (config.random_seed % u64::from(EPHEMERAL_COUNT)) as u16;
        Self {
            config,
            clock,
            iface,
            device,
            sockets: SocketSet::new(Vec::new()),
            conns: BTreeMap::new(),
            listeners: BTreeMap::new(),
            lingering: Vec::new(),
            events: VecDeque::new(),
            next_id: 1,
            next_port,
            counters: StackCounters::default(),
        }
    }

    /// Queues an inner IP packet received for this stack (a copy is kept until
    /// [`InnerStack::poll`]).
    ///
    /// # Errors
    /// [`PushError::QueueFull`] or [`PushError::TooLarge`]; the packet is dropped and counted,
    /// as a full NIC ring would: TCP retransmits it.
    pub fn push_inbound(&mut self, packet: &[u8]) -> Result<(), PushError> {
        if packet.len() > self.device.mtu() {
            self.counters.rx_too_large += 1;
            return Err(PushError::TooLarge);
        }
        if !self.device.push_rx(packet) {
            self.counters.rx_queue_full += 1;
            return Err(PushError::QueueFull);
        }
        Ok(())
    }

    /// Opens a TCP connection from this stack's address to `remote`; [`StackEvent::Connected`]
    /// or [`StackEvent::Closed`] tells how it went.
    ///
    /// # Errors
    /// [`ConnError::TooManyConnections`] or [`ConnError::Unaddressable`].
    pub fn connect(&mut self, remote: SocketAddr) -> Result<ConnId, ConnError> {
        self.check_capacity()?;
        let local_port = self.ephemeral_port();
        let mut socket = self.new_socket();
        socket
            .connect(self.iface.context(), remote, local_port)
            .map_err(|_| ConnError::Unaddressable)?;
        let handle = self.sockets.add(socket);
        let id = self.next_conn_id();
        self.conns.insert(id, Conn::new(handle, State::SynSent));
        Ok(id)
    }

    /// Accepts connections to `port` on this stack's address; each arrives as
    /// [`StackEvent::Accepted`].
    ///
    /// # Errors
    /// [`ConnError::PortInUse`], [`ConnError::TooManyConnections`], or
    /// [`ConnError::Unaddressable`] for port 0.
    pub fn listen(&mut self, port: u16) -> Result<ListenerId, ConnError> {
        if port == 0 {
            return Err(ConnError::Unaddressable);
        }
        if self.listeners.values().any(|l| l.port == port) {
            return Err(ConnError::PortInUse);
        }
        self.check_capacity()?;
        let id = ListenerId(self.next_id);
        self.next_id += 1;
        let listener = Listener {
            port,
            armed: Vec::new(),
        };
        self.listeners.insert(id, listener);
        self.refill_listener(id);
        Ok(id)
    }

    /// Stops accepting on a listener; connections it accepted stay open.
    ///
    /// # Errors
    /// [`ConnError::Unknown`].
    pub fn unlisten(&mut self, listener: ListenerId) -> Result<(), ConnError> {
        let listener = self.listeners.remove(&listener).ok_or(ConnError::Unknown)?;
        for handle in listener.armed {
            self.sockets.get_mut::<Socket<'_>>(handle).abort();
            self.lingering.push(handle);
        }
        Ok(())
    }

    /// Copies as much of `data` into the connection's send buffer as fits; `Ok(0)` when the
    /// buffer is full (try again after polling).
    ///
    /// # Errors
    /// [`ConnError::Unknown`], or [`ConnError::InvalidState`] before the connection is
    /// established or after our half was closed.
    pub fn send(&mut self, conn: ConnId, data: &[u8]) -> Result<usize, ConnError> {
        let socket = self.socket_mut(conn)?;
        if !socket.may_send() {
            return Err(ConnError::InvalidState);
        }
        socket.send_slice(data).map_err(|_| ConnError::InvalidState)
    }

    /// Reads received octets into `buf`; `Ok(0)` when nothing is buffered yet.
    ///
    /// # Errors
    /// [`ConnError::Unknown`], [`ConnError::Finished`] once the peer closed and everything was
    /// read, [`ConnError::InvalidState`] before the connection is established.
    pub fn recv(&mut self, conn: ConnId, buf: &mut [u8]) -> Result<usize, ConnError> {
        let socket = self.socket_mut(conn)?;
        match socket.recv_slice(buf) {
            Ok(n) => Ok(n),
            Err(tcp::RecvError::Finished) => Err(ConnError::Finished),
            Err(_) => Err(ConnError::InvalidState),
        }
    }

    /// Closes our half (FIN after what is buffered); the peer may still send.
    ///
    /// # Errors
    /// [`ConnError::Unknown`].
    pub fn close(&mut self, conn: ConnId) -> Result<(), ConnError> {
        self.socket_mut(conn)?.close();
        Ok(())
    }

    /// Resets the connection (RST) and drops what is buffered; [`StackEvent::Closed`] with
    /// [`CloseReason::Aborted`] follows at the next poll.
    ///
    /// # Errors
    /// [`ConnError::Unknown`].
    pub fn abort(&mut self, conn: ConnId) -> Result<(), ConnError> {
        let entry = self.conns.get_mut(&conn).ok_or(ConnError::Unknown)?;
        entry.aborted = true;
        let handle = entry.handle;
        self.sockets.get_mut::<Socket<'_>>(handle).abort();
        Ok(())
    }

    /// Processes queued packets and timers at `now`, then queues what is to be sent.
    pub fn poll(&mut self, now: Instant) {
        let at = self.clock.to_stack(now);
        self.iface.poll_maintenance(at);
        loop {
            if let Some(reset) = self.device.front_rx().and_then(tcp_reset_tuple) {
                self.note_reset(reset);
            }
            if !self.ingress_one(at) {
                break;
            }
            self.observe_all();
        }
        while self
            .iface
            .poll_egress(at, &mut self.device, &mut self.sockets)
            == PollResult::SocketStateChanged
        {}
        self.observe_all();
        self.counters.tx_queue_full = self.device.tx_full;
    }

    /// The next packet to send, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.device.pop_tx()
    }

    /// The next event, oldest first.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<StackEvent> {
        self.events.pop_front()
    }

    /// When to poll next if no packet arrives; `None` when only a packet can wake the stack.
    /// Drain [`InnerStack::poll_transmit`] first: a full transmit queue keeps this at `now`.
    pub fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        self.poll_delay(now).map(|d| now + d)
    }

    /// [`InnerStack::poll_at`] as a delay from `now`.
    pub fn poll_delay(&mut self, now: Instant) -> Option<Duration> {
        let delay = self
            .iface
            .poll_delay(self.clock.to_stack(now), &self.sockets)?;
        Some(Duration::from_micros(delay.total_micros()))
    }

    /// This stack's inner address.
    pub fn address(&self) -> IpAddr {
        self.config.address
    }

    /// The configuration.
    pub fn config(&self) -> &StackConfig {
        &self.config
    }

    /// What the stack counted.
    pub fn counters(&self) -> StackCounters {
        self.counters
    }

    /// Packets waiting in the receive and transmit queues.
    pub fn queued(&self) -> (usize, usize) {
        (self.device.rx_len(), self.device.tx_len())
    }

    /// Open connections.
    pub fn connections(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.conns.keys().copied()
    }

    /// The TCP state of a connection.
    ///
    /// # Errors
    /// [`ConnError::Unknown`].
    pub fn state(&self, conn: ConnId) -> Result<State, ConnError> {
        Ok(self.socket(conn)?.state())
    }

    /// The local and remote addresses of a connection.
    ///
    /// # Errors
    /// [`ConnError::Unknown`], or [`ConnError::InvalidState`] once it has no peer.
    pub fn endpoints(&self, conn: ConnId) -> Result<(SocketAddr, SocketAddr), ConnError> {
        let socket = self.socket(conn)?;
        match (socket.local_endpoint(), socket.remote_endpoint()) {
            (Some(l), Some(r)) => Ok((l.into(), r.into())),
            _ => Err(ConnError::InvalidState),
        }
    }

    /// Octets waiting to be read.
    ///
    /// # Errors
    /// [`ConnError::Unknown`].
    pub fn recv_queue(&self, conn: ConnId) -> Result<usize, ConnError> {
        Ok(self.socket(conn)?.recv_queue())
    }

    /// Octets in the send buffer (not yet acknowledged) and the buffer's capacity.
    ///
    /// # Errors
    /// [`ConnError::Unknown`].
    pub fn send_queue(&self, conn: ConnId) -> Result<(usize, usize), ConnError> {
        let socket = self.socket(conn)?;
        Ok((socket.send_queue(), socket.send_capacity()))
    }

    fn ingress_one(&mut self, at: smoltcp::time::Instant) -> bool {
        self.iface
            .poll_ingress_single(at, &mut self.device, &mut self.sockets)
            != PollIngressSingleResult::None
    }

    /// Marks the connection a received RST is for, before the socket forgets its peer.
    fn note_reset(&mut self, (remote, local_port): (SocketAddr, u16)) {
        for conn in self.conns.values_mut() {
            let socket = self.sockets.get::<Socket<'_>>(conn.handle);
            let peer = socket.remote_endpoint().map(SocketAddr::from);
            let port = socket.local_endpoint().map(|e| e.port);
            if peer == Some(remote) && port == Some(local_port) {
                conn.reset_seen = true;
            }
        }
    }

    fn observe_all(&mut self) {
        self.accept_all();
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        for id in ids {
            self.observe_conn(id);
        }
        self.free_lingering();
        let listeners: Vec<ListenerId> = self.listeners.keys().copied().collect();
        for id in listeners {
            self.refill_listener(id);
        }
    }

    fn observe_conn(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let socket = self.sockets.get::<Socket<'_>>(conn.handle);
        loop {
            match conn.observe(socket) {
                Observed::Nothing => return,
                Observed::Connected => self.events.push_back(StackEvent::Connected(id)),
                Observed::PeerClosed => self.events.push_back(StackEvent::PeerClosed(id)),
                Observed::Closed(reason, _) => {
                    let handle = conn.handle;
                    self.events.push_back(StackEvent::Closed(id, reason));
                    self.conns.remove(&id);
                    self.lingering.push(handle);
                    return;
                }
            }
        }
    }

    /// Moves armed listening sockets that completed a handshake to the connections.
    fn accept_all(&mut self) {
        for (&listener, entry) in &mut self.listeners {
            let mut still_armed = Vec::with_capacity(entry.armed.len());
            for handle in entry.armed.drain(..) {
                let socket = self.sockets.get_mut::<Socket<'_>>(handle);
                match socket.state() {
                    State::Listen | State::SynReceived => still_armed.push(handle),
                    State::Closed => {
                        // A half-open connection timed out: listen again.
                        let _ = socket.listen(entry.port);
                        still_armed.push(handle);
                    }
                    _ => {
                        let remote = socket.remote_endpoint().map(SocketAddr::from);
                        let conn = ConnId(self.next_id);
                        self.next_id += 1;
                        let mut tracked = Conn::new(handle, socket.state());
                        tracked.mark_established();
                        self.conns.insert(conn, tracked);
                        self.counters.accepted += 1;
                        if let Some(remote) = remote {
                            self.events.push_back(StackEvent::Accepted {
                                listener,
                                conn,
                                remote,
                            });
                        }
                    }
                }
            }
            entry.armed = still_armed;
        }
    }

    fn refill_listener(&mut self, id: ListenerId) {
        let Some(port) = self.listeners.get(&id).map(|l| l.port) else {
            return;
        };
        loop {
            let armed = self.listeners.get(&id).map_or(0, |l| l.armed.len());
            if armed >= self.config.listen_backlog.max(1) {
                return;
            }
            if self.check_capacity().is_err() {
                self.counters.listener_starved += 1;
                return;
            }
            let mut socket = self.new_socket();
            let endpoint = SocketAddr::new(self.config.address, port);
            if socket.listen(endpoint).is_err() {
                return;
            }
            let handle = self.sockets.add(socket);
            if let Some(listener) = self.listeners.get_mut(&id) {
                listener.armed.push(handle);
            }
        }
    }

    /// Frees sockets that sent their last RST or left TIME-WAIT.
    fn free_lingering(&mut self) {
        let sockets = &mut self.sockets;
        self.lingering.retain(|&handle| {
            let socket = sockets.get::<Socket<'_>>(handle);
            let done = socket.state() == State::Closed && socket.remote_endpoint().is_none();
            if done {
                sockets.remove(handle);
            }
            !done
        });
    }

    fn new_socket(&self) -> Socket<'static> {
        let rx = tcp::SocketBuffer::new(vec![0; self.config.tcp_rx_buffer]);
        let tx = tcp::SocketBuffer::new(vec![0; self.config.tcp_tx_buffer]);
        let mut socket = Socket::new(rx, tx);
        socket.set_timeout(self.config.tcp_timeout.map(net_duration));
        socket.set_nagle_enabled(false);
        socket.set_keep_alive(self.config.tcp_keep_alive.map(net_duration));
        socket
    }

    fn check_capacity(&self) -> Result<(), ConnError> {
        let in_use = self.sockets.iter().count();
        if in_use >= self.config.max_sockets {
            return Err(ConnError::TooManyConnections);
        }
        Ok(())
    }

    fn ephemeral_port(&mut self) -> u16 {
        let in_use: Vec<u16> = self
            .sockets
            .iter()
            .filter_map(|(_, s)| match s {
                smoltcp::socket::Socket::Tcp(t) => t.local_endpoint().map(|e| e.port),
                #[allow(unreachable_patterns)]
                _ => None,
            })
            .collect();
        loop {
            let port = self.next_port;
            self.next_port = EPHEMERAL_FIRST + (port - EPHEMERAL_FIRST + 1) % EPHEMERAL_COUNT;
            if !in_use.contains(&port) {
                return port;
            }
        }
    }

    fn next_conn_id(&mut self) -> ConnId {
        let id = ConnId(self.next_id);
        self.next_id += 1;
        id
    }

    fn socket(&self, conn: ConnId) -> Result<&Socket<'static>, ConnError> {
        let handle = self.conns.get(&conn).ok_or(ConnError::Unknown)?.handle;
        Ok(self.sockets.get::<Socket<'_>>(handle))
    }

    fn socket_mut(&mut self, conn: ConnId) -> Result<&mut Socket<'static>, ConnError> {
        let handle = self.conns.get(&conn).ok_or(ConnError::Unknown)?.handle;
        Ok(self.sockets.get_mut::<Socket<'_>>(handle))
    }
}

fn add_address(iface: &mut Interface, address: IpAddr) {
    let prefix = if address.is_ipv4() { 32 } else { 128 };
    iface.update_ip_addrs(|addrs| {
        // One address on an empty list always fits.
        let _ = addrs.push(IpCidr::new(IpAddress::from(address), prefix));
    });
    // Every destination is behind the ESP link: the gateway's address does not matter on an
    // IP medium, only that a route exists.
    let routes = iface.routes_mut();
    let _ = match address {
        IpAddr::V4(v4) => routes.add_default_ipv4_route(v4).map(|_| ()),
        IpAddr::V6(v6) => routes.add_default_ipv6_route(v6).map(|_| ()),
    };
}

fn net_duration(d: Duration) -> NetDuration {
    NetDuration::from_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}
