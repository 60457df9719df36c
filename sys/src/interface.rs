//! Interface configuration by ioctl: MTU, up, addresses. Each needs `CAP_NET_ADMIN` except the
//! getters.

use std::ffi::CString;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::misc::cvt;
use crate::tun::name_from_bytes;

/// Sets the MTU of interface `name`.
///
/// # Errors
/// When the interface does not exist or the caller lacks `CAP_NET_ADMIN`.
pub fn set_mtu(name: &str, mtu: u32) -> io::Result<()> {
    let mut req = IfReq::new(name)?;
    req.data[..4].copy_from_slice(&(mtu as i32).to_ne_bytes());
    ioctl_inet(libc::AF_INET, libc::SIOCSIFMTU, &mut req)
}

/// The MTU of interface `name`.
///
/// # Errors
/// When the interface does not exist.
pub fn mtu(name: &str) -> io::Result<u32> {
    let mut req = IfReq::new(name)?;
    ioctl_inet(libc::AF_INET, libc::SIOCGIFMTU, &mut req)?;
    Ok(i32::from_ne_bytes([req.data[0], req.data[1], req.data[2], req.data[3]]) as u32)
}

/// Brings interface `name` up (`IFF_UP`).
///
/// # Errors
/// When the interface does not exist or the caller lacks `CAP_NET_ADMIN`.
pub fn set_up(name: &str) -> io::Result<()> {
    let mut req = IfReq::new(name)?;
    ioctl_inet(libc::AF_INET, libc::SIOCGIFFLAGS, &mut req)?;
    let flags = i16::from_ne_bytes([req.data[0], req.data[1]]) | libc::IFF_UP as i16;
    req.set_short(flags);
    ioctl_inet(libc::AF_INET, libc::SIOCSIFFLAGS, &mut req)
}

/// Sets the IPv4 address and prefix of interface `name` (replacing the primary address).
///
/// # Errors
/// When the prefix is over 32, the interface does not exist or the caller lacks
/// `CAP_NET_ADMIN`.
pub fn set_ipv4_address(name: &str, addr: Ipv4Addr, prefix_len: u8) -> io::Result<()> {
    if prefix_len > 32 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "IPv4 prefix over 32",
        ));
    }
    let mask = u32::MAX
        .checked_shl(32 - u32::from(prefix_len))
        .unwrap_or(0);
    let mut req = IfReq::new(name)?;
    req.set_sockaddr_in(addr);
    ioctl_inet(libc::AF_INET, libc::SIOCSIFADDR, &mut req)?;
    let mut req = IfReq::new(name)?;
    req.set_sockaddr_in(Ipv4Addr::from(mask));
    ioctl_inet(libc::AF_INET, libc::SIOCSIFNETMASK, &mut req)
}

/// Adds an IPv6 address with its prefix to interface `name`.
///
/// # Errors
/// When the prefix is over 128, the interface does not exist, IPv6 is disabled or the caller
/// lacks `CAP_NET_ADMIN`.
pub fn add_ipv6_address(name: &str, addr: Ipv6Addr, prefix_len: u8) -> io::Result<()> {
    if prefix_len > 128 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "IPv6 prefix over 128",
        ));
    }
    let req = libc::in6_ifreq {
        ifr6_addr: libc::in6_addr {
            s6_addr: addr.octets(),
        },
        ifr6_prefixlen: u32::from(prefix_len),
        ifr6_ifindex: index(name)? as libc::c_int,
    };
    let sock = control_socket(libc::AF_INET6)?;
    // SAFETY: SIOCSIFADDR on an AF_INET6 socket reads a `struct in6_ifreq`, which `req` is and
    // which lives until the call returns.
    cvt(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFADDR, &req) }).map(drop)
}

/// The interface index of `name`.
///
/// # Errors
/// When no interface has that name.
pub fn index(name: &str) -> io::Result<u32> {
    let c = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `c` is a valid NUL-terminated string alive for the call.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(i)
    }
}

/// `struct ifreq` (40 bytes on 64-bit Linux): a name and a 24-byte union we fill by hand.
#[repr(C, align(8))]
pub(crate) struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    data: [u8; 24],
}

const _: () = assert!(size_of::<IfReq>() == size_of::<libc::ifreq>());

impl IfReq {
    /// A request for interface `name` (empty: let the kernel choose, for TUNSETIFF).
    pub(crate) fn new(name: &str) -> io::Result<Self> {
        if name.len() >= libc::IFNAMSIZ || name.as_bytes().contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bad interface name",
            ));
        }
        let mut req = Self {
            name: [0; libc::IFNAMSIZ],
            data: [0; 24],
        };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        Ok(req)
    }

    pub(crate) fn set_short(&mut self, v: i16) {
        self.data[..2].copy_from_slice(&v.to_ne_bytes());
    }

    fn set_sockaddr_in(&mut self, addr: Ipv4Addr) {
        self.data[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        self.data[2..4].fill(0);
        self.data[4..8].copy_from_slice(&addr.octets());
        self.data[8..16].fill(0);
    }

    pub(crate) fn name(&self) -> String {
        name_from_bytes(&self.name)
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut libc::c_void {
        (self as *mut Self).cast()
    }
}

fn control_socket(family: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2) call with constant arguments.
    let fd = cvt(unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn ioctl_inet(family: libc::c_int, request: libc::c_ulong, req: &mut IfReq) -> io::Result<()> {
    let sock = control_socket(family)?;
    // SAFETY: every request used here (SIOC[GS]IF{MTU,FLAGS,ADDR,NETMASK}) reads or writes one
    // `struct ifreq`, which `req` is (same size and alignment), exclusively borrowed for the call.
    cvt(unsafe { libc::ioctl(sock.as_raw_fd(), request, req.as_mut_ptr()) }).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_names() {
        assert!(IfReq::new("a-name-that-is-far-too-long").is_err());
        assert!(IfReq::new("nul\0").is_err());
        assert_eq!(IfReq::new("pqdp0").unwrap().name(), "pqdp0");
    }

    #[test]
    fn loopback_has_an_index_and_mtu() {
        assert!(index("lo").unwrap() >= 1);
        assert!(mtu("lo").unwrap() >= 1280);
    }
}
