//! usrsctp's C interface (`usrsctp.h` of usrsctp 0.9.5, Debian's `libusrsctp2`), declared by
//! hand and resolved with `dlopen`/`dlsym` at run time: a process that uses the kernel's SCTP
//! never needs the library, and a missing symbol is an error that names it.

use std::ffi::{CStr, c_char, c_int, c_uint, c_void};
use std::fmt;

/// `struct socket` of usrsctp: opaque.
pub(super) type So = c_void;
/// `void (*upcall)(struct socket *, void *arg, int flags)`.
pub(super) type Upcall = unsafe extern "C" fn(*mut So, *mut c_void, c_int);

type InitFn = unsafe extern "C" fn(u16, *const c_void, *const c_void);
type SocketFn = unsafe extern "C" fn(
    c_int,
    c_int,
    c_int,
    *const c_void,
    *const c_void,
    u32,
    *mut c_void,
) -> *mut So;
type SetsockoptFn =
    unsafe extern "C" fn(*mut So, c_int, c_int, *const c_void, libc::socklen_t) -> c_int;
type SendvFn = unsafe extern "C" fn(
    *mut So,
    *const c_void,
    usize,
    *mut libc::sockaddr,
    c_int,
    *mut c_void,
    libc::socklen_t,
    c_uint,
    c_int,
) -> isize;
type RecvvFn = unsafe extern "C" fn(
    *mut So,
    *mut c_void,
    usize,
    *mut libc::sockaddr,
    *mut libc::socklen_t,
    *mut c_void,
    *mut libc::socklen_t,
    *mut c_uint,
    *mut c_int,
) -> isize;
type AddrFn = unsafe extern "C" fn(*mut So, *mut libc::sockaddr, libc::socklen_t) -> c_int;
type AcceptFn = unsafe extern "C" fn(*mut So, *mut libc::sockaddr, *mut libc::socklen_t) -> *mut So;
type IntFn = unsafe extern "C" fn(*mut So, c_int) -> c_int;
type CloseFn = unsafe extern "C" fn(*mut So);
type SetUpcallFn = unsafe extern "C" fn(*mut So, Option<Upcall>, *mut c_void) -> c_int;
type SysctlSetFn = unsafe extern "C" fn(u32) -> c_int;
type SysctlGetFn = unsafe extern "C" fn() -> u32;

/// The library's entry points that this crate calls.
pub(super) struct Api {
    /// `usrsctp_init(port, conn_output, debug_printf)`; both callbacks are passed as null.
    pub(super) init: InitFn,
    pub(super) socket: SocketFn,
    pub(super) setsockopt: SetsockoptFn,
    pub(super) sendv: SendvFn,
    pub(super) recvv: RecvvFn,
    pub(super) bind: AddrFn,
    pub(super) listen: IntFn,
    pub(super) accept: AcceptFn,
    pub(super) connect: AddrFn,
    pub(super) close: CloseFn,
    pub(super) shutdown: IntFn,
    pub(super) set_non_blocking: IntFn,
    pub(super) set_upcall: SetUpcallFn,
    pub(super) sysctl_set_no_csum_on_loopback: SysctlSetFn,
    pub(super) sysctl_get_udp_tunneling_port: SysctlGetFn,
}

/// Why usrsctp could not be loaded.
#[derive(Clone, Debug)]
pub enum UsrsctpLoadError {
    /// `dlopen` failed: the library is not installed (or not for this architecture).
    Library { name: &'static str, reason: String },
    /// The library lacks a function this crate needs (an older or a different build).
    MissingSymbol { name: &'static str },
}

impl fmt::Display for UsrsctpLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Library { name, reason } => write!(
                f,
                "cannot load {name} ({reason}): install usrsctp, on Debian and Ubuntu \
                 `apt-get install libusrsctp2`"
            ),
            Self::MissingSymbol { name } => write!(
                f,
                "{LIBRARY} has no `{name}`: usrsctp 0.9.5 or later is needed (Debian's \
                 libusrsctp2)"
            ),
        }
    }
}

impl std::error::Error for UsrsctpLoadError {}

/// The shared object's name: the SONAME of usrsctp 0.9.x, the ABI declared above.
pub(super) const LIBRARY: &str = "libusrsctp.so.2";

impl Api {
    /// Opens the library and resolves every entry point. The library is never closed: its
    /// threads run until the process ends.
    pub(super) fn load() -> Result<Self, UsrsctpLoadError> {
        let handle = open_library()?;
        macro_rules! sym {
            ($ty:ty, $name:literal) => {{
                let name = concat!($name, "\0");
                // SAFETY: `handle` is a live dlopen handle and `name` is NUL-terminated.
                let p = unsafe { libc::dlsym(handle, name.as_ptr().cast()) };
                if p.is_null() {
                    return Err(UsrsctpLoadError::MissingSymbol { name: $name });
                }
                // SAFETY: the symbol is the C function of that name in usrsctp.h (0.9.5), whose
                // signature the field's type declares; a data pointer and a function pointer
                // have the same size and representation on the platforms Linux runs on.
                unsafe { std::mem::transmute::<*mut c_void, $ty>(p) }
            }};
        }
        Ok(Self {
            init: sym!(InitFn, "usrsctp_init"),
            socket: sym!(SocketFn, "usrsctp_socket"),
            setsockopt: sym!(SetsockoptFn, "usrsctp_setsockopt"),
            sendv: sym!(SendvFn, "usrsctp_sendv"),
            recvv: sym!(RecvvFn, "usrsctp_recvv"),
            bind: sym!(AddrFn, "usrsctp_bind"),
            listen: sym!(IntFn, "usrsctp_listen"),
            accept: sym!(AcceptFn, "usrsctp_accept"),
            connect: sym!(AddrFn, "usrsctp_connect"),
            close: sym!(CloseFn, "usrsctp_close"),
            shutdown: sym!(IntFn, "usrsctp_shutdown"),
            set_non_blocking: sym!(IntFn, "usrsctp_set_non_blocking"),
            set_upcall: sym!(SetUpcallFn, "usrsctp_set_upcall"),
            sysctl_set_no_csum_on_loopback: sym!(
                SysctlSetFn,
                "usrsctp_sysctl_set_sctp_no_csum_on_loopback"
            ),
            sysctl_get_udp_tunneling_port: sym!(
                SysctlGetFn,
                "usrsctp_sysctl_get_sctp_udp_tunneling_port"
            ),
        })
    }
}

fn open_library() -> Result<*mut c_void, UsrsctpLoadError> {
    let name = c"libusrsctp.so.2";
    // SAFETY: dlopen with a NUL-terminated name; loading runs the library's initialisers,
    // which usrsctp does not have beyond the C runtime's.
    let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if !handle.is_null() {
        return Ok(handle);
    }
    // SAFETY: dlerror returns null or a NUL-terminated string owned by the C library, valid
    // until the next dl* call on this thread; it is copied at once.
    let reason = unsafe {
        let e: *const c_char = libc::dlerror();
        if e.is_null() {
            "unknown reason".to_owned()
        } else {
            CStr::from_ptr(e).to_string_lossy().into_owned()
        }
    };
    Err(UsrsctpLoadError::Library {
        name: LIBRARY,
        reason,
    })
}

/// `struct sctp_sndinfo` of usrsctp.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct SndInfo {
    pub(super) snd_sid: u16,
    pub(super) snd_flags: u16,
    pub(super) snd_ppid: u32,
    pub(super) snd_context: u32,
    pub(super) snd_assoc_id: u32,
}

/// `struct sctp_rcvinfo` of usrsctp; every field is declared so that the layout matches.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(dead_code)]
pub(super) struct RcvInfo {
    pub(super) rcv_sid: u16,
    pub(super) rcv_ssn: u16,
    pub(super) rcv_flags: u16,
    pub(super) rcv_ppid: u32,
    pub(super) rcv_tsn: u32,
    pub(super) rcv_cumtsn: u32,
    pub(super) rcv_context: u32,
    pub(super) rcv_assoc_id: u32,
}

/// `struct sctp_event` of usrsctp.
#[repr(C)]
pub(super) struct Event {
    pub(super) se_assoc_id: u32,
    pub(super) se_type: u16,
    pub(super) se_on: u8,
}

/// `struct sctp_udpencaps` of usrsctp.
#[repr(C)]
pub(super) struct UdpEncaps {
    pub(super) sue_address: libc::sockaddr_storage,
    pub(super) sue_assoc_id: u32,
    pub(super) sue_port: u16,
}

// Socket option names and values of usrsctp.h (FreeBSD numbering, not Linux's).
pub(super) const SCTP_INITMSG: c_int = 0x03;
pub(super) const SCTP_NODELAY: c_int = 0x04;
pub(super) const SCTP_EVENT: c_int = 0x1e;
pub(super) const SCTP_RECVRCVINFO: c_int = 0x1f;
pub(super) const SCTP_REMOTE_UDP_ENCAPS_PORT: c_int = 0x24;
pub(super) const SCTP_FUTURE_ASSOC: u32 = 0;
pub(super) const SCTP_SENDV_SNDINFO: c_uint = 1;
pub(super) const SCTP_RECVV_RCVINFO: c_uint = 1;
pub(super) const MSG_NOTIFICATION: c_int = 0x2000;
pub(super) const SCTP_ASSOC_CHANGE: u16 = 0x0001;
pub(super) const SCTP_SHUTDOWN_EVENT: u16 = 0x0005;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_names_the_package() {
        let e = UsrsctpLoadError::Library {
            name: LIBRARY,
            reason: "not found".into(),
        };
        let text = e.to_string();
        assert!(text.contains("libusrsctp.so.2") && text.contains("apt-get install libusrsctp2"));
    }

    /// The sizes and offsets `usrsctp.h` gives on Linux x86-64 and aarch64 (checked with a C
    /// compiler against Debian's libusrsctp-dev 0.9.5).
    #[test]
    fn layouts_match_usrsctp_h() {
        assert_eq!(size_of::<SndInfo>(), 16);
        assert_eq!(size_of::<RcvInfo>(), 28);
        assert_eq!(std::mem::offset_of!(RcvInfo, rcv_ppid), 8);
        assert_eq!(size_of::<Event>(), 8);
        assert_eq!(size_of::<UdpEncaps>(), 136);
        assert_eq!(std::mem::offset_of!(UdpEncaps, sue_assoc_id), 128);
        assert_eq!(std::mem::offset_of!(UdpEncaps, sue_port), 132);
    }
}
