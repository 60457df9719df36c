//! Per-source admission of IKE messages: a token bucket per source address, so that one
//! sender (or one IPv6 /64) cannot fill the queue towards the IKE engine and crowd out the
//! others. Sans-IO (`now` in); the dataplane uses one for UDP 4500, the daemon another for its
//! own sockets.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

/// Token buckets by source, at most [`SourceLimiter::MAX_SOURCES`] of them; sources beyond
/// that share one bucket, so memory stays bounded whatever the number of (spoofed) senders.
#[derive(Debug)]
pub struct SourceLimiter {
    /// Messages per second per source; 0 admits everything.
    rate: u32,
    sources: HashMap<IpAddr, Bucket>,
    overflow: Option<Bucket>,
    last_sweep: Option<Instant>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl SourceLimiter {
    /// Sources tracked one by one.
    pub const MAX_SOURCES: usize = 4096;

    /// `rate` messages per second per source, with a burst of one second's worth; 0 admits
    /// everything.
    pub fn new(rate: u32) -> Self {
        Self {
            rate,
            sources: HashMap::new(),
            overflow: None,
            last_sweep: None,
        }
    }

    /// Whether a message from `source` may be queued now (a token is taken if so).
    pub fn allow(&mut self, source: IpAddr, now: Instant) -> bool {
        if self.rate == 0 {
            return true;
        }
        let key = source_key(source);
        if !self.sources.contains_key(&key) && self.sources.len() >= Self::MAX_SOURCES {
            self.sweep(now);
        }
        let rate = f64::from(self.rate);
        let bucket = if self.sources.len() < Self::MAX_SOURCES || self.sources.contains_key(&key) {
            self.sources
                .entry(key)
                .or_insert_with(|| Bucket::full(rate, now))
        } else {
            self.overflow.get_or_insert_with(|| Bucket::full(rate, now))
        };
        bucket.take(rate, now)
    }

    /// Number of sources tracked one by one.
    pub fn tracked(&self) -> usize {
        self.sources.len()
    }

    /// Forgets buckets that have refilled (they act as new ones), at most once per second.
    fn sweep(&mut self, now: Instant) {
        if self
            .last_sweep
            .is_some_and(|t| now.saturating_duration_since(t) < SWEEP_INTERVAL)
        {
            return;
        }
        self.last_sweep = Some(now);
        let rate = f64::from(self.rate);
        self.sources.retain(|_, b| b.level(rate, now) < rate);
    }
}

impl Bucket {
    fn full(rate: f64, now: Instant) -> Self {
        Self {
            tokens: rate,
            at: now,
        }
    }

    /// Tokens now, at most one second's worth.
    fn level(&self, rate: f64, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.tokens + elapsed * rate).min(rate)
    }

    fn take(&mut self, rate: f64, now: Instant) -> bool {
        self.tokens = self.level(rate, now);
        self.at = self.at.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// IPv4 addresses one by one; IPv6 by /64, the least a host is usually given.
fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(last: u32) -> IpAddr {
        IpAddr::from((0x0a00_0000u32 + last).to_be_bytes())
    }

    #[test]
    fn a_source_gets_its_burst_then_its_rate() {
        let mut l = SourceLimiter::new(10);
        let t = Instant::now();
        let admitted = (0..100).filter(|_| l.allow(v4(1), t)).count();
        assert_eq!(admitted, 10, "one second's worth at once");
        assert!(l.allow(v4(2), t), "another source is not held back");
        assert!(!l.allow(v4(1), t + Duration::from_millis(50)));
        assert!(
            l.allow(v4(1), t + Duration::from_millis(100)),
            "one token per 100 ms"
        );
        assert!(!l.allow(v4(1), t + Duration::from_millis(100)));
    }

    #[test]
    fn ipv6_sources_count_per_64() {
        let mut l = SourceLimiter::new(2);
        let t = Instant::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert!(l.allow(a, t) && l.allow(b, t));
        assert!(!l.allow(a, t), "same /64");
        assert!(l.allow(c, t), "another /64");
    }

    #[test]
    fn the_table_is_bounded_and_the_rest_share_one_bucket() {
        let mut l = SourceLimiter::new(1);
        let t = Instant::now();
        let n = u32::try_from(SourceLimiter::MAX_SOURCES).expect("fits");
        for i in 0..n {
            assert!(l.allow(v4(i), t));
        }
        assert_eq!(l.tracked(), SourceLimiter::MAX_SOURCES);
        // Every tracked bucket is empty: newcomers share the overflow bucket (one token).
        assert!(l.allow(v4(n), t));
        assert!(!l.allow(v4(n + 1), t));
        assert_eq!(l.tracked(), SourceLimiter::MAX_SOURCES);
        // A second later the old buckets have refilled and are swept: newcomers are tracked.
        let later = t + Duration::from_secs(1);
        assert!(l.allow(v4(n + 2), later));
        assert!(l.tracked() <= 1, "swept: {}", l.tracked());
    }

    #[test]
    fn rate_zero_admits_everything() {
        let mut l = SourceLimiter::new(0);
        let t = Instant::now();
        assert!((0..10_000).all(|_| l.allow(v4(1), t)));
        assert_eq!(l.tracked(), 0);
    }
}
