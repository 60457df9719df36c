//! `sendmmsg`/`recvmmsg` over one caller-owned buffer, shared by the UDP and raw sockets.
//!
//! The C structures (`mmsghdr`, `iovec`, addresses, control buffers) live on the stack of each
//! call and point into the caller's buffer only for the duration of the system call, so nothing
//! here is allocated per call and no type holds a raw pointer between calls.

use std::io;
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, BorrowedFd};

use crate::sockaddr::{read_storage, write_storage};

/// Most datagrams handled by one `sendmmsg`/`recvmmsg` call; longer slices are cut to this.
pub const MAX_BATCH: usize = 64;

/// One datagram (or, with `segment_size`, one GSO train of datagrams) to send: `len` bytes at
/// `offset` in the buffer passed along with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Destination (the port is ignored by raw sockets).
    pub dst: SocketAddr,
    /// Start of the bytes in the buffer.
    pub offset: usize,
    /// Number of bytes.
    pub len: usize,
    /// UDP GSO: the kernel cuts the bytes into datagrams of this size (the last may be shorter).
    /// 0 sends one datagram. Ignored by raw sockets.
    pub segment_size: u16,
}

/// What one received datagram is: `len` bytes at `offset` in the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvMeta {
    /// Sender.
    pub src: SocketAddr,
    /// Start of the payload in the buffer (after an IPv4 header for raw IPv4 sockets).
    pub offset: usize,
    /// Payload length.
    pub len: usize,
    /// With UDP GRO, the size of each coalesced datagram (the last may be shorter); otherwise
    /// equal to `len`.
    pub segment_size: usize,
    /// The datagram did not fit in its slot and was cut: drop it.
    pub truncated: bool,
}

impl Default for RecvMeta {
    fn default() -> Self {
        Self {
            src: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
            offset: 0,
            len: 0,
            segment_size: 0,
            truncated: false,
        }
    }
}

/// Sends up to [`MAX_BATCH`] messages with one `sendmmsg`; returns how many the kernel took.
pub(crate) fn send_batch(
    fd: BorrowedFd<'_>,
    buf: &[u8],
    msgs: &[Transmit],
    allow_gso: bool,
) -> io::Result<usize> {
    let n = msgs.len().min(MAX_BATCH);
    if n == 0 {
        return Ok(0);
    }
    for m in &msgs[..n] {
        let in_bounds = m
            .offset
            .checked_add(m.len)
            .is_some_and(|end| end <= buf.len());
        if !in_bounds {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "transmit outside buffer",
            ));
        }
    }
    let mut hdrs: [libc::mmsghdr; MAX_BATCH] = zeroed();
    let mut iovs: [libc::iovec; MAX_BATCH] = zeroed();
    let mut addrs: [libc::sockaddr_storage; MAX_BATCH] = zeroed();
    let mut cmsgs: [CmsgBuf; MAX_BATCH] = [CmsgBuf([0; CMSG_BUF_LEN]); MAX_BATCH];
    let mut control_lens = [0usize; MAX_BATCH];
    for (i, m) in msgs[..n].iter().enumerate() {
        iovs[i] = libc::iovec {
            // The kernel only reads through this pointer on send; `*mut` is what the C type says.
            iov_base: buf[m.offset..].as_ptr() as *mut libc::c_void,
            iov_len: m.len,
        };
        hdrs[i].msg_hdr.msg_namelen = write_storage(&m.dst, &mut addrs[i]);
        if allow_gso && m.segment_size != 0 && m.len > usize::from(m.segment_size) {
            control_lens[i] = cmsgs[i].write_u16(libc::SOL_UDP, libc::UDP_SEGMENT, m.segment_size);
        }
    }
    // Pointers are taken only once every array is written, and the arrays are not touched again
    // until the call returns.
    let (iov_ptr, addr_ptr, cmsg_ptr) = (iovs.as_mut_ptr(), addrs.as_mut_ptr(), cmsgs.as_mut_ptr());
    for (i, h) in hdrs[..n].iter_mut().enumerate() {
        let hdr = &mut h.msg_hdr;
        hdr.msg_name = addr_ptr.wrapping_add(i).cast();
        hdr.msg_iov = iov_ptr.wrapping_add(i);
        hdr.msg_iovlen = 1;
        if control_lens[i] != 0 {
            hdr.msg_control = cmsg_ptr.wrapping_add(i).cast();
            hdr.msg_controllen = control_lens[i];
        }
    }
    for _ in 0..EINTR_RETRIES {
        // SAFETY: `hdrs[..n]` are initialised message headers whose name, iovec and control
        // pointers point into `addrs`, `iovs`, `cmsgs` and `buf`, all alive and unmoved until this
        // call returns; every iovec lies inside `buf` (checked above) and the kernel only reads
        // them on send. `n <= MAX_BATCH` fits in `c_uint`.
        let r = unsafe { libc::sendmmsg(fd.as_raw_fd(), hdrs.as_mut_ptr(), n as libc::c_uint, 0) };
        if r >= 0 {
            return Ok(r as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    Err(io::Error::from(io::ErrorKind::Interrupted))
}

/// Receives up to `meta.len()` (at most [`MAX_BATCH`]) datagrams without blocking, datagram `i`
/// into `buf[i * stride..(i + 1) * stride]`; returns how many arrived
/// ([`io::ErrorKind::WouldBlock`] when none is waiting).
pub(crate) fn recv_batch(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    stride: usize,
    meta: &mut [RecvMeta],
) -> io::Result<usize> {
    if stride == 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "zero stride"));
    }
    let n = meta.len().min(buf.len() / stride).min(MAX_BATCH);
    if n == 0 {
        return Ok(0);
    }
    let mut hdrs: [libc::mmsghdr; MAX_BATCH] = zeroed();
    let mut iovs: [libc::iovec; MAX_BATCH] = zeroed();
    let mut addrs: [libc::sockaddr_storage; MAX_BATCH] = zeroed();
    let mut cmsgs: [CmsgBuf; MAX_BATCH] = [CmsgBuf([0; CMSG_BUF_LEN]); MAX_BATCH];
    let base = buf.as_mut_ptr();
    let (iov_ptr, addr_ptr, cmsg_ptr) = (iovs.as_mut_ptr(), addrs.as_mut_ptr(), cmsgs.as_mut_ptr());
    for (i, h) in hdrs[..n].iter_mut().enumerate() {
        let iov = libc::iovec {
            iov_base: base.wrapping_add(i * stride).cast(),
            iov_len: stride,
        };
        // SAFETY: `i < n <= MAX_BATCH`, so `iov_ptr + i` is inside `iovs`, which nothing else
        // borrows while these raw pointers are in use.
        unsafe { iov_ptr.add(i).write(iov) };
        let hdr = &mut h.msg_hdr;
        hdr.msg_name = addr_ptr.wrapping_add(i).cast();
        hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        hdr.msg_iov = iov_ptr.wrapping_add(i);
        hdr.msg_iovlen = 1;
        hdr.msg_control = cmsg_ptr.wrapping_add(i).cast();
        hdr.msg_controllen = CMSG_BUF_LEN;
    }
    let mut received = None;
    for _ in 0..EINTR_RETRIES {
        // SAFETY: `hdrs[..n]` point at `n` disjoint `stride`-byte slots of `buf` (exclusively
        // borrowed; `n * stride <= buf.len()`), at `addrs` and at `cmsgs`, all alive until the
        // call returns and each as large as the length given to the kernel. A null timeout is
        // allowed.
        let r = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if r >= 0 {
            received = Some(r as usize);
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let Some(got) = received else {
        return Err(io::Error::from(io::ErrorKind::Interrupted));
    };
    for i in 0..got {
        let h = &hdrs[i];
        let len = (h.msg_len as usize).min(stride);
        let gro = cmsgs[i].find_i32(h.msg_hdr.msg_controllen, libc::SOL_UDP, libc::UDP_GRO);
        meta[i] = RecvMeta {
            src: read_storage(&addrs[i], h.msg_hdr.msg_namelen).unwrap_or(meta[i].src),
            offset: i * stride,
            len,
            segment_size: match gro {
                Some(s) if s > 0 => (s as usize).min(len.max(1)),
                _ => len,
            },
            truncated: h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
        };
    }
    Ok(got)
}

/// An all-zero array of C structs.
fn zeroed<T: ZeroValid>() -> T {
    // SAFETY: `ZeroValid` is implemented only for arrays of C structs made of integers, byte
    // arrays and raw pointers, for which all-zero bytes are a valid value (null pointers).
    unsafe { MaybeUninit::<T>::zeroed().assume_init() }
}

/// Types for which all-zero bytes are a valid value.
trait ZeroValid {}
impl ZeroValid for [libc::mmsghdr; MAX_BATCH] {}
impl ZeroValid for [libc::iovec; MAX_BATCH] {}
impl ZeroValid for [libc::sockaddr_storage; MAX_BATCH] {}

/// A control-message buffer, aligned for `cmsghdr`.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct CmsgBuf([u8; CMSG_BUF_LEN]);

impl CmsgBuf {
    /// Writes one control message carrying a `u16`; returns the control length.
    fn write_u16(&mut self, level: i32, kind: i32, value: u16) -> usize {
        let data_len = size_of::<u16>();
        let cmsg_len = CMSG_HDR_LEN + data_len;
        self.0[..8].copy_from_slice(&cmsg_len.to_ne_bytes());
        self.0[8..12].copy_from_slice(&level.to_ne_bytes());
        self.0[12..16].copy_from_slice(&kind.to_ne_bytes());
        self.0[CMSG_HDR_LEN..cmsg_len].copy_from_slice(&value.to_ne_bytes());
        align8(cmsg_len)
    }

    /// The `i32` payload of the first control message of `level`/`kind` in the first
    /// `controllen` bytes the kernel wrote.
    fn find_i32(&self, controllen: usize, level: i32, kind: i32) -> Option<i32> {
        let end = controllen.min(CMSG_BUF_LEN);
        let mut at = 0;
        while at + CMSG_HDR_LEN <= end {
            let b = &self.0[at..];
            let len = usize::from_ne_bytes(b[..8].try_into().ok()?);
            let l = i32::from_ne_bytes(b[8..12].try_into().ok()?);
            let k = i32::from_ne_bytes(b[12..16].try_into().ok()?);
            if len < CMSG_HDR_LEN || at + len > end {
                return None;
            }
            if l == level && k == kind && len >= CMSG_HDR_LEN + 4 {
                let v = &b[CMSG_HDR_LEN..CMSG_HDR_LEN + 4];
                return Some(i32::from_ne_bytes(v.try_into().ok()?));
            }
            at += align8(len);
        }
        None
    }
}

fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// Size of `struct cmsghdr` on 64-bit Linux (`size_t` length, two `int`s), already aligned.
const CMSG_HDR_LEN: usize = 16;
const CMSG_BUF_LEN: usize = 64;
const EINTR_RETRIES: usize = 16;

const _: () = assert!(size_of::<libc::cmsghdr>() == CMSG_HDR_LEN);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmsg_write_then_find() {
        let mut c = CmsgBuf([0; CMSG_BUF_LEN]);
        let len = c.write_u16(libc::SOL_UDP, libc::UDP_SEGMENT, 1400);
        assert_eq!(len, 24);
        // A u16 payload is too short to be read as an i32.
        assert_eq!(c.find_i32(len, libc::SOL_UDP, libc::UDP_SEGMENT), None);
        c.0[..8].copy_from_slice(&20usize.to_ne_bytes());
        c.0[16..20].copy_from_slice(&1234i32.to_ne_bytes());
        assert_eq!(c.find_i32(24, libc::SOL_UDP, libc::UDP_SEGMENT), Some(1234));
        assert_eq!(c.find_i32(24, libc::SOL_UDP, libc::UDP_GRO), None);
        // A length running past the control data is rejected rather than followed.
        c.0[..8].copy_from_slice(&200usize.to_ne_bytes());
        assert_eq!(c.find_i32(24, libc::SOL_UDP, libc::UDP_SEGMENT), None);
    }
}
