//! What an IKE SA holds in memory, for the endpoint's half-open budget, and the reassembly
//! limit that budget leaves a half-open SA.

use super::state::{AuthWait, State, Step};
use super::{Ctx, IkeSa};
use crate::fragment::ReassemblyLimits;
use crate::wire::emit_payloads;

/// Heap beyond the fields counted one by one: key material, the two message protections,
/// the endpoint's index and timer entries. An estimate; the flood benchmark checks the whole
/// against the process's resident memory.
const FIXED_EXTRA: usize = 2048;

/// Room kept aside for the slots of a reassembly that starts anew.
const SLOT_RESERVE: usize = 64 * size_of::<Option<Vec<u8>>>();

impl IkeSa {
    /// Bytes this SA holds: a fixed part, the IKE_SA_INIT messages (kept for AUTH), the cached
    /// response, our outstanding request, a partial reassembly and requests parked for a PPK.
    pub(crate) fn held_bytes(&self) -> usize {
        let handshake = self.handshake().map_or(0, |hs| {
            hs.msg1.capacity() + hs.msg2.capacity() + hs.ni.capacity() + hs.nr.capacity()
        });
        let parked = match &self.state {
            State::Handshake(_, Step::AwaitAuth(AuthWait::Parked(p))) => {
                let mut v = Vec::new();
                emit_payloads(p, &mut v);
                v.len()
            }
            State::Handshake(
                _,
                Step::AwaitIntermediate {
                    parked: Some(p), ..
                },
            ) => p.plain.capacity(),
            _ => 0,
        };
        Self::fixed_bytes() + handshake + self.window.held_bytes() + parked
    }

    /// The least a responder SA created from an IKE_SA_INIT request of `len` octets holds
    /// (checked before the key exchange is spent on it).
    pub(crate) fn half_open_floor(len: usize) -> usize {
        Self::fixed_bytes() + len
    }

    fn fixed_bytes() -> usize {
        size_of::<Self>() + FIXED_EXTRA
    }

    /// Gives up a half-open SA to make room for another source (no message: the peer is
    /// unauthenticated).
    pub(crate) fn evict(&mut self, ctx: &mut Ctx<'_>) {
        self.fail(crate::error::Error::Evicted, ctx);
    }

    /// The inbound SPIs of this SA's Child SAs.
    pub(crate) fn inbound_spis(&self) -> Vec<crate::wire::EspSpi> {
        self.children.iter().map(|c| c.inbound_spi).collect()
    }

    /// The reassembly limits for the next fragment: the configured ones, and for a half-open
    /// SA no more than the room its cap and the endpoint's budget leave.
    pub(super) fn reassembly_limits(&self, ctx: &Ctx<'_>) -> ReassemblyLimits {
        let mut limits = ctx.config.reassembly;
        if self.counted_half_open {
            let held = self.window.reassembly.as_ref().map_or(0, |r| r.bytes());
            let room = ctx.half_open_room.saturating_sub(SLOT_RESERVE);
            limits.max_bytes = limits.max_bytes.min(held.saturating_add(room));
        }
        limits
    }

    /// A fragment would take the message over its limit: a half-open SA gives up the whole
    /// message (it could never complete), so the memory is free at once and the rest of its
    /// fragments are not stored.
    pub(super) fn reassembly_too_large(
        &mut self,
        ctx: &mut Ctx<'_>,
    ) -> Option<(crate::wire::PayloadType, Vec<u8>)> {
        ctx.stats.dropped_fragments += 1;
        if self.counted_half_open {
            ctx.stats.dropped_half_open_memory += 1;
            if let Some(r) = self.window.reassembly.as_mut() {
                r.abandon();
            }
            self.window.reassembly_first = None;
        }
        None
    }
}
