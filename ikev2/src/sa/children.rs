//! The Child SAs an IKE SA owns, with their lifetimes.

use std::time::{Duration, Instant};

use ipsec_crypto::CryptoProvider;

use crate::config::Lifetime;
use crate::proposal::Negotiated;
use crate::wire::{EspSpi, IpSelector};

/// One installed Child SA (its keys went to the datapath; only the facts stay here).
pub(crate) struct ChildEntry {
    /// Index of its template in the connection's children.
    pub(crate) config: usize,
    pub(crate) inbound_spi: EspSpi,
    pub(crate) outbound_spi: EspSpi,
    pub(crate) suite: Negotiated,
    pub(crate) local_ts: Vec<IpSelector>,
    pub(crate) remote_ts: Vec<IpSelector>,
    pub(crate) rekey_at: Option<Instant>,
    pub(crate) expire_at: Option<Instant>,
    /// A rekey of this SA is queued or in flight (ours).
    pub(crate) rekeying: bool,
    /// The peer rekeyed this SA: lowest nonce of its exchange and the new SA's inbound SPI, to
    /// resolve a simultaneous rekey (RFC 7296 §2.8.1).
    pub(crate) rekeyed_by_peer: Option<(Vec<u8>, EspSpi)>,
    /// The owner's tag, kept by rekeys.
    pub(crate) tag: Option<crate::child_request::ChildTag>,
}

/// Soft and hard deadlines for an SA created at `now`.
pub(crate) fn deadlines(
    now: Instant,
    life: &Lifetime,
    provider: &dyn CryptoProvider,
) -> (Option<Instant>, Option<Instant>) {
    let jitter = random_fraction(provider, life.jitter);
    // A lifetime too long for the clock never comes: no deadline rather than a panic.
    let rekey = life
        .rekey_after
        .and_then(|d| now.checked_add(d.saturating_sub(jitter)));
    (rekey, life.expire_after.and_then(|d| now.checked_add(d)))
}

/// A uniformly random duration in `[0, max)` (0 when the RNG fails).
pub(crate) fn random_below(provider: &dyn CryptoProvider, max: Duration) -> Duration {
    random_fraction(provider, max)
}

/// A uniformly random duration in `[0, max)` (0 when the RNG fails: no jitter is safe).
fn random_fraction(provider: &dyn CryptoProvider, max: Duration) -> Duration {
    let mut b = [0u8; 4];
    if max.is_zero() || provider.fill_random(&mut b).is_err() {
        return Duration::ZERO;
    }
    max.mul_f64(f64::from(u32::from_be_bytes(b)) / (f64::from(u32::MAX) + 1.0))
}

/// The lower of two nonces, compared as RFC 7296 §2.8.1 does (octet strings).
pub(crate) fn lowest<'a>(a: &'a [u8], b: &'a [u8]) -> &'a [u8] {
    if a <= b { a } else { b }
}

/// RFC 7296 §2.8.1 and §2.8.2: of two simultaneous rekeys of one SA, the SA created by the
/// exchange with the lowest nonce is redundant. `ours` and `theirs` are each exchange's lowest.
pub(crate) fn ours_redundant(ours: &[u8], theirs: &[u8]) -> bool {
    ours < theirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lifetime_beyond_the_clock_sets_no_deadline() {
        let now = Instant::now();
        let forever = Lifetime {
            rekey_after: Some(Duration::MAX),
            expire_after: Some(Duration::MAX),
            jitter: Duration::ZERO,
        };
        assert_eq!(
            deadlines(now, &forever, crate::test_provider()),
            (None, None)
        );
        let hour = Duration::from_secs(3600);
        let normal = Lifetime {
            rekey_after: Some(hour),
            expire_after: Some(2 * hour),
            jitter: Duration::ZERO,
        };
        assert_eq!(
            deadlines(now, &normal, crate::test_provider()),
            (Some(now + hour), Some(now + 2 * hour))
        );
    }
}
