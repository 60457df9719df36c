//! The key material two KMEs share for one SAE pair, refilled at a fixed bit rate on a clock
//! the caller supplies (no I/O, no `Instant::now`).

use std::time::Duration;

/// Size and refill rate of every SAE pair's pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Default key size in bits (`key_size` in Status).
    pub key_size: u32,
    /// Capacity in keys of `key_size` bits (`max_key_count`).
    pub max_key_count: u64,
    /// Keys of `key_size` bits in a new pool.
    pub initial_key_count: u64,
    /// Refill rate in bit/s; `None` keeps every pool full.
    pub key_rate_bps: Option<u64>,
    /// `max_key_per_request`.
    pub max_key_per_request: u32,
    /// `min_key_size` in bits.
    pub min_key_size: u32,
    /// `max_key_size` in bits.
    pub max_key_size: u32,
}

impl Default for PoolConfig {
    /// 256-bit keys, 1000 of them, always full; up to 128 keys of 64..=1024 bits per request.
    fn default() -> Self {
        Self {
            key_size: 256,
            max_key_count: 1000,
            initial_key_count: 1000,
            key_rate_bps: None,
            max_key_per_request: 128,
            min_key_size: 64,
            max_key_size: 1024,
        }
    }
}

/// Key material available for one SAE pair, counted in bits.
///
/// Material is created by [`KeyPool::refill`] at `key_rate_bps` up to the capacity
/// (`max_key_count × key_size` bits) and leaves through [`KeyPool::take`]. Fractions of a bit
/// carry over between refills, so the long-run rate is exact.
#[derive(Debug, Clone)]
pub struct KeyPool {
    capacity_bits: u64,
    available_bits: u64,
    rate_bps: Option<u64>,
    last_refill: Duration,
    /// Bit·nanoseconds not yet turned into whole bits.
    carry: u128,
}

impl KeyPool {
    /// A pool as configured, created at `now`.
    pub fn new(config: &PoolConfig, now: Duration) -> Self {
        let key_size = u64::from(config.key_size);
        let capacity_bits = config.max_key_count.saturating_mul(key_size);
        let initial = match config.key_rate_bps {
            None => capacity_bits,
            Some(_) => config
                .initial_key_count
                .saturating_mul(key_size)
                .min(capacity_bits),
        };
        Self {
            capacity_bits,
            available_bits: initial,
            rate_bps: config.key_rate_bps,
            last_refill: now,
            carry: 0,
        }
    }

    /// Adds the material generated since the last refill. A clock going backwards adds none.
    pub fn refill(&mut self, now: Duration) {
        let Some(rate) = self.rate_bps else {
            self.available_bits = self.capacity_bits;
            self.last_refill = now;
            return;
        };
        let Some(elapsed) = now.checked_sub(self.last_refill) else {
            return;
        };
        self.last_refill = now;
        let total = self.carry + u128::from(rate) * elapsed.as_nanos();
        let new_bits = u64::try_from(total / NANOS_PER_SEC).unwrap_or(u64::MAX);
        self.carry = total % NANOS_PER_SEC;
        self.available_bits = self.available_bits.saturating_add(new_bits);
        if self.available_bits >= self.capacity_bits {
            // A full pool discards what the link produces.
            self.available_bits = self.capacity_bits;
            self.carry = 0;
        }
    }

    /// Removes `bits` if that many are available; otherwise leaves the pool unchanged.
    ///
    /// # Errors
    /// The number of bits available when there are too few.
    pub fn take(&mut self, bits: u64) -> Result<(), u64> {
        if bits > self.available_bits {
            return Err(self.available_bits);
        }
        self.available_bits -= bits;
        Ok(())
    }

    /// Bits available now.
    pub fn available_bits(&self) -> u64 {
        self.available_bits
    }

    /// Whole keys of `key_size` bits available now (`stored_key_count`).
    pub fn stored_key_count(&self, key_size: u32) -> u64 {
        self.available_bits / u64::from(key_size.max(1))
    }

    /// Capacity in bits.
    pub fn capacity_bits(&self) -> u64 {
        self.capacity_bits
    }
}

const NANOS_PER_SEC: u128 = 1_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn slow_link(rate: u64) -> PoolConfig {
        PoolConfig {
            key_size: 256,
            max_key_count: 4,
            initial_key_count: 0,
            key_rate_bps: Some(rate),
            ..PoolConfig::default()
        }
    }

    #[test]
    fn slow_link_yields_one_key_per_key_size_over_rate() {
        // 32 bit/s and 256-bit keys: one key every 8 s.
        let mut pool = KeyPool::new(&slow_link(32), Duration::ZERO);
        assert_eq!(pool.stored_key_count(256), 0);
        pool.refill(Duration::from_millis(7_999));
        assert_eq!(pool.stored_key_count(256), 0);
        pool.refill(Duration::from_secs(8));
        assert_eq!(pool.stored_key_count(256), 1);
        pool.refill(Duration::from_secs(24));
        assert_eq!(pool.stored_key_count(256), 3);
    }

    #[test]
    fn fractions_of_a_bit_carry_over() {
        // 3 bit/s polled every 100 ms: 0.3 bit per step, exactly 30 bits after 10 s.
        let mut pool = KeyPool::new(&slow_link(3), Duration::ZERO);
        for step in 1..=100u64 {
            pool.refill(Duration::from_millis(step * 100));
        }
        assert_eq!(pool.available_bits(), 30);
    }

    #[test]
    fn pool_stops_at_capacity_and_take_is_all_or_nothing() {
        let mut pool = KeyPool::new(&slow_link(1_000_000), Duration::ZERO);
        pool.refill(Duration::from_secs(10));
        assert_eq!(pool.available_bits(), 4 * 256);
        assert_eq!(pool.take(5 * 256), Err(4 * 256));
        assert_eq!(pool.available_bits(), 4 * 256);
        pool.take(3 * 256).unwrap();
        assert_eq!(pool.stored_key_count(256), 1);
    }

    #[test]
    fn clock_going_backwards_adds_nothing() {
        let mut pool = KeyPool::new(&slow_link(256), Duration::from_secs(10));
        pool.refill(Duration::from_secs(5));
        assert_eq!(pool.available_bits(), 0);
        pool.refill(Duration::from_secs(11));
        assert_eq!(pool.stored_key_count(256), 1);
    }

    #[test]
    fn unlimited_rate_keeps_the_pool_full() {
        let config = PoolConfig {
            max_key_count: 2,
            ..PoolConfig::default()
        };
        let mut pool = KeyPool::new(&config, Duration::ZERO);
        pool.take(512).unwrap();
        assert_eq!(pool.available_bits(), 0);
        pool.refill(Duration::ZERO);
        assert_eq!(pool.stored_key_count(256), 2);
    }
}
