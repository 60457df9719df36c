//! The UE address pool of the emulated SMF: an IPv4 prefix whose host addresses are handed out
//! lowest free first and taken back on release. Its size is its bound.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 prefix (`10.60.0.0/16`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Prefix {
    network: Ipv4Addr,
    len: u8,
}

impl Ipv4Prefix {
    /// `None` for a length above 32 or host bits set in `network`.
    pub fn new(network: Ipv4Addr, len: u8) -> Option<Self> {
        let host_bits = 32u32.checked_sub(u32::from(len))?;
        let mask = u32::MAX.checked_shl(host_bits).unwrap_or(0);
        (u32::from(network) & !mask == 0).then_some(Self { network, len })
    }

    pub fn network(&self) -> Ipv4Addr {
        self.network
    }

    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// The usable host addresses, first and last: all but the network and broadcast
    /// addresses; `None` for a /31 or /32, which have none to give.
    fn hosts(&self) -> Option<(u32, u32)> {
        let base = u32::from(self.network);
        let size = 1u64 << (32 - u32::from(self.len));
        let last = u32::try_from(u64::from(base) + size - 2).ok()?;
        (size >= 4).then_some((base + 1, last))
    }
}

impl FromStr for Ipv4Prefix {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, len) = text
            .split_once('/')
            .ok_or_else(|| format!("{text}: not ADDRESS/LENGTH"))?;
        let network: Ipv4Addr = address
            .parse()
            .map_err(|_| format!("{text}: {address} is not an IPv4 address"))?;
        let len: u8 = len
            .parse()
            .map_err(|_| format!("{text}: {len} is not a prefix length"))?;
        Self::new(network, len).ok_or_else(|| format!("{text}: host bits set or length above 32"))
    }
}

impl fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

/// Addresses of a prefix, each given to one session at a time.
#[derive(Debug)]
pub struct AddressPool {
    /// First and last host address; `None`: an empty pool.
    hosts: Option<(u32, u32)>,
    used: BTreeSet<u32>,
}

impl AddressPool {
    pub fn new(prefix: Ipv4Prefix) -> Self {
        Self {
            hosts: prefix.hosts(),
            used: BTreeSet::new(),
        }
    }

    /// How many addresses the pool holds.
    pub fn capacity(&self) -> usize {
        self.hosts
            .map_or(0, |(first, last)| (last - first) as usize + 1)
    }

    /// The lowest free address; `None` when every one is in use.
    pub fn allocate(&mut self) -> Option<Ipv4Addr> {
        let (first, last) = self.hosts?;
        let mut candidate = first;
        // `used` is sorted: walk it until the first gap.
        for &taken in self.used.range(candidate..) {
            if taken != candidate {
                break;
            }
            candidate = candidate.checked_add(1)?;
        }
        if candidate > last {
            return None;
        }
        self.used.insert(candidate);
        Some(Ipv4Addr::from(candidate))
    }

    /// Gives an address back; `false` if it was not in use.
    pub fn free(&mut self, address: Ipv4Addr) -> bool {
        self.used.remove(&u32::from(address))
    }

    pub fn in_use(&self) -> usize {
        self.used.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slash_30_has_two_addresses_then_none() {
        let mut pool = AddressPool::new("10.60.0.0/30".parse().unwrap());
        assert_eq!(pool.capacity(), 2);
        assert_eq!(pool.allocate(), Some(Ipv4Addr::new(10, 60, 0, 1)));
        assert_eq!(pool.allocate(), Some(Ipv4Addr::new(10, 60, 0, 2)));
        assert_eq!(pool.allocate(), None);
        assert!(pool.free(Ipv4Addr::new(10, 60, 0, 1)));
        assert!(!pool.free(Ipv4Addr::new(10, 60, 0, 1)));
        assert_eq!(pool.allocate(), Some(Ipv4Addr::new(10, 60, 0, 1)));
    }

    #[test]
    fn prefixes_parse_strictly() {
        assert!("10.60.0.1/16".parse::<Ipv4Prefix>().is_err());
        assert!("10.60.0.0/33".parse::<Ipv4Prefix>().is_err());
        assert!("10.60.0.0".parse::<Ipv4Prefix>().is_err());
        let prefix: Ipv4Prefix = "10.60.0.0/16".parse().unwrap();
        assert_eq!(prefix.to_string(), "10.60.0.0/16");
        assert_eq!(AddressPool::new(prefix).capacity(), 65534);
        assert_eq!(
            AddressPool::new("0.0.0.0/0".parse().unwrap()).capacity(),
            u32::MAX as usize - 1
        );
        assert_eq!(
            AddressPool::new("10.0.0.0/31".parse().unwrap()).allocate(),
            None
        );
    }
}
