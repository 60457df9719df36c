//! The kernel's SCTP, one-to-one style (`SOCK_STREAM`, RFC 6458 §4): one association per
//! socket, stream and PPID per message in control messages.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::cmsg::{CmsgBuf, read_rcvinfo, write_sndinfo};
use super::{IPPROTO_SCTP, NotificationCodes, Received, SendInfo, SocketSetup};
use crate::misc::{cvt, setsockopt_int, socket};
use crate::sockaddr::{read_storage, write_storage, zeroed_storage};

/// A non-blocking one-to-one SCTP socket of the kernel.
#[derive(Debug)]
pub struct KernelSctpSocket {
    fd: OwnedFd,
}

impl KernelSctpSocket {
    /// Linux's notification numbers (`<linux/sctp.h>`: `SCTP_SN_TYPE_BASE` is `1 << 15`).
    pub const NOTIFICATIONS: NotificationCodes = NotificationCodes {
        assoc_change: 0x8001,
        shutdown_event: 0x8005,
        comm_up: 0,
        comm_lost: 1,
        restart: 2,
        shutdown_comp: 3,
        cant_start_assoc: 4,
    };

    /// Opens a non-blocking SCTP socket for IPv4 or IPv6 peers.
    ///
    /// # Errors
    /// `EPROTONOSUPPORT` when the kernel has no SCTP (not built, module not loaded or
    /// blacklisted); others as `socket(2)`.
    pub fn open(ipv6: bool) -> io::Result<Self> {
        let family = if ipv6 { libc::AF_INET6 } else { libc::AF_INET };
        let fd = socket(
            family,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK,
            IPPROTO_SCTP,
        )?;
        Ok(Self { fd })
    }

    /// Asks for streams, subscribes to association and shutdown notifications, asks for the
    /// receive information of each message and turns Nagle-like bundling delays off.
    ///
    /// # Errors
    /// As `setsockopt(2)`.
    pub fn configure(&self, setup: &SocketSetup) -> io::Result<()> {
        let init = SctpInitMsg {
            sinit_num_ostreams: setup.outbound_streams,
            sinit_max_instreams: setup.max_inbound_streams,
            sinit_max_attempts: setup.max_init_attempts,
            sinit_max_init_timeo: setup.max_init_timeout_ms,
        };
        self.set_option(SCTP_INITMSG, &init)?;
        // `struct sctp_event_subscribe` up to `sctp_shutdown_event`: every kernel accepts a
        // prefix of it, unlike SCTP_EVENT (Linux 5.0 and later only).
        let events: [u8; 6] = [0, 1, 0, 0, 0, 1];
        self.set_option(SCTP_EVENTS, &events)?;
        setsockopt_int(self.fd.as_fd(), IPPROTO_SCTP, SCTP_RECVRCVINFO, 1)?;
        setsockopt_int(self.fd.as_fd(), IPPROTO_SCTP, SCTP_NODELAY, 1)?;
        crate::udp::set_buffers(
            self.fd.as_fd(),
            setup.recv_buffer as usize,
            setup.send_buffer as usize,
        )
    }

    /// Binds the local address (a listener's, or a client's chosen source).
    ///
    /// # Errors
    /// As `bind(2)`.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        setsockopt_int(self.fd.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
        let mut st = zeroed_storage();
        let len = write_storage(&addr, &mut st);
        // SAFETY: `st` holds a socket address of `len` bytes and lives for the call.
        cvt(unsafe { libc::bind(self.fd.as_raw_fd(), (&raw const st).cast(), len) }).map(drop)
    }

    /// Starts listening for associations.
    ///
    /// # Errors
    /// As `listen(2)`.
    pub fn listen(&self, backlog: i32) -> io::Result<()> {
        // SAFETY: listen(2) on an owned fd; no pointers.
        cvt(unsafe { libc::listen(self.fd.as_raw_fd(), backlog) }).map(drop)
    }

    /// Starts the association (INIT). Completion shows as an `SCTP_COMM_UP` or
    /// `SCTP_CANT_STR_ASSOC` notification, or as a socket error.
    ///
    /// # Errors
    /// As `connect(2)`, except that `EINPROGRESS` is success.
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        let mut st = zeroed_storage();
        let len = write_storage(&addr, &mut st);
        // SAFETY: `st` holds a socket address of `len` bytes and lives for the call.
        let r = unsafe { libc::connect(self.fd.as_raw_fd(), (&raw const st).cast(), len) };
        match cvt(r) {
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(()),
            other => other.map(drop),
        }
    }

    /// Takes the next established association off a listening socket, non-blocking.
    ///
    /// # Errors
    /// `WouldBlock` when none is waiting; others as `accept4(2)`.
    pub fn accept(&self) -> io::Result<(Self, Option<SocketAddr>)> {
        let mut st = zeroed_storage();
        let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `st` and `len` are live and `len` is the size of `st`.
        let fd = cvt(unsafe {
            libc::accept4(
                self.fd.as_raw_fd(),
                (&raw mut st).cast(),
                &mut len,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        })?;
        // SAFETY: accept4(2) just returned `fd`; nobody else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok((Self { fd }, read_storage(&st, len)))
    }

    /// The pending socket error (`SO_ERROR`), cleared by reading it.
    ///
    /// # Errors
    /// As `getsockopt(2)`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        let e = crate::misc::getsockopt_int(self.fd.as_fd(), libc::SOL_SOCKET, libc::SO_ERROR)?;
        Ok((e != 0).then(|| io::Error::from_raw_os_error(e)))
    }

    /// Sends `data` as one message on `info.stream` with `info.ppid`.
    ///
    /// # Errors
    /// `WouldBlock` when the send buffer cannot take the message now; `EINVAL` for a stream the
    /// association does not have; `EPIPE`/`ENOTCONN` once it is gone.
    pub fn send(&self, data: &[u8], info: SendInfo) -> io::Result<usize> {
        let mut cbuf = CmsgBuf::new();
        let clen = write_sndinfo(&mut cbuf, info);
        let mut iov = libc::iovec {
            iov_base: data.as_ptr().cast_mut().cast(),
            iov_len: data.len(),
        };
        // SAFETY: a zeroed msghdr is valid; its pointers are set below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.0.as_mut_ptr().cast();
        msg.msg_controllen = clen;
        // SAFETY: `msg` points at `iov` (over `data`, only read by the kernel) and `cbuf`, all
        // live for the call.
        let n = unsafe {
            libc::sendmsg(
                self.fd.as_raw_fd(),
                &msg,
                libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    /// Reads the next message or piece of one into `buf`.
    ///
    /// # Errors
    /// `WouldBlock` when nothing is queued; `ECONNRESET`, `ETIMEDOUT` and the like when the
    /// association failed.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        let mut cbuf = CmsgBuf::new();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: a zeroed msghdr is valid; its pointers are set below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.0.as_mut_ptr().cast();
        msg.msg_controllen = cbuf.0.len();
        // SAFETY: `msg` points at `iov` (over `buf`, exclusively borrowed) and `cbuf`, all live
        // for the call.
        let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let len = n as usize;
        let end_of_record = msg.msg_flags & libc::MSG_EOR != 0;
        if msg.msg_flags & MSG_NOTIFICATION != 0 {
            return Ok(Received::Notification { len, end_of_record });
        }
        if len == 0 && !end_of_record {
            return Ok(Received::Closed);
        }
        // SAFETY: recvmsg(2) filled `msg`'s control buffer (`cbuf`, aligned, still live).
        let info = unsafe { read_rcvinfo(&msg) };
        Ok(Received::Data {
            len,
            info,
            end_of_record,
        })
    }

    /// Starts the graceful SHUTDOWN once queued data is acknowledged (`shutdown(SHUT_WR)`).
    ///
    /// # Errors
    /// As `shutdown(2)`.
    pub fn shutdown(&self) -> io::Result<()> {
        // SAFETY: shutdown(2) on an owned fd; no pointers.
        cvt(unsafe { libc::shutdown(self.fd.as_raw_fd(), libc::SHUT_WR) }).map(drop)
    }

    /// Registers the socket with the current tokio runtime's reactor.
    ///
    /// # Errors
    /// When the reactor refuses the fd.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    #[cfg(feature = "tokio")]
    pub fn into_async(self) -> io::Result<tokio::io::unix::AsyncFd<Self>> {
        use tokio::io::Interest;
        let interest = Interest::READABLE | Interest::WRITABLE;
        // SAFETY: `self` owns its fd (an `OwnedFd` never replaced), so the fd stays open and the
        // same for as long as the `AsyncFd` owns `self`, and `as_raw_fd` always returns it.
        unsafe { tokio::io::unix::AsyncFd::register_with_interest(self, interest) }
            .map_err(|e| e.into_parts().1)
    }

    fn set_option<T>(&self, name: libc::c_int, value: &T) -> io::Result<()> {
        // SAFETY: `value` is a live `T` and the length is its exact size.
        cvt(unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                IPPROTO_SCTP,
                name,
                (value as *const T).cast(),
                size_of::<T>() as libc::socklen_t,
            )
        })
        .map(drop)
    }
}

impl AsFd for KernelSctpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for KernelSctpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// `struct sctp_initmsg` (the same on every stack).
#[repr(C)]
pub(super) struct SctpInitMsg {
    pub(super) sinit_num_ostreams: u16,
    pub(super) sinit_max_instreams: u16,
    pub(super) sinit_max_attempts: u16,
    pub(super) sinit_max_init_timeo: u16,
}

// Linux socket option names (`<linux/sctp.h>`).
const SCTP_INITMSG: libc::c_int = 2;
const SCTP_NODELAY: libc::c_int = 3;
const SCTP_EVENTS: libc::c_int = 11;
const SCTP_RECVRCVINFO: libc::c_int = 32;
/// Linux's `MSG_NOTIFICATION`.
const MSG_NOTIFICATION: libc::c_int = 0x8000;
