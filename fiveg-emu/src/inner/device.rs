//! The inner stack's network device: two bounded packet queues the caller fills and drains
//! (no TUN, no socket).

use std::collections::VecDeque;

use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Bounded queues of whole IP packets: `rx` from the caller to the stack, `tx` back.
#[derive(Debug)]
pub(crate) struct PacketQueues {
    rx: VecDeque<Vec<u8>>,
    tx: VecDeque<Vec<u8>>,
    rx_limit: usize,
    tx_limit: usize,
    mtu: usize,
    /// Times the stack had something to send and found `tx` full.
    pub(crate) tx_full: u64,
}

impl PacketQueues {
    pub(crate) fn new(rx_limit: usize, tx_limit: usize, mtu: usize) -> Self {
        Self {
            rx: VecDeque::new(),
            tx: VecDeque::new(),
            rx_limit: rx_limit.max(1),
            tx_limit: tx_limit.max(1),
            mtu,
            tx_full: 0,
        }
    }

    /// Queues a packet for the stack; false when the queue is full.
    pub(crate) fn push_rx(&mut self, packet: &[u8]) -> bool {
        if self.rx.len() >= self.rx_limit {
            return false;
        }
        self.rx.push_back(packet.to_vec());
        true
    }

    pub(crate) fn front_rx(&self) -> Option<&[u8]> {
        self.rx.front().map(Vec::as_slice)
    }

    pub(crate) fn pop_tx(&mut self) -> Option<Vec<u8>> {
        self.tx.pop_front()
    }

    pub(crate) fn rx_len(&self) -> usize {
        self.rx.len()
    }

    pub(crate) fn tx_len(&self) -> usize {
        self.tx.len()
    }

    pub(crate) fn mtu(&self) -> usize {
        self.mtu
    }

    fn tx_has_room(&mut self) -> bool {
        let room = self.tx.len() < self.tx_limit;
        if !room {
            self.tx_full += 1;
        }
        room
    }
}

impl Device for PacketQueues {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    /// Nothing is received while `tx` is full: a reply would have nowhere to go, so incoming
    /// packets wait in `rx` until the caller drains `tx` (back-pressure instead of loss).
    fn receive(&mut self, _: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        if self.rx.is_empty() || !self.tx_has_room() {
            return None;
        }
        let packet = self.rx.pop_front()?;
        Some((RxToken(packet), TxToken(&mut self.tx)))
    }

    fn transmit(&mut self, _: Instant) -> Option<Self::TxToken<'_>> {
        self.tx_has_room().then_some(TxToken(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = self.mtu;
        caps
    }
}

pub(crate) struct RxToken(Vec<u8>);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

pub(crate) struct TxToken<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut packet = vec![0; len];
        let result = f(&mut packet);
        self.0.push_back(packet);
        result
    }
}
