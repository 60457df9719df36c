//! Raw IP sockets of protocol 50: ESP without UDP encapsulation.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::batch::{self, RecvMeta, Transmit};
use crate::misc::{cvt, socket};
use crate::sockaddr::{write_storage, zeroed_storage};
use crate::udp::set_buffers;

/// A raw socket for IP protocol 50 (ESP). Needs `CAP_NET_RAW`.
///
/// The kernel delivers every ESP packet addressed to this host (or, once bound, to the bound
/// address) to every such socket: the caller filters by SPI and source.
#[derive(Debug)]
pub struct RawEspSocket {
    fd: OwnedFd,
    ipv4: bool,
}

impl RawEspSocket {
    /// Opens a raw ESP socket bound to `local` (so only packets for that address arrive), with
    /// the given buffer sizes in bytes (0: system default).
    ///
    /// # Errors
    /// Without `CAP_NET_RAW` (`EPERM`), or when `local` is not an address of this host.
    pub fn open(local: IpAddr, recv_buffer: usize, send_buffer: usize) -> io::Result<Self> {
        let ipv4 = local.is_ipv4();
        let family = if ipv4 { libc::AF_INET } else { libc::AF_INET6 };
        let fd = socket(family, libc::SOCK_RAW, libc::IPPROTO_ESP)?;
        set_buffers(fd.as_fd(), recv_buffer, send_buffer)?;
        if !local.is_unspecified() {
            let mut st = zeroed_storage();
            let len = write_storage(&SocketAddr::new(local, 0), &mut st);
            // SAFETY: `st` holds a socket address of `len` bytes and lives for the call.
            cvt(unsafe {
                libc::bind(
                    fd.as_raw_fd(),
                    (&st as *const libc::sockaddr_storage).cast(),
                    len,
                )
            })?;
        }
        Ok(Self { fd, ipv4 })
    }

    /// Sends up to [`batch::MAX_BATCH`] ESP packets (each message one packet; ports and
    /// `segment_size` are ignored) with one `sendmmsg`; returns how many the kernel took.
    ///
    /// # Errors
    /// [`io::ErrorKind::InvalidInput`] when a message lies outside `buf`; others as
    /// `sendmmsg(2)` for the first message.
    pub fn send_batch(&self, buf: &[u8], msgs: &[Transmit]) -> io::Result<usize> {
        batch::send_batch(self.fd.as_fd(), buf, msgs, false)
    }

    /// Receives without blocking up to `meta.len()` packets, packet `i` into
    /// `buf[i * stride..][..stride]`. [`RecvMeta::offset`] and `len` describe the ESP packet
    /// (from the SPI): for IPv4 the IP header the kernel delivers is checked and skipped, and a
    /// packet whose header does not parse gets `len == 0`.
    ///
    /// # Errors
    /// [`io::ErrorKind::WouldBlock`] when nothing is waiting; others as `recvmmsg(2)`.
    pub fn recv_batch(
        &self,
        buf: &mut [u8],
        stride: usize,
        meta: &mut [RecvMeta],
    ) -> io::Result<usize> {
        let n = batch::recv_batch(self.fd.as_fd(), buf, stride, meta)?;
        if self.ipv4 {
            for m in &mut meta[..n] {
                let (offset, len) = strip_ipv4_header(&buf[m.offset..m.offset + m.len]);
                m.offset += offset;
                m.len = len;
                m.segment_size = len;
            }
        }
        Ok(n)
    }

    /// Whether this is an IPv4 socket.
    pub fn is_ipv4(&self) -> bool {
        self.ipv4
    }
}

impl AsFd for RawEspSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for RawEspSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Where the payload of an IPv4 packet starts and how long it is; `(0, 0)` when the header is
/// malformed or claims more bytes than arrived.
fn strip_ipv4_header(packet: &[u8]) -> (usize, usize) {
    let Some(&first) = packet.first() else {
        return (0, 0);
    };
    let header_len = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header_len < 20 || packet.len() < header_len {
        return (0, 0);
    }
    let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    if total < header_len || total > packet.len() {
        return (0, 0);
    }
    (header_len, total - header_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_a_valid_ipv4_header_and_rejects_bad_ones() {
        let mut p = vec![0u8; 28];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&28u16.to_be_bytes());
        assert_eq!(strip_ipv4_header(&p), (20, 8));
        p[0] = 0x46; // 24-byte header with options
        assert_eq!(strip_ipv4_header(&p), (24, 4));
        p[2..4].copy_from_slice(&40u16.to_be_bytes()); // claims more than arrived
        assert_eq!(strip_ipv4_header(&p), (0, 0));
        p[0] = 0x65;
        assert_eq!(strip_ipv4_header(&p), (0, 0));
        assert_eq!(strip_ipv4_header(&[]), (0, 0));
        assert_eq!(strip_ipv4_header(&[0x4f, 0, 0]), (0, 0));
    }
}
