//! Closing usrsctp sockets only once their association is over.
//!
//! usrsctp 0.9.5 corrupts its heap when a socket is closed while its association is still
//! alive and packets keep arriving for it: the close leaves the endpoint to the timer thread,
//! whose later free races with the receive threads. So a dropped socket is not closed at once.
//! It is shut down (SHUTDOWN, queued data first), handed to one reaper thread that reads and
//! discards whatever still arrives (so that the peer can finish), and closed when the
//! association has ended, or after [`GRACE`] at the latest.

use std::io;
use std::ptr::NonNull;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::api::{Api, So};
use super::upcall;

/// How long a dropped socket may take to end its association before it is closed anyway.
pub const GRACE: Duration = Duration::from_secs(5);

/// The longest a wake-up from an upcall can go unnoticed.
const POLL: Duration = Duration::from_millis(20);

/// A socket waiting for its association to end.
struct Dying {
    so: NonNull<So>,
    token: usize,
    deadline: Instant,
}

// SAFETY: the pointer is only used by the reaper thread, and usrsctp's socket calls lock the
// socket themselves (see `UsrsctpSocket`'s `Send`).
unsafe impl Send for Dying {}

struct Reaper {
    api: &'static Api,
    dying: Mutex<Vec<Dying>>,
    wake: Condvar,
}

/// Shuts `so` down and leaves its close to the reaper, which takes over the socket's upcall
/// `token`. The caller gives up `so`.
pub(super) fn hand_over(api: &'static Api, so: NonNull<So>, token: usize) {
    let reaper = reaper(api);
    let r = reaper.clone();
    upcall::replace(token, Arc::new(move || r.wake.notify_one()));
    // SAFETY: a live socket and a constant; an error means there is no association to end.
    unsafe { (api.shutdown)(so.as_ptr(), libc::SHUT_WR) };
    let deadline = Instant::now() + GRACE;
    lock(&reaper.dying).push(Dying {
        so,
        token,
        deadline,
    });
    reaper.wake.notify_one();
}

static REAPER: OnceLock<Arc<Reaper>> = OnceLock::new();

/// How many dropped sockets are still waiting for their association to end.
pub(super) fn closing() -> usize {
    REAPER.get().map_or(0, |r| lock(&r.dying).len())
}

fn reaper(api: &'static Api) -> Arc<Reaper> {
    REAPER
        .get_or_init(|| {
            let reaper = Arc::new(Reaper {
                api,
                dying: Mutex::new(Vec::new()),
                wake: Condvar::new(),
            });
            let r = reaper.clone();
            std::thread::Builder::new()
                .name("usrsctp reaper".into())
                .spawn(move || r.run())
                .expect("the usrsctp reaper thread starts");
            reaper
        })
        .clone()
}

impl Reaper {
    fn run(&self) {
        let mut dying = lock(&self.dying);
        loop {
            let now = Instant::now();
            dying.retain(|d| {
                let over = d.deadline <= now || self.drain_ended(d.so);
                if over {
                    self.close(d);
                }
                !over
            });
            // Upcalls do not take the lock (usrsctp may hold its own locks when it calls them),
            // so one can slip in before the wait; the short wait bounds what that costs.
            let wait = if dying.is_empty() {
                Duration::from_secs(3600)
            } else {
                POLL
            };
            dying = self
                .wake
                .wait_timeout(dying, wait)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Reads and discards what has arrived; true once the association has ended.
    fn drain_ended(&self, so: NonNull<So>) -> bool {
        let mut buf = [0u8; 2048];
        loop {
            // Non-blocking even if the socket never became so (a failed set-up).
            let mut flags: libc::c_int = libc::MSG_DONTWAIT;
            let mut len: libc::socklen_t = 0;
            let mut kind: libc::c_uint = 0;
            // SAFETY: `buf` is writable for its length; no address and no receive information
            // are asked for (null pointers, zero length).
            let n = unsafe {
                (self.api.recvv)(
                    so.as_ptr(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    &mut len,
                    &mut kind,
                    &mut flags,
                )
            };
            if n > 0 || (n == 0 && flags & libc::MSG_EOR != 0) {
                continue;
            }
            if n == 0 {
                return true;
            }
            return io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock;
        }
    }

    fn close(&self, d: &Dying) {
        // SAFETY: the reaper owns the socket and forgets it after this call. The upcall stays
        // (see `UsrsctpSocket`'s `Drop`); one that comes later finds its token gone.
        unsafe { (self.api.close)(d.so.as_ptr()) };
        upcall::unregister(d.token);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
