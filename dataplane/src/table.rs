//! The SA tables the workers read: an immutable snapshot replaced as a whole by the control
//! API (copy on write), so a worker looks SAs up without a lock and sees a change at its next
//! batch. Each SA sits behind its own mutex, taken once per super-packet or run of packets with
//! the same SPI.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use esp::{InboundSa, OutboundSa, PacketFields, SaHandle, Spd, TrafficSelector};

/// One snapshot of the SPD and both SA databases.
#[derive(Clone, Default)]
pub(crate) struct SaTable {
    pub(crate) spd: Spd,
    pub(crate) outbound: HashMap<u32, Arc<OutboundEntry>>,
    pub(crate) inbound: HashMap<u32, Arc<InboundEntry>>,
}

impl SaTable {
    /// The outbound SA for an inner packet.
    pub(crate) fn outbound_for(&self, inner: &[u8]) -> Option<&Arc<OutboundEntry>> {
        let SaHandle(spi) = self.spd.lookup(inner)?;
        self.outbound.get(&spi)
    }

    /// Whether the SPD sends through `spi` now.
    pub(crate) fn is_active(&self, spi: u32) -> bool {
        self.spd.entries().iter().any(|e| e.sa == SaHandle(spi))
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

/// The current snapshot and a generation number workers compare against cheaply.
#[derive(Default)]
pub(crate) struct TableCell {
    current: RwLock<Arc<SaTable>>,
    generation: AtomicU64,
}

impl TableCell {
    /// The current snapshot.
    pub(crate) fn load(&self) -> Arc<SaTable> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The generation; it changes whenever the snapshot is replaced.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Edits a copy of the snapshot and publishes it if `edit` succeeds. Control calls are
    /// serialised by the write lock.
    pub(crate) fn update<T, E>(
        &self,
        edit: impl FnOnce(&mut SaTable) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut guard = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = SaTable::clone(&guard);
        let out = edit(&mut next)?;
        *guard = Arc::new(next);
        self.generation.fetch_add(1, Ordering::Release);
        Ok(out)
    }
}

/// Locks an SA; a worker that panicked while holding it leaves a usable SA (its state is
/// updated only after each packet is complete).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
