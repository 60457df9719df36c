//! Waiting helpers shared by the dataplane's namespace tests: bounded polls, never a fixed
//! sleep standing in for a condition.

use std::sync::mpsc::Receiver;
use std::thread;
use std::time::{Duration, Instant};

use dataplane::DataplaneEvent;

/// Runs `attempt` every 20 ms until it returns true; fails after 5 s.
pub(crate) fn poll_until(mut attempt: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !attempt() {
        assert!(Instant::now() < deadline, "condition not met within 5 s");
        thread::sleep(Duration::from_millis(20));
    }
}

/// The first event `pick` accepts, skipping others; fails after 5 s.
pub(crate) fn wait_event<T>(
    events: &Receiver<DataplaneEvent>,
    pick: impl Fn(DataplaneEvent) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let e = events.recv_timeout(left).expect("event within 5 s");
        if let Some(v) = pick(e) {
            return v;
        }
    }
}
