//! The one usrsctp stack of a process: loaded once, started once with its lower layers.
//!
//! usrsctp opens its lower-layer sockets in `usrsctp_init`, for the whole process: a UDP socket
//! on the encapsulation port (RFC 6951) when the port is not 0, and raw IP protocol-132
//! sockets whenever the calling thread may open them. A stack meant for UDP only must not hold
//! raw sockets: they would see every SCTP packet of the host and answer the ones of other
//! applications (the kernel's SCTP included) with ABORT. So a UDP-only stack is started on a
//! thread that has given up `CAP_NET_RAW`; capabilities are per thread on Linux.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, UdpSocket};
use std::sync::{Mutex, OnceLock};

use super::api::{Api, UsrsctpLoadError};
use crate::misc::socket;

/// The lower layers of the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackConfig {
    /// The local UDP port for SCTP over UDP (RFC 6951; IANA's port is 9899); 0 for none.
    pub udp_port: u16,
    /// SCTP directly over IP (protocol 132) through raw sockets; needs `CAP_NET_RAW`.
    pub raw_ip: bool,
}

/// Why the stack could not be started.
#[derive(Debug)]
pub enum StackError {
    /// The stack already runs with other lower layers (one per process).
    AlreadyStarted {
        running: StackConfig,
        requested: StackConfig,
    },
    /// Neither UDP encapsulation nor raw IP was asked for.
    NoLowerLayer,
    /// Raw IP sockets are not permitted (no root, no `CAP_NET_RAW`).
    RawNotPermitted(io::Error),
    /// The UDP encapsulation port cannot be bound (in use, or privileged).
    UdpPort { port: u16, error: io::Error },
    /// The thread that starts a UDP-only stack could not drop `CAP_NET_RAW`.
    Capabilities(io::Error),
    /// usrsctp did not take the UDP port it was given.
    NotStarted { udp_port: u16 },
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyStarted { running, requested } => write!(
                f,
                "the usrsctp stack of this process already runs with {running:?}, not \
                 {requested:?}: one stack per process"
            ),
            Self::NoLowerLayer => f.write_str("usrsctp needs UDP encapsulation or raw IP"),
            Self::RawNotPermitted(e) => write!(
                f,
                "SCTP over raw IP needs root or CAP_NET_RAW ({e}); without them use UDP \
                 encapsulation (port 9899)"
            ),
            Self::UdpPort { port, error } => {
                write!(f, "cannot bind UDP port {port} for SCTP over UDP: {error}")
            }
            Self::Capabilities(e) => write!(f, "cannot drop CAP_NET_RAW for a UDP-only stack: {e}"),
            Self::NotStarted { udp_port } => {
                write!(f, "usrsctp did not take UDP port {udp_port}")
            }
        }
    }
}

impl std::error::Error for StackError {}

/// usrsctp, loaded into this process.
pub struct Usrsctp {
    pub(super) api: Api,
    running: Mutex<Option<StackConfig>>,
}

impl Usrsctp {
    /// Loads `libusrsctp.so.2` once per process.
    ///
    /// # Errors
    /// When the library is absent or lacks a function; the message names the Debian package.
    pub fn load() -> Result<&'static Self, UsrsctpLoadError> {
        static LOADED: OnceLock<Result<Usrsctp, UsrsctpLoadError>> = OnceLock::new();
        LOADED
            .get_or_init(|| {
                Api::load().map(|api| Self {
                    api,
                    running: Mutex::new(None),
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Starts the stack with `config`, or confirms that it runs with it.
    ///
    /// # Errors
    /// See [`StackError`].
    pub fn start(&self, config: StackConfig) -> Result<(), StackError> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = *running {
            return if r == config {
                Ok(())
            } else {
                Err(StackError::AlreadyStarted {
                    running: r,
                    requested: config,
                })
            };
        }
        check_lower_layers(config)?;
        if config.raw_ip {
            self.init(config.udp_port);
        } else {
            std::thread::scope(|s| {
                s.spawn(|| -> Result<(), StackError> {
                    drop_net_raw().map_err(StackError::Capabilities)?;
                    self.init(config.udp_port);
                    Ok(())
                })
                .join()
                .unwrap_or(Err(StackError::NotStarted {
                    udp_port: config.udp_port,
                }))
            })?;
        }
        // SAFETY: a getter of an integer setting of the started stack.
        let port = unsafe { (self.api.sysctl_get_udp_tunneling_port)() };
        if port != u32::from(config.udp_port) {
            return Err(StackError::NotStarted {
                udp_port: config.udp_port,
            });
        }
        *running = Some(config);
        Ok(())
    }

    /// The lower layers the stack runs with, once started.
    pub fn running(&self) -> Option<StackConfig> {
        *self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many dropped sockets are still shutting down: each is closed once its association
    /// has ended, or after a grace period of a few seconds when the peer has gone silent.
    pub fn sockets_closing(&self) -> usize {
        super::reaper::closing()
    }

    fn init(&self, udp_port: u16) {
        // SAFETY: called once per process (under the `running` lock, before it is set); both
        // callbacks are null, which usrsctp accepts (no AF_CONN output, no debug output).
        unsafe { (self.api.init)(udp_port, std::ptr::null(), std::ptr::null()) };
        // Checksums on loopback too, so that captures and peers see valid packets.
        // SAFETY: a setter of an integer setting of the started stack.
        unsafe { (self.api.sysctl_set_no_csum_on_loopback)(0) };
    }
}

impl fmt::Debug for Usrsctp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Usrsctp")
            .field("running", &self.running())
            .finish_non_exhaustive()
    }
}

/// Fails early, with a clear reason, where usrsctp would only log one.
fn check_lower_layers(config: StackConfig) -> Result<(), StackError> {
    if !config.raw_ip && config.udp_port == 0 {
        return Err(StackError::NoLowerLayer);
    }
    if config.raw_ip {
        socket(libc::AF_INET, libc::SOCK_RAW, super::super::IPPROTO_SCTP)
            .map_err(StackError::RawNotPermitted)?;
    }
    if config.udp_port != 0 {
        // Bound and closed again at once: usrsctp binds the same port on all addresses.
        UdpSocket::bind((Ipv4Addr::UNSPECIFIED, config.udp_port)).map_err(|error| {
            StackError::UdpPort {
                port: config.udp_port,
                error,
            }
        })?;
    }
    Ok(())
}

/// Removes `CAP_NET_RAW` from the calling thread's effective set (threads it starts inherit
/// that).
fn drop_net_raw() -> io::Result<()> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget(2) with a version-3 header and the two data elements that version uses.
    let r = unsafe { libc::syscall(libc::SYS_capget, &raw mut header, data.as_mut_ptr()) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    data[0].effective &= !(1 << CAP_NET_RAW);
    // SAFETY: capset(2) on the calling thread (pid 0) with the sets just read, less one bit;
    // lowering the effective set is always permitted.
    let r = unsafe { libc::syscall(libc::SYS_capset, &raw mut header, data.as_ptr()) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
const CAP_NET_RAW: u32 = 13;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_without_cap_net_raw_cannot_open_raw_sockets() {
        let raw = || socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP);
        let before = raw().is_ok();
        let after = std::thread::spawn(move || {
            drop_net_raw().unwrap();
            raw().is_ok()
        })
        .join()
        .unwrap();
        assert!(!after, "raw sockets after dropping CAP_NET_RAW");
        // The rest of the process keeps what it had.
        assert_eq!(raw().is_ok(), before);
    }

    #[test]
    fn neither_lower_layer_is_refused() {
        let none = StackConfig {
            udp_port: 0,
            raw_ip: false,
        };
        assert!(matches!(
            check_lower_layers(none),
            Err(StackError::NoLowerLayer)
        ));
    }
}
