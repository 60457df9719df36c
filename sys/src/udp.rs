//! UDP sockets with batched I/O, GSO on send and GRO on receive.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::batch::{self, RecvMeta, Transmit};
use crate::misc::{cvt, getsockopt_int, set_nonblocking, setsockopt_int, socket};
use crate::sockaddr::{read_storage, write_storage, zeroed_storage};

/// Options for [`UdpSocket::bind`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SocketOptions {
    /// `SO_REUSEPORT`: several sockets (one per worker) on one port; the kernel spreads flows.
    pub reuse_port: bool,
    /// `UDP_GRO`: let the kernel hand over trains of equal-sized datagrams in one read
    /// ([`RecvMeta::segment_size`] tells their size).
    pub gro: bool,
    /// `SO_RCVBUF` in bytes (0: the system default); `SO_RCVBUFFORCE` is tried first.
    pub recv_buffer: usize,
    /// `SO_SNDBUF` in bytes (0: the system default); `SO_SNDBUFFORCE` is tried first.
    pub send_buffer: usize,
}

/// A UDP socket. Sends block (backpressure); [`UdpSocket::recv_batch`] never blocks.
#[derive(Debug)]
pub struct UdpSocket {
    fd: OwnedFd,
    local: SocketAddr,
}

impl UdpSocket {
    /// Binds a socket to `addr` with `options`.
    ///
    /// # Errors
    /// When the address is in use (without `reuse_port` on every socket) or an option is refused.
    pub fn bind(addr: SocketAddr, options: &SocketOptions) -> io::Result<Self> {
        let family = if addr.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        let fd = socket(family, libc::SOCK_DGRAM, libc::IPPROTO_UDP)?;
        if options.reuse_port {
            setsockopt_int(fd.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
        }
        set_buffers(fd.as_fd(), options.recv_buffer, options.send_buffer)?;
        let mut st = zeroed_storage();
        let len = write_storage(&addr, &mut st);
        // SAFETY: `st` holds a socket address of `len` bytes and lives for the call.
        cvt(unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&st as *const libc::sockaddr_storage).cast(),
                len,
            )
        })?;
        let sock = Self {
            local: local_addr(fd.as_fd())?,
            fd,
        };
        if options.gro {
            sock.set_gro(true)?;
        }
        Ok(sock)
    }

    /// Switches UDP GRO (`UDP_GRO`).
    ///
    /// # Errors
    /// On kernels without UDP GRO (before 5.0).
    pub fn set_gro(&self, on: bool) -> io::Result<()> {
        setsockopt_int(self.fd.as_fd(), libc::SOL_UDP, libc::UDP_GRO, i32::from(on))
    }

    /// Switches `O_NONBLOCK` (it affects sends; receives here never block anyway).
    ///
    /// # Errors
    /// When `fcntl` fails.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        set_nonblocking(self.fd.as_fd(), nonblocking)
    }

    /// Sends one datagram.
    ///
    /// # Errors
    /// As `sendto(2)`.
    pub fn send_to(&self, buf: &[u8], dst: SocketAddr) -> io::Result<usize> {
        let t = Transmit {
            dst,
            offset: 0,
            len: buf.len(),
            segment_size: 0,
        };
        batch::send_batch(self.fd.as_fd(), buf, &[t], false)?;
        Ok(buf.len())
    }

    /// Sends up to [`batch::MAX_BATCH`] messages (each possibly a GSO train) with one
    /// `sendmmsg`; returns how many messages the kernel took (the caller resends the rest).
    ///
    /// # Errors
    /// [`io::ErrorKind::InvalidInput`] when a message lies outside `buf`; `EIO` when the route's
    /// device cannot do the checksum offload GSO needs (resend without `segment_size`); others
    /// as `sendmmsg(2)` for the first message.
    pub fn send_batch(&self, buf: &[u8], msgs: &[Transmit]) -> io::Result<usize> {
        batch::send_batch(self.fd.as_fd(), buf, msgs, true)
    }

    /// Receives without blocking up to `meta.len()` messages, message `i` into
    /// `buf[i * stride..][..stride]`. With GRO, give `stride` of 65,535 or more, else long trains
    /// arrive truncated.
    ///
    /// # Errors
    /// [`io::ErrorKind::WouldBlock`] when nothing is waiting; others as `recvmmsg(2)`.
    pub fn recv_batch(
        &self,
        buf: &mut [u8],
        stride: usize,
        meta: &mut [RecvMeta],
    ) -> io::Result<usize> {
        batch::recv_batch(self.fd.as_fd(), buf, stride, meta)
    }

    /// The bound address (with the port the kernel chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Whether the kernel supports UDP GSO on this socket (`UDP_SEGMENT` readable).
    pub fn is_gso_supported(&self) -> bool {
        getsockopt_int(self.fd.as_fd(), libc::SOL_UDP, libc::UDP_SEGMENT).is_ok()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Sets the socket buffer sizes, forcing past `rmem_max`/`wmem_max` when privileged.
pub(crate) fn set_buffers(fd: BorrowedFd<'_>, recv: usize, send: usize) -> io::Result<()> {
    for (size, force, plain) in [
        (recv, libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
        (send, libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
    ] {
        if size == 0 {
            continue;
        }
        let size = size.min(i32::MAX as usize) as libc::c_int;
        if setsockopt_int(fd, libc::SOL_SOCKET, force, size).is_err() {
            setsockopt_int(fd, libc::SOL_SOCKET, plain, size)?;
        }
    }
    Ok(())
}

fn local_addr(fd: BorrowedFd<'_>) -> io::Result<SocketAddr> {
    let mut st = zeroed_storage();
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `st` is a writable `sockaddr_storage` and `len` its size, both alive for the call.
    cvt(unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut st as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    read_storage(&st, len).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))
}
