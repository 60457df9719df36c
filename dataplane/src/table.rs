//! The SA tables the workers read, edited in place by the control API under a write lock. A
//! worker holds the read lock for one batch, so it sees a change at its next batch, and an
//! edit costs the same whatever the number of SAs (copying the whole table per edit made every
//! Child SA install cost O(SAs)). Each SA sits behind its own mutex, taken once per
//! super-packet or run of packets with the same SPI.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};

use crate::up_table::UpTable;
use esp::{InboundSa, OutboundSa, PacketFields, SaHandle, Spd, Spi, TrafficSelector};

/// The SPD and both SA databases.
#[derive(Default)]
pub(crate) struct SaTable {
    pub(crate) spd: Spd,
    pub(crate) outbound: HashMap<Spi, Box<OutboundEntry>>,
    pub(crate) inbound: HashMap<Spi, Box<InboundEntry>>,
    /// Trap policies (id, selector): traffic that matches one and no SA asks for an SA.
    pub(crate) traps: Vec<(u32, TrafficSelector)>,
    /// The N3IWF user plane: PDU sessions by TEID and by inbound SPI.
    pub(crate) up: UpTable,
}

/// Where an outbound inner packet goes.
pub(crate) enum Route<'t> {
    /// Sealed with this SA.
    Sa(&'t OutboundEntry),
    /// No SA, but trap `id` matches: dropped, and an SA asked for.
    Trap(u32, PacketFields),
    /// Neither (or the packet cannot be parsed): dropped.
    NoPolicy,
}

impl SaTable {
    /// Where an inner packet goes; its selector fields are parsed once for SPD and traps.
    pub(crate) fn route(&self, inner: &[u8]) -> Route<'_> {
        let Some(fields) = PacketFields::parse(inner) else {
            return Route::NoPolicy;
        };
        let sa = self.spd.lookup_fields(&fields);
        if let Some(entry) = sa.and_then(|SaHandle(spi)| self.outbound.get(&Spi(spi))) {
            return Route::Sa(entry);
        }
        match self
            .traps
            .iter()
            .find(|(_, sel)| sel.matches_outbound(&fields))
        {
            Some(&(id, _)) => Route::Trap(id, fields),
            None => Route::NoPolicy,
        }
    }

    /// Whether the SPD, or a user-plane session, sends through `spi` now.
    pub(crate) fn is_active(&self, spi: Spi) -> bool {
        self.up.sends_on(spi)
            || self
                .spd
                .entries()
                .iter()
                .any(|e| e.sa == SaHandle::from(spi))
    }
}

/// An outbound SA and where its packets go.
pub(crate) struct OutboundEntry {
    pub(crate) sa: Mutex<OutboundSa>,
    pub(crate) peer: SocketAddr,
}

/// An inbound SA and the selector its decrypted packets must match (RFC 4301 §5.2).
pub(crate) struct InboundEntry {
    pub(crate) sa: Mutex<InboundSa>,
    pub(crate) selector: TrafficSelector,
    pub(crate) selector_mismatches: AtomicU64,
}

impl InboundEntry {
    /// Checks a decrypted packet against the selector, counting mismatches.
    pub(crate) fn admits(&self, inner: &[u8]) -> bool {
        let ok = PacketFields::parse(inner).is_some_and(|f| self.selector.matches_inbound(&f));
        if !ok {
            self.selector_mismatches.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }
}

/// The tables behind their lock.
#[derive(Default)]
pub(crate) struct TableCell {
    current: RwLock<SaTable>,
}

impl TableCell {
    /// The tables, for one batch: an edit waits until the guard is dropped.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, SaTable> {
        self.current.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `edit` in place; control calls are serialised by the write lock. An `edit` that
    /// fails must leave the tables as it found them (check first, then change).
    pub(crate) fn update<T, E>(
        &self,
        edit: impl FnOnce(&mut SaTable) -> Result<T, E>,
    ) -> Result<T, E> {
        self.edit(edit)
    }

    /// Applies an `edit` that cannot fail, under the write lock.
    pub(crate) fn edit<T>(&self, edit: impl FnOnce(&mut SaTable) -> T) -> T {
        let mut guard = self.current.write().unwrap_or_else(PoisonError::into_inner);
        edit(&mut guard)
    }
}

/// Locks an SA; a worker that panicked while holding it leaves a usable SA (its state is
/// updated only after each packet is complete).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
