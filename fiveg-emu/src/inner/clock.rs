//! The inner stack's time: the caller's `now` measured from a base it chose, so that a virtual
//! clock in tests and the real one in a driver give the same behaviour.

use std::time::{Duration, Instant};

use smoltcp::time::{Duration as NetDuration, Instant as NetInstant};

/// Converts the caller's instants to the TCP/IP stack's time, deterministically: the stack
/// sees the microseconds elapsed since `base`. Instants before `base` count as `base`.
#[derive(Clone, Copy, Debug)]
pub struct StackClock {
    base: Instant,
}

impl StackClock {
    /// A clock whose zero is `base`.
    pub fn new(base: Instant) -> Self {
        Self { base }
    }

    /// The base instant.
    pub fn base(&self) -> Instant {
        self.base
    }

    /// `now` in the stack's time.
    pub fn to_stack(&self, now: Instant) -> NetInstant {
        let micros = now.saturating_duration_since(self.base).as_micros();
        NetInstant::from_micros(i64::try_from(micros).unwrap_or(i64::MAX))
    }

    /// The caller's instant `delay` after `now`.
    pub fn deadline(now: Instant, delay: NetDuration) -> Instant {
        now + Duration::from_micros(delay.total_micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_is_measured_from_the_base() {
        let base = Instant::now();
        let clock = StackClock::new(base);
        assert_eq!(clock.to_stack(base).total_micros(), 0);
        let later = base + Duration::from_millis(1500);
        assert_eq!(clock.to_stack(later).total_micros(), 1_500_000);
        let before = base.checked_sub(Duration::from_secs(1)).unwrap_or(base);
        assert_eq!(clock.to_stack(before).total_micros(), 0);
        assert_eq!(
            StackClock::deadline(later, NetDuration::from_millis(250)),
            base + Duration::from_millis(1750)
        );
    }
}
