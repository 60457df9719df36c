//! Rate limiting of the reports a worker sends to the daemon about traffic it cannot handle
//! (unknown SPIs, acquires): a flood of such packets must not become a flood of events or of
//! IKE messages. Each worker keeps its own limiters, so the per-packet path shares nothing.

use std::time::{Duration, Instant};

/// At most [`REPORTS_PER_WINDOW`] reports per [`WINDOW`], and the same key at most once per
/// window. Keys are trap ids or SPIs.
pub(crate) struct ReportLimiter<K> {
    window_start: Option<Instant>,
    sent: u32,
    recent: [K; REPORTS_PER_WINDOW as usize],
}

impl<K: Copy + Default + PartialEq> ReportLimiter<K> {
    pub(crate) fn new() -> Self {
        Self {
            window_start: None,
            sent: 0,
            recent: [K::default(); REPORTS_PER_WINDOW as usize],
        }
    }

    /// Whether a report about `key` may go out now.
    pub(crate) fn allow(&mut self, key: K, now: Instant) -> bool {
        if self
            .window_start
            .is_none_or(|s| now.saturating_duration_since(s) >= WINDOW)
        {
            self.window_start = Some(now);
            self.sent = 0;
        }
        let seen = &self.recent[..self.sent as usize];
        if self.sent >= REPORTS_PER_WINDOW || seen.contains(&key) {
            return false;
        }
        self.recent[self.sent as usize] = key;
        self.sent += 1;
        true
    }
}

const WINDOW: Duration = Duration::from_secs(1);
const REPORTS_PER_WINDOW: u32 = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_once_per_window_and_a_cap_on_all() {
        let mut l = ReportLimiter::<u32>::new();
        let t = Instant::now();
        assert!(l.allow(1, t));
        assert!(!l.allow(1, t + Duration::from_millis(500)));
        for k in 2..=8 {
            assert!(l.allow(k, t), "key {k}");
        }
        assert!(!l.allow(9, t), "the ninth key in a window is refused");
        assert!(l.allow(1, t + WINDOW), "a new window allows key 1 again");
    }
}
