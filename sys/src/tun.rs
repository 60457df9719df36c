//! TUN devices: `IFF_TUN | IFF_NO_PI`, optionally `IFF_VNET_HDR` with offloads and
//! `IFF_MULTI_QUEUE`.

use std::ffi::CStr;
use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::interface::IfReq;
use crate::misc::{cvt, set_nonblocking};

/// Offloads a TUN device accepts from the kernel (`TUNSETOFFLOAD`): with them the kernel hands us
/// packets with a partial checksum and TCP/UDP super-packets to segment ourselves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offloads(u32);

impl Offloads {
    /// No offload: the kernel segments and checksums everything itself.
    pub const NONE: Self = Self(0);
    /// Partial checksums (`TUN_F_CSUM`), required by every other offload.
    pub const CSUM: Self = Self(libc::TUN_F_CSUM);
    /// TCP segmentation for IPv4 (`TUN_F_TSO4`).
    pub const TSO4: Self = Self(libc::TUN_F_TSO4);
    /// TCP segmentation for IPv6 (`TUN_F_TSO6`).
    pub const TSO6: Self = Self(libc::TUN_F_TSO6);
    /// UDP segmentation for IPv4 and IPv6 together (`TUN_F_USO4 | TUN_F_USO6`: the kernel
    /// accepts them only as a pair).
    pub const USO: Self = Self(libc::TUN_F_USO4 | libc::TUN_F_USO6);
    /// Checksum plus TCP segmentation for both address families.
    pub const TCP: Self = Self(libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6);

    /// Both sets.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether every flag of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The `TUN_F_*` bits.
    pub const fn bits(self) -> u32 {
        self.0
    }
}

/// How to open a TUN device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunOptions {
    /// Prefix every packet with a [`crate::VirtioNetHdr`] (`IFF_VNET_HDR`); needed for offloads.
    pub vnet_hdr: bool,
    /// Allow several queues on the device (`IFF_MULTI_QUEUE`); each [`Tun::open`] with the same
    /// name adds one.
    pub multi_queue: bool,
    /// Offloads to enable (only with `vnet_hdr`).
    pub offloads: Offloads,
}

impl Default for TunOptions {
    fn default() -> Self {
        Self {
            vnet_hdr: true,
            multi_queue: true,
            offloads: Offloads::TCP,
        }
    }
}

/// One queue of a TUN device.
#[derive(Debug)]
pub struct Tun {
    fd: OwnedFd,
    name: String,
    vnet_hdr: bool,
}

impl Tun {
    /// Creates the device `name` (or attaches one more queue to it, with
    /// [`TunOptions::multi_queue`]). An empty name lets the kernel choose (`tun%d`). The fd is
    /// blocking; see [`Tun::set_nonblocking`].
    ///
    /// # Errors
    /// When `/dev/net/tun` cannot be opened (no `CAP_NET_ADMIN`), the name is too long, or the
    /// kernel refuses the flags or offloads.
    pub fn open(name: &str, options: &TunOptions) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun")?;
        let fd = OwnedFd::from(file);
        let mut flags = libc::IFF_TUN | libc::IFF_NO_PI;
        if options.vnet_hdr {
            flags |= libc::IFF_VNET_HDR;
        }
        if options.multi_queue {
            flags |= libc::IFF_MULTI_QUEUE;
        }
        let mut req = IfReq::new(name)?;
        req.set_short(flags as i16);
        // SAFETY: TUNSETIFF reads and writes a `struct ifreq`; `IfReq` has its exact size and
        // layout and outlives the call.
        cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, req.as_mut_ptr()) })?;
        let tun = Self {
            fd,
            name: req.name(),
            vnet_hdr: options.vnet_hdr,
        };
        if options.vnet_hdr {
            tun.set_offloads(options.offloads)?;
        }
        Ok(tun)
    }

    /// Opens `queues` queues of one multi-queue device (one per worker).
    ///
    /// # Errors
    /// As [`Tun::open`].
    pub fn open_queues(name: &str, options: &TunOptions, queues: usize) -> io::Result<Vec<Self>> {
        let options = TunOptions {
            multi_queue: queues > 1 || options.multi_queue,
            ..*options
        };
        let first = Self::open(name, &options)?;
        let name = first.name.clone();
        let mut all = Vec::with_capacity(queues.max(1));
        all.push(first);
        for _ in 1..queues {
            all.push(Self::open(&name, &options)?);
        }
        Ok(all)
    }

    /// Sets the offloads (`TUNSETOFFLOAD`).
    ///
    /// # Errors
    /// When the kernel refuses a flag (`EINVAL`), for example `TUN_F_USO4` without `TUN_F_USO6`.
    pub fn set_offloads(&self, offloads: Offloads) -> io::Result<()> {
        // SAFETY: TUNSETOFFLOAD takes its argument by value (an unsigned int); no memory is
        // accessed through it.
        let r = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::TUNSETOFFLOAD,
                offloads.bits() as libc::c_ulong,
            )
        };
        cvt(r).map(drop)
    }

    /// Detaches (`false`) or re-attaches (`true`) this queue (`TUNSETQUEUE`).
    ///
    /// # Errors
    /// When the device is not multi-queue or the kernel refuses.
    pub fn set_queue_attached(&self, attached: bool) -> io::Result<()> {
        let mut req = IfReq::new("")?;
        let flags = if attached {
            libc::IFF_ATTACH_QUEUE
        } else {
            libc::IFF_DETACH_QUEUE
        };
        req.set_short(flags as i16);
        // SAFETY: TUNSETQUEUE reads a `struct ifreq`, which `req` is, alive for the call.
        cvt(unsafe { libc::ioctl(self.fd.as_raw_fd(), libc::TUNSETQUEUE, req.as_mut_ptr()) })
            .map(drop)
    }

    /// Switches `O_NONBLOCK`.
    ///
    /// # Errors
    /// When `fcntl` fails.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        set_nonblocking(self.fd.as_fd(), nonblocking)
    }

    /// Reads one packet (preceded by its virtio-net header with `vnet_hdr`). Returns
    /// [`io::ErrorKind::WouldBlock`] on a non-blocking fd with nothing queued.
    ///
    /// # Errors
    /// As `read(2)`.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: `buf` is an exclusively borrowed, initialised byte slice of `buf.len()`
            // bytes; the kernel writes at most that many.
            let r = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if r >= 0 {
                return Ok(r as usize);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// Writes one packet (preceded by its virtio-net header with `vnet_hdr`).
    ///
    /// # Errors
    /// As `write(2)`; `EINVAL` for a header the kernel rejects.
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        loop {
            // SAFETY: `buf` is a valid byte slice of `buf.len()` bytes, only read by the kernel.
            let r = unsafe { libc::write(self.fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
            if r >= 0 {
                return Ok(r as usize);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// The device name the kernel gave.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether packets carry a virtio-net header.
    pub fn has_vnet_hdr(&self) -> bool {
        self.vnet_hdr
    }

    /// Registers the queue with the current tokio runtime's reactor (make it non-blocking
    /// first: [`Tun::set_nonblocking`]).
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
}

impl AsFd for Tun {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Tun {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Reads a NUL-terminated interface name from an `ifreq` name field.
pub(crate) fn name_from_bytes(bytes: &[u8]) -> String {
    CStr::from_bytes_until_nul(bytes)
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offload_sets_combine() {
        let o = Offloads::TCP.union(Offloads::USO);
        assert!(
            o.contains(Offloads::CSUM) && o.contains(Offloads::TSO6) && o.contains(Offloads::USO)
        );
        assert!(!Offloads::TCP.contains(Offloads::USO));
        assert_eq!(Offloads::NONE.bits(), 0);
    }
}
