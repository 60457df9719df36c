//! One SCTP socket of either stack with async readiness: the kernel's through tokio's reactor
//! (`AsyncFd`), usrsctp's through its upcall waking a [`Notify`].
//!
//! usrsctp's upcall stores a permit when nobody waits, so the pattern "try, and on
//! `WouldBlock` wait for the next upcall" loses no wake-up: an upcall between the failed try
//! and the wait leaves the permit the wait consumes. A stale permit costs one extra try.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use ipsec_sys::sctp::{
    KernelSctpSocket, NotificationCodes, Received, SendInfo, SocketSetup, UpcallWaker, Usrsctp,
    UsrsctpSocket,
};
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

/// A non-blocking SCTP socket and the way to wait for it.
#[derive(Debug)]
pub(crate) enum SctpIo {
    Kernel(AsyncFd<KernelSctpSocket>),
    User {
        socket: UsrsctpSocket,
        ready: Arc<Readiness>,
    },
}

/// Wake-ups from usrsctp's upcall.
#[derive(Debug, Default)]
pub(crate) struct Readiness {
    readable: Notify,
    writable: Notify,
}

impl Readiness {
    fn waker(self: &Arc<Self>) -> UpcallWaker {
        let me = self.clone();
        Arc::new(move || {
            me.readable.notify_one();
            me.writable.notify_one();
        })
    }
}

impl SctpIo {
    /// A kernel socket, registered with the current tokio runtime.
    pub(crate) fn kernel(socket: KernelSctpSocket) -> io::Result<Self> {
        socket.into_async().map(Self::Kernel)
    }

    /// A usrsctp socket of the started `stack`.
    pub(crate) fn user(stack: &'static Usrsctp, ipv6: bool) -> io::Result<Self> {
        let ready = Arc::new(Readiness::default());
        let socket = UsrsctpSocket::open(stack, ipv6, ready.waker())?;
        Ok(Self::User { socket, ready })
    }

    pub(crate) fn codes(&self) -> NotificationCodes {
        match self {
            Self::Kernel(_) => KernelSctpSocket::NOTIFICATIONS,
            Self::User { .. } => UsrsctpSocket::NOTIFICATIONS,
        }
    }

    pub(crate) fn configure(&self, setup: &SocketSetup) -> io::Result<()> {
        match self {
            Self::Kernel(fd) => fd.get_ref().configure(setup),
            Self::User { socket, .. } => socket.configure(setup),
        }
    }

    pub(crate) fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        match self {
            Self::Kernel(fd) => fd.get_ref().bind(addr),
            Self::User { socket, .. } => socket.bind(addr),
        }
    }

    pub(crate) fn listen(&self, backlog: i32) -> io::Result<()> {
        match self {
            Self::Kernel(fd) => fd.get_ref().listen(backlog),
            Self::User { socket, .. } => socket.listen(backlog),
        }
    }

    pub(crate) fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        match self {
            Self::Kernel(fd) => fd.get_ref().connect(addr),
            Self::User { socket, .. } => socket.connect(addr),
        }
    }

    pub(crate) fn shutdown(&self) -> io::Result<()> {
        match self {
            Self::Kernel(fd) => fd.get_ref().shutdown(),
            Self::User { socket, .. } => socket.shutdown(),
        }
    }

    /// The next message or piece of one.
    pub(crate) async fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        match self {
            Self::Kernel(fd) => loop {
                let mut guard = fd.readable().await?;
                if let Ok(r) = guard.try_io(|s| s.get_ref().recv(buf)) {
                    return r;
                }
            },
            Self::User { socket, ready } => loop {
                match socket.recv(buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        ready.readable.notified().await;
                    }
                    other => return other,
                }
            },
        }
    }

    /// Sends one whole message, waiting for room in the send buffer.
    pub(crate) async fn send(&self, data: &[u8], info: SendInfo) -> io::Result<usize> {
        match self {
            Self::Kernel(fd) => loop {
                let mut guard = fd.writable().await?;
                if let Ok(r) = guard.try_io(|s| s.get_ref().send(data, info)) {
                    return r;
                }
            },
            Self::User { socket, ready } => loop {
                match socket.send(data, info) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        ready.writable.notified().await;
                    }
                    other => return other,
                }
            },
        }
    }

    /// The next association of a listening socket.
    pub(crate) async fn accept(&self) -> io::Result<(Self, Option<SocketAddr>)> {
        match self {
            Self::Kernel(fd) => loop {
                let mut guard = fd.readable().await?;
                if let Ok(r) = guard.try_io(|s| s.get_ref().accept()) {
                    let (socket, peer) = r?;
                    return Ok((Self::kernel(socket)?, peer));
                }
            },
            Self::User { socket, ready } => loop {
                let next = Arc::new(Readiness::default());
                match socket.accept(next.waker()) {
                    Ok((socket, peer)) => {
                        return Ok((
                            Self::User {
                                socket,
                                ready: next,
                            },
                            peer,
                        ));
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        ready.readable.notified().await;
                    }
                    Err(e) => return Err(e),
                }
            },
        }
    }
}
