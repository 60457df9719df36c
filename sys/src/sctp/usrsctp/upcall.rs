//! usrsctp calls a socket's upcall from its own threads, without holding the socket's lock, so
//! a call can still be under way after `usrsctp_set_upcall(NULL)` returns. The upcall's
//! argument is therefore never a pointer: it is a token, looked up here under a lock. After
//! [`unregister`], a late call finds nothing and does nothing, and no memory is ever reached
//! through a stale pointer.

use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::api::So;

/// Called (on one of usrsctp's threads) when a socket may have become readable or writable,
/// or has an error. It must be quick and must not call into usrsctp; waking a task is the
/// intended use.
pub type UpcallWaker = Arc<dyn Fn() + Send + Sync>;

/// Registers `waker` and returns the token to pass as the upcall argument. Tokens are never
/// reused.
pub(super) fn register(waker: UpcallWaker) -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let token = NEXT.fetch_add(1, Ordering::Relaxed);
    registry().insert(token, waker);
    token
}

/// Forgets the waker of `token`; later upcalls with it do nothing.
pub(super) fn unregister(token: usize) {
    registry().remove(&token);
}

/// The upcall given to every socket.
pub(super) unsafe extern "C" fn upcall(_so: *mut So, arg: *mut c_void, _flags: c_int) {
    let token = arg as usize;
    // Cloned so that the waker runs without the registry's lock held.
    let waker = registry().get(&token).cloned();
    if let Some(waker) = waker {
        waker();
    }
}

fn registry() -> MutexGuard<'static, HashMap<usize, UpcallWaker>> {
    static REGISTRY: OnceLock<Mutex<HashMap<usize, UpcallWaker>>> = OnceLock::new();
    // A panic never happens while the lock is held (insert, remove, get), so a poisoned lock
    // still holds a consistent map.
    REGISTRY
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use super::*;

    #[test]
    fn upcall_reaches_the_registered_waker_until_unregistered() {
        let hits = Arc::new(AtomicU32::new(0));
        let h = hits.clone();
        let token = register(Arc::new(move || {
            h.fetch_add(1, Ordering::SeqCst);
        }));
        // SAFETY: the upcall ignores the socket pointer and reads the token only.
        unsafe { upcall(std::ptr::null_mut(), token as *mut c_void, 0) };
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        unregister(token);
        // SAFETY: as above.
        unsafe { upcall(std::ptr::null_mut(), token as *mut c_void, 0) };
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(
            Arc::strong_count(&hits),
            1,
            "the registry dropped its waker"
        );
    }
}
