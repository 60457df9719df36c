//! usrsctp (userspace SCTP, the stack browsers use for WebRTC data channels), loaded at run
//! time, for kernels without SCTP: over its own raw IP protocol-132 sockets or over UDP
//! (RFC 6951).
//!
//! Readiness comes from usrsctp's upcall, which runs on usrsctp's threads and only calls the
//! socket's [`UpcallWaker`]; every socket call is made by the owner of [`UsrsctpSocket`], in
//! non-blocking mode. See `upcall.rs` for why a closed socket's late upcall is harmless.

mod api;
mod reaper;
mod stack;
mod upcall;

use std::ffi::{c_int, c_uint, c_void};
use std::io;
use std::net::SocketAddr;
use std::ptr::NonNull;

pub use api::UsrsctpLoadError;
pub use reaper::GRACE as CLOSE_GRACE;
pub use stack::{StackConfig, StackError, Usrsctp};
pub use upcall::UpcallWaker;

use self::api::{
    Api, Event, MSG_NOTIFICATION, RcvInfo, SCTP_ASSOC_CHANGE, SCTP_EVENT, SCTP_FUTURE_ASSOC,
    SCTP_INITMSG, SCTP_NODELAY, SCTP_RECVRCVINFO, SCTP_RECVV_RCVINFO, SCTP_REMOTE_UDP_ENCAPS_PORT,
    SCTP_SENDV_SNDINFO, SCTP_SHUTDOWN_EVENT, SndInfo, So, UdpEncaps,
};
use super::kernel::SctpInitMsg;
use super::{IPPROTO_SCTP, NotificationCodes, Received, RecvInfo, SendInfo, SocketSetup};
use crate::sockaddr::{read_storage, write_storage, zeroed_storage};

/// A non-blocking one-to-one (`SOCK_STREAM`) socket of usrsctp.
#[derive(Debug)]
pub struct UsrsctpSocket {
    stack: &'static Usrsctp,
    so: NonNull<So>,
    token: usize,
}

// SAFETY: usrsctp's socket calls lock the socket internally (it is a port of FreeBSD's stack),
// so a socket may be used from any thread and from several at once; the pointer stays valid
// until `Drop` closes it, which needs exclusive ownership.
unsafe impl Send for UsrsctpSocket {}
// SAFETY: see `Send`; every method takes `&self` and maps to one locked usrsctp call.
unsafe impl Sync for UsrsctpSocket {}

impl UsrsctpSocket {
    /// usrsctp's notification numbers (`usrsctp.h`, FreeBSD's numbering).
    pub const NOTIFICATIONS: NotificationCodes = NotificationCodes {
        assoc_change: SCTP_ASSOC_CHANGE,
        shutdown_event: SCTP_SHUTDOWN_EVENT,
        comm_up: 1,
        comm_lost: 2,
        restart: 3,
        shutdown_comp: 4,
        cant_start_assoc: 5,
    };

    /// Opens a socket for IPv4 or IPv6 peers on the started `stack`; `waker` runs whenever the
    /// socket may have become readable or writable.
    ///
    /// # Errors
    /// `NotConnected` when the stack has not been started; others as usrsctp's `socket`.
    pub fn open(stack: &'static Usrsctp, ipv6: bool, waker: UpcallWaker) -> io::Result<Self> {
        if stack.running().is_none() {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the usrsctp stack has not been started",
            ));
        }
        let family = if ipv6 { libc::AF_INET6 } else { libc::AF_INET };
        let null = std::ptr::null();
        // SAFETY: the stack is started; no receive or send callbacks (null), so usrsctp keeps
        // received data queued for `recvv`.
        let so = unsafe {
            (stack.api.socket)(
                family,
                libc::SOCK_STREAM,
                IPPROTO_SCTP,
                null,
                null,
                0,
                std::ptr::null_mut(),
            )
        };
        let so = NonNull::new(so).ok_or_else(io::Error::last_os_error)?;
        // SAFETY: `so` is a socket usrsctp just returned and nobody else holds.
        unsafe { Self::adopt(stack, so, waker) }
    }

    /// Asks for streams, subscribes to association and shutdown notifications and to the
    /// receive information of each message, and turns bundling delays off.
    ///
    /// # Errors
    /// As usrsctp's `setsockopt`.
    pub fn configure(&self, setup: &SocketSetup) -> io::Result<()> {
        let init = SctpInitMsg {
            sinit_num_ostreams: setup.outbound_streams,
            sinit_max_instreams: setup.max_inbound_streams,
            sinit_max_attempts: setup.max_init_attempts,
            sinit_max_init_timeo: setup.max_init_timeout_ms,
        };
        self.set_option(IPPROTO_SCTP, SCTP_INITMSG, &init)?;
        for kind in [SCTP_ASSOC_CHANGE, SCTP_SHUTDOWN_EVENT] {
            let event = Event {
                se_assoc_id: SCTP_FUTURE_ASSOC,
                se_type: kind,
                se_on: 1,
            };
            self.set_option(IPPROTO_SCTP, SCTP_EVENT, &event)?;
        }
        let on: c_int = 1;
        self.set_option(IPPROTO_SCTP, SCTP_RECVRCVINFO, &on)?;
        self.set_option(IPPROTO_SCTP, SCTP_NODELAY, &on)?;
        for (size, name) in [
            (setup.send_buffer, libc::SO_SNDBUF),
            (setup.recv_buffer, libc::SO_RCVBUF),
        ] {
            if size > 0 {
                let size = c_int::try_from(size).unwrap_or(c_int::MAX);
                self.set_option(libc::SOL_SOCKET, name, &size)?;
            }
        }
        Ok(())
    }

    /// Sends to the peer over UDP encapsulation to its UDP `port` (RFC 6951) instead of raw IP.
    /// Set before `connect`; an accepting socket learns the port from the peer's packets.
    ///
    /// # Errors
    /// As usrsctp's `setsockopt`.
    pub fn set_remote_udp_port(&self, port: u16) -> io::Result<()> {
        let encaps = UdpEncaps {
            sue_address: zeroed_storage(),
            sue_assoc_id: SCTP_FUTURE_ASSOC,
            sue_port: port.to_be(),
        };
        self.set_option(IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &encaps)
    }

    /// Binds the local address.
    ///
    /// # Errors
    /// As usrsctp's `bind` (`EADDRINUSE` for a port another socket of the stack holds).
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        let mut st = zeroed_storage();
        let len = write_storage(&addr, &mut st);
        // SAFETY: `st` holds a socket address of `len` bytes and lives for the call.
        cvt(unsafe { (self.api().bind)(self.so.as_ptr(), (&raw mut st).cast(), len) })
    }

    /// Starts listening for associations.
    ///
    /// # Errors
    /// As usrsctp's `listen`.
    pub fn listen(&self, backlog: i32) -> io::Result<()> {
        // SAFETY: a live socket and an integer.
        cvt(unsafe { (self.api().listen)(self.so.as_ptr(), backlog) })
    }

    /// Starts the association (INIT); completion shows as an `SCTP_COMM_UP` or
    /// `SCTP_CANT_STR_ASSOC` notification.
    ///
    /// # Errors
    /// As usrsctp's `connect`, except that `EINPROGRESS` is success.
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        let mut st = zeroed_storage();
        let len = write_storage(&addr, &mut st);
        // SAFETY: `st` holds a socket address of `len` bytes and lives for the call.
        match cvt(unsafe { (self.api().connect)(self.so.as_ptr(), (&raw mut st).cast(), len) }) {
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(()),
            other => other,
        }
    }

    /// Takes the next established association off a listening socket; `waker` serves the new
    /// socket as `open`'s does.
    ///
    /// # Errors
    /// `WouldBlock` when none is waiting; others as usrsctp's `accept`.
    pub fn accept(&self, waker: UpcallWaker) -> io::Result<(Self, Option<SocketAddr>)> {
        let mut st = zeroed_storage();
        let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `st` and `len` are live and `len` is the size of `st`.
        let so = unsafe { (self.api().accept)(self.so.as_ptr(), (&raw mut st).cast(), &mut len) };
        let so = NonNull::new(so).ok_or_else(io::Error::last_os_error)?;
        // SAFETY: usrsctp just returned `so`, a new socket nobody else holds.
        let socket = unsafe { Self::adopt(self.stack, so, waker)? };
        Ok((socket, read_storage(&st, len)))
    }

    /// Sends `data` as one message on `info.stream` with `info.ppid`.
    ///
    /// # Errors
    /// `WouldBlock` when the send buffer cannot take the whole message now; `EMSGSIZE` when it
    /// never could; `EINVAL` for a stream the association does not have; `ENOTCONN`/`EPIPE`
    /// once it is gone.
    pub fn send(&self, data: &[u8], info: SendInfo) -> io::Result<usize> {
        let mut snd = SndInfo {
            snd_sid: info.stream,
            // usrsctp passes the PPID through unchanged: network order goes on the wire.
            snd_ppid: info.ppid.to_be(),
            ..SndInfo::default()
        };
        // SAFETY: `data` is readable for its length and `snd` is a live `sctp_sndinfo` of the
        // size given; no destination address (connected socket).
        let n = unsafe {
            (self.api().sendv)(
                self.so.as_ptr(),
                data.as_ptr().cast(),
                data.len(),
                std::ptr::null_mut(),
                0,
                (&raw mut snd).cast(),
                size_of::<SndInfo>() as libc::socklen_t,
                SCTP_SENDV_SNDINFO,
                0,
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
        let mut rcv = RcvInfo::default();
        let mut infolen = size_of::<RcvInfo>() as libc::socklen_t;
        let mut infotype: c_uint = 0;
        let mut flags: c_int = 0;
        // SAFETY: `buf` is writable for its length; `rcv`, `infolen`, `infotype` and `flags` are
        // live and `infolen` is the size of `rcv`; no source address is asked for.
        let n = unsafe {
            (self.api().recvv)(
                self.so.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                (&raw mut rcv).cast(),
                &mut infolen,
                &mut infotype,
                &mut flags,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let len = n as usize;
        let end_of_record = flags & libc::MSG_EOR != 0;
        if flags & MSG_NOTIFICATION != 0 {
            return Ok(Received::Notification { len, end_of_record });
        }
        if len == 0 && !end_of_record {
            return Ok(Received::Closed);
        }
        let info = (infotype == SCTP_RECVV_RCVINFO).then(|| RecvInfo {
            stream: rcv.rcv_sid,
            ppid: u32::from_be(rcv.rcv_ppid),
        });
        Ok(Received::Data {
            len,
            info,
            end_of_record,
        })
    }

    /// Starts the graceful SHUTDOWN once queued data is acknowledged.
    ///
    /// # Errors
    /// As usrsctp's `shutdown`.
    pub fn shutdown(&self) -> io::Result<()> {
        // SAFETY: a live socket and a constant.
        cvt(unsafe { (self.api().shutdown)(self.so.as_ptr(), libc::SHUT_WR) })
    }

    /// Takes ownership of `so`: registers `waker`, installs the upcall, makes it non-blocking.
    ///
    /// # Safety
    /// `so` must be a live socket of `stack` that nothing else holds or will close.
    unsafe fn adopt(
        stack: &'static Usrsctp,
        so: NonNull<So>,
        waker: UpcallWaker,
    ) -> io::Result<Self> {
        // From here on, `Drop` closes the socket and forgets the token, also on error.
        let socket = Self {
            stack,
            so,
            token: upcall::register(waker),
        };
        let api = &stack.api;
        // SAFETY: a live socket; the argument is a token, not a pointer (see upcall.rs).
        cvt(unsafe { (api.set_upcall)(so.as_ptr(), Some(upcall::upcall), socket.token as _) })?;
        // SAFETY: a live socket and an integer.
        cvt(unsafe { (api.set_non_blocking)(so.as_ptr(), 1) })?;
        Ok(socket)
    }

    fn api(&self) -> &'static Api {
        &self.stack.api
    }

    fn set_option<T>(&self, level: c_int, name: c_int, value: &T) -> io::Result<()> {
        // SAFETY: `value` is a live `T` and the length is its exact size.
        cvt(unsafe {
            (self.api().setsockopt)(
                self.so.as_ptr(),
                level,
                name,
                (value as *const T).cast::<c_void>(),
                size_of::<T>() as libc::socklen_t,
            )
        })
    }
}

impl Drop for UsrsctpSocket {
    fn drop(&mut self) {
        // The upcall itself stays installed: usrsctp 0.9.5 checks a socket's upcall for null
        // and then calls it without a lock, so clearing it races into a call through null.
        // Closed by the reaper once the association is over (see reaper.rs for why).
        reaper::hand_over(self.api(), self.so, self.token);
    }
}

fn cvt(r: c_int) -> io::Result<()> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
