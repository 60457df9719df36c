//! The ESP SPIs this endpoint hands out for inbound Child SAs: unique across every IKE SA of
//! the endpoint and the SPIs the driver reserved for SAs it installed by other means (manual
//! SAs). The datapath demultiplexes inbound ESP by SPI alone, so a duplicate would send one
//! SA's packets to another's keys.
//!
//! An SPI stays taken while its Child SA exists, and `spi_reuse_delay` after it was last seen
//! (an SA being replaced stays installed until its DELETE completes, and a driver may keep it
//! a little longer for packets in flight), or after it was offered if the offer failed.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use ipsec_crypto::CryptoProvider;

use crate::wire::{EspSpi, IkeSpi};

/// The owner key of SPIs whose IKE SA is gone.
const ORPHAN: IkeSpi = IkeSpi(0);

/// One SPI handed out by the engine.
#[derive(Debug)]
struct Entry {
    /// The IKE SA (its own SPI) that holds it; [`ORPHAN`] once that SA is gone.
    owner: IkeSpi,
    /// Whether it was an installed Child SA when last looked at.
    live: bool,
    /// When it stopped being live (or was handed out); `None` until claimed.
    since: Option<Instant>,
}

/// Every SPI in use.
#[derive(Debug, Default)]
pub(crate) struct SpiBook {
    entries: HashMap<EspSpi, Entry>,
    by_owner: HashMap<IkeSpi, Vec<EspSpi>>,
    /// SPIs not live, in the order they stopped being live (stale records are skipped).
    waiting: VecDeque<(Instant, EspSpi)>,
    /// Reserved by the driver.
    reserved: HashSet<EspSpi>,
    /// Handed out during the current operation, not yet claimed by its IKE SA.
    fresh: Vec<EspSpi>,
}

impl SpiBook {
    /// A random SPI that is neither reserved (0-255, RFC 4303 §2.1) nor taken; `None` when
    /// the RNG fails or keeps hitting taken values.
    pub(crate) fn allocate(&mut self, provider: &dyn CryptoProvider) -> Option<EspSpi> {
        for _ in 0..16 {
            let mut b = [0u8; 4];
            provider.fill_random(&mut b).ok()?;
            let spi = EspSpi(u32::from_be_bytes(b));
            if spi.is_assignable() && !self.is_taken(spi) {
                self.entries.insert(
                    spi,
                    Entry {
                        owner: ORPHAN,
                        live: false,
                        since: None,
                    },
                );
                self.fresh.push(spi);
                return Some(spi);
            }
        }
        None
    }

    /// Whether the engine or the driver holds `spi`.
    pub(crate) fn is_taken(&self, spi: EspSpi) -> bool {
        self.entries.contains_key(&spi) || self.reserved.contains(&spi)
    }

    /// The driver reserves `spi`; `false` if it is invalid or already taken.
    pub(crate) fn reserve(&mut self, spi: EspSpi) -> bool {
        spi.is_assignable() && !self.is_taken(spi) && self.reserved.insert(spi)
    }

    /// The driver releases a reservation; `false` if it had none.
    pub(crate) fn release(&mut self, spi: EspSpi) -> bool {
        self.reserved.remove(&spi)
    }

    /// Gives the SPIs handed out since the last call to `owner` (or orphans them if it is
    /// gone); they count from `now` until they are seen live.
    pub(crate) fn claim(&mut self, owner: Option<IkeSpi>, now: Instant) {
        for spi in std::mem::take(&mut self.fresh) {
            let Some(e) = self.entries.get_mut(&spi) else {
                continue;
            };
            e.since = Some(now);
            self.waiting.push_back((now, spi));
            if let Some(o) = owner {
                e.owner = o;
                self.by_owner.entry(o).or_default().push(spi);
            }
        }
    }

    /// Updates `owner`'s SPIs from the inbound SPIs of its Child SAs (`live`), taking over
    /// live ones held by another owner (the Child SAs an IKE SA rekey moved).
    pub(crate) fn reconcile(&mut self, owner: IkeSpi, live: &[EspSpi], now: Instant) {
        for &spi in live {
            let Some(e) = self.entries.get_mut(&spi) else {
                continue;
            };
            e.live = true;
            if e.owner != owner {
                e.owner = owner;
                self.by_owner.entry(owner).or_default().push(spi);
            }
        }
        let Some(list) = self.by_owner.get_mut(&owner) else {
            return;
        };
        let (entries, waiting) = (&mut self.entries, &mut self.waiting);
        list.retain(|spi| {
            let Some(e) = entries.get_mut(spi).filter(|e| e.owner == owner) else {
                return false;
            };
            if e.live && !live.contains(spi) {
                e.live = false;
                e.since = Some(now);
                waiting.push_back((now, *spi));
            }
            true
        });
        if list.is_empty() {
            self.by_owner.remove(&owner);
        }
    }

    /// `owner` is gone: its SPIs are no longer live from `now`.
    pub(crate) fn orphan(&mut self, owner: IkeSpi, now: Instant) {
        for spi in self.by_owner.remove(&owner).unwrap_or_default() {
            if let Some(e) = self.entries.get_mut(&spi).filter(|e| e.owner == owner) {
                e.owner = ORPHAN;
                if e.live {
                    e.live = false;
                    e.since = Some(now);
                    self.waiting.push_back((now, spi));
                }
            }
        }
    }

    /// Frees the SPIs not live for `delay`.
    pub(crate) fn expire(&mut self, now: Instant, delay: Duration) {
        while let Some(&(t, spi)) = self.waiting.front() {
            if now < t + delay {
                break;
            }
            self.waiting.pop_front();
            let stale = self
                .entries
                .get(&spi)
                .is_none_or(|e| e.live || e.since != Some(t));
            if !stale {
                self.entries.remove(&spi);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELAY: Duration = Duration::from_secs(60);

    #[test]
    fn an_spi_is_freed_only_after_its_sa_is_gone_for_the_delay() {
        let p = crate::test_provider();
        let t0 = Instant::now();
        let mut book = SpiBook::default();
        let a = book.allocate(p).expect("spi");
        book.claim(Some(IkeSpi(7)), t0);
        book.reconcile(IkeSpi(7), &[a], t0);
        // Still live much later: kept.
        book.reconcile(IkeSpi(7), &[a], t0 + DELAY * 3);
        book.expire(t0 + DELAY * 3, DELAY);
        assert!(book.is_taken(a));
        // Deleted: kept for the delay, then freed.
        let gone = t0 + DELAY * 4;
        book.reconcile(IkeSpi(7), &[], gone);
        book.expire(gone + DELAY / 2, DELAY);
        assert!(book.is_taken(a));
        book.expire(gone + DELAY, DELAY);
        assert!(!book.is_taken(a));
        assert!(book.entries.is_empty());
    }

    #[test]
    fn an_offer_that_never_became_an_sa_is_freed_after_the_delay() {
        let p = crate::test_provider();
        let t0 = Instant::now();
        let mut book = SpiBook::default();
        let a = book.allocate(p).expect("spi");
        book.claim(Some(IkeSpi(7)), t0);
        book.reconcile(IkeSpi(7), &[], t0 + DELAY / 2);
        book.expire(t0 + DELAY / 2, DELAY);
        assert!(book.is_taken(a));
        book.expire(t0 + DELAY, DELAY);
        assert!(!book.is_taken(a));
    }

    #[test]
    fn a_rekeyed_ike_sa_hands_its_children_over_and_orphans_expire() {
        let p = crate::test_provider();
        let t0 = Instant::now();
        let mut book = SpiBook::default();
        let a = book.allocate(p).expect("spi");
        let b = book.allocate(p).expect("spi");
        book.claim(Some(IkeSpi(7)), t0);
        book.reconcile(IkeSpi(7), &[a, b], t0);
        // The new IKE SA 9 took over `a`; the old one is deleted long after.
        book.reconcile(IkeSpi(9), &[a], t0);
        let gone = t0 + DELAY * 5;
        book.orphan(IkeSpi(7), gone);
        book.expire(gone, DELAY);
        assert!(book.is_taken(a) && book.is_taken(b));
        book.expire(gone + DELAY, DELAY);
        assert!(book.is_taken(a), "the new IKE SA still holds it");
        assert!(!book.is_taken(b));
    }

    #[test]
    fn driver_reservations_are_never_handed_out() {
        let mut book = SpiBook::default();
        let spi = EspSpi(0x1000);
        assert!(book.reserve(spi));
        assert!(!book.reserve(spi), "already reserved");
        assert!(!book.reserve(EspSpi(255)), "reserved range");
        assert!(book.is_taken(spi));
        assert!(book.release(spi));
        assert!(!book.is_taken(spi));
    }
}
