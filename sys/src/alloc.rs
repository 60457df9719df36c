//! A global allocator that counts the bytes currently allocated, so that a benchmark can report
//! the heap its data structures hold (`benches`' `sa_scale`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the bytes currently allocated. Install it with
/// `#[global_allocator] static A: CountingAllocator = CountingAllocator::new();`.
#[derive(Debug, Default)]
pub struct CountingAllocator {
    live: AtomicUsize,
}

impl CountingAllocator {
    /// An allocator with nothing counted yet.
    pub const fn new() -> Self {
        Self {
            live: AtomicUsize::new(0),
        }
    }

    /// Bytes allocated through this allocator and not yet freed.
    pub fn live_bytes(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }
}

// SAFETY: every call is forwarded to `System` unchanged; only a counter is updated.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.live.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.live.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as for `alloc`: `ptr` came from this allocator, that is from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.live.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds the contract, which is `System`'s.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.live.fetch_add(new_size, Ordering::Relaxed);
        self.live.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds the contract, which is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_is_live() {
        let a = CountingAllocator::new();
        let layout = Layout::from_size_align(1000, 8).expect("layout");
        // SAFETY: a non-zero layout; the block is freed with the same layout below.
        let p = unsafe { a.alloc(layout) };
        assert!(!p.is_null());
        assert_eq!(a.live_bytes(), 1000);
        // SAFETY: `p` came from `a.alloc(layout)`.
        let p = unsafe { a.realloc(p, layout, 3000) };
        assert!(!p.is_null());
        assert_eq!(a.live_bytes(), 3000);
        let grown = Layout::from_size_align(3000, 8).expect("layout");
        // SAFETY: `p` came from `realloc` to 3000 bytes.
        unsafe { a.dealloc(p, grown) };
        assert_eq!(a.live_bytes(), 0);
    }
}
