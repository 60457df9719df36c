//! Accounting of half-open IKE SAs (responder SAs still in their initial exchanges): how many
//! there are, how many come from each source, and how many bytes they hold, against the limits
//! of [`EndpointConfig`].
//!
//! A source is an address masked to a configured prefix length: one host usually holds a whole
//! IPv6 /64, so counting IPv6 addresses one by one would give it millions of allowances.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::EndpointConfig;
use crate::wire::IkeSpi;

/// Why a new half-open SA was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Over the count limit, in all or for the source.
    Count,
    /// Larger than one half-open SA may be.
    TooLarge,
    /// Over the byte budget of all half-open SAs.
    Budget,
}

/// The half-open SAs of one source, oldest first (by their own SPI).
#[derive(Debug, Default)]
struct Source {
    sas: VecDeque<IkeSpi>,
}

/// Counts and bytes of the half-open SAs.
#[derive(Debug, Default)]
pub(crate) struct HalfOpen {
    count: usize,
    bytes: usize,
    by_source: HashMap<IpAddr, Source>,
    /// Sources by how many half-open SAs they hold, to find the heaviest quickly.
    by_weight: BTreeSet<(usize, IpAddr)>,
}

impl HalfOpen {
    /// Half-open SAs in all.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Bytes charged to half-open SAs in all.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Half-open SAs from `source` (a key from [`source_key`]).
    pub(crate) fn of_source(&self, source: IpAddr) -> usize {
        self.by_source.get(&source).map_or(0, |s| s.sas.len())
    }

    /// Whether a new SA from `source` that will hold about `bytes` fits every limit.
    pub(crate) fn check(
        &self,
        source: IpAddr,
        bytes: usize,
        config: &EndpointConfig,
    ) -> Result<(), Refusal> {
        if self.count >= config.half_open_limit
            || self.of_source(source) >= config.half_open_limit_per_source
        {
            return Err(Refusal::Count);
        }
        if bytes > config.half_open_sa_memory {
            return Err(Refusal::TooLarge);
        }
        if bytes > self.room(config) {
            return Err(Refusal::Budget);
        }
        Ok(())
    }

    /// Bytes still free in the budget.
    pub(crate) fn room(&self, config: &EndpointConfig) -> usize {
        config.half_open_memory.saturating_sub(self.bytes)
    }

    /// The SA to give up so that `source` gets room: the oldest of the source holding the
    /// most half-open SAs, if that is at least two and more than `source` holds. A source can
    /// only push out heavier ones, and a source with a single half-open SA (a peer in its
    /// handshake) is never pushed out: filling the budget without being evicted takes as many
    /// sources (IPv4 addresses, IPv6 /64s) as the budget holds SAs.
    pub(crate) fn eviction_for(&self, source: IpAddr) -> Option<IkeSpi> {
        let &(weight, heaviest) = self.by_weight.last()?;
        if weight < 2 || weight <= self.of_source(source) {
            return None;
        }
        self.by_source.get(&heaviest)?.sas.front().copied()
    }

    /// Counts a new SA `spi` from `source` holding `bytes`.
    pub(crate) fn add(&mut self, source: IpAddr, spi: IkeSpi, bytes: usize) {
        self.count += 1;
        self.bytes += bytes;
        let s = self.by_source.entry(source).or_default();
        let old = s.sas.len();
        s.sas.push_back(spi);
        self.reweigh(source, old, old + 1);
    }

    /// An SA's holding changed from `old` to `new` bytes.
    pub(crate) fn recharge(&mut self, old: usize, new: usize) {
        self.bytes = self.bytes.saturating_sub(old) + new;
    }

    /// SA `spi` from `source` holding `bytes` is no longer half-open.
    pub(crate) fn remove(&mut self, source: IpAddr, spi: IkeSpi, bytes: usize) {
        self.count = self.count.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(bytes);
        let Some(s) = self.by_source.get_mut(&source) else {
            return;
        };
        let old = s.sas.len();
        if let Some(i) = s.sas.iter().position(|x| *x == spi) {
            s.sas.remove(i);
        }
        let new = s.sas.len();
        if new == 0 {
            self.by_source.remove(&source);
        }
        self.reweigh(source, old, new);
    }

    fn reweigh(&mut self, source: IpAddr, old: usize, new: usize) {
        self.by_weight.remove(&(old, source));
        if new > 0 {
            self.by_weight.insert((new, source));
        }
    }
}

/// The source `ip` counts as: the address masked to the configured prefix length (an
/// IPv4-mapped IPv6 address counts as IPv4).
pub(crate) fn source_key(ip: IpAddr, config: &EndpointConfig) -> IpAddr {
    match ip {
        IpAddr::V4(a) => IpAddr::V4(mask_v4(a, config.source_prefix_v4)),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(mask_v4(v4, config.source_prefix_v4)),
            None => IpAddr::V6(mask_v6(a, config.source_prefix_v6)),
        },
    }
}

fn mask_v4(a: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    let bits = u32::from(a);
    let mask = u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0);
    Ipv4Addr::from(bits & mask)
}

fn mask_v6(a: Ipv6Addr, prefix: u8) -> Ipv6Addr {
    let bits = u128::from(a);
    let mask = u128::MAX
        .checked_shl(128 - u32::from(prefix.min(128)))
        .unwrap_or(0);
    Ipv6Addr::from(bits & mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str, v4: u8, v6: u8) -> IpAddr {
        let config = EndpointConfig {
            source_prefix_v4: v4,
            source_prefix_v6: v6,
            ..EndpointConfig::default()
        };
        source_key(ip.parse().expect("ip"), &config)
    }

    #[test]
    fn sources_are_masked_to_their_prefix() {
        assert_eq!(
            key("2001:db8:1:2:aaaa::1", 32, 64),
            key("2001:db8:1:2:ffff::9", 32, 64)
        );
        assert_ne!(
            key("2001:db8:1:2::1", 32, 64),
            key("2001:db8:1:3::1", 32, 64)
        );
        assert_ne!(key("192.0.2.1", 32, 64), key("192.0.2.2", 32, 64));
        assert_eq!(key("192.0.2.1", 24, 64), key("192.0.2.200", 24, 64));
        assert_eq!(key("::ffff:192.0.2.1", 24, 64), key("192.0.2.9", 24, 64));
        assert_eq!(
            key("2001:db8::1", 32, 128),
            "2001:db8::1".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(
            key("2001:db8::1", 32, 0),
            "::".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(
            key("192.0.2.1", 0, 64),
            "0.0.0.0".parse::<IpAddr>().expect("ip")
        );
    }
}
