//! Small wrappers: readiness polling, an eventfd, thread pinning, network namespaces.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// Waits until one of `fds` is readable or `timeout` passes. `ready[i]` tells whether `fds[i]`
/// is readable (or has an error or hang-up to report); returns how many are. At most 16 fds.
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] for more than 16 fds or a `ready` shorter than `fds`; an
/// interrupted wait returns `Ok(0)`.
pub fn poll_readable(
    fds: &[BorrowedFd<'_>],
    timeout: Duration,
    ready: &mut [bool],
) -> io::Result<usize> {
    const MAX_FDS: usize = 16;
    if fds.len() > MAX_FDS || ready.len() < fds.len() {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let mut pfds = [libc::pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    }; MAX_FDS];
    for (p, fd) in pfds.iter_mut().zip(fds) {
        *p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
    }
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `pfds` holds `fds.len()` initialised entries and lives for the call.
    let r = unsafe { libc::poll(pfds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if r < 0 {
        let err = io::Error::last_os_error();
        return if err.kind() == io::ErrorKind::Interrupted {
            Ok(0)
        } else {
            Err(err)
        };
    }
    for (r, p) in ready.iter_mut().zip(&pfds[..fds.len()]) {
        *r = p.revents != 0;
    }
    Ok(r as usize)
}

/// A Linux eventfd, for waking a worker blocked in [`poll_readable`].
#[derive(Debug)]
pub struct EventFd(OwnedFd);

impl EventFd {
    /// A non-blocking eventfd.
    ///
    /// # Errors
    /// When the process is out of file descriptors.
    pub fn new() -> io::Result<Self> {
        // SAFETY: plain eventfd(2) with constant flags.
        let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
        // SAFETY: `fd` was just returned by eventfd(2) and is owned by nobody else.
        Ok(Self(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Makes the eventfd readable.
    ///
    /// # Errors
    /// Not in practice (the counter would have to reach `u64::MAX - 1`).
    pub fn notify(&self) -> io::Result<()> {
        let one = 1u64.to_ne_bytes();
        // SAFETY: writes exactly 8 bytes from a live local array, as eventfd requires.
        let r = unsafe { libc::write(self.0.as_raw_fd(), one.as_ptr().cast(), one.len()) };
        if r < 0 {
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::WouldBlock {
                return Err(err);
            }
        }
        Ok(())
    }

    /// Resets the counter; returns whether it had been notified.
    pub fn drain(&self) -> bool {
        let mut v = [0u8; 8];
        // SAFETY: reads exactly 8 bytes into a live local array, as eventfd requires.
        let r = unsafe { libc::read(self.0.as_raw_fd(), v.as_mut_ptr().cast(), v.len()) };
        r == 8
    }
}

impl AsFd for EventFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// SIGINT, SIGTERM and SIGHUP, blocked so that a thread can wait for them synchronously.
///
/// Create it on the main thread before starting any other thread: threads inherit the blocked
/// mask, so the signals stay pending until [`TerminationSignals::wait`] takes them.
#[derive(Debug)]
pub struct TerminationSignals(libc::sigset_t);

impl TerminationSignals {
    /// Blocks the three signals in the calling thread.
    ///
    /// # Errors
    /// When `pthread_sigmask` fails (it does not for valid signals).
    pub fn block() -> io::Result<Self> {
        // SAFETY: `sigset_t` is a plain bit array; sigemptyset initialises it right after.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid, exclusively borrowed sigset_t; the signals are valid.
        unsafe {
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigaddset(&mut set, libc::SIGHUP);
        }
        // SAFETY: `set` is initialised; a null old-set pointer is allowed.
        let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        Ok(Self(set))
    }

    /// Waits up to `timeout` for one of the signals; returns its number.
    pub fn wait(&self, timeout: Duration) -> Option<i32> {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
            tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
        };
        // SAFETY: `self.0` is an initialised sigset_t, `ts` a valid timespec, and a null
        // siginfo pointer is allowed.
        let r = unsafe { libc::sigtimedwait(&self.0, std::ptr::null_mut(), &ts) };
        (r > 0).then_some(r)
    }
}

/// Pins the calling thread to CPU `core`.
///
/// # Errors
/// When `core` is not an online CPU this process may use.
pub fn pin_current_thread(core: usize) -> io::Result<()> {
    if core >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    // SAFETY: `cpu_set_t` is a plain bit array; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `core < CPU_SETSIZE`, so CPU_SET stays inside the set.
    unsafe { libc::CPU_SET(core, &mut set) };
    // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is the calling thread.
    cvt(unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) }).map(drop)
}

/// Moves the calling thread (only it) into a new, empty network namespace, where only a down
/// loopback exists. Tests use it to create devices without touching the host's network.
///
/// # Errors
/// Without `CAP_SYS_ADMIN` (`EPERM`).
pub fn unshare_network_namespace() -> io::Result<()> {
    // SAFETY: unshare(2) with a constant flag; it only changes the calling thread's namespace.
    cvt(unsafe { libc::unshare(libc::CLONE_NEWNET) }).map(drop)
}

pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>, nonblocking: bool) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: F_GETFL on a valid borrowed fd takes no pointer.
    let flags = cvt(unsafe { libc::fcntl(raw, libc::F_GETFL) })?;
    let flags = if nonblocking {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    // SAFETY: F_SETFL on a valid borrowed fd with an integer argument.
    cvt(unsafe { libc::fcntl(raw, libc::F_SETFL, flags) }).map(drop)
}

/// `setsockopt` with an `int` value.
pub(crate) fn setsockopt_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: passes a pointer to a live `c_int` and its exact size.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// `getsockopt` of an `int` value.
pub(crate) fn getsockopt_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: passes a pointer to a live `c_int` and a length that matches it.
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    })?;
    Ok(value)
}

/// Opens a socket with `SOCK_CLOEXEC`.
pub(crate) fn socket(
    family: libc::c_int,
    kind: libc::c_int,
    protocol: libc::c_int,
) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2) call; no pointers.
    let fd = cvt(unsafe { libc::socket(family, kind | libc::SOCK_CLOEXEC, protocol) })?;
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Turns a `-1` return into the thread's `errno`.
pub(crate) fn cvt(r: libc::c_int) -> io::Result<RawFd> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eventfd_wakes_poll() {
        let e = EventFd::new().unwrap();
        let mut ready = [false];
        assert_eq!(
            poll_readable(&[e.as_fd()], Duration::ZERO, &mut ready).unwrap(),
            0
        );
        e.notify().unwrap();
        assert_eq!(
            poll_readable(&[e.as_fd()], Duration::from_secs(1), &mut ready).unwrap(),
            1
        );
        assert!(ready[0]);
        assert!(e.drain());
        assert!(!e.drain());
    }
}
