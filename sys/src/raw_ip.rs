//! Raw IP sockets that send whole IP packets, headers included (`IPPROTO_RAW`): a load
//! generator uses them to send UDP datagrams from addresses this host does not own (floods
//! from spoofed sources, in network namespaces only).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use crate::misc::socket;
use crate::sockaddr::{write_storage, zeroed_storage};
use crate::udp::set_buffers;

/// Sends complete IPv4 or IPv6 packets. Needs `CAP_NET_RAW`.
///
/// For IPv4 the kernel fills in the header checksum and total length; for IPv6 the packet is
/// sent as given (`IPPROTO_RAW` implies `IPV6_HDRINCL`).
#[derive(Debug)]
pub struct RawIpSender {
    fd: OwnedFd,
    ipv4: bool,
}

impl RawIpSender {
    /// Opens a sender for IPv4 (`ipv4`) or IPv6 packets with a send buffer of `send_buffer`
    /// bytes (0: the system default).
    ///
    /// # Errors
    /// Without `CAP_NET_RAW` (`EPERM`).
    pub fn open(ipv4: bool, send_buffer: usize) -> io::Result<Self> {
        let family = if ipv4 { libc::AF_INET } else { libc::AF_INET6 };
        let fd = socket(family, libc::SOCK_RAW, libc::IPPROTO_RAW)?;
        set_buffers(fd.as_fd(), 0, send_buffer)?;
        Ok(Self { fd, ipv4 })
    }

    /// Sends one packet (IP header first) to `dst`, which must match the packet's destination.
    ///
    /// # Errors
    /// [`io::ErrorKind::InvalidInput`] when `dst` is of the other family; others as
    /// `sendto(2)` (`ENOBUFS` when the queue is full).
    pub fn send(&self, packet: &[u8], dst: IpAddr) -> io::Result<()> {
        if dst.is_ipv4() != self.ipv4 {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let mut st = zeroed_storage();
        let len = write_storage(&SocketAddr::new(dst, 0), &mut st);
        // SAFETY: `packet` is a valid buffer of its length and `st` a socket address of `len`
        // bytes; both live for the call.
        let r = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                packet.as_ptr().cast(),
                packet.len(),
                0,
                (&st as *const libc::sockaddr_storage).cast(),
                len,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
