//! The pool of UE inner addresses (CP INTERNAL_IP4_ADDRESS).

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::config::InnerPoolConfig;
use super::handles::UeId;

/// Addresses of `network/prefix_len` without the network, broadcast and NAS addresses, each
/// held by at most one UE.
#[derive(Debug)]
pub(crate) struct InnerPool {
    first: u32,
    last: u32,
    reserved: u32,
    netmask: Ipv4Addr,
    /// Where the next search starts, so that a released address is not handed out at once.
    cursor: u32,
    in_use: HashMap<Ipv4Addr, UeId>,
}

impl InnerPool {
    pub(crate) fn new(config: InnerPoolConfig, nas_address: Ipv4Addr) -> Self {
        let network = u32::from(config.network);
        let broadcast = network | !u32::from(config.netmask());
        Self {
            first: network + 1,
            last: broadcast - 1,
            reserved: u32::from(nas_address),
            netmask: config.netmask(),
            cursor: network + 1,
            in_use: HashMap::new(),
        }
    }

    /// A free address for `ue`, or `None` when the pool is exhausted.
    pub(crate) fn allocate(&mut self, ue: UeId) -> Option<Ipv4Addr> {
        // A free address is found within `in_use + 2` candidates (one may be the NAS address),
        // so the search is bounded by the number of UEs, not by the pool's size.
        let span = self.last - self.first + 1;
        let tries = (self.in_use.len() as u64 + 2).min(u64::from(span));
        for _ in 0..tries {
            let candidate = self.cursor;
            self.cursor = if candidate >= self.last {
                self.first
            } else {
                candidate + 1
            };
            let address = Ipv4Addr::from(candidate);
            if candidate != self.reserved && !self.in_use.contains_key(&address) {
                self.in_use.insert(address, ue);
                return Some(address);
            }
        }
        None
    }

    /// Frees `address` if `ue` holds it.
    pub(crate) fn release(&mut self, address: Ipv4Addr, ue: UeId) {
        if self.in_use.get(&address) == Some(&ue) {
            self.in_use.remove(&address);
        }
    }

    /// The UE holding `address`.
    pub(crate) fn owner(&self, address: Ipv4Addr) -> Option<UeId> {
        self.in_use.get(&address).copied()
    }

    pub(crate) fn netmask(&self) -> Ipv4Addr {
        self.netmask
    }

    pub(crate) fn in_use(&self) -> usize {
        self.in_use.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(prefix_len: u8, nas: [u8; 4]) -> InnerPool {
        let config = InnerPoolConfig {
            network: Ipv4Addr::new(10, 0, 0, 0),
            prefix_len,
        };
        InnerPool::new(config, Ipv4Addr::from(nas))
    }

    /// A /29 has six host addresses; the NAS address takes one.
    #[test]
    fn allocates_every_host_address_but_the_nas_one_then_refuses() {
        let mut pool = pool(29, [10, 0, 0, 1]);
        let got: Vec<_> = (0..5).map(|i| pool.allocate(UeId(i)).unwrap()).collect();
        let expected: Vec<_> = (2..=6).map(|h| Ipv4Addr::new(10, 0, 0, h)).collect();
        assert_eq!(got, expected);
        assert_eq!(pool.allocate(UeId(9)), None);
        assert_eq!(pool.netmask(), Ipv4Addr::new(255, 255, 255, 248));
        pool.release(Ipv4Addr::new(10, 0, 0, 4), UeId(0));
        assert_eq!(
            pool.owner(Ipv4Addr::new(10, 0, 0, 4)),
            Some(UeId(2)),
            "not its holder"
        );
        pool.release(Ipv4Addr::new(10, 0, 0, 4), UeId(2));
        assert_eq!(pool.allocate(UeId(9)), Some(Ipv4Addr::new(10, 0, 0, 4)));
        assert_eq!(pool.owner(Ipv4Addr::new(10, 0, 0, 4)), Some(UeId(9)));
        assert_eq!(pool.in_use(), 5);
    }

    #[test]
    fn a_released_address_is_not_reused_first() {
        let mut pool = pool(24, [10, 0, 0, 1]);
        let a = pool.allocate(UeId(1)).unwrap();
        pool.release(a, UeId(1));
        assert_ne!(pool.allocate(UeId(2)), Some(a));
    }

    #[test]
    fn nas_address_outside_the_pool_leaves_all_hosts() {
        let mut pool = pool(30, [192, 0, 2, 1]);
        assert_eq!(pool.allocate(UeId(1)), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(pool.allocate(UeId(2)), Some(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(pool.allocate(UeId(3)), None);
    }
}
