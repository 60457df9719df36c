//! The N2 transport trait and its two stacks.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};

use ipsec_sys::sctp::{KernelSctpSocket, SocketSetup, StackConfig, StackError, Usrsctp};

use crate::association::Association;
use crate::config::{AssociationConfig, LowerLayer, TransportKind};
use crate::error::N2Error;
use crate::socket::SctpIo;

/// Opens N2 associations: `connect` on the N3IWF (client) side, `listen` on the AMF side.
pub trait N2Transport: Send + Sync {
    /// Opens an association to `peer` from `local` (an address of this host, a fixed port) or
    /// from any address and port.
    fn connect_from(
        &self,
        local: Option<SocketAddr>,
        peer: SocketAddr,
    ) -> impl Future<Output = Result<Association, N2Error>> + Send;

    /// Opens an association to `peer`.
    fn connect(
        &self,
        peer: SocketAddr,
    ) -> impl Future<Output = Result<Association, N2Error>> + Send {
        self.connect_from(None, peer)
    }

    /// Listens for associations on `local`.
    ///
    /// # Errors
    /// [`N2Error::Io`] when the address cannot be bound.
    fn listen(&self, local: SocketAddr) -> Result<N2Listener, N2Error>;
}

/// The kernel's SCTP.
#[derive(Clone, Debug)]
pub struct KernelSctp {
    config: AssociationConfig,
}

impl KernelSctp {
    /// Checks the settings and that the kernel has SCTP.
    ///
    /// # Errors
    /// [`N2Error::KernelSctpUnavailable`] (with the alternative in its message) or
    /// [`N2Error::Config`].
    pub fn new(config: AssociationConfig) -> Result<Self, N2Error> {
        config.validate()?;
        Self::probe()?;
        Ok(Self { config })
    }

    /// Whether the kernel has SCTP: opens and closes one socket.
    ///
    /// # Errors
    /// [`N2Error::KernelSctpUnavailable`] when it has not.
    pub fn probe() -> Result<(), N2Error> {
        open_kernel(false).map(drop)
    }

    fn open(&self, ipv6: bool) -> Result<SctpIo, N2Error> {
        let socket = open_kernel(ipv6)?;
        SctpIo::kernel(socket).map_err(N2Error::io("register with the runtime"))
    }
}

impl N2Transport for KernelSctp {
    async fn connect_from(
        &self,
        local: Option<SocketAddr>,
        peer: SocketAddr,
    ) -> Result<Association, N2Error> {
        let io = self.open(peer.is_ipv6())?;
        start_association(io, local, peer, &self.config).await
    }

    fn listen(&self, local: SocketAddr) -> Result<N2Listener, N2Error> {
        N2Listener::start(self.open(local.is_ipv6())?, local, self.config)
    }
}

/// usrsctp over raw IP or UDP.
#[derive(Clone, Debug)]
pub struct UserspaceSctp {
    stack: &'static Usrsctp,
    lower: LowerLayer,
    udp_port: u16,
    config: AssociationConfig,
}

impl UserspaceSctp {
    /// Loads usrsctp and starts its stack for this process with `lower` (or joins the stack
    /// already running with it).
    ///
    /// # Errors
    /// [`N2Error::UsrsctpUnavailable`] without `libusrsctp.so.2`; [`N2Error::UsrsctpStack`]
    /// when the lower layer cannot be had (raw IP without privileges, a UDP port in use, a
    /// stack already running with another lower layer); [`N2Error::Config`].
    pub fn start(lower: LowerLayer, config: AssociationConfig) -> Result<Self, N2Error> {
        config.validate()?;
        let stack = Usrsctp::load()?;
        let wanted = match lower {
            LowerLayer::RawIp => StackConfig {
                udp_port: 0,
                raw_ip: true,
            },
            LowerLayer::Udp { local_port: 0, .. } => match stack.running() {
                Some(running) if running.udp_port != 0 && !running.raw_ip => running,
                _ => StackConfig {
                    udp_port: free_udp_port().map_err(N2Error::io("pick a UDP port"))?,
                    raw_ip: false,
                },
            },
            LowerLayer::Udp { local_port, .. } => StackConfig {
                udp_port: local_port,
                raw_ip: false,
            },
        };
        let running = match stack.start(wanted) {
            Ok(()) => wanted,
            // Another thread picked a free port first: any UDP-only stack will do.
            Err(StackError::AlreadyStarted { running, .. })
                if matches!(lower, LowerLayer::Udp { local_port: 0, .. })
                    && running.udp_port != 0
                    && !running.raw_ip =>
            {
                running
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Self {
            stack,
            lower,
            udp_port: running.udp_port,
            config,
        })
    }

    /// The local UDP port of SCTP over UDP (0 over raw IP).
    pub fn local_udp_port(&self) -> u16 {
        self.udp_port
    }

    /// The longest a dropped association's socket waits for a silent peer before it is closed.
    pub const CLOSE_GRACE: std::time::Duration = ipsec_sys::sctp::USRSCTP_CLOSE_GRACE;

    /// Dropped associations whose sockets are still shutting down (see
    /// `ipsec_sys::sctp::Usrsctp::sockets_closing`).
    pub fn sockets_closing(&self) -> usize {
        self.stack.sockets_closing()
    }

    fn open(&self, ipv6: bool) -> Result<SctpIo, N2Error> {
        SctpIo::user(self.stack, ipv6).map_err(N2Error::io("open a usrsctp socket"))
    }
}

impl N2Transport for UserspaceSctp {
    async fn connect_from(
        &self,
        local: Option<SocketAddr>,
        peer: SocketAddr,
    ) -> Result<Association, N2Error> {
        let io = self.open(peer.is_ipv6())?;
        if let (LowerLayer::Udp { remote_port, .. }, SctpIo::User { socket, .. }) =
            (self.lower, &io)
        {
            socket
                .set_remote_udp_port(remote_port)
                .map_err(N2Error::io("set the remote UDP port"))?;
        }
        start_association(io, local, peer, &self.config).await
    }

    fn listen(&self, local: SocketAddr) -> Result<N2Listener, N2Error> {
        N2Listener::start(self.open(local.is_ipv6())?, local, self.config)
    }
}

/// Either stack, chosen by configuration.
#[derive(Clone, Debug)]
pub enum Transport {
    Kernel(KernelSctp),
    Usrsctp(UserspaceSctp),
}

impl Transport {
    /// The stack `kind` with `config`.
    ///
    /// # Errors
    /// As [`KernelSctp::new`] and [`UserspaceSctp::start`].
    pub fn new(kind: TransportKind, config: AssociationConfig) -> Result<Self, N2Error> {
        match kind {
            TransportKind::Kernel => KernelSctp::new(config).map(Self::Kernel),
            TransportKind::Usrsctp(lower) => UserspaceSctp::start(lower, config).map(Self::Usrsctp),
        }
    }
}

impl N2Transport for Transport {
    async fn connect_from(
        &self,
        local: Option<SocketAddr>,
        peer: SocketAddr,
    ) -> Result<Association, N2Error> {
        match self {
            Self::Kernel(t) => t.connect_from(local, peer).await,
            Self::Usrsctp(t) => t.connect_from(local, peer).await,
        }
    }

    fn listen(&self, local: SocketAddr) -> Result<N2Listener, N2Error> {
        match self {
            Self::Kernel(t) => t.listen(local),
            Self::Usrsctp(t) => t.listen(local),
        }
    }
}

/// A listening socket (the AMF side).
#[derive(Debug)]
pub struct N2Listener {
    io: SctpIo,
    local: SocketAddr,
    config: AssociationConfig,
}

impl N2Listener {
    fn start(io: SctpIo, local: SocketAddr, config: AssociationConfig) -> Result<Self, N2Error> {
        // Accepted associations inherit these settings from the listener.
        io.configure(&socket_setup(&config))
            .map_err(N2Error::io("set socket options"))?;
        io.bind(local).map_err(N2Error::io("bind"))?;
        io.listen(LISTEN_BACKLOG).map_err(N2Error::io("listen"))?;
        Ok(Self { io, local, config })
    }

    /// The next association, once it is up.
    ///
    /// # Errors
    /// [`N2Error::Io`] when accepting fails; the errors of association set-up
    /// ([`N2Error::ConnectTimeout`], [`N2Error::TooFewStreams`], …) for one association, after
    /// which the listener goes on.
    pub async fn accept(&self) -> Result<Association, N2Error> {
        let (io, peer) = self.io.accept().await.map_err(N2Error::io("accept"))?;
        let peer = peer.unwrap_or(self.local);
        Association::establish(io, peer, &self.config).await
    }

    /// The address listened on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

async fn start_association(
    io: SctpIo,
    local: Option<SocketAddr>,
    peer: SocketAddr,
    config: &AssociationConfig,
) -> Result<Association, N2Error> {
    io.configure(&socket_setup(config))
        .map_err(N2Error::io("set socket options"))?;
    if let Some(local) = local {
        io.bind(local).map_err(N2Error::io("bind"))?;
    }
    io.connect(peer)
        .map_err(|source| N2Error::ConnectFailed { peer, source })?;
    Association::establish(io, peer, config).await
}

fn socket_setup(config: &AssociationConfig) -> SocketSetup {
    SocketSetup {
        outbound_streams: config.outbound_streams,
        max_inbound_streams: config.max_inbound_streams,
        max_init_attempts: config.max_init_attempts,
        max_init_timeout_ms: 0,
        send_buffer: config.socket_buffer(),
        recv_buffer: config.socket_buffer(),
    }
}

fn open_kernel(ipv6: bool) -> Result<KernelSctpSocket, N2Error> {
    KernelSctpSocket::open(ipv6).map_err(|e| match e.raw_os_error() {
        Some(EPROTONOSUPPORT | ESOCKTNOSUPPORT) => N2Error::KernelSctpUnavailable,
        _ => N2Error::io("open a kernel SCTP socket")(e),
    })
}

/// A UDP port free right now (bound and released; the stack binds it next).
fn free_udp_port() -> io::Result<u16> {
    Ok(UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?
        .local_addr()?
        .port())
}

const LISTEN_BACKLOG: i32 = 16;
// Linux errno values; `socket(2)` gives one of them when the protocol is missing.
const EPROTONOSUPPORT: i32 = 93;
const ESOCKTNOSUPPORT: i32 = 94;
